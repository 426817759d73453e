import { sql, type Insertable, type Kysely } from 'kysely';
import { LgError } from '../domain/index.js';
import type { CoreTables } from './core-tables.js';
import type { Database } from './schema.js';
import type { StoreKind } from './store-types.js';
import { availableSql } from './core-lines.js';

/** Loans, their instalments and repayments as the core reads and repays them (core/loans.ts, core/accruing.ts). */
type Q = Kysely<Database>;
type LoanRow = CoreTables['loans'];
type InstallmentRow = CoreTables['loan_installments'];

/** The loan (locked until the transaction ends on PostgreSQL when `lock`); LG_NOT_FOUND when there is none. */
export async function findLoan(db: Q, kind: StoreKind, id: string, lock = false): Promise<LoanRow> {
  const query = db.selectFrom('loans').selectAll().where('id', '=', id);
  const row = await (lock && kind === 'postgres' ? query.forUpdate() : query).executeTakeFirst();
  if (!row) throw new LgError('LG_NOT_FOUND', `no loan ${id}`, { loanId: id });
  return row;
}

/** The loan's instalments by period. */
export function installmentsOf(db: Q, loanId: string): Promise<InstallmentRow[]> {
  return db
    .selectFrom('loan_installments')
    .selectAll()
    .where('loan_id', '=', loanId)
    .orderBy('period')
    .execute();
}

export async function setLoanBalance(
  db: Q,
  balance: {
    readonly id: string;
    readonly outstandingPrincipalMinor: number;
    readonly status: string;
    readonly settledAt: number | null;
  },
): Promise<void> {
  await db
    .updateTable('loans')
    .set({
      outstanding_principal_minor: balance.outstandingPrincipalMinor,
      status: balance.status,
      settled_at: balance.settledAt,
    })
    .where('id', '=', balance.id)
    .execute();
}

/** What an instalment has been paid so far (totals, not this payment's part). */
export async function setInstallmentPaid(
  db: Q,
  paid: {
    readonly loanId: string;
    readonly period: number;
    readonly feeMinor: number;
    readonly interestMinor: number;
    readonly principalMinor: number;
    readonly settledAt: number | null;
  },
): Promise<void> {
  await db
    .updateTable('loan_installments')
    .set({
      paid_fee_minor: paid.feeMinor,
      paid_interest_minor: paid.interestMinor,
      paid_principal_minor: paid.principalMinor,
      settled_at: paid.settledAt,
    })
    .where('loan_id', '=', paid.loanId)
    .where('period', '=', paid.period)
    .execute();
}

/**
 * Repaid principal restores the line's available credit — on a line that lends (core-lines.ts availableSql) —
 * computed from the row's own balance in the statement so a concurrent draw is never lost.
 */
export async function restoreLineCredit(
  db: Q,
  lineId: string,
  principalMinor: number,
  at: number,
): Promise<void> {
  const p = principalMinor;
  await db
    .updateTable('credit_lines')
    .set({
      outstanding_minor: sql<number>`outstanding_minor - ${p}`,
      available_minor: availableSql(sql`status`, sql`limit_minor`, sql`outstanding_minor - ${p}`),
      updated_at: at,
    })
    .where('id', '=', lineId)
    .execute();
}

export async function insertRepayment(db: Q, row: Insertable<CoreTables['repayments']>): Promise<void> {
  await db.insertInto('repayments').values(row).execute();
}
