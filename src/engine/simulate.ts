import { OUTCOMES, type Decision, type Outcome } from '../domain/decision.js';
import type { ModelResolver } from '../domain/model.js';
import { isLgError } from '../domain/errors.js';
import type { Db } from '../store/db.js';
import type { CompiledStrategy } from './compiler.js';
import type { Value } from './expr/ast.js';
import { failClosedDecision } from './runtime.js';
import { decisionsForReplay, type StoredDecision } from './store.js';

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

export interface SimulationReport {
  readonly strategyId: string;
  readonly candidateVersion: number | null;
  readonly from: number;
  readonly to: number;
  readonly decisions: number;
  readonly changed: number;
  /** Replays whose stored context no longer fits the candidate's inputs (counted as REVIEW after). */
  readonly contextErrors: number;
  readonly engineErrors: { readonly before: number; readonly after: number };
  /** outcomeMatrix[before][after] = count. */
  readonly outcomeMatrix: Record<Outcome, Record<Outcome, number>>;
  readonly approvalRate: { readonly before: number; readonly after: number };
  readonly freezeRate: { readonly before: number; readonly after: number };
  readonly limitTotalMinor: { readonly before: number; readonly after: number };
  readonly reasonShifts: readonly { code: string; before: number; after: number; delta: number }[];
  readonly newlyDeclined: readonly AffectedSubject[];
  readonly newlyFrozen: readonly AffectedSubject[];
  /** True when the subject lists were cut at `subjectsMax`. */
  readonly truncated: boolean;
}

export interface SimulationInput {
  readonly db: Db;
  readonly candidate: CompiledStrategy;
  readonly models: ModelResolver;
  /** Current overlay values; used for a parameter the stored decision did not record. */
  readonly currentParams: Readonly<Record<string, Value>>;
  readonly from: number;
  readonly to: number;
  readonly subjectsMax?: number;
  readonly pageSize?: number;
}

/**
 * Replays the stored contexts of [from, to) through a candidate version — point in time: the inputs and overlay
 * parameters as they were when each decision was made — and reports the difference against what was decided.
 */
export async function simulateStrategy(input: SimulationInput): Promise<SimulationReport> {
  const acc = new Accumulator(input.subjectsMax ?? 1000);
  let after: { decidedAt: number; id: string } | undefined;
  for (;;) {
    const page = await decisionsForReplay(
      input.db,
      input.candidate.meta.id,
      input,
      after,
      input.pageSize ?? 1000,
    );
    for (const stored of page) acc.add(stored, replay(input, stored, acc));
    const last = page[page.length - 1];
    if (!last || page.length < (input.pageSize ?? 1000)) break;
    after = { decidedAt: last.decidedAt, id: last.id };
  }
  return acc.report(input);
}

function replay(input: SimulationInput, stored: StoredDecision, acc: Accumulator): Decision {
  const candidate = input.candidate;
  let ctx;
  try {
    ctx = candidate.validateContext(stored.context);
  } catch (error) {
    if (!isLgError(error)) throw error;
    acc.contextErrors++;
    return failClosedDecision(candidate.meta, error, []);
  }
  return candidate.run(ctx, {
    params: paramsAsOf(candidate, stored, input.currentParams),
    models: input.models,
    ...(stored.subjectKey ? { subjectKey: stored.subjectKey } : {}),
  });
}

/** The overlay values in force when the decision was made (recorded in its trace), else today's. */
function paramsAsOf(
  candidate: CompiledStrategy,
  stored: StoredDecision,
  current: Readonly<Record<string, Value>>,
): Record<string, Value> {
  const recorded = (stored.decision.trace.find((step) => step.node === '$params')?.values ?? {}) as Record<
    string,
    Value
  >;
  const out: Record<string, Value> = {};
  for (const name of candidate.names.params) {
    const value = recorded[name] ?? current[name];
    if (value !== undefined) out[name] = value;
  }
  return out;
}

function frozen(d: Decision): boolean {
  return d.actions.some((a) => FREEZE_ACTIONS.has(a.type));
}

class Accumulator {
  count = 0;
  changed = 0;
  contextErrors = 0;
  private errorsBefore = 0;
  private errorsAfter = 0;
  private approvedBefore = 0;
  private approvedAfter = 0;
  private frozenBefore = 0;
  private frozenAfter = 0;
  private limitBefore = 0;
  private limitAfter = 0;
  private truncated = false;
  private readonly matrix = emptyMatrix();
  private readonly reasons = new Map<string, { before: number; after: number }>();
  private readonly newlyDeclined: AffectedSubject[] = [];
  private readonly newlyFrozen: AffectedSubject[] = [];

  constructor(private readonly subjectsMax: number) {}

  add(stored: StoredDecision, after: Decision): void {
    const before = stored.decision;
    this.count++;
    this.matrix[before.outcome][after.outcome]++;
    if (before.outcome !== after.outcome) this.changed++;
    if (before.engineError) this.errorsBefore++;
    if (after.engineError) this.errorsAfter++;
    if (before.outcome === 'APPROVE') this.approvedBefore++;
    if (after.outcome === 'APPROVE') this.approvedAfter++;
    const frozeBefore = frozen(before);
    const frozeAfter = frozen(after);
    if (frozeBefore) this.frozenBefore++;
    if (frozeAfter) this.frozenAfter++;
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
      reasonsAfter: after.reasons,
    });
    if (after.outcome === 'DECLINE' && before.outcome !== 'DECLINE') this.push(this.newlyDeclined, subject());
    if (frozeAfter && !frozeBefore) this.push(this.newlyFrozen, subject());
  }

  private push(list: AffectedSubject[], subject: AffectedSubject): void {
    if (list.length < this.subjectsMax) list.push(subject);
    else this.truncated = true;
  }

  private reason(code: string): { before: number; after: number } {
    let entry = this.reasons.get(code);
    if (!entry) {
      entry = { before: 0, after: 0 };
      this.reasons.set(code, entry);
    }
    return entry;
  }

  report(input: SimulationInput): SimulationReport {
    const rate = (n: number): number => (this.count === 0 ? 0 : n / this.count);
    const shifts = [...this.reasons.entries()]
      .map(([code, c]) => ({ code, before: c.before, after: c.after, delta: c.after - c.before }))
      .filter((s) => s.delta !== 0)
      .sort((a, b) => Math.abs(b.delta) - Math.abs(a.delta) || a.code.localeCompare(b.code));
    return {
      strategyId: input.candidate.meta.id,
      candidateVersion: input.candidate.doc.version ?? null,
      from: input.from,
      to: input.to,
      decisions: this.count,
      changed: this.changed,
      contextErrors: this.contextErrors,
      engineErrors: { before: this.errorsBefore, after: this.errorsAfter },
      outcomeMatrix: this.matrix,
      approvalRate: { before: rate(this.approvedBefore), after: rate(this.approvedAfter) },
      freezeRate: { before: rate(this.frozenBefore), after: rate(this.frozenAfter) },
      limitTotalMinor: { before: this.limitBefore, after: this.limitAfter },
      reasonShifts: shifts,
      newlyDeclined: this.newlyDeclined,
      newlyFrozen: this.newlyFrozen,
      truncated: this.truncated,
    };
  }
}

function emptyMatrix(): Record<Outcome, Record<Outcome, number>> {
  const row = (): Record<Outcome, number> =>
    Object.fromEntries(OUTCOMES.map((o) => [o, 0])) as Record<Outcome, number>;
  return Object.fromEntries(OUTCOMES.map((o) => [o, row()])) as Record<Outcome, Record<Outcome, number>>;
}
