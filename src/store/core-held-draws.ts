import type { CoreTables } from './core-tables.js';
import type { Db, DbTx, StoreKind } from './store-types.js';

/** Held draws (core/held-draws.ts) as the store keeps them: locked reads, compare-and-set moves, the cooling-off sweep. */
type DrawRow = CoreTables['draws'];

/** The draw, locked until the transaction ends on PostgreSQL (SQLite has one writer already). */
export function lockDraw(tx: DbTx, kind: StoreKind, id: string): Promise<DrawRow | undefined> {
  const query = tx.selectFrom('draws').selectAll().where('id', '=', id);
  return (kind === 'postgres' ? query.forUpdate() : query).executeTakeFirst();
}

/** The stored result (JSON) of a decision. */
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
  move: { readonly id: string; readonly from: string; readonly to: string; readonly loanId: string | null },
): Promise<boolean> {
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
