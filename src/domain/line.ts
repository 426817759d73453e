import type { LineActionType } from './decision.js';
import { LgError } from './errors.js';
import { MS_PER_DAY } from './clock.js';

/**
 * The credit-line state machine, pure. The core persists what it returns; the store's conditional updates enforce
 * the same money rule (`outstanding <= limit`, available never negative) under concurrency.
 *
 * States (DESIGN "Domain words"): PENDING (granted offer not yet active), ACTIVE, DRAW_FROZEN (冻结支用: limit kept, no
 * draws), SUSPENDED (暂停服务: no draws, under review), CLOSED (关闭), REVOKED (withdrawn for cause, e.g. confirmed fraud).
 * CLOSED and REVOKED are terminal: the borrower still repays what is outstanding, but the line takes no action.
 */
export const LINE_STATES = ['PENDING', 'ACTIVE', 'DRAW_FROZEN', 'SUSPENDED', 'CLOSED', 'REVOKED'] as const;
export type LineStatus = (typeof LINE_STATES)[number];

export const TERMINAL_STATES: ReadonlySet<LineStatus> = new Set(['CLOSED', 'REVOKED']);

/** Default life of a temporary limit (临时额度) when the action does not say. */
export const TEMP_LIMIT_DAYS_DEFAULT = 30;

export interface LineState {
  readonly status: LineStatus;
  /** Current (effective) limit in minor units, including a temporary raise. */
  readonly limitMinor: number;
  /** The permanent limit a temporary raise falls back to; equals limitMinor when no raise is in force. */
  readonly baseLimitMinor: number;
  /** When the temporary raise ends (epoch ms), if one is in force. */
  readonly tempLimitUntil: number | null;
  readonly outstandingMinor: number;
  /** Nominal annual rate as a decimal (0.18 = 18%). */
  readonly annualRate: number;
}

export interface LineActionRequest {
  readonly type: LineActionType;
  readonly limitMinor?: number;
  readonly annualRate?: number;
  /** CLOSE for cause (confirmed fraud): the line ends REVOKED instead of CLOSED. */
  readonly revoke?: boolean;
  /** TEMP_LIMIT end; default now + 30 days. */
  readonly tempUntil?: number;
  /**
   * A freeze stands beneath the line's suspension (SUSPEND taken on a DRAW_FROZEN line; the core reads this from the
   * line's actions). Each lift lifts its own restriction only: REINSTATE then returns the line to DRAW_FROZEN, and
   * UNFREEZE lifts that freeze while the suspension stays in force.
   */
  readonly freezeBeneath?: boolean;
}

export interface TransitionResult {
  readonly state: LineState;
  /** True when a limit cut was raised to the outstanding balance, so the borrower is never put over limit. */
  readonly clipped: boolean;
}

/** Which states each action may start from (everything else is LG_ILLEGAL_TRANSITION). */
const ALLOWED_FROM: Readonly<Record<LineActionType, readonly LineStatus[]>> = {
  GRANT: ['PENDING'],
  LIMIT_INCREASE: ['ACTIVE', 'DRAW_FROZEN'],
  LIMIT_DECREASE: ['ACTIVE', 'DRAW_FROZEN', 'SUSPENDED'],
  TEMP_LIMIT: ['ACTIVE'],
  RATE_CHANGE: ['ACTIVE', 'DRAW_FROZEN', 'SUSPENDED'],
  FREEZE_DRAW: ['ACTIVE'],
  UNFREEZE: ['DRAW_FROZEN'],
  SUSPEND: ['ACTIVE', 'DRAW_FROZEN'],
  REINSTATE: ['SUSPENDED'],
  CLOSE: ['PENDING', 'ACTIVE', 'DRAW_FROZEN', 'SUSPENDED'],
};

export function isActionAllowed(status: LineStatus, type: LineActionType): boolean {
  return ALLOWED_FROM[type].includes(status);
}

export function newPendingLine(): LineState {
  return {
    status: 'PENDING',
    limitMinor: 0,
    baseLimitMinor: 0,
    tempLimitUntil: null,
    outstandingMinor: 0,
    annualRate: 0,
  };
}

/** The one status a line lends in; every other status refuses a draw (drawBlockedError). */
export const LENDING_STATUS: LineStatus = 'ACTIVE';

/**
 * What the borrower may draw now: the limit less what is owed on an ACTIVE line, and 0 on a line that lends nothing —
 * DRAW_FROZEN, SUSPENDED, PENDING, CLOSED, REVOKED — so "available" never promises what a draw would refuse. A frozen
 * or suspended line keeps its limit (limitMinor; the per-borrower cap still counts it) and gets the room back when it
 * is unfrozen or reinstated; its status and explanation say why nothing is available meanwhile. The store keeps
 * `available_minor` by this rule (store/core-lines.ts availableSql) and the ledger check derives it by it.
 */
export function availableMinor(state: Pick<LineState, 'status' | 'limitMinor' | 'outstandingMinor'>): number {
  if (state.status !== LENDING_STATUS) return 0;
  return Math.max(0, state.limitMinor - state.outstandingMinor);
}

function illegal(state: LineState, action: LineActionRequest, why?: string): LgError {
  const allowed = ALLOWED_FROM[action.type].join(', ');
  const message = why ?? `a ${state.status} line cannot take ${action.type} (allowed from: ${allowed})`;
  return new LgError('LG_ILLEGAL_TRANSITION', message, { state: state.status, action: action.type });
}

function requireLimit(state: LineState, action: LineActionRequest): number {
  const limit = action.limitMinor;
  if (limit === undefined || !Number.isSafeInteger(limit) || limit < 0) {
    throw new LgError(
      'LG_VALIDATION',
      `${action.type} needs limitMinor, a non-negative integer of minor units`,
      {
        state: state.status,
        action: action.type,
      },
    );
  }
  return limit;
}

function requireRate(state: LineState, action: LineActionRequest): number {
  const rate = action.annualRate;
  if (rate === undefined || !Number.isFinite(rate) || rate < 0 || rate > 1) {
    throw new LgError(
      'LG_VALIDATION',
      `${action.type} needs annualRate, a decimal from 0 to 1 (0.18 = 18%)`,
      {
        state: state.status,
        action: action.type,
      },
    );
  }
  return rate;
}

/**
 * Applies one action; returns the new state or throws LG_ILLEGAL_TRANSITION naming the state and the action.
 * `now` is needed only for TEMP_LIMIT's default end.
 */
export function applyLineAction(state: LineState, action: LineActionRequest, now: number): TransitionResult {
  if (action.type === 'UNFREEZE' && state.status === 'SUSPENDED' && action.freezeBeneath === true)
    return { state, clipped: false };
  if (!isActionAllowed(state.status, action.type)) throw illegal(state, action);
  switch (action.type) {
    case 'GRANT': {
      const limit = requireLimit(state, action);
      if (limit <= 0) throw illegal(state, action, 'GRANT needs a positive limit');
      const rate = requireRate(state, action);
      return {
        state: {
          ...state,
          status: 'ACTIVE',
          limitMinor: limit,
          baseLimitMinor: limit,
          tempLimitUntil: null,
          annualRate: rate,
        },
        clipped: false,
      };
    }
    case 'LIMIT_INCREASE': {
      const limit = requireLimit(state, action);
      if (limit <= state.limitMinor)
        throw illegal(state, action, `LIMIT_INCREASE needs a limit above the current ${state.limitMinor}`);
      return {
        state: { ...state, limitMinor: limit, baseLimitMinor: limit, tempLimitUntil: null },
        clipped: false,
      };
    }
    case 'LIMIT_DECREASE': {
      const requested = requireLimit(state, action);
      if (requested >= state.limitMinor)
        throw illegal(state, action, `LIMIT_DECREASE needs a limit below the current ${state.limitMinor}`);
      // A cut never puts the borrower over limit through no act of their own: it stops at the outstanding balance,
      // and available credit falls to zero (the cut takes full effect as the balance is repaid via later reviews).
      const limit = Math.max(requested, state.outstandingMinor);
      return {
        state: { ...state, limitMinor: limit, baseLimitMinor: limit, tempLimitUntil: null },
        clipped: limit !== requested,
      };
    }
    case 'TEMP_LIMIT': {
      const limit = requireLimit(state, action);
      if (limit <= state.baseLimitMinor)
        throw illegal(state, action, `TEMP_LIMIT needs a limit above the permanent ${state.baseLimitMinor}`);
      const until = action.tempUntil ?? now + TEMP_LIMIT_DAYS_DEFAULT * MS_PER_DAY;
      if (!Number.isSafeInteger(until) || until <= now)
        throw illegal(state, action, 'TEMP_LIMIT must end in the future');
      return { state: { ...state, limitMinor: limit, tempLimitUntil: until }, clipped: false };
    }
    case 'RATE_CHANGE':
      return { state: { ...state, annualRate: requireRate(state, action) }, clipped: false };
    case 'FREEZE_DRAW':
      return { state: { ...state, status: 'DRAW_FROZEN' }, clipped: false };
    case 'UNFREEZE':
      return { state: { ...state, status: 'ACTIVE' }, clipped: false };
    case 'REINSTATE':
      return {
        state: { ...state, status: action.freezeBeneath === true ? 'DRAW_FROZEN' : 'ACTIVE' },
        clipped: false,
      };
    case 'SUSPEND':
      return { state: { ...state, status: 'SUSPENDED' }, clipped: false };
    case 'CLOSE':
      return { state: { ...state, status: action.revoke ? 'REVOKED' : 'CLOSED' }, clipped: false };
  }
}

/** Ends an expired temporary raise (the daily job); the limit falls back, never below the outstanding balance. */
export function expireTempLimit(state: LineState, now: number): LineState {
  if (state.tempLimitUntil === null || state.tempLimitUntil > now) return state;
  const limit = Math.max(state.baseLimitMinor, state.outstandingMinor);
  return { ...state, limitMinor: limit, baseLimitMinor: limit, tempLimitUntil: null };
}

/** The domain hard rule on draws, whatever a strategy says: which error a non-active line answers with. */
export function drawBlockedError(status: LineStatus): LgError | undefined {
  switch (status) {
    case 'ACTIVE':
      return undefined;
    case 'DRAW_FROZEN':
      return new LgError('LG_LINE_FROZEN', 'draws on this line are frozen', { state: status });
    case 'SUSPENDED':
      return new LgError('LG_LINE_SUSPENDED', 'this line is suspended', { state: status });
    case 'CLOSED':
    case 'REVOKED':
      return new LgError('LG_LINE_CLOSED', `this line is ${status.toLowerCase()}`, { state: status });
    case 'PENDING':
      return new LgError('LG_LINE_NOT_ACTIVE', 'this line is not active yet', { state: status });
  }
}

/**
 * Why a line cannot lend this amount now, if it cannot: an amount that is not money, a line that does not lend in its
 * status, or more than is available. The one rule a draw, a quote, a held draw's release and the domain model share.
 */
export function drawRefusal(
  status: LineStatus,
  amountMinor: number,
  availableMinor: number,
): LgError | undefined {
  if (!Number.isSafeInteger(amountMinor) || amountMinor <= 0) {
    return new LgError('LG_INVALID_MONEY', 'amountMinor must be a positive integer of minor units', {
      amountMinor,
    });
  }
  const blocked = drawBlockedError(status);
  if (blocked) return blocked;
  if (amountMinor > availableMinor) {
    return new LgError('LG_INSUFFICIENT_CREDIT', 'the draw exceeds the available credit', {
      amountMinor,
      availableMinor,
    });
  }
  return undefined;
}

/** A draw against the line: only an ACTIVE line with enough available credit. */
export function drawFrom(state: LineState, amountMinor: number): LineState {
  const refused = drawRefusal(state.status, amountMinor, availableMinor(state));
  if (refused) throw refused;
  return { ...state, outstandingMinor: state.outstandingMinor + amountMinor };
}

/** Repaid principal restores available credit (in any state: a closed line is still repaid). */
export function repayPrincipal(state: LineState, principalMinor: number): LineState {
  if (
    !Number.isSafeInteger(principalMinor) ||
    principalMinor < 0 ||
    principalMinor > state.outstandingMinor
  ) {
    throw new LgError('LG_OVERPAYMENT', 'repaid principal exceeds the outstanding principal', {
      principalMinor,
      outstandingMinor: state.outstandingMinor,
    });
  }
  return { ...state, outstandingMinor: state.outstandingMinor - principalMinor };
}

/** The invariants every reachable state satisfies (the property test checks them after every step). */
export function lineInvariantViolations(state: LineState): string[] {
  const out: string[] = [];
  if (!LINE_STATES.includes(state.status)) out.push(`unknown status ${String(state.status)}`);
  if (state.outstandingMinor < 0) out.push('outstanding is negative');
  if (state.outstandingMinor > state.limitMinor) out.push('outstanding exceeds the limit');
  if (state.limitMinor < 0 || state.baseLimitMinor < 0) out.push('limit is negative');
  if (state.tempLimitUntil === null && state.baseLimitMinor !== state.limitMinor)
    out.push('base limit differs without a temp limit');
  if (state.annualRate < 0 || state.annualRate > 1) out.push('rate out of range');
  return out;
}

/** One applied limit cut: the action, the limit the line had just before it, and the one it left. */
export interface LimitCutStep {
  readonly actionId: string;
  readonly prevLimitMinor: number;
  readonly newLimitMinor: number;
}

/**
 * The limit cuts an appeal is against (one action, or every cut a decision took on the line), as read under the line's
 * lock (core/restrictions.ts lockedLimitCutOf).
 */
export interface LockedLimitCut {
  /** The target's latest cut, and its decision. */
  readonly actionId: string;
  readonly traceId: string | null;
  /** The limit the line had just before the latest cut, and the one it left. */
  readonly prevLimitMinor: number;
  readonly newLimitMinor: number;
  /** The line as it is now. */
  readonly lineStatus: string;
  readonly lineLimitMinor: number;
  readonly currency: string;
  /** The latest applied action that set the line's limit: the cut itself, or a newer grant, raise or cut. */
  readonly latestLimitChangeId: string | null;
  /**
   * The target's cuts that still stand, newest first: those on top of the line's limit history with no limit change of
   * another action above or between them (the first is then the line's latest limit change). Empty when another
   * change stands over them all.
   */
  readonly standing: readonly LimitCutStep[];
  /** The target's other cuts, newest first: beneath `changeOverBeneath`, a limit change of another action. */
  readonly beneath: readonly string[];
  /** The newest limit change of another action over the target's cuts `beneath`; null when they all stand. */
  readonly changeOverBeneath: string | null;
}
