import {
  accrueOverdue,
  applyRepayment,
  owedOn,
  type AccrualLoanState,
  type InstallmentState,
  type Owed,
} from '../domain/index.js';
import { dailyRate } from '../domain/index.js';
import { lenderDayOf } from '../domain/index.js';
import { appendToLedger } from '../compliance/index.js';
import type { CoreDeps, UnitTx } from './deps.js';
import { loanTermsOf, type LoanTermsSnapshot } from './products.js';
import type { InstallmentRow, LoanRow } from './ports.js';

/**
 * Daily-accrual loans in the store: the loan row and its instalments as an AccrualLoanState (domain/settlement.ts),
 * and the state written back. Every write happens inside the caller's dbTx with the loan row locked.
 */
export function accrualStateOf(loan: LoanRow, rows: readonly InstallmentRow[]): AccrualLoanState {
  return {
    outstandingPrincipalMinor: Number(loan.outstanding_principal_minor),
    interestThrough: loan.interest_through ?? loan.start_date,
    interestUnpaidMinor: Number(loan.interest_unpaid_minor),
    penaltyThrough: loan.penalty_through ?? loan.start_date,
    penaltyUnpaidMinor: Number(loan.penalty_unpaid_minor),
    installments: rows.map((r) => ({
      period: Number(r.period),
      dueDate: r.due_date,
      principalMinor: Number(r.principal_minor),
      interestMinor: Number(r.interest_minor),
      feeMinor: Number(r.fee_minor),
      paidPrincipalMinor: Number(r.paid_principal_minor),
      paidInterestMinor: Number(r.paid_interest_minor),
      paidFeeMinor: Number(r.paid_fee_minor),
      lateFeeMinor: Number(r.late_fee_minor),
    })),
  };
}

function rowOf(
  loanId: string,
  i: InstallmentState,
  before: InstallmentRow | undefined,
  now: number,
): InstallmentRow {
  const owed =
    i.principalMinor -
    i.paidPrincipalMinor +
    i.interestMinor -
    i.paidInterestMinor +
    i.feeMinor -
    i.paidFeeMinor;
  return {
    loan_id: loanId,
    period: i.period,
    due_date: i.dueDate,
    principal_minor: i.principalMinor,
    interest_minor: i.interestMinor,
    fee_minor: i.feeMinor,
    paid_principal_minor: i.paidPrincipalMinor,
    paid_interest_minor: i.paidInterestMinor,
    paid_fee_minor: i.paidFeeMinor,
    settled_at: owed === 0 ? (before?.settled_at ?? now) : null,
    late_fee_minor: i.lateFeeMinor,
  };
}

/** Replaces the loan's instalments with the state's (a loan has at most 360; re-projection may renumber the tail). */
async function writeInstallments(
  deps: CoreDeps,
  tx: UnitTx,
  loanId: string,
  before: readonly InstallmentRow[],
  next: readonly InstallmentState[],
  now: number,
): Promise<InstallmentRow[]> {
  const byPeriod = new Map(before.map((r) => [Number(r.period), r]));
  const rows = next.map((i) => rowOf(loanId, i, byPeriod.get(i.period), now));
  await deps.lending.replaceInstallments(tx, loanId, rows);
  return rows;
}

export interface AccruingRepayment {
  readonly allocated: {
    readonly feeMinor: number;
    readonly penaltyMinor: number;
    readonly interestMinor: number;
    readonly principalMinor: number;
  };
  readonly accruedInterestMinor: number;
  readonly loanAfter: LoanRow;
  readonly rowsAfter: InstallmentRow[];
  readonly settled: boolean;
}

/** A repayment on a daily-accrual loan (accrued interest to the date, then principal; see domain/settlement.ts). */
export async function repayAccruing(
  deps: CoreDeps,
  tx: UnitTx,
  loan: LoanRow,
  rows: readonly InstallmentRow[],
  payment: { amountMinor: number; date: string; now: number },
): Promise<AccruingRepayment> {
  const terms = loanTermsOf(loan) as LoanTermsSnapshot;
  const out = applyRepayment(accrualStateOf(loan, rows), terms, {
    amountMinor: payment.amountMinor,
    date: payment.date,
  });
  const rowsAfter = await writeInstallments(deps, tx, loan.id, rows, out.state.installments, payment.now);
  const loanAfter: LoanRow = {
    ...loan,
    ...loanStateColumns(out.state),
    status: out.settled ? 'SETTLED' : loan.status,
    settled_at: out.settled ? payment.now : null,
  };
  await deps.lending.updateLoanAccrual(tx, loan.id, {
    ...loanStateColumns(out.state),
    status: loanAfter.status,
    settled_at: loanAfter.settled_at,
  });
  const a = out.allocation;
  return {
    allocated: {
      feeMinor: a.feeMinor,
      penaltyMinor: a.penaltyMinor,
      interestMinor: a.interestMinor,
      principalMinor: a.principalMinor,
    },
    accruedInterestMinor: out.accruedInterestMinor,
    loanAfter,
    rowsAfter,
    settled: out.settled,
  };
}

function loanStateColumns(state: AccrualLoanState) {
  return {
    outstanding_principal_minor: state.outstandingPrincipalMinor,
    interest_through: state.interestThrough,
    interest_unpaid_minor: state.interestUnpaidMinor,
    penalty_through: state.penaltyThrough,
    penalty_unpaid_minor: state.penaltyUnpaidMinor,
  };
}

/** What a borrower owes on a daily-accrual loan today, for the loan view (undefined for a monthly 30/360 loan). */
export interface AccrualView {
  readonly dayCount: string;
  readonly dailyRate: number;
  readonly productId: string;
  readonly productVersion: number;
  readonly interestThrough: string;
  readonly owedToday: Owed;
}

export function accrualViewOf(
  loan: LoanRow,
  rows: readonly InstallmentRow[],
  today: string,
): AccrualView | undefined {
  const terms = loanTermsOf(loan);
  if (!terms || loan.status === 'SETTLED') return undefined;
  const state = accrualStateOf(loan, rows);
  // A view dated before the last settlement (a backdated clock) shows the state as of that settlement.
  const asOf = today < state.interestThrough || today < state.penaltyThrough ? maxDate(state) : today;
  return {
    dayCount: terms.dayCount,
    dailyRate: dailyRate(terms.annualRate, terms.dayCount),
    productId: terms.productId,
    productVersion: terms.productVersion,
    interestThrough: state.interestThrough,
    owedToday: owedOn(state, terms, asOf),
  };
}

function maxDate(state: AccrualLoanState): string {
  return state.interestThrough > state.penaltyThrough ? state.interestThrough : state.penaltyThrough;
}

export interface OverdueAccrualResult {
  readonly loansAccrued: number;
  readonly penaltyAccruedMinor: number;
  readonly lateFeesChargedMinor: number;
}

/**
 * `jobs daily`: penalty interest to `asOf` on principal overdue beyond grace, and late fees, on every active
 * daily-accrual loan; each loan in its own dbTx with its row locked and a ledger entry when anything accrued.
 * Re-running for the same date accrues nothing more (penalty_through moves to asOf).
 *
 * Never beyond today: a day not yet begun bears no penalty and no late fee (the borrower may still pay on time), and
 * a penalty_through in the future would refuse every repayment dated today (LG_REPAYMENT_DATE). A job run for a later
 * date (a scheduler ahead of the clock) accrues to today; the rest is accrued when that day comes.
 */
export async function accrueOverdueLoans(
  deps: CoreDeps,
  asOfAsked: string,
  pageSize = 500,
): Promise<OverdueAccrualResult> {
  const today = lenderDayOf(deps.config, deps.clock.now());
  const asOf = asOfAsked > today ? today : asOfAsked;
  let after = '';
  let loansAccrued = 0;
  let penaltyAccruedMinor = 0;
  let lateFeesChargedMinor = 0;
  for (;;) {
    const page = await deps.lending.accruingLoanIds(after, pageSize);
    if (page.length === 0) break;
    after = page[page.length - 1] ?? after;
    for (const id of page) {
      const done = await deps.store.transaction((tx) => accrueOne(deps, tx, id, asOf));
      if (done.penalty + done.lateFees === 0) continue;
      loansAccrued += 1;
      penaltyAccruedMinor += done.penalty;
      lateFeesChargedMinor += done.lateFees;
    }
  }
  return { loansAccrued, penaltyAccruedMinor, lateFeesChargedMinor };
}

async function accrueOne(
  deps: CoreDeps,
  tx: UnitTx,
  loanId: string,
  asOf: string,
): Promise<{ penalty: number; lateFees: number }> {
  const loan = await deps.coreStore.loanInTx(tx, loanId, true);
  const terms = loanTermsOf(loan);
  if (!terms || loan.status !== 'ACTIVE') return { penalty: 0, lateFees: 0 };
  const rows = await deps.coreStore.installmentsInTx(tx, loanId);
  const out = accrueOverdue(accrualStateOf(loan, rows), terms, asOf);
  // Nothing accrued: penalty_through stays, so a repayment may still be dated on any day since (the span is
  // re-accrued later from the same date with the same overdue principal, so nothing is lost).
  if (out.penaltyAccruedMinor + out.lateFeesChargedMinor > 0) {
    await deps.lending.updateLoanAccrual(tx, loanId, {
      penalty_through: out.state.penaltyThrough,
      penalty_unpaid_minor: out.state.penaltyUnpaidMinor,
    });
  }
  if (out.lateFeesChargedMinor > 0)
    await writeInstallments(deps, tx, loanId, rows, out.state.installments, deps.clock.now());
  if (out.penaltyAccruedMinor + out.lateFeesChargedMinor > 0) {
    await appendToLedger(tx, [
      {
        entryId: deps.ids.next(),
        kind: 'loan.overdue_accrual',
        subjectId: loanId,
        recordedAt: deps.clock.now(),
        payload: {
          loanId,
          asOf,
          penaltyMinor: out.penaltyAccruedMinor,
          lateFeesMinor: out.lateFeesChargedMinor,
        },
      },
    ]);
  }
  return { penalty: out.penaltyAccruedMinor, lateFees: out.lateFeesChargedMinor };
}
