import { EVENT_TYPES } from '../events.js';
import { actAfterLatePiece, asOf, COMMON_PARAMETERS, withAct } from './common.js';
import {
  DAY,
  HOUR,
  MINUTE,
  sumAmount,
  type TypologyContext,
  type TypologyHit,
  type TypologyPack,
} from './types.js';
import type { FeatureEntry } from '../features/store.js';

/**
 * 安全账户 scam (domain.md §3, F1/F2): a caller coaches the borrower to draw and move the money to a "safe account".
 * Core pattern: a disbursement, then within hours most of it transferred out to payees that are new to the borrower.
 * Amplifiers (at least `minAmplifiers` must hold): a call or screen share around the draw, a draw after long dormancy
 * (or the first draw), a payee added within hours of the draw, a payee on the black/grey list.
 */
export const scamSafeAccountTransfer: TypologyPack = {
  id: 'SCAM_SAFE_ACCOUNT_TRANSFER',
  version: 2,
  title: 'Borrow-then-transfer to a "safe account"',
  description:
    'A disbursement followed within drawWindowMs by transfers out of at least minTransferRatio of it to payees added ' +
    'or first paid within newPayeeMs, with at least minAmplifiers of: call/screen share, dormancy, payee added near the draw, listed payee, unusually large draw.',
  // The acts, and the amplifiers that may arrive after them (a call, a screen share or a payee reported late).
  triggers: ['transfer_out', 'disbursement', 'call_in_progress', 'screen_share_detected', 'payee_added'],
  parameters: {
    ...COMMON_PARAMETERS,
    drawWindowMs: { default: 6 * HOUR, description: 'how far back a disbursement counts' },
    newPayeeMs: { default: 3 * DAY, description: 'a payee created or first paid within this is new' },
    minTransferRatio: { default: 0.6, description: 'share of the disbursed amount sent to new payees' },
    minDisbursedMinor: { default: 100_000, description: 'ignore draws below this (minor units)' },
    callLookbackMs: {
      default: 2 * HOUR,
      description: 'a call or screen share this long before the draw counts',
    },
    dormantMs: {
      default: 60 * DAY,
      description: 'no earlier draw within this = dormant (a first draw counts too)',
    },
    payeeAddedNearDrawMs: {
      default: 2 * HOUR,
      description: 'a payee added this close to the draw is suspicious',
    },
    unusualDrawMultiple: {
      default: 3,
      description:
        'a draw this many times the largest draw of the previous 90 days is unusual (full-limit draw)',
    },
    minAmplifiers: { default: 1, description: 'amplifiers required besides the core pattern' },
    knownDeviceLookbackMs: {
      default: 30 * DAY,
      description:
        'victims act on their own device: a transfer from a device unseen in this history is left to ACCOUNT_TAKEOVER (0 = off)',
    },
    cooldownMs: { default: DAY, description: 'COOLDOWN delay shown with the anti-scam warning' },
    clockSkewMs: {
      default: 5 * MINUTE,
      description:
        'a transfer the monitor received after the draw, dated up to this before it (a phone clock running slow), counts as after it',
    },
  },
  rules: [
    {
      id: 'scam.core',
      description: 'disbursement then >= minTransferRatio of it out to new payees within drawWindowMs',
    },
    { id: 'scam.call', description: 'call or screen share in progress around the draw' },
    { id: 'scam.dormant', description: 'first draw, or first draw after dormantMs' },
    { id: 'scam.payeeNearDraw', description: 'payee added within payeeAddedNearDrawMs of the draw' },
    { id: 'scam.listedPayee', description: 'payee on the black or grey list' },
    {
      id: 'scam.unusualAmount',
      description: 'draw >= unusualDrawMultiple x the largest of the previous 90 days',
    },
  ],
  reasons: ['R_SCAM_TRANSFER_PATTERN', 'R_COOLING_OFF'],
  severity: 'critical',
  actions: ['HOLD', 'COOLDOWN', 'FREEZE_DRAW'],
  evaluate,
};

/** The core of the pattern: money drawn, then most of it sent to payees new to the borrower, from a known device. */
interface CoreFinding {
  readonly draws: readonly FeatureEntry[];
  readonly firstDraw: FeatureEntry;
  readonly disbursed: number;
  readonly fresh: readonly FeatureEntry[];
  readonly toNew: number;
  readonly ratio: number;
  readonly payeesAdded: readonly FeatureEntry[];
}

async function evaluate(ctx: TypologyContext): Promise<TypologyHit | null> {
  if (ctx.event.type === 'transfer_out' || ctx.event.type === 'disbursement') return judge(ctx);
  // An amplifier that arrived after the transfer it preceded: that transfer is judged again, as of its own time (so a
  // call after the money left, reported in order, still counts for nothing).
  const transfer = await actAfterLatePiece(ctx, ['transfer_out']);
  return transfer ? withAct(await judge(asOf(ctx, transfer.t)), transfer) : null;
}

async function judge(ctx: TypologyContext): Promise<TypologyHit | null> {
  const core = await coreFinding(ctx);
  if (!core) return null;
  const { amplifiers, calls, addedNear } = await amplifiersOf(ctx, core);
  const held = Object.entries(amplifiers)
    .filter(([, v]) => v)
    .map(([k]) => k);
  if (held.length < ctx.num('minAmplifiers')) return null;
  return {
    rules: ['scam.core', ...held],
    eventIds: [...core.draws, ...core.fresh, ...calls, ...addedNear].map((e) => e.eventId),
    features: {
      disbursedMinor: core.disbursed,
      transferredToNewPayeesMinor: core.toNew,
      transferRatio: Math.round(core.ratio * 1000) / 1000,
      callOrScreenShare: amplifiers['scam.call'],
      dormant: amplifiers['scam.dormant'],
      payeeAddedNearDraw: amplifiers['scam.payeeNearDraw'],
      payeeListed: amplifiers['scam.listedPayee'],
      unusualAmount: amplifiers['scam.unusualAmount'],
    },
    extraReasons: amplifiers['scam.call'] ? ['R_CALL_IN_PROGRESS'] : [],
  };
}

async function coreFinding(ctx: TypologyContext): Promise<CoreFinding | null> {
  const { at } = ctx;
  const user = ctx.event.userId;
  const from = at - ctx.num('drawWindowMs');
  // Transfers first: without one there is no pattern, and most evaluations (a draw with nothing sent out after it)
  // end on this window, nearly always empty, instead of first reading every draw of the window (thousands on a busy
  // line). Every draw of the window is after `from`, so this holds every transfer the pattern can count (those after
  // the first draw's t − 1, as it always read them).
  const sentOut = await ctx.window('user', user, ['transfer_out'], from - 1, at);
  if (sentOut.length === 0) return null;
  const draws = await ctx.window('user', user, ['disbursement'], from, at);
  const disbursed = sumAmount(draws);
  const firstDraw = draws[0];
  if (!firstDraw || disbursed < ctx.num('minDisbursedMinor')) return null;
  const sinceDraw = sentOut.filter(
    (t) =>
      isAfterDraw(t, firstDraw, ctx.num('clockSkewMs')) &&
      ctx.listHits('payee', t.payeeId).every((h) => h.list !== 'white'),
  );
  const transfers = await fromKnownDevices(ctx, sinceDraw, firstDraw.t);
  if (transfers.length === 0) return null;
  const payeesAdded = await ctx.window(
    'user',
    user,
    ['payee_added'],
    firstDraw.t - ctx.num('newPayeeMs'),
    at,
  );
  const fresh: FeatureEntry[] = [];
  for (const t of transfers) if (await isNewPayee(ctx, t, payeesAdded)) fresh.push(t);
  const toNew = sumAmount(fresh);
  const ratio = toNew / disbursed;
  if (ratio < ctx.num('minTransferRatio')) return null;
  return { draws, firstDraw, disbursed, fresh, toNew, ratio, payeesAdded };
}

/**
 * A transfer after the draw: dated after it, or received after it and dated at most `skewMs` before it. The phone
 * dates a transfer, the core dates the draw: a phone clock a few minutes slow must not move money sent after the draw
 * to before it (intake tolerates the other direction, a clock running fast, by the same margin).
 */
function isAfterDraw(transfer: FeatureEntry, draw: FeatureEntry, skewMs: number): boolean {
  if (transfer.t > draw.t - 1) return true;
  return transfer.r > draw.r && transfer.t > draw.t - skewMs;
}

/** The signs that make the core pattern a scam rather than a borrower paying someone new. */
async function amplifiersOf(ctx: TypologyContext, core: CoreFinding) {
  const { at } = ctx;
  const user = ctx.event.userId;
  const { firstDraw, fresh } = core;
  const calls = await ctx.window(
    'user',
    user,
    ['call_in_progress', 'screen_share_detected'],
    firstDraw.t - ctx.num('callLookbackMs'),
    at,
  );
  const earlier = await ctx.window(
    'user',
    user,
    ['disbursement'],
    firstDraw.t - ctx.num('dormantMs'),
    firstDraw.t - 1,
  );
  const nearMs = ctx.num('payeeAddedNearDrawMs');
  const freshPayees = new Set(fresh.map((t) => t.payeeId));
  const addedNear = core.payeesAdded.filter(
    (p) => freshPayees.has(p.payeeId) && Math.abs(p.t - firstDraw.t) <= nearMs,
  );
  const listed = fresh.some((t) =>
    ctx.listHits('payee', t.payeeId).some((h) => h.list === 'black' || h.list === 'grey'),
  );
  const previous = await ctx.window('user', user, ['disbursement'], firstDraw.t - 90 * DAY, firstDraw.t - 1);
  const largestBefore = previous.reduce((m, e) => Math.max(m, e.amountMinor ?? 0), 0);
  const unusual = largestBefore > 0 && core.disbursed >= ctx.num('unusualDrawMultiple') * largestBefore;
  const amplifiers = {
    'scam.call': calls.length > 0,
    'scam.dormant': earlier.length === 0,
    'scam.payeeNearDraw': addedNear.length > 0,
    'scam.listedPayee': listed,
    'scam.unusualAmount': unusual,
  };
  return { amplifiers, calls, addedNear };
}

/**
 * The transfers made from a device the borrower used before (all of them when there is no history to tell). Victims
 * act on their own device: money leaving from devices unseen in the history only is left to ACCOUNT_TAKEOVER. Only
 * those transfers are set aside, not the pattern: one fen sent from another phone must not hide the rest.
 */
async function fromKnownDevices(
  ctx: TypologyContext,
  transfers: readonly FeatureEntry[],
  drawAt: number,
): Promise<readonly FeatureEntry[]> {
  const lookback = ctx.num('knownDeviceLookbackMs');
  if (lookback <= 0 || transfers.length === 0) return transfers;
  // As received by then: an event dated back does not make a device the borrower's.
  const history = await ctx.window(
    'user',
    ctx.event.userId,
    EVENT_TYPES,
    drawAt - lookback,
    drawAt - DAY,
    drawAt - DAY,
  );
  // Events with no device (repayments, disbursements) say nothing about the borrower's phones: a dormant borrower's
  // month of repayments alone is no history to tell a device by.
  const known = new Set<string>();
  for (const e of history) if (e.deviceId) known.add(e.deviceId);
  if (known.size === 0) return transfers;
  return transfers.filter((t) => t.deviceId === undefined || known.has(t.deviceId));
}

/**
 * New = created within newPayeeMs, or added by this borrower within it, or (when the bank does not say when the account
 * was opened) never paid by this borrower before it (paid in a transfer the monitor had received by then: one dated
 * back and sent now does not make the payee long-standing). An account opened long ago that the borrower added just now
 * is new to the borrower: bought and rented mule accounts are old. An old account merely paid for the first time (a
 * landlord, a utility) is not.
 */
async function isNewPayee(
  ctx: TypologyContext,
  t: FeatureEntry,
  added: readonly FeatureEntry[],
): Promise<boolean> {
  if (!t.payeeId) return false;
  const newMs = ctx.num('newPayeeMs');
  if (t.payeeCreatedAt !== undefined && t.payeeCreatedAt >= t.t - newMs) return true;
  if (added.some((p) => p.payeeId === t.payeeId && p.t >= t.t - newMs)) return true;
  if (t.payeeCreatedAt !== undefined) return false;
  const before = await ctx.window(
    'payee',
    t.payeeId,
    ['transfer_out'],
    t.t - 90 * DAY,
    t.t - newMs,
    t.t - newMs,
  );
  return !before.some((p) => p.userId === t.userId);
}
