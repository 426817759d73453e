import type { FeatureEntry } from '../features/store.js';
import { COMMON_PARAMETERS } from './common.js';
import { DAY, sumAmount, type TypologyContext, type TypologyHit, type TypologyPack } from './types.js';

/**
 * Fund misuse (资金挪用; domain.md §3, R1/R3): consumer-loan money flowing to securities, property, gambling or crypto,
 * which the contract and the PBoC/CBIRC internet-lending rules forbid (consumer credit may not fund housing or
 * securities); grounds for early recall under the contract.
 *
 * Money is fungible, so the pack judges what changed after the draw: the borrower's steady habit before it is taken
 * off, and what goes beyond the habit is set against the loan. Version 2 judged every flow above maxFlowMultiple x
 * the draw own savings, so a borrower who drew ¥10,000 and bet ¥25,000 was silent where betting ¥9,000 fired: adding
 * own money hid the loan. Now only a savings destination (a securities or property account registered long before
 * the draw) can explain such a flow away; otherwise up to the drawn amount is counted (misuse.ownFundsAdded).
 */
export const fundMisuse: TypologyPack = {
  id: 'FUND_MISUSE',
  version: 3,
  title: 'Loan funds to prohibited uses',
  description:
    'Within windowMs of a draw, transfers or purchases at prohibited MCCs beyond the borrower’s habit before the draw ' +
    '(per use, the least sent in each of habitPeriods periods of habitPeriodMs) totalling at least minAmountMinor and ' +
    'minRatio of the amount drawn. Beyond maxFlowMultiple of the drawn amount the flow is judged own savings only if ' +
    'it all went to savingsMccs payees registered at least savingsPayeeAgeMs before the draw; otherwise up to the ' +
    'drawn amount counts. The evidence sets the purpose the borrower stated at the draw beside the use the merchant ' +
    'categories and payees show.',
  triggers: ['transfer_out', 'purchase'],
  parameters: {
    ...COMMON_PARAMETERS,
    windowMs: { default: 14 * DAY, description: 'outflows this long after a draw are attributed to it' },
    // 6211 security brokers, 7995 betting, 7800-7802 lotteries/racing, 6513 real-estate agents, 1520 residential
    // construction, 6051 quasi-cash incl. crypto (ISO 18245 / Visa MCC list).
    prohibitedMccs: {
      default: ['6211', '7995', '7800', '7801', '7802', '6513', '1520', '6051'],
      description: 'prohibited destinations',
    },
    minRatio: { default: 0.3, description: 'share of the drawn amount' },
    minAmountMinor: { default: 500_000, description: 'ignore small amounts (5,000.00)' },
    maxFlowMultiple: {
      default: 2,
      description:
        'flows beyond the habit above this multiple of the drawn amount may be own savings (see savingsMccs)',
    },
    // Savings are kept in brokerage and property accounts, not at a bookmaker or a crypto exchange: an investor moving
    // ¥30,000 of savings to their broker after a small draw is the near-miss this exemption keeps quiet.
    savingsMccs: {
      default: ['6211', '6513', '1520'],
      description:
        'destinations where a flow above maxFlowMultiple x the draw is judged own savings (securities, property)',
    },
    savingsPayeeAgeMs: {
      default: 90 * DAY,
      description:
        'a savings destination counts only if its payee was registered at least this long before the draw (an account ' +
        'opened for the occasion, or a merchant with no registration, is not where savings are kept)',
    },
    // habitPeriods x habitPeriodMs + windowMs stays within the feature windows' retention (90 days).
    habitPeriodMs: {
      default: 30 * DAY,
      description: 'length of one period of the habit before the draw (a monthly transfer falls in each)',
    },
    habitPeriods: {
      default: 2,
      description:
        'the habit is, per use, the least sent in each of this many periods before the draw, known by the draw (a ' +
        'one-off transfer before it is no habit); 0 = no habit',
    },
  },
  rules: [
    {
      id: 'misuse.prohibitedFlow',
      description: 'drawn money to prohibited MCCs, beyond the borrower’s habit, above amount and ratio',
    },
    {
      id: 'misuse.ownFundsAdded',
      description:
        'more than maxFlowMultiple x the draw went to prohibited uses, not all of it savings: up to the drawn amount counts',
    },
    {
      id: 'misuse.purposeMismatch',
      description: "where the money went (merchant category, payee) contradicts the draw's stated purpose",
    },
  ],
  reasons: ['R_FUND_MISUSE'],
  severity: 'high',
  actions: ['FREEZE_DRAW'],
  evaluate,
};

/**
 * What a prohibited merchant category says the money was used for, in the draw-purpose catalogue's words
 * (domain/purpose.ts), so it can be set beside the purpose the borrower stated at the draw.
 */
const MCC_USE: Readonly<Record<string, string>> = {
  '6211': 'SECURITIES',
  '7995': 'GAMBLING',
  '7800': 'GAMBLING',
  '7801': 'GAMBLING',
  '7802': 'GAMBLING',
  '6513': 'HOUSE_PURCHASE',
  '1520': 'HOUSE_PURCHASE',
  '6051': 'FUTURES',
};

/** A draw without a stated purpose (a client older than the purpose catalogue). */
export const UNSTATED_PURPOSE = 'UNSTATED';

const distinct = (values: readonly (string | undefined)[]): string[] =>
  [...new Set(values.filter((v): v is string => v !== undefined))].sort();

const useOf = (mcc: string | undefined): string => MCC_USE[mcc ?? ''] ?? `MCC_${mcc}`;

/** How much of the loan the flows after the draw are judged to have carried to prohibited uses. */
interface Judgement {
  /** The borrower's steady habit before the draw, summed over the uses sent to after it. */
  readonly habit: number;
  /** What was sent after the draw beyond the habit (per use, summed). */
  readonly beyondHabit: number;
  /** The part of the loan counted as misused. */
  readonly attributed: number;
  /** The flow was above maxFlowMultiple x the draw and not all savings (misuse.ownFundsAdded). */
  readonly ownFundsAdded: boolean;
}

async function evaluate(ctx: TypologyContext): Promise<TypologyHit | null> {
  const { at, event } = ctx;
  if (!event.merchantCategory) return null;
  const prohibited = new Set(ctx.strings('prohibitedMccs'));
  if (!prohibited.has(event.merchantCategory)) return null;
  const draws = await ctx.window('user', event.userId, ['disbursement'], at - ctx.num('windowMs'), at);
  const first = draws[0];
  if (!first) return null;
  const flows = (
    await ctx.window('user', event.userId, ['transfer_out', 'purchase'], first.t - 1, at)
  ).filter((e) => e.merchantCategory !== undefined && prohibited.has(e.merchantCategory));
  const drawn = sumAmount(draws);
  const sent = sumAmount(flows);
  // Nothing counted can exceed what was sent: most evaluations end here, before the habit is read.
  if (!counts(ctx, sent, drawn)) return null;
  const judged = await judge(ctx, { drawAt: first.t, flows, drawn, prohibited });
  if (!counts(ctx, judged.attributed, drawn)) return null;
  return hit(draws, flows, judged);
}

/** At least minAmountMinor and minRatio of the drawn amount. */
function counts(ctx: TypologyContext, amount: number, drawn: number): boolean {
  return amount >= ctx.num('minAmountMinor') && amount >= ctx.num('minRatio') * drawn;
}

async function judge(
  ctx: TypologyContext,
  after: {
    /** The first draw of the window: the habit is read before it, a savings payee registered before it. */
    drawAt: number;
    flows: readonly FeatureEntry[];
    drawn: number;
    prohibited: ReadonlySet<string>;
  },
): Promise<Judgement> {
  const { drawAt } = after;
  const habit = await habitBefore(ctx, drawAt, after.prohibited);
  const sentByUse = byUse(after.flows);
  let beyondHabit = 0;
  let habitTotal = 0;
  for (const [use, sent] of sentByUse) {
    habitTotal += habit.get(use) ?? 0;
    beyondHabit += Math.max(0, sent - (habit.get(use) ?? 0));
  }
  if (beyondHabit <= ctx.num('maxFlowMultiple') * after.drawn)
    return { habit: habitTotal, beyondHabit, attributed: beyondHabit, ownFundsAdded: false };
  // Above the multiple: own money was added. Savings explain it only where savings are kept; any other destination
  // may have taken the whole draw along with the owner's money, so up to the drawn amount counts.
  const notSavings = sumAmount(after.flows.filter((f) => !isSavings(ctx, f, drawAt)));
  const attributed = Math.min(after.drawn, beyondHabit, notSavings);
  return { habit: habitTotal, beyondHabit, attributed, ownFundsAdded: attributed > 0 };
}

/**
 * The borrower's steady habit per use: the least sent in each of the habitPeriods periods of habitPeriodMs before the
 * draw. Read as the monitor had received it by the draw, so transfers dated back and sent after it build no habit; and
 * the least of the periods, so one transfer of own money shortly before the draw is no habit either.
 */
async function habitBefore(
  ctx: TypologyContext,
  drawAt: number,
  prohibited: ReadonlySet<string>,
): Promise<Map<string, number>> {
  const periods = ctx.num('habitPeriods');
  const periodMs = ctx.num('habitPeriodMs');
  const habit = new Map<string, number>();
  if (periods <= 0) return habit;
  const end = drawAt - 1;
  const before = (
    await ctx.window(
      'user',
      ctx.event.userId,
      ['transfer_out', 'purchase'],
      end - periods * periodMs,
      end,
      drawAt,
    )
  ).filter((e) => e.merchantCategory !== undefined && prohibited.has(e.merchantCategory));
  const uses = [...byUse(before).keys()];
  for (let i = 0; i < periods; i += 1) {
    const hi = end - i * periodMs;
    const sent = byUse(before.filter((e) => e.t > hi - periodMs && e.t <= hi));
    for (const use of uses) habit.set(use, Math.min(habit.get(use) ?? Infinity, sent.get(use) ?? 0));
  }
  return habit;
}

function byUse(flows: readonly FeatureEntry[]): Map<string, number> {
  const sums = new Map<string, number>();
  for (const f of flows)
    sums.set(useOf(f.merchantCategory), (sums.get(useOf(f.merchantCategory)) ?? 0) + (f.amountMinor ?? 0));
  return sums;
}

/** A flow to a savings destination: a savings MCC, to a payee registered at least savingsPayeeAgeMs before the draw. */
function isSavings(ctx: TypologyContext, flow: FeatureEntry, drawAt: number): boolean {
  if (!ctx.strings('savingsMccs').includes(flow.merchantCategory ?? '')) return false;
  return flow.payeeCreatedAt !== undefined && flow.payeeCreatedAt <= drawAt - ctx.num('savingsPayeeAgeMs');
}

function hit(draws: readonly FeatureEntry[], flows: readonly FeatureEntry[], judged: Judgement): TypologyHit {
  const drawn = sumAmount(draws);
  const sent = sumAmount(flows);
  // The stated purpose travels with the disbursement (core: the loan keeps it; the event carries it).
  const stated = distinct(draws.map((d) => d.purpose));
  const mccs = distinct(flows.map((f) => f.merchantCategory));
  const uses = distinct(mccs.map(useOf));
  // Every use the money went to that no draw stated: for a catalogue purpose, all of them (none is allowed). A draw
  // with no stated purpose contradicts nothing; the prohibited flow alone fires the alert.
  const contradicted = stated.length === 0 ? [] : uses.filter((use) => !stated.includes(use));
  return {
    rules: [
      'misuse.prohibitedFlow',
      ...(judged.ownFundsAdded ? ['misuse.ownFundsAdded'] : []),
      ...(contradicted.length > 0 ? ['misuse.purposeMismatch'] : []),
    ],
    eventIds: [...draws, ...flows].map((e) => e.eventId),
    features: {
      drawnMinor: drawn,
      prohibitedFlowMinor: sent,
      habitMinor: judged.habit,
      beyondHabitMinor: judged.beyondHabit,
      attributedMinor: judged.attributed,
      ownFundsAdded: judged.ownFundsAdded,
      ratio: Math.round((sent / drawn) * 1000) / 1000,
      statedPurpose: stated.length > 0 ? stated.join(',') : UNSTATED_PURPOSE,
      usedFor: uses.join(','),
      mccs: mccs.join(','),
      payees: distinct(flows.map((f) => f.payeeId ?? f.merchantId)).join(','),
      purposeMismatch: contradicted.length > 0,
      mismatch: `stated ${stated.length > 0 ? stated.join(',') : UNSTATED_PURPOSE}; went to ${uses.join(',')} (MCC ${mccs.join(',')})`,
    },
  };
}
