import type { UnitGuard } from '../domain/index.js';
import { canonicalJson } from '../domain/index.js';
import { LgError } from '../domain/index.js';
import { shareOfMinor } from '../domain/index.js';
import {
  checkDrawTerms,
  feeFor,
  productRate,
  validateProductTerms,
  type DrawTerms,
  type ProductTerms,
} from '../domain/index.js';
import type { ScheduleInput, Schedule } from '../domain/index.js';
import type { AccrualTerms } from '../domain/index.js';
import { appendToLedger } from '../compliance/index.js';
import type { CoreDeps, UnitTx } from './deps.js';
import type { ProductRecord } from './ports/lending.js';
import type { LineRow, LoanRow } from './ports.js';
import { iso } from './views.js';

/**
 * The product catalogue: versions are written once and never edited. A new version leaves every line on its old
 * version and every loan on the terms it was booked with (loans.terms), so a product change never alters a booked loan.
 */
type ProductRow = ProductRecord;

export const PRODUCT_ID_PATTERN = '^[a-z0-9][a-z0-9-]{1,39}$';

export interface ProductView {
  readonly id: string;
  readonly version: number;
  readonly status: string;
  readonly terms: ProductTerms;
  readonly createdBy: string | null;
  readonly createdAt: string;
}

function viewOf(row: ProductRow): ProductView {
  return {
    id: row.id,
    version: Number(row.version),
    status: row.status,
    terms: JSON.parse(row.terms) as ProductTerms,
    createdBy: row.created_by,
    createdAt: iso(Number(row.created_at)),
  };
}

async function versionsOf(deps: CoreDeps, id: string, tx?: UnitTx): Promise<ProductRow[]> {
  return deps.lending.productVersions(id, tx);
}

export async function listProducts(deps: CoreDeps): Promise<ProductView[]> {
  const rows = await deps.lending.allProductVersions();
  const latest = new Map<string, ProductRow>();
  for (const row of rows) if (!latest.has(row.id)) latest.set(row.id, row);
  return [...latest.values()].map(viewOf);
}

export async function getProduct(deps: CoreDeps, id: string): Promise<{ versions: ProductView[] }> {
  const rows = await versionsOf(deps, id);
  if (rows.length === 0) throw new LgError('LG_NOT_FOUND', `no product ${id}`, { productId: id });
  return { versions: rows.map(viewOf) };
}

/** The version new lines are granted under: the latest, when it is ACTIVE. */
/** The product's active version (read in `tx` when given: a unit of work must not read through another handle). */
export async function activeProduct(deps: CoreDeps, id: string, tx?: UnitTx): Promise<ProductView> {
  const [latest] = await versionsOf(deps, id, tx);
  if (!latest) throw new LgError('LG_NOT_FOUND', `no product ${id}`, { productId: id });
  if (latest.status !== 'ACTIVE')
    throw new LgError('LG_PRODUCT_NOT_ACTIVE', `product ${id} is ${latest.status}`, { productId: id });
  return viewOf(latest);
}

async function writeVersion(
  deps: CoreDeps,
  tx: UnitTx,
  row: ProductRow,
  previous: ProductRow | undefined,
): Promise<ProductView> {
  // The old version stays readable (lines pin it); only new lines stop being granted under it.
  if (previous) await deps.lending.retireProduct(tx, row.id, Number(previous.version));
  await deps.lending.insertProductVersion(tx, row);
  await appendToLedger(tx, [
    {
      entryId: deps.ids.next(),
      kind: 'product.version',
      subjectId: row.id,
      recordedAt: row.created_at,
      payload: {
        productId: row.id,
        version: row.version,
        terms: JSON.parse(row.terms) as unknown,
        actor: row.created_by,
      },
    },
  ]);
  return viewOf(row);
}

/** A new product (version 1); an id already taken is LG_CONFLICT. */
export async function createProduct(
  deps: CoreDeps,
  input: { id: string; terms: ProductTerms; actor?: string },
  guard?: UnitGuard<ProductView>,
): Promise<ProductView> {
  const terms = validateProductTerms(input.terms);
  const now = deps.clock.now();
  return deps.store.transaction(async (tx) => {
    if ((await versionsOf(deps, input.id, tx)).length > 0)
      throw new LgError('LG_CONFLICT', `product ${input.id} exists; add a version instead`, {
        productId: input.id,
      });
    return writeVersion(deps, tx, rowOf(input.id, 1, terms, input.actor, now), undefined);
  }, guard);
}

/**
 * A new version of a product. Its currency may not change: lines under the product hold balances in that currency.
 * `expectedVersion` (optimistic concurrency) refuses a change made against a version someone else already replaced.
 */
export async function createProductVersion(
  deps: CoreDeps,
  id: string,
  input: { terms: ProductTerms; expectedVersion?: number; actor?: string },
  guard?: UnitGuard<ProductView>,
): Promise<ProductView> {
  const terms = validateProductTerms(input.terms);
  const now = deps.clock.now();
  return deps.store.transaction(async (tx) => {
    const [latest] = await versionsOf(deps, id, tx);
    if (!latest) throw new LgError('LG_NOT_FOUND', `no product ${id}`, { productId: id });
    if (input.expectedVersion !== undefined && input.expectedVersion !== Number(latest.version))
      throw new LgError('LG_VERSION_CONFLICT', `product ${id} is at version ${latest.version}`, {
        expectedVersion: input.expectedVersion,
        version: Number(latest.version),
      });
    if (terms.currency !== latest.currency)
      throw new LgError(
        'LG_PRODUCT_TERMS',
        'a new version may not change the currency of booked lines and loans',
        {
          field: 'currency',
          currency: latest.currency,
        },
      );
    return writeVersion(deps, tx, rowOf(id, Number(latest.version) + 1, terms, input.actor, now), latest);
  }, guard);
}

/** A version is retired (no new lines); lines and loans under it are untouched. */
export async function retireProduct(
  deps: CoreDeps,
  id: string,
  actor?: string,
  guard?: UnitGuard<ProductView>,
): Promise<ProductView> {
  return deps.store.transaction(async (tx) => {
    const [latest] = await versionsOf(deps, id, tx);
    if (!latest) throw new LgError('LG_NOT_FOUND', `no product ${id}`, { productId: id });
    await deps.lending.retireProduct(tx, id);
    await appendToLedger(tx, [
      {
        entryId: deps.ids.next(),
        kind: 'product.retired',
        subjectId: id,
        recordedAt: deps.clock.now(),
        payload: { productId: id, version: Number(latest.version), actor: actor ?? null },
      },
    ]);
    return viewOf({ ...latest, status: 'RETIRED' });
  }, guard);
}

function rowOf(
  id: string,
  version: number,
  terms: ProductTerms,
  actor: string | undefined,
  now: number,
): ProductRow {
  return {
    id,
    version,
    name: terms.name,
    status: 'ACTIVE',
    currency: terms.currency,
    terms: canonicalJson(terms),
    created_by: actor ?? null,
    created_at: now,
  };
}

// ---------------------------------------------------------------- lines under a product

export interface LineProduct {
  readonly id: string;
  readonly version: number;
  readonly terms: ProductTerms;
}

/**
 * What a line's loans are priced from: its currency, the product version it was granted under and the partners' fees
 * it was granted with. A line's row, or at grant the line about to be opened (grantedLineTerms), whose price is judged
 * before its row exists.
 */
export type LineTerms = Pick<
  LineRow,
  'currency' | 'product_id' | 'product_version' | 'product_terms' | 'partner_fees'
>;

/** The product version a line was granted under, or undefined for a line without one (monthly 30/360 loans). */
export function productOfLine(line: LineTerms): LineProduct | undefined {
  if (!line.product_id || line.product_terms === null || line.product_terms === undefined) return undefined;
  return {
    id: line.product_id,
    version: Number(line.product_version),
    terms: JSON.parse(line.product_terms) as ProductTerms,
  };
}

/** The grant fitted to the product: its currency, and the rate clamped into the product's range (noted). */
/** A product lends in its own currency only. */
export function assertProductCurrency(product: ProductView | undefined, currency: string): void {
  if (product && product.terms.currency !== currency)
    throw new LgError('LG_PRODUCT_TERMS', `product ${product.id} lends in ${product.terms.currency}`, {
      field: 'currency',
      expected: product.terms.currency,
    });
}

export function fitGrantToProduct<G extends { annualRate?: number; adjustments: string[] }>(
  grant: G,
  product: ProductView | undefined,
  currency: string,
): G {
  if (!product) return grant;
  assertProductCurrency(product, currency);
  if (grant.annualRate === undefined) return grant;
  const rate = productRate(product.terms, grant.annualRate);
  if (rate === grant.annualRate) return grant;
  return {
    ...grant,
    annualRate: rate,
    adjustments: [
      ...grant.adjustments,
      `rate ${grant.annualRate} fitted to product ${product.id} range: ${rate}`,
    ],
  };
}

/**
 * A rate a person (an analyst approving a referral) or a line's rate change sets is not fitted silently into the
 * product's range, as a strategy's grant is (fitGrantToProduct): the line's loans would be priced at another rate
 * than the line states (scheduleInputFor clamps it), so it is refused.
 */
export function assertRateInProductRange(
  product: Pick<LineProduct, 'id' | 'terms'> | undefined,
  annualRate: number,
): void {
  if (product && productRate(product.terms, annualRate) !== annualRate)
    throw new LgError(
      'LG_PRODUCT_TERMS',
      `product ${product.id} lends at ${product.terms.rateMin}–${product.terms.rateMax} a year`,
      { field: 'annualRate', rateMin: product.terms.rateMin, rateMax: product.terms.rateMax },
    );
}

/**
 * The terms of a line about to be granted under the product and with the partners' fees, as bindLineToProduct and
 * recordChannel will write them: what its price is judged on at grant (line-price.ts).
 */
export function grantedLineTerms(
  currency: string,
  product: ProductView | undefined,
  partnerFees: readonly LinePartnerFee[],
): LineTerms {
  return {
    currency,
    product_id: product?.id ?? null,
    product_version: product?.version ?? null,
    product_terms: product ? canonicalJson(product.terms) : null,
    partner_fees: partnerFees.length > 0 ? JSON.stringify(partnerFees) : null,
  };
}

/** Pins a newly opened line to a product version (in the application's dbTx). */
export async function bindLineToProduct(
  deps: CoreDeps,
  tx: UnitTx,
  lineId: string,
  product: ProductView | undefined,
): Promise<void> {
  if (!product) return;
  await deps.lending.bindLineToProduct(tx, lineId, {
    product_id: product.id,
    product_version: product.version,
    product_terms: canonicalJson(product.terms),
  });
}

// ---------------------------------------------------------------- draws under a product

/** A draw the line's product does not allow (term, method, amount): LG_PRODUCT_TERMS, before anything is written. */
export function checkDrawForProduct(line: LineRow, draw: DrawTerms): void {
  const product = productOfLine(line);
  if (product) checkDrawTerms(product.terms, draw);
}

/** A charging party's fee as the line was granted with it (credit_lines.partner_fees, see partners.ts). */
export interface LinePartnerFee {
  readonly partnerId: string;
  readonly type: string;
  readonly feeRateBps: number;
}

export function partnerFeesOf(line: LineTerms): LinePartnerFee[] {
  return line.partner_fees ? (JSON.parse(line.partner_fees) as LinePartnerFee[]) : [];
}

/**
 * A partner's fee on one instalment: its yearly rate on the principal drawn, a twelfth with every monthly instalment,
 * or the whole term's at maturity for a daily-interest loan. Being in the schedule, it is in every APR the quote and
 * the loan disclose and in the cap check (金规〔2025〕9号: the all-in cost includes what the platform and the credit
 * enhancer charge). Like any instalment fee, one not yet due is not charged on early repayment.
 */
function partnerFeePerInstallment(fee: LinePartnerFee, base: ScheduleInput): number {
  const months = base.method === 'DAILY_INTEREST' ? base.termMonths : 1;
  return shareOfMinor(base.principalMinor, fee.feeRateBps * months, 120_000);
}

/** The schedule input with the product's day count and fees, and the partners' fees, if any. */
export function scheduleInputFor(line: LineTerms, base: ScheduleInput): ScheduleInput {
  const product = productOfLine(line);
  const partnerFeeMinor = partnerFeesOf(line).reduce((s, f) => s + partnerFeePerInstallment(f, base), 0);
  if (!product)
    return partnerFeeMinor === 0
      ? base
      : { ...base, periodicFeeMinor: (base.periodicFeeMinor ?? 0) + partnerFeeMinor };
  const t = product.terms;
  return {
    ...base,
    annualRate: productRate(t, base.annualRate),
    dayCount: t.dayCount,
    upfrontFeeMinor: feeFor(t.upfrontFee, base.principalMinor),
    periodicFeeMinor: feeFor(t.periodicFee, base.principalMinor) + partnerFeeMinor,
  };
}

/** What a loan costs, party by party, against the all-in cap: shown in a quote and in a refusal. */
export interface AllInBreakdown {
  readonly contractRatePercent: number;
  readonly interestMinor: number;
  readonly productFeesMinor: number;
  readonly partnerFees: readonly {
    readonly partnerId: string;
    readonly type: string;
    readonly feeRatePercent: number;
    readonly totalMinor: number;
  }[];
  readonly totalCostMinor: number;
  /** The annualised all-in cost (CN_IRR, the cap's convention). */
  readonly aprPercent: number;
  readonly capPercent: number;
}

export function allInBreakdown(
  line: LineTerms,
  base: ScheduleInput,
  priced: { schedule: Schedule; annualRate: number; aprPercent: number; capPercent: number },
): AllInBreakdown {
  const instalments = priced.schedule.installments.length;
  const partnerFees = partnerFeesOf(line).map((f) => ({
    partnerId: f.partnerId,
    type: f.type,
    feeRatePercent: f.feeRateBps / 100,
    totalMinor: partnerFeePerInstallment(f, base) * instalments,
  }));
  const partnerTotal = partnerFees.reduce((s, f) => s + f.totalMinor, 0);
  return {
    contractRatePercent: Math.round(priced.annualRate * 1_000_000) / 10_000,
    interestMinor: priced.schedule.totalInterestMinor,
    productFeesMinor: priced.schedule.totalFeesMinor - partnerTotal,
    partnerFees,
    totalCostMinor: priced.schedule.totalInterestMinor + priced.schedule.totalFeesMinor,
    aprPercent: priced.aprPercent,
    capPercent: priced.capPercent,
  };
}

/** The refusal of a quote or draw whose all-in cost is over the cap, with the breakdown (LG_APR_CAP_EXCEEDED). */
export function allInCapError(breakdown: AllInBreakdown, details: Record<string, unknown> = {}): LgError {
  return new LgError(
    'LG_APR_CAP_EXCEEDED',
    `the all-in APR ${breakdown.aprPercent}% is above the ${breakdown.capPercent}% cap`,
    { ...details, apr: breakdown.aprPercent, capPercent: breakdown.capPercent, breakdown },
  );
}

/** The all-in cap a draw on this line must meet: the lower of the platform's and the product's. */
export function aprCapFor(line: LineTerms, platformCapPercent: number): number {
  const product = productOfLine(line);
  return product ? Math.min(platformCapPercent, product.terms.aprCapPercent) : platformCapPercent;
}

/** The terms a loan snapshots at booking (what every later repayment and accrual reads). */
export interface LoanTermsSnapshot extends AccrualTerms {
  readonly productId: string;
  readonly productVersion: number;
  readonly upfrontFeeMinor: number;
}

type LoanProductColumns = Pick<
  LoanRow,
  | 'product_id'
  | 'product_version'
  | 'terms'
  | 'interest_through'
  | 'interest_unpaid_minor'
  | 'penalty_through'
  | 'penalty_unpaid_minor'
  | 'purpose'
  | 'quote_id'
>;

/** The loan's product columns: the terms snapshot and the accrual start, or nulls for a loan without a product. */
export function loanProductColumns(
  line: LineRow,
  draw: { method: ScheduleInput['method']; purpose?: string; quoteId?: string },
  booked: { schedule: Schedule; annualRate: number; startDate: string },
): LoanProductColumns {
  const product = productOfLine(line);
  const common = { interest_unpaid_minor: 0, penalty_unpaid_minor: 0, purpose: draw.purpose ?? null };
  if (!product) {
    return {
      ...common,
      product_id: null,
      product_version: null,
      terms: null,
      interest_through: null,
      penalty_through: null,
      quote_id: draw.quoteId ?? null,
    };
  }
  const t = product.terms;
  const snapshot: LoanTermsSnapshot = {
    productId: product.id,
    productVersion: product.version,
    annualRate: booked.annualRate,
    method: draw.method,
    dayCount: t.dayCount,
    basis: t.dayCount,
    periodicFeeMinor: booked.schedule.installments[0]?.feeMinor ?? 0,
    upfrontFeeMinor: booked.schedule.upfrontFeeMinor,
    graceDays: t.graceDays,
    prepayment: t.prepayment,
    lateFeeMinor: t.lateFee.amountMinor,
    lateFeeCapMinor: t.lateFee.capMinor,
    penaltyMultiplier: t.penaltyMultiplier,
    aprCapPercent: t.aprCapPercent,
  };
  return {
    ...common,
    product_id: product.id,
    product_version: product.version,
    terms: canonicalJson(snapshot),
    interest_through: booked.startDate,
    penalty_through: booked.startDate,
    quote_id: draw.quoteId ?? null,
  };
}

export function loanTermsOf(loan: LoanRow): LoanTermsSnapshot | undefined {
  return loan.terms === null ? undefined : (JSON.parse(loan.terms) as LoanTermsSnapshot);
}
