import type { UnitGuard } from '../domain/index.js';
import { simpleAnnualRatePercent } from '../domain/index.js';
import { dailyRate, DEFAULT_DAY_COUNT } from '../domain/index.js';
import { canonicalJson } from '../domain/index.js';
import { isoDay, parseIsoDay } from '../domain/index.js';
import { lenderDayOf } from '../domain/index.js';
import { LgError } from '../domain/index.js';
import { keyFacts } from '../domain/index.js';
import type { Installment, RepaymentMethod, Schedule } from '../domain/index.js';
import { applyRepayment, newAccrualState, owedOn, type PrepaymentMode } from '../domain/index.js';
import type { ProductTerms } from '../domain/index.js';
import type { CoreDeps, UnitTx } from './deps.js';
import type { QuoteRecord } from './ports/lending.js';
import { allInCapError, productOfLine, type AllInBreakdown } from './products.js';
import { allInOf, priceLoan, withinCap, type Priced } from './pricing.js';
import type { LineRow } from './ports.js';
import { checkDrawable } from './drawable.js';
import { payoffOn, scheduledTermsFor, unpaidItems } from './allocation.js';
import { iso } from './views.js';

/**
 * Quotes before the draw: the loan a draw would book today, priced exactly as the draw prices it (same schedule,
 * same fees, same cap), stored, valid for a while. A draw carrying the quote id must book exactly the quoted loan.
 */
export const QUOTE_VALID_MS_DEFAULT = 30 * 60_000;

type QuoteRow = QuoteRecord;

export interface QuoteInput {
  readonly amountMinor: number;
  readonly currency: string;
  readonly termMonths: number;
  readonly method: RepaymentMethod;
  readonly purpose?: string;
}

export interface EarlyRepaymentCost {
  readonly afterDays: number;
  readonly date: string;
  readonly interestMinor: number;
  readonly payoffMinor: number;
}

export interface QuoteView {
  readonly quoteId: string;
  readonly lineId: string;
  readonly amountMinor: number;
  readonly currency: string;
  readonly termMonths: number;
  readonly method: RepaymentMethod;
  readonly annualRate: number;
  readonly dailyRate: number;
  readonly dayCount: string;
  readonly apr: {
    readonly CN_IRR: number;
    readonly US_REGZ: number;
    readonly EU_CCD: number;
    readonly simple: number;
  };
  readonly upfrontFeeMinor: number;
  readonly totalInterestMinor: number;
  readonly totalFeesMinor: number;
  readonly totalRepayableMinor: number;
  readonly schedule: readonly Installment[];
  /** The payoff if repaid in full after so many days (up to the first due date); no unelapsed interest. */
  readonly earlyRepayment: readonly EarlyRepaymentCost[] | null;
  /**
   * What a partial early repayment does: the product's mode; SHORTEN on a line without a product (allocation.ts:
   * principal from the last instalments, interest recomputed from the repayment date).
   */
  readonly prepayment: string | null;
  /** Instalment loans: what a partial early repayment does under each option; `applies` marks the product's. */
  readonly prepaymentOptions: readonly PrepaymentOption[] | null;
  readonly keyFacts: { readonly zh: string; readonly en: string };
  /** The cost party by party (contract interest, product fees, the platform's and the enhancer's fees) and the cap. */
  readonly allIn: AllInBreakdown;
  readonly createdAt: string;
  readonly validUntil: string;
}

/** The loan priced as a draw at the line's rate prices it (pricing.ts), with its APR under each convention. */
interface Quoted extends Priced {
  readonly apr: QuoteView['apr'];
}

/**
 * The loan a draw at the line's rate would book today: the one pricing every draw uses (priceLoan), so that the draw
 * citing the quote books exactly it; the APRs shown are its disclosures', with the simple annual rate beside them.
 */
function priceAtLineRate(deps: CoreDeps, line: LineRow, input: QuoteInput, now: number): Quoted {
  const priced = priceLoan(deps, line, { input, annualRate: Number(line.annual_rate) }, now);
  const { disclosures: d } = priced;
  return {
    ...priced,
    apr: {
      CN_IRR: d.CN_IRR.apr,
      US_REGZ: d.US_REGZ.apr,
      EU_CCD: d.EU_CCD.apr,
      simple: simpleAnnualRatePercent(priced.schedule, priced.startDate),
    },
  };
}

/** What the loan must book: compared verbatim with the draw's own pricing. */
export function bookingFingerprint(schedule: Schedule, annualRate: number): string {
  return canonicalJson({
    annualRate,
    upfrontFeeMinor: schedule.upfrontFeeMinor,
    installments: schedule.installments,
  });
}

const EARLY_REPAYMENT_DAYS = [0, 10, 30, 90];

/** What a partial prepayment does to a monthly loan without a product (allocation.ts). */
const SCHEDULED_PREPAYMENT: PrepaymentMode = 'SHORTEN';

function accrualTermsOf(
  t: ProductTerms,
  priced: Priced,
  method: RepaymentMethod,
  prepayment: PrepaymentMode,
) {
  return {
    annualRate: priced.annualRate,
    method,
    dayCount: t.dayCount,
    basis: t.dayCount,
    periodicFeeMinor: priced.schedule.installments[0]?.feeMinor ?? 0,
    graceDays: t.graceDays,
    prepayment,
    lateFeeMinor: 0,
    lateFeeCapMinor: 0,
    penaltyMultiplier: t.penaltyMultiplier,
    aprCapPercent: t.aprCapPercent,
  };
}

export interface PrepaymentOption {
  readonly mode: PrepaymentMode;
  /** The mode this product applies. */
  readonly applies: boolean;
  readonly date: string;
  readonly prepayMinor: number;
  readonly nextInstallmentMinor: number;
  readonly remainingInstallments: number;
  readonly interestSavedMinor: number;
}

/**
 * The borrower's options for a partial early repayment, and their effect: paying the first instalment on its date
 * plus half the remaining principal, then re-amortising (lower instalments, same dates) or shortening (same
 * instalments, fewer of them). Instalment loans on a product only.
 */
function prepaymentOptions(
  line: LineRow,
  priced: Priced,
  method: RepaymentMethod,
): PrepaymentOption[] | null {
  const product = productOfLine(line);
  const rows = priced.schedule.installments;
  const first = rows[0];
  if (!product || method === 'DAILY_INTEREST' || rows.length < 2 || !first) return null;
  const prepayMinor = Math.floor(first.balanceAfterMinor / 2);
  if (prepayMinor === 0) return null;
  const interestAfter = (list: readonly { dueDate: string; interestMinor: number }[]) =>
    list.filter((i) => i.dueDate > first.dueDate).reduce((s, i) => s + i.interestMinor, 0);
  return (['REAMORTISE', 'SHORTEN'] as const).map((mode) => {
    const terms = accrualTermsOf(product.terms, priced, method, mode);
    const state = newAccrualState(priced.schedule, priced.startDate);
    const out = applyRepayment(state, terms, {
      amountMinor: first.totalMinor + prepayMinor,
      date: first.dueDate,
    });
    const future = out.state.installments.filter((i) => i.dueDate > first.dueDate);
    return {
      mode,
      applies: mode === product.terms.prepayment,
      date: first.dueDate,
      prepayMinor,
      nextInstallmentMinor: future[0]
        ? future[0].principalMinor + future[0].interestMinor + future[0].feeMinor
        : 0,
      remainingInstallments: future.length,
      interestSavedMinor: interestAfter(rows) - interestAfter(future),
    };
  });
}

function earlyRepaymentCosts(line: LineRow, priced: Priced, startDate: string): EarlyRepaymentCost[] {
  const start = parseIsoDay(startDate) ?? 0;
  const firstDue = priced.schedule.installments[0]?.dueDate ?? startDate;
  const owedOnDate = payoffCalculator(line, priced, startDate);
  return EARLY_REPAYMENT_DAYS.map((afterDays) => ({ afterDays, date: isoDay(start + afterDays) }))
    .filter(({ date }) => date <= firstDue)
    .map(({ afterDays, date }) => ({ afterDays, date, ...owedOnDate(date) }));
}

/**
 * What repaying the quoted loan in full on a date costs, as its repayment will charge it: a daily-accrual (product)
 * loan by its accrual (what a full repayment costs there does not depend on the method: accrued interest and fees
 * due, then principal), a loan without a product by allocation.ts — interest to the day either way.
 */
function payoffCalculator(
  line: LineRow,
  priced: Priced,
  startDate: string,
): (date: string) => { interestMinor: number; payoffMinor: number } {
  const product = productOfLine(line);
  if (!product) {
    const items = unpaidItems(priced.schedule.installments);
    const terms = scheduledTermsFor(startDate, priced.annualRate, priced.scheduleInput.method);
    return (date) => {
      const owed = payoffOn(items, terms, date);
      return { interestMinor: owed.interestMinor, payoffMinor: owed.payoffMinor };
    };
  }
  const terms = accrualTermsOf(product.terms, priced, 'DAILY_INTEREST', product.terms.prepayment);
  const state = newAccrualState(priced.schedule, startDate);
  return (date) => {
    const owed = owedOn(state, terms, date);
    return { interestMinor: owed.interestMinor, payoffMinor: owed.payoffMinor };
  };
}

/** Prices a draw without booking it; stores the quote. Refusals (product terms, credit, cap) write nothing. */
export async function createQuote(
  deps: CoreDeps,
  lineId: string,
  input: QuoteInput,
  guard?: UnitGuard<QuoteView>,
): Promise<QuoteView> {
  const now = deps.clock.now();
  const line = await deps.coreStore.line(lineId);
  checkDrawable(line, input);
  const priced = priceAtLineRate(deps, line, input, now);
  const allIn = allInOf(deps, line, priced);
  if (!withinCap(allIn)) throw allInCapError(allIn);
  const view = quoteView(deps, line, input, { ...priced, allIn }, now);
  // The unit's value is the answer, so that a guard that says the response stores it with the key.
  return deps.store.transaction(async (tx) => {
    await deps.lending.insertQuote(tx, quoteRow(line, input, priced, view, now));
    return view;
  }, guard);
}

function quoteView(
  deps: CoreDeps,
  line: LineRow,
  input: QuoteInput,
  priced: Quoted & { allIn: AllInBreakdown },
  now: number,
): QuoteView {
  const product = productOfLine(line);
  const dayCount = product?.terms.dayCount ?? DEFAULT_DAY_COUNT;
  const validUntil = iso(now + (deps.config.quoteValidMs ?? QUOTE_VALID_MS_DEFAULT));
  const early = earlyRepaymentCosts(line, priced, lenderDayOf(deps.config, now));
  const s = priced.schedule;
  const daily = dailyRate(priced.annualRate, dayCount);
  return {
    quoteId: deps.ids.next(),
    lineId: line.id,
    amountMinor: input.amountMinor,
    currency: input.currency,
    termMonths: input.termMonths,
    method: input.method,
    annualRate: priced.annualRate,
    dailyRate: daily,
    dayCount,
    apr: priced.apr,
    upfrontFeeMinor: s.upfrontFeeMinor,
    totalInterestMinor: s.totalInterestMinor,
    totalFeesMinor: s.totalFeesMinor,
    totalRepayableMinor: s.totalRepayableMinor,
    schedule: s.installments,
    earlyRepayment: early,
    prepayment: product?.terms.prepayment ?? SCHEDULED_PREPAYMENT,
    prepaymentOptions: prepaymentOptions(line, priced, input.method),
    keyFacts: keyFacts({
      ...input,
      annualRate: priced.annualRate,
      dailyRate: daily,
      aprIrrPercent: priced.apr.CN_IRR,
      aprSimplePercent: priced.apr.simple,
      totalInterestMinor: s.totalInterestMinor,
      totalFeesMinor: s.totalFeesMinor,
      totalRepayableMinor: s.totalRepayableMinor,
      upfrontFeeMinor: s.upfrontFeeMinor,
      tenDayCostMinor: early?.find((e) => e.afterDays === 10)?.interestMinor,
      validUntil,
      partnerFees: priced.allIn.partnerFees,
    }),
    allIn: priced.allIn,
    createdAt: iso(now),
    validUntil,
  };
}

function quoteRow(line: LineRow, input: QuoteInput, priced: Priced, view: QuoteView, now: number): QuoteRow {
  return {
    id: view.quoteId,
    line_id: line.id,
    borrower_id: line.borrower_id,
    amount_minor: input.amountMinor,
    currency: input.currency,
    term_months: input.termMonths,
    method: input.method,
    purpose: input.purpose ?? null,
    annual_rate: priced.annualRate,
    fingerprint: bookingFingerprint(priced.schedule, priced.annualRate),
    body: JSON.stringify(view),
    created_at: now,
    expires_at: Date.parse(view.validUntil),
  };
}

export async function readQuote(deps: CoreDeps, id: string): Promise<QuoteView> {
  const row = await deps.lending.quote(id);
  if (!row) throw new LgError('LG_NOT_FOUND', `no quote ${id}`, { quoteId: id });
  return JSON.parse(row.body) as QuoteView;
}

/** The quote a draw cites, read before the unit of work (a quote never changes once stored). */
export interface QuotedBooking {
  readonly quoteId: string;
  readonly fingerprint: string;
  /** Epoch ms the quote is valid until (inclusive). */
  readonly expiresAt: number;
}

/**
 * A quote binds only until it expires, judged at `now`. The draw's unit judges it again at the time it takes under
 * the line's lock: a draw that waited on the lock past the expiry is refused, not booked on a lapsed quote.
 */
export function assertQuoteValidAt(quote: QuotedBooking | undefined, now: number): void {
  if (quote === undefined || now <= quote.expiresAt) return;
  throw new LgError('LG_QUOTE_EXPIRED', 'the quote has expired; ask for a new one', {
    quoteId: quote.quoteId,
    validUntil: iso(quote.expiresAt),
  });
}

export async function quoteForDraw(
  deps: CoreDeps,
  lineId: string,
  draw: QuoteInput & { quoteId?: string },
  now: number,
): Promise<QuotedBooking | undefined> {
  if (draw.quoteId === undefined) return undefined;
  const row = await deps.lending.quote(draw.quoteId);
  if (!row) throw new LgError('LG_NOT_FOUND', `no quote ${draw.quoteId}`, { quoteId: draw.quoteId });
  const asked = {
    lineId,
    amountMinor: draw.amountMinor,
    currency: draw.currency,
    termMonths: draw.termMonths,
    method: draw.method,
    // The stated use of the funds (资金用途) is recorded on the loan: another one, or none, is another loan.
    purpose: draw.purpose ?? null,
  };
  const quoted = {
    lineId: row.line_id,
    amountMinor: Number(row.amount_minor),
    currency: row.currency,
    termMonths: Number(row.term_months),
    method: row.method,
    purpose: row.purpose,
  };
  if (canonicalJson(asked) !== canonicalJson(quoted))
    throw new LgError('LG_QUOTE_MISMATCH', 'the draw differs from the quote it cites', { quoted, asked });
  const quote = { quoteId: row.id, fingerprint: row.fingerprint, expiresAt: Number(row.expires_at) };
  // Refused at once when already expired as the request arrives; the unit asks again at its own time (planDraw).
  assertQuoteValidAt(quote, now);
  return quote;
}

/** Inside the draw's unit: the loan about to be booked must be the quoted one, or nothing is written. */
/**
 * The quote a held draw cited, as it was stored (a stored quote never changes). Its validity is not asked again: the
 * draw was accepted within it; what the release books must still be exactly what the quote showed.
 */
export async function citedQuote(
  deps: CoreDeps,
  tx: UnitTx,
  quoteId: string | null,
): Promise<QuotedBooking | undefined> {
  if (quoteId === null) return undefined;
  const row = await deps.lending.quote(quoteId, tx);
  if (!row) throw new LgError('LG_NOT_FOUND', `no quote ${quoteId}`, { quoteId });
  return { quoteId: row.id, fingerprint: row.fingerprint, expiresAt: Number(row.expires_at) };
}

export function assertMatchesQuote(
  quote: QuotedBooking | undefined,
  schedule: Schedule,
  annualRate: number,
): void {
  if (!quote) return;
  if (bookingFingerprint(schedule, annualRate) === quote.fingerprint) return;
  throw new LgError(
    'LG_QUOTE_MISMATCH',
    'the loan the draw would book differs from the quote (rate, fees or dates)',
    {
      quoteId: quote.quoteId,
      annualRate,
      totalRepayableMinor: schedule.totalRepayableMinor,
    },
  );
}
