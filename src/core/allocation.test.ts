import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  allocateRepayment,
  itemsAfter,
  payoffOn,
  remainingMinor,
  unpaidItems,
  type AllocationItem,
  type ScheduledTerms,
} from './allocation.js';
import { buildSchedule, isoDay, LgError, parseIsoDay, type ScheduleInput } from '../domain/index.js';

/** A loan as the draw books it (domain/schedule.ts, monthly 30/360), nothing paid yet. */
function loan(input: Partial<ScheduleInput> = {}): { items: AllocationItem[]; terms: ScheduledTerms } {
  const full: ScheduleInput = {
    principalMinor: 1_200_000,
    annualRate: 0.18,
    termMonths: 12,
    method: 'EQUAL_INSTALLMENT',
    startDate: '2025-03-01',
    ...input,
  };
  const items = unpaidItems(buildSchedule(full).installments);
  return { items, terms: { startDate: full.startDate, annualRate: full.annualRate } };
}

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return (e as LgError).code;
  }
  return undefined;
}

const plusDays = (date: string, days: number) => isoDay((parseIsoDay(date) ?? 0) + days);

describe('allocateRepayment (monthly loans without a product)', () => {
  const { items, terms } = loan({ periodicFeeMinor: 100 });

  it('serves due fees, then due interest, then due principal, oldest first', () => {
    const [first, second] = items as [AllocationItem, AllocationItem];
    // 2025-05-05: instalments 1 (04-01) and 2 (05-01) are due.
    const amount = 200 + first.interestMinor + second.interestMinor + 500;
    const a = allocateRepayment(items, { amountMinor: amount, date: '2025-05-05' }, terms);
    expect(a).toMatchObject({ feeMinor: 200, principalMinor: 500, prepaidPrincipalMinor: 0, reshaped: [] });
    expect(a.interestMinor).toBe(first.interestMinor + second.interestMinor);
    expect(a.perPeriod[0]).toEqual({
      period: 1,
      feeMinor: 100,
      interestMinor: first.interestMinor,
      principalMinor: 500,
    });
  });

  it('a repayment in full on day 10 charges 10/31 of the first period and nothing of the periods not begun', () => {
    const owed = payoffOn(items, terms, '2025-03-11');
    // 18,000 less 1,200,000 × 1.5% × 21/31 = 12,193.55: 5,806; no fee for an instalment not yet due.
    expect(owed).toEqual({
      date: '2025-03-11',
      feeMinor: 0,
      interestMinor: 5_806,
      principalMinor: 1_200_000,
      payoffMinor: 1_205_806,
    });
    const a = allocateRepayment(items, { amountMinor: owed.payoffMinor, date: owed.date }, terms);
    expect(a).toMatchObject({ feeMinor: 0, interestMinor: 5_806, principalMinor: 1_200_000 });
    expect(remainingMinor(itemsAfter(items, a))).toBe(0);
    // The same day as the draw: the principal back, nothing else.
    expect(payoffOn(items, terms, '2025-03-01').payoffMinor).toBe(1_200_000);
  });

  it('a partial prepayment is principal from the last instalments, never interest in advance', () => {
    const a = allocateRepayment(items, { amountMinor: 600_000, date: '2025-03-11' }, terms);
    expect(a).toMatchObject({
      feeMinor: 0,
      interestMinor: 0,
      principalMinor: 600_000,
      prepaidPrincipalMinor: 600_000,
    });
    const periods = a.perPeriod.map((p) => p.period);
    expect(Math.max(...periods)).toBe(12);
    expect(periods).toEqual([...periods].sort((x, y) => x - y));
    const after = itemsAfter(items, a);
    // The current period keeps its interest less the prepaid principal's 21 unelapsed days: 18,000 − 6,097.
    expect(after[0]!.interestMinor).toBe(11_903);
    // Gone instalments owe nothing, fee included; the others keep their fee.
    for (const i of after.filter((x) => x.paidPrincipalMinor === x.principalMinor))
      expect(i).toMatchObject({ interestMinor: 0, feeMinor: 0 });
    expect(after[1]!.feeMinor).toBe(100);
  });

  it('refuses more than the payoff (saying what is owed) and non-positive amounts', () => {
    const owed = payoffOn(items, terms, '2025-03-11').payoffMinor;
    expect(code(() => allocateRepayment(items, { amountMinor: owed + 1, date: '2025-03-11' }, terms))).toBe(
      'LG_OVERPAYMENT',
    );
    expect(code(() => allocateRepayment(items, { amountMinor: 0, date: '2025-03-11' }, terms))).toBe(
      'LG_INVALID_MONEY',
    );
  });

  it('never takes back interest already paid on an instalment not yet due', () => {
    // Paid in advance under the earlier rule: instalment 2 in full.
    const paid = items.map((i) =>
      i.period <= 2
        ? {
            ...i,
            paidFeeMinor: i.feeMinor,
            paidInterestMinor: i.interestMinor,
            paidPrincipalMinor: i.principalMinor,
          }
        : i,
    );
    const owed = payoffOn(paid, terms, '2025-03-11');
    const after = itemsAfter(
      paid,
      allocateRepayment(paid, { amountMinor: owed.payoffMinor, date: owed.date }, terms),
    );
    expect(after[1]!.interestMinor).toBe(items[1]!.interestMinor);
    expect(remainingMinor(after)).toBe(0);
  });
});

const loanArb = fc.record({
  principalMinor: fc.integer({ min: 1, max: 50_000_000 }),
  annualRate: fc.double({ min: 0, max: 0.36, noNaN: true }),
  termMonths: fc.integer({ min: 1, max: 36 }),
  method: fc.constantFrom('EQUAL_INSTALLMENT' as const, 'EQUAL_PRINCIPAL' as const, 'INTEREST_ONLY' as const),
  startDate: fc.constantFrom('2025-01-31', '2025-03-01', '2024-02-29', '2025-12-15'),
  periodicFeeMinor: fc.integer({ min: 0, max: 2_000 }),
});

const opsArb = fc.array(
  fc.record({
    afterDays: fc.integer({ min: 0, max: 45 }),
    share: fc.double({ min: 0, max: 1, noNaN: true }),
  }),
  { minLength: 1, maxLength: 8 },
);

describe('property: repayments of a monthly loan on random dates', () => {
  it('allocate exactly what is paid, conserve principal, never charge more interest than scheduled, and the payoff settles to the fen', () => {
    fc.assert(
      fc.property(loanArb, opsArb, (input, ops) => {
        const { items: start, terms } = loan(input);
        const scheduledInterest = start.reduce((s, i) => s + i.interestMinor, 0);
        let items = start;
        let date = terms.startDate;
        let interestPaid = 0;
        for (const op of ops) {
          date = plusDays(date, op.afterDays);
          const owed = payoffOn(items, terms, date);
          if (owed.payoffMinor === 0) break;
          const amount = Math.max(1, Math.min(owed.payoffMinor, Math.floor(owed.payoffMinor * op.share)));
          const a = allocateRepayment(items, { amountMinor: amount, date }, terms);
          expect(a.feeMinor + a.interestMinor + a.principalMinor).toBe(amount);
          items = itemsAfter(items, a);
          interestPaid += a.interestMinor;
          for (const i of items) {
            expect(i.paidFeeMinor).toBeLessThanOrEqual(i.feeMinor);
            expect(i.paidInterestMinor).toBeLessThanOrEqual(i.interestMinor);
            expect(i.paidPrincipalMinor).toBeLessThanOrEqual(i.principalMinor);
          }
          expect(items.reduce((s, i) => s + i.principalMinor, 0)).toBe(input.principalMinor);
        }
        date = plusDays(date, 1);
        const last = payoffOn(items, terms, date);
        if (last.payoffMinor > 0) {
          const a = allocateRepayment(items, { amountMinor: last.payoffMinor, date }, terms);
          items = itemsAfter(items, a);
          interestPaid += a.interestMinor;
        }
        expect(remainingMinor(items)).toBe(0);
        expect(items.reduce((s, i) => s + i.paidPrincipalMinor, 0)).toBe(input.principalMinor);
        expect(interestPaid).toBeLessThanOrEqual(scheduledInterest);
      }),
      { numRuns: 300 },
    );
  });

  it('a payoff before the first due date charges the first period pro rata by days elapsed (to the fen)', () => {
    fc.assert(
      fc.property(loanArb, fc.integer({ min: 0, max: 31 }), (input, afterDays) => {
        const { items, terms } = loan(input);
        const first = items[0]!;
        const date = plusDays(terms.startDate, afterDays);
        if (date >= first.dueDate) return;
        const periodDays = (parseIsoDay(first.dueDate) ?? 0) - (parseIsoDay(terms.startDate) ?? 0);
        const owed = payoffOn(items, terms, date);
        expect(owed.principalMinor).toBe(input.principalMinor);
        expect(owed.feeMinor).toBe(0);
        // The period's interest less the unelapsed share, rounded once: within a fen of the pro-rata figure.
        expect(
          Math.abs(owed.interestMinor - (first.interestMinor * afterDays) / periodDays),
        ).toBeLessThanOrEqual(1);
      }),
      { numRuns: 300 },
    );
  });
});
