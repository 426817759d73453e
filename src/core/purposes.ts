import { judgePurpose, purposeError, PURPOSES } from '../domain/index.js';
import { productOfLine } from './products.js';
import type { LineRow } from './ports.js';

/**
 * The draw's purpose against the catalogue and the line's product: a forbidden purpose is refused before anything is
 * written (LG_PURPOSE_FORBIDDEN, with the borrower's reason in zh and en). A line under a product needs a catalogue
 * code; an older line's free text is still screened for forbidden uses.
 */
export function checkPurpose(line: LineRow, purpose: string | undefined): void {
  if (purpose === undefined) return;
  const product = productOfLine(line);
  const verdict = judgePurpose(purpose, {
    forbidLoanRepayment: product?.terms.forbidLoanRepayment ?? false,
    requireCatalogue: product !== undefined,
  });
  if (!verdict.allowed) throw purposeError(verdict);
}

export function purposeCatalogue() {
  return PURPOSES.map((p) => ({
    code: p.code,
    zh: p.zh,
    en: p.en,
    allowed: p.allowed,
    ...(p.productRule ? { forbiddenWhere: p.productRule } : {}),
  }));
}
