import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { beforeAll, describe, expect, it } from 'vitest';
import { appendToLedger } from '../../src/compliance/ledger.js';
import { openStore } from '../../src/store/db.js';

const ROOT = join(import.meta.dirname, '..', '..');

/** `lineguard ledger verify` as an auditor runs it: a child process with no data key in its environment. */
function verify(args: readonly string[]): { status: number | null; stdout: string; stderr: string } {
  const env = { ...process.env };
  for (const name of ['LINEGUARD_KEY', 'LINEGUARD_DB', 'LINEGUARD_DATA_DIR', 'LINEGUARD_DATABASE_URL'])
    delete env[name];
  const result = spawnSync(
    process.execPath,
    ['--import', 'tsx', 'src/cli/main.ts', 'ledger', 'verify', ...args],
    {
      cwd: ROOT,
      env,
      encoding: 'utf8',
      timeout: 60_000,
    },
  );
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('lineguard ledger verify (issue 12)', () => {
  let dir: string;
  let dbPath: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'lg-verify-'));
    dbPath = join(dir, 'book.db');
    const store = await openStore({ sqlitePath: dbPath });
    for (let i = 0; i < 3; i++) {
      await store.transaction((tx) =>
        appendToLedger(tx, [
          {
            entryId: `e${i}`,
            kind: 'decision',
            subjectId: 's',
            payload: { i },
            recordedAt: 1_700_000_000_000 + i,
          },
        ]),
      );
    }
    await store.close();
  });

  it('fails on a path with no database, and creates nothing there', () => {
    const missing = join(dir, 'nowhere', 'missing.db');
    const result = verify(['--db', missing]);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain(`no database at ${missing}`);
    expect(result.stdout).not.toContain('intact');
    expect(existsSync(missing)).toBe(false);
    expect(existsSync(join(dir, 'nowhere'))).toBe(false);
  });

  it('fails on a file that is not a LineGuard database', () => {
    const result = verify(['--db', join(ROOT, 'package.json')]);
    expect(result.status).toBe(2);
    expect(result.stdout).not.toContain('intact');
  });

  it('verifies with no data key, read-only: no key file made, the database file unchanged', () => {
    const before = readFileSync(dbPath);
    const listing = readdirSync(dir).sort();
    const result = verify(['--db', dbPath]);
    expect(result.stderr).toBe('');
    expect(result.stdout).toContain('ledger intact: 3 entries');
    expect(result.status).toBe(0);
    expect(readFileSync(dbPath).equals(before)).toBe(true);
    // SQLite reads a WAL database through its -wal and -shm companions (it may create them, empty); nothing else.
    const companions = /-(wal|shm)$/;
    expect(readdirSync(dir).filter((f) => !companions.test(f))).toEqual(
      listing.filter((f) => !companions.test(f)),
    );
    expect(existsSync(join(dir, 'master.key'))).toBe(false);
  });

  it('exits 3 naming the first bad entry of a tampered chain', () => {
    const connection = new BetterSqlite3(dbPath);
    connection.prepare('update ledger_entries set payload = \'{"i":99}\' where seq = 2').run();
    connection.close();
    const result = verify(['--db', dbPath]);
    expect(result.status).toBe(3);
    expect(result.stdout).toContain('ledger BROKEN at seq 2');
  });
});
