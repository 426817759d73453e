import type { Decision, Outcome, RequestedLineAction, TraceStep } from '../domain/index.js';
import type { Value } from './expr/ast.js';
import type { SlotState } from './expr/compile.js';
import {
  ENGINE_VERSION,
  limitFrom,
  rateFrom,
  type RunEnv,
  type ShadowResult,
  type StrategyMeta,
} from './runtime.js';
import type { Effect } from './types.js';

/**
 * Turns one recorded trace entry back into the TraceStep the interpreter-era engine pushed eagerly. `a`, `b`, `c` are
 * whatever the node recorded (offsets into the fired-index log, a total, a values snapshot...).
 */
export interface TraceBuilder {
  build(run: CompiledRun, a: unknown, b: unknown, c: unknown): TraceStep;
}

/** An effect (rule, row, band) with everything that does not depend on the decision worked out at compile time. */
export interface CompiledEffect {
  readonly effect: Effect;
  readonly outcome: Outcome | undefined;
  readonly rank: number;
  readonly stops: boolean;
  readonly reasons: readonly string[];
  readonly reasonsFrom: string | undefined;
  /** Action limit/rate expressions, by action index; undefined when the effect has no computed amounts. */
  readonly amounts:
    | readonly { readonly limit?: (s: SlotState) => Value; readonly rate?: (s: SlotState) => Value }[]
    | undefined;
}

export function compileEffectMeta(
  effect: Effect,
  meta: StrategyMeta,
  amounts: CompiledEffect['amounts'],
): CompiledEffect {
  const outcome = effect.outcome;
  const rank = outcome === undefined ? meta.rank.size : (meta.rank.get(outcome) ?? meta.rank.size);
  return {
    effect,
    outcome,
    rank,
    stops: outcome !== undefined && meta.stopOn.has(outcome),
    reasons: effect.reasons ?? [],
    reasonsFrom: effect.reasonsFrom,
    amounts,
  };
}

/** Eager steps (rare node kinds) are recorded whole. */
export const EAGER_STEP: TraceBuilder = { build: (_run, a) => a as TraceStep };

/**
 * The decision being built by a compiled strategy. Same semantics as `Run` (runtime.ts), which the reference
 * interpreter uses, but it records the trace compactly (a builder and up to three values per node, rule/row indices in
 * `fired`) and materialises the TraceStep objects only when `decision.trace` is first read; and it keeps no per-call
 * closures, spreads or Sets on the hot path. The input values the trace shows come from `slots`, the snapshot taken
 * when the decision started, so a caller that later mutates its context object does not change the recorded trace.
 */
export class CompiledRun implements SlotState {
  stopped = false;
  limitMinor: number | undefined = undefined;
  annualRate: number | undefined = undefined;
  readonly values: Record<string, Value> = {};
  readonly actions: RequestedLineAction[] = [];
  shadows: ShadowResult[] | undefined = undefined;
  /** Adverse reasons a scorecard/model recorded, by its output name (largest point losses first). */
  scoreReasons: Record<string, readonly string[]> | undefined = undefined;
  /** Trace log: [builder, a, b, c] per step. */
  readonly log: unknown[] = [];
  /** Rule / row indices that fired, referenced by offsets from the trace log. */
  readonly fired: number[] = [];
  private bestRank = Number.POSITIVE_INFINITY;
  private best: Outcome | undefined = undefined;
  private readonly reasonCodes: string[] = [];
  private readonly reasonRanks: number[] = [];

  constructor(
    readonly meta: StrategyMeta,
    readonly ctx: SlotState['ctx'],
    readonly params: RunEnv['params'],
    readonly slots: Value[],
    readonly paramSlots: (Value | undefined)[],
  ) {}

  record(builder: TraceBuilder, a: unknown, b: unknown, c: unknown): void {
    this.log.push(builder, a, b, c);
  }

  recordEager(step: TraceStep): void {
    this.log.push(EAGER_STEP, step, undefined, undefined);
  }

  reasonsOf(name: string): readonly string[] | undefined {
    return this.scoreReasons === undefined ? undefined : this.scoreReasons[name];
  }

  setScoreReasons(name: string, reasons: readonly string[]): void {
    (this.scoreReasons ??= {})[name] = reasons;
  }

  /** Same as Run.applyEffect; `computed` holds the action amounts the caller evaluated (by action index). */
  apply(e: CompiledEffect, computed?: readonly { limitMinor?: number; annualRate?: number }[]): void {
    const rank = e.rank;
    if (e.outcome !== undefined && rank < this.bestRank) {
      this.bestRank = rank;
      this.best = e.outcome;
    }
    const reasons = this.effectReasons(e);
    for (let i = 0; i < reasons.length; i++) this.addReason(reasons[i] as string, rank);
    const actions = e.effect.actions;
    if (actions !== undefined) {
      for (let i = 0; i < actions.length; i++) {
        const action = actions[i] as NonNullable<Effect['actions']>[number];
        const amounts = computed?.[i];
        const limitMinor = amounts?.limitMinor;
        const annualRate = amounts?.annualRate;
        this.actions.push({
          type: action.type,
          ...(limitMinor === undefined ? {} : { limitMinor }),
          ...(annualRate === undefined ? {} : { annualRate }),
          reasons: dedupeCodes(action.reasons ?? reasons),
        });
      }
    }
    if (e.stops) this.stopped = true;
  }

  effectReasons(e: CompiledEffect): readonly string[] {
    if (e.reasonsFrom === undefined) return e.reasons;
    const from = this.reasonsOf(e.reasonsFrom);
    if (from === undefined || from.length === 0) return e.reasons;
    return e.reasons.concat(from);
  }

  addReason(code: string, rank: number): void {
    this.reasonCodes.push(code);
    this.reasonRanks.push(rank);
  }

  setLimit(value: Value): void {
    this.limitMinor = limitFrom(value);
  }

  setRate(value: Value): void {
    this.annualRate = rateFrom(value);
  }

  addShadow(result: ShadowResult): void {
    (this.shadows ??= []).push(result);
  }

  /** The TraceStep objects, built from the log. */
  materialise(): TraceStep[] {
    const log = this.log;
    const out = new Array<TraceStep>(log.length / 4);
    for (let i = 0, j = 0; i < log.length; i += 4, j++)
      out[j] = (log[i] as TraceBuilder).build(this, log[i + 1], log[i + 2], log[i + 3]);
    return out;
  }

  finish(): Decision {
    return new CompiledDecision(
      this,
      orderReasons(this.reasonCodes, this.reasonRanks),
      this.best ?? this.meta.defaultOutcome,
    ) as unknown as Decision;
  }
}

/** Builds the trace once and turns the accessor into a plain data property holding it. */
function settleTrace(this: CompiledDecision): TraceStep[] {
  const trace = this.traceSource().materialise();
  Object.defineProperty(this, 'trace', {
    value: trace,
    enumerable: true,
    writable: true,
    configurable: true,
  });
  return trace;
}

/**
 * One accessor shared by every decision: V8 keeps objects that share an accessor pair on one hidden-class path, so
 * defining it costs a property store, whereas a per-decision getter closure (or an object-literal getter) gives every
 * decision a fresh hidden class and costs about a microsecond.
 */
const LAZY_TRACE: PropertyDescriptor = { get: settleTrace, enumerable: true, configurable: true };

/**
 * A compiled strategy's decision. Its own enumerable properties are exactly a Decision's, in the same order as the
 * reference `Run.finish`; `trace` is an own enumerable accessor that builds the TraceStep array on first read and then
 * becomes a plain data property, so JSON.stringify, canonicalJson, spreads and deep equality all see the full trace.
 * The run it reads from is held in a private field, invisible to all of those.
 */
class CompiledDecision {
  readonly #run: CompiledRun;

  constructor(run: CompiledRun, reasons: string[], outcome: Outcome) {
    this.#run = run;
    const self = this as unknown as Record<string, unknown>;
    self.strategyId = run.meta.id;
    self.strategyVersion = run.meta.version;
    self.engineVersion = ENGINE_VERSION;
    self.outcome = outcome;
    self.reasons = reasons;
    if (run.limitMinor !== undefined) self.limitMinor = run.limitMinor;
    if (run.annualRate !== undefined) self.annualRate = run.annualRate;
    self.actions = run.actions;
    self.values = run.values;
    Object.defineProperty(this, 'trace', LAZY_TRACE);
    if (run.shadows !== undefined) self.shadows = run.shadows;
  }

  traceSource(): CompiledRun {
    return this.#run;
  }
}

/**
 * Reasons of the decisive outcome first, then of lesser outcomes, then action-only reasons; stable within a rank;
 * each code once. Ranks are small integers (positions in the precedence), so a pass per rank replaces a sort.
 */
export function orderReasons(codes: readonly string[], ranks: readonly number[]): string[] {
  const n = codes.length;
  const out: string[] = [];
  if (n === 0) return out;
  let lo = ranks[0] as number;
  let hi = lo;
  for (let i = 1; i < n; i++) {
    const r = ranks[i] as number;
    if (r < lo) lo = r;
    else if (r > hi) hi = r;
  }
  const seen = n > 16 ? new Set<string>() : undefined;
  for (let r = lo; r <= hi; r++) {
    for (let i = 0; i < n; i++) {
      if (ranks[i] !== r) continue;
      const code = codes[i] as string;
      if (seen === undefined) {
        if (!out.includes(code)) out.push(code);
      } else if (!seen.has(code)) {
        seen.add(code);
        out.push(code);
      }
    }
  }
  return out;
}

/** De-duplicates, keeping first occurrences (a fresh array, as `[...new Set(codes)]`). */
export function dedupeCodes(codes: readonly string[]): string[] {
  if (codes.length > 16) return [...new Set(codes)];
  const out: string[] = [];
  for (let i = 0; i < codes.length; i++) {
    const code = codes[i] as string;
    if (!out.includes(code)) out.push(code);
  }
  return out;
}

/** The `inputs` object of a trace step: the node's inputs with the values snapshotted at the start of the decision. */
export function inputsFromSlots(
  slots: readonly Value[],
  names: readonly string[],
  slotIndex: readonly number[],
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (let k = 0; k < names.length; k++) out[names[k] as string] = slots[slotIndex[k] as number];
  return out;
}
