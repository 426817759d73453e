import type { Insertable } from 'kysely';
import type { IdempotencyClaim, RecordedResponse, UnitGuard } from '../domain/index.js';
import type { Database } from './schema.js';
import { runShaped } from './shaped.js';
import type { DbTx } from './store-types.js';
import type { SyncSql } from './sync.js';

/**
 * The idempotency key a unit of work writes with its own rows (domain/unit-guard.ts): the caller hands the guard to
 * the store's transaction, which inserts the key after the work and before COMMIT, so an effect never commits without
 * its key.
 */
const CLAIM_SQL =
  'insert into "idempotency_keys" ("scope", "idem_key", "request_hash", "state", "status_code", "response_body", "created_at") values (?, ?, ?, ?, ?, ?, ?) on conflict ("scope", "idem_key") do nothing';

/** What claiming a key needs of a guard (any UnitGuard, whatever its answer's type). */
type KeyGuard = Pick<UnitGuard, 'idempotency'>;

/**
 * The row a claim inserts: the key, marked committed, with the request's response when the unit could say it
 * (UnitGuard.respond: state done, replayable at once) or none yet (the reply records it); the hash and the body as the
 * claim says the row keeps them (sealed for a route with personal data).
 */
export function claimRow(
  claim: IdempotencyClaim,
  response?: RecordedResponse,
): Insertable<Database['idempotency_keys']> {
  return {
    scope: claim.scope,
    idem_key: claim.key,
    request_hash: claim.requestHash,
    state: response ? 'done' : 'committed',
    status_code: response?.status ?? null,
    response_body: response ? (claim.storedBody?.(response.body) ?? response.body) : null,
    created_at: claim.at,
  };
}

/**
 * Inserts the guard's idempotency key in the unit's open transaction (both engines), unless an earlier unit of the same
 * request wrote it, with the response when the caller can say it. The claim hears whether the insert won (0 rows:
 * another process holds the key) and throws to roll the unit back.
 */
export async function claimKeyInTx(
  tx: DbTx,
  guard: KeyGuard | undefined,
  respond?: () => RecordedResponse | undefined,
): Promise<void> {
  const claim = guard?.idempotency;
  if (!claim?.pending()) return;
  const response = respond?.();
  const row = claimRow(claim, response);
  // Every guarded write runs this insert: reuse its compiled SQL (shaped.ts).
  const inserted = await runShaped(
    tx,
    'idempotency claim',
    () =>
      tx
        .insertInto('idempotency_keys')
        .values(row)
        .onConflict((oc) => oc.columns(['scope', 'idem_key']).doNothing()),
    Object.values(row),
  );
  claim.claimed(Number(inserted.numAffectedRows ?? 0) === 1, response);
}

/** claimKeyInTx for a synchronous unit (embedded SQLite). */
export function claimKeySync(
  syncSql: SyncSql,
  guard: KeyGuard | undefined,
  respond?: () => RecordedResponse | undefined,
): void {
  const claim = guard?.idempotency;
  if (!claim?.pending()) return;
  const response = respond?.();
  claim.claimed(syncSql.run(CLAIM_SQL, Object.values(claimRow(claim, response))) === 1, response);
}

/**
 * `work` followed, in the same transaction, by the guard's key (the store's transaction runs this), with the response
 * the guard says for the unit's value when it says one (UnitGuard.respond).
 */
export function guardedWork<T>(work: (tx: DbTx) => Promise<T>, guard: UnitGuard<T> | undefined) {
  if (!guard?.idempotency) return work;
  return async (tx: DbTx): Promise<T> => {
    const value = await work(tx);
    await claimKeyInTx(tx, guard, responseFor(guard, value));
    return value;
  };
}

/** guardedWork for a synchronous unit. */
export function guardedSyncWork<T>(work: (sql: SyncSql) => T, guard: UnitGuard<T> | undefined) {
  if (!guard?.idempotency) return work;
  return (syncSql: SyncSql): T => {
    const value = work(syncSql);
    claimKeySync(syncSql, guard, responseFor(guard, value));
    return value;
  };
}

function responseFor<T>(guard: UnitGuard<T>, value: T): (() => RecordedResponse | undefined) | undefined {
  const respond = guard.respond;
  return respond && (() => respond({ ok: true, value }));
}
