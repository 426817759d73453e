import { dropOrphanedIsolatedSchemas } from '../src/store/db.js';

/**
 * Vitest's global set-up and teardown (main process). Each PostgreSQL-backed suite makes a schema of its own; when its
 * worker has exited that schema is garbage. Sweep before the run (what crashed or interrupted runs left) and after
 * it (this run's), so the test database's catalog does not grow run after run.
 */
async function sweep(): Promise<void> {
  const url = process.env.LINEGUARD_TEST_DATABASE_URL;
  if (!url) return;
  const dropped = await dropOrphanedIsolatedSchemas(url);
  if (dropped.length > 0) console.log(`dropped ${dropped.length} test schemas of exited processes`);
}

export const setup = sweep;
export const teardown = sweep;
