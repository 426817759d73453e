import { OUTCOMES, replayCoreRules, type Decision, type Outcome } from '../domain/index.js';
import type { ModelResolver } from '../domain/index.js';
import { isLgError } from '../domain/index.js';
import type { CompiledStrategy } from './compiler.js';
import type { Value } from './expr/ast.js';
import { failClosedDecision } from './runtime.js';
import { overlayApplies } from './overlays.js';
import type {
  DecisionHistory,
  OverlayChange,
  ReplayCursor,
  StoredDecision,
  UnreadableDecision,
} from './ports.js';
import type { ParamValue, StrategyDocument } from './types.js';

/** The "frozen" family for freeze rates: the actions that stop a borrower drawing. */
const FREEZE_ACTIONS = new Set(['FREEZE_DRAW', 'SUSPEND', 'CLOSE']);

export interface AffectedSubject {
  readonly decisionId: string;
  readonly borrowerId: string | null;
  readonly lineId: string | null;
  readonly before: Outcome;
  readonly after: Outcome;
  readonly reasonsAfter: readonly string[];
}

/** A parameter whose declared default differs between the live version and the candidate. */
export interface ParameterChange {
  readonly name: string;
  /** The live version's default (null: the live version does not declare it). */
  readonly before: ParamValue | null;
  /** The candidate's default (null: the candidate drops it). */
  readonly after: ParamValue | null;
  /** Replays where an overlay in force at decision time set this parameter, so the new default did not apply. */
  readonly overlaidReplays: number;
}

/** One set of before/after figures: the strategy's own outcomes, or the final ones after the core's rules. */
export interface SimulationFigures {
  readonly changed: number;
  /** outcomeMatrix[before][after] = count. */
  readonly outcomeMatrix: Record<Outcome, Record<Outcome, number>>;
  readonly approvalRate: { readonly before: number; readonly after: number };
  readonly freezeRate: { readonly before: number; readonly after: number };
  readonly limitTotalMinor: { readonly before: number; readonly after: number };
  readonly reasonShifts: readonly { code: string; before: number; after: number; delta: number }[];
  readonly newlyDeclined: readonly AffectedSubject[];
  readonly newlyFrozen: readonly AffectedSubject[];
}

/**
 * Stored decisions that lack an input the candidate declares and the version that decided them did not (a decision
 * recorded before the core recorded every fact it computed, a fact the core did not compute then, a client attribute
 * the deciding version did not take): the candidate would be handed a value the record does not hold, so they are
 * not replayed (`handling: 'excluded'`) and are in none of the figures; `decisions` does not count them. Never
 * replayed as absent, which would answer as if the fact were false or null.
 */
export interface MissingFacts {
  /** Decisions left out. */
  readonly count: number;
  /** For each input the candidate declares, how many of them lack it. */
  readonly inputs: Readonly<Record<string, number>>;
  /** Their ids, oldest first, cut at `subjectsMax`. */
  readonly decisionIds: readonly string[];
  readonly handling: 'excluded';
}

/**
 * The report's top-level figures are the final outcomes — what the applications and draws answered (before) and would
 * answer (after), with the core's rules after the engine replayed: hard rules, the bureau gate's referral, the
 * borrower cap, a draw's APR cap. `strategy` holds the same figures for the strategy's own outcomes.
 */
export interface SimulationReport extends SimulationFigures {
  readonly strategyId: string;
  /** The stored version the candidate is, byte for byte; null for any other document (an edited copy included). */
  readonly candidateVersion: number | null;
  readonly from: number;
  readonly to: number;
  readonly decisions: number;
  /**
   * Replays whose stored context does not fit the candidate's inputs (a value of another type, a required input the
   * decision genuinely lacked): counted as REVIEW after. A stored input the candidate does not declare is not one: the
   * replay hands the candidate only the inputs it declares, as the core does live.
   */
  readonly contextErrors: number;
  /** Decisions that lack an input the candidate declares: left out of the figures (see MissingFacts). */
  readonly missingFacts: MissingFacts;
  readonly engineErrors: { readonly before: number; readonly after: number };
  /** The strategy's own outcomes, before the core's rules. */
  readonly strategy: SimulationFigures;
  readonly coreRules: {
    /** Stored decisions whose answer the core's rules changed (outcome or limit). */
    readonly before: number;
    /** Replays whose candidate outcome or limit the core's rules change. */
    readonly after: number;
    /**
     * Candidate outcomes a core rule depends on with a fact never computed (a draw approved at a price the core never
     * checked against the APR cap): counted at the strategy's outcome.
     */
    readonly notReplayable: number;
    /**
     * Decisions stored before the core recorded its rules: their answer is read from the application's or draw's row,
     * and only the hard rules and the bureau referral found there are replayed (not the borrower cap or APR cap).
     */
    readonly unrecorded: number;
  };
  /** Defaults the candidate changes against the live version: the replay used the candidate's values. */
  readonly parameterChanges: readonly ParameterChange[];
  /**
   * Stored decisions of the period whose sealed inputs no key held here opens (altered, copied from another row, or
   * sealed under a key since dropped): not replayed, so in none of the figures above (`decisions` does not count
   * them). `count` is all of them; `decisionIds` (oldest first) is cut at `subjectsMax` like the subject lists.
   */
  readonly unreadable: { readonly count: number; readonly decisionIds: readonly string[] };
  /** True when the subject lists (and the unreadable or missing-facts decisions' ids) were cut at `subjectsMax`. */
  readonly truncated: boolean;
}

export interface SimulationInput {
  readonly history: DecisionHistory;
  readonly candidate: CompiledStrategy;
  /**
   * The stored version the candidate is, as the caller established against the store (EngineService compares the
   * canonical documents); absent or null: none. The document's own `version` is not evidence: an edited copy of a
   * stored document still carries it.
   */
  readonly candidateVersion?: number | null;
  /** The live version's document, the baseline of `parameterChanges` (undefined: nothing is active). */
  readonly live: StrategyDocument | undefined;
  /**
   * The inputs a stored version of the strategy declares (undefined: not known; the live version's are known from
   * `live`). A stored decision that lacks an input its deciding version declared genuinely had none; one it did not
   * declare may simply not have been recorded (MissingFacts).
   */
  readonly decidingInputs?: (strategyVersion: number) => ReadonlySet<string> | undefined;
  readonly models: ModelResolver;
  readonly from: number;
  readonly to: number;
  readonly subjectsMax?: number;
  readonly pageSize?: number;
}

/**
 * Replays the stored contexts of [from, to) through a candidate version — point in time: the inputs and the overlays
 * in force when each decision was made; every other parameter takes the candidate's own value, exactly as the
 * candidate would decide once activated (issue 12) — and reports the difference against what was decided.
 */
export async function simulateStrategy(input: SimulationInput): Promise<SimulationReport> {
  const acc = new Accumulator(input.subjectsMax ?? 1000, parameterDiff(input.live, input.candidate.doc));
  const overlays = new OverlayTimeline(await input.history.overlayHistory());
  const lacking = missingInputs(input);
  let after: ReplayCursor | undefined;
  for (;;) {
    const page = await input.history.decisionsForReplay({
      strategyId: input.candidate.meta.id,
      range: { from: input.from, to: input.to },
      after,
      pageSize: input.pageSize ?? 1000,
    });
    for (const row of page) {
      if ('unreadable' in row) {
        acc.unreadable(row);
        continue;
      }
      const missing = lacking(row);
      if (missing.length > 0) acc.missing(row, missing);
      else acc.add(row, replay(input, row, acc, overlays));
    }
    const last = page[page.length - 1];
    if (!last || page.length < (input.pageSize ?? 1000)) break;
    after = { decidedAt: last.decidedAt, id: last.id };
  }
  return acc.report(input);
}

function replay(
  input: SimulationInput,
  stored: StoredDecision,
  acc: Accumulator,
  overlays: OverlayTimeline,
): Decision {
  const candidate = input.candidate;
  // As the core hands the live engine its context: only the inputs this version declares, of everything recorded.
  const declared = candidate.names.inputs;
  const own: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(stored.context)) if (declared.has(name)) own[name] = value;
  let ctx;
  try {
    ctx = candidate.validateContext(own);
  } catch (error) {
    if (!isLgError(error)) throw error;
    acc.contextErrors++;
    return failClosedDecision(candidate.meta, error, []);
  }
  const { params, overlaid } = paramsAsOf(candidate.doc, stored, overlays);
  acc.overlaid(overlaid);
  return candidate.run(ctx, {
    params,
    overlaid,
    models: input.models,
    ...(stored.subjectKey ? { subjectKey: stored.subjectKey } : {}),
  });
}

/**
 * The inputs the candidate declares that a stored decision lacks while its deciding version did not declare them:
 * the record cannot say what the candidate would have been handed (MissingFacts). An input the deciding version
 * declared and the record lacks was absent for that decision, as it would be for the candidate: replayed as absent.
 * A decision whose deciding version is unknown is judged as if that version declared nothing.
 */
function missingInputs(input: SimulationInput): (stored: StoredDecision) => string[] {
  const wanted = input.candidate.doc.inputs.map((i) => i.name);
  const live = input.live;
  const liveInputs = live === undefined ? undefined : new Set(live.inputs.map((i) => i.name));
  return (stored) => {
    const context = stored.context as Readonly<Record<string, unknown>>;
    let decidedWith = input.decidingInputs?.(stored.strategyVersion);
    if (decidedWith === undefined && live?.version === stored.strategyVersion) decidedWith = liveInputs;
    return wanted.filter(
      (name) =>
        (!Object.hasOwn(context, name) || context[name] === undefined) && decidedWith?.has(name) !== true,
    );
  };
}

/**
 * The candidate's parameters as they would have been when the decision was made: an overlay in force then keeps its
 * value; every other parameter is the candidate's own default (never the old version's default from the trace).
 */
function paramsAsOf(
  doc: StrategyDocument,
  stored: StoredDecision,
  overlays: OverlayTimeline,
): { params: Record<string, Value>; overlaid: string[] } {
  const step = stored.decision.trace.find((s) => s.node === '$params');
  const recorded = (step?.values ?? {}) as Record<string, Value>;
  // No prototype, as EngineService's: a parameter named like one of Object.prototype's is an own value.
  const params = Object.create(null) as Record<string, Value>;
  const overlaid: string[] = [];
  for (const [name, decl] of Object.entries(doc.params ?? {})) {
    const value = overlayAsOf(name, stored, { step, recorded, overlays });
    if (value !== undefined) overlaid.push(name);
    params[name] = value ?? decl.default;
  }
  return { params, overlaid: overlaid.sort() };
}

/**
 * The overlay value of `name` in force at the decision. Exact for the parameters the deciding version declared: its
 * trace names which were overlays. Otherwise (a parameter only the candidate declares, or a decision recorded before
 * traces named overlays) the overlay history says what was in force at that instant.
 */
function overlayAsOf(
  name: string,
  stored: StoredDecision,
  seen: {
    step: Decision['trace'][number] | undefined;
    recorded: Record<string, Value>;
    overlays: OverlayTimeline;
  },
): Value | undefined {
  const recorded = Object.hasOwn(seen.recorded, name) ? seen.recorded[name] : undefined;
  if (seen.step?.overlays !== undefined && recorded !== undefined)
    return seen.step.overlays.includes(name) ? recorded : undefined;
  const historical = seen.overlays.asOf(name, stored.decidedAt);
  if (historical === undefined) return undefined;
  return recorded ?? historical;
}

/** Every overlay change, to answer "which value was in force at t" (changes at or before t count). */
class OverlayTimeline {
  private readonly byName = new Map<string, OverlayChange[]>();

  constructor(changes: readonly OverlayChange[]) {
    for (const change of changes) {
      let list = this.byName.get(change.name);
      if (list === undefined) {
        list = [];
        this.byName.set(change.name, list);
      }
      list.push(change);
    }
  }

  asOf(name: string, at: number): ParamValue | undefined {
    let value: ParamValue | undefined;
    for (const change of this.byName.get(name) ?? []) {
      if (change.changedAt > at) break;
      value = change.value;
    }
    return value !== undefined && overlayApplies(name, value) ? value : undefined;
  }
}

function parameterDiff(
  live: StrategyDocument | undefined,
  candidate: StrategyDocument,
): Omit<ParameterChange, 'overlaidReplays'>[] {
  const before = live?.params ?? {};
  const after = candidate.params ?? {};
  const names = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
  return names
    .map((name) => ({ name, before: before[name]?.default ?? null, after: after[name]?.default ?? null }))
    .filter((c) => c.before !== c.after);
}

function frozen(d: Decision): boolean {
  return d.actions.some((a) => FREEZE_ACTIONS.has(a.type));
}

/** What a decision came to: its outcome, reasons, limit and actions (the strategy's, or the final answer's). */
interface Answer {
  readonly outcome: Outcome;
  readonly reasons: readonly string[];
  readonly limitMinor: number | null;
  readonly frozen: boolean;
}

function strategyAnswer(d: Decision): Answer {
  return { outcome: d.outcome, reasons: d.reasons, limitMinor: d.limitMinor ?? null, frozen: frozen(d) };
}

function differs(a: Answer, b: Answer): boolean {
  return a.outcome !== b.outcome || a.limitMinor !== b.limitMinor;
}

/** One set of before/after figures over the replays. */
class Figures {
  changed = 0;
  private approvedBefore = 0;
  private approvedAfter = 0;
  private frozenBefore = 0;
  private frozenAfter = 0;
  private limitBefore = 0;
  private limitAfter = 0;
  private readonly matrix = emptyMatrix();
  private readonly reasons = new Map<string, { before: number; after: number }>();
  private readonly newlyDeclined: AffectedSubject[] = [];
  private readonly newlyFrozen: AffectedSubject[] = [];

  constructor(private readonly push: (list: AffectedSubject[], subject: AffectedSubject) => void) {}

  add(stored: StoredDecision, before: Answer, after: Answer): void {
    this.matrix[before.outcome][after.outcome]++;
    if (before.outcome !== after.outcome) this.changed++;
    if (before.outcome === 'APPROVE') this.approvedBefore++;
    if (after.outcome === 'APPROVE') this.approvedAfter++;
    if (before.frozen) this.frozenBefore++;
    if (after.frozen) this.frozenAfter++;
    this.limitBefore += before.limitMinor ?? 0;
    this.limitAfter += after.limitMinor ?? 0;
    for (const code of before.reasons) this.reason(code).before++;
    for (const code of after.reasons) this.reason(code).after++;
    const subject = (): AffectedSubject => ({
      decisionId: stored.id,
      borrowerId: stored.borrowerId ?? null,
      lineId: stored.lineId ?? null,
      before: before.outcome,
      after: after.outcome,
      reasonsAfter: [...after.reasons],
    });
    if (after.outcome === 'DECLINE' && before.outcome !== 'DECLINE') this.push(this.newlyDeclined, subject());
    if (after.frozen && !before.frozen) this.push(this.newlyFrozen, subject());
  }

  private reason(code: string): { before: number; after: number } {
    let entry = this.reasons.get(code);
    if (!entry) {
      entry = { before: 0, after: 0 };
      this.reasons.set(code, entry);
    }
    return entry;
  }

  report(count: number): SimulationFigures {
    const rate = (n: number): number => (count === 0 ? 0 : n / count);
    const shifts = [...this.reasons.entries()]
      .map(([code, c]) => ({ code, before: c.before, after: c.after, delta: c.after - c.before }))
      .filter((s) => s.delta !== 0)
      .sort((a, b) => Math.abs(b.delta) - Math.abs(a.delta) || a.code.localeCompare(b.code));
    return {
      changed: this.changed,
      outcomeMatrix: this.matrix,
      approvalRate: { before: rate(this.approvedBefore), after: rate(this.approvedAfter) },
      freezeRate: { before: rate(this.frozenBefore), after: rate(this.frozenAfter) },
      limitTotalMinor: { before: this.limitBefore, after: this.limitAfter },
      reasonShifts: shifts,
      newlyDeclined: this.newlyDeclined,
      newlyFrozen: this.newlyFrozen,
    };
  }
}

class Accumulator {
  count = 0;
  contextErrors = 0;
  private errorsBefore = 0;
  private errorsAfter = 0;
  private truncated = false;
  private readonly strategy = new Figures((list, subject) => this.push(list, subject));
  private readonly final = new Figures((list, subject) => this.push(list, subject));
  private readonly core = { before: 0, after: 0, notReplayable: 0, unrecorded: 0 };

  private readonly overlaidCount = new Map<string, number>();
  private unreadableCount = 0;
  private readonly unreadableIds: string[] = [];
  private missingCount = 0;
  private readonly missingInputs = new Map<string, number>();
  private readonly missingIds: string[] = [];

  constructor(
    private readonly subjectsMax: number,
    private readonly parameterChanges: readonly Omit<ParameterChange, 'overlaidReplays'>[],
  ) {}

  overlaid(names: readonly string[]): void {
    for (const name of names) this.overlaidCount.set(name, (this.overlaidCount.get(name) ?? 0) + 1);
  }

  /** A decision of the period that cannot be read, so not replayed: counted and named, never dropped unseen. */
  unreadable(row: UnreadableDecision): void {
    this.unreadableCount++;
    if (this.unreadableIds.length < this.subjectsMax) this.unreadableIds.push(row.id);
    else this.truncated = true;
  }

  /** A decision lacking inputs the candidate reads: counted, named, and in none of the figures (MissingFacts). */
  missing(stored: StoredDecision, inputs: readonly string[]): void {
    this.missingCount++;
    for (const name of inputs) this.missingInputs.set(name, (this.missingInputs.get(name) ?? 0) + 1);
    if (this.missingIds.length < this.subjectsMax) this.missingIds.push(stored.id);
    else this.truncated = true;
  }

  add(stored: StoredDecision, after: Decision): void {
    const before = stored.decision;
    this.count++;
    if (before.engineError) this.errorsBefore++;
    if (after.engineError) this.errorsAfter++;
    const strategyBefore = strategyAnswer(before);
    const strategyAfter = strategyAnswer(after);
    this.strategy.add(stored, strategyBefore, strategyAfter);
    const rules = stored.coreRules;
    if (rules === undefined) {
      this.final.add(stored, strategyBefore, strategyAfter);
      return;
    }
    if (stored.coreRulesInferred) this.core.unrecorded++;
    const finalBefore: Answer = { ...rules.final, frozen: strategyBefore.frozen };
    const replayed = replayCoreRules(stored.kind, after, rules);
    if (!replayed.replayable) this.core.notReplayable++;
    const finalAfter: Answer = { ...replayed, frozen: strategyAfter.frozen };
    if (differs(strategyBefore, finalBefore)) this.core.before++;
    if (differs(strategyAfter, finalAfter)) this.core.after++;
    this.final.add(stored, finalBefore, finalAfter);
  }

  private push(list: AffectedSubject[], subject: AffectedSubject): void {
    if (list.length < this.subjectsMax) list.push(subject);
    else this.truncated = true;
  }

  report(input: SimulationInput): SimulationReport {
    return {
      strategyId: input.candidate.meta.id,
      candidateVersion: input.candidateVersion ?? null,
      from: input.from,
      to: input.to,
      decisions: this.count,
      contextErrors: this.contextErrors,
      missingFacts: {
        count: this.missingCount,
        inputs: Object.fromEntries([...this.missingInputs].sort(([a], [b]) => a.localeCompare(b))),
        decisionIds: [...this.missingIds],
        handling: 'excluded',
      },
      engineErrors: { before: this.errorsBefore, after: this.errorsAfter },
      ...this.final.report(this.count),
      strategy: this.strategy.report(this.count),
      coreRules: { ...this.core },
      parameterChanges: this.parameterChanges.map((c) => ({
        ...c,
        overlaidReplays: this.overlaidCount.get(c.name) ?? 0,
      })),
      unreadable: { count: this.unreadableCount, decisionIds: [...this.unreadableIds] },
      truncated: this.truncated,
    };
  }
}

function emptyMatrix(): Record<Outcome, Record<Outcome, number>> {
  const row = (): Record<Outcome, number> =>
    Object.fromEntries(OUTCOMES.map((o) => [o, 0])) as Record<Outcome, number>;
  return Object.fromEntries(OUTCOMES.map((o) => [o, row()])) as Record<Outcome, Record<Outcome, number>>;
}
