import { existsSync, mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig, type Env } from '../../src/app/config.js';
import { createApp, type AppServices } from '../../src/app/app.js';
import { bootstrapServe } from '../../src/app/bootstrap.js';

const modeOf = (path: string) => statSync(path).mode & 0o777;

/** Data files hold personal data and keys: owner-only, whatever the umask (issue 12). */
describe('data files are private', () => {
  const opened: AppServices[] = [];
  afterEach(async () => {
    for (const app of opened.splice(0)) await app.close();
  });

  const start = async (env: Env) => {
    const app = await createApp(loadConfig({ LINEGUARD_SEED_DEMO: '0', ...env }, {}, () => undefined));
    opened.push(app);
    return app;
  };

  it('creates the folder 0700 and the database, its -wal and -shm, and the keys 0600, under a loose umask', async () => {
    const dataDir = join(mkdtempSync(join(tmpdir(), 'lg-modes-')), 'nested', 'data');
    const previous = process.umask(0o000);
    try {
      const app = await start({ LINEGUARD_DATA_DIR: dataDir });
      const lines: string[] = [];
      await bootstrapServe(app, (line) => lines.push(line));
      // A write, so the WAL and shared-memory files exist.
      await app.store.db.selectFrom('api_keys').select('id').execute();
      expect(modeOf(dataDir)).toBe(0o700);
      expect(modeOf(join(dataDir, '..'))).toBe(0o700);
      for (const file of [
        'lineguard.db',
        'lineguard.db-wal',
        'lineguard.db-shm',
        'master.key',
        'admin.key',
      ]) {
        const path = join(dataDir, file);
        expect(existsSync(path), file).toBe(true);
        expect(modeOf(path), file).toBe(0o600);
      }
      // Development: the key is shown once, and kept in the private folder.
      expect(lines.join('\n')).toMatch(/Created an admin API key \(shown once\): lg_/);
    } finally {
      process.umask(previous);
    }
  });

  it('in production never generates and prints an admin key', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'lg-prod-'));
    const app = await start({
      LINEGUARD_ENV: 'production',
      LINEGUARD_KEY: 'ab'.repeat(32),
      LINEGUARD_DATA_DIR: dataDir,
      LINEGUARD_METRICS_TOKEN: 'metrics-token-0123456789',
      // Production also needs the checkpoint signing key (a 32-byte Ed25519 seed).
      LINEGUARD_LEDGER_SIGNING_KEY: 'cd'.repeat(32),
    });
    const lines: string[] = [];
    await bootstrapServe(app, (line) => lines.push(line));
    expect(lines.join('\n')).not.toMatch(/lg_[A-Za-z0-9]/);
    expect(lines.join('\n')).toContain('LINEGUARD_ADMIN_KEY');
    expect(existsSync(join(dataDir, 'admin.key'))).toBe(false);
    expect(await app.store.db.selectFrom('api_keys').select('id').execute()).toEqual([]);
  });
});
