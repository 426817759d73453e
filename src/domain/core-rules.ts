import type { Decision, Outcome } from './decision.js';
import { withReasonThatSaysWhy } from './reason-codes.js';

/**
 * What the core did to the engine's decision before answering (src/core/applications.ts, src/core/draws.ts), stored
 * with the decision (column `decisions.core_rules`) so that a simulation replays it on a candidate's outcome: a
 * strategy's outcome is never what a borrower is told when the core declines, refers or clips after it.
 */
export interface CoreRules {
  /** What the request answered: the outcome, reasons and limit after the core's rules. */
  readonly final: {
    readonly outcome: Outcome;
    readonly reasons: readonly string[];
    readonly limitMinor: number | null;
  };
  /** Hard rules that declined whatever the strategy said (R_BLACKLIST, R_AGE_ABOVE_MAX, R_DAYS_PAST_DUE). */
  readonly hard?: readonly string[];
  /** The bureau gate's referral (R_CONSENT_MISSING, R_INQUIRY_VELOCITY): anything but a decline becomes REVIEW. */
  readonly referral?: string;
  /** An application's room under the per-borrower cap, under the borrower's lock: an approval is clipped to it. */
  readonly roomMinor?: number;
  /** A draw the core priced (it was approved): the pricing inputs and whether the APR cap refused them. */
  readonly priced?: DrawPricing & { readonly refused: boolean };
}

/** What a draw's price depends on besides the line and the request: the strategy's rate and fees. */
export interface DrawPricing {
  readonly annualRate: number | null;
  readonly upfrontFeeMinor: number | null;
  readonly periodicFeeMinor: number | null;
}

/** The core's answer to a decision as replayed: its outcome, reasons and limit, and whether it could be computed. */
export interface FinalOutcome {
  readonly outcome: Outcome;
  readonly reasons: readonly string[];
  readonly limitMinor: number | null;
  /** False when the core's rule depends on a fact that was never computed (a draw's APR at a price never quoted). */
  readonly replayable: boolean;
}

function pricingValue(decision: Decision, name: string): number | null {
  const v = decision.values[name];
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? v : null;
}

/** A draw decision's pricing inputs, as src/core/draws.ts decidedLoan reads them. */
export function drawPricingOf(decision: Decision): DrawPricing {
  return {
    annualRate: decision.annualRate ?? null,
    upfrontFeeMinor: pricingValue(decision, 'upfrontFeeMinor'),
    periodicFeeMinor: pricingValue(decision, 'periodicFeeMinor'),
  };
}

/** The strategy's limit and rate: the decision's own, else those of its GRANT action (as the core reads them). */
function requestedGrant(decision: Decision): { limitMinor?: number; annualRate?: number } {
  const grant = decision.actions.find((a) => a.type === 'GRANT');
  return {
    limitMinor: decision.limitMinor ?? grant?.limitMinor,
    annualRate: decision.annualRate ?? grant?.annualRate,
  };
}

function withFirst(first: readonly string[], reasons: readonly string[]): string[] {
  return [...first, ...reasons.filter((r) => !first.includes(r))];
}

/**
 * The core's reason for an application's decline whose strategy gave none that says why (src/core/applications.ts
 * withDeclineReason gives the same code, through the same withReasonThatSaysWhy).
 */
export const STRATEGY_DECLINE_REASON = 'R_STRATEGY_DECLINE';

/**
 * The core's rules replayed on a (candidate's) decision of kind 'application' or 'draw', in the core's order:
 * hard rules decline; an application's approval without a valid limit and rate is referred, one with no room under
 * the borrower cap is declined and its limit clipped to the room; the bureau gate refers; an application's decline
 * with no reason that says why gets R_STRATEGY_DECLINE first, as the core gives it; a draw's approval is refused at
 * the APR cap when it was priced with the same inputs (otherwise it is not replayable and left as the strategy's).
 */
export function replayCoreRules(kind: string, decision: Decision, rules: CoreRules): FinalOutcome {
  if (kind === 'draw') return replayDraw(decision, rules);
  const replayed = replayApplication(decision, rules);
  if (replayed.outcome !== 'DECLINE') return replayed;
  return { ...replayed, reasons: withReasonThatSaysWhy(replayed.reasons, STRATEGY_DECLINE_REASON) };
}

function hardDecline(decision: Decision, hard: readonly string[]): FinalOutcome {
  return {
    outcome: 'DECLINE',
    reasons: withFirst(hard, decision.reasons),
    limitMinor: null,
    replayable: true,
  };
}

function replayApplication(decision: Decision, rules: CoreRules): FinalOutcome {
  if (rules.hard && rules.hard.length > 0) return hardDecline(decision, rules.hard);
  let outcome = decision.outcome;
  let reasons: readonly string[] = decision.reasons;
  let limitMinor: number | null = null;
  if (outcome === 'APPROVE') {
    const { limitMinor: limit, annualRate } = requestedGrant(decision);
    if (
      limit === undefined ||
      annualRate === undefined ||
      !Number.isSafeInteger(limit) ||
      limit <= 0 ||
      !(annualRate >= 0)
    ) {
      outcome = 'REVIEW';
      reasons = withFirst(['R_ENGINE_ERROR'], reasons);
    } else if (rules.roomMinor !== undefined && rules.roomMinor <= 0) {
      outcome = 'DECLINE';
      reasons = withFirst(['R_BORROWER_CAP'], reasons);
    } else {
      limitMinor = rules.roomMinor === undefined ? limit : Math.min(limit, rules.roomMinor);
    }
  }
  if (rules.referral !== undefined) {
    if (outcome !== 'DECLINE') outcome = 'REVIEW';
    reasons = withFirst([rules.referral], reasons);
    limitMinor = null;
  }
  return { outcome, reasons, limitMinor: outcome === 'APPROVE' ? limitMinor : null, replayable: true };
}

function replayDraw(decision: Decision, rules: CoreRules): FinalOutcome {
  if (rules.hard && rules.hard.length > 0) return hardDecline(decision, rules.hard);
  const kept = {
    outcome: decision.outcome,
    reasons: decision.reasons,
    limitMinor: decision.limitMinor ?? null,
  };
  if (decision.outcome !== 'APPROVE') return { ...kept, replayable: true };
  const priced = rules.priced;
  const pricing = drawPricingOf(decision);
  if (
    priced === undefined ||
    priced.annualRate !== pricing.annualRate ||
    priced.upfrontFeeMinor !== pricing.upfrontFeeMinor ||
    priced.periodicFeeMinor !== pricing.periodicFeeMinor
  )
    return { ...kept, replayable: false };
  if (!priced.refused) return { ...kept, replayable: true };
  return {
    outcome: 'DECLINE',
    reasons: withFirst(['R_APR_CAP'], decision.reasons),
    limitMinor: null,
    replayable: true,
  };
}

/**
 * The rules the core applied to a decision stored before it recorded them (no `core_rules`), inferred from the
 * application's or draw's row: a hard-rule code or a bureau referral in the final reasons that the strategy did not
 * give. The borrower cap and the draw APR cap cannot be told apart from the strategy's own reasons there, so they are
 * not replayed for these rows (the caller counts them as unrecorded).
 */
export function inferCoreRules(kind: string, decision: Decision, final: CoreRules['final']): CoreRules {
  const own = new Set(decision.reasons);
  const hardCodes = kind === 'draw' ? DRAW_HARD_CODES : APPLICATION_HARD_CODES;
  const hard =
    final.outcome === 'DECLINE' ? final.reasons.filter((r) => hardCodes.has(r) && !own.has(r)) : [];
  const first = final.reasons[0];
  const referral =
    kind === 'application' &&
    first !== undefined &&
    BUREAU_REFERRALS.has(first) &&
    (!own.has(first) || (decision.outcome === 'APPROVE' && final.outcome === 'REVIEW'))
      ? first
      : undefined;
  return { final, ...(hard.length > 0 ? { hard } : {}), ...(referral ? { referral } : {}) };
}

const APPLICATION_HARD_CODES = new Set(['R_BLACKLIST', 'R_AGE_ABOVE_MAX']);
const DRAW_HARD_CODES = new Set(['R_BLACKLIST', 'R_DAYS_PAST_DUE']);
const BUREAU_REFERRALS = new Set(['R_CONSENT_MISSING', 'R_INQUIRY_VELOCITY']);
