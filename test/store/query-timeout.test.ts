import { afterEach, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import pg from 'pg';
import {
  acquireAdvisoryLock,
  createIsolatedPostgresSchema,
  openStore,
  type Store,
} from '../../src/store/db.js';
import { toLgError } from '../../src/api/server.js';
import { TEST_DATABASE_URL } from '../helpers/stores.js';
import { hostPort, startTcpProxy, type TcpProxy } from '../fleet/tcp-proxy.js';

/**
 * The bound on how long a PostgreSQL statement may go unanswered (LINEGUARD_PG_QUERY_TIMEOUT_MS): requests are held
 * to it, migrations are not. The silent network drop it exists for is in test/fleet/faults.test.ts.
 */
/** The advisory lock Kysely's PostgreSQL migrator takes (kysely/dist/esm/dialect/postgres/postgres-adapter.js). */
const KYSELY_MIGRATION_LOCK = '3853314791062309107';

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

  it('migrates unbounded, then fails a statement past the bound as unavailable and goes on', async () => {
    const url = await createIsolatedPostgresSchema(TEST_DATABASE_URL ?? '', 'query_timeout');
    // Kysely's migrator waits for its advisory lock (one for the whole database); held here for 1.5 s, the
    // migration's first statement waits that long, far past the 300 ms bound, which must not cut it.
    const holder = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await holder.connect();
    try {
      await holder.query(`select pg_advisory_lock(${KYSELY_MIGRATION_LOCK})`);
      const opening = openStore({ postgresUrl: url, queryTimeoutMs: 300, poolSizeMax: 2 });
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      await holder.query(`select pg_advisory_unlock(${KYSELY_MIGRATION_LOCK})`);
      store = await opening;
    } finally {
      await holder.end();
    }
    const migrated = await sql<{ ok: boolean }>`select to_regclass('credit_lines') is not null as ok`.execute(
      store.db,
    );
    expect(migrated.rows[0]!.ok).toBe(true);
    const slow = await sql`select pg_sleep(3)`.execute(store.db).then(
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

  it('gives up starting against a database that accepts the connection and then says nothing', async () => {
    const target = hostPort(TEST_DATABASE_URL ?? '', 5432);
    proxy = await startTcpProxy(target.host, target.port);
    proxy.stall();
    // Start-up's first step takes the start-up lock on a connection of its own; it may wait long for the lock (another
    // process migrating), but not forever for a connection that never completes its handshake.
    const outcome = await acquireAdvisoryLock(
      proxy.url(TEST_DATABASE_URL ?? ''),
      'lineguard:test-silent',
    ).then(
      async (lock) => {
        await lock.release();
        return 'acquired';
      },
      (error: unknown) => (error instanceof Error ? error.message : String(error)),
    );
    expect(outcome).toMatch(/timeout/i);
  }, 30_000);
});
