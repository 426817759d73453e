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
  });
});
