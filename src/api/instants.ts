import { Type } from '@sinclair/typebox';
import { LgError, parseIsoInstant } from '../domain/index.js';

/**
 * The instants the API accepts: years 0000 to 9999, the range ISO 8601's four-digit years (and RFC 3339) write and
 * every date column and `toISOString` can hold. Outside it a stored instant could not be written back out (9e15 ms
 * is past what a Date holds, and made every list page holding it fail), so it is refused on entry.
 */
export const INSTANT_MS_MIN = Date.parse('0000-01-01T00:00:00.000Z');
export const INSTANT_MS_MAX = Date.parse('9999-12-31T23:59:59.999Z');

/** An instant as epoch milliseconds in a request body (partner list exports). */
export const EpochMs = Type.Integer({
  minimum: INSTANT_MS_MIN,
  maximum: INSTANT_MS_MAX,
  description: 'epoch milliseconds, years 0000-9999',
});

/**
 * An RFC 3339 date-time from a request (a time zone required), as epoch ms. Strict whether or not the route's schema
 * checked the format first: `date-time` admits a leap second (23:59:60), which no instant here can hold, and a
 * query field without the format would otherwise reach a lenient reading ("12" as 2001-12-01). Instants outside
 * years 0000-9999 are refused too.
 */
export function parseInstant(text: string | undefined, field: string): number | undefined {
  if (text === undefined) return undefined;
  const ms = parseIsoInstant(text);
  if (ms === undefined)
    throw new LgError(
      'LG_VALIDATION',
      `${field} must be an RFC 3339 date-time with a time zone, such as 2026-12-06T08:00:00Z`,
      { field },
    );
  if (ms < INSTANT_MS_MIN || ms > INSTANT_MS_MAX)
    throw new LgError('LG_VALIDATION', `${field} must be in the years 0000-9999`, { field });
  return ms;
}

/**
 * An instant for a response. Total: a value stored before the range was enforced (or by another path) must not
 * fail the whole page that holds it, so what no Date can hold reads as null (for an expiry: beyond year 275760).
 */
export function instantText(ms: number | null | undefined): string | null {
  if (ms === null || ms === undefined) return null;
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}
