import {
  sql,
  type Insertable,
  type Kysely,
  type RawBuilder,
  type Selectable,
  type SelectQueryBuilder,
} from 'kysely';
import {
  LENDING_STATUS,
  LgError,
  RESTRICTIVE_ACTIONS,
  type LineState,
  type LineStatus,
} from '../domain/index.js';
import type { CoreTables } from './core-tables.js';
import type { Database } from './schema.js';
import { runShaped } from './shaped.js';
import { holdLedgerChain } from './ledger-chain.js';
import type { DbTx, StoreKind } from './store-types.js';

/** Lines, their actions and the reads behind the per-borrower cap and the blast-radius guard (core/lines.ts). */
type Q = Kysely<Database>;
type LineRow = CoreTables['credit_lines'];
type ActionRow = Selectable<CoreTables['line_actions']>;

/** Lines that still count toward exposure and can take actions. */
const OPEN_STATUSES = ['PENDING', 'ACTIVE', 'DRAW_FROZEN', 'SUSPENDED'];

/**
 * `available_minor` by the domain's rule (domain/line.ts availableMinor): the limit less what is owed, never below 0,
 * on a line whose status lends, and 0 on any other. Every statement that changes a line's limit, balance or status
 * sets it through here, from the row's own columns in that statement, so a concurrent draw or repayment is never lost.
 * `status` is the row's column, or the status the statement writes (it sees the row's old status otherwise).
 */
export function availableSql(
  status: LineStatus | RawBuilder<string>,
  limit: RawBuilder<number>,
  outstanding: RawBuilder<number>,
): RawBuilder<number> {
  const room = sql<number>`case when (${limit}) > (${outstanding}) then (${limit}) - (${outstanding}) else 0 end`;
  if (typeof status === 'string') return status === LENDING_STATUS ? room : sql<number>`0`;
  return sql<number>`case when ${status} = ${LENDING_STATUS} then ${room} else 0 end`;
}

/**
 * Row lock on PostgreSQL (SELECT … FOR UPDATE); SQLite has a single writer per database, and Kysely runs its
 * transactions on one connection, so the read-modify-write is already serialised there.
 */
export function forUpdate<O>(
  kind: StoreKind,
  query: SelectQueryBuilder<Database, keyof Database, O>,
): SelectQueryBuilder<Database, keyof Database, O> {
  return kind === 'postgres' ? query.forUpdate() : query;
}

/** The line (locked until the transaction ends when `lock`); LG_NOT_FOUND when there is none. */
export async function findLine(db: Q, kind: StoreKind, id: string, lock = false): Promise<LineRow> {
  // Every draw reads its line: reuse the compiled SQL (see shaped.ts).
  const result = await runShaped(
    db,
    `findLine ${kind} ${lock}`,
    () => {
      const query = db.selectFrom('credit_lines').selectAll().where('id', '=', id);
      return lock ? forUpdate(kind, query) : query;
    },
    [id],
  );
  const row = result.rows[0];
  if (!row) throw new LgError('LG_NOT_FOUND', `no line ${id}`, { lineId: id });
  return row;
}

/**
 * Locks the borrower's row until the transaction ends (PostgreSQL; SQLite is serial already): applications for one
 * borrower then read their exposure one after another, so the per-borrower cap holds across processes (issue 13), and
 * two appeals of one borrower check for an open appeal one after the other.
 */
export async function lockBorrower(db: Q, kind: StoreKind, borrowerId: string): Promise<void> {
  if (kind !== 'postgres') return;
  await db.selectFrom('borrowers').select('id').where('id', '=', borrowerId).forUpdate().execute();
}

/**
 * Locks the borrower for the rest of the caller's transaction (SQLite's single writer is the lock there), then reads
 * their exposure (below). Everything that grants or raises a limit reads exposure through here, so two such writes
 * for one borrower, in any processes, queue up instead of both fitting the same room.
 */
export async function lockBorrowerExposure(
  db: Q,
  kind: StoreKind,
  borrowerId: string,
  excludeLineId?: string,
): Promise<BorrowerExposure> {
  await lockBorrower(db, kind, borrowerId);
  return borrowerExposure(db, borrowerId, excludeLineId);
}

export interface BorrowerExposure {
  /**
   * What the per-borrower cap counts, over every line of the borrower but the one excluded: an open line's limit, and
   * a closed or revoked line's principal still owed. A closed line takes no draw, but its balance is still credit the
   * borrower has; counting only open limits let a borrower close a drawn line, open another in its room and owe more
   * than the cap once a held draw was released (test/core/held-draw-cap.test.ts). Drawing never moves this figure (an
   * open line's balance stays within its limit) and closing or repaying only lowers it, so the cap checked when credit
   * is granted or raised, under the borrower's lock, holds whenever money leaves.
   */
  readonly exposureMinor: number;
  /** When the borrower's newest line of any status was created. */
  readonly newestLineCreatedAt: number | null;
}

export async function borrowerExposure(
  db: Q,
  borrowerId: string,
  excludeLineId?: string,
): Promise<BorrowerExposure> {
  const excluded = excludeLineId === undefined ? sql`` : sql`when id = ${excludeLineId} then 0 `;
  const exposure = sql<number>`coalesce(sum(case ${excluded}when status in (${sql.join(OPEN_STATUSES)}) then limit_minor else outstanding_minor end), 0)`;
  const row = await db
    .selectFrom('credit_lines')
    .select([exposure.as('exposure'), (eb) => eb.fn.max('created_at').as('newest')])
    .where('borrower_id', '=', borrowerId)
    .executeTakeFirst();
  const newest = row?.newest;
  return {
    exposureMinor: Number(row?.exposure ?? 0),
    newestLineCreatedAt: newest === null || newest === undefined ? null : Number(newest),
  };
}

export async function countActiveLines(db: Q): Promise<number> {
  const row = await db
    .selectFrom('credit_lines')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('status', 'in', ['ACTIVE', 'DRAW_FROZEN'])
    .executeTakeFirst();
  return Number(row?.n ?? 0);
}

/** The name the blast-radius guard's advisory lock is keyed by, with the schema (isolated schemas never share it). */
const GUARD_LOCK = 'lineguard:blast-radius-guard:';

/**
 * Makes the blast-radius guard's admissions take turns across processes until the transaction ends (core/lines.ts
 * guardAdmits): PostgreSQL `pg_advisory_xact_lock`, keyed by name and schema, released by the commit or rollback, so
 * the fleet count an admission reads after it (a statement of its own: READ COMMITTED gives it a snapshot taken once
 * the lock is held) holds every admission committed before, and the action it admits commits before the next one
 * counts. One lock for the three classes: a unit that applies two automated restrictions of different classes (the
 * review job) takes no second lock that another unit could hold while it waits for the first. The transaction's
 * ledger chain head is locked first (holdLedgerChain, `ledgerSubjectId` naming the entry it will append), so no holder
 * of this lock waits for a head another unit holds while it waits for this lock. SQLite has one writer: nothing to do.
 */
export async function lockGuardAdmissions(tx: DbTx, kind: StoreKind, ledgerSubjectId: string): Promise<void> {
  if (kind !== 'postgres') return;
  await holdLedgerChain(tx, ledgerSubjectId);
  await sql`select pg_advisory_xact_lock(hashtextextended(${GUARD_LOCK} || current_schema(), 0))`.execute(tx);
}

/**
 * Automated restrictive actions of one guard class applied since `since`, by every instance (the blast-radius
 * guard's fleet count for that class's budget); exact across processes once lockGuardAdmissions is held.
 */
export async function countAutomatedRestrictions(db: Q, since: number, actionClass: string): Promise<number> {
  const row = await db
    .selectFrom('line_actions')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('automated', '=', 1)
    .where('action_class', '=', actionClass)
    .where('created_at', '>', since)
    .where('outcome', '=', 'APPLIED')
    .where('type', 'in', [...RESTRICTIVE_ACTIONS])
    .executeTakeFirst();
  return Number(row?.n ?? 0);
}

/**
 * Writes a line's new state while it is still in `fromStatus`; false when it changed meanwhile. `available` is
 * recomputed from the row's own outstanding balance in the same statement, so a concurrent draw or repayment can
 * never be lost.
 */
export async function setLineState(
  db: Q,
  change: {
    readonly lineId: string;
    readonly fromStatus: string;
    readonly state: LineState;
    readonly at: number;
  },
): Promise<boolean> {
  const { state } = change;
  const limit = state.limitMinor;
  const updated = await db
    .updateTable('credit_lines')
    .set({
      status: state.status,
      limit_minor: limit,
      base_limit_minor: state.baseLimitMinor,
      temp_limit_until: state.tempLimitUntil,
      annual_rate: state.annualRate,
      available_minor: availableSql(state.status, sql<number>`${limit}`, sql<number>`outstanding_minor`),
      updated_at: change.at,
    })
    .where('id', '=', change.lineId)
    .where('status', '=', change.fromStatus)
    .executeTakeFirst();
  return Number(updated.numUpdatedRows) === 1;
}

export async function insertLine(db: Q, row: Insertable<CoreTables['credit_lines']>): Promise<void> {
  await db.insertInto('credit_lines').values(row).execute();
}

export async function insertLineAction(db: Q, row: Insertable<CoreTables['line_actions']>): Promise<void> {
  await db.insertInto('line_actions').values(row).execute();
}

/** When the line's newest action was created (ms), null when it has none: a new one is stamped after it. */
export async function newestLineActionAt(db: Q, lineId: string): Promise<number | null> {
  const row = await db
    .selectFrom('line_actions')
    .select((eb) => eb.fn.max('created_at').as('t'))
    .where('line_id', '=', lineId)
    .executeTakeFirst();
  return row?.t === null || row?.t === undefined ? null : Number(row.t);
}

/** The types of the actions one actor (a job and its date) has already taken on a line. */
export async function actionTypesBy(db: Q, lineId: string, actor: string): Promise<string[]> {
  const rows = await db
    .selectFrom('line_actions')
    .select('type')
    .where('line_id', '=', lineId)
    .where('actor', '=', actor)
    .execute();
  return rows.map((r) => r.type);
}

/** The line's latest actions, newest first. */
export function recentActions(db: Q, lineId: string, limit: number): Promise<ActionRow[]> {
  return db
    .selectFrom('line_actions')
    .selectAll()
    .where('line_id', '=', lineId)
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(limit)
    .execute();
}
