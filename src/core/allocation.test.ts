import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { allocateRepayment, remainingMinor, type AllocationItem } from './allocation.js';
import { LgError } from '../domain/index.js';

function item(
  period: number,
  dueDate: string,
  fee: number,
  interest: number,
  principal: number,
): AllocationItem {
  return {
    period,
    dueDate,
    feeMinor: fee,
    interestMinor: interest,
    principalMinor: principal,
    paidFeeMinor: 0,
    paidInterestMinor: 0,
    paidPrincipalMinor: 0,
  };
}

const schedule = [
  item(1, '2025-02-01', 100, 1000, 10000),
  item(2, '2025-03-01', 100, 900, 10000),
  item(3, '2025-04-01', 100, 800, 10000),
];

describe('allocateRepayment', () => {
  it('serves due fees, then due interest, then due principal, oldest first', () => {
    const a = allocateRepayment(schedule, 2300, '2025-03-05');
    expect(a.feeMinor).toBe(200);
    expect(a.interestMinor).toBe(1900);
    expect(a.principalMinor).toBe(200);
    expect(a.perPeriod[0]).toEqual({ period: 1, feeMinor: 100, interestMinor: 1000, principalMinor: 200 });
  });

  it('prepays later instalments in order once the due ones are paid', () => {
    const a = allocateRepayment(schedule, 11100 + 50, '2025-01-15');
    expect(a.perPeriod).toEqual([
      { period: 1, feeMinor: 100, interestMinor: 1000, principalMinor: 10000 },
      { period: 2, feeMinor: 50, interestMinor: 0, principalMinor: 0 },
    ]);
  });

  it('refuses over-payment and non-positive amounts', () => {
    const code = (fn: () => unknown) => {
      try {
        fn();
      } catch (e) {
        return (e as LgError).code;
      }
      return undefined;
    };
    expect(code(() => allocateRepayment(schedule, remainingMinor(schedule) + 1, '2025-01-01'))).toBe(
      'LG_OVERPAYMENT',
    );
    expect(code(() => allocateRepayment(schedule, 0, '2025-01-01'))).toBe('LG_INVALID_MONEY');
  });

  it('allocates exactly the amount paid, never more than owed per component', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: remainingMinor(schedule) }),
        fc.constantFrom('2025-01-01', '2025-02-01', '2025-03-15', '2025-06-01'),
        (amount, date) => {
          const a = allocateRepayment(schedule, amount, date);
          expect(a.feeMinor + a.interestMinor + a.principalMinor).toBe(amount);
          for (const p of a.perPeriod) {
            const s = schedule.find((i) => i.period === p.period)!;
            expect(p.feeMinor).toBeLessThanOrEqual(s.feeMinor);
            expect(p.interestMinor).toBeLessThanOrEqual(s.interestMinor);
            expect(p.principalMinor).toBeLessThanOrEqual(s.principalMinor);
          }
        },
      ),
    );
  });
});
