/**
 * Telling "the database is unreachable" apart from a bug. A dropped connection, a refused connect, a server shutting
 * down or restarting, or a pool that cannot hand out a connection in time are conditions a client should retry
 * after a pause (HTTP 503 with Retry-After, RFC 9110 §10.2.3), not 500s, and never a reason for the process to stop.
 */

/** SQLSTATE classes and codes meaning "the server or the connection is gone", not "the statement was wrong". */
const UNAVAILABLE_SQLSTATES = new Set([
  '57P01', // admin_shutdown (pg_terminate_backend, a fast shutdown)
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now (starting up, recovery)
  '57P05', // idle_session_timeout
  '53300', // too_many_connections
  '25P03', // idle_in_transaction_session_timeout
  '57014', // query_canceled: statement_timeout (db.ts) or an operator's pg_cancel_backend; nothing was committed
]);

/** Node socket errors on the way to the database. */
const UNAVAILABLE_ERRNOS = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/** node-postgres's error for a statement past `query_timeout` (db.ts), whose connection it then closes. */
const QUERY_TIMEOUT_MESSAGE = 'Query read timeout';

/** Messages node-postgres and pg-pool use for a lost or unobtainable connection (they carry no code). */
const UNAVAILABLE_MESSAGES = [
  'Connection terminated',
  'connection timeout',
  'timeout exceeded when trying to connect',
  'Client has encountered a connection error and is not queryable',
  'Client was closed and is not queryable',
  'Cannot use a pool after calling end on the pool',
  'terminating connection due to administrator command',
  QUERY_TIMEOUT_MESSAGE,
];

/** node-postgres's `query_timeout` (db.ts): the statement went unanswered for the bound, and its stream is closed. */
export function isQueryTimeoutError(error: unknown): boolean {
  return error instanceof Error && error.message === QUERY_TIMEOUT_MESSAGE;
}

/** True when `error` (or its cause) says the database cannot be reached right now. */
export function isStoreUnavailableError(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e && depth < 4; depth++) {
    if (typeof e !== 'object') return false;
    const { code, message, cause } = e as { code?: unknown; message?: unknown; cause?: unknown };
    if (typeof code === 'string') {
      if (UNAVAILABLE_SQLSTATES.has(code) || UNAVAILABLE_ERRNOS.has(code)) return true;
      // Class 08: connection exception.
      if (/^08[0-9A-Z]{3}$/.test(code)) return true;
    }
    if (typeof message === 'string' && UNAVAILABLE_MESSAGES.some((m) => message.includes(m))) return true;
    e = cause;
  }
  return false;
}

/**
 * SQLSTATEs after which the same transaction, run again, should succeed: PostgreSQL rolled it back for a reason of
 * timing, not of the request. A statement prepared before a schema change that altered its result columns fails once
 * inside a transaction (src/store/prepared.ts: the connection has forgotten it by the next try); a deadlock or a
 * serialization failure is PostgreSQL's own "retry the transaction". Nothing committed, so a client told to retry
 * (503) does no harm, where a 500 would say the request itself was at fault.
 */
const RETRY_TRANSACTION_SQLSTATES = new Set(['40001', '40P01']);
const STALE_PLAN = { code: '0A000', message: 'cached plan must not change result type' } as const;

/** True when `error` rolled back a transaction that would succeed if run again (see RETRY_TRANSACTION_SQLSTATES). */
export function isRetryableTransactionError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { code } = error as { code?: unknown };
  if (typeof code !== 'string') return false;
  return RETRY_TRANSACTION_SQLSTATES.has(code) || isStalePlanError(error);
}

/** `cached plan must not change result type`: a prepared statement whose result columns a schema change altered. */
export function isStalePlanError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { code, message } = error as { code?: unknown; message?: unknown };
  return code === STALE_PLAN.code && typeof message === 'string' && message.includes(STALE_PLAN.message);
}

/** How long a client is asked to wait before retrying while a dependency is down (Retry-After, seconds). */
export const RETRY_AFTER_SECONDS = 2;

/**
 * The SQLSTATE of a unit statement that refused itself (migration 127_unit_refused, core-draws.ts): its conditional
 * debit or its idempotency claim did not take, so it wrote nothing. Not a fault: the caller answers it as the refusal.
 */
export const UNIT_REFUSED_SQLSTATE = 'LGU01';

/** What a refused unit statement says did not take ('debit' or 'claim'), or undefined for any other error. */
export function unitRefusal(error: unknown): 'debit' | 'claim' | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const { code, message } = error as { code?: unknown; message?: unknown };
  if (code !== UNIT_REFUSED_SQLSTATE || typeof message !== 'string') return undefined;
  return message.endsWith('debit') ? 'debit' : 'claim';
}
