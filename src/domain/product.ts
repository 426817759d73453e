import { DEFAULT_APR_CAP_PERCENT } from './apr.js';
import { PENALTY_MULTIPLIER_MAX } from './accrual.js';
import { DAY_COUNT_BASES, type DayCountBasis } from './day-count.js';
import { LgError } from './errors.js';
import { shareOfMinor } from './money.js';
import { MAX_TERM_MONTHS, REPAYMENT_METHODS, type RepaymentMethod } from './schedule.js';
import { PREPAYMENT_MODES, type PrepaymentMode } from './settlement.js';

/**
 * A loan product's terms (pure). A product is versioned: a version is never edited, a change is a new version, and
 * lines pin the version they were granted under while loans snapshot the terms they were booked with — so changing a
 * product can never change a booked loan.
 */
export interface FeeRule {
  /** Basis points of the principal (100 = 1%). */
  readonly rateBps: number;
  /** The fee never exceeds this (minor units). */
  readonly capMinor: number;
}

export interface ProductTerms {
  readonly name: string;
  readonly currency: string;
  /** Annual contract rates the product allows, decimals (0.0365 = 3.65%). */
  readonly rateMin: number;
  readonly rateMax: number;
  readonly dayCount: DayCountBasis;
  readonly termsMonths: readonly number[];
  readonly methods: readonly RepaymentMethod[];
  readonly amountMinMinor: number;
  readonly amountMaxMinor: number;
  /** Charged at disbursement, withheld from the amount paid out. */
  readonly upfrontFee: FeeRule;
  /** Charged with every instalment. */
  readonly periodicFee: FeeRule;
  /** Charged once on an instalment unpaid after the grace period; capMinor bounds a loan's late fees in total. */
  readonly lateFee: { readonly amountMinor: number; readonly capMinor: number };
  /** Total rate on overdue principal as a multiple of the contract rate (default and maximum 1.5). */
  readonly penaltyMultiplier: number;
  readonly graceDays: number;
  /** All-in cost cap in percent (APR under CN_IRR, every fee included). */
  readonly aprCapPercent: number;
  /** What a partial early repayment does to the remaining schedule. */
  readonly prepayment: PrepaymentMode;
  /** 资金用途: when true, repaying other loans is a forbidden purpose on this product. */
  readonly forbidLoanRepayment: boolean;
}

export const GRACE_DAYS_MAX = 30;
/** The Supreme People's Court's protected ceiling on private lending; no product may state a cap above it. */
export const APR_CAP_PERCENT_MAX = 36;

function bad(message: string, field: string, value: unknown): LgError {
  return new LgError('LG_PRODUCT_INVALID', message, { field, value });
}

function checkInt(value: number, field: string, min: number, max = Number.MAX_SAFE_INTEGER): void {
  if (!Number.isSafeInteger(value) || value < min || value > max)
    throw bad(`${field} must be an integer from ${min} to ${max}`, field, value);
}

function checkFee(fee: FeeRule, field: string): void {
  checkInt(fee.rateBps, `${field}.rateBps`, 0, 10_000);
  checkInt(fee.capMinor, `${field}.capMinor`, 0);
}

function checkRates(t: ProductTerms): void {
  for (const [field, value] of [
    ['rateMin', t.rateMin],
    ['rateMax', t.rateMax],
  ] as const) {
    if (!Number.isFinite(value) || value < 0 || value > 1)
      throw bad(`${field} must be a decimal from 0 to 1`, field, value);
  }
  if (t.rateMin > t.rateMax) throw bad('rateMin may not exceed rateMax', 'rateMin', t.rateMin);
  if (!Number.isFinite(t.aprCapPercent) || t.aprCapPercent <= 0 || t.aprCapPercent > APR_CAP_PERCENT_MAX)
    throw bad(
      `aprCapPercent must be above 0 and at most ${APR_CAP_PERCENT_MAX}`,
      'aprCapPercent',
      t.aprCapPercent,
    );
  if (t.rateMax * 100 > t.aprCapPercent)
    throw bad('rateMax alone exceeds the all-in cap', 'rateMax', {
      rateMax: t.rateMax,
      aprCapPercent: t.aprCapPercent,
    });
  if (
    !Number.isFinite(t.penaltyMultiplier) ||
    t.penaltyMultiplier < 1 ||
    t.penaltyMultiplier > PENALTY_MULTIPLIER_MAX
  )
    throw bad(
      `penaltyMultiplier must be from 1 to ${PENALTY_MULTIPLIER_MAX}`,
      'penaltyMultiplier',
      t.penaltyMultiplier,
    );
}

function checkLists(t: ProductTerms): void {
  if (t.termsMonths.length === 0 || new Set(t.termsMonths).size !== t.termsMonths.length)
    throw bad('termsMonths must list distinct terms', 'termsMonths', t.termsMonths);
  for (const term of t.termsMonths) checkInt(term, 'termsMonths', 1, MAX_TERM_MONTHS);
  if (t.methods.length === 0 || t.methods.some((m) => !(REPAYMENT_METHODS as readonly string[]).includes(m)))
    throw bad(`methods must be some of ${REPAYMENT_METHODS.join(', ')}`, 'methods', t.methods);
  if (!(DAY_COUNT_BASES as readonly string[]).includes(t.dayCount))
    throw bad(`dayCount must be one of ${DAY_COUNT_BASES.join(', ')}`, 'dayCount', t.dayCount);
  if (!(PREPAYMENT_MODES as readonly string[]).includes(t.prepayment))
    throw bad(`prepayment must be one of ${PREPAYMENT_MODES.join(', ')}`, 'prepayment', t.prepayment);
}

/** Refuses terms that are inconsistent or break a rule; returns them unchanged. */
export function validateProductTerms(t: ProductTerms): ProductTerms {
  if (t.name.trim().length === 0) throw bad('name must not be empty', 'name', t.name);
  if (!/^[A-Z]{3}$/.test(t.currency)) throw bad('currency must be an ISO 4217 code', 'currency', t.currency);
  checkRates(t);
  checkLists(t);
  checkInt(t.amountMinMinor, 'amountMinMinor', 1);
  checkInt(t.amountMaxMinor, 'amountMaxMinor', t.amountMinMinor);
  checkFee(t.upfrontFee, 'upfrontFee');
  checkFee(t.periodicFee, 'periodicFee');
  checkInt(t.lateFee.amountMinor, 'lateFee.amountMinor', 0);
  checkInt(t.lateFee.capMinor, 'lateFee.capMinor', 0);
  checkInt(t.graceDays, 'graceDays', 0, GRACE_DAYS_MAX);
  return t;
}

/** Product defaults a client may leave out: PBoC's 1.5× penalty ceiling, the 24% all-in cap, re-amortising. */
export const PRODUCT_DEFAULTS = {
  penaltyMultiplier: PENALTY_MULTIPLIER_MAX,
  graceDays: 3,
  aprCapPercent: DEFAULT_APR_CAP_PERCENT,
  prepayment: 'REAMORTISE' as PrepaymentMode,
  forbidLoanRepayment: true,
  upfrontFee: { rateBps: 0, capMinor: 0 },
  periodicFee: { rateBps: 0, capMinor: 0 },
  lateFee: { amountMinor: 0, capMinor: 0 },
};

/** A fee under a rule: principal × bps, rounded half-up, never above the cap. */
export function feeFor(rule: FeeRule, principalMinor: number): number {
  return Math.min(rule.capMinor, shareOfMinor(principalMinor, rule.rateBps, 10_000));
}

export interface DrawTerms {
  readonly amountMinor: number;
  readonly termMonths: number;
  readonly method: RepaymentMethod;
}

/** A draw (or quote) the product does not allow: LG_PRODUCT_TERMS naming what and what is allowed. */
export function checkDrawTerms(t: ProductTerms, d: DrawTerms): void {
  if (!t.termsMonths.includes(d.termMonths))
    throw new LgError('LG_PRODUCT_TERMS', `the product does not offer a ${d.termMonths}-month term`, {
      field: 'termMonths',
      allowed: t.termsMonths,
    });
  if (!t.methods.includes(d.method))
    throw new LgError('LG_PRODUCT_TERMS', `the product does not offer ${d.method}`, {
      field: 'method',
      allowed: t.methods,
    });
  if (d.amountMinor < t.amountMinMinor || d.amountMinor > t.amountMaxMinor)
    throw new LgError('LG_PRODUCT_TERMS', 'the amount is outside the product range', {
      field: 'amountMinor',
      min: t.amountMinMinor,
      max: t.amountMaxMinor,
    });
}

/** The rate a line under this product charges: the granted rate clamped into the product's range. */
export function productRate(t: ProductTerms, grantedRate: number): number {
  return Math.min(t.rateMax, Math.max(t.rateMin, grantedRate));
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Terms from untrusted JSON (a CLI file): shape checked, defaults applied, then validated. */
export function parseProductTerms(value: unknown): ProductTerms {
  if (!isRecord(value)) throw bad('product terms must be a JSON object', 'terms', typeof value);
  for (const field of ['termsMonths', 'methods'] as const) {
    if (!Array.isArray(value[field])) throw bad(`${field} must be an array`, field, value[field]);
  }
  for (const field of ['name', 'currency', 'dayCount'] as const) {
    if (typeof value[field] !== 'string') throw bad(`${field} must be a string`, field, value[field]);
  }
  const terms = { ...PRODUCT_DEFAULTS, ...value } as unknown as ProductTerms;
  for (const field of ['upfrontFee', 'periodicFee', 'lateFee'] as const) {
    if (!isRecord(terms[field])) throw bad(`${field} must be an object`, field, terms[field]);
  }
  const known = new Set<string>([...Object.keys(PRODUCT_DEFAULTS), ...REQUIRED_FIELDS]);
  const unknown = Object.keys(value).filter((k) => !known.has(k));
  if (unknown.length > 0) throw bad(`unknown fields: ${unknown.join(', ')}`, 'terms', unknown);
  return validateProductTerms(terms);
}

const REQUIRED_FIELDS = [
  'name',
  'currency',
  'rateMin',
  'rateMax',
  'dayCount',
  'termsMonths',
  'methods',
  'amountMinMinor',
  'amountMaxMinor',
];
