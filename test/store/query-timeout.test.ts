import { afterEach, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { createIsolatedPostgresSchema, openStore, type Store } from '../../src/store/db.js';
import { toLgError } from '../../src/api/server.js';
import { TEST_DATABASE_URL } from '../helpers/stores.js';
import { hostPort, startTcpProxy, type TcpProxy } from '../fleet/tcp-proxy.js';

/**
 * The bound on how long a PostgreSQL statement may go unanswered (LINEGUARD_PG_QUERY_TIMEOUT_MS): requests are held
 * to it, migrations are not. The silent network drop it exists for is in test/fleet/faults.test.ts.
 */
describe.skipIf(!TEST_DATABASE_URL)('PostgreSQL statement bound', () => {
  let store: Store | undefined;
  let other: Store | undefined;
  let proxy: TcpProxy | undefined;
  afterEach(async () => {
    await store?.close();
    await other?.close();
    await proxy?.close();
    store = other = proxy = undefined;
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

  it('frees the row locks of a transaction whose process went silent mid-way, for the other processes', async () => {
    const url = await createIsolatedPostgresSchema(TEST_DATABASE_URL ?? '', 'query_timeout_locks');
    const target = hostPort(url, 5432);
    proxy = await startTcpProxy(target.host, target.port);
    // One process behind a network that will go silent, the other reaching the database directly.
    store = await openStore({ postgresUrl: proxy.url(url), queryTimeoutMs: 1_500, poolSizeMax: 1 });
    other = await openStore({ postgresUrl: url, queryTimeoutMs: 20_000, poolSizeMax: 1, migrate: false });
    await sql`create table probe (id integer primary key, n integer)`.execute(store.db);
    await sql`insert into probe values (1, 0)`.execute(store.db);
    const stalled = store.db
      .transaction()
      .execute(async (tx) => {
        await sql`select n from probe where id = 1 for update`.execute(tx);
        // The partition: nothing more reaches PostgreSQL, not even the close; its session holds the row's lock.
        proxy!.stall();
        await sql`update probe set n = n + 1 where id = 1`.execute(tx);
      })
      .then(
        () => 'committed',
        (error: unknown) => toLgError(error).code,
      );
    expect(await stalled).toBe('LG_STORE_UNAVAILABLE');
    // PostgreSQL ends a session idle in its transaction past the bound, and the lock goes with it: the other process
    // takes the row well within its own 20 s (it used to wait for TCP to give up on the silent connection).
    await sql`update probe set n = n + 10 where id = 1`.execute(other.db);
    const row = await sql<{ n: number }>`select n from probe where id = 1`.execute(other.db);
    expect(row.rows[0]!.n).toBe(10);
  }, 60_000);
});
