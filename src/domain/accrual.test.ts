import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  accrueMinor,
  accruePenaltyMinor,
  dailyAccruals,
  dailyInterestMinor,
  penaltySurchargeRate,
} from './accrual.js';
import { actualDays, yearFraction } from './day-count.js';

describe('day count', () => {
  it('counts actual days, the first excluded and the last included', () => {
    expect(actualDays('2026-01-01', '2026-01-11')).toBe(10);
    expect(actualDays('2024-02-28', '2024-03-01')).toBe(2); // leap day counts
    expect(actualDays('2026-03-05', '2026-03-05')).toBe(0);
    expect(yearFraction('2026-01-01', '2027-01-01', 'ACT_365')).toBe(1);
    expect(yearFraction('2026-01-01', '2026-03-02', 'ACT_360')).toBe(60 / 360);
  });

  it('refuses a date that is not a calendar date', () => {
    expect(() => actualDays('2026-02-30', '2026-03-01')).toThrow(/calendar date/);
  });
});

describe('daily accrual', () => {
  it('¥10,000 at 18.25% ACT/365 accrues ¥5.00 a day: 10 days cost exactly ¥50.00', () => {
    expect(dailyInterestMinor(1_000_000, 0.1825, 'ACT_365')).toBe(500);
    expect(accrueMinor(1_000_000, 0.1825, 'ACT_365', { from: '2026-01-01', to: '2026-01-11' })).toBe(5_000);
    expect(accrueMinor(1_000_000, 0.1825, 'ACT_365', { from: '2026-01-01', to: '2026-01-01' })).toBe(0);
  });

  it('ACT/360 charges more per day than ACT/365 for the same annual rate', () => {
    expect(dailyInterestMinor(1_000_000, 0.18, 'ACT_360')).toBe(500);
    expect(dailyInterestMinor(1_000_000, 0.18, 'ACT_365')).toBe(493); // 493.15 rounded half-up
  });

  it('rounds half-up exactly, never through binary floating point', () => {
    // 1 fen at 182.5% / 365 = 0.005 fen a day -> 0; 100 fen -> 0.5 -> 1.
    expect(dailyInterestMinor(100, 1.825, 'ACT_365')).toBe(1);
    expect(dailyInterestMinor(99, 1.825, 'ACT_365')).toBe(0);
  });

  it('property: a span is the sum of its days, and splits at any date add up', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 10_000_000_00 }),
        fc.integer({ min: 0, max: 360_000 }).map((x) => x / 1_000_000),
        fc.constantFrom('ACT_365' as const, 'ACT_360' as const),
        fc.integer({ min: 0, max: 400 }),
        fc.integer({ min: 0, max: 400 }),
        (balance, rate, basis, a, b) => {
          const from = '2026-01-31';
          const mid = isoPlus(from, Math.min(a, b));
          const to = isoPlus(from, Math.max(a, b));
          const whole = accrueMinor(balance, rate, basis, { from, to });
          const days = dailyAccruals({ from, to }, () => balance, rate, basis);
          expect(days).toHaveLength(Math.max(a, b));
          expect(whole).toBe(days.reduce((s, d) => s + d.interestMinor, 0));
          expect(whole).toBe(
            accrueMinor(balance, rate, basis, { from, to: mid }) +
              accrueMinor(balance, rate, basis, { from: mid, to }),
          );
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('penalty interest (罚息)', () => {
  const terms = {
    annualRate: 0.1825,
    penaltyMultiplier: 1.5,
    basis: 'ACT_365' as const,
    aprCapPercent: 36,
    graceDays: 3,
  };

  it('accrues the surcharge (contract × 0.5) on overdue principal from the day after grace', () => {
    // Due 2026-02-01, grace 3 days: the first penalty day is 2026-02-05.
    const items = [{ dueDate: '2026-02-01', unpaidPrincipalMinor: 1_000_000 }];
    expect(accruePenaltyMinor(items, { from: '2026-02-01', to: '2026-02-04' }, terms)).toBe(0);
    expect(accruePenaltyMinor(items, { from: '2026-02-01', to: '2026-02-05' }, terms)).toBe(250);
    expect(accruePenaltyMinor(items, { from: '2026-02-01', to: '2026-02-14' }, terms)).toBe(10 * 250);
  });

  it('never takes the total rate on overdue principal above 1.5× contract, nor above the all-in cap', () => {
    expect(penaltySurchargeRate({ ...terms, penaltyMultiplier: 3 })).toBeCloseTo(0.09125, 12);
    expect(penaltySurchargeRate({ ...terms, aprCapPercent: 24 })).toBeCloseTo(0.24 - 0.1825, 12);
    expect(penaltySurchargeRate({ ...terms, annualRate: 0.24, aprCapPercent: 24 })).toBe(0);
  });
});

function isoPlus(date: string, days: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);
}
