import { describe, expect, it } from 'vitest';
import type { CoreDeps } from '../../src/core/deps.js';
import { assertLinePriceWithinCap } from '../../src/core/line-price.js';
import type { LineTerms } from '../../src/core/products.js';
import { isLgError } from '../../src/domain/errors.js';

/**
 * A line's rate is judged on the 1,440 loans a line without a product can make (130-220 ms here), twice per change
 * (before it is proposed, and under the line's lock, where on SQLite every other writer waits), and the line-review job
 * judges the same terms line after line: the judgements are kept by everything one depends on. What a kept judgement
 * must never do is answer for other terms: another rate, other partners' fees, another cap or another day.
 */
const NOON_IN_BEIJING = Date.parse('2026-12-07T04:00:00Z');

const depsAt = (now: number, aprCapPercent = 24) =>
  ({
    config: { aprCapPercent, lenderUtcOffsetMinutes: 480 },
    clock: { now: () => now },
  }) as unknown as CoreDeps;

const lineWith = (partnerFeeBps: number): LineTerms => ({
  currency: 'CNY',
  product_id: null,
  product_version: null,
  product_terms: null,
  partner_fees:
    partnerFeeBps === 0
      ? null
      : JSON.stringify([{ partnerId: 'platform-1', type: 'PLATFORM_OPERATOR', feeRateBps: partnerFeeBps }]),
});

/** The code a judgement refuses with, or 'OK'. */
function judged(deps: CoreDeps, line: LineTerms, rate: number): string {
  try {
    assertLinePriceWithinCap(deps, line, rate);
    return 'OK';
  } catch (error) {
    if (isLgError(error)) return error.code;
    throw error;
  }
}

describe("a line's price judgements, kept", () => {
  it('answer each set of terms for itself, in any order, however often asked', () => {
    const today = depsAt(NOON_IN_BEIJING);
    const platformTakesOnePercent = lineWith(100);
    const noPartner = lineWith(0);
    for (let round = 0; round < 2; round++) {
      expect(judged(today, platformTakesOnePercent, 0.235)).toBe('LG_APR_CAP_EXCEEDED');
      expect(judged(today, noPartner, 0.235)).toBe('OK');
      expect(judged(today, platformTakesOnePercent, 0.2)).toBe('OK');
      expect(judged(depsAt(NOON_IN_BEIJING, 36), platformTakesOnePercent, 0.235)).toBe('OK');
      expect(judged(depsAt(NOON_IN_BEIJING + 86_400_000), platformTakesOnePercent, 0.235)).toBe(
        'LG_APR_CAP_EXCEEDED',
      );
    }
  });
});
