import { codeAttribute } from '../features/store.js';
import { canonicalCode } from '../list-values.js';
import { COMMON_PARAMETERS } from './common.js';
import { DAY, type TypologyContext, type TypologyHit, type TypologyPack } from './types.js';

/**
 * Credit-report abuse (征信业管理条例 Art. 18/20; 征信业务管理办法): a report may be pulled only with the borrower's
 * consent and for a stated purpose. Our own pulls (any origin but external) are checked: an approval pull without a
 * matching application, a post-loan pull for a borrower with no loan activity, or a channel pulling at an abnormal rate.
 * Purposes and origins are compared in canonical form (`loan_approval` is LOAN_APPROVAL); only a pull whose origin is
 * EXTERNAL is another institution's.
 */
export const creditReportAbuse: TypologyPack = {
  id: 'CREDIT_REPORT_ABUSE',
  version: 1,
  title: 'Credit-report pulls without a purpose',
  description:
    'An approval-purpose inquiry with no application within matchWindowMs before it; a POST_LOAN_MGMT inquiry with no ' +
    'disbursement or repayment within postLoanLookbackMs; a channel with channelRate1hMax or more inquiries in an hour; or a ' +
    'channel most of whose recent approval pulls lack an application.',
  triggers: ['bureau_inquiry'],
  parameters: {
    ...COMMON_PARAMETERS,
    matchWindowMs: { default: 7 * DAY, description: 'an application this recent justifies an approval pull' },
    approvalPurposes: {
      default: ['LOAN_APPROVAL', 'CARD_APPROVAL', 'GUARANTOR_CHECK'],
      description: 'purposes that need an application',
    },
    postLoanLookbackMs: {
      default: 90 * DAY,
      description: 'loan activity this recent justifies a post-loan pull',
    },
    channelRate1hMax: { default: 30, description: 'inquiries per hour from one channel' },
    channelWindowMs: { default: 7 * DAY, description: "window for a channel's unmatched-pull share" },
    channelMinPulls: {
      default: 10,
      description: 'approval pulls a channel needs before its share is judged',
    },
    channelUnmatchedShareMin: {
      default: 0.5,
      description: "share of a channel's approval pulls without an application",
    },
  },
  rules: [
    { id: 'report.noApplication', description: 'approval pull without an application' },
    { id: 'report.noLoan', description: 'post-loan pull without loan activity' },
    { id: 'report.channelRate', description: 'abnormal pull rate from one channel' },
    {
      id: 'report.channelUnmatched',
      description: "most of a channel's recent approval pulls lack an application",
    },
  ],
  reasons: ['R_CREDIT_REPORT_ABUSE'],
  severity: 'high',
  actions: [],
  evaluate,
};

async function evaluate(ctx: TypologyContext): Promise<TypologyHit | null> {
  const { at, event } = ctx;
  if (!isOwnPull(codeAttribute(event, 'origin'))) return null; // another institution's pull: not ours to police
  const purpose = codeAttribute(event, 'purpose') ?? 'UNKNOWN';
  const rules: string[] = [];
  if (approvalPurposes(ctx).has(purpose)) {
    const apps = await ctx.window('user', event.userId, ['application'], at - ctx.num('matchWindowMs'), at);
    if (apps.length === 0) rules.push('report.noApplication');
  } else if (purpose === 'POST_LOAN_MGMT') {
    const activity = await ctx.window(
      'user',
      event.userId,
      ['disbursement', 'repayment'],
      at - ctx.num('postLoanLookbackMs'),
      at,
    );
    if (activity.length === 0) rules.push('report.noLoan');
  }
  const channelRate = event.channel
    ? ((await ctx.features.value('channelInquiries1h', event.channel, at)) ?? 0)
    : 0;
  if (channelRate >= ctx.num('channelRate1hMax')) rules.push('report.channelRate');
  const share = event.channel ? await unmatchedShare(ctx, event.channel) : { pulls: 0, share: 0 };
  if (share.pulls >= ctx.num('channelMinPulls') && share.share >= ctx.num('channelUnmatchedShareMin'))
    rules.push('report.channelUnmatched');
  if (rules.length === 0) return null;
  return {
    rules,
    eventIds: [event.eventId],
    features: {
      purpose,
      channel: event.channel ?? null,
      channelInquiries1h: channelRate,
      channelPulls: share.pulls,
      channelUnmatchedShare: Math.round(share.share * 1000) / 1000,
    },
  };
}

/** Of a channel's own approval pulls in the window, the share with no application from the borrower before the pull. */
async function unmatchedShare(
  ctx: TypologyContext,
  channel: string,
): Promise<{ pulls: number; share: number }> {
  const approval = approvalPurposes(ctx);
  const pulls = (
    await ctx.window('channel', channel, ['bureau_inquiry'], ctx.at - ctx.num('channelWindowMs'), ctx.at)
  ).filter((e) => isOwnPull(e.origin) && e.purpose !== undefined && approval.has(e.purpose));
  if (pulls.length < ctx.num('channelMinPulls')) return { pulls: pulls.length, share: 0 };
  let unmatched = 0;
  for (const p of pulls) {
    const apps = await ctx.window('user', p.userId, ['application'], p.t - ctx.num('matchWindowMs'), p.t);
    if (apps.length === 0) unmatched += 1;
  }
  return { pulls: pulls.length, share: unmatched / pulls.length };
}

/**
 * Ours unless declared another institution's: an origin in canonical form (codeAttribute), so `SELF`, ` self ` and
 * `Self` are ours and only EXTERNAL is set aside. An origin outside the vocabulary is judged as ours (fail closed): a
 * pull cannot leave the pack's sight by naming itself something new.
 */
function isOwnPull(origin: string | undefined): boolean {
  return origin !== 'EXTERNAL';
}

/** The approvalPurposes parameter in canonical form, so an override written in lower case still matches. */
function approvalPurposes(ctx: TypologyContext): ReadonlySet<string> {
  return new Set(ctx.strings('approvalPurposes').flatMap((p) => canonicalCode(p) ?? []));
}
