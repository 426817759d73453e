import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { createIsolatedPostgresSchema, openStore, type Store } from '../../src/store/db.js';
import { toLgError } from '../../src/api/server.js';
import { TEST_DATABASE_URL } from '../helpers/stores.js';

/**
 * A transaction PostgreSQL rolls back for a reason of timing (here a real deadlock) is answered 503 "retry", not 500:
 * nothing was written, and the same request run again succeeds.
 */
describe.skipIf(!TEST_DATABASE_URL)('transactions PostgreSQL asks to retry (postgres)', () => {
  let store: Store;
  beforeAll(async () => {
    store = await openStore({
      postgresUrl: await createIsolatedPostgresSchema(TEST_DATABASE_URL ?? '', 'retryable'),
    });
    await sql`create table pair (id integer primary key, n integer not null)`.execute(store.db);
    await sql`insert into pair (id, n) values (1, 0), (2, 0)`.execute(store.db);
  });
  afterAll(async () => store?.close());

  it('a deadlock is LG_STORE_UNAVAILABLE (503); the survivor commits and a retry of the victim succeeds', async () => {
    let firstLocked: () => void = () => undefined;
    const firstHolds = new Promise<void>((r) => (firstLocked = r));
    let secondLocked: () => void = () => undefined;
    const bothLocked = new Promise<void>((r) => (secondLocked = r));
    const bump = (tx: Parameters<Parameters<Store['transaction']>[0]>[0], id: number) =>
      sql`update pair set n = n + 1 where id = ${id}`.execute(tx);
    // Opposite lock orders: each holds one row and waits for the other's.
    const crossed = (first: number, second: number, held: () => void, wait: Promise<void>) =>
      store.transaction(async (tx) => {
        await bump(tx, first);
        held();
        await wait;
        await bump(tx, second);
      });
    const a = crossed(1, 2, firstLocked, bothLocked);
    await firstHolds;
    const b = crossed(2, 1, secondLocked, Promise.resolve());
    const outcomes = await Promise.allSettled([a, b]);
    const failed = outcomes.filter((o) => o.status === 'rejected');
    expect(failed).toHaveLength(1);
    const error = (failed[0] as PromiseRejectedResult).reason as { code?: string };
    expect(error.code).toBe('40P01');
    expect(toLgError(error)).toMatchObject({ code: 'LG_STORE_UNAVAILABLE', status: 503 });
    // The victim, run again, succeeds: both rows end bumped twice.
    await store.transaction(async (tx) => {
      await bump(tx, 1);
      await bump(tx, 2);
    });
    const rows = await sql<{ n: number }>`select n from pair order by id`.execute(store.db);
    expect(rows.rows.map((r) => Number(r.n))).toEqual([2, 2]);
  });
});
