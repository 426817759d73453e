import pg from 'pg';
import { isStalePlanError } from './faults.js';

/**
 * Named prepared statements on PostgreSQL. Kysely sends every statement unnamed, so PostgreSQL parses and plans it on
 * every execution; a draw's statements are the same few texts with new values each time. Naming a parameterised
 * text makes node-postgres send Parse once per connection and only Bind/Execute afterwards: on this VM about a third
 * less of PostgreSQL's CPU per draw and fewer bytes on the socket (README, "Scale-out").
 *
 * Bounds: at most NAMED_PER_CONNECTION texts are named on a connection (statements of varying shape, like IN lists of
 * any length, would otherwise grow the server's per-session cache without end); later texts run unnamed. Idle
 * connections close after the pool's idle timeout, taking their statements with them.
 *
 * A statement prepared before a schema change that alters its result columns (a migration adding a column to a
 * `select *`: a rolling upgrade's, or `ledger verify` after migrating a live store) fails with `cached plan must not
 * change result type`. The connection then forgets its names, so the statement is prepared again: outside a
 * transaction it is retried at once, transparently; inside one the transaction is already aborted, so the unit fails
 * once, answered 503 asking for a retry (isRetryableTransactionError in src/store/faults.ts), and the retry runs.
 * Connection poolers in transaction mode that do not track prepared statements need LINEGUARD_PG_PREPARED=0.
 */
export const NAMED_PER_CONNECTION = 256;

type QueryArgs = unknown[];

export function usePreparedStatements(pool: pg.Pool): void {
  pool.on('connect', (client) => prepareOn(client));
}

function prepareOn(client: pg.PoolClient): void {
  let names = new Map<string, string>();
  let generation = 0;
  let inTransaction = false;
  // Looked up at each call rather than bound once: instrumentation of pg.Client (bench/fleet/in-process.ts counts
  // statements) sees every query.
  const original = (args: QueryArgs): unknown =>
    Reflect.apply(pg.Client.prototype.query, client, args) as unknown;
  const named = (text: string, values: unknown[], retried: boolean): Promise<unknown> => {
    let name = names.get(text);
    if (name === undefined && names.size < NAMED_PER_CONNECTION) {
      name = `lg_${generation}_${names.size}`;
      names.set(text, name);
    }
    const sent = original([
      name === undefined ? { text, values } : { name, text, values },
    ]) as Promise<unknown>;
    return sent.catch((error: unknown) => {
      if (!isStalePlanError(error)) throw error;
      // New names: every statement this connection prepared is parsed again on its next use.
      names = new Map();
      generation += 1;
      if (inTransaction || retried) throw error;
      return named(text, values, true);
    });
  };
  const replaced = (...args: QueryArgs): unknown => {
    const [text, values] = args;
    if (typeof text === 'string') inTransaction = transactionStateAfter(text, inTransaction);
    if (typeof text !== 'string' || !Array.isArray(values) || values.length === 0 || args.length !== 2)
      return original(args);
    return named(text, values, false);
  };
  Object.defineProperty(client, 'query', { value: replaced, writable: true, configurable: true });
}

/** Whether the connection is inside a transaction after `text` (Kysely sends begin, commit and rollback as text). */
function transactionStateAfter(text: string, inTransaction: boolean): boolean {
  if (/^\s*(begin|start\s+transaction)\b/i.test(text)) return true;
  if (/^\s*(commit|end|abort)\b/i.test(text) || /^\s*rollback\s*;?\s*$/i.test(text)) return false;
  return inTransaction;
}
