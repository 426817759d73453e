import { LgError } from './errors.js';

/**
 * 助贷 partners and co-lending (pure). The 2025 facilitation notice (金规〔2025〕9号) makes the lender answer for every
 * party in the chain: it keeps a list of partners, caps what the borrower pays all of them together (the all-in cost,
 * 24% by Art. 6 as read in domain.md R4), and stops business through a partner it suspends.
 */
export const PARTNER_TYPES = [
  'PLATFORM_OPERATOR',
  'FUNDER',
  'CREDIT_ENHANCER',
  'COLLECTION_AGENCY',
  'DATA_PROVIDER',
] as const;
export type PartnerType = (typeof PARTNER_TYPES)[number];

export const PARTNER_STATUSES = ['ACTIVE', 'SUSPENDED', 'TERMINATED'] as const;
export type PartnerStatus = (typeof PARTNER_STATUSES)[number];

export const LIST_STATUSES = ['CLEAR', 'WATCH', 'BLOCKED'] as const;

export const FUNDING_MODES = ['SELF_FUNDED', 'CO_LENDING', 'FACILITATION'] as const;
export type FundingMode = (typeof FUNDING_MODES)[number];

export interface FunderShare {
  readonly partnerId: string;
  /** Basis points of each loan the partner funds. */
  readonly shareBps: number;
}

export interface Funding {
  readonly mode: FundingMode;
  readonly funders: readonly FunderShare[];
}

/**
 * A funding arrangement: self-funded has no funders; co-lending names funders whose shares leave the lender a
 * positive share of its own; facilitation names the funders who take the whole loan (shares sum to 100%).
 */
export function validateFunding(f: Funding): Funding {
  const total = f.funders.reduce((s, x) => s + x.shareBps, 0);
  const bad = (message: string) => new LgError('LG_VALIDATION', message, { funding: f });
  if (f.funders.some((x) => !Number.isInteger(x.shareBps) || x.shareBps <= 0 || x.shareBps > 10_000))
    throw bad('every funder share must be 1 to 10000 basis points');
  if (new Set(f.funders.map((x) => x.partnerId)).size !== f.funders.length)
    throw bad('a funder is listed twice');
  if (f.mode === 'SELF_FUNDED' && f.funders.length > 0) throw bad('a self-funded line has no funders');
  if (f.mode === 'CO_LENDING' && (f.funders.length === 0 || total >= 10_000))
    throw bad('co-lending needs funders whose shares leave the lender its own share');
  if (f.mode === 'FACILITATION' && total !== 10_000)
    throw bad('under facilitation the funders take the whole loan');
  return f;
}

/** What the borrower pays each party a year, in percent of principal, against the all-in cap. */
export interface AllInCost {
  readonly contractRatePercent: number;
  readonly partnerFees: readonly {
    readonly partnerId: string;
    readonly type: string;
    readonly ratePercent: number;
  }[];
  readonly totalPercent: number;
  readonly capPercent: number;
  readonly ok: boolean;
}

export function allInCost(
  contractRate: number,
  partners: readonly { id: string; type: string; feeRateBps: number }[],
  capPercent: number,
): AllInCost {
  const partnerFees = partners
    .filter((p) => p.feeRateBps > 0)
    .map((p) => ({ partnerId: p.id, type: p.type, ratePercent: p.feeRateBps / 100 }));
  const contractRatePercent = Math.round(contractRate * 1_000_000) / 10_000;
  const totalPercent =
    Math.round((contractRatePercent + partnerFees.reduce((s, p) => s + p.ratePercent, 0)) * 10_000) / 10_000;
  return { contractRatePercent, partnerFees, totalPercent, capPercent, ok: totalPercent <= capPercent };
}

/**
 * Concentration: the partner's share of the book's outstanding principal after a draw. Below `floorMinor` of total
 * outstanding the share is not meaningful (the first loan of a new book is 100% of it) and is not enforced.
 */
export function concentrationBreached(
  partnerOutstandingMinor: number,
  totalOutstandingMinor: number,
  drawMinor: number,
  limit: { shareMax: number; floorMinor: number },
): boolean {
  const total = totalOutstandingMinor + drawMinor;
  if (total < limit.floorMinor) return false;
  return (partnerOutstandingMinor + drawMinor) / total > limit.shareMax;
}
