import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from './config.js';

describe('loadConfig', () => {
  it('generates a development key into the data folder with a warning, and reuses it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lg-config-'));
    const warnings: string[] = [];
    const first = loadConfig({ LINEGUARD_DATA_DIR: dir }, {}, (m) => warnings.push(m));
    expect(first.masterKey).toHaveLength(32);
    expect(warnings.join()).toContain('LINEGUARD_KEY is not set');
    expect(readFileSync(join(dir, 'master.key'), 'utf8')).toBe(first.masterKey.toString('hex'));
    const second = loadConfig({ LINEGUARD_DATA_DIR: dir }, {}, () => undefined);
    expect(second.masterKey.equals(first.masterKey)).toBe(true);
    expect(Object.isFrozen(first)).toBe(true);
  });

  it('refuses to start in production without a key, and rejects malformed values', () => {
    expect(() => loadConfig({ LINEGUARD_ENV: 'production' })).toThrow(/LINEGUARD_KEY is required/);
    expect(() => loadConfig({ LINEGUARD_KEY: 'short' })).toThrow(/32 bytes/);
    expect(() => loadConfig({ LINEGUARD_KEY: 'ab'.repeat(32), PORT: 'x' })).toThrow(/PORT/);
    expect(() => loadConfig({ LINEGUARD_KEY: 'ab'.repeat(32), LINEGUARD_DATABASE_URL: 'mysql://x' })).toThrow(
      /postgres/,
    );
  });

  it('reads the port, database and caps from the environment with overrides winning', () => {
    const config = loadConfig(
      { LINEGUARD_KEY: 'ab'.repeat(32), PORT: '9000', LINEGUARD_BORROWER_CAP_MINOR: '5000000' },
      { port: 9100, db: '/tmp/x.db' },
    );
    expect(config.port).toBe(9100);
    expect(config.sqlitePath).toBe('/tmp/x.db');
    expect(config.borrowerCapMinor).toBe(5_000_000);
    expect(config.aprCapPercent).toBe(24);
    expect(config.lenderUtcOffsetMinutes).toBe(0);
  });

  it("reads the lender's business day as a fixed offset from UTC, refusing anything else", () => {
    const key = { LINEGUARD_KEY: 'ab'.repeat(32) };
    const offset = (text: string) =>
      loadConfig({ ...key, LINEGUARD_LENDER_UTC_OFFSET: text }).lenderUtcOffsetMinutes;
    expect([offset('+08:00'), offset('-05:30'), offset('Z'), offset('+00:00')]).toEqual([480, -330, 0, 0]);
    for (const bad of ['8', '+8:00', '+08:60', '+15:00', 'Asia/Shanghai'])
      expect(() => offset(bad)).toThrow(/LINEGUARD_LENDER_UTC_OFFSET/);
  });

  it('bounds how long a PostgreSQL statement may go unanswered: 30 s unless set, 0 for none, nothing else', () => {
    const key = { LINEGUARD_KEY: 'ab'.repeat(32) };
    expect(loadConfig(key).postgresQueryTimeoutMs).toBe(30_000);
    expect(loadConfig({ ...key, LINEGUARD_PG_QUERY_TIMEOUT_MS: '0' }).postgresQueryTimeoutMs).toBe(0);
    for (const bad of ['-1', '2.5', 'soon'])
      expect(() => loadConfig({ ...key, LINEGUARD_PG_QUERY_TIMEOUT_MS: bad })).toThrow(
        /LINEGUARD_PG_QUERY_TIMEOUT_MS/,
      );
  });

  it('reads how far ahead of the clock an app event may be dated: 5 minutes unless set, 0 for none ahead', () => {
    const key = { LINEGUARD_KEY: 'ab'.repeat(32) };
    expect(loadConfig(key).eventFutureToleranceMs).toBe(300_000);
    expect(loadConfig({ ...key, LINEGUARD_EVENT_FUTURE_TOLERANCE_MS: '0' }).eventFutureToleranceMs).toBe(0);
    for (const bad of ['-1', '2.5', '5m'])
      expect(() => loadConfig({ ...key, LINEGUARD_EVENT_FUTURE_TOLERANCE_MS: bad })).toThrow(
        /LINEGUARD_EVENT_FUTURE_TOLERANCE_MS/,
      );
  });

  it('production requires a metrics token or a separate metrics port (issue 12)', () => {
    const prod = { LINEGUARD_ENV: 'production', LINEGUARD_KEY: 'ab'.repeat(32) };
    expect(() => loadConfig(prod, {}, () => undefined)).toThrow(
      /LINEGUARD_METRICS_TOKEN.*LINEGUARD_METRICS_PORT/,
    );
    expect(
      loadConfig({ ...prod, LINEGUARD_METRICS_TOKEN: 'x'.repeat(32) }, {}, () => undefined).metricsToken,
    ).toBe('x'.repeat(32));
    expect(loadConfig({ ...prod, LINEGUARD_METRICS_PORT: '9464' }, {}, () => undefined).metricsPort).toBe(
      9464,
    );
    expect(() => loadConfig({ ...prod, LINEGUARD_METRICS_TOKEN: 'short' }, {}, () => undefined)).toThrow(
      /at least 16/,
    );
    // Development: open on the API port (documented in the README).
    const dev = loadConfig({ LINEGUARD_KEY: 'ab'.repeat(32) }, {}, () => undefined);
    expect(dev.metricsToken).toBeUndefined();
    expect(dev.metricsPort).toBeUndefined();
  });

  it('reads the rate limits, 0 turning one off, and trusted proxies', () => {
    const base = { LINEGUARD_KEY: 'ab'.repeat(32) };
    expect(loadConfig(base, {}, () => undefined).rateLimit).toEqual({
      windowMs: 60_000,
      perKeyMax: 60_000,
      perIpMax: 60_000,
      authFailuresMax: 20,
    });
    const set = loadConfig(
      {
        ...base,
        LINEGUARD_RATE_LIMIT_WINDOW_MS: '1000',
        LINEGUARD_RATE_LIMIT_PER_KEY: '0',
        LINEGUARD_RATE_LIMIT_PER_IP: '50',
        LINEGUARD_RATE_LIMIT_AUTH_FAILURES: '5',
        LINEGUARD_TRUST_PROXY: '10.0.0.0/8',
      },
      {},
      () => undefined,
    );
    expect(set.rateLimit).toEqual({ windowMs: 1000, perKeyMax: 0, perIpMax: 50, authFailuresMax: 5 });
    expect(set.trustProxy).toBe('10.0.0.0/8');
    expect(() => loadConfig({ ...base, LINEGUARD_RATE_LIMIT_PER_IP: '-1' }, {}, () => undefined)).toThrow(
      /LINEGUARD_RATE_LIMIT_PER_IP/,
    );
    expect(() => loadConfig({ ...base, LINEGUARD_RATE_LIMIT_WINDOW_MS: '0' }, {}, () => undefined)).toThrow(
      /positive/,
    );
  });
});
