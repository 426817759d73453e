import { COMMON_PARAMETERS } from './common.js';
import { DAY, sumAmount, type TypologyContext, type TypologyHit, type TypologyPack } from './types.js';

/**
 * Fund misuse (资金挪用; domain.md §3, R1/R3): consumer-loan money flowing to securities, property, gambling or crypto,
 * which the contract and the PBoC/CBIRC internet-lending rules forbid (consumer credit may not fund housing or
 * securities); grounds for early recall under the contract.
 */
export const fundMisuse: TypologyPack = {
  id: 'FUND_MISUSE',
  version: 2,
  title: 'Loan funds to prohibited uses',
  description:
    'Within windowMs of a draw, transfers or purchases at prohibited MCCs totalling at least minAmountMinor, at least ' +
    'minRatio of the amount drawn and at most maxFlowMultiple of it; the evidence sets the purpose the borrower stated ' +
    'at the draw beside the use the merchant categories and payees show.',
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
        'flows above this multiple of the drawn amount are judged own funds (savings), not the loan',
    },
  },
  rules: [
    { id: 'misuse.prohibitedFlow', description: 'drawn money to prohibited MCCs above amount and ratio' },
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
  const misused = sumAmount(flows);
  if (misused < ctx.num('minAmountMinor') || misused < ctx.num('minRatio') * drawn) return null;
  if (misused > ctx.num('maxFlowMultiple') * drawn) return null;
  // The stated purpose travels with the disbursement (core: the loan keeps it; the event carries it).
  const stated = distinct(draws.map((d) => d.purpose));
  const mccs = distinct(flows.map((f) => f.merchantCategory));
  const uses = distinct(mccs.map((m) => MCC_USE[m] ?? `MCC_${m}`));
  // Every use the money went to that no draw stated: for a catalogue purpose, all of them (none is allowed). A draw
  // with no stated purpose contradicts nothing; the prohibited flow alone fires the alert.
  const contradicted = stated.length === 0 ? [] : uses.filter((use) => !stated.includes(use));
  return {
    rules:
      contradicted.length > 0
        ? ['misuse.prohibitedFlow', 'misuse.purposeMismatch']
        : ['misuse.prohibitedFlow'],
    eventIds: [...draws, ...flows].map((e) => e.eventId),
    features: {
      drawnMinor: drawn,
      prohibitedFlowMinor: misused,
      ratio: Math.round((misused / drawn) * 1000) / 1000,
      statedPurpose: stated.length > 0 ? stated.join(',') : UNSTATED_PURPOSE,
      usedFor: uses.join(','),
      mccs: mccs.join(','),
      payees: distinct(flows.map((f) => f.payeeId ?? f.merchantId)).join(','),
      purposeMismatch: contradicted.length > 0,
      mismatch: `stated ${stated.length > 0 ? stated.join(',') : UNSTATED_PURPOSE}; went to ${uses.join(',')} (MCC ${mccs.join(',')})`,
    },
  };
}
