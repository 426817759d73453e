import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dropOrphanedIsolatedSchemas } from '../src/store/db.js';

/**
 * Vitest's global set-up and teardown (main process), so a run leaves nothing behind on a shared machine:
 * - Each PostgreSQL-backed suite makes a schema of its own; once its worker has exited that schema is garbage. Sweep
 *   before the run (what crashed or interrupted runs left) and after it (this run's), so the test database's catalog
 *   does not grow run after run.
 * - Suites make data folders, SQLite files, witness folders and browser profiles under the temporary directory (about
 *   120 MB a run). The run gets a temporary directory of its own (TMPDIR, which the workers and every process they
 *   start inherit), removed at the end.
 */
async function sweepSchemas(): Promise<void> {
  const url = process.env.LINEGUARD_TEST_DATABASE_URL;
  if (!url) return;
  const dropped = await dropOrphanedIsolatedSchemas(url);
  if (dropped.length > 0) console.log(`dropped ${dropped.length} test schemas of exited processes`);
}

export async function setup(): Promise<() => Promise<void>> {
  await sweepSchemas();
  const runTmp = mkdtempSync(join(tmpdir(), 'lg-test-run-'));
  const outerTmp = process.env.TMPDIR;
  process.env.TMPDIR = runTmp;
  return async () => {
    if (outerTmp === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = outerTmp;
    rmSync(runTmp, { recursive: true, force: true });
    await sweepSchemas();
  };
}
