import { accrueMinor, accruePenaltyMinor, penaltyStartDay, type PenaltyTerms } from './accrual.js';
import { dayNumberOf, type DayCountBasis } from './day-count.js';
import { LgError } from './errors.js';
import { projectInstallments, type Installment, type RepaymentMethod } from './schedule.js';

/**
 * Repayment of a daily-accrual loan on a date (pure). The loan's truth is its outstanding principal, the date interest
 * was last settled to, and any interest or penalty accrued but unpaid; its instalments are the schedule of what is
 * still owed. A repayment on date d:
 *  1. accrues contract interest on the outstanding principal for the days after the last settlement up to d (never a
 *     day after d: no interest for days not yet elapsed) and penalty interest on principal overdue beyond grace;
 *  2. pays, in this order: fees due, penalty interest, interest, principal due, then principal not yet due
 *     (an early repayment);
 *  3. re-projects the instalments not yet due from d on the new balance: re-amortised over the same dates, or, when
 *     the product says SHORTEN, with the same principal parts and the prepayment taken from the last ones.
 * Paying more than the payoff amount is refused (LG_OVERPAYMENT), as in allocation.ts.
 */
export const PREPAYMENT_MODES = ['REAMORTISE', 'SHORTEN'] as const;
export type PrepaymentMode = (typeof PREPAYMENT_MODES)[number];

export interface AccrualTerms extends PenaltyTerms {
  readonly method: RepaymentMethod;
  readonly dayCount: DayCountBasis;
  readonly periodicFeeMinor: number;
  readonly graceDays: number;
  readonly prepayment: PrepaymentMode;
  /** Charged once on an instalment overdue beyond grace; the loan's late fees never exceed lateFeeCapMinor. */
  readonly lateFeeMinor: number;
  readonly lateFeeCapMinor: number;
}

export interface InstallmentState {
  readonly period: number;
  readonly dueDate: string;
  readonly principalMinor: number;
  readonly interestMinor: number;
  readonly feeMinor: number;
  readonly paidPrincipalMinor: number;
  readonly paidInterestMinor: number;
  readonly paidFeeMinor: number;
  /** The part of feeMinor that is a late fee (0 until the instalment is overdue beyond grace). */
  readonly lateFeeMinor: number;
}

/** A scheduled instalment as its state before anything is paid on it. */
function unpaid(i: Installment): InstallmentState {
  return {
    period: i.period,
    dueDate: i.dueDate,
    principalMinor: i.principalMinor,
    interestMinor: i.interestMinor,
    feeMinor: i.feeMinor,
    paidPrincipalMinor: 0,
    paidInterestMinor: 0,
    paidFeeMinor: 0,
    lateFeeMinor: 0,
  };
}

export interface AccrualLoanState {
  readonly outstandingPrincipalMinor: number;
  /** Contract interest is settled (paid or carried in interestUnpaidMinor) through this date. */
  readonly interestThrough: string;
  readonly interestUnpaidMinor: number;
  readonly penaltyThrough: string;
  readonly penaltyUnpaidMinor: number;
  readonly installments: readonly InstallmentState[];
}

export interface RepaymentAllocation {
  readonly feeMinor: number;
  readonly penaltyMinor: number;
  readonly interestMinor: number;
  readonly principalMinor: number;
  /** Principal paid before its due date. */
  readonly prepaidPrincipalMinor: number;
}

export interface RepaymentOutcome {
  readonly allocation: RepaymentAllocation;
  readonly state: AccrualLoanState;
  /** Interest and penalty that accrued up to the payment date (what the borrower was charged for time). */
  readonly accruedInterestMinor: number;
  readonly accruedPenaltyMinor: number;
  readonly settled: boolean;
}

const unpaidFee = (i: InstallmentState): number => i.feeMinor - i.paidFeeMinor;
const unpaidInterest = (i: InstallmentState): number => i.interestMinor - i.paidInterestMinor;
const unpaidPrincipal = (i: InstallmentState): number => i.principalMinor - i.paidPrincipalMinor;
const outstanding = (i: InstallmentState): number => unpaidFee(i) + unpaidInterest(i) + unpaidPrincipal(i);

function dueBy(state: AccrualLoanState, date: string): InstallmentState[] {
  return state.installments.filter((i) => i.dueDate <= date && outstanding(i) > 0);
}

/** Refuses a date the loan's accruals have already passed: a backdated payment would re-price settled days. */
export function checkRepaymentDate(state: AccrualLoanState, date: string): void {
  dayNumberOf(date, 'paidAt');
  const floor = state.penaltyThrough > state.interestThrough ? state.penaltyThrough : state.interestThrough;
  if (date < floor) {
    throw new LgError('LG_REPAYMENT_DATE', `the repayment date may not be before ${floor}`, {
      paidAt: date,
      earliest: floor,
    });
  }
}

/** What the borrower owes on a date if nothing else happens: the payoff amount and its parts. */
export interface Owed {
  readonly feeMinor: number;
  readonly penaltyMinor: number;
  readonly interestMinor: number;
  readonly principalDueMinor: number;
  readonly principalMinor: number;
  readonly payoffMinor: number;
  readonly accruedInterestMinor: number;
  readonly accruedPenaltyMinor: number;
}

export function owedOn(state: AccrualLoanState, terms: AccrualTerms, date: string): Owed {
  checkRepaymentDate(state, date);
  const due = dueBy(state, date);
  const accruedInterestMinor = accrueMinor(
    state.outstandingPrincipalMinor,
    terms.annualRate,
    terms.dayCount,
    {
      from: state.interestThrough,
      to: date,
    },
  );
  const accruedPenaltyMinor = accruePenaltyMinor(
    state.installments.map((i) => ({ dueDate: i.dueDate, unpaidPrincipalMinor: unpaidPrincipal(i) })),
    { from: state.penaltyThrough, to: date },
    terms,
  );
  const feeMinor = due.reduce((s, i) => s + unpaidFee(i), 0);
  const penaltyMinor = state.penaltyUnpaidMinor + accruedPenaltyMinor;
  const interestMinor = state.interestUnpaidMinor + accruedInterestMinor;
  const principalDueMinor = due.reduce((s, i) => s + unpaidPrincipal(i), 0);
  const principalMinor = state.outstandingPrincipalMinor;
  return {
    feeMinor,
    penaltyMinor,
    interestMinor,
    principalDueMinor,
    principalMinor,
    payoffMinor: feeMinor + penaltyMinor + interestMinor + principalMinor,
    accruedInterestMinor,
    accruedPenaltyMinor,
  };
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** Pays `amount` into a component of the due instalments, oldest first; returns what was taken. */
function payInto(
  rows: Mutable<InstallmentState>[],
  amount: number,
  component: 'Fee' | 'Interest' | 'Principal',
): number {
  let left = amount;
  for (const row of rows) {
    if (left === 0) break;
    const owed = row[`${lower(component)}Minor`] - row[`paid${component}Minor`];
    const take = Math.min(left, owed);
    row[`paid${component}Minor`] += take;
    left -= take;
  }
  return amount - left;
}

function lower(c: 'Fee' | 'Interest' | 'Principal'): 'fee' | 'interest' | 'principal' {
  return c === 'Fee' ? 'fee' : c === 'Interest' ? 'interest' : 'principal';
}

export function applyRepayment(
  state: AccrualLoanState,
  terms: AccrualTerms,
  payment: { amountMinor: number; date: string },
): RepaymentOutcome {
  const { amountMinor, date } = payment;
  if (!Number.isSafeInteger(amountMinor) || amountMinor <= 0) {
    throw new LgError('LG_INVALID_MONEY', 'amountMinor must be a positive integer of minor units', {
      amountMinor,
    });
  }
  const owed = owedOn(state, terms, date);
  if (amountMinor > owed.payoffMinor) {
    throw new LgError(
      'LG_OVERPAYMENT',
      `the payment exceeds the ${owed.payoffMinor} minor units owed today`,
      {
        amountMinor,
        owedMinor: owed.payoffMinor,
      },
    );
  }
  const rows = state.installments.map((i) => ({ ...i }));
  const due = rows.filter((i) => i.dueDate <= date && outstanding(i) > 0);
  let left = amountMinor;
  const feeMinor = payInto(due, left, 'Fee');
  left -= feeMinor;
  const penaltyMinor = Math.min(left, owed.penaltyMinor);
  left -= penaltyMinor;
  const interestMinor = Math.min(left, owed.interestMinor);
  left -= interestMinor;
  // Interest paid is shown against the due instalments first; the rest was the current period's accrual.
  payInto(due, interestMinor, 'Interest');
  const principalDuePaid = payInto(due, left, 'Principal');
  left -= principalDuePaid;
  const prepaidPrincipalMinor = left;
  const principalMinor = principalDuePaid + prepaidPrincipalMinor;
  const outstandingPrincipalMinor = state.outstandingPrincipalMinor - principalMinor;
  const interestUnpaidMinor = owed.interestMinor - interestMinor;
  const kept = rows.filter((i) => i.dueDate <= date);
  const future = state.installments.filter((i) => i.dueDate > date);
  const carried = Math.max(0, interestUnpaidMinor - kept.reduce((s, i) => s + unpaidInterest(i), 0));
  const nextState: AccrualLoanState = {
    outstandingPrincipalMinor,
    interestThrough: date,
    interestUnpaidMinor,
    penaltyThrough: date,
    penaltyUnpaidMinor: owed.penaltyMinor - penaltyMinor,
    installments: [
      ...kept,
      ...reproject({ kept, future, terms, date, carried, outstandingPrincipalMinor, prepaidPrincipalMinor }),
    ],
  };
  return {
    allocation: { feeMinor, penaltyMinor, interestMinor, principalMinor, prepaidPrincipalMinor },
    state: nextState,
    accruedInterestMinor: owed.accruedInterestMinor,
    accruedPenaltyMinor: owed.accruedPenaltyMinor,
    settled: isSettled(nextState),
  };
}

export function isSettled(state: AccrualLoanState): boolean {
  return (
    state.outstandingPrincipalMinor === 0 &&
    state.interestUnpaidMinor === 0 &&
    state.penaltyUnpaidMinor === 0 &&
    state.installments.every((i) => outstanding(i) === 0)
  );
}

interface Reprojection {
  readonly kept: readonly InstallmentState[];
  readonly future: readonly InstallmentState[];
  readonly terms: AccrualTerms;
  readonly date: string;
  readonly carried: number;
  readonly outstandingPrincipalMinor: number;
  readonly prepaidPrincipalMinor: number;
}

/** The instalments after the payment date, projected from it on the principal not already due. */
function reproject(r: Reprojection): InstallmentState[] {
  const balance = r.outstandingPrincipalMinor - r.kept.reduce((s, i) => s + unpaidPrincipal(i), 0);
  if (r.future.length === 0 || (balance === 0 && r.carried === 0)) return [];
  // Without a prepayment the instalments keep their principal; with one, the product decides how the term changes.
  const keepParts = r.prepaidPrincipalMinor === 0 || r.terms.prepayment === 'SHORTEN';
  const parts = keepParts ? shortenedParts(r.future, r.prepaidPrincipalMinor) : undefined;
  // Shortening drops the instalments whose principal the prepayment covered in full.
  const keepCount = parts ? Math.max(1, lastNonZero(parts) + 1) : r.future.length;
  const projected: Installment[] = projectInstallments({
    balanceMinor: balance,
    fromDate: r.date,
    dueDates: r.future.slice(0, keepCount).map((i) => i.dueDate),
    method: r.terms.method,
    annualRate: r.terms.annualRate,
    dayCount: r.terms.dayCount,
    periodicFeeMinor: r.terms.periodicFeeMinor,
    firstPeriod: r.future[0]?.period ?? 1,
    carriedInterestMinor: r.carried,
    ...(parts ? { principalParts: parts.slice(0, keepCount) } : {}),
  });
  return projected.map(unpaid);
}

function lastNonZero(parts: readonly number[]): number {
  for (let k = parts.length - 1; k >= 0; k -= 1) if ((parts[k] ?? 0) > 0) return k;
  return -1;
}

/** The future instalments' principal with the prepayment taken from the last ones first (the term shortens). */
function shortenedParts(future: readonly InstallmentState[], prepaid: number): number[] {
  const parts = future.map((i) => unpaidPrincipal(i));
  let left = prepaid;
  for (let k = parts.length - 1; k >= 0 && left > 0; k -= 1) {
    const take = Math.min(left, parts[k] ?? 0);
    parts[k] = (parts[k] ?? 0) - take;
    left -= take;
  }
  return parts;
}

export interface DailyAccrualOutcome {
  readonly state: AccrualLoanState;
  readonly penaltyAccruedMinor: number;
  readonly lateFeesChargedMinor: number;
}

/**
 * The daily job on one loan: penalty interest to `asOf` on principal overdue beyond grace, and the late fee on each
 * instalment that just passed its grace period (once per instalment, the loan's late fees capped by the product).
 */
export function accrueOverdue(
  state: AccrualLoanState,
  terms: AccrualTerms,
  asOf: string,
): DailyAccrualOutcome {
  if (asOf <= state.penaltyThrough) return { state, penaltyAccruedMinor: 0, lateFeesChargedMinor: 0 };
  const penaltyAccruedMinor = accruePenaltyMinor(
    state.installments.map((i) => ({ dueDate: i.dueDate, unpaidPrincipalMinor: unpaidPrincipal(i) })),
    { from: state.penaltyThrough, to: asOf },
    terms,
  );
  const asOfDay = dayNumberOf(asOf, 'asOf');
  let lateFeesSoFar = state.installments.reduce((s, i) => s + i.lateFeeMinor, 0);
  let lateFeesChargedMinor = 0;
  const installments = state.installments.map((i) => {
    const lapsed = penaltyStartDay(i.dueDate, terms.graceDays) <= asOfDay;
    if (!lapsed || i.lateFeeMinor > 0 || outstanding(i) === 0) return i;
    const fee = Math.max(0, Math.min(terms.lateFeeMinor, terms.lateFeeCapMinor - lateFeesSoFar));
    if (fee === 0) return i;
    lateFeesSoFar += fee;
    lateFeesChargedMinor += fee;
    return { ...i, feeMinor: i.feeMinor + fee, lateFeeMinor: fee };
  });
  return {
    state: {
      ...state,
      penaltyThrough: asOf,
      penaltyUnpaidMinor: state.penaltyUnpaidMinor + penaltyAccruedMinor,
      installments,
    },
    penaltyAccruedMinor,
    lateFeesChargedMinor,
  };
}

/** The state of a loan just disbursed on startDate with its daily-accrual schedule. */
export function newAccrualState(
  schedule: { installments: readonly Installment[]; totalPrincipalMinor: number },
  startDate: string,
): AccrualLoanState {
  return {
    outstandingPrincipalMinor: schedule.totalPrincipalMinor,
    interestThrough: startDate,
    interestUnpaidMinor: 0,
    penaltyThrough: startDate,
    penaltyUnpaidMinor: 0,
    installments: schedule.installments.map(unpaid),
  };
}
