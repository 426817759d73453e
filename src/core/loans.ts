import type { UnitGuard } from '../domain/index.js';
import { parseIsoInstant } from '../domain/index.js';
import { lenderDayOf, lenderDayStart } from '../domain/index.js';
import { bucketFor, daysPastDue, DEFAULT_BUCKETS } from '../domain/index.js';
import { LgError } from '../domain/index.js';
import { assertSameCurrency } from '../domain/index.js';
import { appendToLedger } from '../compliance/index.js';
import {
  allocateRepayment,
  itemsAfter,
  payoffOn,
  scheduledTermsFor,
  type Allocation,
  type AllocationItem,
  type ScheduledPayoff,
  type ScheduledTerms,
} from './allocation.js';
import type { CoreDeps, UnitTx } from './deps.js';
import { CORE_EVENTS_TOPIC, coreEvent } from './events.js';
import type { InstallmentRow, LoanRow } from './ports.js';
import { iso } from './views.js';
import { accrualViewOf, repayAccruing, type AccrualView } from './accruing.js';

export interface InstallmentView {
  readonly period: number;
  readonly dueDate: string;
  readonly principalMinor: number;
  readonly interestMinor: number;
  readonly feeMinor: number;
  readonly totalMinor: number;
  readonly paidPrincipalMinor: number;
  readonly paidInterestMinor: number;
  readonly paidFeeMinor: number;
  readonly outstandingMinor: number;
  readonly settled: boolean;
}

export interface LoanView {
  readonly id: string;
  readonly lineId: string;
  readonly drawId: string;
  readonly status: string;
  readonly currency: string;
  readonly principalMinor: number;
  readonly outstandingPrincipalMinor: number;
  readonly annualRate: number;
  readonly termMonths: number;
  readonly method: string;
  readonly startDate: string;
  /** Days past due and bucket as of today (the daily job stores the snapshot and records bucket changes). */
  readonly dpd: number;
  readonly bucket: string;
  readonly disclosure: {
    /** APR in percent, every fee included, under each convention. */
    readonly apr: { readonly US_REGZ: number; readonly EU_CCD: number; readonly CN_IRR: number };
    readonly upfrontFeeMinor: number;
    readonly periodicFeeMinor: number;
    readonly totalInterestMinor: number;
    readonly totalFeesMinor: number;
    readonly totalRepayableMinor: number;
  };
  readonly schedule: InstallmentView[];
  /** Daily-accrual loans: day count, daily rate, and what is owed today (payoff) by component. */
  readonly accrual?: AccrualView;
  /**
   * Loans without a product (monthly, or DAILY_INTEREST), while unsettled: what repaying in full today costs
   * (instalments due in full, the current period's interest to the day, none for periods not begun; allocation.ts)
   * — the amount that settles it.
   */
  readonly payoffToday?: ScheduledPayoff;
  /** 资金用途 as stated at the draw. */
  readonly purpose: string | null;
  readonly createdAt: string;
  readonly settledAt: string | null;
}

function outstandingOf(i: InstallmentRow): number {
  return (
    Number(i.principal_minor) -
    Number(i.paid_principal_minor) +
    Number(i.interest_minor) -
    Number(i.paid_interest_minor) +
    Number(i.fee_minor) -
    Number(i.paid_fee_minor)
  );
}

export function installmentView(i: InstallmentRow): InstallmentView {
  const principal = Number(i.principal_minor);
  const interest = Number(i.interest_minor);
  const fee = Number(i.fee_minor);
  return {
    period: Number(i.period),
    dueDate: i.due_date,
    principalMinor: principal,
    interestMinor: interest,
    feeMinor: fee,
    totalMinor: principal + interest + fee,
    paidPrincipalMinor: Number(i.paid_principal_minor),
    paidInterestMinor: Number(i.paid_interest_minor),
    paidFeeMinor: Number(i.paid_fee_minor),
    outstandingMinor: outstandingOf(i),
    settled: i.settled_at !== null,
  };
}

export function loanDpd(installments: readonly InstallmentRow[], asOfDate: string): number {
  return daysPastDue(
    installments.map((i) => ({ dueDate: i.due_date, outstandingMinor: outstandingOf(i) })),
    asOfDate,
  );
}

export function loanViewOf(
  loan: LoanRow,
  installments: readonly InstallmentRow[],
  asOfDate: string,
  buckets = DEFAULT_BUCKETS,
): LoanView {
  const dpd = loanDpd(installments, asOfDate);
  return {
    id: loan.id,
    lineId: loan.line_id,
    drawId: loan.draw_id,
    status: loan.status,
    currency: loan.currency,
    principalMinor: Number(loan.principal_minor),
    outstandingPrincipalMinor: Number(loan.outstanding_principal_minor),
    annualRate: Number(loan.annual_rate),
    termMonths: Number(loan.term_months),
    method: loan.method,
    startDate: loan.start_date,
    dpd,
    bucket: bucketFor(dpd, buckets).name,
    disclosure: {
      apr: {
        US_REGZ: Number(loan.apr_us_regz),
        EU_CCD: Number(loan.apr_eu_ccd),
        CN_IRR: Number(loan.apr_cn_irr),
      },
      upfrontFeeMinor: Number(loan.upfront_fee_minor),
      periodicFeeMinor: Number(loan.periodic_fee_minor),
      totalInterestMinor: Number(loan.total_interest_minor),
      totalFeesMinor: Number(loan.total_fees_minor),
      totalRepayableMinor: Number(loan.total_repayable_minor),
    },
    schedule: installments.map(installmentView),
    ...optionalAccrual(loan, installments, asOfDate),
    ...optionalPayoff(loan, installments, asOfDate),
    purpose: loan.purpose ?? null,
    createdAt: iso(Number(loan.created_at)),
    settledAt: loan.settled_at === null ? null : iso(Number(loan.settled_at)),
  };
}

function optionalAccrual(
  loan: LoanRow,
  installments: readonly InstallmentRow[],
  asOfDate: string,
): { accrual?: AccrualView } {
  const accrual = accrualViewOf(loan, installments, asOfDate);
  return accrual ? { accrual } : {};
}

function optionalPayoff(
  loan: LoanRow,
  installments: readonly InstallmentRow[],
  asOfDate: string,
): { payoffToday?: ScheduledPayoff } {
  if (loan.terms !== null || loan.status === 'SETTLED') return {};
  // A view dated before the loan or its last prepayment (a backdated clock) shows the payoff as of that day.
  const floor = latest(loan.start_date, loan.interest_through);
  const date = asOfDate < floor ? floor : asOfDate;
  return { payoffToday: payoffOn(toItems(installments), scheduledTermsOf(loan), date) };
}

function latest(a: string, b: string | null | undefined): string {
  return b !== null && b !== undefined && b > a ? b : a;
}

export async function readLoan(deps: CoreDeps, id: string): Promise<LoanView> {
  const [loan, installments] = await Promise.all([deps.coreStore.loan(id), deps.coreStore.installments(id)]);
  return loanViewOf(
    loan,
    installments,
    lenderDayOf(deps.config, deps.clock.now()),
    deps.config.buckets ?? DEFAULT_BUCKETS,
  );
}

export interface RepaymentInput {
  readonly amountMinor: number;
  readonly currency: string;
  /**
   * ISO date or date-time; defaults to now; never before the loan's start nor in the future. Decides which instalments
   * are due and, on a daily-accrual loan, the day interest is charged to. A date is a day of the lender's calendar
   * (CoreConfig.lenderUtcOffsetMinutes), and a date-time is dated by that calendar.
   */
  readonly paidAt?: string;
}

export interface RepaymentResult {
  readonly repaymentId: string;
  readonly loanId: string;
  readonly amountMinor: number;
  readonly currency: string;
  readonly allocated: {
    readonly feeMinor: number;
    /** Penalty interest (罚息) on overdue principal; present on daily-accrual (product) loans only. */
    readonly penaltyMinor?: number;
    readonly interestMinor: number;
    readonly principalMinor: number;
  };
  readonly loan: LoanView;
}

/** The instant a repayment was made: a date-time as given, a date as the first instant of that lender's day. */
function parsePaidAt(deps: CoreDeps, text: string | undefined, now: number): number {
  if (text === undefined) return now;
  const ms = lenderDayStart(deps.config, text) ?? parseIsoInstant(text);
  if (ms === undefined)
    throw new LgError('LG_VALIDATION', 'paidAt must be an ISO date or an RFC 3339 date-time', {
      paidAt: text,
    });
  if (ms > now) throw new LgError('LG_REPAYMENT_DATE', 'paidAt may not be in the future', { paidAt: text });
  return ms;
}

function checkNotBeforeLoan(loan: LoanRow, paidDate: string): void {
  if (paidDate < loan.start_date) {
    throw new LgError(
      'LG_REPAYMENT_DATE',
      `paidAt may not be before the loan started on ${loan.start_date}`,
      {
        paidAt: paidDate,
        startDate: loan.start_date,
      },
    );
  }
}

interface Applied {
  readonly allocated: RepaymentResult['allocated'];
  readonly loanAfter: LoanRow;
  readonly rowsAfter: InstallmentRow[];
  readonly settled: boolean;
}

/**
 * A prepayment re-prices the loan from its date (allocation.ts), so a repayment dated before the last one that did is
 * refused, as on a daily-accrual loan: it would re-price days already settled.
 */
function checkNotBeforePrepayment(loan: LoanRow, paidDate: string): void {
  const through = loan.interest_through;
  if (through !== null && through !== undefined && paidDate < through) {
    throw new LgError('LG_REPAYMENT_DATE', `the repayment date may not be before ${through}`, {
      paidAt: paidDate,
      earliest: through,
    });
  }
}

/** A loan without a product: the waterfall of allocation.ts, interest to the day on what is repaid early. */
async function applyScheduled(
  deps: CoreDeps,
  tx: UnitTx,
  loan: LoanRow,
  rows: readonly InstallmentRow[],
  payment: { amountMinor: number; date: string; now: number },
): Promise<Applied> {
  const { now } = payment;
  checkNotBeforePrepayment(loan, payment.date);
  const alloc = allocateRepayment(toItems(rows), payment, scheduledTermsOf(loan));
  const outstanding = Number(loan.outstanding_principal_minor) - alloc.principalMinor;
  const updated = rowsAfter(rows, alloc, now);
  const settled = updated.every((r) => outstandingOf(r) === 0);
  const status = settled ? 'SETTLED' : loan.status;
  const settledAt = settled ? now : null;
  // The prepayment's date is kept on the loan (interest_through) so that no later repayment is dated before it.
  const interestThrough = alloc.prepaidPrincipalMinor > 0 ? payment.date : loan.interest_through;
  if (alloc.reshaped.length > 0 || alloc.prepaidPrincipalMinor > 0) {
    await deps.lending.replaceInstallments(tx, loan.id, updated);
    await deps.lending.updateLoanAccrual(tx, loan.id, {
      outstanding_principal_minor: outstanding,
      interest_through: interestThrough,
      status,
      settled_at: settledAt,
    });
  } else {
    await writePaid(deps, tx, loan.id, updated, alloc);
    await deps.coreStore.setLoanBalanceInTx(tx, {
      id: loan.id,
      outstandingPrincipalMinor: outstanding,
      status,
      settledAt,
    });
  }
  return {
    allocated: {
      feeMinor: alloc.feeMinor,
      interestMinor: alloc.interestMinor,
      principalMinor: alloc.principalMinor,
    },
    loanAfter: {
      ...loan,
      outstanding_principal_minor: outstanding,
      interest_through: interestThrough,
      status,
      settled_at: settledAt,
    },
    rowsAfter: updated,
    settled,
  };
}

export function scheduledTermsOf(loan: LoanRow): ScheduledTerms {
  return scheduledTermsFor(loan.start_date, Number(loan.annual_rate), loan.method);
}

function toItems(rows: readonly InstallmentRow[]): AllocationItem[] {
  return rows.map((i) => ({
    period: Number(i.period),
    dueDate: i.due_date,
    feeMinor: Number(i.fee_minor),
    interestMinor: Number(i.interest_minor),
    principalMinor: Number(i.principal_minor),
    paidFeeMinor: Number(i.paid_fee_minor),
    paidInterestMinor: Number(i.paid_interest_minor),
    paidPrincipalMinor: Number(i.paid_principal_minor),
  }));
}

/** The instalment rows after an allocation: what was paid, what a prepayment re-priced, and when each settled. */
function rowsAfter(rows: readonly InstallmentRow[], alloc: Allocation, now: number): InstallmentRow[] {
  const after = itemsAfter(toItems(rows), alloc);
  return rows.map((r, k) => {
    const i = after[k] as AllocationItem;
    const next: InstallmentRow = {
      ...r,
      interest_minor: i.interestMinor,
      fee_minor: i.feeMinor,
      paid_fee_minor: i.paidFeeMinor,
      paid_interest_minor: i.paidInterestMinor,
      paid_principal_minor: i.paidPrincipalMinor,
    };
    return { ...next, settled_at: outstandingOf(next) === 0 ? (r.settled_at ?? now) : null };
  });
}

/** Only the paid columns changed: the instalments paid into, one update each. */
async function writePaid(
  deps: CoreDeps,
  tx: UnitTx,
  loanId: string,
  rows: readonly InstallmentRow[],
  alloc: Allocation,
): Promise<void> {
  for (const part of alloc.perPeriod) {
    const row = rows.find((r) => Number(r.period) === part.period);
    if (!row) continue;
    await deps.coreStore.setInstallmentPaidInTx(tx, {
      loanId,
      period: part.period,
      feeMinor: Number(row.paid_fee_minor),
      interestMinor: Number(row.paid_interest_minor),
      principalMinor: Number(row.paid_principal_minor),
      settledAt: row.settled_at,
    });
  }
}

/**
 * Records a repayment: allocation (see allocation.ts), the instalments, the loan balance, and the line — repaid
 * principal restores available credit, computed from the row's own balance in the statement so concurrent draws are
 * never lost — with the ledger entry and a 'repayment' event, in one dbTx.
 */
export async function repay(
  deps: CoreDeps,
  loanId: string,
  input: RepaymentInput,
  guard?: UnitGuard<RepaymentResult>,
): Promise<RepaymentResult> {
  const now = deps.clock.now();
  const paidAt = parsePaidAt(deps, input.paidAt, now);
  const paidDate = lenderDayOf(deps.config, paidAt);
  const ids = { repayment: deps.ids.next(), event: deps.ids.next() };
  return deps.store.transaction(async (tx) => {
    const loan = await deps.coreStore.loanInTx(tx, loanId, true);
    assertSameCurrency(
      { amountMinor: 0, currency: loan.currency },
      { amountMinor: input.amountMinor, currency: input.currency },
    );
    if (loan.status === 'SETTLED')
      throw new LgError('LG_LOAN_SETTLED', 'this loan is already repaid in full', { loanId });
    checkNotBeforeLoan(loan, paidDate);
    const rows = await deps.coreStore.installmentsInTx(tx, loanId);
    const payment = { amountMinor: input.amountMinor, date: paidDate, now };
    const applied =
      loan.terms !== null
        ? await repayAccruing(deps, tx, loan, rows, payment)
        : await applyScheduled(deps, tx, loan, rows, payment);
    const { allocated, settled } = applied;
    if (allocated.principalMinor > 0)
      await deps.coreStore.restoreLineCreditInTx(tx, loan.line_id, allocated.principalMinor, now);
    await deps.coreStore.insertRepaymentInTx(tx, {
      id: ids.repayment,
      loan_id: loanId,
      line_id: loan.line_id,
      amount_minor: input.amountMinor,
      currency: input.currency,
      paid_at: paidAt,
      fee_minor: allocated.feeMinor,
      interest_minor: allocated.interestMinor,
      principal_minor: allocated.principalMinor,
      penalty_minor: allocated.penaltyMinor ?? 0,
      created_at: now,
    });
    await appendToLedger(tx, [
      {
        entryId: ids.repayment,
        kind: 'loan.repayment',
        subjectId: loanId,
        recordedAt: now,
        payload: {
          repaymentId: ids.repayment,
          loanId,
          lineId: loan.line_id,
          amountMinor: input.amountMinor,
          currency: input.currency,
          paidAt,
          allocated,
          settled,
        },
      },
    ]);
    const event = coreEvent({
      eventId: ids.event,
      type: 'repayment',
      at: paidAt,
      userId: loan.borrower_id,
      lineId: loan.line_id,
      loanId,
      amount: input.amountMinor,
      currency: input.currency,
    });
    await deps.coreStore.insertOutboxInTx(tx, [
      { id: ids.event, topic: CORE_EVENTS_TOPIC, payload: event, at: now },
    ]);
    return {
      repaymentId: ids.repayment,
      loanId,
      amountMinor: input.amountMinor,
      currency: input.currency,
      allocated,
      loan: loanViewOf(
        applied.loanAfter,
        applied.rowsAfter,
        lenderDayOf(deps.config, now),
        deps.config.buckets ?? DEFAULT_BUCKETS,
      ),
    };
  }, guard);
}
