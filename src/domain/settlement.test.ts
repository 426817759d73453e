import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { dailyInterestMinor } from './accrual.js';
import { buildSchedule, MONTHLY_METHODS, type RepaymentMethod } from './schedule.js';
import {
  accrueOverdue,
  applyRepayment,
  isSettled,
  newAccrualState,
  owedOn,
  type AccrualLoanState,
  type AccrualTerms,
  type PrepaymentMode,
} from './settlement.js';
import { LgError } from './errors.js';
import type { DayCountBasis } from './day-count.js';

const START = '2026-01-15';

function termsOf(over: Partial<AccrualTerms> = {}): AccrualTerms {
  return {
    annualRate: 0.1825,
    method: 'DAILY_INTEREST',
    dayCount: 'ACT_365',
    basis: 'ACT_365',
    periodicFeeMinor: 0,
    graceDays: 3,
    prepayment: 'REAMORTISE',
    lateFeeMinor: 0,
    lateFeeCapMinor: 0,
    penaltyMultiplier: 1.5,
    aprCapPercent: 24,
    ...over,
  };
}

function loanOf(principalMinor: number, terms: AccrualTerms, termMonths = 12): AccrualLoanState {
  const schedule = buildSchedule({
    principalMinor,
    annualRate: terms.annualRate,
    termMonths,
    method: terms.method,
    startDate: START,
    dayCount: terms.dayCount,
    periodicFeeMinor: terms.periodicFeeMinor,
  });
  return newAccrualState(schedule, START);
}

function plusDays(date: string, days: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);
}

describe('repay any time (随借随还)', () => {
  it('the worked example: ¥10,000 repaid after 10 days costs exactly 10 days of interest (¥50.00)', () => {
    const terms = termsOf();
    const loan = loanOf(1_000_000, terms);
    const day10 = plusDays(START, 10);
    expect(owedOn(loan, terms, day10).payoffMinor).toBe(1_005_000);
    const out = applyRepayment(loan, terms, { amountMinor: 1_005_000, date: day10 });
    expect(out.allocation).toMatchObject({
      interestMinor: 5_000,
      principalMinor: 1_000_000,
      penaltyMinor: 0,
    });
    expect(out.settled).toBe(true);
  });

  it('repaying on the day of the draw costs no interest', () => {
    const terms = termsOf({ method: 'EQUAL_INSTALLMENT' });
    const loan = loanOf(1_200_000, terms);
    const out = applyRepayment(loan, terms, { amountMinor: 1_200_000, date: START });
    expect(out.allocation.interestMinor).toBe(0);
    expect(out.settled).toBe(true);
    expect(out.state.installments).toHaveLength(0);
  });

  it('refuses more than the payoff, and a date before the last settlement', () => {
    const terms = termsOf();
    const loan = loanOf(1_000_000, terms);
    expect(() => applyRepayment(loan, terms, { amountMinor: 1_000_501, date: plusDays(START, 1) })).toThrow(
      expect.objectContaining({ code: 'LG_OVERPAYMENT' }) as unknown as Error,
    );
    const after = applyRepayment(loan, terms, { amountMinor: 100_000, date: plusDays(START, 5) }).state;
    try {
      applyRepayment(after, terms, { amountMinor: 100, date: plusDays(START, 4) });
      expect.unreachable();
    } catch (e) {
      expect((e as LgError).code).toBe('LG_REPAYMENT_DATE');
    }
  });

  it('a partial prepayment of an instalment loan re-amortises, or shortens when the product says so', () => {
    const base = termsOf({ method: 'EQUAL_INSTALLMENT' });
    const loan = loanOf(1_200_000, base);
    const date = plusDays(START, 40); // after the first due date (2026-02-15), before the second
    const firstDue = owedOn(loan, base, date);
    expect(firstDue.penaltyMinor).toBeGreaterThan(0); // 6 days past the 3-day grace
    const amount =
      firstDue.feeMinor +
      firstDue.penaltyMinor +
      firstDue.interestMinor +
      firstDue.principalDueMinor +
      300_000;
    const re = applyRepayment(loan, base, { amountMinor: amount, date });
    expect(re.allocation.prepaidPrincipalMinor).toBe(300_000);
    expect(re.state.installments).toHaveLength(12);
    const sh = applyRepayment(loan, { ...base, prepayment: 'SHORTEN' }, { amountMinor: amount, date });
    expect(sh.state.installments.length).toBeLessThan(12);
    for (const out of [re, sh]) {
      const scheduled = out.state.installments
        .filter((i) => i.dueDate > date)
        .reduce((s, i) => s + i.principalMinor, 0);
      expect(scheduled).toBe(out.state.outstandingPrincipalMinor);
    }
  });
});

describe('overdue', () => {
  it('accrues penalty from the day after grace and a capped late fee once per instalment', () => {
    const terms = termsOf({ method: 'EQUAL_PRINCIPAL', lateFeeMinor: 5_000, lateFeeCapMinor: 8_000 });
    const loan = loanOf(1_200_000, terms, 3);
    const due1 = loan.installments[0]?.dueDate ?? '';
    const day = (n: number) => plusDays(due1, n);
    const inGrace = accrueOverdue(loan, terms, day(3));
    expect(inGrace.penaltyAccruedMinor).toBe(0);
    expect(inGrace.lateFeesChargedMinor).toBe(0);
    const lapsed = accrueOverdue(inGrace.state, terms, day(4));
    // 400,000 overdue × 0.09125 / 365 = 100 a day; the 24% cap leaves room for 5.75%: 63.01 -> 63.
    expect(lapsed.penaltyAccruedMinor).toBe(dailyInterestMinor(400_000, 0.24 - 0.1825, 'ACT_365'));
    expect(lapsed.lateFeesChargedMinor).toBe(5_000);
    const again = accrueOverdue(lapsed.state, terms, day(5));
    expect(again.lateFeesChargedMinor).toBe(0);
    const due2 = loan.installments[1]?.dueDate ?? '';
    const second = accrueOverdue(again.state, terms, plusDays(due2, 4));
    expect(second.lateFeesChargedMinor).toBe(3_000); // the cap leaves 3,000
  });
});

type Op = { days: number; share: number };

describe('property: any sequence of repayments on any dates', () => {
  it('conserves principal to the cent, charges exactly the sum of daily accruals, never a day after a payment', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 50_000_00 }),
        fc.integer({ min: 0, max: 240_000 }).map((x) => x / 1_000_000),
        fc.constantFrom<DayCountBasis>('ACT_365', 'ACT_360'),
        fc.constantFrom<RepaymentMethod>(...MONTHLY_METHODS, 'DAILY_INTEREST'),
        fc.constantFrom<PrepaymentMode>('REAMORTISE', 'SHORTEN'),
        fc.integer({ min: 1, max: 12 }),
        fc.array(
          fc.record({
            days: fc.integer({ min: 0, max: 60 }),
            share: fc.double({ min: 0, max: 1, noNaN: true }),
          }),
          {
            maxLength: 8,
          },
        ),
        (principal, annualRate, basis, method, prepayment, termMonths, ops: Op[]) => {
          const terms = termsOf({
            annualRate,
            dayCount: basis,
            basis,
            method,
            prepayment,
            aprCapPercent: 1000,
          });
          let state = loanOf(principal, terms, termMonths);
          let date = START;
          let principalPaid = 0;
          let interestPaid = 0;
          let expectedInterest = 0;
          for (const op of ops) {
            const next = plusDays(date, op.days);
            // The reference: each day after the last payment accrues on the balance at its start.
            expectedInterest +=
              op.days * dailyInterestMinor(state.outstandingPrincipalMinor, annualRate, basis);
            const owed = owedOn(state, terms, next);
            const amount = Math.max(1, Math.floor(owed.payoffMinor * op.share));
            if (owed.payoffMinor === 0) break;
            const out = applyRepayment(state, terms, {
              amountMinor: Math.min(amount, owed.payoffMinor),
              date: next,
            });
            // Never charged for a day after the payment: what it accrued is the days up to it, no more.
            expect(out.accruedInterestMinor).toBe(
              op.days * dailyInterestMinor(state.outstandingPrincipalMinor, annualRate, basis),
            );
            principalPaid += out.allocation.principalMinor;
            interestPaid += out.allocation.interestMinor;
            state = out.state;
            date = next;
            expect(principalPaid + state.outstandingPrincipalMinor).toBe(principal);
            expect(interestPaid + state.interestUnpaidMinor).toBe(expectedInterest);
            expect(state.outstandingPrincipalMinor).toBeGreaterThanOrEqual(0);
            const scheduledPrincipal = state.installments.reduce(
              (s, i) => s + i.principalMinor - i.paidPrincipalMinor,
              0,
            );
            expect(scheduledPrincipal).toBe(state.outstandingPrincipalMinor);
          }
          // Paying off everything today settles the loan: no interest for any later day.
          const payoff = owedOn(state, terms, date).payoffMinor;
          if (payoff > 0) {
            const last = applyRepayment(state, terms, { amountMinor: payoff, date });
            expect(last.settled).toBe(true);
            expect(last.allocation.principalMinor + principalPaid).toBe(principal);
            expect(last.allocation.interestMinor + interestPaid).toBe(expectedInterest);
          }
        },
      ),
      { numRuns: 400 },
    );
  });
});

describe('property: the schedule is what the borrower owes on each due date', () => {
  it("each instalment's interest is its period's accrual, and paying each on its date settles the loan", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 50_000_00 }),
        fc.integer({ min: 0, max: 240_000 }).map((x) => x / 1_000_000),
        fc.constantFrom<DayCountBasis>('ACT_365', 'ACT_360'),
        fc.constantFrom<RepaymentMethod>(...MONTHLY_METHODS, 'DAILY_INTEREST'),
        fc.integer({ min: 1, max: 24 }),
        fc.integer({ min: 0, max: 500 }),
        (principal, annualRate, basis, method, termMonths, periodicFeeMinor) => {
          const terms = termsOf({ annualRate, dayCount: basis, basis, method, periodicFeeMinor });
          let state = loanOf(principal, terms, termMonths);
          const schedule = state.installments;
          let balance = principal;
          let from = START;
          for (const i of schedule) {
            const days = (Date.parse(i.dueDate) - Date.parse(from)) / 86_400_000;
            expect(i.interestMinor).toBe(days * dailyInterestMinor(balance, annualRate, basis));
            balance -= i.principalMinor;
            from = i.dueDate;
          }
          for (const i of schedule) {
            if (i.principalMinor + i.interestMinor + i.feeMinor === 0) continue; // nothing due that day
            // Paid off: later periodic fees are not owed (no charge for periods that never run).
            if (isSettled(state)) break;
            const out = applyRepayment(state, terms, {
              amountMinor: i.principalMinor + i.interestMinor + i.feeMinor,
              date: i.dueDate,
            });
            expect(out.allocation).toMatchObject({
              interestMinor: i.interestMinor,
              feeMinor: i.feeMinor,
              principalMinor: i.principalMinor,
              penaltyMinor: 0,
              prepaidPrincipalMinor: 0,
            });
            state = out.state;
          }
          expect(state.outstandingPrincipalMinor).toBe(0);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('property: repayments interleaved with the daily job, fees and late fees', () => {
  it('every payment is split to the fen, no component is paid beyond what is owed, a payoff ends all charges', () => {
    const neverOverpaid = (state: AccrualLoanState): void => {
      for (const i of state.installments) {
        expect(i.paidFeeMinor).toBeLessThanOrEqual(i.feeMinor);
        expect(i.paidInterestMinor).toBeLessThanOrEqual(i.interestMinor);
        expect(i.paidPrincipalMinor).toBeLessThanOrEqual(i.principalMinor);
        expect(Math.min(i.paidFeeMinor, i.paidInterestMinor, i.paidPrincipalMinor)).toBeGreaterThanOrEqual(0);
      }
      expect(Math.min(state.interestUnpaidMinor, state.penaltyUnpaidMinor)).toBeGreaterThanOrEqual(0);
    };
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 50_000_00 }),
        fc.integer({ min: 0, max: 240_000 }).map((x) => x / 1_000_000),
        fc.constantFrom<RepaymentMethod>(...MONTHLY_METHODS, 'DAILY_INTEREST'),
        fc.constantFrom<PrepaymentMode>('REAMORTISE', 'SHORTEN'),
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 0, max: 500 }),
        fc.integer({ min: 0, max: 3_000 }),
        fc.array(
          fc.record({
            days: fc.integer({ min: 0, max: 70 }),
            share: fc.double({ min: 0, max: 1, noNaN: true }),
            job: fc.boolean(),
          }),
          { maxLength: 10 },
        ),
        (principal, annualRate, method, prepayment, termMonths, periodicFeeMinor, lateFeeMinor, ops) => {
          const terms = termsOf({
            annualRate,
            method,
            prepayment,
            periodicFeeMinor,
            lateFeeMinor,
            lateFeeCapMinor: 2 * lateFeeMinor,
          });
          let state = loanOf(principal, terms, termMonths);
          let date = START;
          let principalPaid = 0;
          for (const op of ops) {
            date = plusDays(date, op.days);
            if (op.job) {
              // As core/accruing.ts stores it: the state moves only when something accrued.
              const job = accrueOverdue(state, terms, date);
              if (job.penaltyAccruedMinor + job.lateFeesChargedMinor > 0) state = job.state;
              neverOverpaid(state);
            }
            const owed = owedOn(state, terms, date);
            if (owed.payoffMinor === 0) break;
            const amountMinor = Math.min(
              owed.payoffMinor,
              Math.max(1, Math.floor(owed.payoffMinor * op.share)),
            );
            const out = applyRepayment(state, terms, { amountMinor, date });
            const a = out.allocation;
            expect(a.feeMinor + a.penaltyMinor + a.interestMinor + a.principalMinor).toBe(amountMinor);
            principalPaid += a.principalMinor;
            state = out.state;
            neverOverpaid(state);
            expect(principalPaid + state.outstandingPrincipalMinor).toBe(principal);
          }
          const payoff = owedOn(state, terms, date).payoffMinor;
          if (payoff === 0) return;
          const last = applyRepayment(state, terms, { amountMinor: payoff, date });
          expect(last.settled).toBe(true);
          expect(principalPaid + last.allocation.principalMinor).toBe(principal);
          expect(owedOn(last.state, terms, plusDays(date, 100)).payoffMinor).toBe(0);
        },
      ),
      { numRuns: 400 },
    );
  });
});
