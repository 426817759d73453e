import type { SyncSql } from './sync.js';

/**
 * Values a module may keep for the life of one transaction (the ledger keeps the chain head it already read).
 * Cleared whenever a unit of work rolls back to its savepoint, since what the unit wrote is then gone.
 * Keys are the open transaction: a Kysely DbTx, or the SyncSql of a synchronous batch.
 */
const txCaches = new Set<WeakMap<object, unknown>>();

export function txScopedCache<T>(): { get(tx: object): T | undefined; set(tx: object, value: T): void } {
  const map = new WeakMap<object, T>();
  txCaches.add(map as WeakMap<object, unknown>);
  return { get: (tx) => map.get(tx), set: (tx, value) => void map.set(tx, value) };
}

export function clearTxCaches(tx: object): void {
  for (const map of txCaches) map.delete(tx);
}

/**
 * Work a module defers to the end of a synchronous stretch of a batch (the ledger writes its chain head once per batch
 * instead of once per unit). The group committer runs every finisher before COMMIT, and in a mixed batch after each
 * synchronous unit, before an async unit can read what the finisher writes.
 */
const batchFinishers: ((sql: SyncSql) => void)[] = [];

export function registerBatchFinisher(finish: (sql: SyncSql) => void): void {
  batchFinishers.push(finish);
}

export function finishBatch(sql: SyncSql): void {
  for (const finish of batchFinishers) finish(sql);
}
