import type { UnitGuard } from '../domain/index.js';
import { parseIsoDay } from '../domain/index.js';
import { MS_PER_DAY, lenderDayOf } from '../domain/index.js';
import { LgError } from '../domain/index.js';
import {
  allInCost,
  concentrationBreached,
  validateFunding,
  type Funding,
  type PartnerStatus,
  type PartnerType,
} from '../domain/index.js';
import { appendToLedger } from '../compliance/index.js';
import type { CoreDeps, UnitTx } from './deps.js';
import type { BookShare, PartnerRecord } from './ports/lending.js';
import { partnerFeesOf, type LinePartnerFee } from './products.js';
import { iso } from './views.js';

/**
 * 助贷 partners (金规〔2025〕9号): the registry, partner-scoped API keys, the channel and funding of each line, and the
 * controls — a suspended or out-of-contract partner brings no new applications, the borrower's all-in cost over every
 * party stays within the cap, and no partner carries more than its share of the book.
 */
type PartnerRow = PartnerRecord;

export interface PartnerInput {
  readonly name: string;
  readonly type: PartnerType;
  readonly licenceNo: string;
  readonly contractStart: string;
  readonly contractEnd: string;
  readonly feeRateBps?: number;
  readonly concentrationMax?: number;
  readonly listStatus?: string;
}

export interface PartnerView {
  readonly id: string;
  readonly name: string;
  readonly type: string;
  readonly licenceNo: string;
  readonly status: string;
  readonly listStatus: string;
  readonly contractStart: string;
  readonly contractEnd: string;
  readonly feeRateBps: number;
  readonly concentrationMax: number;
  readonly createdAt: string;
  readonly updatedAt: string;
}

function viewOf(row: PartnerRow): PartnerView {
  return {
    id: row.id,
    name: row.name,
    type: row.type,
    licenceNo: row.licence_no,
    status: row.status,
    listStatus: row.list_status,
    contractStart: row.contract_start,
    contractEnd: row.contract_end,
    feeRateBps: Number(row.fee_rate_bps),
    concentrationMax: Number(row.concentration_max),
    createdAt: iso(Number(row.created_at)),
    updatedAt: iso(Number(row.updated_at)),
  };
}

async function findPartner(deps: CoreDeps, id: string, tx?: UnitTx, lock?: 'share'): Promise<PartnerRow> {
  const row = await deps.lending.partner(id, tx, lock);
  if (!row) throw new LgError('LG_NOT_FOUND', `no partner ${id}`, { partnerId: id });
  return row;
}

export async function createPartner(
  deps: CoreDeps,
  input: PartnerInput,
  actor?: string,
  guard?: UnitGuard<PartnerView>,
): Promise<PartnerView> {
  for (const field of ['contractStart', 'contractEnd'] as const)
    if (parseIsoDay(input[field]) === undefined)
      throw new LgError('LG_VALIDATION', `${field} must be a calendar day (YYYY-MM-DD)`, {
        field,
        value: input[field],
      });
  if (input.contractEnd < input.contractStart)
    throw new LgError('LG_VALIDATION', 'contractEnd may not be before contractStart', { ...input });
  const now = deps.clock.now();
  const row: PartnerRow = {
    id: deps.ids.next(),
    name: input.name,
    type: input.type,
    licence_no: input.licenceNo,
    status: 'ACTIVE',
    list_status: input.listStatus ?? 'CLEAR',
    contract_start: input.contractStart,
    contract_end: input.contractEnd,
    fee_rate_bps: input.feeRateBps ?? 0,
    concentration_max: input.concentrationMax ?? 1,
    created_at: now,
    updated_at: now,
  };
  // The unit's value is the answer, so that a guard that says the response stores it with the key.
  return deps.store.transaction(async (tx) => {
    await deps.lending.insertPartner(tx, row);
    await appendToLedger(tx, [
      {
        entryId: deps.ids.next(),
        kind: 'partner.registered',
        subjectId: row.id,
        recordedAt: now,
        payload: { ...viewOf(row), actor: actor ?? null },
      },
    ]);
    return viewOf(row);
  }, guard);
}

export async function listPartners(deps: CoreDeps): Promise<PartnerView[]> {
  return (await deps.lending.listPartners(1000)).map(viewOf);
}

export async function getPartner(deps: CoreDeps, id: string): Promise<PartnerView> {
  return viewOf(await findPartner(deps, id));
}

/** Suspends, reinstates or terminates a partner (a terminated partner stays terminated), with the ledger entry. */
export async function setPartnerStatus(
  deps: CoreDeps,
  id: string,
  change: { status: PartnerStatus; reason: string; actor?: string },
  guard?: UnitGuard<PartnerView>,
): Promise<PartnerView> {
  const now = deps.clock.now();
  return deps.store.transaction(async (tx) => {
    const row = await findPartner(deps, id, tx);
    if (row.status === 'TERMINATED' && change.status !== 'TERMINATED')
      throw new LgError('LG_ILLEGAL_TRANSITION', 'a terminated partner cannot be reinstated', {
        partnerId: id,
      });
    await deps.lending.setPartnerStatus(tx, id, change.status, now);
    await appendToLedger(tx, [
      {
        entryId: deps.ids.next(),
        kind: 'partner.status',
        subjectId: id,
        recordedAt: now,
        payload: {
          partnerId: id,
          from: row.status,
          to: change.status,
          reason: change.reason,
          actor: change.actor ?? null,
        },
      },
    ]);
    return viewOf({ ...row, status: change.status, updated_at: now });
  }, guard);
}

/**
 * A key for a platform operator: `mint` creates the API key (role 'partner') inside the same dbTx that binds it to
 * the partner, so a key never exists without its scope.
 */
export async function createPartnerKey<K extends { id: string }>(
  deps: CoreDeps,
  partnerId: string,
  mint: (tx: UnitTx) => Promise<K>,
): Promise<K> {
  return deps.store.transaction(async (tx) => {
    const partner = await findPartner(deps, partnerId, tx);
    if (partner.type !== 'PLATFORM_OPERATOR' || partner.status !== 'ACTIVE')
      throw new LgError('LG_CONFLICT', 'keys are issued to active platform operators only', { partnerId });
    const key = await mint(tx);
    await deps.lending.bindPartnerKey(tx, key.id, partnerId, deps.clock.now());
    return key;
  });
}

/** The partner a partner-role key acts for; a key without a binding sees nothing. */
export async function partnerOfKey(deps: CoreDeps, keyId: string | undefined): Promise<string> {
  const partnerId = keyId === undefined ? undefined : await deps.lending.partnerOfKey(keyId);
  if (partnerId === undefined) throw new LgError('LG_FORBIDDEN', 'this key is not bound to a partner');
  // A suspended partner still services the book it brought; a terminated partnership reads nothing more.
  if ((await findPartner(deps, partnerId)).status === 'TERMINATED')
    throw new LgError('LG_FORBIDDEN', 'the partnership has ended; its keys no longer read the book', {
      partnerId,
    });
  return partnerId;
}

// ---------------------------------------------------------------- channels on applications and lines

export interface ChannelInput {
  readonly partnerId: string;
  readonly fundingMode: Funding['mode'];
  readonly funders?: Funding['funders'];
  /** 增信: a credit enhancer (guarantee or insurance) whose fee the borrower pays. */
  readonly creditEnhancerId?: string;
}

export interface LineParties {
  readonly fundingMode: string;
  /** Who lends the money, with shares in basis points; `LENDER` is this institution's own share. */
  readonly funders: readonly {
    readonly partnerId: string;
    readonly name: string;
    readonly shareBps: number;
  }[];
  /** Every party that charges the borrower besides the contract interest, with its yearly fee. */
  readonly charging: readonly {
    readonly partnerId: string;
    readonly name: string;
    readonly type: string;
    readonly feeRatePercent: number;
  }[];
  readonly text: { readonly zh: string; readonly en: string };
}

/**
 * The borrower's view of who is behind the line (金规〔2025〕9号 asks that the borrower can see the funder and every
 * fee-charging party): the funders and their shares, the platform and the credit enhancer with their fees.
 */
export async function lineParties(deps: CoreDeps, lineId: string): Promise<LineParties> {
  const line = await deps.coreStore.line(lineId);
  const shares = line.funders ? (JSON.parse(line.funders) as { partnerId: string; shareBps: number }[]) : [];
  const funders = [];
  for (const f of shares)
    funders.push({
      partnerId: f.partnerId,
      name: (await findPartner(deps, f.partnerId)).name,
      shareBps: f.shareBps,
    });
  const own = 10_000 - shares.reduce((s, f) => s + f.shareBps, 0);
  if (own > 0) funders.push({ partnerId: 'LENDER', name: '本机构 / the lender', shareBps: own });
  // The fees the line was granted with (what its loans are priced at), not what the partner charges new lines today.
  const granted = new Map(partnerFeesOf(line).map((f) => [f.partnerId, f.feeRateBps]));
  const charging = [];
  for (const id of [line.channel_partner_id, line.credit_enhancer_id]) {
    if (!id) continue;
    const p = await findPartner(deps, id);
    charging.push({
      partnerId: p.id,
      name: p.name,
      type: p.type,
      feeRatePercent: (line.partner_fees ? (granted.get(p.id) ?? 0) : Number(p.fee_rate_bps)) / 100,
    });
  }
  const pct = (bps: number) => `${(bps / 100).toFixed(2)}%`;
  const zh =
    `出资方：${funders.map((f) => `${f.name} ${pct(f.shareBps)}`).join('，')}。` +
    (charging.length === 0
      ? '除借款利息外无其他机构向您收费。'
      : `向您收费的机构：${charging.map((c) => `${c.name}（年化 ${c.feeRatePercent.toFixed(2)}%）`).join('，')}。`);
  const en =
    `Funded by: ${funders.map((f) => `${f.name} ${pct(f.shareBps)}`).join(', ')}. ` +
    (charging.length === 0
      ? 'No other party charges you besides the loan interest.'
      : `Also charging you: ${charging.map((c) => `${c.name} (${c.feeRatePercent.toFixed(2)}% a year)`).join(', ')}.`);
  return { fundingMode: line.funding_mode ?? 'SELF_FUNDED', funders, charging, text: { zh, en } };
}

export interface Channel {
  readonly partner: PartnerRow;
  readonly funding: Funding;
  /** Every party that charges the borrower: the platform, the credit enhancer. */
  readonly chargers: readonly PartnerRow[];
}

function assertInForce(p: PartnerRow, today: string, role: string): void {
  if (p.status !== 'ACTIVE' || p.list_status === 'BLOCKED')
    throw new LgError(
      'LG_PARTNER_SUSPENDED',
      `${role} ${p.name} is ${p.status.toLowerCase()}; no new business`,
      {
        partnerId: p.id,
        status: p.status,
        listStatus: p.list_status,
      },
    );
  if (today < p.contract_start || today > p.contract_end)
    throw new LgError('LG_PARTNER_SUSPENDED', `the contract with ${p.name} is not in force`, {
      partnerId: p.id,
      contractStart: p.contract_start,
      contractEnd: p.contract_end,
    });
}

/**
 * The channel's parties, every one active, in contract and of the right type. Without `tx`, read before the
 * application's transaction (nothing is written yet). With `tx`, read again inside a transaction under a share lock:
 * a suspension another process committed before is seen here (and refuses the grant), and one that comes later waits
 * for this transaction to end (PostgreSQL; SQLite has one writer). The one check an application and an approval on
 * review (core/reviews.ts) both make.
 */
export async function channelFor(
  deps: CoreDeps,
  input: ChannelInput | undefined,
  tx?: UnitTx,
): Promise<Channel | undefined> {
  if (!input) return undefined;
  // Contract days are the lender's calendar days, as a loan's dates are.
  const today = lenderDayOf(deps.config, deps.clock.now());
  const read = (id: string) => findPartner(deps, id, tx, tx === undefined ? undefined : 'share');
  const partner = await read(input.partnerId);
  if (partner.type !== 'PLATFORM_OPERATOR')
    throw new LgError('LG_VALIDATION', 'a channel is a platform operator', {
      partnerId: partner.id,
      type: partner.type,
    });
  assertInForce(partner, today, 'the channel');
  const funding = validateFunding({ mode: input.fundingMode, funders: input.funders ?? [] });
  for (const f of funding.funders) {
    const funder = await read(f.partnerId);
    if (funder.type !== 'FUNDER')
      throw new LgError('LG_VALIDATION', 'a funder must be a FUNDER partner', { partnerId: funder.id });
    assertInForce(funder, today, 'the funder');
  }
  const chargers = [partner];
  if (input.creditEnhancerId) {
    const enhancer = await read(input.creditEnhancerId);
    if (enhancer.type !== 'CREDIT_ENHANCER')
      throw new LgError('LG_VALIDATION', 'creditEnhancerId must be a CREDIT_ENHANCER', {
        partnerId: enhancer.id,
      });
    assertInForce(enhancer, today, 'the credit enhancer');
    chargers.push(enhancer);
  }
  return { partner, funding, chargers };
}

/** The channel as an application asked for it. */
function inputOf(channel: Channel): ChannelInput {
  return {
    partnerId: channel.partner.id,
    fundingMode: channel.funding.mode,
    funders: channel.funding.funders,
    creditEnhancerId: channel.chargers.find((p) => p.type === 'CREDIT_ENHANCER')?.id,
  };
}

/**
 * The application's channel read again inside its dbTx (channelFor with `tx`): without it a line opened through a
 * partner whose suspension had already been answered.
 */
export async function confirmChannelInTx(
  deps: CoreDeps,
  tx: UnitTx,
  channel: Channel | undefined,
): Promise<void> {
  if (channel) await channelFor(deps, inputOf(channel), tx);
}

/**
 * The channel a stored application came through, as it asked for it (recordChannel keeps it), or undefined for a
 * direct one. An application stored before migration 130 kept only its channel partner: its funding is taken as
 * self-funded, no funders and no credit enhancer.
 */
export function storedChannel(row: {
  readonly channel_partner_id?: string | null;
  readonly funding_mode?: string | null;
  readonly funders?: string | null;
  readonly credit_enhancer_id?: string | null;
}): ChannelInput | undefined {
  if (!row.channel_partner_id) return undefined;
  if (!row.funding_mode) return { partnerId: row.channel_partner_id, fundingMode: 'SELF_FUNDED' };
  return {
    partnerId: row.channel_partner_id,
    fundingMode: row.funding_mode as Funding['mode'],
    funders: row.funders ? (JSON.parse(row.funders) as Funding['funders']) : [],
    ...(row.credit_enhancer_id ? { creditEnhancerId: row.credit_enhancer_id } : {}),
  };
}

/**
 * The borrower's all-in cost — contract rate plus the platform's and the credit enhancer's fees — within the cap, or
 * the grant is refused with the breakdown (inside the application's dbTx, so nothing is written).
 */
export function assertAllInCost(
  annualRate: number | undefined,
  channel: Channel | undefined,
  caps: readonly (number | undefined)[],
): void {
  if (!channel || annualRate === undefined) return;
  const capPercent = Math.min(...caps.filter((c): c is number => c !== undefined));
  const cost = allInCost(
    annualRate,
    channel.chargers.map((p) => ({ id: p.id, type: p.type, feeRateBps: Number(p.fee_rate_bps) })),
    capPercent,
  );
  if (!cost.ok)
    throw new LgError(
      'LG_APR_CAP_EXCEEDED',
      `the all-in cost ${cost.totalPercent}% is above the ${capPercent}% cap`,
      {
        breakdown: cost,
      },
    );
}

/** Each charging party's fee in force, as the line granted through the channel keeps it (credit_lines.partner_fees). */
export function channelFees(channel: Channel | undefined): LinePartnerFee[] {
  return (channel?.chargers ?? [])
    .filter((p) => Number(p.fee_rate_bps) > 0)
    .map((p) => ({ partnerId: p.id, type: p.type, feeRateBps: Number(p.fee_rate_bps) }));
}

/**
 * Records the channel on the application (with the funding it asked for, so that a referred one's line is opened
 * through it on review) and on the line, with the fees each charging party had (in the granting dbTx).
 */
export async function recordChannel(
  deps: CoreDeps,
  tx: UnitTx,
  ids: { applicationId: string; lineId?: string },
  channel: Channel | undefined,
): Promise<void> {
  if (!channel) return;
  const fees = channelFees(channel);
  await deps.lending.recordChannel(tx, ids, {
    channel_partner_id: channel.partner.id,
    funding_mode: channel.funding.mode,
    funders: JSON.stringify(channel.funding.funders),
    credit_enhancer_id: channel.chargers.find((p) => p.type === 'CREDIT_ENHANCER')?.id ?? null,
    partner_fees: JSON.stringify(fees),
  });
}

// ---------------------------------------------------------------- draws: concentration

export const CONCENTRATION_FLOOR_MINOR_DEFAULT = 100_000_000; // ¥1,000,000 of book

/** The concentration limit a draw on a line is held to: its channel partner's share of the book. */
export interface ConcentrationLimit {
  readonly partnerId: string;
  readonly name: string;
  readonly shareMax: number;
  readonly floorMinor: number;
}

/**
 * The limit for a draw on this line, read before the draw's unit of work: a line's channel never changes and a
 * partner's share limit is set at registration, so neither can go stale. undefined: a direct line or no limit.
 */
export async function concentrationLimit(
  deps: CoreDeps,
  lineId: string,
): Promise<ConcentrationLimit | undefined> {
  return limitOfChannel(deps, await channelOfLine(deps, lineId));
}

/** The same for a line already read (and locked) in a unit of work, reading the partner in that unit. */
export async function concentrationLimitInUnit(
  deps: CoreDeps,
  tx: UnitTx,
  line: { readonly channel_partner_id?: string | null },
): Promise<ConcentrationLimit | undefined> {
  return limitOfChannel(deps, line.channel_partner_id ?? null, tx);
}

async function limitOfChannel(
  deps: CoreDeps,
  channelId: string | null,
  tx?: UnitTx,
): Promise<ConcentrationLimit | undefined> {
  if (channelId === null) return undefined;
  const partner = await findPartner(deps, channelId, tx);
  if (Number(partner.concentration_max) >= 1) return undefined;
  return {
    partnerId: partner.id,
    name: partner.name,
    shareMax: Number(partner.concentration_max),
    floorMinor: deps.config.concentrationFloorMinor ?? CONCENTRATION_FLOOR_MINOR_DEFAULT,
  };
}

function assertWithinShare(limit: ConcentrationLimit, share: BookShare, amountMinor: number): void {
  if (!concentrationBreached(share.partnerMinor, share.totalMinor, amountMinor, limit)) return;
  throw new LgError('LG_PARTNER_CONCENTRATION', `partner ${limit.name} would exceed its share of the book`, {
    partnerId: limit.partnerId,
    shareMax: limit.shareMax,
    partnerOutstandingMinor: share.partnerMinor,
    bookOutstandingMinor: share.totalMinor,
    amountMinor,
  });
}

/**
 * Inside the draw's unit of work, after the line's lock: the partner's row is locked (PostgreSQL) and the shares read
 * under it, so concurrent draws on one channel — in one process or several — see each other's debits and the limit
 * holds exactly. A refusal throws, and the unit writes nothing.
 */
export async function checkConcentrationInUnit(
  deps: CoreDeps,
  tx: UnitTx,
  limit: ConcentrationLimit | undefined,
  amountMinor: number,
): Promise<void> {
  if (!limit) return;
  assertWithinShare(limit, await deps.lending.bookShare(tx, limit.partnerId), amountMinor);
}

/** The share check a draw's unit runs on the book it reads under the line's lock (core/ports.ts DrawUnit). */
export function shareCheck(
  limit: ConcentrationLimit,
  amountMinor: number,
): { readonly partnerId: string; check(share: BookShare): void } {
  return { partnerId: limit.partnerId, check: (share) => assertWithinShare(limit, share, amountMinor) };
}

/** Lines' channels, per store: set once at grant and never changed, so an entry never goes stale. */
const lineChannels = new WeakMap<object, Map<string, string | null>>();
const LINE_CHANNELS_MAX = 10_000;

async function channelOfLine(deps: CoreDeps, lineId: string): Promise<string | null> {
  let known = lineChannels.get(deps.store);
  if (!known) lineChannels.set(deps.store, (known = new Map()));
  const cached = known.get(lineId);
  if (cached !== undefined) return cached;
  const line = await deps.lending.lineChannel(lineId);
  if (!line) throw new LgError('LG_NOT_FOUND', `no line ${lineId}`, { lineId });
  if (known.size >= LINE_CHANNELS_MAX) known.clear();
  known.set(lineId, line.channelPartnerId);
  return line.channelPartnerId;
}

// ---------------------------------------------------------------- partner-scoped reads and channel quality

export async function channelLines(deps: CoreDeps, partnerId: string, limit = 100) {
  const rows = await deps.lending.channelLines(partnerId, limit);
  return rows.map((r) => ({
    id: r.id,
    status: r.status,
    currency: r.currency,
    limitMinor: r.limit_minor,
    availableMinor: r.available_minor,
    outstandingMinor: r.outstanding_minor,
    annualRate: r.annual_rate,
    fundingMode: r.funding_mode,
    createdAt: iso(r.created_at),
  }));
}

export async function channelApplications(deps: CoreDeps, partnerId: string, limit = 100) {
  const rows = await deps.lending.channelApplications(partnerId, limit);
  return rows.map((r) => ({
    id: r.id,
    outcome: r.outcome,
    lineId: r.line_id,
    createdAt: iso(r.created_at),
  }));
}

/** A line of the partner's channel, or 404 — a key never learns that another channel's line exists. */
export async function assertChannelLine(deps: CoreDeps, partnerId: string, lineId: string): Promise<void> {
  const line = await deps.lending.lineChannel(lineId);
  if (!line || line.channelPartnerId !== partnerId)
    throw new LgError('LG_NOT_FOUND', `no line ${lineId}`, { lineId });
}

/** Fraud alerts and complaints are counted over this window (a channel's recent behaviour, not its history). */
export const CHANNEL_WINDOW_DAYS = 90;

export interface ChannelQuality {
  readonly partnerId: string;
  readonly applications: number;
  readonly approved: number;
  readonly approvalRate: number | null;
  readonly loans: number;
  /** Loans whose first instalment is still unpaid 30+ days after its due date (FPD30), as a share of loans. */
  readonly firstPaymentDefaultRate: number | null;
  readonly loansByBucket: Record<string, number>;
  readonly outstandingMinor: number;
  /** Borrowers with a line through the channel. */
  readonly borrowers: number;
  /** Share of those borrowers with a fraud alert (any typology or system alert) in the last CHANNEL_WINDOW_DAYS. */
  readonly fraudAlertRate: number | null;
  readonly borrowersWithFraudAlerts: number;
  /** Complaints the channel's borrowers filed in the last CHANNEL_WINDOW_DAYS, and per borrower. */
  readonly complaints: number;
  readonly complaintRate: number | null;
  /** Thresholds breached on recent days (jobs daily). */
  readonly alerts?: readonly ChannelAlert[];
}

const rate = (part: number, whole: number): number | null => (whole === 0 ? null : part / whole);

export async function channelQuality(deps: CoreDeps, partnerId: string): Promise<ChannelQuality> {
  await findPartner(deps, partnerId);
  const now = deps.clock.now();
  const counts = await deps.lending.channelCounts(partnerId, {
    fpdDueBefore: lenderDayOf(deps.config, now - 30 * MS_PER_DAY),
    since: now - CHANNEL_WINDOW_DAYS * MS_PER_DAY,
  });
  const applications = counts.applicationsByOutcome.reduce((s, r) => s + r.n, 0);
  const approved = counts.applicationsByOutcome
    .filter((r) => r.outcome === 'APPROVE')
    .reduce((s, r) => s + r.n, 0);
  const loansByBucket: Record<string, number> = {};
  for (const l of counts.loans) loansByBucket[l.bucket] = (loansByBucket[l.bucket] ?? 0) + 1;
  return {
    partnerId,
    applications,
    approved,
    approvalRate: rate(approved, applications),
    loans: counts.loans.length,
    firstPaymentDefaultRate: rate(counts.firstPaymentDefaults, counts.loans.length),
    loansByBucket,
    outstandingMinor: counts.loans.reduce((s, l) => s + l.outstandingMinor, 0),
    borrowers: counts.borrowers,
    fraudAlertRate: rate(counts.borrowersWithFraudAlerts, counts.borrowers),
    borrowersWithFraudAlerts: counts.borrowersWithFraudAlerts,
    complaints: counts.complaints,
    complaintRate: rate(counts.complaints, counts.borrowers),
  };
}

/** Channel quality with its recent alerts, for the API. */
export async function channelReport(deps: CoreDeps, partnerId: string): Promise<ChannelQuality> {
  return { ...(await channelQuality(deps, partnerId)), alerts: await channelAlerts(deps, partnerId) };
}

// ---------------------------------------------------------------- channel-quality alerts

/**
 * Judged only once a channel has enough loans (or, for fraud alerts and complaints, borrowers) to mean something;
 * rates are shares of the channel's loans, or of its borrowers.
 */
export const CHANNEL_THRESHOLDS_DEFAULT = {
  minLoans: 20,
  fpdRateMax: 0.05,
  delinquentShareMax: 0.1,
  approvalRateMin: 0.05,
  fraudAlertRateMax: 0.05,
  complaintRateMax: 0.02,
};

export type ChannelThresholds = NonNullable<CoreDeps['config']['channelThresholds']>;

export interface ChannelBreach {
  readonly metric:
    'firstPaymentDefaultRate' | 'delinquentShare' | 'approvalRate' | 'fraudAlertRate' | 'complaintRate';
  readonly value: number;
  readonly threshold: number;
}

function loanBreaches(q: ChannelQuality, t: ChannelThresholds): ChannelBreach[] {
  if (q.loans < t.minLoans) return [];
  const breaches: ChannelBreach[] = [];
  if (q.firstPaymentDefaultRate !== null && q.firstPaymentDefaultRate > t.fpdRateMax)
    breaches.push({
      metric: 'firstPaymentDefaultRate',
      value: q.firstPaymentDefaultRate,
      threshold: t.fpdRateMax,
    });
  const current = q.loansByBucket.M0 ?? 0;
  const delinquentShare = (q.loans - current) / q.loans;
  if (delinquentShare > t.delinquentShareMax)
    breaches.push({ metric: 'delinquentShare', value: delinquentShare, threshold: t.delinquentShareMax });
  if (q.approvalRate !== null && q.approvalRate < t.approvalRateMin)
    breaches.push({ metric: 'approvalRate', value: q.approvalRate, threshold: t.approvalRateMin });
  return breaches;
}

function conductBreaches(q: ChannelQuality, t: ChannelThresholds): ChannelBreach[] {
  if (q.borrowers < t.minLoans) return [];
  const breaches: ChannelBreach[] = [];
  const fraudMax = t.fraudAlertRateMax ?? CHANNEL_THRESHOLDS_DEFAULT.fraudAlertRateMax;
  if (q.fraudAlertRate !== null && q.fraudAlertRate > fraudMax)
    breaches.push({ metric: 'fraudAlertRate', value: q.fraudAlertRate, threshold: fraudMax });
  const complaintMax = t.complaintRateMax ?? CHANNEL_THRESHOLDS_DEFAULT.complaintRateMax;
  if (q.complaintRate !== null && q.complaintRate > complaintMax)
    breaches.push({ metric: 'complaintRate', value: q.complaintRate, threshold: complaintMax });
  return breaches;
}

export function channelBreaches(
  q: ChannelQuality,
  t: ChannelThresholds = CHANNEL_THRESHOLDS_DEFAULT,
): ChannelBreach[] {
  return [...loanBreaches(q, t), ...conductBreaches(q, t)];
}

export interface ChannelAlert {
  readonly partnerId: string;
  readonly asOf: string;
  readonly breaches: readonly ChannelBreach[];
  /** The alert in the analysts' queue (it opens a case), when the app wires one. */
  readonly alertId?: string;
}

/**
 * `jobs daily`: every active platform channel against its thresholds; a breach is recorded once per channel and day
 * with its ledger entry (the unique key makes a re-run a no-op), then raised as an alert for the analysts' queue.
 */
export async function reviewChannels(deps: CoreDeps, asOf: string): Promise<ChannelAlert[]> {
  const raised: ChannelAlert[] = [];
  for (const id of await deps.lending.activePlatformIds()) {
    const breaches = channelBreaches(await channelQuality(deps, id), deps.config.channelThresholds);
    if (breaches.length === 0) continue;
    const fresh = await deps.store.transaction(async (tx) => {
      if (await deps.lending.qualityAlertSeen(tx, id, asOf)) return false;
      const alertId = deps.ids.next();
      const now = deps.clock.now();
      await deps.lending.insertQualityAlert(tx, {
        id: alertId,
        partner_id: id,
        as_of: asOf,
        breaches: JSON.stringify(breaches),
        created_at: now,
      });
      await appendToLedger(tx, [
        {
          entryId: alertId,
          kind: 'partner.quality_alert',
          subjectId: id,
          recordedAt: now,
          payload: { partnerId: id, asOf, breaches },
        },
      ]);
      return true;
    });
    if (!fresh) continue;
    const alert: ChannelAlert = { partnerId: id, asOf, breaches };
    const alertId = await deps.raiseChannelAlert?.(alert);
    raised.push(alertId === undefined ? alert : { ...alert, alertId });
  }
  return raised;
}

export async function channelAlerts(deps: CoreDeps, partnerId: string): Promise<ChannelAlert[]> {
  const rows = await deps.lending.qualityAlerts(partnerId, 30);
  return rows.map((r) => ({
    partnerId: r.partner_id,
    asOf: r.as_of,
    breaches: JSON.parse(r.breaches) as ChannelBreach[],
  }));
}
