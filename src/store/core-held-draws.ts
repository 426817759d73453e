import { sql } from 'kysely';
import {
  resealDrawOrigins,
  type DrawResealResult,
  type FieldCrypto,
  type SealedRows,
  type StoredDrawOrigin,
} from '../compliance/index.js';
import type { CoreTables } from './core-tables.js';
import type { Db, DbTx, Store, StoreKind } from './store-types.js';

/** Held draws (core/held-draws.ts) as the store keeps them: locked reads, compare-and-set moves, the cooling-off sweep. */
type DrawRow = CoreTables['draws'];

/** The draw, locked until the transaction ends on PostgreSQL (SQLite has one writer already). */
export function lockDraw(tx: DbTx, kind: StoreKind, id: string): Promise<DrawRow | undefined> {
  const query = tx.selectFrom('draws').selectAll().where('id', '=', id);
  return (kind === 'postgres' ? query.forUpdate() : query).executeTakeFirst();
}

/** The stored result of a decision: sealed (compliance/sealed-decisions.ts), or JSON in clear when older. */
export async function decisionResult(tx: DbTx, decisionId: string): Promise<string | undefined> {
  const row = await tx
    .selectFrom('decisions')
    .select('result')
    .where('id', '=', decisionId)
    .executeTakeFirst();
  return row?.result;
}

/** Moves a draw from `from` to `to` only if it is still in `from`; false when it changed meanwhile. */
export async function moveDraw(
  tx: DbTx,
  kind: StoreKind,
  move: { readonly id: string; readonly from: string; readonly to: string; readonly loanId: string | null },
): Promise<boolean> {
  if (kind === 'postgres') {
    // Stamped with this unit's transaction, as the insert stamps a new draw (changed_xid's default, migration 139):
    // a draw the cooling-off job stops becomes HOLD, work for a person, long after it was made, and the case intake's
    // sweep on the other processes reads it in commit order (src/store/cases-intake.ts).
    const result = await sql`update draws set status = ${move.to}, loan_id = ${move.loanId},
      changed_xid = pg_current_xact_id() where id = ${move.id} and status = ${move.from}`.execute(tx);
    return Number(result.numAffectedRows ?? 0) === 1;
  }
  const updated = await tx
    .updateTable('draws')
    .set({ status: move.to, loan_id: move.loanId })
    .where('id', '=', move.id)
    .where('status', '=', move.from)
    .executeTakeFirst();
  return Number(updated.numUpdatedRows) === 1;
}

/** The ids of COOLDOWN draws created at or before `createdBefore`, oldest first. */
export function dueCooldowns(db: Db, createdBefore: number, limit: number): Promise<{ id: string }[]> {
  return db
    .selectFrom('draws')
    .select(['id'])
    .where('status', '=', 'COOLDOWN')
    .where('created_at', '<=', createdBefore)
    .orderBy('created_at')
    .limit(limit)
    .execute();
}

/** The id of an alert raised on the user after `after`, if any. */
export async function alertAfter(db: Db, userId: string, after: number): Promise<string | undefined> {
  const alert = await db
    .selectFrom('monitor_alerts')
    .select('alert_id')
    .where('user_id', '=', userId)
    .where('created_at', '>', after)
    .limit(1)
    .executeTakeFirst();
  return alert?.alert_id;
}

/**
 * The draws' sealed origins (compliance/sealed-draws.ts) as `keys rotate-data` pages through them: the draws whose
 * origin is not sealed under the current key (or is still in clear in its three columns), and the re-sealed ones
 * written back a page per transaction, each only if its four columns still hold what was read.
 */
export function drawOriginRows(store: Store): SealedRows<StoredDrawOrigin> {
  return {
    after: (afterId, limit, sealedPrefix) =>
      store.db
        .selectFrom('draws')
        .select(['id', 'origin', 'device_id', 'ip', 'payee_id'])
        .where('id', '>', afterId)
        .where((eb) =>
          eb.or([
            eb('origin', 'not like', `${sealedPrefix}%`),
            eb.and([
              eb('origin', 'is', null),
              eb.or([
                eb('device_id', 'is not', null),
                eb('ip', 'is not', null),
                eb('payee_id', 'is not', null),
              ]),
            ]),
          ]),
        )
        .orderBy('id')
        .limit(limit)
        .execute(),
    replace: (updates) =>
      updates.length === 0
        ? Promise.resolve(0)
        : store.transaction(async (tx) => {
            let written = 0;
            for (const { read, sealed } of updates) {
              const { id: _id, ...columns } = sealed;
              let update = tx.updateTable('draws').set(columns).where('id', '=', read.id);
              // Compare-and-set on every column read (null compares with `is`).
              for (const column of ['origin', 'device_id', 'ip', 'payee_id'] as const) {
                const value = read[column];
                update = value === null ? update.where(column, 'is', null) : update.where(column, '=', value);
              }
              written += Number((await update.executeTakeFirst()).numUpdatedRows);
            }
            return written;
          }),
  };
}

/** `lineguard keys rotate-data` for the draws: every origin sealed under the current key, clear ones sealed now. */
export function resealDraws(store: Store, crypto: FieldCrypto, pageSize = 500): Promise<DrawResealResult> {
  return resealDrawOrigins(drawOriginRows(store), crypto, pageSize);
}
