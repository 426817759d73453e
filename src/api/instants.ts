import { LgError } from '../domain/errors.js';

/**
 * An ISO date-time from a request, as epoch ms. The schema's `date-time` format admits values Date.parse cannot read
 * (a leap second, 23:59:60), so the conversion itself refuses them with a 400 rather than passing NaN on.
 */
export function parseInstant(text: string | undefined, field: string): number | undefined {
  if (text === undefined) return undefined;
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) throw new LgError('LG_VALIDATION', `${field} must be an ISO date-time`, { field });
  return ms;
}
