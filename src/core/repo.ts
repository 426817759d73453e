import { RESTRICTIVE_ACTIONS } from '../domain/index.js';
import type { Insertable, Kysely, Selectable, SelectQueryBuilder } from 'kysely';
import type { Database } from '../store/schema.js';
import type { StoreKind } from '../store/db.js';
import type { LineState, LineStatus } from '../domain/index.js';
import { canonicalJson } from '../domain/index.js';
import { LgError } from '../domain/index.js';
import type { CoreTables } from '../store/core-tables.js';
import { CORE_EVENTS_TOPIC } from './events.js';
import { insertRows, runShaped } from '../store/shaped.js';

/** Row access for the core's aggregates, portable between SQLite and PostgreSQL (Kysely builders only). */
export type Q = Kysely<Database>;
export type LineRow = CoreTables['credit_lines'];
export type LoanRow = CoreTables['loans'];
export type InstallmentRow = CoreTables['loan_installments'];
export type BorrowerRow = CoreTables['borrowers'];
export type DrawRow = CoreTables['draws'];
/** A line action as read (and as the core writes it, with its guard class). */
export type ActionRow = Selectable<CoreTables['line_actions']>;
/** A line as opened, and a line action as written (its guard class may be left to the column default). */
export type NewLine = Insertable<CoreTables['credit_lines']>;
export type NewLineAction = Insertable<CoreTables['line_actions']>;
export type ApplicationRow = Selectable<CoreTables['applications']>;
export type NewApplication = Insertable<CoreTables['applications']>;
export type NewRepayment = Insertable<CoreTables['repayments']>;

/** Lines that still count toward exposure and can take actions. */
export const OPEN_STATUSES: readonly LineStatus[] = ['PENDING', 'ACTIVE', 'DRAW_FROZEN', 'SUSPENDED'];

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

export function lineStateOf(row: LineRow): LineState {
  return {
    status: row.status as LineStatus,
    limitMinor: Number(row.limit_minor),
    baseLimitMinor: Number(row.base_limit_minor),
    tempLimitUntil: row.temp_limit_until === null ? null : Number(row.temp_limit_until),
    outstandingMinor: Number(row.outstanding_minor),
    annualRate: Number(row.annual_rate),
  };
}

export async function findLine(db: Q, kind: StoreKind, id: string, lock = false): Promise<LineRow> {
  // Every draw reads its line: reuse the compiled SQL (see store/shaped.ts).
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

export async function findLoan(db: Q, kind: StoreKind, id: string, lock = false): Promise<LoanRow> {
  const query = db.selectFrom('loans').selectAll().where('id', '=', id);
  const row = await (lock ? forUpdate(kind, query) : query).executeTakeFirst();
  if (!row) throw new LgError('LG_NOT_FOUND', `no loan ${id}`, { loanId: id });
  return row;
}

export async function installmentsOf(db: Q, loanId: string): Promise<InstallmentRow[]> {
  return db
    .selectFrom('loan_installments')
    .selectAll()
    .where('loan_id', '=', loanId)
    .orderBy('period')
    .execute();
}

/**
 * Locks the borrower's row until the dbTx ends (PostgreSQL; SQLite is serial already): applications for one borrower
 * then read their exposure one after another, so the per-borrower cap holds across processes (issue 13).
 */
export async function lockBorrower(db: Q, kind: StoreKind, borrowerId: string): Promise<void> {
  if (kind !== 'postgres') return;
  await db.selectFrom('borrowers').select('id').where('id', '=', borrowerId).forUpdate().execute();
}

/** Sum of limits over the borrower's open lines (the per-borrower cap counts them all). */
export async function openExposureMinor(db: Q, borrowerId: string, excludeLineId?: string): Promise<number> {
  let query = db
    .selectFrom('credit_lines')
    .select((eb) => eb.fn.sum<number>('limit_minor').as('total'))
    .where('borrower_id', '=', borrowerId)
    .where('status', 'in', OPEN_STATUSES);
  if (excludeLineId) query = query.where('id', '!=', excludeLineId);
  const row = await query.executeTakeFirst();
  return Number(row?.total ?? 0);
}

export async function countActiveLines(db: Q): Promise<number> {
  const row = await db
    .selectFrom('credit_lines')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('status', 'in', ['ACTIVE', 'DRAW_FROZEN'])
    .executeTakeFirst();
  return Number(row?.n ?? 0);
}

/**
 * Automated restrictive actions of one guard class applied since `since`, by every instance (the blast-radius
 * guard's fleet count for that class's budget).
 */
export async function countAutomatedRestrictions(
  db: Q,
  since: number,
  actionClass = 'credit',
): Promise<number> {
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

export function outboxRow(id: string, payload: unknown, at: number): CoreOutboxRow {
  return {
    id,
    topic: CORE_EVENTS_TOPIC,
    payload: canonicalJson(payload),
    created_at: at,
    published_at: null,
  };
}

export type CoreOutboxRow = Database['outbox'];

export async function insertOutbox(db: Q, id: string, payload: unknown, at: number): Promise<void> {
  await insertRows(db, 'outbox', [outboxRow(id, payload, at)]);
}

/** The SQL of findLine for a synchronous unit (embedded SQLite: one writer, so no lock is needed). */
export const FIND_LINE_SQL = 'select * from "credit_lines" where "id" = ?';

export function parseReasons(text: string): string[] {
  const value: unknown = JSON.parse(text);
  return Array.isArray(value) ? value.filter((x): x is string => typeof x === 'string') : [];
}

export function bool(value: number): boolean {
  return value === 1;
}
