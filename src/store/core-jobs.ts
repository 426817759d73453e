import { sql, type ExpressionBuilder, type Insertable, type Kysely } from 'kysely';
import type { CoreTables } from './core-tables.js';
import type { Database } from './schema.js';
import { availableSql, forUpdate } from './core-lines.js';
import type { StoreKind } from './store-types.js';

/** The daily and review jobs' reads and writes (core/jobs.ts): ageing loans and lines, expiring temporary limits. */
type Q = Kysely<Database>;
type LineRow = CoreTables['credit_lines'];
type InstallmentRow = CoreTables['loan_installments'];
type Aged = { id: string; dpd: number; bucket: string };

/** A page of ACTIVE loans with ids after `afterId`, by id. */
export function activeLoansPage(
  db: Q,
  afterId: string,
  pageSize: number,
): Promise<(Aged & { line_id: string; aged_for: string | null })[]> {
  return db
    .selectFrom('loans')
    .select(['id', 'line_id', 'dpd', 'bucket', 'aged_for'])
    .where('status', '=', 'ACTIVE')
    .where('id', '>', afterId)
    .orderBy('id')
    .limit(pageSize)
    .execute();
}

/** The unsettled instalments of these loans. */
export function unsettledInstallmentsOf(db: Q, loanIds: readonly string[]): Promise<InstallmentRow[]> {
  return db
    .selectFrom('loan_installments')
    .selectAll()
    .where('loan_id', 'in', loanIds)
    .where('settled_at', 'is', null)
    .execute();
}

/** No later day's aging of the loan to undo: never aged, or aged for this day or an earlier one. */
const notAgedAfter = (asOf: string) => (eb: ExpressionBuilder<Database, 'loans'>) =>
  eb.or([eb('aged_for', 'is', null), eb('aged_for', '<=', asOf)]);

/** Sets a loan's age for a day if it still has the age it was read with; false when another run aged it meanwhile. */
export async function setLoanAge(
  db: Q,
  id: string,
  age: { dpd: number; bucket: string; asOf: string },
  from: { dpd: number; bucket: string },
): Promise<boolean> {
  const result = await db
    .updateTable('loans')
    .set({ dpd: age.dpd, bucket: age.bucket, aged_for: age.asOf })
    .where('id', '=', id)
    .where('dpd', '=', from.dpd)
    .where('bucket', '=', from.bucket)
    .where(notAgedAfter(age.asOf))
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** Records a day's aging of loans it left unchanged, so a run for an earlier day leaves them alone. */
export async function markLoansAged(db: Q, ids: readonly string[], asOf: string): Promise<void> {
  if (ids.length === 0) return;
  await db
    .updateTable('loans')
    .set({ aged_for: asOf })
    .where('id', 'in', ids)
    .where(notAgedAfter(asOf))
    .execute();
}

export async function insertBucketChange(
  db: Q,
  row: Insertable<CoreTables['delinquency_changes']>,
): Promise<void> {
  await db.insertInto('delinquency_changes').values(row).execute();
}

/** Lines past due now (dpd > 0). */
export function lateLines(db: Q): Promise<Aged[]> {
  return db.selectFrom('credit_lines').select(['id', 'dpd', 'bucket']).where('dpd', '>', 0).execute();
}

/**
 * These lines' ages, locked until the transaction ends (PostgreSQL; in id order, so two runs never deadlock on them),
 * each with the worst days past due of its ACTIVE loans as they stand once locked.
 */
export async function lockedLineAges(
  db: Q,
  kind: StoreKind,
  ids: readonly string[],
): Promise<(Aged & { worst_loan_dpd: number })[]> {
  if (ids.length === 0) return [];
  const lines = await forUpdate(
    kind,
    db.selectFrom('credit_lines').select(['id', 'dpd', 'bucket']).where('id', 'in', ids).orderBy('id'),
  ).execute();
  const worst = await db
    .selectFrom('loans')
    .select(['line_id', (eb) => eb.fn.max('dpd').as('worst')])
    .where('line_id', 'in', ids)
    .where('status', '=', 'ACTIVE')
    .groupBy('line_id')
    .execute();
  const worstOf = new Map(worst.map((w) => [w.line_id, Number(w.worst)]));
  return lines.map((line) => ({ ...line, worst_loan_dpd: worstOf.get(line.id) ?? 0 }));
}

export async function setLineAge(db: Q, id: string, age: { dpd: number; bucket: string }): Promise<void> {
  await db
    .updateTable('credit_lines')
    .set({ dpd: age.dpd, bucket: age.bucket })
    .where('id', '=', id)
    .execute();
}

/** Lines whose temporary limit ends at or before `at`. */
export function expiringTempLimits(db: Q, at: number): Promise<LineRow[]> {
  return db
    .selectFrom('credit_lines')
    .selectAll()
    .where('temp_limit_until', 'is not', null)
    .where('temp_limit_until', '<=', at)
    .execute();
}

/**
 * Ends a line's temporary limit: it falls back to `baseLimitMinor`, but never below the row's own outstanding balance
 * (read in the statement, so a concurrent draw is never lost).
 */
export async function endTempLimit(
  db: Q,
  lineId: string,
  ending: { baseLimitMinor: number; until: number },
  at: number,
): Promise<boolean> {
  const base = ending.baseLimitMinor;
  const result = await db
    .updateTable('credit_lines')
    .set({
      limit_minor: sql<number>`case when ${base} > outstanding_minor then ${base} else outstanding_minor end`,
      base_limit_minor: sql<number>`case when ${base} > outstanding_minor then ${base} else outstanding_minor end`,
      temp_limit_until: null,
      available_minor: availableSql(sql`status`, sql`${base}`, sql`outstanding_minor`),
      updated_at: at,
    })
    .where('id', '=', lineId)
    // Only the temporary limit the job read: another run (another process) may have ended it, or a new one begun.
    .where('temp_limit_until', '=', ending.until)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** Settled instalments of the line's loans: their due dates and when they were settled. */
export function settledInstallmentsOfLine(
  db: Q,
  lineId: string,
): Promise<{ due_date: string; settled_at: number | null }[]> {
  return db
    .selectFrom('loan_installments')
    .innerJoin('loans', 'loans.id', 'loan_installments.loan_id')
    .select(['loan_installments.due_date', 'loan_installments.settled_at'])
    .where('loans.line_id', '=', lineId)
    .where('loan_installments.settled_at', 'is not', null)
    .execute();
}

/** A page of ACTIVE and DRAW_FROZEN lines with ids after `afterId`, by id (the review job's book). */
export function reviewableLinesPage(db: Q, afterId: string, pageSize: number): Promise<LineRow[]> {
  return db
    .selectFrom('credit_lines')
    .selectAll()
    .where('status', 'in', ['ACTIVE', 'DRAW_FROZEN'])
    .where('id', '>', afterId)
    .orderBy('id')
    .limit(pageSize)
    .execute();
}
