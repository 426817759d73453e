import { MS_PER_DAY, parseIsoDate } from './clock.js';
import { LgError } from './errors.js';
import type { Schedule } from './schedule.js';

/**
 * The annualised cost of credit, three ways. Each is the root of "present value of what the borrower receives equals
 * present value of what the borrower pays", and they differ only in how time is measured and how the periodic rate
 * becomes an annual one:
 *
 * - US_REGZ: Regulation Z Appendix J actuarial method. Time is counted in whole unit periods measured back from each
 *   flow's date to the start of the term, plus a fraction of a unit period (b)(5); general equation (b)(8):
 *   Σ A_k / ((1 + e_k·i)(1 + i)^q_k) = Σ P_j / ((1 + f_j·i)(1 + i)^t_j), and APR = i × unit periods per year (b)(1).
 * - EU_CCD: Directive 2008/48/EC Annex I: Σ C_k (1 + X)^−t_k = Σ D_l (1 + X)^−s_l with t, s in years, X an effective
 *   annual rate. Intervals are whole years, months (1/12) or weeks (1/52) counted back from the later date, plus the
 *   remaining days divided by the days (365 or 366) of the complete year counted back from the end of those days
 *   (Commission guidelines SWD(2012)128, Annex 1 §4.1.1; vectors in lending.md §4.2).
 * - CN_IRR: PBoC Announcement [2021] No. 3: the periodic internal rate of return of all cash flows (every fee
 *   included) times periods per year, a nominal rate; the unit-period and fraction rules are the same as Reg Z.
 */
export const APR_CONVENTIONS = ['US_REGZ', 'EU_CCD', 'CN_IRR'] as const;
export type AprConvention = (typeof APR_CONVENTIONS)[number];

export const UNIT_PERIODS = [
  'DAY',
  'WEEK',
  'BIWEEK',
  'FOURWEEK',
  'SEMIMONTH',
  'MONTH',
  'BIMONTH',
  'QUARTER',
  'SEMIYEAR',
  'YEAR',
] as const;
export type UnitPeriod = (typeof UNIT_PERIODS)[number];

export interface CashFlow {
  /** Minor units, positive. */
  amount: number;
  /** YYYY-MM-DD. */
  date: string;
}

export interface AprInput {
  convention: AprConvention;
  /** Default MONTH. */
  unitPeriod?: UnitPeriod;
  /** Money the borrower receives (net of any fee withheld). */
  advances: CashFlow[];
  /** Money the borrower pays: instalments, fees, charges. */
  payments: CashFlow[];
}

export interface AprResult {
  /** Percent, rounded half-up to aprDecimalPlaces (12.96 = 12.96%). */
  apr: number;
  aprDecimalPlaces: number;
  convention: AprConvention;
  unitPeriod: UnitPeriod;
  /** The solved rate per unit period (EU_CCD: per year, effective), unrounded decimal. */
  periodicRate: number;
  /** Unit periods per year used to annualise (EU_CCD: 1, the rate is already annual). */
  periodsPerYear: number;
  iterations: number;
}

export const APR_DECIMAL_PLACES = 2;

/** Default all-in cap: PBoC guidance and the 2025 facilitation rules prohibit a comprehensive cost above 24%. */
export const DEFAULT_APR_CAP_PERCENT = 24;

// ---------------------------------------------------------------- calendar helpers

interface Ymd {
  y: number;
  m: number; // 0-based
  d: number;
}

function toYmd(ms: number): Ymd {
  const dt = new Date(ms);
  return { y: dt.getUTCFullYear(), m: dt.getUTCMonth(), d: dt.getUTCDate() };
}

/** The date `months` before `ms`, on `day` (default the same day of month) clamped to the month's last day. */
function monthsBack(ms: number, months: number, day?: number): number {
  const { y, m, d: sameDay } = toYmd(ms);
  const d = day ?? sameDay;
  const first = Date.UTC(y, m - months, 1);
  const { y: ty, m: tm } = toYmd(first);
  const lastDay = new Date(Date.UTC(ty, tm + 1, 0)).getUTCDate();
  return Date.UTC(ty, tm, Math.min(d, lastDay));
}

function daysBetween(fromMs: number, toMs: number): number {
  return Math.round((toMs - fromMs) / MS_PER_DAY);
}

function isLastDayOfMonth(ms: number): boolean {
  return toYmd(ms + MS_PER_DAY).d === 1;
}

/**
 * Whole steps of `stepMonths` months counted back from `later` without passing `earlier`, and where they stop.
 * A later date that is a month end clamped from the earlier date's day (31 Jan -> 29 Feb) counts back on that day
 * (29 Feb -> 31 Jan), so a monthly schedule on the 31st is whole months apart, not a month less a few days.
 */
function wholeMonthStepsBack(
  earlier: number,
  later: number,
  stepMonths: number,
): { steps: number; stopMs: number } {
  const a = toYmd(earlier);
  const b = toYmd(later);
  const trackDay = isLastDayOfMonth(later) && a.d > b.d ? a.d : b.d;
  const back = (months: number): number => (months === 0 ? later : monthsBack(later, months, trackDay));
  let steps = Math.max(0, Math.floor(((b.y - a.y) * 12 + (b.m - a.m)) / stepMonths) + 1);
  while (steps > 0 && back(steps * stepMonths) < earlier) steps -= 1;
  return { steps, stopMs: back(steps * stepMonths) };
}

// ---------------------------------------------------------------- time measures

/** A flow's position in time: whole unit periods (an exponent, real for EU) and a simple-interest fraction. */
export interface Timing {
  whole: number;
  fraction: number;
}

const PERIODS_PER_YEAR: Record<UnitPeriod, number> = {
  DAY: 365,
  WEEK: 52,
  BIWEEK: 26,
  FOURWEEK: 13,
  SEMIMONTH: 24,
  MONTH: 12,
  BIMONTH: 6,
  QUARTER: 4,
  SEMIYEAR: 2,
  YEAR: 1,
};

const DAYS_PER_WEEK_UNIT: Partial<Record<UnitPeriod, number>> = { DAY: 1, WEEK: 7, BIWEEK: 14, FOURWEEK: 28 };
const MONTHS_PER_UNIT: Partial<Record<UnitPeriod, number>> = {
  MONTH: 1,
  BIMONTH: 2,
  QUARTER: 3,
  SEMIYEAR: 6,
};

function splitDays(days: number, unitDays: number): Timing {
  const whole = Math.floor(days / unitDays);
  return { whole, fraction: (days - whole * unitDays) / unitDays };
}

/**
 * Reg Z Appendix J (b)(5): unit periods between the start of the term and a later date.
 * (ii)/(iii) month-based: 30 × full months measured back from the later date + remaining days, divided by 30 × months
 *   per unit (15 for a semimonth). (iv) day/week-based: days divided by days per unit. (v) year: full years back; the
 *   rest is months/12 when it is a whole number of months, otherwise days/365.
 */
export function regZTiming(startMs: number, dateMs: number, unit: UnitPeriod): Timing {
  const unitDays = DAYS_PER_WEEK_UNIT[unit];
  if (unitDays !== undefined) return splitDays(daysBetween(startMs, dateMs), unitDays);
  if (unit === 'YEAR') {
    const years = wholeMonthStepsBack(startMs, dateMs, 12);
    const months = wholeMonthStepsBack(startMs, years.stopMs, 1);
    const restDays = daysBetween(startMs, months.stopMs);
    const fraction = restDays === 0 ? months.steps / 12 : daysBetween(startMs, years.stopMs) / 365;
    return { whole: years.steps, fraction };
  }
  const { steps, stopMs } = wholeMonthStepsBack(startMs, dateMs, 1);
  const days30 = 30 * steps + daysBetween(startMs, stopMs);
  return splitDays(days30, unit === 'SEMIMONTH' ? 15 : 30 * (MONTHS_PER_UNIT[unit] ?? 1));
}

/** Days in the complete year counted back from `ms` to the same day of the previous year (365 or 366). */
function yearLengthEndingAt(ms: number): number {
  return daysBetween(monthsBack(ms, 12), ms);
}

/**
 * EU 2008/48/EC time in years from the first drawdown to a date: whole years, months or weeks counted back from the
 * later date, then the remaining days over the length of the year ending where those days end. DAY and YEAR count
 * whole years; month-based units count months; week-based units count weeks (the Annex knows only those three).
 */
export function euYearFraction(startMs: number, dateMs: number, unit: UnitPeriod): number {
  const weekDays = DAYS_PER_WEEK_UNIT[unit];
  if (weekDays !== undefined && unit !== 'DAY') {
    const weeks = Math.floor(daysBetween(startMs, dateMs) / weekDays) * (weekDays / 7);
    const stopMs = dateMs - weeks * 7 * MS_PER_DAY;
    return weeks / 52 + daysBetween(startMs, stopMs) / yearLengthEndingAt(stopMs);
  }
  const stepMonths = unit === 'DAY' || unit === 'YEAR' ? 12 : 1;
  const { steps, stopMs } = wholeMonthStepsBack(startMs, dateMs, stepMonths);
  return (steps * stepMonths) / 12 + daysBetween(startMs, stopMs) / yearLengthEndingAt(stopMs);
}

// ---------------------------------------------------------------- solver

export interface TimedFlow {
  /** Positive for payments, negative for advances. */
  amount: number;
  timing: Timing;
}

function netPresentValue(flows: readonly TimedFlow[], i: number): { value: number; derivative: number } {
  let value = 0;
  let derivative = 0;
  for (const { amount, timing } of flows) {
    const simple = 1 + timing.fraction * i;
    const compound = Math.pow(1 + i, -timing.whole);
    const pv = (amount * compound) / simple;
    value += pv;
    derivative += -pv * (timing.fraction / simple + timing.whole / (1 + i));
  }
  return { value, derivative };
}

const RATE_MIN = -0.99;
const RATE_MAX = 1e6;
const MAX_ITERATIONS = 300;

/** Safeguarded Newton: Newton steps inside a sign-changing bracket, bisection whenever Newton would leave it. */
export function solveRate(flows: readonly TimedFlow[], guess = 0.01): { rate: number; iterations: number } {
  // Near −100% per period long-dated flows overflow to ±Infinity (and their sum to NaN): start at the lowest
  // rate whose present value is still a finite number.
  let lo = [RATE_MIN, -0.9, -0.5, -0.1, 0].find((r) => Number.isFinite(netPresentValue(flows, r).value)) ?? 0;
  let hi = 1;
  const fLo = netPresentValue(flows, lo).value;
  while (Math.sign(netPresentValue(flows, hi).value) === Math.sign(fLo) && hi < RATE_MAX) hi *= 4;
  const fHi = netPresentValue(flows, hi).value;
  if (!(Math.sign(fLo) * Math.sign(fHi) < 0)) {
    throw new LgError('LG_APR_NO_SOLUTION', 'no rate equates the advances with the payments', {
      reason: 'no sign change between the lowest and highest rates tried',
    });
  }
  const loIsNegative = fLo < 0;
  let x = Math.min(Math.max(guess, lo), hi);
  for (let iteration = 1; iteration <= MAX_ITERATIONS; iteration += 1) {
    const { value, derivative } = netPresentValue(flows, x);
    if (value === 0) return { rate: x, iterations: iteration };
    if (value < 0 === loIsNegative) lo = x;
    else hi = x;
    let next = x - value / derivative;
    if (!Number.isFinite(next) || next <= lo || next >= hi) next = (lo + hi) / 2;
    if (Math.abs(next - x) <= 1e-14 * Math.max(1, Math.abs(x)) || hi - lo <= 1e-15) {
      return { rate: next, iterations: iteration };
    }
    x = next;
  }
  throw new LgError('LG_APR_NO_SOLUTION', 'the rate did not converge', { iterations: MAX_ITERATIONS });
}

// ---------------------------------------------------------------- validation and entry point

function parseFlowDate(flow: CashFlow, field: string): number {
  const ms = parseIsoDate(flow.date);
  if (ms === undefined)
    throw new LgError('LG_VALIDATION', `${field}.date must be YYYY-MM-DD`, { field, value: flow.date });
  return ms;
}

function checkFlows(flows: readonly CashFlow[], field: string): number[] {
  if (!Array.isArray(flows) || flows.length === 0) {
    throw new LgError('LG_VALIDATION', `${field} must be a non-empty list`, { field });
  }
  return flows.map((flow, index) => {
    if (!Number.isSafeInteger(flow.amount) || flow.amount <= 0) {
      throw new LgError(
        'LG_VALIDATION',
        `${field}[${index}].amount must be a positive integer of minor units`,
        {
          field: `${field}[${index}].amount`,
          value: flow.amount,
        },
      );
    }
    return parseFlowDate(flow, `${field}[${index}]`);
  });
}

/** Rounds half-up at `places`, immune to binary artefacts such as 3.055 * 100 = 305.49999999999994. */
export function roundHalfUp(value: number, places: number): number {
  const factor = 10 ** places;
  const scaled = Number((Math.abs(value) * factor).toPrecision(12));
  return (Math.sign(value) * Math.floor(scaled + 0.5)) / factor;
}

export function computeApr(input: AprInput): AprResult {
  if (!(APR_CONVENTIONS as readonly string[]).includes(input.convention)) {
    throw new LgError('LG_VALIDATION', `convention must be one of ${APR_CONVENTIONS.join(', ')}`, {
      field: 'convention',
      value: input.convention,
    });
  }
  const unitPeriod = input.unitPeriod ?? 'MONTH';
  if (!(UNIT_PERIODS as readonly string[]).includes(unitPeriod)) {
    throw new LgError('LG_VALIDATION', `unitPeriod must be one of ${UNIT_PERIODS.join(', ')}`, {
      field: 'unitPeriod',
      value: unitPeriod,
    });
  }
  const advanceMs = checkFlows(input.advances, 'advances');
  const paymentMs = checkFlows(input.payments, 'payments');
  // The term begins with the first advance (Reg Z App. J (b)(2); EU: "the date of the first drawdown").
  const startMs = Math.min(...advanceMs);
  paymentMs.forEach((ms, index) => {
    if (ms < startMs) {
      throw new LgError('LG_VALIDATION', `payments[${index}].date is before the first advance`, {
        field: `payments[${index}].date`,
      });
    }
  });
  const flows = (timing: (ms: number) => Timing): TimedFlow[] => [
    ...input.advances.map((a, k) => ({ amount: -a.amount, timing: timing(advanceMs[k] ?? startMs) })),
    ...input.payments.map((p, j) => ({ amount: p.amount, timing: timing(paymentMs[j] ?? startMs) })),
  ];
  const base = { convention: input.convention, unitPeriod };

  if (input.convention === 'EU_CCD') {
    const solved = solveRate(
      flows((ms) => ({ whole: euYearFraction(startMs, ms, unitPeriod), fraction: 0 })),
      0.1,
    );
    return annualise(base, solved, 1);
  }
  const single = input.convention === 'US_REGZ' ? singlePaymentTerm(advanceMs, paymentMs) : undefined;
  if (single !== undefined) {
    // App. J (b)(5)(vi)/(vii): a single advance repaid by a single payment within a year is one unit period long.
    const solved = solveRate(flows((ms) => ({ whole: ms === startMs ? 0 : 1, fraction: 0 })));
    return annualise(base, solved, single);
  }
  const solved = solveRate(flows((ms) => regZTiming(startMs, ms, unitPeriod)));
  return annualise(base, solved, PERIODS_PER_YEAR[unitPeriod]);
}

function annualise(
  base: Pick<AprResult, 'convention' | 'unitPeriod'>,
  solved: { rate: number; iterations: number },
  periodsPerYear: number,
): AprResult {
  return {
    apr: roundHalfUp(solved.rate * periodsPerYear * 100, APR_DECIMAL_PLACES),
    aprDecimalPlaces: APR_DECIMAL_PLACES,
    convention: base.convention,
    unitPeriod: base.unitPeriod,
    periodicRate: solved.rate,
    periodsPerYear,
    iterations: solved.iterations,
  };
}

/**
 * Unit periods per year for Reg Z App. J (b)(5)(vi)/(vii), or undefined when they do not apply: one advance, one
 * payment, term under a year. A whole number of months gives 12 / months; otherwise 365 / days.
 */
function singlePaymentTerm(advanceMs: readonly number[], paymentMs: readonly number[]): number | undefined {
  const [start] = advanceMs;
  const [end] = paymentMs;
  if (advanceMs.length !== 1 || paymentMs.length !== 1 || start === undefined || end === undefined)
    return undefined;
  const days = daysBetween(start, end);
  if (days <= 0 || monthsBack(end, 12) >= start) return undefined;
  const { steps, stopMs } = wholeMonthStepsBack(start, end, 1);
  return stopMs === start && steps > 0 ? 12 / steps : 365 / days;
}

// ---------------------------------------------------------------- loan disclosure and cap

export interface DisclosureOptions {
  convention: AprConvention;
  /** Disbursement date (YYYY-MM-DD). */
  startDate: string;
}

export interface LoanDisclosure {
  /** Percent, fees included. */
  apr: number;
  aprResult: AprResult;
  totalInterestMinor: number;
  totalFeesMinor: number;
  totalRepayableMinor: number;
  schedule: Schedule;
}

/**
 * The disclosure a loan carries. The up-front fee is withheld from the advance (the borrower receives principal − fee
 * but repays the full principal), so the APR includes every fee, as Reg Z's finance charge, the CCD's total cost of
 * credit and PBoC [2021] No. 3 ("all loan costs ... as a ratio of the principal actually used") require.
 */
export function loanDisclosure(schedule: Schedule, options: DisclosureOptions): LoanDisclosure {
  const advanced = schedule.totalPrincipalMinor - schedule.upfrontFeeMinor;
  if (advanced <= 0) {
    throw new LgError('LG_INVALID_SCHEDULE', 'the up-front fee must be less than the principal', {
      field: 'upfrontFeeMinor',
    });
  }
  const aprResult = computeApr({
    convention: options.convention,
    unitPeriod: 'MONTH',
    advances: [{ amount: advanced, date: options.startDate }],
    payments: schedule.installments
      .filter((i) => i.totalMinor > 0)
      .map((i) => ({ amount: i.totalMinor, date: i.dueDate })),
  });
  return {
    apr: aprResult.apr,
    aprResult,
    totalInterestMinor: schedule.totalInterestMinor,
    totalFeesMinor: schedule.totalFeesMinor,
    totalRepayableMinor: schedule.totalRepayableMinor,
    schedule,
  };
}

export interface AprCapCheck {
  ok: boolean;
  aprPercent: number;
  capPercent: number;
}

/** The all-in cap: an APR strictly above the cap is refused (24% by default, PBoC and the 2025 facilitation rules). */
export function aprCapCheck(aprPercent: number, capPercent: number = DEFAULT_APR_CAP_PERCENT): AprCapCheck {
  if (!Number.isFinite(aprPercent) || !Number.isFinite(capPercent) || capPercent < 0) {
    throw new LgError('LG_VALIDATION', 'aprPercent and capPercent must be finite numbers, cap >= 0', {
      aprPercent,
      capPercent,
    });
  }
  return { ok: aprPercent <= capPercent, aprPercent, capPercent };
}
