import { COMMON_PARAMETERS } from './common.js';
import { DAY, HOUR, sumAmount, type TypologyContext, type TypologyHit, type TypologyPack } from './types.js';

/**
 * Loan stacking (多头借贷; domain.md §3 F8/F9): a burst of hard credit inquiries from many lenders before the bureau
 * catches up (30–60 day lag), or borrowing to repay other debt (借新还旧): a draw, then most of it paid to a lender.
 */
export const loanStacking: TypologyPack = {
  id: 'LOAN_STACKING',
  version: 1,
  title: 'Loan stacking / borrowing to repay other debt',
  description:
    'minHardInquiries or more hard inquiries (purposes in hardPurposes) from at least minDistinctInquirers channels within ' +
    'inquiryWindowMs; or, within repayOtherWindowMs of a draw, transfers of at least repayOtherMinRatio of it to payees ' +
    'whose MCC is in lenderMccs.',
  triggers: ['bureau_inquiry', 'application', 'transfer_out'],
  parameters: {
    ...COMMON_PARAMETERS,
    inquiryWindowMs: { default: 30 * DAY, description: 'window for inquiry velocity' },
    hardPurposes: {
      default: ['LOAN_APPROVAL', 'CARD_APPROVAL'],
      description: 'inquiry purposes that are hard pulls',
    },
    minHardInquiries: { default: 5, description: 'hard inquiries in the window (rate shopping is 2-3)' },
    minDistinctInquirers: { default: 4, description: 'distinct lenders behind them' },
    repayOtherWindowMs: { default: 72 * HOUR, description: 'a draw this recent funds the repayment' },
    repayOtherMinRatio: { default: 0.5, description: 'share of the draw sent to other lenders' },
    lenderMccs: {
      default: ['6012'],
      description: 'ISO 18245 codes of lenders (6012 financial institutions)',
    },
  },
  rules: [
    { id: 'stacking.inquiryBurst', description: 'hard inquiries from many lenders in a short window' },
    { id: 'stacking.repayOther', description: 'draw then most of it paid to another lender' },
  ],
  reasons: ['R_LOAN_STACKING', 'R_INQUIRY_VELOCITY'],
  severity: 'medium',
  actions: [],
  evaluate,
};

async function evaluate(ctx: TypologyContext): Promise<TypologyHit | null> {
  const { at, event } = ctx;
  const rules: string[] = [];
  const eventIds: string[] = [];
  const hard = new Set(ctx.strings('hardPurposes'));
  const inquiries = (
    await ctx.window('user', event.userId, ['bureau_inquiry'], at - ctx.num('inquiryWindowMs'), at)
  ).filter((e) => e.purpose !== undefined && hard.has(e.purpose));
  const lenders = new Set(inquiries.map((e) => e.channel));
  if (inquiries.length >= ctx.num('minHardInquiries') && lenders.size >= ctx.num('minDistinctInquirers')) {
    rules.push('stacking.inquiryBurst');
    eventIds.push(...inquiries.map((e) => e.eventId));
  }
  let ratio = 0;
  if (event.type === 'transfer_out') {
    const draws = await ctx.window(
      'user',
      event.userId,
      ['disbursement'],
      at - ctx.num('repayOtherWindowMs'),
      at,
    );
    const first = draws[0];
    if (first) {
      const mccs = new Set(ctx.strings('lenderMccs'));
      const toLenders = (await ctx.window('user', event.userId, ['transfer_out'], first.t - 1, at)).filter(
        (e) => e.merchantCategory !== undefined && mccs.has(e.merchantCategory),
      );
      ratio = sumAmount(toLenders) / Math.max(1, sumAmount(draws));
      if (toLenders.length > 0 && ratio >= ctx.num('repayOtherMinRatio')) {
        rules.push('stacking.repayOther');
        eventIds.push(...draws.map((e) => e.eventId), ...toLenders.map((e) => e.eventId));
      }
    }
  }
  if (rules.length === 0) return null;
  return {
    rules,
    eventIds,
    features: {
      hardInquiries: inquiries.length,
      distinctInquirers: lenders.size,
      repayOtherRatio: Math.round(ratio * 1000) / 1000,
    },
  };
}
