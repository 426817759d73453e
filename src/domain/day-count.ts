import { parseIsoDay } from './clock.js';
import { LgError } from './errors.js';

/**
 * Day-count bases for daily interest (按日计息). ACT/365 (fixed) is the Chinese consumer-credit norm: the daily rate is
 * the annual rate / 365 (Jiebei quotes 日利率 = 年利率 / 365), in leap years too. ACT/360 is the money-market basis
 * some products state instead (ISDA 2006 §4.16(e)); the product says which.
 */
export const DAY_COUNT_BASES = ['ACT_365', 'ACT_360'] as const;
export type DayCountBasis = (typeof DAY_COUNT_BASES)[number];

/** The basis of a daily-accrual loan that states none: a DAILY_INTEREST loan on a line without a product. */
export const DEFAULT_DAY_COUNT: DayCountBasis = 'ACT_365';

/** The denominator of the daily rate under a basis. */
export function daysInYear(basis: DayCountBasis): number {
  return basis === 'ACT_360' ? 360 : 365;
}

/** Day number of a strict YYYY-MM-DD, or LG_VALIDATION naming the field. */
export function dayNumberOf(isoDay: string, field = 'date'): number {
  const day = parseIsoDay(isoDay);
  if (day === undefined)
    throw new LgError('LG_VALIDATION', `${field} must be a calendar date YYYY-MM-DD`, { field });
  return day;
}

/**
 * Actual days from `from` to `to` (the day of `from` excluded, `to` included: money drawn and repaid on the same day
 * was out for 0 days). Negative when `to` is before `from`.
 */
export function actualDays(from: string, to: string): number {
  return dayNumberOf(to, 'to') - dayNumberOf(from, 'from');
}

/** Year fraction of the period under the basis (ACT/365: days / 365; ACT/360: days / 360). */
export function yearFraction(from: string, to: string, basis: DayCountBasis): number {
  return actualDays(from, to) / daysInYear(basis);
}
