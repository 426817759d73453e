import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseIsoDate } from './clock.js';
import { LgError } from './errors.js';
import {
  aprCapCheck,
  computeApr,
  euYearFraction,
  loanDisclosure,
  regZTiming,
  roundHalfUp,
  type AprResult,
  type CashFlow,
  type UnitPeriod,
} from './apr.js';
import { addMonthsClamped, buildSchedule } from './schedule.js';

const DAY_MS = 86_400_000;

function everyMonths(first: string, count: number, amount: number, months = 1): CashFlow[] {
  return Array.from({ length: count }, (_, k) => ({ amount, date: addMonthsClamped(first, k * months) }));
}

function everyDays(first: string, count: number, amount: number, days: number): CashFlow[] {
  const start = parseIsoDate(first) ?? Number.NaN;
  return Array.from({ length: count }, (_, k) => ({
    amount,
    date: new Date(start + k * days * DAY_MS).toISOString().slice(0, 10),
  }));
}

/** 1st and 16th of each month from March 1978. */
function semimonthly1978(count: number, amount: number): CashFlow[] {
  return Array.from({ length: count }, (_, k) => ({
    amount,
    date: new Date(Date.UTC(1978, 2 + Math.floor(k / 2), k % 2 === 0 ? 1 : 16)).toISOString().slice(0, 10),
  }));
}

function regZ(advance: number, advanceDate: string, payments: CashFlow[], unitPeriod: UnitPeriod): number {
  return computeApr({
    convention: 'US_REGZ',
    unitPeriod,
    advances: [{ amount: advance, date: advanceDate }],
    payments,
  }).apr;
}

describe('US_REGZ: all 12 Regulation Z Appendix J (c) examples', () => {
  const cases: [string, () => number, number][] = [
    [
      '(c)(1)(i) monthly, regular first period',
      () => regZ(500_000, '1978-01-10', everyMonths('1978-02-10', 24, 23_000), 'MONTH'),
      9.69,
    ],
    [
      '(c)(1)(ii) monthly, long first period (1 mo + 19 d)',
      () => regZ(600_000, '1978-02-10', everyMonths('1978-04-01', 36, 20_000), 'MONTH'),
      11.82,
    ],
    [
      '(c)(1)(iii) semimonthly, short first period (6/15)',
      () => regZ(500_000, '1978-02-23', semimonthly1978(24, 21_917), 'SEMIMONTH'),
      10.34,
    ],
    [
      '(c)(1)(iv) quarterly, long first period',
      () => regZ(1_000_000, '1978-05-23', everyMonths('1978-10-01', 40, 38_500, 3), 'QUARTER'),
      8.97,
    ],
    [
      '(c)(1)(v) weekly, long first period (4 wk + 4 d)',
      () => regZ(50_000, '1978-03-20', everyDays('1978-04-21', 30, 1_760, 7), 'WEEK'),
      14.96,
    ],
    [
      '(c)(2)(i) monthly, irregular first payment',
      () =>
        regZ(
          500_000,
          '1978-01-10',
          [{ amount: 25_000, date: '1978-02-10' }, ...everyMonths('1978-03-10', 23, 23_000)],
          'MONTH',
        ),
      10.08,
    ],
    [
      '(c)(2)(ii) every 4 weeks, long first period, irregular first payment',
      () =>
        regZ(
          40_000,
          '1978-03-18',
          [{ amount: 3_950, date: '1978-04-20' }, ...everyDays('1978-05-18', 11, 3_831, 28)],
          'FOURWEEK',
        ),
      28.5,
    ],
    [
      '(c)(3)(i) monthly, irregular final payment',
      () =>
        regZ(
          500_000,
          '1978-01-10',
          [...everyMonths('1978-02-10', 23, 23_000), { amount: 28_000, date: '1980-01-10' }],
          'MONTH',
        ),
      10.5,
    ],
    [
      '(c)(3)(ii) every 2 weeks, short first period, irregular final payment',
      () =>
        regZ(
          20_000,
          '1978-04-03',
          everyDays('1978-04-11', 20, 950, 14).map((p, k) => (k === 19 ? { ...p, amount: 3_000 } : p)),
          'BIWEEK',
        ),
      12.22,
    ],
    [
      '(c)(4)(i) monthly, irregular first and final payments',
      () =>
        regZ(
          500_000,
          '1978-01-10',
          [
            { amount: 25_000, date: '1978-02-10' },
            ...everyMonths('1978-03-10', 22, 23_000),
            { amount: 28_000, date: '1980-01-10' },
          ],
          'MONTH',
        ),
      10.9,
    ],
    [
      '(c)(4)(ii) every 2 months, short first period, irregular first and final',
      () =>
        regZ(
          800_000,
          '1978-01-10',
          [
            { amount: 44_936, date: '1978-03-01' },
            ...everyMonths('1978-05-01', 18, 46_500, 2),
            { amount: 20_000, date: '1981-05-01' },
          ],
          'BIMONTH',
        ),
      7.3,
    ],
    [
      '(c)(5)(i) single advance, single payment, 255 days',
      () => regZ(100_000, '1978-01-03', [{ amount: 108_000, date: '1978-09-15' }], 'MONTH'),
      11.45,
    ],
  ];
  for (const [name, run, expected] of cases) {
    it(`${name} -> ${expected}%`, () => expect(run()).toBeCloseTo(expected, 2));
  }

  it('reports the periodic rate and its annualisation', () => {
    const r = computeApr({
      convention: 'US_REGZ',
      advances: [{ amount: 500_000, date: '1978-01-10' }],
      payments: everyMonths('1978-02-10', 24, 23_000),
    });
    expect(r.unitPeriod).toBe('MONTH');
    expect(r.periodsPerYear).toBe(12);
    expect(r.periodicRate * 12 * 100).toBeCloseTo(9.69, 2);
    expect(r.aprDecimalPlaces).toBe(2);
    expect(r.iterations).toBeGreaterThan(0);
  });

  it('single payment over a whole number of months uses 12 / months periods per year', () => {
    const r = computeApr({
      convention: 'US_REGZ',
      advances: [{ amount: 100_000, date: '2024-01-15' }],
      payments: [{ amount: 103_000, date: '2024-07-15' }],
    });
    expect(r.periodsPerYear).toBe(2);
    expect(r.apr).toBe(6);
  });

  it('other unit-period shapes agree with independent computations (FSharp.Finance.Personal extras)', () => {
    expect(regZ(1_000_000, '1978-06-23', everyMonths('1978-10-01', 40, 38_500, 3), 'QUARTER')).toBe(9.15);
    expect(regZ(1_000_000, '1978-07-23', everyMonths('1978-10-01', 40, 38_500, 3), 'QUARTER')).toBe(9.32);
    expect(regZ(100_000, '2023-10-26', everyDays('2023-11-30', 5, 22_000, 1), 'DAY')).toBe(94.15);
    expect(regZ(100_000, '2023-10-28', everyDays('2023-11-30', 5, 25_000, 7), 'WEEK')).toBe(176.52);
    expect(regZ(100_000, '2023-11-24', everyDays('2023-11-30', 5, 25_000, 7), 'WEEK')).toBe(434.3);
    expect(regZ(100_000, '2023-10-26', everyMonths('2023-11-30', 5, 50_000, 12), 'YEAR')).toBe(78.34);
  });
});

describe('EU_CCD: Directive 98/7/EC Annex III examples and the Commission time-interval vectors', () => {
  const eu = (advance: number, payments: CashFlow[], unitPeriod: UnitPeriod): number =>
    computeApr({
      convention: 'EU_CCD',
      unitPeriod,
      advances: [{ amount: advance, date: '1994-01-01' }],
      payments,
    }).apr;

  it('example 1: 1000 lent, 1200 after 546 days -> 12.96% (days / 365)', () => {
    expect(eu(100_000, [{ amount: 120_000, date: '1995-07-01' }], 'DAY')).toBe(12.96);
    expect(eu(100_000, [{ amount: 120_000, date: '1995-07-01' }], 'YEAR')).toBe(12.96);
    // Measured in equal months the same flows are 18/12 years apart, which gives 12.92%.
    expect(eu(100_000, [{ amount: 120_000, date: '1995-07-01' }], 'MONTH')).toBe(12.92);
  });

  it('example 2: 50 retained (950 advanced) -> 16.90%', () => {
    expect(eu(95_000, [{ amount: 120_000, date: '1995-07-01' }], 'DAY')).toBe(16.9);
  });

  it('example 3: 600 after one year and 600 after two -> 13.07% (i = 0.1306623)', () => {
    const r = computeApr({
      convention: 'EU_CCD',
      advances: [{ amount: 100_000, date: '1994-01-01' }],
      payments: [
        { amount: 60_000, date: '1995-01-01' },
        { amount: 60_000, date: '1996-01-01' },
      ],
    });
    expect(r.apr).toBe(13.07);
    expect(r.periodicRate).toBeCloseTo(0.1306623, 6);
    expect(r.periodsPerYear).toBe(1);
  });

  it('example 4 (272 at 3 and 6 months, 544 at 12 months) -> 13.19% with t in months', () => {
    const payments = [
      { amount: 27_200, date: '1994-04-01' },
      { amount: 27_200, date: '1994-07-01' },
      { amount: 54_400, date: '1995-01-01' },
    ];
    expect(eu(100_000, payments, 'MONTH')).toBe(13.19);
  });

  const ms = (d: string): number => parseIsoDate(d) ?? Number.NaN;
  const t = (a: string, b: string, unit: UnitPeriod = 'MONTH'): number => euYearFraction(ms(a), ms(b), unit);

  it('counts whole months back from the later date, then days over the year ending there', () => {
    for (const k of [1, 2, 3]) {
      expect(t('2012-01-12', `2012-0${1 + k}-15`)).toBeCloseTo(3 / 365 + k / 12, 12);
      expect(t('2013-01-12', `2013-0${1 + k}-15`)).toBeCloseTo(3 / 366 + k / 12, 12);
    }
    expect(t('2013-02-25', '2013-03-28')).toBeCloseTo(1 / 12 + 3 / 366, 12);
    expect(t('2013-02-26', '2013-03-29')).toBeCloseTo(1 / 12 + 2 / 366, 12);
    expect(t('2012-02-26', '2012-03-29')).toBeCloseTo(1 / 12 + 3 / 366, 12);
    expect(t('2019-01-12', '2020-01-12')).toBe(1);
    expect(t('2012-02-26', '2012-02-26')).toBe(0);
  });

  it('annual payments on 15 Feb from 12 Jan 2012: 34/365 + k', () => {
    for (const k of [0, 1, 2])
      expect(t('2012-01-12', `${2012 + k}-02-15`, 'YEAR')).toBeCloseTo(34 / 365 + k, 12);
    expect(t('2020-01-01', '2021-03-15', 'YEAR')).toBeCloseTo(1 + 74 / 366, 12);
  });

  it('weeks: whole weeks back, then days', () => {
    expect(t('2012-01-12', '2012-01-26', 'WEEK')).toBeCloseTo(2 / 52, 12);
    expect(t('2012-01-12', '2012-01-30', 'WEEK')).toBeCloseTo(2 / 52 + 4 / 365, 12);
    expect(t('2012-01-12', '2013-01-12', 'WEEK')).toBeCloseTo(1 + 2 / 365, 12);
  });
});

describe('CN_IRR: PBoC [2021] No. 3 vectors (IRR per period x 12)', () => {
  const cn = (principal: number, payments: CashFlow[]): number =>
    computeApr({ convention: 'CN_IRR', advances: [{ amount: principal, date: '2024-01-15' }], payments }).apr;

  it('12,000 with a 0.60%/month fee over 12 periods (1072/month) -> 13.03%, not the naive 7.20%', () => {
    expect(cn(1_200_000, everyMonths('2024-02-15', 12, 107_200))).toBe(13.03);
  });

  it('the other fee-style instalment products', () => {
    expect(cn(1_200_000, everyMonths('2024-02-15', 12, 109_000))).toBe(16.22);
    expect(cn(1_200_000, everyMonths('2024-02-15', 24, 57_920))).toBe(14.54);
    expect(cn(1_200_000, everyMonths('2024-02-15', 6, 206_000))).toBe(10.21);
  });

  it('schedules built by buildSchedule disclose their nominal rate', () => {
    const annuity = buildSchedule({
      principalMinor: 1_200_000,
      annualRate: 0.1825,
      termMonths: 12,
      method: 'EQUAL_INSTALLMENT',
      startDate: '2024-01-15',
    });
    expect(loanDisclosure(annuity, { convention: 'CN_IRR', startDate: '2024-01-15' }).apr).toBe(18.25);
    const equalPrincipal = buildSchedule({
      principalMinor: 1_200_000,
      annualRate: 0.18,
      termMonths: 12,
      method: 'EQUAL_PRINCIPAL',
      startDate: '2024-01-15',
    });
    expect(loanDisclosure(equalPrincipal, { convention: 'CN_IRR', startDate: '2024-01-15' }).apr).toBe(18);
    const feeOnly = buildSchedule({
      principalMinor: 1_200_000,
      annualRate: 0,
      termMonths: 12,
      method: 'EQUAL_PRINCIPAL',
      startDate: '2024-01-15',
      periodicFeeMinor: 7_200,
    });
    const d = loanDisclosure(feeOnly, { convention: 'CN_IRR', startDate: '2024-01-15' });
    expect(d.apr).toBe(13.03);
    expect(d.totalFeesMinor).toBe(86_400);
    expect(d.totalInterestMinor).toBe(0);
    expect(d.totalRepayableMinor).toBe(1_286_400);
  });
});

describe('loanDisclosure', () => {
  const schedule = buildSchedule({
    principalMinor: 100_000,
    annualRate: 0.2,
    termMonths: 12,
    method: 'EQUAL_INSTALLMENT',
    startDate: '2024-03-01',
  });

  it('an up-front fee withheld from the advance raises the APR above the nominal rate', () => {
    const withFee = buildSchedule({
      principalMinor: 100_000,
      annualRate: 0.2,
      termMonths: 12,
      method: 'EQUAL_INSTALLMENT',
      startDate: '2024-03-01',
      upfrontFeeMinor: 5_000,
    });
    const plain = loanDisclosure(schedule, { convention: 'CN_IRR', startDate: '2024-03-01' });
    const fee = loanDisclosure(withFee, { convention: 'CN_IRR', startDate: '2024-03-01' });
    expect(plain.apr).toBeCloseTo(20, 1);
    expect(fee.apr).toBeGreaterThan(29);
    expect(fee.totalFeesMinor).toBe(5_000);
    expect(fee.schedule).toBe(withFee);
  });

  it('every convention agrees on the direction: EU effective > CN/US nominal', () => {
    const us = loanDisclosure(schedule, { convention: 'US_REGZ', startDate: '2024-03-01' }).apr;
    const cn = loanDisclosure(schedule, { convention: 'CN_IRR', startDate: '2024-03-01' }).apr;
    const eu = loanDisclosure(schedule, { convention: 'EU_CCD', startDate: '2024-03-01' }).apr;
    expect(us).toBe(cn);
    expect(eu).toBeCloseTo(((1 + 0.2 / 12) ** 12 - 1) * 100, 1);
  });

  it('refuses a fee that swallows the principal', () => {
    const s = buildSchedule({
      principalMinor: 100,
      annualRate: 0.1,
      termMonths: 1,
      method: 'EQUAL_INSTALLMENT',
      startDate: '2024-03-01',
      upfrontFeeMinor: 100,
    });
    expect(() => loanDisclosure(s, { convention: 'CN_IRR', startDate: '2024-03-01' })).toThrow(LgError);
  });
});

describe('validation, solver limits, rounding and the cap', () => {
  const code = (fn: () => unknown): string | undefined => {
    try {
      fn();
    } catch (e) {
      return e instanceof LgError ? e.code : 'not-lg';
    }
    return undefined;
  };
  const ok = {
    convention: 'CN_IRR' as const,
    advances: [{ amount: 1000, date: '2024-01-01' }],
    payments: [{ amount: 1100, date: '2024-02-01' }],
  };

  it('rejects bad input with LG_VALIDATION', () => {
    expect(code(() => computeApr({ ...ok, advances: [] }))).toBe('LG_VALIDATION');
    expect(code(() => computeApr({ ...ok, payments: [{ amount: -5, date: '2024-02-01' }] }))).toBe(
      'LG_VALIDATION',
    );
    expect(code(() => computeApr({ ...ok, payments: [{ amount: 5.5, date: '2024-02-01' }] }))).toBe(
      'LG_VALIDATION',
    );
    expect(code(() => computeApr({ ...ok, payments: [{ amount: 5, date: '2024-02-30' }] }))).toBe(
      'LG_VALIDATION',
    );
    expect(code(() => computeApr({ ...ok, payments: [{ amount: 5, date: '2023-12-01' }] }))).toBe(
      'LG_VALIDATION',
    );
    expect(code(() => computeApr({ ...ok, unitPeriod: 'FORTNIGHT' as UnitPeriod }))).toBe('LG_VALIDATION');
    expect(code(() => computeApr({ ...ok, convention: 'UK' as 'CN_IRR' }))).toBe('LG_VALIDATION');
  });

  it('says LG_APR_NO_SOLUTION when no rate exists', () => {
    // Repaid the same day: every rate balances the equation, so none is the APR.
    expect(code(() => computeApr({ ...ok, payments: [{ amount: 1000, date: '2024-01-01' }] }))).toBe(
      'LG_APR_NO_SOLUTION',
    );
  });

  it('handles zero, negative and very high rates', () => {
    expect(computeApr({ ...ok, payments: [{ amount: 1000, date: '2024-02-01' }] }).apr).toBe(0);
    expect(computeApr({ ...ok, payments: [{ amount: 900, date: '2024-02-01' }] }).apr).toBeCloseTo(-120, 6);
    // A payday-style 30% fee for one month: 360% nominal.
    expect(computeApr({ ...ok, payments: [{ amount: 1300, date: '2024-02-01' }] }).apr).toBe(360);
  });

  it('rounds half up without binary artefacts', () => {
    expect(roundHalfUp(3.055, 2)).toBe(3.06);
    expect(roundHalfUp(3.055, 1)).toBe(3.1);
    expect(roundHalfUp(3.054, 2)).toBe(3.05);
    expect(roundHalfUp(3.054, 1)).toBe(3.1);
    expect(roundHalfUp(14.33333, 2)).toBe(14.33);
    expect(roundHalfUp(-1.005, 2)).toBe(-1.01);
  });

  it('caps at 24% by default, inclusive', () => {
    expect(aprCapCheck(24).ok).toBe(true);
    expect(aprCapCheck(24.01).ok).toBe(false);
    expect(aprCapCheck(30, 36)).toEqual({ ok: true, aprPercent: 30, capPercent: 36 });
    expect(code(() => aprCapCheck(Number.NaN))).toBe('LG_VALIDATION');
  });
});

describe('property: the solver recovers the contract rate', () => {
  it('CN_IRR of an interest-only schedule is its nominal rate; EU_CCD is the effective equivalent', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 36_000 }).map((bp) => bp / 100_000),
        fc.integer({ min: 1, max: 120 }),
        (annualRate, termMonths) => {
          const schedule = buildSchedule({
            principalMinor: 1_000_000_000_000,
            annualRate,
            termMonths,
            method: 'INTEREST_ONLY',
            startDate: '2024-01-31',
          });
          // Interest is rounded to the minor unit each month, so allow that much relative error.
          const tolerance = annualRate * 1e-6 + 1e-12;
          const cn = loanDisclosure(schedule, { convention: 'CN_IRR', startDate: '2024-01-31' }).aprResult;
          expect(Math.abs(cn.periodicRate * 12 - annualRate)).toBeLessThanOrEqual(tolerance);
          const eu = loanDisclosure(schedule, { convention: 'EU_CCD', startDate: '2024-01-31' }).aprResult;
          expect(Math.abs(eu.periodicRate - ((1 + annualRate / 12) ** 12 - 1))).toBeLessThanOrEqual(
            2 * tolerance,
          );
        },
      ),
      { numRuns: 100 },
    );
  });

  it('any positive flows: the solved rate zeroes the equation or the error says why', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 10_000_000 }),
        fc.array(
          fc.record({
            amount: fc.integer({ min: 1, max: 5_000_000 }),
            days: fc.integer({ min: 1, max: 3_650 }),
          }),
          {
            minLength: 1,
            maxLength: 40,
          },
        ),
        fc.constantFrom<UnitPeriod>('DAY', 'WEEK', 'SEMIMONTH', 'MONTH', 'QUARTER', 'YEAR'),
        (advance, flows, unitPeriod) => {
          const start = parseIsoDate('2020-02-29') ?? 0;
          const payments = flows.map((f) => ({
            amount: f.amount,
            date: new Date(start + f.days * DAY_MS).toISOString().slice(0, 10),
          }));
          let r: AprResult;
          try {
            r = computeApr({
              convention: 'CN_IRR',
              unitPeriod,
              advances: [{ amount: advance, date: '2020-02-29' }],
              payments,
            });
          } catch (e) {
            // Only a rate beyond the solver's range (e.g. 1 lent, 34953 repaid the next day) may fail, and it says so.
            expect(e instanceof LgError && e.code === 'LG_APR_NO_SOLUTION').toBe(true);
            return;
          }
          const i = r.periodicRate;
          const npv = payments.reduce((acc, p) => {
            const t = regZTiming(start, parseIsoDate(p.date) ?? 0, unitPeriod);
            return acc + p.amount / ((1 + t.fraction * i) * (1 + i) ** t.whole);
          }, -advance);
          expect(Math.abs(npv)).toBeLessThan(1e-6 * advance);
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('repeated dates: what was worked out before is reused, never a check', () => {
  const dates = ['2031-05-17', '2031-06-17', '2031-07-17', '2031-08-17'];
  const input = (amounts: number[], convention: AprResult['convention'] = 'CN_IRR') => ({
    convention,
    advances: [{ amount: 100_000, date: '2031-04-17' }],
    payments: dates.map((date, k) => ({ amount: amounts[k] ?? 26_000, date })),
  });
  const failure = (fn: () => unknown): unknown => {
    try {
      fn();
    } catch (e) {
      return e instanceof LgError ? { code: e.code, details: e.details } : e;
    }
    return undefined;
  };

  it('a repeat of known dates still checks every amount and reports the first bad one', () => {
    expect(computeApr(input([])).apr).toBeGreaterThan(0);
    expect(failure(() => computeApr(input([26_000, 26_000, 0, -1])))).toEqual({
      code: 'LG_VALIDATION',
      details: { field: 'payments[2].amount', value: 0 },
    });
    const badAdvance = { ...input([1.5]), advances: [{ amount: -1, date: '2031-04-17' }] };
    expect(failure(() => computeApr(badAdvance))).toEqual({
      code: 'LG_VALIDATION',
      details: { field: 'advances[0].amount', value: -1 },
    });
  });

  it('gives the same answer whatever was asked before, in any order of conventions', () => {
    const fresh = (convention: AprResult['convention']) =>
      computeApr({ ...input([25_000, 26_000, 27_000, 28_000], convention), unitPeriod: 'MONTH' });
    const first = (['US_REGZ', 'EU_CCD', 'CN_IRR'] as const).map(fresh);
    for (let k = 0; k < 40; k++)
      computeApr(input([20_000 + k, 26_000, 26_000, 30_000 + k], k % 2 ? 'EU_CCD' : 'US_REGZ'));
    const again = (['CN_IRR', 'EU_CCD', 'US_REGZ'] as const).map(fresh).reverse();
    expect(again).toEqual(first);
    expect(first[0]).toEqual({ ...first[2], convention: 'US_REGZ' });
  });
});
