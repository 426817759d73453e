import {
  MS_PER_DAY,
  addMonthsClampedDay,
  civilFromDay,
  dayFromCivil,
  daysInMonth,
  parseIsoCivil,
  type CivilDate,
} from './clock.js';
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
// Pricing one draw measures dozens of dates three ways, so dates are integers: a day number (clock.ts: whole days
// since 1970-01-01 UTC) for differences and its calendar fields for month steps, both worked out once per date.
// The exported time measures take UTC-midnight milliseconds, as parseIsoDate returns them.

/** A date as a day number (for differences) and as calendar fields (for month steps). */
interface Dated {
  readonly day: number;
  readonly civil: CivilDate;
}

function datedOfDay(day: number): Dated {
  return { day, civil: civilFromDay(day) };
}

function datedOfMs(ms: number): Dated {
  return datedOfDay(Math.floor(ms / MS_PER_DAY));
}

function isLastDayOfMonth(date: CivilDate): boolean {
  return date.day === daysInMonth(date.year, date.month);
}

/** The day `months` before `date`, on `dayOfMonth` (default the same day) clamped to that month's last day. */
function monthsBack(date: CivilDate, months: number, dayOfMonth = date.day): number {
  return addMonthsClampedDay(date, -months, dayOfMonth);
}

/**
 * Whole steps of `stepMonths` months counted back from `later` without passing `earlier`, and the day they stop on.
 * A later date that is a month end clamped from the earlier date's day (31 Jan -> 29 Feb) counts back on that day
 * (29 Feb -> 31 Jan), so a monthly schedule on the 31st is whole months apart, not a month less a few days.
 */
function wholeMonthStepsBack(
  earlier: Dated,
  later: Dated,
  stepMonths: number,
): { steps: number; stopDay: number } {
  const a = earlier.civil;
  const b = later.civil;
  const trackDay = isLastDayOfMonth(b) && a.day > b.day ? a.day : b.day;
  const monthsApart = (b.year - a.year) * 12 + (b.month - a.month);
  // monthsApart / stepMonths whole steps land in the earlier date's month or after it; one more always lands in a
  // month before it, so counting starts here rather than there.
  let steps = Math.max(0, Math.floor(monthsApart / stepMonths));
  let stopDay = steps === 0 ? later.day : monthsBack(b, steps * stepMonths, trackDay);
  while (steps > 0 && stopDay < earlier.day) {
    steps -= 1;
    stopDay = steps === 0 ? later.day : monthsBack(b, steps * stepMonths, trackDay);
  }
  return { steps, stopDay };
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
 * Reg Z Appendix J (b)(5): unit periods between the start of the term and a later date (both UTC midnights).
 * (ii)/(iii) month-based: 30 × full months measured back from the later date + remaining days, divided by 30 × months
 *   per unit (15 for a semimonth). (iv) day/week-based: days divided by days per unit. (v) year: full years back; the
 *   rest is months/12 when it is a whole number of months, otherwise days/365.
 */
export function regZTiming(startMs: number, dateMs: number, unit: UnitPeriod): Timing {
  return regZTimingOf(datedOfMs(startMs), datedOfMs(dateMs), unit);
}

function regZTimingOf(start: Dated, date: Dated, unit: UnitPeriod): Timing {
  const unitDays = DAYS_PER_WEEK_UNIT[unit];
  if (unitDays !== undefined) return splitDays(date.day - start.day, unitDays);
  if (unit === 'YEAR') {
    const years = wholeMonthStepsBack(start, date, 12);
    const months = wholeMonthStepsBack(start, datedOfDay(years.stopDay), 1);
    const restDays = months.stopDay - start.day;
    const fraction = restDays === 0 ? months.steps / 12 : (years.stopDay - start.day) / 365;
    return { whole: years.steps, fraction };
  }
  const { steps, stopDay } = wholeMonthStepsBack(start, date, 1);
  const days30 = 30 * steps + (stopDay - start.day);
  return splitDays(days30, unit === 'SEMIMONTH' ? 15 : 30 * (MONTHS_PER_UNIT[unit] ?? 1));
}

/** Days in the complete year counted back from `day` to the same day of the previous year (365 or 366). */
function yearLengthEndingAt(day: number): number {
  return day - monthsBack(civilFromDay(day), 12);
}

/** Remaining days as a fraction of the year ending at `stopDay`; no days is 0 of any year, so none is measured. */
function remainingYears(days: number, stopDay: number): number {
  return days === 0 ? 0 : days / yearLengthEndingAt(stopDay);
}

/**
 * EU 2008/48/EC time in years from the first drawdown to a date (both UTC midnights): whole years, months or weeks
 * counted back from the later date, then the remaining days over the length of the year ending where those days
 * end. DAY and YEAR count whole years; month-based units count months; week-based units count weeks (the Annex
 * knows only those three).
 */
export function euYearFraction(startMs: number, dateMs: number, unit: UnitPeriod): number {
  return euYearFractionOf(datedOfMs(startMs), datedOfMs(dateMs), unit);
}

function euYearFractionOf(start: Dated, date: Dated, unit: UnitPeriod): number {
  const weekDays = DAYS_PER_WEEK_UNIT[unit];
  if (weekDays !== undefined && unit !== 'DAY') {
    const weeks = Math.floor((date.day - start.day) / weekDays) * (weekDays / 7);
    const stopDay = date.day - weeks * 7;
    return weeks / 52 + remainingYears(stopDay - start.day, stopDay);
  }
  const stepMonths = unit === 'DAY' || unit === 'YEAR' ? 12 : 1;
  const { steps, stopDay } = wholeMonthStepsBack(start, date, stepMonths);
  return (steps * stepMonths) / 12 + remainingYears(stopDay - start.day, stopDay);
}

// ---------------------------------------------------------------- solver

export interface TimedFlow {
  /** Positive for payments, negative for advances. */
  amount: number;
  timing: Timing;
}

/**
 * Flows laid out for the solver as parallel arrays, so that an evaluation (run a few dozen times per APR) touches
 * no objects. `derivative` holds the last evaluation's.
 */
class FlowTable {
  readonly amounts: number[] = [];
  readonly wholes: number[] = [];
  readonly fractions: number[] = [];
  derivative = 0;

  static of(flows: readonly TimedFlow[]): FlowTable {
    const table = new FlowTable();
    for (const { amount, timing } of flows) table.add(amount, timing);
    return table;
  }

  add(amount: number, timing: Timing): void {
    this.amounts.push(amount);
    this.wholes.push(timing.whole);
    this.fractions.push(timing.fraction);
  }

  /** Net present value at rate i (returned) and its derivative (kept in `derivative`). */
  evaluate(i: number): number {
    const { amounts, wholes, fractions } = this;
    const onePlusI = 1 + i;
    let value = 0;
    let derivative = 0;
    for (let k = 0; k < amounts.length; k++) {
      const amount = amounts[k] as number;
      const whole = wholes[k] as number;
      const fraction = fractions[k] as number;
      const simple = 1 + fraction * i;
      // x^0 is 1 for every x, so the advance at the start needs no pow (the slowest step here).
      const compound = whole === 0 ? 1 : Math.pow(onePlusI, -whole);
      const pv = (amount * compound) / simple;
      value += pv;
      derivative += -pv * (fraction / simple + whole / onePlusI);
    }
    this.derivative = derivative;
    return value;
  }

  /**
   * The same net present value as evaluate(i), at one of the solver's fixed bracketing rates. Those rates are the
   * same for every loan, and so are the powers they raise (1, 2, … periods; k/12 years), so the powers are kept.
   */
  valueAtBracketRate(i: number): number {
    const { amounts, wholes, fractions } = this;
    const onePlusI = 1 + i;
    let value = 0;
    for (let k = 0; k < amounts.length; k++) {
      const amount = amounts[k] as number;
      const whole = wholes[k] as number;
      const simple = 1 + (fractions[k] as number) * i;
      const compound = whole === 0 ? 1 : bracketPower(i, onePlusI, whole);
      value += (amount * compound) / simple;
    }
    return value;
  }

  /** Same flows in the same order, exactly (Object.is, so even a −0 is told apart). */
  sameAs(other: FlowTable): boolean {
    return (
      sameNumbers(this.amounts, other.amounts) &&
      sameNumbers(this.wholes, other.wholes) &&
      sameNumbers(this.fractions, other.fractions)
    );
  }
}

function sameNumbers(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let k = 0; k < a.length; k++) if (!Object.is(a[k], b[k])) return false;
  return true;
}

/** Math.pow(1 + rate, −whole) by bracketing rate and exponent; cleared when it grows past its bound. */
const bracketPowers = new Map<number, Map<number, number>>();
const BRACKET_POWERS_PER_RATE = 4096;

function bracketPower(rate: number, onePlusRate: number, whole: number): number {
  let powers = bracketPowers.get(rate);
  if (powers === undefined) bracketPowers.set(rate, (powers = new Map()));
  let power = powers.get(whole);
  if (power === undefined) {
    if (powers.size >= BRACKET_POWERS_PER_RATE) powers.clear();
    power = Math.pow(onePlusRate, -whole);
    powers.set(whole, power);
  }
  return power;
}

interface Solved {
  readonly rate: number;
  readonly iterations: number;
}

const RATE_MIN = -0.99;
const RATE_MAX = 1e6;
const MAX_ITERATIONS = 300;
const DEFAULT_GUESS = 0.01;
const FIRST_FINITE_CANDIDATES = [RATE_MIN, -0.9, -0.5, -0.1, 0];

/** Safeguarded Newton: Newton steps inside a sign-changing bracket, bisection whenever Newton would leave it. */
export function solveRate(
  flows: readonly TimedFlow[],
  guess = DEFAULT_GUESS,
): { rate: number; iterations: number } {
  return { ...solveTable(FlowTable.of(flows), guess) };
}

/**
 * The last few solves, by their exact flows and guess. A solve is a pure function of those, so a hit is the same
 * answer bit for bit: US_REGZ and CN_IRR of one loan solve the same flows, and identical draws repeat.
 */
const SOLVED_MEMO_SIZE = 8;
const solvedMemo: { flows: FlowTable; guess: number; solved: Solved }[] = [];

function solveTable(flows: FlowTable, guess: number): Solved {
  const hit = solvedMemo.find((m) => Object.is(m.guess, guess) && m.flows.sameAs(flows));
  if (hit) return hit.solved;
  const solved = solveUncached(flows, guess);
  if (solvedMemo.unshift({ flows, guess, solved }) > SOLVED_MEMO_SIZE) solvedMemo.pop();
  return solved;
}

function solveUncached(flows: FlowTable, guess: number): Solved {
  // Near −100% per period long-dated flows overflow to ±Infinity (and their sum to NaN): start at the lowest
  // rate whose present value is still a finite number.
  let lo = 0;
  let fLo = Number.NaN;
  for (const rate of FIRST_FINITE_CANDIDATES) {
    fLo = flows.valueAtBracketRate(rate);
    lo = rate;
    if (Number.isFinite(fLo)) break;
  }
  let hi = 1;
  let fHi = flows.valueAtBracketRate(hi);
  while (Math.sign(fHi) === Math.sign(fLo) && hi < RATE_MAX) {
    hi *= 4;
    fHi = flows.valueAtBracketRate(hi);
  }
  if (!(Math.sign(fLo) * Math.sign(fHi) < 0)) {
    throw new LgError('LG_APR_NO_SOLUTION', 'no rate equates the advances with the payments', {
      reason: 'no sign change between the lowest and highest rates tried',
    });
  }
  const loIsNegative = fLo < 0;
  let x = Math.min(Math.max(guess, lo), hi);
  for (let iteration = 1; iteration <= MAX_ITERATIONS; iteration += 1) {
    const value = flows.evaluate(x);
    if (value === 0) return { rate: x, iterations: iteration };
    if (value < 0 === loIsNegative) lo = x;
    else hi = x;
    let next = x - value / flows.derivative;
    if (!Number.isFinite(next) || next <= lo || next >= hi) next = (lo + hi) / 2;
    if (Math.abs(next - x) <= 1e-14 * Math.max(1, Math.abs(x)) || hi - lo <= 1e-15) {
      return { rate: next, iterations: iteration };
    }
    x = next;
  }
  throw new LgError('LG_APR_NO_SOLUTION', 'the rate did not converge', { iterations: MAX_ITERATIONS });
}

// ---------------------------------------------------------------- validation and entry point

function checkAmount(flow: CashFlow, field: string, index: number): void {
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
}

function parseFlowDate(flow: CashFlow, field: string): Dated {
  const civil = parseIsoCivil(flow.date);
  if (civil === undefined)
    throw new LgError('LG_VALIDATION', `${field}.date must be YYYY-MM-DD`, { field, value: flow.date });
  return { day: dayFromCivil(civil.year, civil.month, civil.day), civil };
}

/** Checks every flow in order (the first bad one is reported) and returns their dates. */
function checkFlows(flows: readonly CashFlow[], field: string): Dated[] {
  if (!Array.isArray(flows) || flows.length === 0) {
    throw new LgError('LG_VALIDATION', `${field} must be a non-empty list`, { field });
  }
  const dates: Dated[] = [];
  for (let index = 0; index < flows.length; index++) {
    const flow = flows[index] as CashFlow;
    checkAmount(flow, field, index);
    dates.push(parseFlowDate(flow, `${field}[${index}]`));
  }
  return dates;
}

/** Rounds half-up at `places`, immune to binary artefacts such as 3.055 * 100 = 305.49999999999994. */
export function roundHalfUp(value: number, places: number): number {
  const factor = 10 ** places;
  const raw = Math.abs(value) * factor;
  return (Math.sign(value) * Math.floor(cleaned(raw) + 0.5)) / factor;
}

/**
 * `raw` to 12 significant digits, which is what removes the artefacts. Below 10^6 that moves it by at most 5·10^-7,
 * so when it is further than 10^-6 from a half the rounding cannot change and the (slow) toPrecision is skipped.
 */
function cleaned(raw: number): number {
  if (raw < 1e6 && Math.abs(raw - Math.floor(raw) - 0.5) > 1e-6) return raw;
  return Number(raw.toPrecision(12));
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
  const placement = reusedPlacement(input, unitPeriod) ?? place(input, unitPeriod);
  const base = { convention: input.convention, unitPeriod };
  if (input.convention === 'EU_CCD') {
    return annualise(base, solveTable(flowTable(input, euTimings(placement)), 0.1), 1);
  }
  // App. J (b)(5)(vi)/(vii): a single advance repaid by a single payment within a year is one unit period long.
  const single = input.convention === 'US_REGZ' ? placement.singlePaymentPeriodsPerYear : undefined;
  const timings = single === undefined ? regZTimings(placement) : onePeriodTimings(placement);
  const solved = solveTable(flowTable(input, timings), DEFAULT_GUESS);
  return annualise(base, solved, single ?? PERIODS_PER_YEAR[unitPeriod]);
}

/** Advances (negative) then payments, placed at `timings` (given in that same order). */
function flowTable(input: AprInput, timings: readonly Timing[]): FlowTable {
  const flows = new FlowTable();
  input.advances.forEach((a, k) => flows.add(-a.amount, timings[k] as Timing));
  const offset = input.advances.length;
  input.payments.forEach((p, j) => flows.add(p.amount, timings[offset + j] as Timing));
  return flows;
}

/**
 * A set of flow dates, checked and measured: everything computeApr works out from dates before it solves. Each
 * convention's timings are worked out when first asked for (US_REGZ and CN_IRR share Reg Z's).
 */
interface Placement {
  readonly unitPeriod: UnitPeriod;
  readonly advanceDates: readonly string[];
  readonly paymentDates: readonly string[];
  /** The first advance: the start of the term (Reg Z App. J (b)(2); EU: "the date of the first drawdown"). */
  readonly start: Dated;
  /** Advances then payments. */
  readonly dates: readonly Dated[];
  /** Reg Z App. J (b)(5)(vi)/(vii) unit periods per year, or undefined when that rule does not apply. */
  readonly singlePaymentPeriodsPerYear: number | undefined;
  regZ?: Timing[];
  eu?: Timing[];
}

function regZTimings(p: Placement): Timing[] {
  p.regZ ??= p.dates.map((date) => regZTimingOf(p.start, date, p.unitPeriod));
  return p.regZ;
}

function euTimings(p: Placement): Timing[] {
  p.eu ??= p.dates.map((date) => ({ whole: euYearFractionOf(p.start, date, p.unitPeriod), fraction: 0 }));
  return p.eu;
}

function onePeriodTimings(p: Placement): Timing[] {
  return p.dates.map((date) => ({ whole: date.day === p.start.day ? 0 : 1, fraction: 0 }));
}

/**
 * Recent placements, newest first. Every draw of a day starts on the same date and has one of a few terms, so its
 * dates, and therefore its placement, repeat: reusing one skips parsing and calendar steps, never a check.
 */
const PLACEMENT_MEMO_SIZE = 16;
const placements: Placement[] = [];

function sameDates(dates: readonly string[], flows: readonly CashFlow[]): boolean {
  if (!Array.isArray(flows) || flows.length !== dates.length) return false;
  // A missing flow is a miss here; the full check then reports it as it always has.
  for (let k = 0; k < dates.length; k++) if (flows[k]?.date !== dates[k]) return false;
  return true;
}

/**
 * A remembered placement of exactly these dates. Its dates were all valid and in order, so of the checks only the
 * amounts are left, and the first bad amount is the error the full check would have raised first.
 */
function reusedPlacement(input: AprInput, unitPeriod: UnitPeriod): Placement | undefined {
  const found = placements.find(
    (p) =>
      p.unitPeriod === unitPeriod &&
      sameDates(p.paymentDates, input.payments) &&
      sameDates(p.advanceDates, input.advances),
  );
  if (found === undefined) return undefined;
  input.advances.forEach((flow, index) => checkAmount(flow, 'advances', index));
  input.payments.forEach((flow, index) => checkAmount(flow, 'payments', index));
  return found;
}

function place(input: AprInput, unitPeriod: UnitPeriod): Placement {
  const advances = checkFlows(input.advances, 'advances');
  const payments = checkFlows(input.payments, 'payments');
  const start = advances.reduce((first, a) => (a.day < first.day ? a : first));
  payments.forEach((date, index) => {
    if (date.day < start.day) {
      throw new LgError('LG_VALIDATION', `payments[${index}].date is before the first advance`, {
        field: `payments[${index}].date`,
      });
    }
  });
  const placement: Placement = {
    unitPeriod,
    advanceDates: input.advances.map((a) => a.date),
    paymentDates: input.payments.map((p) => p.date),
    start,
    dates: [...advances, ...payments],
    singlePaymentPeriodsPerYear: singlePaymentTerm(advances, payments),
  };
  if (placements.unshift(placement) > PLACEMENT_MEMO_SIZE) placements.pop();
  return placement;
}

function annualise(
  base: Pick<AprResult, 'convention' | 'unitPeriod'>,
  solved: Solved,
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
function singlePaymentTerm(advances: readonly Dated[], payments: readonly Dated[]): number | undefined {
  const [start] = advances;
  const [end] = payments;
  if (advances.length !== 1 || payments.length !== 1 || start === undefined || end === undefined)
    return undefined;
  const days = end.day - start.day;
  if (days <= 0 || monthsBack(end.civil, 12) >= start.day) return undefined;
  const { steps, stopDay } = wholeMonthStepsBack(start, end, 1);
  return stopDay === start.day && steps > 0 ? 12 / steps : 365 / days;
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
  const payments: CashFlow[] = [];
  for (const i of schedule.installments)
    if (i.totalMinor > 0) payments.push({ amount: i.totalMinor, date: i.dueDate });
  const aprResult = computeApr({
    convention: options.convention,
    unitPeriod: 'MONTH',
    advances: [{ amount: advanced, date: options.startDate }],
    payments,
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

// ---------------------------------------------------------------- simple-interest annualised rate (单利)

/**
 * The annualised rate by simple interest (单利), as PBoC Announcement [2021] No. 3 permits alongside the IRR:
 * the whole cost of credit (interest and every fee) divided by the principal-years actually used — each period's
 * outstanding principal × its actual days / 365. A daily-interest loan without fees yields its contract rate; an
 * amortising loan is not flattered (a flat rate on the original principal would halve its apparent cost).
 */
export function simpleAnnualRatePercent(schedule: Schedule, startDate: string): number {
  const start = parseIsoCivil(startDate);
  if (start === undefined) {
    throw new LgError('LG_VALIDATION', 'startDate must be a calendar date YYYY-MM-DD', { startDate });
  }
  let previousDay = dayFromCivil(start.year, start.month, start.day);
  let balance = schedule.totalPrincipalMinor;
  let principalYears = 0;
  for (const i of schedule.installments) {
    const due = parseIsoCivil(i.dueDate);
    if (due === undefined) continue;
    const day = dayFromCivil(due.year, due.month, due.day);
    principalYears += (balance * (day - previousDay)) / 365;
    balance -= i.principalMinor;
    previousDay = day;
  }
  if (principalYears <= 0) return 0;
  const cost = schedule.totalInterestMinor + schedule.totalFeesMinor;
  return roundHalfUp((cost / principalYears) * 100, APR_DECIMAL_PLACES);
}
