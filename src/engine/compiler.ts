import type { Decision, DecisionContext } from '../domain/decision.js';
import { matchCell, parseCell, type Cell } from './cells.js';
import { compileContextValidator, type ContextValidator } from './context.js';
import { EngineEvaluationError } from './errors.js';
import { collectNames, type Value } from './expr/ast.js';
import { compileExpr, type Compiled } from './expr/compile.js';
import { truth } from './expr/ops.js';
import { parseExpression } from './expr/parser.js';
import type { EvalState, NameTable } from './expr/scope.js';
import {
  aggregate,
  contextInputs,
  failClosedDecision,
  limitFrom,
  rateFrom,
  MAX_FLOW_STEPS,
  modelReasonCodes,
  paramsStep,
  pickArm,
  resolveModel,
  Run,
  scorecardReasonCodes,
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
  /** Runs the flow on an already validated context; any evaluation error fails closed. */
  run(ctx: DecisionContext, env: RunEnv): Decision;
}

type NodeFn = (run: Run, s: EvalState, env: RunEnv) => number;
type EffectFn = (run: Run, s: EvalState) => void;

export function compileStrategy(input: StrategyDocument | unknown): CompiledStrategy {
  const doc = validateStrategy(input);
  const names = nameTable(doc);
  const meta = strategyMeta(doc);
  const index = new Map(doc.nodes.map((n, i) => [n.id, i]));
  const c = new NodeCompiler(names, index, doc.nodes.length, meta);
  const fns = doc.nodes.map((node, i) => c.node(node, i));
  return {
    doc,
    meta,
    names,
    validateContext: compileContextValidator(doc.inputs),
    run(ctx, env) {
      const run = new Run(meta);
      try {
        const s: EvalState = { ctx, values: run.values, params: env.params };
        const step = paramsStep(env.params);
        if (step) run.trace.push(step);
        let i = 0;
        for (let steps = 0; i >= 0 && !run.stopped; steps++) {
          if (steps >= MAX_FLOW_STEPS) throw new EngineEvaluationError('flow exceeded the step limit');
          i = (fns[i] as NodeFn)(run, s, env);
        }
        return run.finish();
      } catch (error) {
        return failClosedDecision(meta, error, run.trace);
      }
    },
  };
}

class NodeCompiler {
  constructor(
    private readonly names: NameTable,
    private readonly index: ReadonlyMap<string, number>,
    private readonly count: number,
    private readonly meta: StrategyMeta,
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
        const branches = node.branches.map((b) => ({ when: this.expr(b.when), to: this.target(b.next, i), label: b.next }));
        const otherwise = this.target(node.otherwise, i);
        return (run, s) => {
          for (const b of branches) {
            if (truth(b.when(s), 0)) {
              run.trace.push({ node: id, kind: 'branch', detail: `-> ${b.label}`, inputs: contextInputs(s.ctx, inputs) });
              return b.to;
            }
          }
          run.trace.push({ node: id, kind: 'branch', detail: `otherwise -> ${node.otherwise}`, inputs: contextInputs(s.ctx, inputs) });
          return otherwise;
        };
      }
      case 'split': {
        const arms = node.arms.map((a) => ({ ...a, to: this.target(a.next, i) }));
        const output = node.output ?? `${node.id}Arm`;
        return (run, s, env) => {
          const arm = pickArm(arms, env.subjectKey, this.meta.id);
          run.values[output] = arm.name;
          const why = env.subjectKey === undefined ? ' (no subject key: first arm)' : '';
          run.trace.push({ node: id, kind: 'split', detail: `arm ${arm.name}${why} -> ${arm.next}` });
          return arm.to;
        };
      }
      case 'shadow':
        return (run, s, env) => {
          const result = env.shadow?.(node.strategy, s.ctx, env.subjectKey);
          if (result) run.shadows.push(result);
          run.trace.push({ node: id, kind: 'shadow', detail: result ? `shadow ${node.strategy}: ${result.outcome}` : `shadow ${node.strategy} not run` });
          return next;
        };
    }
  }

  private target(name: string | undefined, i: number): number {
    if (name === undefined) return i + 1 < this.count ? i + 1 : -1;
    if (name === 'end') return -1;
    return this.index.get(name) as number;
  }

  private expr(source: string): Compiled {
    return compileExpr(parseExpression(source), this.names);
  }

  /** Declared inputs a node's expressions read, listed in the trace with their values. */
  private inputsRead(node: NodeDoc): string[] {
    const idents = new Set<string>();
    const params = new Set<string>();
    for (const source of expressionsOf(node)) collectNames(parseExpression(source), idents, params);
    return [...idents].filter((n) => this.names.inputs.has(n));
  }

  private effect(effect: Effect): EffectFn {
    const amounts = (effect.actions ?? []).map((a) => ({
      limit: a.limit ? this.expr(a.limit) : undefined,
      rate: a.rate ? this.expr(a.rate) : undefined,
    }));
    if (amounts.every((a) => !a.limit && !a.rate)) return (run) => run.applyEffect(effect);
    return (run, s) => {
      const computed = amounts.map((a) => ({
        ...(a.limit ? { limitMinor: limitFrom(a.limit(s)) } : {}),
        ...(a.rate ? { annualRate: rateFrom(a.rate(s)) } : {}),
      }));
      run.applyEffect(effect, computed);
    };
  }

  private ruleSet(node: RuleSetNode, next: number, inputs: string[]): NodeFn {
    const rules = node.rules.map((r) => ({ id: r.id, when: this.expr(r.when), apply: this.effect(r), points: r.points ?? 0, rule: r }));
    const id = node.id;
    if (node.mode === 'score-sum') {
      const output = node.output as string;
      const bands = [...(node.bands ?? [])].sort((a, b) => b.min - a.min).map((b) => ({ band: b, apply: this.effect(b) }));
      return (run, s) => {
        let total = 0;
        const fired: string[] = [];
        const cited: string[] = [];
        for (const r of rules) {
          if (truth(r.when(s), 0)) {
            total += r.points;
            fired.push(r.id);
            cited.push(...run.effectReasons(r.rule));
          }
        }
        run.values[output] = total;
        const hit = bands.find((b) => total >= b.band.min);
        if (hit) {
          hit.apply(run, s);
          const rank = hit.band.outcome === undefined ? this.meta.rank.size : (this.meta.rank.get(hit.band.outcome) ?? this.meta.rank.size);
          for (const code of cited) run.addReason(code, rank);
        }
        run.trace.push({ node: id, kind: 'ruleSet', detail: `score-sum ${total}${hit ? ` band >= ${hit.band.min}` : ''}`, fired, inputs: contextInputs(s.ctx, inputs), values: { [output]: total } });
        return next;
      };
    }
    const firstHit = node.mode === 'first-hit';
    return (run, s) => {
      const fired: string[] = [];
      for (const r of rules) {
        if (truth(r.when(s), 0)) {
          fired.push(r.id);
          r.apply(run, s);
          if (firstHit) break;
        }
      }
      run.trace.push({ node: id, kind: 'ruleSet', detail: `${fired.length} rule(s) fired`, fired, inputs: contextInputs(s.ctx, inputs) });
      return next;
    };
  }

  private outputs(then: readonly OutputSource[] | undefined): ((s: EvalState) => Value)[] | undefined {
    return then?.map((o) => {
      if (o !== null && typeof o === 'object') return this.expr(o.expr);
      return () => o;
    });
  }

  private table(node: DecisionTableNode, next: number, inputs: string[]): NodeFn {
    const columns = node.inputs.map((source) => this.expr(source));
    const outputs = node.outputs ?? [];
    const rows = node.rows.map((row, j) => ({
      id: row.id ?? `row${j + 1}`,
      cells: row.when.map(parseCell),
      then: this.outputs(row.then),
      apply: this.effect(row),
    }));
    const fallback = node.default ? { then: this.outputs(node.default.then), apply: this.effect(node.default) } : undefined;
    const policy = node.hitPolicy;
    const agg = node.aggregate ?? 'list';
    const id = node.id;
    return (run, s) => {
      const values = columns.map((col) => col(s));
      const matched: typeof rows = [];
      for (const row of rows) {
        if (rowMatches(row.cells, values)) {
          matched.push(row);
          if (policy === 'first') break;
        }
      }
      if (policy === 'unique' && matched.length > 1) {
        throw new EngineEvaluationError(`decision table '${id}' (unique) matched rows ${matched.map((r) => r.id).join(', ')}`);
      }
      if (policy === 'collect') {
        outputs.forEach((name, k) => {
          run.values[name] = aggregate(agg, matched.map((row) => (row.then?.[k]?.(s) ?? null)));
        });
        for (const row of matched) row.apply(run, s);
      } else {
        const hit = matched[0] ?? fallback;
        outputs.forEach((name, k) => {
          run.values[name] = hit?.then?.[k]?.(s) ?? null;
        });
        hit?.apply(run, s);
      }
      const label = matched.length > 0 ? `matched ${matched.map((r) => r.id).join(', ')}` : fallback ? 'no row matched: default' : 'no row matched';
      run.trace.push({ node: id, kind: 'decisionTable', detail: label, fired: matched.map((r) => r.id), inputs: contextInputs(s.ctx, inputs), values: pick(run.values, outputs) });
      return next;
    };
  }

  private scorecard(node: ScorecardNode, next: number, inputs: string[]): NodeFn {
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
    return (run, s) => {
      let total = base;
      const losses: { reason: string; lost: number }[] = [];
      for (const f of features) {
        const value = f.value(s);
        const bin = f.bins.find((b) => matchCell(b.cell, value));
        if (bin === undefined) throw new EngineEvaluationError(`scorecard '${id}': no bin of '${f.name}' holds ${JSON.stringify(value)}`);
        total += bin.points;
        losses.push({ reason: f.reason, lost: f.best - bin.points });
      }
      run.values[output] = total;
      run.scoreReasons[output] = scorecardReasonCodes(losses, count);
      run.trace.push({ node: id, kind: 'scorecard', detail: `score ${total}`, inputs: contextInputs(s.ctx, inputs), values: { [output]: total, reasons: run.scoreReasons[output] } });
      return next;
    };
  }

  private model(node: ScorecardNode | ModelNode, next: number): NodeFn {
    const ref = node.modelRef as { id: string; version?: number };
    const mapped = Object.entries(node.modelInputs ?? {}).map(([feature, source]) => [feature, this.expr(source)] as const);
    const mappedNames = new Set(mapped.map(([f]) => f));
    const count = node.reasonCount ?? 4;
    const { output, pdOutput, id } = node;
    return (run, s, env) => {
      const model = resolveModel(env.models, ref.id, ref.version);
      const input: Record<string, unknown> = {};
      for (const [feature, fn] of mapped) input[feature] = fn(s);
      for (const feature of model.features) {
        if (mappedNames.has(feature)) continue;
        input[feature] = this.names.inputs.has(feature) ? (s.ctx[feature] ?? null) : (run.values[feature] ?? null);
      }
      const result = model.score(input);
      if (!Number.isFinite(result.score) || !Number.isFinite(result.pd)) throw new EngineEvaluationError(`model '${ref.id}' returned a non-finite score`);
      run.values[output] = result.score;
      if (pdOutput) run.values[pdOutput] = result.pd;
      run.scoreReasons[output] = modelReasonCodes(result.reasons, count);
      run.trace.push({
        node: id,
        kind: node.type,
        detail: `model ${model.id} v${model.version}: score ${result.score}`,
        inputs: input,
        values: { [output]: result.score, pd: result.pd, reasons: run.scoreReasons[output] },
      });
      return next;
    };
  }

  private assign(node: AssignNode, next: number, inputs: string[]): NodeFn {
    const matrices = (node.matrices ?? []).map((m) => ({
      output: m.output,
      row: this.expr(m.row),
      col: this.expr(m.col),
      rowBins: m.rowBins.map(parseCell),
      colBins: m.colBins.map(parseCell),
      cells: m.cells,
    }));
    const values = Object.entries(node.values ?? {}).map(([name, source]) => ({ name, fn: this.expr(source) }));
    const limit = node.limit ? this.expr(node.limit) : undefined;
    const rate = node.rate ? this.expr(node.rate) : undefined;
    const written = [...matrices.map((m) => m.output), ...values.map((v) => v.name)];
    const id = node.id;
    return (run, s) => {
      for (const m of matrices) {
        const r = binIndex(m.rowBins, m.row(s), `${id}.${m.output} row`);
        const c = binIndex(m.colBins, m.col(s), `${id}.${m.output} column`);
        run.values[m.output] = m.cells[r]?.[c] as Value;
      }
      for (const v of values) run.values[v.name] = v.fn(s);
      if (limit) run.setLimit(limit(s));
      if (rate) run.setRate(rate(s));
      const shown = pick(run.values, written);
      if (limit) shown.limitMinor = run.limitMinor;
      if (rate) shown.annualRate = run.annualRate;
      run.trace.push({ node: id, kind: 'assign', detail: `assigned ${Object.keys(shown).join(', ')}`, inputs: contextInputs(s.ctx, inputs), values: shown });
      return next;
    };
  }
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
  const effectExprs = (e: Effect): string[] => (e.actions ?? []).flatMap((a) => [a.limit, a.rate].filter((x): x is string => !!x));
  const outputExprs = (then: readonly OutputSource[] | undefined): string[] =>
    (then ?? []).flatMap((o) => (o !== null && typeof o === 'object' ? [o.expr] : []));
  switch (node.type) {
    case 'ruleSet':
      return node.rules.flatMap((r) => [r.when, ...effectExprs(r)]);
    case 'decisionTable':
      return [...node.inputs, ...node.rows.flatMap((r) => [...outputExprs(r.then), ...effectExprs(r)]), ...outputExprs(node.default?.then)];
    case 'scorecard':
      return [...(node.features ?? []).map((f) => f.input ?? f.name), ...Object.values(node.modelInputs ?? {})];
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
