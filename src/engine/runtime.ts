import type {
  DecisionContext,
  Decision,
  Outcome,
  RequestedLineAction,
  TraceStep,
  LineActionType,
} from '../domain/index.js';
import type { ModelResolver, ModelScorer } from '../domain/index.js';
import { isKnownReason } from '../domain/index.js';
import { EngineEvaluationError } from './errors.js';
import type { Value } from './expr/ast.js';
import type { Effect, StrategyDocument } from './types.js';

/** Recorded with every decision so a past decision can be replayed by the engine that made it. */
export const ENGINE_VERSION = 'lineguard-engine/1.0.0';

/**
 * Default precedence, most decisive first: a decline outranks a hold (funds stay put), a hold outranks a person's
 * review, review outranks step-up verification, which outranks a cooling-off delay; approve only when nothing objects.
 */
export const DEFAULT_PRECEDENCE: readonly Outcome[] = [
  'DECLINE',
  'HOLD',
  'REVIEW',
  'CHALLENGE',
  'COOLDOWN',
  'APPROVE',
];

export interface ShadowResult {
  readonly strategyId: string;
  readonly strategyVersion: number;
  readonly outcome: Outcome;
  readonly reasons: readonly string[];
}

export interface RunEnv {
  /** Overlay parameters (declared defaults already applied). */
  readonly params: Readonly<Record<string, Value>>;
  /** Which of `params` are overlay values (recorded in the trace, so a replay knows what was an overlay). */
  readonly overlaid?: readonly string[];
  readonly subjectKey?: string;
  readonly models: ModelResolver;
  /** Runs another strategy for a shadow node; absent when shadows are not wired (e.g. simulation). */
  readonly shadow?: (
    strategyId: string,
    context: DecisionContext,
    subjectKey: string | undefined,
  ) => ShadowResult | undefined;
}

/** Per-strategy facts both evaluators need, derived once. */
export interface StrategyMeta {
  readonly id: string;
  readonly version: number;
  readonly rank: ReadonlyMap<Outcome, number>;
  readonly stopOn: ReadonlySet<Outcome>;
  readonly defaultOutcome: Outcome;
}

export function strategyMeta(doc: StrategyDocument): StrategyMeta {
  const precedence = doc.outcomePrecedence ?? DEFAULT_PRECEDENCE;
  return {
    id: doc.id,
    version: doc.version ?? 0,
    rank: new Map(precedence.map((o, i) => [o, i])),
    stopOn: new Set(doc.stopOn ?? ['DECLINE']),
    defaultOutcome: doc.defaultOutcome ?? 'APPROVE',
  };
}

/** The decision being built as a flow runs: outcomes, reasons, actions, values, trace. */
export class Run {
  stopped = false;
  limitMinor: number | undefined;
  annualRate: number | undefined;
  readonly values: Record<string, Value> = {};
  readonly trace: TraceStep[] = [];
  readonly actions: RequestedLineAction[] = [];
  readonly shadows: ShadowResult[] = [];
  /** Adverse reasons a scorecard/model recorded, by its output name (largest point losses first). */
  readonly scoreReasons: Record<string, readonly string[]> = {};
  private bestRank = Number.POSITIVE_INFINITY;
  private best: Outcome | undefined;
  private readonly reasonCodes: string[] = [];
  private readonly reasonRanks: number[] = [];

  constructor(readonly meta: StrategyMeta) {}

  /** Applies what a rule / row / band says. Action limits and rates are computed by the caller's evaluator. */
  applyEffect(effect: Effect, actionAmounts?: readonly { limitMinor?: number; annualRate?: number }[]): void {
    const rank =
      effect.outcome === undefined
        ? this.meta.rank.size
        : (this.meta.rank.get(effect.outcome) ?? this.meta.rank.size);
    if (effect.outcome !== undefined && rank < this.bestRank) {
      this.bestRank = rank;
      this.best = effect.outcome;
    }
    const reasons = this.effectReasons(effect);
    for (const code of reasons) this.addReason(code, rank);
    effect.actions?.forEach((action, i) => {
      const amounts = actionAmounts?.[i];
      this.addAction(action.type, action.reasons ?? reasons, amounts?.limitMinor, amounts?.annualRate);
    });
    if (effect.outcome !== undefined && this.meta.stopOn.has(effect.outcome)) this.stopped = true;
  }

  effectReasons(effect: Effect): readonly string[] {
    if (effect.reasonsFrom === undefined) return effect.reasons ?? [];
    return [...(effect.reasons ?? []), ...(this.scoreReasons[effect.reasonsFrom] ?? [])];
  }

  addReason(code: string, rank: number): void {
    this.reasonCodes.push(code);
    this.reasonRanks.push(rank);
  }

  addAction(
    type: LineActionType,
    reasons: readonly string[],
    limitMinor?: number,
    annualRate?: number,
  ): void {
    this.actions.push({
      type,
      ...(limitMinor === undefined ? {} : { limitMinor }),
      ...(annualRate === undefined ? {} : { annualRate }),
      reasons: dedupe(reasons),
    });
  }

  setLimit(value: Value): void {
    this.limitMinor = limitFrom(value);
  }

  setRate(value: Value): void {
    this.annualRate = rateFrom(value);
  }

  finish(): Decision {
    // Reasons of the decisive outcome first, then of lesser outcomes, then action-only reasons; stable within a rank.
    const order = this.reasonCodes
      .map((_, i) => i)
      .sort((a, b) => (this.reasonRanks[a] as number) - (this.reasonRanks[b] as number) || a - b);
    return {
      strategyId: this.meta.id,
      strategyVersion: this.meta.version,
      engineVersion: ENGINE_VERSION,
      outcome: this.best ?? this.meta.defaultOutcome,
      reasons: dedupe(order.map((i) => this.reasonCodes[i] as string)),
      ...(this.limitMinor === undefined ? {} : { limitMinor: this.limitMinor }),
      ...(this.annualRate === undefined ? {} : { annualRate: this.annualRate }),
      actions: this.actions,
      values: this.values,
      trace: this.trace,
      ...(this.shadows.length > 0 ? { shadows: this.shadows } : {}),
    };
  }
}

export function dedupe(codes: readonly string[]): string[] {
  return [...new Set(codes)];
}

/** Limits are whole minor units; a fraction is floored so the engine never grants more than the policy computed. */
export function limitFrom(value: Value): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new EngineEvaluationError(
      `a limit must be a non-negative number of minor units, got ${JSON.stringify(value)}`,
    );
  }
  return Math.floor(value);
}

export function rateFrom(value: Value): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > 10) {
    throw new EngineEvaluationError(
      `a rate must be a decimal between 0 and 10, got ${JSON.stringify(value)}`,
    );
  }
  return value;
}

export function resolveModel(models: ModelResolver, id: string, version?: number): ModelScorer {
  const model = models(id, version);
  if (model === undefined)
    throw new EngineEvaluationError(
      `model '${id}'${version === undefined ? '' : ` v${version}`} is not available`,
    );
  return model;
}

/** Keeps catalogue codes only (a code nobody can explain to a borrower must not reach one), largest loss first. */
export function modelReasonCodes(
  reasons: readonly { code: string; pointsLost: number }[],
  count: number,
): string[] {
  const sorted = reasons
    .filter((r) => r.pointsLost > 0 && isKnownReason(r.code))
    .sort((a, b) => b.pointsLost - a.pointsLost);
  return dedupe(sorted.map((r) => r.code)).slice(0, count);
}

/** Inline scorecard reasons: characteristics ordered by points lost against their best bin (Reg B "key factors"). */
export function scorecardReasonCodes(
  losses: readonly { reason: string; lost: number }[],
  count: number,
): string[] {
  const order = losses.map((_, i) => i).filter((i) => (losses[i]?.lost ?? 0) > 0);
  order.sort((a, b) => (losses[b]?.lost ?? 0) - (losses[a]?.lost ?? 0) || a - b);
  return dedupe(order.map((i) => losses[i]?.reason as string)).slice(0, count);
}

/** FNV-1a 32-bit: a stable, well-spread hash for champion/challenger assignment (same borrower, same arm). */
export function fnv1a32(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}

/** Bucket 0..9999 (basis points of traffic) for a subject in a strategy. */
export function splitBucket(subjectKey: string, strategyId: string): number {
  return fnv1a32(`${subjectKey}:${strategyId}`) % 10_000;
}

/** Picks the arm whose cumulative share covers the bucket; without a subject key the first (champion) arm. */
export function pickArm<T extends { percent: number }>(
  arms: readonly T[],
  subjectKey: string | undefined,
  strategyId: string,
): T {
  if (subjectKey === undefined) return arms[0] as T;
  const bucket = splitBucket(subjectKey, strategyId);
  let cumulative = 0;
  for (const arm of arms) {
    cumulative += arm.percent * 100;
    if (bucket < cumulative) return arm;
  }
  return arms[arms.length - 1] as T;
}

export function contextInputs(ctx: DecisionContext, names: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const name of names) out[name] = ctx[name] ?? null;
  return out;
}

/** Aggregates a collect-policy column. */
export function aggregate(kind: 'list' | 'sum' | 'min' | 'max' | 'count', values: readonly Value[]): Value {
  if (kind === 'list') return values;
  if (kind === 'count') return values.length;
  const nums = values.filter((v) => v !== null);
  if (nums.some((v) => typeof v !== 'number'))
    throw new EngineEvaluationError(`collect ${kind} needs numbers`);
  const numbers = nums as number[];
  if (kind === 'sum') return numbers.reduce((a, b) => a + b, 0);
  if (numbers.length === 0) return null;
  return kind === 'min' ? Math.min(...numbers) : Math.max(...numbers);
}

export const MAX_FLOW_STEPS = 10_000;

/** Fail closed (DESIGN "Fail closed"): an error inside a strategy is a REVIEW with R_ENGINE_ERROR, never an approval. */
export function failClosedDecision(
  meta: StrategyMeta,
  error: unknown,
  trace: readonly TraceStep[],
): Decision {
  const message = error instanceof Error ? error.message : String(error);
  return {
    strategyId: meta.id,
    strategyVersion: meta.version,
    engineVersion: ENGINE_VERSION,
    outcome: 'REVIEW',
    reasons: ['R_ENGINE_ERROR'],
    actions: [],
    values: {},
    trace: [...trace, { node: '$error', kind: 'error', detail: message }],
    engineError: true,
  };
}

export function paramsStep(
  params: Readonly<Record<string, Value>>,
  overlaid?: readonly string[],
): TraceStep | undefined {
  if (Object.keys(params).length === 0) return undefined;
  const step: TraceStep = {
    node: '$params',
    kind: 'params',
    detail: 'overlay parameters in force',
    values: params,
  };
  return overlaid === undefined ? step : { ...step, overlays: overlaid };
}
