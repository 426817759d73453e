import { afterEach, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { createIsolatedPostgresSchema, openStore, type Store } from '../../src/store/db.js';
import { toLgError } from '../../src/api/server.js';
import { TEST_DATABASE_URL } from '../helpers/stores.js';

/**
 * The bound on how long a PostgreSQL statement may go unanswered (LINEGUARD_PG_QUERY_TIMEOUT_MS): requests are held
 * to it, migrations are not. The silent network drop it exists for is in test/fleet/faults.test.ts.
 */
describe.skipIf(!TEST_DATABASE_URL)('PostgreSQL statement bound', () => {
  let store: Store | undefined;
  afterEach(async () => {
    await store?.close();
    store = undefined;
  });

  it('migrates a fresh schema unbounded, then fails a statement past the bound as unavailable and goes on', async () => {
    const url = await createIsolatedPostgresSchema(TEST_DATABASE_URL ?? '', 'query_timeout');
    // 50 ms: far less than the migrations take, which must not be cut by it.
    store = await openStore({ postgresUrl: url, queryTimeoutMs: 50, poolSizeMax: 2 });
    const tables = await sql<{ n: number }>`
      select count(*)::int as n from information_schema.tables where table_schema = current_schema()`.execute(
      store.db,
    );
    expect(tables.rows[0]!.n).toBeGreaterThan(20);
    const slow = await sql`select pg_sleep(1)`.execute(store.db).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(toLgError(slow).code).toBe('LG_STORE_UNAVAILABLE');
    // The connection it ran on is gone; the pool serves the next statement on another.
    const next = await sql<{ one: number }>`select 1 as one`.execute(store.db);
    expect(next.rows[0]!.one).toBe(1);
  });
});
