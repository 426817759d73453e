import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  allocateRepayment,
  itemsAfter,
  payoffOn,
  scheduledTermsFor,
  unpaidItems,
  type AllocationItem,
} from '../../src/core/allocation.js';
import { accrueMinor, buildSchedule, isoDay, parseIsoDay } from '../../src/domain/index.js';

/**
 * A DAILY_INTEREST loan without a product (core/allocation.ts with daily accrual): for any partial repayments on any
 * days before maturity and a payoff after them, the interest charged is exactly the daily accrual (ACT/365) on the
 * principal outstanding each day — the same figure a product's daily loan charges (domain/accrual.ts).
 */
const START = '2025-03-01';
const plusDays = (days: number) => isoDay((parseIsoDay(START) ?? 0) + days);

function booked(principalMinor: number, annualRate: number, termMonths: number): AllocationItem[] {
  const schedule = buildSchedule({
    principalMinor,
    annualRate,
    termMonths,
    method: 'DAILY_INTEREST',
    startDate: START,
  });
  return unpaidItems(schedule.installments);
}

describe('DAILY_INTEREST without a product: interest is the sum of daily accruals', () => {
  it('for any prepayments and a payoff, before maturity', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 50_000_000 }),
        fc.integer({ min: 0, max: 240_000 }).map((bp) => bp / 1_000_000),
        fc.constantFrom(1, 3, 6, 12),
        fc.array(fc.tuple(fc.integer({ min: 0, max: 20 }), fc.double({ min: 0, max: 0.9, noNaN: true })), {
          maxLength: 5,
        }),
        fc.integer({ min: 0, max: 20 }),
        (principal, rate, term, prepayments, lastGap) => {
          let items = booked(principal, rate, term);
          const terms = scheduledTermsFor(START, rate, 'DAILY_INTEREST');
          const maturity = items[0]?.dueDate ?? START;
          let day = 0;
          let balance = principal;
          let expected = 0;
          let charged = 0;
          const pay = (amountMinor: number, date: string) => {
            const a = allocateRepayment(items, { amountMinor, date }, terms);
            items = itemsAfter(items, a);
            charged += a.interestMinor;
            return a;
          };
          for (const [gap, share] of prepayments) {
            const date = plusDays(day + gap);
            const amount = Math.floor(balance * share);
            if (date >= maturity || amount === 0) continue;
            expected += accrueMinor(balance, rate, 'ACT_365', { from: plusDays(day), to: date });
            balance -= pay(amount, date).principalMinor;
            day += gap;
          }
          const end = plusDays(day + lastGap);
          if (end >= maturity) return;
          expected += accrueMinor(balance, rate, 'ACT_365', { from: plusDays(day), to: end });
          const owed = payoffOn(items, terms, end);
          expect(owed.interestMinor + charged).toBe(expected);
          pay(owed.payoffMinor, end);
          expect(charged).toBe(expected);
          expect(items.every((i) => i.paidPrincipalMinor === i.principalMinor)).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('repaid on the day of the draw, only the principal; 10 days later, 10 days of accrual', () => {
    const items = booked(1_000_000, 0.18, 12);
    const terms = scheduledTermsFor(START, 0.18, 'DAILY_INTEREST');
    expect(payoffOn(items, terms, START)).toMatchObject({ interestMinor: 0, payoffMinor: 1_000_000 });
    expect(payoffOn(items, terms, plusDays(10)).interestMinor).toBe(4_930);
  });

  it('a monthly method keeps the 30/360 terms (no daily accrual)', () => {
    expect(scheduledTermsFor(START, 0.18, 'EQUAL_INSTALLMENT')).toEqual({
      startDate: START,
      annualRate: 0.18,
    });
  });
});
