/**
 * The contract between the credit-line core and the decision engine: `decide(strategyId, context) -> Decision`.
 * The core owns persistence (the decision row and its ledger entry go into the core's dbTx); the engine is pure
 * apart from the injected clock.
 */
export const OUTCOMES = ['APPROVE', 'DECLINE', 'REVIEW', 'CHALLENGE', 'COOLDOWN', 'HOLD'] as const;
export type Outcome = (typeof OUTCOMES)[number];

export const LINE_ACTION_TYPES = [
  'GRANT',
  'LIMIT_INCREASE',
  'LIMIT_DECREASE',
  'TEMP_LIMIT',
  'RATE_CHANGE',
  'FREEZE_DRAW',
  'UNFREEZE',
  'SUSPEND',
  'REINSTATE',
  'CLOSE',
] as const;
export type LineActionType = (typeof LINE_ACTION_TYPES)[number];

/** Actions that take something away from a borrower; these are what the blast-radius guard bounds. */
export const RESTRICTIVE_ACTIONS: ReadonlySet<LineActionType> = new Set([
  'LIMIT_DECREASE',
  'FREEZE_DRAW',
  'SUSPEND',
  'CLOSE',
]);

/** A line action a strategy asks for; the core applies it through the line state machine. */
export interface RequestedLineAction {
  readonly type: LineActionType;
  /** New limit in minor units, for GRANT / LIMIT_* / TEMP_LIMIT. */
  readonly limitMinor?: number;
  /** New annual rate as a decimal (0.18 = 18%), for GRANT / RATE_CHANGE. */
  readonly annualRate?: number;
  /** Ordered reason codes, most important first. */
  readonly reasons: readonly string[];
}

export type ContextValue = string | number | boolean | null | readonly ContextValue[];
export type DecisionContext = Readonly<Record<string, ContextValue | undefined>>;

export interface TraceStep {
  /** Node id in the strategy document. */
  readonly node: string;
  readonly kind: string;
  /** What happened at this node: a rule fired, a branch was taken, points were added, an error. */
  readonly detail: string;
  /** Rule ids that fired at this node. */
  readonly fired?: readonly string[];
  /** Inputs this node read, with their values. */
  readonly inputs?: Readonly<Record<string, unknown>>;
  readonly values?: Readonly<Record<string, unknown>>;
  /** `$params` only: the parameters whose value came from a macro overlay rather than the strategy's default. */
  readonly overlays?: readonly string[];
}

export interface Decision {
  readonly strategyId: string;
  readonly strategyVersion: number;
  readonly engineVersion: string;
  readonly outcome: Outcome;
  /** Ordered, de-duplicated reason codes from the catalogue, most important first. */
  readonly reasons: readonly string[];
  readonly limitMinor?: number;
  readonly annualRate?: number;
  readonly actions: readonly RequestedLineAction[];
  /** Named values the strategy computed (score, pd, segment, …). */
  readonly values: Readonly<Record<string, unknown>>;
  readonly trace: readonly TraceStep[];
  /** Outcomes of shadow strategies, recorded but never acted on. */
  readonly shadows?: readonly {
    strategyId: string;
    strategyVersion: number;
    outcome: Outcome;
    reasons: readonly string[];
  }[];
  /** True when the strategy could not be evaluated and the engine failed closed. */
  readonly engineError?: boolean;
}

export interface Decider {
  /**
   * Runs the active version of a strategy. `subjectKey` (usually the borrower id) feeds champion/challenger
   * splits. Throws LgError LG_CONTEXT_INVALID when the context does not fit the strategy's declared inputs;
   * any error inside the strategy fails closed to REVIEW with R_ENGINE_ERROR.
   */
  decide(strategyId: string, context: DecisionContext, options?: { subjectKey?: string }): Decision;
}
