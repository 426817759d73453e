import { LgError } from './errors.js';

/** Money is an integer count of minor units (fen, cents) with its ISO 4217 currency. Never a float. */
export interface Money {
  readonly amountMinor: number;
  readonly currency: string;
}

export const DEFAULT_CURRENCY = 'CNY';

export function money(amountMinor: number, currency: string = DEFAULT_CURRENCY): Money {
  assertMinorUnits(amountMinor, 'amountMinor');
  return { amountMinor, currency };
}

/** Rejects fractions, NaN and anything beyond the exactly representable integers. */
export function assertMinorUnits(value: number, field: string): void {
  if (!Number.isSafeInteger(value)) {
    throw new LgError('LG_INVALID_MONEY', `${field} must be an integer number of minor units`, {
      field,
      value,
    });
  }
}

/** numerator / denominator rounded half-up (both non-negative, the denominator positive), exact at any size. */
export function divRoundHalfUp(numerator: bigint, denominator: bigint): number {
  return Number((2n * numerator + denominator) / (2n * denominator));
}

/**
 * A share of an amount, amountMinor × numerator / denominator, rounded half-up to the minor unit. In BigInt because
 * the product (a principal × basis points) may pass 2^53, where floating point would be off by a minor unit.
 */
export function shareOfMinor(amountMinor: number, numerator: number, denominator: number): number {
  assertMinorUnits(amountMinor, 'amountMinor');
  return divRoundHalfUp(BigInt(amountMinor) * BigInt(numerator), BigInt(denominator));
}

export function assertSameCurrency(a: Money, b: Money): void {
  if (a.currency !== b.currency) {
    throw new LgError('LG_CURRENCY_MISMATCH', `currency ${b.currency} does not match ${a.currency}`, {
      expected: a.currency,
      actual: b.currency,
    });
  }
}

/** Formats minor units for people: 12345 CNY -> "123.45 CNY". */
export function formatMoney(m: Money): string {
  const sign = m.amountMinor < 0 ? '-' : '';
  const abs = Math.abs(m.amountMinor);
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')} ${m.currency}`;
}
