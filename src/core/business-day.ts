import { dateAtOffset, startOfDateAtOffset } from '../domain/index.js';
import type { CoreConfig } from './deps.js';

/**
 * The lender's calendar (CoreConfig.lenderUtcOffsetMinutes): every date the core derives from an instant — a loan's
 * start, a repayment's date, "today" for interest, days past due and the daily job — is read here, so a draw and its
 * repayment are never dated on two different calendars.
 */
type Calendar = { readonly config: Pick<CoreConfig, 'lenderUtcOffsetMinutes'> };

/** The lender's calendar date of an instant. */
export function lenderDate(deps: Calendar, ms: number): string {
  return dateAtOffset(ms, deps.config.lenderUtcOffsetMinutes ?? 0);
}

/** The first instant of a date in the lender's calendar, or undefined when the text is not a calendar date. */
export function lenderDayStart(deps: Calendar, date: string): number | undefined {
  return startOfDateAtOffset(date, deps.config.lenderUtcOffsetMinutes ?? 0);
}
