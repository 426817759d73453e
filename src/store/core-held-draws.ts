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

/**
 * The id of an alert raised on the user after the draw, if any (the cooling-off release's newer signal,
 * core/held-draws.ts newerSignal), read in the release's transaction under the draw's and the line's locks.
 *
 * created_at is the monitor process's clock and the draw's created_at the drawing process's: an alert raised after the
 * draw by a process whose clock lags is stamped before it, and by time alone the money left. On PostgreSQL an alert
 * also counts when the transaction that wrote it began after the draw's in commit order: monitor_alerts.changed_xid
 * (migration 406, the transaction that created the row or last changed its status) above the draw's own changed_xid
 * (migration 139: the draw unit's transaction, assigned when its first statement locked the line, after that
 * statement's snapshot, in which it read the borrower's open alerts; nothing moves a draw into COOLDOWN, so it is still
 * the insert's). Such an alert was not committed
 * when the draw was decided, whatever either clock said. We chose commit order over a clock-skew tolerance (an alert
 * stamped up to N minutes before the draw counting as after it): it does not depend on how far a clock lags, and it
 * does not stop draws for alerts the draw was decided with. The cost, on the side of holding more: a status change
 * after the draw (an analyst closing an older alert) restamps changed_xid and stops the release too — a person then
 * looks at the draw (HOLD, a HELD_DRAW case). What neither test sees: an alert unit at a lagging process that began
 * writing before the draw locked its line and committed after the draw read the alerts (units overlapping by
 * milliseconds). The time test stays for SQLite (one process, one clock), for rows from before the migrations (null
 * changed_xid), and as a floor: never fewer alerts than it finds.
 */
export async function alertAfter(
  db: Db,
  kind: StoreKind,
  userId: string,
  draw: { readonly id: string; readonly createdAt: number },
): Promise<string | undefined> {
  if (kind === 'postgres') {
    const result = await sql<{ alert_id: string }>`select alert_id from monitor_alerts
      where user_id = ${userId} and (created_at > ${draw.createdAt}
        or changed_xid > (select changed_xid from draws where id = ${draw.id}))
      limit 1`.execute(db);
    return result.rows[0]?.alert_id;
  }
  const alert = await db
    .selectFrom('monitor_alerts')
    .select('alert_id')
    .where('user_id', '=', userId)
    .where('created_at', '>', draw.createdAt)
    .limit(1)
    .executeTakeFirst();
  return alert?.alert_id;
}

/**
 * When the line's newest draw (any outcome) or loan was created (ms), null when it has none: a release's loan is
 * stamped after both under the line's lock (core/held-draws.ts), as a draw is stamped after the line's newest draw
 * (core-draws.ts), so the next draw's velocity, read from the loans, never finds the release behind a row that
 * committed before it. Statements of their own after the lock: each sees what committed before it was taken.
 */
export async function newestDrawOrLoanAt(db: Db, lineId: string): Promise<number | null> {
  const row = await db
    .selectNoFrom((eb) => [
      eb
        .selectFrom('draws')
        .select((d) => d.fn.max('draws.created_at').as('t'))
        .where('draws.line_id', '=', lineId)
        .as('draw_at'),
      eb
        .selectFrom('loans')
        .select((l) => l.fn.max('loans.created_at').as('t'))
        .where('loans.line_id', '=', lineId)
        .as('loan_at'),
    ])
    .executeTakeFirst();
  const times = [row?.draw_at, row?.loan_at].filter((t) => t !== null && t !== undefined).map(Number);
  return times.length === 0 ? null : Math.max(...times);
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
