import {
  aprCapCheck,
  canonicalJson,
  lenderDayOf,
  LgError,
  MAX_TERM_MONTHS,
  REPAYMENT_METHODS,
} from '../domain/index.js';
import type { ProductTerms, RepaymentMethod } from '../domain/index.js';
import type { CoreDeps } from './deps.js';
import { allInOf, capDisclosure, drawSchedule, priceLoan } from './pricing.js';
import {
  allInCapError,
  aprCapFor,
  assertRateInProductRange,
  type LineTerms,
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
function representativeLoans(line: LineTerms): RepresentativeLoan[] {
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

/** Why a rate is over the line's cap: on its own, or on the dearest loan the line can make at it. */
type OverCap = { readonly alone: true } | { readonly loan: RepresentativeLoan; readonly apr: number };

/** The cap a line's rate is judged against, and the day its loans are priced on. */
interface Judging {
  readonly capPercent: number;
  readonly now: number;
}

function judging(deps: CoreDeps, line: LineTerms): Judging {
  return { capPercent: aprCapFor(line, deps.config.aprCapPercent), now: deps.clock.now() };
}

/**
 * The last judgements, by everything one depends on: the line's terms, the rate, the cap and the lender's day the
 * loans start on (drawSchedule reads nothing else). A line without a product prices 1,440 loans a judgement (130-220
 * ms here), and a rate change is judged twice, before it is proposed and again under the line's lock, where on SQLite
 * every other writer waits for it; a review repricing many lines alike judges the same terms over and over. Bounded:
 * emptied when full.
 */
const judgements = new Map<string, OverCap | undefined>();
const JUDGEMENTS_MAX = 256;

function judgementKey(deps: CoreDeps, line: LineTerms, annualRate: number, j: Judging): string {
  const { currency, product_id, product_version, product_terms, partner_fees } = line;
  const day = lenderDayOf(deps.config, j.now);
  return canonicalJson([
    currency,
    product_id,
    product_version,
    product_terms,
    partner_fees,
    annualRate,
    j.capPercent,
    day,
  ]);
}

/** The rate's excess over the line's cap, or undefined when every loan the line can make at it is within the cap. */
function overCap(deps: CoreDeps, line: LineTerms, annualRate: number, j: Judging): OverCap | undefined {
  const key = judgementKey(deps, line, annualRate, j);
  if (judgements.has(key)) return judgements.get(key);
  const judged = priceAgainstCap(deps, line, annualRate, j);
  if (judgements.size >= JUDGEMENTS_MAX) judgements.clear();
  judgements.set(key, judged);
  return judged;
}

function priceAgainstCap(
  deps: CoreDeps,
  line: LineTerms,
  annualRate: number,
  j: Judging,
): OverCap | undefined {
  // The contract rate alone over the cap is refused as it is, whatever a loan's IRR (a short loan's can be below its
  // rate, one in a 28-day month); it spares the loans' pricing too.
  if (!aprCapCheck(annualRate * 100, j.capPercent).ok) return { alone: true };
  let dearest: { loan: RepresentativeLoan; apr: number } | undefined;
  for (const loan of representativeLoans(line)) {
    const { startDate, schedule } = drawSchedule(deps, line, { input: loan, annualRate }, j.now);
    const apr = capDisclosure(schedule, startDate).apr;
    if (dearest === undefined || apr > dearest.apr) dearest = { loan, apr };
  }
  return dearest === undefined || aprCapCheck(dearest.apr, j.capPercent).ok ? undefined : dearest;
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
export function assertLinePriceWithinCap(deps: CoreDeps, line: LineTerms, annualRate: number): void {
  assertRateInProductRange(productOfLine(line), annualRate);
  const j = judging(deps, line);
  const over = overCap(deps, line, annualRate, j);
  if (over) throw capError(deps, line, { over, annualRate, ...j });
}

/** Rates are set to the basis point (a product's range, a strategy's grant): the grid the highest rate is found on. */
const BASIS_POINTS = 10_000;
/** Float noise in a rate given in decimals (0.23 × 10,000 is 2300.0000000000005), not a fraction of a basis point. */
const GRID_EPSILON = 1e-6;

/**
 * The highest rate, at most annualRate, at which every loan the line can make is within its cap: annualRate itself
 * when it is; else the highest on the basis-point grid above the product's lowest rate (or that lowest rate); undefined
 * when not even the lowest rate is within the cap. Found by bisection, which a loan's all-in APR growing with the rate
 * allows: about a dozen judgements of the line's loans. Cheap on a product line (a few loans each); a line without a
 * product would price 1,440 loans a judgement, several seconds, and is not asked (see fitGrantToLinePrice).
 */
export function highestRateWithinCap(
  deps: CoreDeps,
  line: LineTerms,
  annualRate: number,
): number | undefined {
  const floor = productOfLine(line)?.terms.rateMin ?? 0;
  const j = judging(deps, line);
  const within = (rate: number) => overCap(deps, line, rate, j) === undefined;
  if (within(annualRate)) return annualRate;
  if (annualRate <= floor || !within(floor)) return undefined;
  // lo: a grid point within the cap (one below the floor is priced at the floor, clamped into the product's range);
  // hi: one over it (at or above annualRate).
  let lo = Math.floor(floor * BASIS_POINTS + GRID_EPSILON);
  let hi = Math.ceil(annualRate * BASIS_POINTS - GRID_EPSILON);
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (within(mid / BASIS_POINTS)) lo = mid;
    else hi = mid;
  }
  return Math.max(floor, lo / BASIS_POINTS);
}

/**
 * A strategy's grant under a product priced within the all-in cap of the loans the product offers, as a rate change
 * is (assertLinePriceWithinCap): a rate whose dearest loan would cost more than the cap all-in — the product's fees
 * and the partners' fees with the interest, whichever of them takes it over — is lowered to the highest within it, as
 * clipGrant lowers a rate over the nominal cap, and the adjustment says so (the offer, the GRANT action's note, the
 * application's ledger entry), so the borrower's offer states the rate they got. When even the product's lowest rate
 * is over the cap, no line the product could open would lend: the grant is refused (LG_APR_CAP_EXCEEDED with the
 * dearest loan at that rate), before anything is written. This is the grant's only all-in check under a product: the
 * simple one (the rate plus the partners' yearly fees, assertAllInCost) would refuse a rate the partners' fees take
 * over the cap instead of lowering it, and is not asked.
 *
 * A line without a product keeps the simple check alone (assertAllInCost, refused over it): judging its 1,440 loans,
 * a dozen times over for the bisection, is too slow for the application path; a rate change, one judgement, judges
 * them all.
 */
export function fitGrantToLinePrice<G extends { annualRate?: number; adjustments: string[] }>(
  deps: CoreDeps,
  grant: G,
  line: LineTerms,
): G {
  const product = productOfLine(line);
  if (!product || grant.annualRate === undefined) return grant;
  const from = grant.annualRate;
  const rate = highestRateWithinCap(deps, line, from);
  if (rate === from) return grant;
  const j = judging(deps, line);
  if (rate === undefined) {
    const over = overCap(deps, line, product.terms.rateMin, j);
    // Not within at the lowest rate (highestRateWithinCap), so over; the guard only satisfies the type.
    if (over) throw capError(deps, line, { over, annualRate: product.terms.rateMin, ...j });
    return grant;
  }
  const over = overCap(deps, line, from, j);
  const why =
    over === undefined || 'alone' in over
      ? `at ${from} the rate alone is above the ${j.capPercent}% all-in cap`
      : `at ${from} a ${over.loan.termMonths}-month ${over.loan.method} loan of ${over.loan.amountMinor} ` +
        `${over.loan.currency} minor units under product ${product.id} costs ${over.apr}% a year all-in, ` +
        `above the ${j.capPercent}% all-in cap`;
  return {
    ...grant,
    annualRate: rate,
    adjustments: [...grant.adjustments, `rate ${from} lowered to ${rate}: ${why}`],
  };
}

/** The refusal, with the dearest loan's cost party by party (priced once more: one loan, not the whole set). */
function capError(
  deps: CoreDeps,
  line: LineTerms,
  d: { over: OverCap; annualRate: number; capPercent: number; now: number },
): LgError {
  if ('alone' in d.over)
    return new LgError(
      'LG_APR_CAP_EXCEEDED',
      `the annual rate ${(d.annualRate * 100).toFixed(2)}% alone is above the ${d.capPercent}% cap`,
      { annualRate: d.annualRate, capPercent: d.capPercent },
    );
  const { loan } = d.over;
  const priced = priceLoan(deps, line, { input: loan, annualRate: d.annualRate }, d.now);
  return allInCapError(allInOf(deps, line, priced), { annualRate: d.annualRate, loan });
}
