import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LgError } from './errors.js';
import { MONTHLY_METHODS, addMonthsClamped, buildSchedule, type ScheduleInput } from './schedule.js';

const base: ScheduleInput = {
  principalMinor: 10_000,
  annualRate: 0.094822,
  termMonths: 6,
  method: 'EQUAL_INSTALLMENT',
  startDate: '2024-01-15',
};

describe('buildSchedule: published vectors', () => {
  it('Fineract: 100 at 9.4822%, 6 monthly periods (30/360 = annual/12) -> EMI 17.13', () => {
    const s = buildSchedule(base);
    expect(s.installments.map((i) => i.interestMinor)).toEqual([79, 66, 53, 40, 27, 13]);
    expect(s.installments.map((i) => i.principalMinor)).toEqual([1634, 1647, 1660, 1673, 1686, 1700]);
    expect(s.installments.map((i) => i.balanceAfterMinor)).toEqual([8366, 6719, 5059, 3386, 1700, 0]);
    expect(s.installments.map((i) => i.totalMinor)).toEqual([1713, 1713, 1713, 1713, 1713, 1713]);
    expect(s.totalInterestMinor).toBe(278);
    expect(s.totalRepayableMinor).toBe(10_278);
  });

  it('Fineract: 100 at 7%, 12 periods -> EMI 8.65', () => {
    const s = buildSchedule({ ...base, annualRate: 0.07, termMonths: 12 });
    expect(s.installments.slice(0, 11).every((i) => i.totalMinor === 865)).toBe(true);
    expect(s.totalPrincipalMinor).toBe(10_000);
  });

  it('equal principal: 12,000 at 18%, 12 months -> first 1180.00, last 1015.00, interest 1170.00', () => {
    const s = buildSchedule({
      ...base,
      principalMinor: 1_200_000,
      annualRate: 0.18,
      termMonths: 12,
      method: 'EQUAL_PRINCIPAL',
    });
    expect(s.installments[0]?.totalMinor).toBe(118_000);
    expect(s.installments[11]?.totalMinor).toBe(101_500);
    expect(s.totalInterestMinor).toBe(117_000);
    expect(s.installments.every((i) => i.principalMinor === 100_000)).toBe(true);
  });

  it('annuity: 12,000 at 18.25%, 12 months -> EMI 1101.59', () => {
    const s = buildSchedule({ ...base, principalMinor: 1_200_000, annualRate: 0.1825, termMonths: 12 });
    expect(s.installments[0]?.totalMinor).toBe(110_159);
    expect(s.totalPrincipalMinor).toBe(1_200_000);
  });

  it('interest-only with bullet', () => {
    const s = buildSchedule({
      ...base,
      principalMinor: 1_200_000,
      annualRate: 0.12,
      termMonths: 3,
      method: 'INTEREST_ONLY',
    });
    expect(s.installments.map((i) => [i.principalMinor, i.interestMinor])).toEqual([
      [0, 12_000],
      [0, 12_000],
      [1_200_000, 12_000],
    ]);
  });

  it('fees: upfront and periodic are counted in total fees; only periodic fees are repaid', () => {
    const s = buildSchedule({
      ...base,
      principalMinor: 1_200_000,
      annualRate: 0,
      termMonths: 12,
      method: 'EQUAL_PRINCIPAL',
      upfrontFeeMinor: 5_000,
      periodicFeeMinor: 7_200,
    });
    expect(s.totalInterestMinor).toBe(0);
    expect(s.installments.every((i) => i.totalMinor === 107_200 && i.feeMinor === 7_200)).toBe(true);
    expect(s.totalFeesMinor).toBe(5_000 + 12 * 7_200);
    expect(s.totalRepayableMinor).toBe(1_200_000 + 12 * 7_200);
    expect(s.upfrontFeeMinor).toBe(5_000);
  });

  it('zero rate equal instalment splits evenly with the remainder in the last period', () => {
    const s = buildSchedule({ ...base, principalMinor: 1000, annualRate: 0, termMonths: 3 });
    expect(s.installments.map((i) => i.principalMinor)).toEqual([333, 333, 334]);
  });

  it('interest rounds half-up in exact integer arithmetic (no float drift)', () => {
    // 100 minor at 6%/12 = 0.5 -> 1 (half-up); 300 at 1%/12 = 0.25 -> 0
    expect(
      buildSchedule({ ...base, principalMinor: 100, annualRate: 0.06, termMonths: 1 }).installments[0]
        ?.interestMinor,
    ).toBe(1);
    expect(
      buildSchedule({ ...base, principalMinor: 300, annualRate: 0.01, termMonths: 1 }).installments[0]
        ?.interestMinor,
    ).toBe(0);
    // 1,000,000 minor at 0.15/12 = 12500 exactly (a float product gives 12500.000000000002)
    expect(
      buildSchedule({ ...base, principalMinor: 1_000_000, annualRate: 0.15, termMonths: 1 }).installments[0]
        ?.interestMinor,
    ).toBe(12_500);
  });
});

describe('due dates', () => {
  it('keep the day of month, clamped to month end', () => {
    expect(addMonthsClamped('2024-01-31', 1)).toBe('2024-02-29');
    expect(addMonthsClamped('2023-01-31', 1)).toBe('2023-02-28');
    expect(addMonthsClamped('2024-01-31', 2)).toBe('2024-03-31');
    expect(addMonthsClamped('2024-11-30', 3)).toBe('2025-02-28');
    expect(addMonthsClamped('2024-12-15', 1)).toBe('2025-01-15');
    const s = buildSchedule({ ...base, startDate: '2024-01-31', termMonths: 4 });
    expect(s.installments.map((i) => i.dueDate)).toEqual([
      '2024-02-29',
      '2024-03-31',
      '2024-04-30',
      '2024-05-31',
    ]);
  });
});

describe('validation', () => {
  const cases: [string, Partial<ScheduleInput>][] = [
    ['term 0', { termMonths: 0 }],
    ['term 361', { termMonths: 361 }],
    ['term fraction', { termMonths: 1.5 }],
    ['negative principal', { principalMinor: -1 }],
    ['zero principal', { principalMinor: 0 }],
    ['fractional principal', { principalMinor: 10.5 }],
    ['negative rate', { annualRate: -0.01 }],
    ['rate above 1', { annualRate: 1.01 }],
    ['NaN rate', { annualRate: Number.NaN }],
    ['negative fee', { upfrontFeeMinor: -1 }],
    ['fractional fee', { periodicFeeMinor: 0.1 }],
    ['bad date', { startDate: '2024-02-30' }],
    ['bad method', { method: 'BALLOON' as ScheduleInput['method'] }],
    ['bad currency', { currency: 'yuan' }],
  ];
  for (const [name, patch] of cases) {
    it(`rejects ${name}`, () => {
      try {
        buildSchedule({ ...base, ...patch });
        expect.unreachable();
      } catch (e) {
        expect(e).toBeInstanceOf(LgError);
        expect((e as LgError).code).toBe('LG_INVALID_SCHEDULE');
      }
    });
  }
});

describe('property: rounding never loses or invents a cent', () => {
  it('principal sums exactly, balances never negative, last balance 0', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 100_000_000_00 }),
        fc.integer({ min: 0, max: 1_000_000 }).map((x) => x / 1_000_000),
        fc.integer({ min: 1, max: 360 }),
        fc.constantFrom(...MONTHLY_METHODS),
        fc.integer({ min: 0, max: 10_000 }),
        (principalMinor, annualRate, termMonths, method, periodicFeeMinor) => {
          const s = buildSchedule({
            principalMinor,
            annualRate,
            termMonths,
            method,
            startDate: '2024-01-31',
            periodicFeeMinor,
          });
          expect(s.installments).toHaveLength(termMonths);
          expect(s.totalPrincipalMinor).toBe(principalMinor);
          let balance = principalMinor;
          for (const i of s.installments) {
            expect(i.principalMinor).toBeGreaterThanOrEqual(0);
            expect(i.interestMinor).toBeGreaterThanOrEqual(0);
            balance -= i.principalMinor;
            expect(i.balanceAfterMinor).toBe(balance);
            expect(i.balanceAfterMinor).toBeGreaterThanOrEqual(0);
            expect(i.totalMinor).toBe(i.principalMinor + i.interestMinor + i.feeMinor);
          }
          expect(s.installments.at(-1)?.balanceAfterMinor).toBe(0);
          expect(s.totalRepayableMinor).toBe(
            principalMinor + s.totalInterestMinor + termMonths * periodicFeeMinor,
          );
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('property: interest is exact for every balance', () => {
  it('matches balance × rate / 12 rounded half-up in BigInt, up to the largest safe balance', () => {
    const scale = 1_000_000_000_000n;
    fc.assert(
      fc.property(
        fc.oneof(
          fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
          fc.integer({ min: Number.MAX_SAFE_INTEGER - 1_000_000, max: Number.MAX_SAFE_INTEGER }),
          fc.integer({ min: 1, max: 10_000_000 }),
        ),
        fc.oneof(
          fc.integer({ min: 0, max: 1_000_000_000_000 }).map((x) => x / 1e12),
          fc.constantFrom(0.18, 0.094822, 0.1825, 0.06, 0.01, 1, 0.123456789012),
        ),
        (principalMinor, annualRate) => {
          const [first] = buildSchedule({ ...base, principalMinor, annualRate, termMonths: 1 }).installments;
          const numerator = BigInt(principalMinor) * BigInt(Math.round(annualRate * 1e12));
          const denominator = 12n * scale;
          expect(first?.interestMinor).toBe(Number((2n * numerator + denominator) / (2n * denominator)));
        },
      ),
      { numRuns: 2_000 },
    );
  });
});
