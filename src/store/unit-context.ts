import { AsyncLocalStorage } from 'node:async_hooks';
import type { DbTx } from './db.js';

/**
 * Work that must commit in the same transaction as whatever the current request writes, without every service
 * having to know about it. The idempotency layer uses it to record "this key's write committed" atomically with the
 * write itself, so a crash can never leave an effect without its key (which a retry would then repeat).
 */
export interface UnitContext {
  /** Runs inside the unit's transaction after its work succeeded; a throw rolls the unit back. */
  afterWork?: (tx: DbTx, value: unknown) => Promise<void>;
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

/**
 * Values a module may keep for the life of one transaction (the ledger keeps the chain head it already read).
 * Cleared whenever a unit of work rolls back to its savepoint, since what the unit wrote is then gone.
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
