import type { Decision, DecisionContext, TraceStep } from '../domain/index.js';
import { matchCell, parseCell, type Cell } from './cells.js';
import {
  compileEffectMeta,
  CompiledRun,
  dedupeCodes,
  inputsFromSlots,
  type CompiledEffect,
  type TraceBuilder,
} from './compiled-run.js';
import { compileContextValidator, reportingValidator, type ContextValidator } from './context.js';
import { KeyIndex } from './key-index.js';
import { EngineEvaluationError } from './errors.js';
import { collectNames, type Value } from './expr/ast.js';
import {
  checkConjunction,
  compileExpr,
  simpleConjunction,
  type SlotLayout,
  type SlotState,
  type SlotTest,
} from './expr/compile.js';
import { truth } from './expr/ops.js';
import { parseExpression } from './expr/parser.js';
import type { NameTable } from './expr/scope.js';
import {
  aggregate,
  failClosedDecision,
  limitFrom,
  rateFrom,
  MAX_FLOW_STEPS,
  modelReasonCodes,
  paramsStep,
  pickArm,
  resolveModel,
  strategyMeta,
  type RunEnv,
  type StrategyMeta,
} from './runtime.js';
import type {
  AssignNode,
  DecisionTableNode,
  Effect,
  ModelNode,
  NodeDoc,
  OutputSource,
  RuleSetNode,
  ScoreBand,
  ScorecardNode,
  StrategyDocument,
} from './types.js';
import { nameTable, validateStrategy } from './validate.js';

/** A strategy version turned into closures, ready to decide. */
export interface CompiledStrategy {
  readonly doc: StrategyDocument;
  readonly meta: StrategyMeta;
  readonly names: NameTable;
  readonly validateContext: ContextValidator;
  /** validateContext without the required inputs: checks the values a partial context gives (see reportingValidator). */
  readonly checkGiven: ContextValidator;
  /**
   * Runs the flow on an already validated context; any evaluation error fails closed. The decision's trace is
   * recorded compactly during the run and built into TraceStep objects on first read of `decision.trace`.
   */
  run(ctx: DecisionContext, env: RunEnv): Decision;
}

type SlotExpr = (s: SlotState) => Value;
type NodeFn = (run: CompiledRun, env: RunEnv) => number;
type EffectFn = (run: CompiledRun) => void;

/** A node's "inputs read" for the trace: names in first-read order and their slots. */
interface InputsRead {
  readonly names: readonly string[];
  readonly slots: readonly number[];
}

export function compileStrategy(input: StrategyDocument | unknown): CompiledStrategy {
  // What a document needs to run: a version stored before an authoring rule was added still compiles (the engine
  // validates new versions fully when they are saved, simulated or activated: EngineService).
  const doc = validateStrategy(input, { authoring: false });
  const names = nameTable(doc);
  const meta = strategyMeta(doc);
  const index = new Map(doc.nodes.map((n, i) => [n.id, i]));
  const layout = slotLayout(doc, names);
  const slotIndex = new KeyIndex(layout.inputs);
  const slotCount = layout.inputs.size;
  const paramNames = [...layout.params.keys()];
  const c = new NodeCompiler(names, index, doc.nodes.length, meta, layout);
  const fns = doc.nodes.map((node, i) => c.node(node, i));
  const paramsBuilder: TraceBuilder = {
    build: (_run, a, b) => paramsStep(a as RunEnv['params'], b as RunEnv['overlaid']) as TraceStep,
  };
  return {
    doc,
    meta,
    names,
    validateContext: compileContextValidator(doc.inputs),
    checkGiven: reportingValidator(doc.inputs, { requireAll: false }),
    run(ctx, env) {
      const params = env.params;
      // One snapshot per decision of the inputs the expressions read; the trace shows these values, as decided on.
      const slots = new Array<Value>(slotCount).fill(null);
      let p = 0;
      for (const key in ctx) {
        const k = slotIndex.indexAt(p++, key);
        if (k >= 0) {
          const v = ctx[key];
          if (v !== undefined) slots[k] = v as Value;
        }
      }
      const paramSlots = new Array<Value | undefined>(paramNames.length);
      for (let k = 0; k < paramNames.length; k++) paramSlots[k] = params[paramNames[k] as string];
      const run = new CompiledRun(meta, ctx, params, slots, paramSlots);
      try {
        if (hasAnyKey(params)) run.record(paramsBuilder, params, env.overlaid, undefined);
        let i = 0;
        for (let steps = 0; i >= 0 && !run.stopped; steps++) {
          if (steps >= MAX_FLOW_STEPS) throw new EngineEvaluationError('flow exceeded the step limit');
          i = (fns[i] as NodeFn)(run, env);
        }
        return run.finish();
      } catch (error) {
        return failClosedDecision(meta, error, run.materialise());
      }
    },
  };
}

function hasAnyKey(record: object): boolean {
  for (const key in record) if (Object.prototype.hasOwnProperty.call(record, key)) return true;
  return false;
}

/** Slots for every declared input and overlay parameter some expression of the strategy reads, in document order. */
function slotLayout(doc: StrategyDocument, names: NameTable): SlotLayout {
  const idents = new Set<string>();
  const params = new Set<string>();
  for (const node of doc.nodes)
    for (const source of expressionsOf(node)) collectNames(parseExpression(source), idents, params);
  const inputs = new Map<string, number>();
  for (const decl of doc.inputs)
    if (idents.has(decl.name) && names.inputs.has(decl.name)) inputs.set(decl.name, inputs.size);
  const paramSlots = new Map<string, number>();
  for (const name of params) paramSlots.set(name, paramSlots.size);
  return { inputs, params: paramSlots };
}

class NodeCompiler {
  constructor(
    private readonly names: NameTable,
    private readonly index: ReadonlyMap<string, number>,
    private readonly count: number,
    private readonly meta: StrategyMeta,
    private readonly layout: SlotLayout,
  ) {}

  node(node: NodeDoc, i: number): NodeFn {
    const next = this.target(node.next, i);
    const inputs = this.inputsRead(node);
    const id = node.id;
    switch (node.type) {
      case 'ruleSet':
        return this.ruleSet(node, next, inputs);
      case 'decisionTable':
        return this.table(node, next, inputs);
      case 'scorecard':
        return node.modelRef ? this.model(node, next) : this.scorecard(node, next, inputs);
      case 'model':
        return this.model(node, next);
      case 'assign':
        return this.assign(node, next, inputs);
      case 'branch': {
        const branches = node.branches.map((b) => ({
          when: this.expr(b.when),
          to: this.target(b.next, i),
          label: b.next,
        }));
        const otherwise = this.target(node.otherwise, i);
        const builder: TraceBuilder = {
          build: (run, a) => {
            const taken = a as number;
            const detail =
              taken < 0
                ? `otherwise -> ${node.otherwise}`
                : `-> ${(branches[taken] as (typeof branches)[number]).label}`;
            return {
              node: id,
              kind: 'branch',
              detail,
              inputs: inputsFromSlots(run.slots, inputs.names, inputs.slots),
            };
          },
        };
        return (run) => {
          for (let k = 0; k < branches.length; k++) {
            const b = branches[k] as (typeof branches)[number];
            if (truth(b.when(run), 0)) {
              run.record(builder, k, undefined, undefined);
              return b.to;
            }
          }
          run.record(builder, -1, undefined, undefined);
          return otherwise;
        };
      }
      case 'split': {
        const arms = node.arms.map((a) => ({ ...a, to: this.target(a.next, i) }));
        const output = node.output ?? `${node.id}Arm`;
        return (run, env) => {
          const arm = pickArm(arms, env.subjectKey, this.meta.id);
          run.values[output] = arm.name;
          const why = env.subjectKey === undefined ? ' (no subject key: first arm)' : '';
          run.recordEager({ node: id, kind: 'split', detail: `arm ${arm.name}${why} -> ${arm.next}` });
          return arm.to;
        };
      }
      case 'shadow':
        return (run, env) => {
          const result = env.shadow?.(node.strategy, run.ctx, env.subjectKey);
          if (result) run.addShadow(result);
          run.recordEager({
            node: id,
            kind: 'shadow',
            detail: result ? `shadow ${node.strategy}: ${result.outcome}` : `shadow ${node.strategy} not run`,
          });
          return next;
        };
    }
  }

  private target(name: string | undefined, i: number): number {
    if (name === undefined) return i + 1 < this.count ? i + 1 : -1;
    if (name === 'end') return -1;
    return this.index.get(name) as number;
  }

  private expr(source: string): SlotExpr {
    return compileExpr(parseExpression(source), this.names, this.layout);
  }

  /** Declared inputs a node's expressions read, listed in the trace with their values. */
  private inputsRead(node: NodeDoc): InputsRead {
    const idents = new Set<string>();
    const params = new Set<string>();
    for (const source of expressionsOf(node)) collectNames(parseExpression(source), idents, params);
    const names = [...idents].filter((n) => this.names.inputs.has(n));
    return { names, slots: names.map((n) => this.layout.inputs.get(n) as number) };
  }

  private effect(effect: Effect): { meta: CompiledEffect; apply: EffectFn } {
    const amounts = (effect.actions ?? []).map((a) => ({
      ...(a.limit ? { limit: this.expr(a.limit) } : {}),
      ...(a.rate ? { rate: this.expr(a.rate) } : {}),
    }));
    const computedAmounts = amounts.some((a) => a.limit || a.rate);
    const meta = compileEffectMeta(effect, this.meta, computedAmounts ? amounts : undefined);
    if (!computedAmounts) return { meta, apply: (run) => run.apply(meta) };
    return {
      meta,
      apply: (run) => {
        const computed = amounts.map((a) => ({
          ...(a.limit ? { limitMinor: limitFrom(a.limit(run)) } : {}),
          ...(a.rate ? { annualRate: rateFrom(a.rate(run)) } : {}),
        }));
        run.apply(meta, computed);
      },
    };
  }

  private ruleSet(node: RuleSetNode, next: number, inputs: InputsRead): NodeFn {
    const rules = node.rules.map((r): CompiledRule => {
      const { meta, apply } = this.effect(r);
      const tests: SlotTest[] | undefined = simpleConjunction(parseExpression(r.when), this.layout);
      return { id: r.id, when: this.expr(r.when), tests, apply, meta, points: r.points ?? 0 };
    });
    const parts: RuleSetParts = { id: node.id, rules, firedIds: firedIdsOf(rules), inputs, next };
    if (node.mode === 'score-sum') {
      const bands = [...(node.bands ?? [])]
        .sort((a, b) => b.min - a.min)
        .map((b): CompiledBand => ({ band: b, ...this.effect(b) }));
      return scoreSumRuleSet(parts, node.output as string, bands);
    }
    return matchingRuleSet(parts, node.mode === 'first-hit');
  }

  private outputs(then: readonly OutputSource[] | undefined): SlotExpr[] | undefined {
    return then?.map((o) => {
      if (o !== null && typeof o === 'object') return this.expr(o.expr);
      return () => o;
    });
  }

  private table(node: DecisionTableNode, next: number, inputs: InputsRead): NodeFn {
    const columns = node.inputs.map((source) => this.expr(source));
    const outputs = node.outputs ?? [];
    const rows = node.rows.map((row, j) => ({
      id: row.id ?? `row${j + 1}`,
      cells: row.when.map(parseCell),
      then: this.outputs(row.then),
      apply: this.effect(row).apply,
    }));
    const fallback = node.default
      ? { then: this.outputs(node.default.then), apply: this.effect(node.default).apply }
      : undefined;
    const policy = node.hitPolicy;
    const agg = node.aggregate ?? 'list';
    const id = node.id;
    // Column values of the current decision. Safe to share: column expressions are pure and call nothing that could
    // re-enter this strategy before the row scan that reads them is over.
    const values = new Array<Value>(columns.length);
    const builder: TraceBuilder = {
      build: (run, a, b, c) => {
        const from = a as number;
        const to = b as number;
        const fired = new Array<string>(to - from);
        for (let k = from; k < to; k++)
          fired[k - from] = (rows[run.fired[k] as number] as (typeof rows)[number]).id;
        const label =
          fired.length > 0
            ? `matched ${fired.join(', ')}`
            : fallback
              ? 'no row matched: default'
              : 'no row matched';
        return {
          node: id,
          kind: 'decisionTable',
          detail: label,
          fired,
          inputs: inputsFromSlots(run.slots, inputs.names, inputs.slots),
          values: (c as Record<string, unknown> | undefined) ?? {},
        };
      },
    };
    return (run) => {
      for (let k = 0; k < columns.length; k++) values[k] = (columns[k] as SlotExpr)(run);
      const from = run.fired.length;
      for (let k = 0; k < rows.length; k++) {
        if (rowMatches((rows[k] as (typeof rows)[number]).cells, values)) {
          run.fired.push(k);
          if (policy === 'first') break;
        }
      }
      const to = run.fired.length;
      if (policy === 'unique' && to - from > 1) {
        const ids = run.fired.slice(from, to).map((k) => (rows[k] as (typeof rows)[number]).id);
        throw new EngineEvaluationError(`decision table '${id}' (unique) matched rows ${ids.join(', ')}`);
      }
      if (policy === 'collect') {
        for (let o = 0; o < outputs.length; o++) {
          const column: Value[] = [];
          for (let k = from; k < to; k++)
            column.push((rows[run.fired[k] as number] as (typeof rows)[number]).then?.[o]?.(run) ?? null);
          run.values[outputs[o] as string] = aggregate(agg, column);
        }
        for (let k = from; k < to; k++) (rows[run.fired[k] as number] as (typeof rows)[number]).apply(run);
      } else {
        const hit = to > from ? rows[run.fired[from] as number] : fallback;
        for (let o = 0; o < outputs.length; o++)
          run.values[outputs[o] as string] = hit?.then?.[o]?.(run) ?? null;
        hit?.apply(run);
      }
      run.record(builder, from, to, outputs.length === 0 ? undefined : pick(run.values, outputs));
      return next;
    };
  }

  private scorecard(node: ScorecardNode, next: number, inputs: InputsRead): NodeFn {
    const features = (node.features ?? []).map((f) => ({
      value: this.expr(f.input ?? f.name),
      bins: f.bins.map((b) => ({ cell: parseCell(b.when), points: b.points })),
      best: Math.max(...f.bins.map((b) => b.points)),
      reason: f.reason,
      name: f.name,
    }));
    const base = node.base ?? 0;
    const count = node.reasonCount ?? 4;
    const { output, id } = node;
    // Points lost per characteristic and the loss ranking, reused across decisions: nothing inside the loop calls out.
    const lost = new Float64Array(features.length);
    const order = new Int32Array(features.length);
    const builder: TraceBuilder = {
      build: (run, a, b) => ({
        node: id,
        kind: 'scorecard',
        detail: `score ${a as number}`,
        inputs: inputsFromSlots(run.slots, inputs.names, inputs.slots),
        values: { [output]: a, reasons: b },
      }),
    };
    return (run) => {
      let total = base;
      for (let k = 0; k < features.length; k++) {
        const f = features[k] as (typeof features)[number];
        const value = f.value(run);
        let points: number | undefined;
        for (let q = 0; q < f.bins.length; q++) {
          const bin = f.bins[q] as (typeof f.bins)[number];
          if (matchCell(bin.cell, value)) {
            points = bin.points;
            break;
          }
        }
        if (points === undefined)
          throw new EngineEvaluationError(
            `scorecard '${id}': no bin of '${f.name}' holds ${JSON.stringify(value)}`,
          );
        total += points;
        lost[k] = f.best - points;
      }
      run.values[output] = total;
      const reasons = rankedLossReasons(features, lost, order, count);
      run.setScoreReasons(output, reasons);
      run.record(builder, total, reasons, undefined);
      return next;
    };
  }

  private model(node: ScorecardNode | ModelNode, next: number): NodeFn {
    const ref = node.modelRef as { id: string; version?: number };
    const mapped = Object.entries(node.modelInputs ?? {}).map(
      ([feature, source]) => [feature, this.expr(source)] as const,
    );
    const mappedNames = new Set(mapped.map(([f]) => f));
    const count = node.reasonCount ?? 4;
    const { output, pdOutput, id } = node;
    return (run, env) => {
      const model = resolveModel(env.models, ref.id, ref.version);
      const input: Record<string, unknown> = {};
      for (const [feature, fn] of mapped) input[feature] = fn(run);
      for (const feature of model.features) {
        if (mappedNames.has(feature)) continue;
        input[feature] = this.names.inputs.has(feature)
          ? (run.ctx[feature] ?? null)
          : (run.values[feature] ?? null);
      }
      const result = model.score(input);
      if (!Number.isFinite(result.score) || !Number.isFinite(result.pd))
        throw new EngineEvaluationError(`model '${ref.id}' returned a non-finite score`);
      run.values[output] = result.score;
      if (pdOutput) run.values[pdOutput] = result.pd;
      const reasons = modelReasonCodes(result.reasons, count);
      run.setScoreReasons(output, reasons);
      run.recordEager({
        node: id,
        kind: node.type,
        detail: `model ${model.id} v${model.version}: score ${result.score}`,
        inputs: input,
        values: { [output]: result.score, pd: result.pd, reasons },
      });
      return next;
    };
  }

  private assign(node: AssignNode, next: number, inputs: InputsRead): NodeFn {
    const matrices = (node.matrices ?? []).map((m) => ({
      output: m.output,
      row: this.expr(m.row),
      col: this.expr(m.col),
      rowBins: m.rowBins.map(parseCell),
      colBins: m.colBins.map(parseCell),
      cells: m.cells,
    }));
    const values = Object.entries(node.values ?? {}).map(([name, source]) => ({
      name,
      fn: this.expr(source),
    }));
    const limit = node.limit ? this.expr(node.limit) : undefined;
    const rate = node.rate ? this.expr(node.rate) : undefined;
    const written = [...matrices.map((m) => m.output), ...values.map((v) => v.name)];
    const id = node.id;
    const builder: TraceBuilder = {
      build: (run, a) => {
        const shown = a as Record<string, unknown>;
        return {
          node: id,
          kind: 'assign',
          detail: `assigned ${Object.keys(shown).join(', ')}`,
          inputs: inputsFromSlots(run.slots, inputs.names, inputs.slots),
          values: shown,
        };
      },
    };
    return (run) => {
      for (const m of matrices) {
        const r = binIndex(m.rowBins, m.row(run), `${id}.${m.output} row`);
        const c = binIndex(m.colBins, m.col(run), `${id}.${m.output} column`);
        run.values[m.output] = m.cells[r]?.[c] as Value;
      }
      for (const v of values) run.values[v.name] = v.fn(run);
      if (limit) run.setLimit(limit(run));
      if (rate) run.setRate(rate(run));
      // The values as assigned here (a later node may overwrite them).
      const shown = pick(run.values, written);
      if (limit) shown.limitMinor = run.limitMinor;
      if (rate) shown.annualRate = run.annualRate;
      run.record(builder, shown, undefined, undefined);
      return next;
    };
  }
}

/**
 * Inline scorecard reasons, as scorecardReasonCodes (runtime.ts) computes them: characteristics that lost points
 * against their best bin, largest loss first (stable), de-duplicated, at most `count` (Reg B "key factors").
 */
function rankedLossReasons(
  features: readonly { reason: string }[],
  lost: Float64Array,
  order: Int32Array,
  count: number,
): string[] {
  let n = 0;
  for (let k = 0; k < lost.length; k++) {
    if ((lost[k] as number) > 0) {
      // Insertion sort by loss, descending; equal losses keep characteristic order.
      let p = n++;
      while (p > 0 && (lost[order[p - 1] as number] as number) < (lost[k] as number)) {
        order[p] = order[p - 1] as number;
        p--;
      }
      order[p] = k;
    }
  }
  const codes: string[] = [];
  for (let p = 0; p < n; p++) codes.push((features[order[p] as number] as { reason: string }).reason);
  const out = dedupeCodes(codes);
  return out.length > count ? out.slice(0, count) : out;
}

function rowMatches(cells: readonly Cell[], values: readonly Value[]): boolean {
  for (let k = 0; k < cells.length; k++) if (!matchCell(cells[k] as Cell, values[k] as Value)) return false;
  return true;
}

export function binIndex(bins: readonly Cell[], value: Value, what: string): number {
  for (let k = 0; k < bins.length; k++) if (matchCell(bins[k] as Cell, value)) return k;
  throw new EngineEvaluationError(`${what}: no bin holds ${JSON.stringify(value)}`);
}

function pick(values: Record<string, Value>, names: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const name of names) out[name] = values[name];
  return out;
}

/** Every expression source in a node (for the trace's "inputs read"). */
export function expressionsOf(node: NodeDoc): string[] {
  const effectExprs = (e: Effect): string[] =>
    (e.actions ?? []).flatMap((a) => [a.limit, a.rate].filter((x): x is string => !!x));
  const outputExprs = (then: readonly OutputSource[] | undefined): string[] =>
    (then ?? []).flatMap((o) => (o !== null && typeof o === 'object' ? [o.expr] : []));
  switch (node.type) {
    case 'ruleSet':
      return node.rules.flatMap((r) => [r.when, ...effectExprs(r)]);
    case 'decisionTable':
      return [
        ...node.inputs,
        ...node.rows.flatMap((r) => [...outputExprs(r.then), ...effectExprs(r)]),
        ...outputExprs(node.default?.then),
      ];
    case 'scorecard':
      return [
        ...(node.features ?? []).map((f) => f.input ?? f.name),
        ...Object.values(node.modelInputs ?? {}),
      ];
    case 'model':
      return Object.values(node.modelInputs ?? {});
    case 'assign':
      return [
        ...(node.matrices ?? []).flatMap((m) => [m.row, m.col]),
        ...Object.values(node.values ?? {}),
        ...(node.limit ? [node.limit] : []),
        ...(node.rate ? [node.rate] : []),
      ];
    case 'branch':
      return node.branches.map((b) => b.when);
    default:
      return [];
  }
}

interface CompiledRule {
  readonly id: string;
  readonly when: SlotExpr;
  readonly tests: SlotTest[] | undefined;
  readonly apply: EffectFn;
  readonly meta: CompiledEffect;
  readonly points: number;
}

interface CompiledBand {
  readonly band: ScoreBand;
  readonly meta: CompiledEffect;
  readonly apply: EffectFn;
}

/** A rule set's compiled rules and what its trace needs, shared by the score-sum and matching forms. */
interface RuleSetParts {
  readonly id: string;
  readonly rules: readonly CompiledRule[];
  readonly firedIds: (run: CompiledRun, from: number, to: number) => string[];
  readonly inputs: InputsRead;
  readonly next: number;
}

const holds = (r: CompiledRule, run: CompiledRun): boolean =>
  r.tests === undefined ? truth(r.when(run), 0) : checkConjunction(r.tests, run.slots);

/** The ids of the rules fired between two marks of run.fired (which holds rule indexes), for the trace. */
function firedIdsOf(
  rules: readonly CompiledRule[],
): (run: CompiledRun, from: number, to: number) => string[] {
  const ruleIds = rules.map((r) => r.id);
  return (run, from, to) => {
    const out = new Array<string>(to - from);
    for (let k = from; k < to; k++) out[k - from] = ruleIds[run.fired[k] as number] as string;
    return out;
  };
}

/** score-sum: every rule that holds adds its points; the highest band the total reaches applies its effect. */
function scoreSumRuleSet(parts: RuleSetParts, output: string, bands: readonly CompiledBand[]): NodeFn {
  const { id, rules, firedIds, inputs, next } = parts;
  const builder: TraceBuilder = {
    build: (run, a, b, c) => {
      const { total, hit } = c as { total: number; hit: number };
      const band = hit < 0 ? undefined : bands[hit];
      return {
        node: id,
        kind: 'ruleSet',
        detail: `score-sum ${total}${band ? ` band >= ${band.band.min}` : ''}`,
        fired: firedIds(run, a as number, b as number),
        inputs: inputsFromSlots(run.slots, inputs.names, inputs.slots),
        values: { [output]: total },
      };
    },
  };
  return (run) => {
    let total = 0;
    const from = run.fired.length;
    const cited: string[] = [];
    for (let k = 0; k < rules.length; k++) {
      const r = rules[k] as CompiledRule;
      if (holds(r, run)) {
        total += r.points;
        run.fired.push(k);
        const reasons = run.effectReasons(r.meta);
        for (let q = 0; q < reasons.length; q++) cited.push(reasons[q] as string);
      }
    }
    run.values[output] = total;
    let hit = -1;
    for (let k = 0; k < bands.length; k++) {
      if (total >= (bands[k] as CompiledBand).band.min) {
        hit = k;
        break;
      }
    }
    if (hit >= 0) {
      const band = bands[hit] as CompiledBand;
      band.apply(run);
      for (const code of cited) run.addReason(code, band.meta.rank);
    }
    run.record(builder, from, run.fired.length, { total, hit });
    return next;
  };
}

/** all or first-hit: each rule that holds applies its effect, stopping after the first under first-hit. */
function matchingRuleSet(parts: RuleSetParts, firstHit: boolean): NodeFn {
  const { id, rules, firedIds, inputs, next } = parts;
  const builder: TraceBuilder = {
    build: (run, a, b) => {
      const fired = firedIds(run, a as number, b as number);
      return {
        node: id,
        kind: 'ruleSet',
        detail: `${fired.length} rule(s) fired`,
        fired,
        inputs: inputsFromSlots(run.slots, inputs.names, inputs.slots),
      };
    },
  };
  return (run) => {
    const from = run.fired.length;
    for (let k = 0; k < rules.length; k++) {
      const r = rules[k] as CompiledRule;
      if (holds(r, run)) {
        run.fired.push(k);
        r.apply(run);
        if (firstHit) break;
      }
    }
    run.record(builder, from, run.fired.length, undefined);
    return next;
  };
}
