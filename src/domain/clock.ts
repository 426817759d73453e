/** Time is injected everywhere so that tests and replays are exact. */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** A clock a test moves by hand. */
export class ManualClock implements Clock {
  constructor(private current: number) {}
  now(): number {
    return this.current;
  }
  set(ms: number): void {
    this.current = ms;
  }
  advance(ms: number): void {
    this.current += ms;
  }
}

/**
 * A clock that runs `lag` ms behind another. The demo seed replays its book's history with it (app/bootstrap.ts):
 * set weeks behind before the first borrower applies (startBehind, the one step back it ever takes), the lag then
 * only shrinks, a day at a time, to 0 before the server listens, so time read through it goes forward from the seed's
 * first instant on and ends at the real one. The clock itself holds to that: a lag change that would move its now
 * backwards is refused, so no caller can make a later row look older than an earlier one. With no lag it is the other
 * clock.
 */
export class LaggingClock implements Clock {
  private lagMs = 0;
  private startedBehind = false;
  constructor(private readonly base: Clock) {}
  now(): number {
    return this.base.now() - this.lagMs;
  }
  /** How far behind the other clock it runs (ms). */
  get lag(): number {
    return this.lagMs;
  }
  /**
   * Starts a replay of the past: the clock goes `ms` behind the other. Allowed once, while it still runs with it:
   * what was written before keeps its real instant, what the replay writes is dated from here on, forward.
   */
  startBehind(ms: number): void {
    checkLag(ms);
    if (this.startedBehind || this.lagMs !== 0)
      throw new RangeError('a lagging clock goes back once, from no lag: it has already started behind');
    this.startedBehind = true;
    this.lagMs = ms;
  }
  /** Shrinks the lag (time moves on); a larger lag would move now backwards and is refused. */
  setLag(ms: number): void {
    checkLag(ms);
    if (ms > this.lagMs)
      throw new RangeError(
        `a lagging clock only moves forward: a lag of ${ms} ms would put it back from a lag of ${this.lagMs} ms`,
      );
    this.lagMs = ms;
  }
}

function checkLag(ms: number): void {
  if (!Number.isSafeInteger(ms) || ms < 0) throw new RangeError(`a clock's lag is whole ms >= 0, got ${ms}`);
}

export const MS_PER_DAY = 86_400_000;

// ---------------------------------------------------------------- integer calendar (proleptic Gregorian, UTC)
// Pricing a draw does dozens of date steps; Date objects and ISO strings cost microseconds each, integers nanoseconds.
// A "day number" is whole days since 1970-01-01 (negative before), so day × MS_PER_DAY is that day's UTC midnight.

/** A calendar date; month is 1–12. */
export interface CivilDate {
  year: number;
  month: number;
  day: number;
}

/** The first and last instants toISOString renders as YYYY-MM-...: years 0000 to 9999. */
const FIRST_4_DIGIT_YEAR_MS = -62_167_219_200_000;
const AFTER_4_DIGIT_YEARS_MS = 253_402_300_800_000;

export function isLeapYear(year: number): boolean {
  return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
}

/** Days in a month (1–12) of a year. */
export function daysInMonth(year: number, month: number): number {
  if (month === 2) return isLeapYear(year) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/** Day number of a calendar date (H. Hinnant's days_from_civil; the year runs March to February). */
export function dayFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const dayOfYear = Math.floor((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5) + day - 1;
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * 146_097 + dayOfEra - 719_468;
}

/** Calendar date of a day number (H. Hinnant's civil_from_days). */
export function civilFromDay(dayNumber: number): CivilDate {
  const z = dayNumber + 719_468;
  const era = Math.floor(z / 146_097);
  const dayOfEra = z - era * 146_097;
  const yearOfEra = Math.floor(
    (dayOfEra -
      Math.floor(dayOfEra / 1460) +
      Math.floor(dayOfEra / 36_524) -
      Math.floor(dayOfEra / 146_096)) /
      365,
  );
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const mp = Math.floor((5 * dayOfYear + 2) / 153);
  const month = mp < 10 ? mp + 3 : mp - 9;
  return {
    year: yearOfEra + era * 400 + (month <= 2 ? 1 : 0),
    month,
    day: dayOfYear - Math.floor((153 * mp + 2) / 5) + 1,
  };
}

/** The same day of month `months` later (earlier when negative), clamped to the target month's last day. */
export function addMonthsClampedDay(date: CivilDate, months: number, dayOfMonth = date.day): number {
  const monthIndex = date.year * 12 + (date.month - 1) + months;
  const year = Math.floor(monthIndex / 12);
  const month = monthIndex - year * 12 + 1;
  return dayFromCivil(year, month, Math.min(dayOfMonth, daysInMonth(year, month)));
}

const TWO_DIGITS = Array.from({ length: 100 }, (_, n) => String(n).padStart(2, '0'));

/** YYYY-MM-DD of a day number (years 0000–9999; others as toISOString renders them, cut to 10 characters). */
export function isoDay(dayNumber: number): string {
  const { year, month, day } = civilFromDay(dayNumber);
  if (year < 0 || year > 9999) return new Date(dayNumber * MS_PER_DAY).toISOString().slice(0, 10);
  const yyyy = year >= 1000 ? String(year) : String(year).padStart(4, '0');
  return `${yyyy}-${TWO_DIGITS[month] ?? ''}-${TWO_DIGITS[day] ?? ''}`;
}

/** isoDate is asked for "today" on every request: one day's answer is kept. */
let lastIsoDay = Number.NaN;
let lastIsoText = '';

/** ISO calendar date (YYYY-MM-DD, UTC) of an instant. */
export function isoDate(ms: number): string {
  // Whole milliseconds in years 0000–9999 take the integer path; anything else (fractions, far years, NaN, which
  // throws) goes through Date exactly as before.
  if (!Number.isInteger(ms) || ms < FIRST_4_DIGIT_YEAR_MS || ms >= AFTER_4_DIGIT_YEARS_MS) {
    return new Date(ms).toISOString().slice(0, 10);
  }
  const dayNumber = Math.floor(ms / MS_PER_DAY);
  if (dayNumber !== lastIsoDay) {
    lastIsoText = isoDay(dayNumber);
    lastIsoDay = dayNumber;
  }
  return lastIsoText;
}

/**
 * The calendar date (YYYY-MM-DD) of an instant at a fixed offset from UTC, in minutes east (Asia/Shanghai: +480; China
 * has kept no daylight saving since 1991, so a fixed offset is exact there). A lender's business day: the day a draw
 * starts, a repayment is dated, interest accrues to.
 */
export function dateAtOffset(ms: number, utcOffsetMinutes: number): string {
  return isoDate(ms + utcOffsetMinutes * 60_000);
}

/** The first instant of a calendar date at a fixed offset from UTC (minutes east), or undefined if not a date. */
export function startOfDateAtOffset(text: string, utcOffsetMinutes: number): number | undefined {
  const ms = parseIsoDate(text);
  return ms === undefined ? undefined : ms - utcOffsetMinutes * 60_000;
}

/** Digits at text[from..from+count) as a number, or -1 if any is not an ASCII digit. */
function digitsAt(text: string, from: number, count: number): number {
  let value = 0;
  for (let i = from; i < from + count; i++) {
    const digit = text.charCodeAt(i) - 48;
    if (digit < 0 || digit > 9) return -1;
    value = value * 10 + digit;
  }
  return value;
}

const HYPHEN = 45;

/** A strict YYYY-MM-DD (a real calendar date, years 0000–9999) as a calendar date, or undefined. */
export function parseIsoCivil(text: string): CivilDate | undefined {
  // The old regex test coerced non-strings to text; a template literal does the same (and throws for a symbol).
  const s = typeof text === 'string' ? text : `${text as unknown as string}`;
  if (s.length !== 10 || s.charCodeAt(4) !== HYPHEN || s.charCodeAt(7) !== HYPHEN) return undefined;
  const year = digitsAt(s, 0, 4);
  const month = digitsAt(s, 5, 2);
  const day = digitsAt(s, 8, 2);
  if (year < 0 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined;
  return { year, month, day };
}

/** Day number of a strict YYYY-MM-DD, or undefined. */
export function parseIsoDay(text: string): number | undefined {
  const date = parseIsoCivil(text);
  return date === undefined ? undefined : dayFromCivil(date.year, date.month, date.day);
}

/**
 * The instant of a row that must sort after the newest row of its scope (a borrower's lines, a line's draws), taken
 * under the scope's lock: now, or 1 ms after that newest row when the clock stands still or reads behind it (another
 * process's clock a few ms behind this one's). Rows of one scope are then created in the order they commit, so a
 * listing's cursor or `from` never passes a row that commits later, and no decision sees its scope's last row in the
 * future.
 */
export function instantAfter(now: number, newest: number | null | undefined): number {
  return newest === null || newest === undefined ? now : Math.max(now, newest + 1);
}

/** Parses YYYY-MM-DD strictly (UTC midnight) or returns undefined. */
export function parseIsoDate(text: string): number | undefined {
  const dayNumber = parseIsoDay(text);
  return dayNumber === undefined ? undefined : dayNumber * MS_PER_DAY;
}

/**
 * An RFC 3339 date-time (what the API's `date-time` schema format admits: date, `T` or a space, hh:mm:ss with an
 * optional fraction, and a time zone, `Z` or ±hh[[:]mm]).
 */
const RFC3339_DATE_TIME =
  /^(\d{4}-\d{2}-\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:([Zz])|([+-])(\d{2})(?::?(\d{2}))?)$/;

/**
 * Parses an RFC 3339 date-time strictly, as epoch ms, or returns undefined. Date.parse is no parser for input: it
 * reads "12" as 2001-12-01, "x 2026" as 2026-01-01, rolls 02-30 over into March and reads a time without a zone in
 * the server's own. A leap second (23:59:60) is refused, as Date.parse refuses it; digits past milliseconds are cut.
 */
export function parseIsoInstant(text: string): number | undefined {
  const m = typeof text === 'string' ? RFC3339_DATE_TIME.exec(text) : null;
  if (m === null) return undefined;
  const [, date = '', hh, mm, ss, fraction = '', zulu, sign, offH = '0', offM = '0'] = m;
  const dayNumber = parseIsoDay(date);
  const [hour, minute, second] = [Number(hh), Number(mm), Number(ss)];
  const [offsetHours, offsetMinutes] = [Number(offH), Number(offM)];
  if (dayNumber === undefined || hour > 23 || minute > 59 || second > 59) return undefined;
  if (offsetHours > 23 || offsetMinutes > 59) return undefined;
  const offset = zulu === undefined ? (sign === '-' ? -1 : 1) * (offsetHours * 60 + offsetMinutes) : 0;
  const millis = Number(fraction.slice(0, 3).padEnd(3, '0'));
  return dayNumber * MS_PER_DAY + ((hour * 60 + minute - offset) * 60 + second) * 1000 + millis;
}
