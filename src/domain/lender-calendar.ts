import { MS_PER_DAY, dateAtOffset, dayFromCivil, parseIsoDay } from './clock.js';

/**
 * The lender's calendar (LINEGUARD_LENDER_UTC_OFFSET): a fixed offset from UTC in minutes east (Asia/Shanghai: +480;
 * China has kept no daylight saving since 1991, so a fixed offset is exact there), UTC when unset. Every calendar date
 * derived from an instant, and every instant a date begins or ends at, is read here: a loan's start and a repayment's
 * date, "today" for interest and days past due, the daily job's day, the day a portfolio snapshot is for and the
 * instant its book is read at, a monthly report's bounds, the days a borrower is shown. So a draw, its repayment, the
 * night's job and the snapshot of that night are never dated on two calendars.
 */
export interface LenderCalendar {
  /** Minutes east of UTC; UTC (0) when unset. */
  readonly lenderUtcOffsetMinutes?: number;
}

const offsetMs = (calendar: LenderCalendar): number => (calendar.lenderUtcOffsetMinutes ?? 0) * 60_000;

/** The lender's calendar date (YYYY-MM-DD) of an instant. */
export function lenderDayOf(calendar: LenderCalendar, ms: number): string {
  return dateAtOffset(ms, calendar.lenderUtcOffsetMinutes ?? 0);
}

/** The first instant of a date (YYYY-MM-DD) on the lender's calendar, or undefined when the text is not a date. */
export function lenderDayStart(calendar: LenderCalendar, date: string): number | undefined {
  const day = parseIsoDay(date);
  return day === undefined ? undefined : day * MS_PER_DAY - offsetMs(calendar);
}

/** The first instant after a date (YYYY-MM-DD) on the lender's calendar (its end, exclusive), or undefined. */
export function lenderDayEnd(calendar: LenderCalendar, date: string): number | undefined {
  const start = lenderDayStart(calendar, date);
  return start === undefined ? undefined : start + MS_PER_DAY;
}

/**
 * A calendar month (YYYY-MM) on the lender's calendar, [from, to): from its first day's midnight there to the next
 * month's; undefined when the text is not a month.
 */
export function lenderMonthBounds(
  calendar: LenderCalendar,
  month: string,
): { from: number; to: number } | undefined {
  const match = /^(\d{4})-(\d{2})$/.exec(month);
  const first = match ? parseIsoDay(`${month}-01`) : undefined;
  if (!match || first === undefined) return undefined;
  const [y, m] = [Number(match[1]), Number(match[2])];
  const next = m === 12 ? dayFromCivil(y + 1, 1, 1) : dayFromCivil(y, m + 1, 1);
  return { from: first * MS_PER_DAY - offsetMs(calendar), to: next * MS_PER_DAY - offsetMs(calendar) };
}
