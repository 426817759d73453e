import { drawRefusal, LgError, type LineStatus } from '../domain/index.js';
import type { DrawTerms } from '../domain/index.js';
import type { LineRow } from './ports.js';
import { checkDrawForProduct } from './products.js';
import { checkPurpose } from './purposes.js';

/** What a draw and a quote of one both ask of the line. */
export interface DrawOnLine extends DrawTerms {
  readonly currency: string;
  readonly purpose?: string;
}

/**
 * Whether the line can lend this now, before anything is priced or written: the same currency, an amount the line's
 * status and available credit allow (domain drawRefusal), the product's terms and an allowed purpose. A quote asks
 * exactly what its draw will ask, so a quote never promises a draw the line would refuse at once.
 */
export function checkDrawable(line: LineRow, draw: DrawOnLine): void {
  if (draw.currency !== line.currency) {
    throw new LgError('LG_CURRENCY_MISMATCH', `the line is in ${line.currency}`, {
      expected: line.currency,
      actual: draw.currency,
    });
  }
  const refused = drawRefusal(line.status as LineStatus, draw.amountMinor, Number(line.available_minor));
  if (refused) throw refused;
  checkDrawForProduct(line, draw);
  checkPurpose(line, draw.purpose);
}
