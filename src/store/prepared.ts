import pg from 'pg';
import { isQueryTimeoutError, isStalePlanError } from './faults.js';

/**
 * What every pooled PostgreSQL connection does beyond node-postgres: named prepared statements (here), and a
 * transaction's `begin` and last `commit` written with its statements (below, wrapConnections).
 *
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

/** What the wrapper does on each pooled connection (openPostgres in db.ts). */
export interface ConnectionOptions {
  /** Name parameterised statements (above); off behind a transaction pooler (LINEGUARD_PG_PREPARED=0). */
  readonly named: boolean;
}

/**
 * A statement whose text starts with this is the last of its transaction: the COMMIT is written behind it, without
 * waiting for its answer (core-draws.ts, a draw's unit statement). Such a statement must fail by itself whenever its
 * caller would roll back on its answer; a failed statement turns the COMMIT into a rollback. Its promise settles once
 * the COMMIT has been answered, so a resolved statement is committed; the `commit` or `rollback` Kysely sends after
 * it is answered here, on a connection that is already out of the transaction.
 */
export const COMMITS_ITS_TRANSACTION = '/* lineguard: the COMMIT follows */ ';

/**
 * Wraps every connection the pool opens. The pool's clients run in node-postgres's pipeline mode (`pipeline: true`),
 * so a transaction's `begin` rides with its first statement and a last statement's COMMIT with it (sendPipelined):
 * each socket write and the read of its answer cost more of a draw's CPU on PostgreSQL than anything LineGuard
 * computes (README, "Scale-out"). Kysely still awaits each statement before it sends the next.
 */
export function wrapConnections(pool: pg.Pool, options: ConnectionOptions): void {
  pool.on('connect', (client) => wrapConnection(client, options));
}

/** An answer given here for a `begin` not sent yet, or a `commit`/`rollback` already done: Kysely only awaits it. */
function answeredHere(command: string): pg.QueryResult {
  return { command, rowCount: null, oid: 0, rows: [], fields: [] };
}

function wrapConnection(client: pg.PoolClient, options: ConnectionOptions): void {
  let names = new Map<string, string>();
  let generation = 0;
  let inTransaction = false;
  /** Kysely's `begin`, answered here and sent with the transaction's first statement. */
  let beginDeferred = false;
  /** A statement marked COMMITS_ITS_TRANSACTION was sent with its COMMIT: the transaction is over. */
  let committedAhead = false;
  // Looked up at each call rather than bound once: instrumentation of pg.Client (bench/fleet/in-process.ts counts
  // statements) sees every query.
  const original = (args: QueryArgs): unknown => {
    const sent = Reflect.apply(pg.Client.prototype.query, client, args) as unknown;
    // A statement past the bound (query_timeout) has had its stream closed, but the client learns so only on a later
    // turn: ended now, it is dropped when released instead of handed to the next request, which would fail too.
    if (sent instanceof Promise)
      sent.catch((error: unknown) => {
        if (isQueryTimeoutError(error)) client.end().catch(() => undefined);
      });
    return sent;
  };
  /** `transactional`: sent inside a transaction, where a failed statement has aborted it and cannot be retried alone. */
  const named = (
    text: string,
    values: unknown[],
    transactional: boolean,
    retried = false,
  ): Promise<unknown> => {
    let name = names.get(text);
    if (name === undefined && options.named && names.size < NAMED_PER_CONNECTION) {
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
      if (transactional || retried) throw error;
      return named(text, values, transactional, true);
    });
  };
  const send = (args: QueryArgs, transactional: boolean): unknown => {
    const [text, values] = args;
    if (typeof text !== 'string' || !Array.isArray(values) || values.length === 0 || args.length !== 2)
      return original(args);
    return named(text, values, transactional);
  };
  const replaced = (...args: QueryArgs): unknown => {
    const [text] = args;
    if (typeof text !== 'string') return original(args);
    const wasInTransaction = inTransaction;
    inTransaction = transactionStateAfter(text, inTransaction);
    if (committedAhead && !inTransaction && isBareTransactionEnd(args)) {
      committedAhead = false;
      return Promise.resolve(answeredHere(/^\s*commit/i.test(text) ? 'COMMIT' : 'ROLLBACK'));
    }
    if (!wasInTransaction && inTransaction && isBareBegin(args)) {
      committedAhead = false;
      beginDeferred = true;
      return Promise.resolve(answeredHere('BEGIN'));
    }
    const commits = wasInTransaction && text.startsWith(COMMITS_ITS_TRANSACTION);
    // A statement is in a transaction when one was open as it was sent (the COMMIT behind it closes that one).
    if (!beginDeferred && !commits) return send(args, inTransaction);
    const begin = beginDeferred;
    beginDeferred = false;
    if (commits) {
      inTransaction = false;
      committedAhead = true;
    }
    return sendPipelined(client, {
      before: begin ? () => original(['begin']) : undefined,
      statement: () => send(args, true),
      after: commits ? () => original(['commit']) : undefined,
    });
  };
  Object.defineProperty(client, 'query', { value: replaced, writable: true, configurable: true });
}

/** Whether the connection is inside a transaction after `text` (Kysely sends begin, commit and rollback as text). */
function transactionStateAfter(text: string, inTransaction: boolean): boolean {
  if (/^\s*(begin|start\s+transaction)\b/i.test(text)) return true;
  if (/^\s*(commit|end|abort)\b/i.test(text) || /^\s*rollback\s*;?\s*$/i.test(text)) return false;
  return inTransaction;
}

/** A plain statement as Kysely sends `begin`, `commit` and `rollback` (no values, no callback, no options). */
function isBare(args: QueryArgs, pattern: RegExp): boolean {
  const [text, values] = args;
  return (
    typeof text === 'string' &&
    pattern.test(text) &&
    args.length <= 2 &&
    (values === undefined || (Array.isArray(values) && values.length === 0))
  );
}

const isBareBegin = (args: QueryArgs) => isBare(args, /^\s*begin\s*;?\s*$/i);
const isBareTransactionEnd = (args: QueryArgs) => isBare(args, /^\s*(commit|rollback)\s*;?\s*$/i);

interface CorkableStream {
  cork(): void;
  uncork(): void;
}

/** What sendPipelined writes: a statement, with a `begin` before it and a `commit` after it when asked. */
interface Pipelined {
  readonly before: (() => unknown) | undefined;
  readonly statement: () => unknown;
  readonly after: (() => unknown) | undefined;
}

/**
 * Writes a statement with the `begin` before it and the `commit` after it in one socket write, without waiting for
 * an answer in between (node-postgres's pipeline mode syncs each query, so each is answered on its own). Settles
 * once every one is answered, with the statement's result, or with the first failure in their order: a failed
 * `begin` (a dropped connection) as itself, then the statement's own error (PostgreSQL answers the `commit` of a
 * failed transaction by rolling it back), then a failed `commit` (a constraint checked at COMMIT).
 */
function sendPipelined(client: pg.PoolClient, pipelined: Pipelined): Promise<unknown> {
  const stream = (client as unknown as { connection?: { stream?: Partial<CorkableStream> } }).connection
    ?.stream;
  const corkable = typeof stream?.cork === 'function' && typeof stream.uncork === 'function';
  if (corkable) stream.cork?.();
  const sent: Promise<unknown>[] = [];
  try {
    if (pipelined.before) sent.push(Promise.resolve(pipelined.before()));
    sent.push(Promise.resolve(pipelined.statement()));
    if (pipelined.after) sent.push(Promise.resolve(pipelined.after()));
  } finally {
    if (corkable) stream.uncork?.();
  }
  const statementAt = pipelined.before ? 1 : 0;
  return Promise.allSettled(sent).then((settled) => {
    const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) throw failed.reason;
    return (settled[statementAt] as PromiseFulfilledResult<unknown>).value;
  });
}
