import { aprCapCheck, LgError, MAX_TERM_MONTHS, REPAYMENT_METHODS } from '../domain/index.js';
import type { ProductTerms, RepaymentMethod } from '../domain/index.js';
import type { CoreDeps } from './deps.js';
import { capDisclosure, drawSchedule } from './draws.js';
import type { LineRow } from './ports.js';
import {
  allInBreakdown,
  allInCapError,
  aprCapFor,
  assertRateInProductRange,
  productOfLine,
} from './products.js';

/**
 * A line's price within the all-in cap (PBoC [2021] No. 3; the 24% judicial cap on the all-in annualised cost): no
 * line may be priced so that a loan on it would cost more than its cap all-in — contract interest, the product's fees
 * and the 助贷 partners' fees together. A draw is judged on its own loan (draws.ts); a line's rate is judged before any
 * loan exists, so it is judged on the loans the line can make, each priced exactly as a draw today would price it
 * (drawSchedule, the CN_IRR of capDisclosure, the cap of aprCapFor), and the dearest of them must be within the cap.
 */

/**
 * The amount a line without a product is judged at. Its costs — interest and the partners' yearly fees — are all
 * proportional to the amount drawn, so every amount costs the same all-in but for fen rounding, which is negligible
 * at ¥10,000 (the worked example's loan) and would not be on a loan of a few fen.
 */
const NO_PRODUCT_LOAN_MINOR = 1_000_000;

/** A loan the line could make, judged for its price. */
interface RepresentativeLoan {
  readonly amountMinor: number;
  readonly currency: string;
  readonly termMonths: number;
  readonly method: RepaymentMethod;
}

/**
 * The amount a product's loans cost most at. A product's fees are a rate of the amount up to a cap (feeFor), so their
 * share of a loan is the same at every amount up to where the first of them reaches its cap and falls beyond it:
 * that amount (within the product's range) is the dearest, and, as the largest of the dearest, the one fen rounding
 * disturbs least. Without a capped fee, every amount costs the same and the largest is taken.
 */
function dearestAmount(t: ProductTerms): number {
  const fullRateUpTo = [t.upfrontFee, t.periodicFee]
    .filter((fee) => fee.rateBps > 0 && fee.capMinor > 0)
    .map((fee) => Math.floor((fee.capMinor * 10_000) / fee.rateBps));
  return Math.min(t.amountMaxMinor, Math.max(t.amountMinMinor, Math.min(...fullRateUpTo)));
}

/**
 * The loans a line is judged on: every term and method it allows — a product's own lists, or for a line without a
 * product every term a draw may ask (1 to 360 months) and every method — at the amount that costs most. The worst
 * case, not a typical loan: which loan is dearest depends on the fees (a flat yearly fee on the amount drawn weighs
 * most on a 1–2-year amortising loan, an up-front fee on the shortest term, a daily loan's interest on a one-month
 * term starting in a 31-day month), and a line priced within the cap for a typical loan only would have its other
 * draws refused. At most 360 × 4 loans (about half a second on a line without a product; a product lists a few).
 */
function representativeLoans(line: LineRow): RepresentativeLoan[] {
  const product = productOfLine(line);
  const terms = product
    ? product.terms.termsMonths
    : Array.from({ length: MAX_TERM_MONTHS }, (_, i) => i + 1);
  const methods = product ? product.terms.methods : REPAYMENT_METHODS;
  const amountMinor = product ? dearestAmount(product.terms) : NO_PRODUCT_LOAN_MINOR;
  return methods.flatMap((method) =>
    terms.map((termMonths) => ({ amountMinor, currency: line.currency, termMonths, method })),
  );
}

/**
 * Refuses a rate the line's loans could not lawfully be priced at, before anything is written: a rate outside the
 * line's product's range (LG_PRODUCT_TERMS: its loans would be priced at another rate than the line states), one
 * above the line's cap on its own, or one at which the dearest loan the line can make costs more than its cap all-in
 * (LG_APR_CAP_EXCEEDED, naming that loan's all-in APR, the loan and the cost party by party).
 *
 * Not foreseen, because they are not the line's price: the rate and fees a draw strategy may set for one draw, and
 * the start date — the IRR of a short loan moves with the length of its months, so a rate judged today near the cap
 * may see a draw refused on another day. The draw's own check (draws.ts, held-draws.ts, quotes.ts) still refuses
 * every loan over the cap, whatever the line's price.
 */
export function assertLinePriceWithinCap(deps: CoreDeps, line: LineRow, annualRate: number): void {
  assertRateInProductRange(productOfLine(line), annualRate);
  const capPercent = aprCapFor(line, deps.config.aprCapPercent);
  // The contract rate alone over the cap is refused as it is, whatever a loan's IRR (a short loan's can be below its
  // rate, one in a 28-day month); it spares the loans' pricing too.
  if (!aprCapCheck(annualRate * 100, capPercent).ok)
    throw new LgError(
      'LG_APR_CAP_EXCEEDED',
      `the annual rate ${(annualRate * 100).toFixed(2)}% alone is above the ${capPercent}% cap`,
      { annualRate, capPercent },
    );
  const now = deps.clock.now();
  let dearest: { loan: RepresentativeLoan; apr: number } | undefined;
  for (const loan of representativeLoans(line)) {
    const { startDate, schedule } = drawSchedule(deps, line, { input: loan, annualRate }, now);
    const apr = capDisclosure(schedule, startDate).apr;
    if (dearest === undefined || apr > dearest.apr) dearest = { loan, apr };
  }
  if (dearest === undefined || aprCapCheck(dearest.apr, capPercent).ok) return;
  throw capError(deps, line, { ...dearest, annualRate, capPercent, now });
}

/** The refusal, with the dearest loan's cost party by party (priced once more: one loan, not the whole set). */
function capError(
  deps: CoreDeps,
  line: LineRow,
  d: { loan: RepresentativeLoan; apr: number; annualRate: number; capPercent: number; now: number },
): LgError {
  const priced = drawSchedule(deps, line, { input: d.loan, annualRate: d.annualRate }, d.now);
  const breakdown = allInBreakdown(line, priced.scheduleInput, {
    schedule: priced.schedule,
    annualRate: priced.scheduleInput.annualRate,
    aprPercent: d.apr,
    capPercent: d.capPercent,
  });
  return allInCapError(breakdown, { annualRate: d.annualRate, loan: d.loan });
}
