import { COMMON_PARAMETERS } from './common.js';
import {
  DAY,
  MINUTE,
  sumAmount,
  type TypologyContext,
  type TypologyHit,
  type TypologyPack,
} from './types.js';
import type { FeatureEntry } from '../features/store.js';

/**
 * Cash-out via merchants (套现; domain.md §3 F7): round-amount purchases repeated at one merchant, large round
 * purchases at night, or the money looping back from the merchant to the borrower. Refunds are not loops.
 */
export const cashOut: TypologyPack = {
  id: 'CASH_OUT',
  version: 1,
  title: 'Cash-out through a merchant',
  description:
    'roundRepeatMin or more round purchases (multiples of roundUnitMinor, at least minRoundMinor) at one merchant within ' +
    'repeatWindowMs; or nightRoundMin such purchases at night (local time); or money back from the merchant of at least ' +
    'loopMinRatio of a purchase within loopWindowMs.',
  triggers: ['purchase', 'transfer_in'],
  parameters: {
    ...COMMON_PARAMETERS,
    roundUnitMinor: { default: 10_000, description: 'a round amount is a multiple of this (100.00)' },
    minRoundMinor: { default: 100_000, description: 'round purchases below this are ordinary (1,000.00)' },
    roundRepeatMin: { default: 3, description: 'round purchases at one merchant' },
    repeatWindowMs: { default: 7 * DAY, description: 'window for repeated round purchases' },
    nightStartHour: { default: 0, description: 'night starts (local hour, inclusive)' },
    nightEndHour: { default: 5, description: 'night ends (local hour, exclusive)' },
    tzOffsetMinutes: { default: 480, description: 'local time offset from UTC (China Standard Time = +480)' },
    nightRoundMin: { default: 2, description: 'large round purchases at night at one merchant' },
    loopWindowMs: { default: 2 * DAY, description: 'money back from the merchant within this closes a loop' },
    loopMinRatio: { default: 0.8, description: 'share of the purchase that comes back' },
  },
  rules: [
    { id: 'cashout.roundRepeat', description: 'repeated round purchases at one merchant' },
    { id: 'cashout.nightRound', description: 'large round purchases at night at one merchant' },
    { id: 'cashout.loop', description: 'purchase money returned by the merchant to the borrower' },
  ],
  reasons: ['R_CASH_OUT'],
  severity: 'high',
  actions: ['FREEZE_DRAW'],
  evaluate,
};

async function evaluate(ctx: TypologyContext): Promise<TypologyHit | null> {
  const { event, at } = ctx;
  const merchant = event.type === 'purchase' ? event.merchantId : (event.merchantId ?? event.payeeId);
  if (!merchant) return null;
  const purchases = (
    await ctx.window(
      'user',
      event.userId,
      ['purchase'],
      at - Math.max(ctx.num('repeatWindowMs'), ctx.num('loopWindowMs')),
      at,
    )
  ).filter((p) => p.merchantId === merchant);
  const repeatFrom = at - ctx.num('repeatWindowMs');
  const round = purchases.filter((p) => p.t > repeatFrom && isRound(ctx, p));
  const night = round.filter((p) => isNight(ctx, p.t));
  const rules: string[] = [];
  const evidence: FeatureEntry[] = [];
  if (round.length >= ctx.num('roundRepeatMin')) {
    rules.push('cashout.roundRepeat');
    evidence.push(...round);
  }
  if (night.length >= ctx.num('nightRoundMin')) {
    rules.push('cashout.nightRound');
    evidence.push(...night);
  }
  let loopAmount = 0;
  if (
    event.type === 'transfer_in' &&
    event.attributes?.kind !== 'refund' &&
    event.amountMinor !== undefined
  ) {
    const loop = await loopBack(ctx, merchant, purchases);
    if (loop) {
      rules.push('cashout.loop');
      evidence.push(loop.purchase, ...loop.returned);
      loopAmount = loop.backMinor;
    }
  }
  if (rules.length === 0) return null;
  return {
    rules,
    eventIds: [...new Set([...evidence.map((e) => e.eventId), event.eventId])],
    features: {
      merchant,
      roundPurchases: round.length,
      nightRoundPurchases: night.length,
      loopBackMinor: loopAmount,
    },
  };
}

/**
 * A purchase at the merchant that the merchant has paid back (not refunded) at least loopMinRatio of within
 * loopWindowMs, counting every payment back since the purchase: a merchant returning the cash in several transfers,
 * each under the ratio, closes the loop as one would.
 */
async function loopBack(
  ctx: TypologyContext,
  merchant: string,
  purchases: readonly FeatureEntry[],
): Promise<{ purchase: FeatureEntry; returned: FeatureEntry[]; backMinor: number } | null> {
  const { at, event } = ctx;
  const windowMs = ctx.num('loopWindowMs');
  const candidates = purchases.filter((p) => p.t >= event.occurredAt - windowMs);
  const first = candidates[0];
  if (!first) return null;
  const paidBack = (await ctx.window('user', event.userId, ['transfer_in'], first.t - 1, at)).filter(
    (e) => (e.merchantId ?? e.payeeId) === merchant && e.refund !== true,
  );
  for (const purchase of candidates) {
    const returned = paidBack.filter((e) => e.t >= purchase.t && e.t <= purchase.t + windowMs);
    const backMinor = sumAmount(returned);
    if (backMinor > 0 && backMinor >= ctx.num('loopMinRatio') * (purchase.amountMinor ?? 0))
      return { purchase, returned, backMinor };
  }
  return null;
}

function isRound(ctx: TypologyContext, p: FeatureEntry): boolean {
  const amount = p.amountMinor ?? 0;
  return amount >= ctx.num('minRoundMinor') && amount % ctx.num('roundUnitMinor') === 0;
}

function isNight(ctx: TypologyContext, t: number): boolean {
  const local = new Date(t + ctx.num('tzOffsetMinutes') * MINUTE);
  const hour = local.getUTCHours();
  return hour >= ctx.num('nightStartHour') && hour < ctx.num('nightEndHour');
}
