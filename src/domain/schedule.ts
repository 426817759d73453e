import { addMonthsClampedDay, isoDay, parseIsoCivil, type CivilDate } from './clock.js';
import { LgError } from './errors.js';
import { accrueMinor } from './accrual.js';
import { divRoundHalfUp } from './money.js';
import { DEFAULT_DAY_COUNT, type DayCountBasis } from './day-count.js';

/**
 * Repayment schedules for a draw: equal instalment (等额本息), equal principal (等额本金) and interest-only with a bullet.
 *
 * Conventions (stated, because Fineract's and Frappe's trackers show how costly unstated ones are):
 * - Monthly periods; the periodic rate is annualRate / 12 applied to the declining balance. This is the same as
 *   Fineract's 30/360 day count with monthly periods (each period is 30/360 of a year) and as the usual Chinese
 *   "年利率 / 12" monthly rate; it ignores the actual number of days in a month.
 * - Interest is rounded half-up to the minor unit in each period. The rate is taken to 12 decimal places and the
 *   interest is computed with integer arithmetic, so 0.5 minor units are never lost to binary floating point.
 * - The equal instalment (EMI) is rounded half-up to the minor unit; the last period absorbs the remainder, so the
 *   principal column sums exactly to the loan principal: no cent is lost or invented.
 * - Due dates fall on the start date's day of month, clamped to the month's end (31 Jan -> 28/29 Feb -> 31 Mar).
 */
export const MONTHLY_METHODS = ['EQUAL_INSTALLMENT', 'EQUAL_PRINCIPAL', 'INTEREST_ONLY'] as const;
/**
 * DAILY_INTEREST is the 随借随还 loan: interest accrues by the day on what is outstanding, nothing is due before the
 * maturity date (start + termMonths), and the borrower may repay any amount on any day.
 */
export const REPAYMENT_METHODS = [...MONTHLY_METHODS, 'DAILY_INTEREST'] as const;
export type RepaymentMethod = (typeof REPAYMENT_METHODS)[number];

export const MAX_TERM_MONTHS = 360;

export interface ScheduleInput {
  principalMinor: number;
  /** Nominal annual rate as a decimal (0.18 = 18%). */
  annualRate: number;
  termMonths: number;
  method: RepaymentMethod;
  /** Disbursement date, YYYY-MM-DD. */
  startDate: string;
  /** Charged at disbursement (withheld from the amount paid out); part of the cost of credit. */
  upfrontFeeMinor?: number;
  /** Charged with every instalment. */
  periodicFeeMinor?: number;
  currency?: string;
  /**
   * When set, interest accrues daily (see accrual.ts) and each instalment's interest is the accrual for the actual
   * days of its period, so the schedule shows what the borrower owes when paying on each due date. Unset: the
   * monthly 30/360 convention above (DAILY_INTEREST always accrues daily, ACT/365 unless stated).
   */
  dayCount?: DayCountBasis;
}

export interface Installment {
  /** 1-based. */
  period: number;
  dueDate: string;
  principalMinor: number;
  interestMinor: number;
  feeMinor: number;
  totalMinor: number;
  balanceAfterMinor: number;
}

export interface Schedule {
  installments: Installment[];
  totalPrincipalMinor: number;
  totalInterestMinor: number;
  /** Up-front fee plus all periodic fees. */
  totalFeesMinor: number;
  /**
   * What the borrower pays back after disbursement: the sum of all instalments (principal + interest + periodic fees).
   * The up-front fee is withheld at disbursement, so it is a cost (in totalFeesMinor) but not a repayment.
   */
  totalRepayableMinor: number;
  upfrontFeeMinor: number;
}

const RATE_SCALE = 1_000_000_000_000; // 12 decimal places

function invalid(message: string, field: string, value: unknown): LgError {
  return new LgError('LG_INVALID_SCHEDULE', message, { field, value });
}

function checkMoney(value: number, field: string, min: number): void {
  if (!Number.isSafeInteger(value) || value < min) {
    throw invalid(`${field} must be an integer number of minor units >= ${min}`, field, value);
  }
}

/**
 * Refuses a schedule whose totals are past 2^53 - 1, where a number no longer holds every integer: such a loan could
 * not be booked to the fen (core/pricing.ts asks this of every loan it prices). buildSchedule itself still computes
 * one, since its interest is exact for any safe balance. Checking the totals is enough: every amount is non-negative,
 * so every instalment and every running sum is at most the total repayable (or the total of fees), and while those
 * are safe each addition was exact.
 */
export function assertExactSchedule(schedule: Schedule): Schedule {
  for (const field of ['totalRepayableMinor', 'totalFeesMinor'] as const) {
    if (!Number.isSafeInteger(schedule[field]))
      throw invalid(
        `${field} is past ${Number.MAX_SAFE_INTEGER} minor units: ask for less`,
        field,
        schedule[field],
      );
  }
  return schedule;
}

/** Checks the input and returns its start date, parsed. */
function validate(input: ScheduleInput): CivilDate {
  checkMoney(input.principalMinor, 'principalMinor', 1);
  checkMoney(input.upfrontFeeMinor ?? 0, 'upfrontFeeMinor', 0);
  checkMoney(input.periodicFeeMinor ?? 0, 'periodicFeeMinor', 0);
  if (!Number.isInteger(input.termMonths) || input.termMonths < 1 || input.termMonths > MAX_TERM_MONTHS) {
    throw invalid(
      `termMonths must be an integer from 1 to ${MAX_TERM_MONTHS}`,
      'termMonths',
      input.termMonths,
    );
  }
  if (!Number.isFinite(input.annualRate) || input.annualRate < 0 || input.annualRate > 1) {
    throw invalid('annualRate must be a decimal from 0 to 1 (0.18 = 18%)', 'annualRate', input.annualRate);
  }
  if (!(REPAYMENT_METHODS as readonly string[]).includes(input.method)) {
    throw invalid(`method must be one of ${REPAYMENT_METHODS.join(', ')}`, 'method', input.method);
  }
  // Years before 1900 are refused: Date.UTC maps two-digit years to the 1900s, and no loan starts then.
  const start = parseIsoCivil(input.startDate);
  if (start === undefined || input.startDate < '1900-01-01') {
    throw invalid('startDate must be a calendar date YYYY-MM-DD', 'startDate', input.startDate);
  }
  if (input.currency !== undefined && !/^[A-Z]{3}$/.test(input.currency)) {
    throw invalid('currency must be an ISO 4217 code', 'currency', input.currency);
  }
  return start;
}

/** Same day of month `months` later, clamped to that month's last day. */
export function addMonthsClamped(isoDateText: string, months: number): string {
  const start = parseIsoCivil(isoDateText);
  // Date.UTC reads years 0–99 as 19xx and truncates fractional months; such inputs keep their old meaning.
  if (start === undefined || start.year < 100 || !Number.isInteger(months)) {
    return addMonthsClampedByDate(isoDateText, months);
  }
  return isoDay(addMonthsClampedDay(start, months));
}

/** addMonthsClamped through Date, for the inputs above that are not plain calendar dates. */
function addMonthsClampedByDate(isoDateText: string, months: number): string {
  const [y, m, d] = isoDateText.split('-').map(Number) as [number, number, number];
  const target = new Date(Date.UTC(y, m - 1 + months, 1));
  const lastDay = new Date(Date.UTC(target.getUTCFullYear(), target.getUTCMonth() + 1, 0)).getUTCDate();
  target.setUTCDate(Math.min(d, lastDay));
  return target.toISOString().slice(0, 10);
}

/**
 * Due dates of periods 1..termMonths from a start date. Every draw of a day starts on the same date, so the
 * last start's dates are kept and extended as longer terms ask for them (strings are immutable: sharing is safe).
 */
let dueDateCache: { startDate: string; dates: string[] } | undefined;

function dueDates(startDate: string, start: CivilDate, termMonths: number): readonly string[] {
  if (dueDateCache?.startDate !== startDate) dueDateCache = { startDate, dates: [] };
  const { dates } = dueDateCache;
  for (let period = dates.length + 1; period <= termMonths; period += 1) {
    dates.push(isoDay(addMonthsClampedDay(start, period)));
  }
  return dates;
}

function greatestCommonDivisor(a: number, b: number): number {
  while (b !== 0) {
    const rest = a % b;
    a = b;
    b = rest;
  }
  return a;
}

/**
 * One period's interest on a balance at annualRate/12, rounded half-up, in exact integer arithmetic:
 * balance × rateScaled / (12 × 10^12). The fraction is reduced once per schedule so that, for ordinary balances,
 * the product stays below 2^53 and plain numbers are exact; beyond that BigInt does the same sum.
 */
function periodInterestRule(rateScaled: number): (balanceMinor: number) => number {
  const divisor = greatestCommonDivisor(rateScaled, 12 * RATE_SCALE);
  const rate = rateScaled / divisor;
  const denominator = (12 * RATE_SCALE) / divisor;
  // Every intermediate below (product, quotient × denominator, remainder) then stays an exact integer.
  const exactLimit = Number.MAX_SAFE_INTEGER - 2 * denominator;
  const maxExactBalance = rate === 0 ? Number.MAX_SAFE_INTEGER : Math.floor(exactLimit / rate);
  const bigRate = BigInt(rateScaled);
  const bigDenominator = 12n * BigInt(RATE_SCALE);
  return (balanceMinor) => {
    if (balanceMinor > maxExactBalance) return divRoundHalfUp(BigInt(balanceMinor) * bigRate, bigDenominator);
    const numerator = balanceMinor * rate;
    let quotient = Math.floor(numerator / denominator);
    let remainder = numerator - quotient * denominator;
    // The float division may land one off the true quotient; the exact remainder says which way.
    if (remainder < 0) {
      quotient -= 1;
      remainder += denominator;
    } else if (remainder >= denominator) {
      quotient += 1;
      remainder -= denominator;
    }
    return 2 * remainder >= denominator ? quotient + 1 : quotient;
  };
}

/**
 * One period's interest on a balance under the monthly convention above (annualRate / 12, rounded half-up, exact):
 * what an instalment of a schedule built without a day count bears on its opening balance.
 */
export function monthlyInterestMinor(balanceMinor: number, annualRate: number): number {
  return periodInterestRule(Math.round(annualRate * RATE_SCALE))(balanceMinor);
}

/**
 * The monthly interest on a balance for part of a period, `days` of its `periodDays`, rounded once, half-up, in
 * integer arithmetic: balance × annualRate / 12 × days / periodDays. The share of a period's interest that a sum
 * bears for the days it was (or was not) out (core/allocation.ts: early repayment of a monthly loan).
 */
export function monthlyInterestForDaysMinor(
  balanceMinor: number,
  annualRate: number,
  share: { readonly days: number; readonly periodDays: number },
): number {
  if (share.days <= 0 || balanceMinor <= 0) return 0;
  const numerator = BigInt(balanceMinor) * BigInt(Math.round(annualRate * RATE_SCALE)) * BigInt(share.days);
  return divRoundHalfUp(numerator, 12n * BigInt(RATE_SCALE) * BigInt(share.periodDays));
}

/** The level payment P·r / (1 − (1+r)^−n), rounded half-up to the minor unit; P/n when the rate is 0. */
function equalInstallment(principalMinor: number, monthlyRate: number, termMonths: number): number {
  if (monthlyRate === 0) return Math.round(principalMinor / termMonths);
  const emi = (principalMinor * monthlyRate) / (1 - Math.pow(1 + monthlyRate, -termMonths));
  return Math.round(emi);
}

/** The principal due in a period before the last, given the method; never more than the balance, never negative. */
type PrincipalRule = (balanceMinor: number, interestMinor: number) => number;

function principalRule(input: ScheduleInput): PrincipalRule {
  const { principalMinor, termMonths, annualRate } = input;
  switch (input.method) {
    case 'EQUAL_INSTALLMENT': {
      const emi = equalInstallment(principalMinor, annualRate / 12, termMonths);
      return (balance, interest) => Math.min(balance, Math.max(0, emi - interest));
    }
    case 'EQUAL_PRINCIPAL': {
      const part = Math.floor(principalMinor / termMonths);
      return (balance) => Math.min(balance, part);
    }
    case 'INTEREST_ONLY':
    case 'DAILY_INTEREST':
      return () => 0;
  }
}

export function buildSchedule(input: ScheduleInput): Schedule {
  const start = validate(input);
  if (input.dayCount !== undefined || input.method === 'DAILY_INTEREST')
    return buildAccruingSchedule(input, start);
  const interestOn = periodInterestRule(Math.round(input.annualRate * RATE_SCALE));
  const feeMinor = input.periodicFeeMinor ?? 0;
  const upfrontFeeMinor = input.upfrontFeeMinor ?? 0;
  const rule = principalRule(input);
  const dates = dueDates(input.startDate, start, input.termMonths);
  const installments: Installment[] = [];
  let balance = input.principalMinor;
  let totalPrincipalMinor = 0;
  let totalInterestMinor = 0;
  let totalRepayableMinor = 0;
  let periodicFeesMinor = 0;
  for (let period = 1; period <= input.termMonths; period += 1) {
    const interestMinor = interestOn(balance);
    // The last period takes whatever principal is left: the remainder of every rounding above.
    const principalMinor = period === input.termMonths ? balance : rule(balance, interestMinor);
    const totalMinor = principalMinor + interestMinor + feeMinor;
    balance -= principalMinor;
    installments.push({
      period,
      dueDate: dates[period - 1] as string,
      principalMinor,
      interestMinor,
      feeMinor,
      totalMinor,
      balanceAfterMinor: balance,
    });
    totalPrincipalMinor += principalMinor;
    totalInterestMinor += interestMinor;
    totalRepayableMinor += totalMinor;
    periodicFeesMinor += feeMinor;
  }
  return {
    installments,
    totalPrincipalMinor,
    totalInterestMinor,
    totalFeesMinor: upfrontFeeMinor + periodicFeesMinor,
    totalRepayableMinor,
    upfrontFeeMinor,
  };
}

// ---------------------------------------------------------------- daily-accrual schedules

/** What a projection of the remaining instalments needs: the balance, the date interest runs from, the due dates. */
export interface ProjectionInput {
  balanceMinor: number;
  /** Interest on the balance runs from this date (excluded): the disbursement or the last repayment. */
  fromDate: string;
  dueDates: readonly string[];
  method: RepaymentMethod;
  annualRate: number;
  dayCount: DayCountBasis;
  periodicFeeMinor: number;
  /** Number of the first projected instalment (1 for a new loan). */
  firstPeriod: number;
  /** Interest accrued before fromDate and not yet paid: it falls due with the first projected instalment. */
  carriedInterestMinor?: number;
  /** Principal of each instalment, when fixed by the caller (shortening a schedule keeps the remaining parts). */
  principalParts?: readonly number[];
}

function principalPartsFor(p: ProjectionInput): (index: number, balance: number, interest: number) => number {
  const n = p.dueDates.length;
  if (p.principalParts) return (index, balance) => Math.min(balance, p.principalParts?.[index] ?? 0);
  switch (p.method) {
    case 'EQUAL_INSTALLMENT': {
      // 等额本息: the level payment at the monthly rate annualRate / 12; the day-count interest decides the split.
      const level = equalInstallment(p.balanceMinor, p.annualRate / 12, n);
      return (_index, balance, interest) => Math.min(balance, Math.max(0, level - interest));
    }
    case 'EQUAL_PRINCIPAL': {
      const part = Math.floor(p.balanceMinor / n);
      return (_index, balance) => Math.min(balance, part);
    }
    case 'INTEREST_ONLY':
    case 'DAILY_INTEREST':
      return () => 0;
  }
}

/**
 * The instalments from fromDate on: each instalment's interest is the daily accrual on the balance over its days
 * (the first also carries any unpaid interest), the last instalment takes all remaining principal.
 */
export function projectInstallments(p: ProjectionInput): Installment[] {
  const partOf = principalPartsFor(p);
  const out: Installment[] = [];
  let balance = p.balanceMinor;
  let from = p.fromDate;
  p.dueDates.forEach((dueDate, index) => {
    const accrued = accrueMinor(balance, p.annualRate, p.dayCount, { from, to: dueDate });
    const interestMinor = accrued + (index === 0 ? (p.carriedInterestMinor ?? 0) : 0);
    const last = index === p.dueDates.length - 1;
    const principalMinor = last ? balance : partOf(index, balance, accrued);
    balance -= principalMinor;
    const feeMinor = p.periodicFeeMinor;
    out.push({
      period: p.firstPeriod + index,
      dueDate,
      principalMinor,
      interestMinor,
      feeMinor,
      totalMinor: principalMinor + interestMinor + feeMinor,
      balanceAfterMinor: balance,
    });
    from = dueDate;
  });
  return out;
}

/** Due dates of a new loan: monthly, or the single maturity date of a DAILY_INTEREST loan. */
export function scheduleDueDates(startDate: string, termMonths: number, method: RepaymentMethod): string[] {
  const start = parseIsoCivil(startDate);
  if (start === undefined)
    throw invalid('startDate must be a calendar date YYYY-MM-DD', 'startDate', startDate);
  if (method === 'DAILY_INTEREST') return [isoDay(addMonthsClampedDay(start, termMonths))];
  return [...dueDates(startDate, start, termMonths)].slice(0, termMonths);
}

function scheduleOf(installments: Installment[], upfrontFeeMinor: number): Schedule {
  let totalPrincipalMinor = 0;
  let totalInterestMinor = 0;
  let periodicFeesMinor = 0;
  let totalRepayableMinor = 0;
  for (const i of installments) {
    totalPrincipalMinor += i.principalMinor;
    totalInterestMinor += i.interestMinor;
    periodicFeesMinor += i.feeMinor;
    totalRepayableMinor += i.totalMinor;
  }
  return {
    installments,
    totalPrincipalMinor,
    totalInterestMinor,
    totalFeesMinor: upfrontFeeMinor + periodicFeesMinor,
    totalRepayableMinor,
    upfrontFeeMinor,
  };
}

function buildAccruingSchedule(input: ScheduleInput, start: CivilDate): Schedule {
  const dates =
    input.method === 'DAILY_INTEREST'
      ? [isoDay(addMonthsClampedDay(start, input.termMonths))]
      : [...dueDates(input.startDate, start, input.termMonths)].slice(0, input.termMonths);
  const installments = projectInstallments({
    balanceMinor: input.principalMinor,
    fromDate: input.startDate,
    dueDates: dates,
    method: input.method,
    annualRate: input.annualRate,
    dayCount: input.dayCount ?? DEFAULT_DAY_COUNT,
    periodicFeeMinor: input.periodicFeeMinor ?? 0,
    firstPeriod: 1,
  });
  return scheduleOf(installments, input.upfrontFeeMinor ?? 0);
}
