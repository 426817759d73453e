import { AsyncLocalStorage } from 'node:async_hooks';
import type { DbTx } from './store-types.js';
import type { SyncSql } from './sync.js';

/**
 * Work that must commit in the same transaction as whatever the current request writes, without every service
 * having to know about it. The idempotency layer uses it to record "this key's write committed" atomically with the
 * write itself, so a crash can never leave an effect without its key (which a retry would then repeat).
 */
export interface UnitContext {
  /** Runs inside the unit's transaction after its work succeeded; a throw rolls the unit back. */
  afterWork?: (tx: DbTx, value: unknown) => Promise<void>;
  /** The same for a synchronous unit (store.sync); a context that guards writes must offer both. */
  afterWorkSync?: (sql: SyncSql, value: unknown) => void;
}

export const unitContext = new AsyncLocalStorage<UnitContext>();

/** Wraps one unit of work so that the caller's afterWork hook (if any) joins its transaction. */
export function withUnitHooks<T>(work: (tx: DbTx) => Promise<T>): (tx: DbTx) => Promise<T> {
  const context = unitContext.getStore();
  if (!context?.afterWork) return work;
  return async (tx) => {
    const value = await work(tx);
    await context.afterWork?.(tx, value);
    return value;
  };
}

/** withUnitHooks for a synchronous unit. */
export function withSyncUnitHooks<T>(work: (sql: SyncSql) => T): (sql: SyncSql) => T {
  const context = unitContext.getStore();
  if (!context) return work;
  const after = context.afterWorkSync;
  if (!after) {
    if (context.afterWork)
      throw new Error('this unit of work is guarded by an async-only hook; it cannot run synchronously');
    return work;
  }
  return (sql) => {
    const value = work(sql);
    after(sql, value);
    return value;
  };
}

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
