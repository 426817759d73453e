import { AsyncLocalStorage } from 'node:async_hooks';
import { sql, type Kysely } from 'kysely';
import type { Database } from './schema.js';
import type { DbTx } from './db.js';
import { clearTxCaches, withUnitHooks } from './unit-context.js';

/**
 * Group commit for the embedded store. SQLite has one writer and, with synchronous=FULL, one fsync per commit; so
 * concurrent units of work are queued and run one after another inside a single database transaction, each under its
 * own SAVEPOINT. A unit that throws rolls back to its savepoint alone; the others commit together, and every caller
 * is answered only after that commit is durable. Batching commits is fair; acknowledging an uncommitted one is not.
 *
 * A unit must only do database work (no waiting on the network), and must not open another transaction.
 */
interface Unit {
  readonly work: (tx: DbTx) => Promise<unknown>;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
}

export interface GroupCommitOptions {
  /** Most units in one transaction; bounds the latency of the last one in a batch. */
  readonly batchSizeMax: number;
}

export function createGroupCommitter(db: Kysely<Database>, options: GroupCommitOptions) {
  const queue: Unit[] = [];
  // A unit that opened another transaction would wait for a batch that waits for it: refuse loudly instead.
  const insideUnit = new AsyncLocalStorage<true>();
  let flushing = false;

  async function flush(): Promise<void> {
    flushing = true;
    try {
      while (queue.length > 0) {
        const batch = queue.splice(0, options.batchSizeMax);
        await runBatch(batch);
      }
    } finally {
      flushing = false;
    }
  }

  async function runBatch(batch: Unit[]): Promise<void> {
    const outcomes: { ok: boolean; value: unknown }[] = [];
    try {
      await db.transaction().execute(async (tx) => {
        for (const unit of batch) {
          await sql`savepoint lg_unit`.execute(tx);
          try {
            const value = await insideUnit.run(true, () => unit.work(tx));
            await sql`release savepoint lg_unit`.execute(tx);
            outcomes.push({ ok: true, value });
          } catch (error) {
            await sql`rollback to savepoint lg_unit`.execute(tx);
            await sql`release savepoint lg_unit`.execute(tx);
            clearTxCaches(tx);
            outcomes.push({ ok: false, value: error });
          }
        }
      });
    } catch (commitError) {
      // The commit itself failed: nothing in the batch is durable, so every unit fails.
      for (const unit of batch) unit.reject(commitError);
      return;
    }
    batch.forEach((unit, i) => {
      const outcome = outcomes[i];
      if (outcome?.ok) unit.resolve(outcome.value);
      else unit.reject(outcome?.value);
    });
  }

  return function transaction<T>(work: (tx: DbTx) => Promise<T>): Promise<T> {
    if (insideUnit.getStore()) {
      return Promise.reject(new Error('store.transaction called inside another transaction; pass the open tx instead'));
    }
    return new Promise<T>((resolve, reject) => {
      queue.push({ work: withUnitHooks(work), resolve: resolve as (value: unknown) => void, reject });
      // Let every request that arrived in this turn of the event loop join the batch.
      if (!flushing) setImmediate(() => void flush());
    });
  };
}
