import type { Decision, DecisionContext } from '../domain/index.js';
import { matchCell, parseCell } from './cells.js';
import { EngineEvaluationError } from './errors.js';
import type { Expr, Value } from './expr/ast.js';
import { evaluate } from './expr/interpret.js';
import { truth } from './expr/ops.js';
import { parseExpression } from './expr/parser.js';
import type { EvalState, NameTable } from './expr/scope.js';
import {
  aggregate,
  failClosedDecision,
  limitFrom,
  MAX_FLOW_STEPS,
  modelReasonCodes,
  paramsStep,
  pickArm,
  rateFrom,
  resolveModel,
  Run,
  scorecardReasonCodes,
  strategyMeta,
  type RunEnv,
} from './runtime.js';
import type { CellSource, Effect, NodeDoc, OutputSource, StrategyDocument } from './types.js';
import { nameTable, validateStrategy } from './validate.js';

/**
 * A straightforward tree-walking interpreter of a strategy document: it reads the document on every decision and
 * walks expression trees directly. It is slow on purpose-free grounds (no closures, no precomputation) and exists as
 * the reference the compiler is property-tested against; the trace it writes is the decision-relevant subset
 * (node, kind, fired) of the compiler's.
 */
export function interpretStrategy(
  input: StrategyDocument | unknown,
  ctx: DecisionContext,
  env: RunEnv,
): Decision {
  const doc = validateStrategy(input, { authoring: false });
  const interpreter = new Interpreter(doc, nameTable(doc), env);
  return interpreter.run(ctx);
}

class Interpreter {
  private readonly parsed = new Map<string, Expr>();
  private readonly meta;

  constructor(
    private readonly doc: StrategyDocument,
    private readonly names: NameTable,
    private readonly env: RunEnv,
  ) {
    this.meta = strategyMeta(doc);
  }

  run(ctx: DecisionContext): Decision {
    const run = new Run(this.meta);
    try {
      const s: EvalState = { ctx, values: run.values, params: this.env.params };
      const step = paramsStep(this.env.params, this.env.overlaid);
      if (step) run.trace.push(step);
      let current: NodeDoc | undefined = this.doc.nodes[0];
      let steps = 0;
      while (current !== undefined && !run.stopped) {
        if (++steps > MAX_FLOW_STEPS) throw new EngineEvaluationError('flow exceeded the step limit');
        const target = this.node(current, run, s);
        current = this.resolve(current, target);
      }
      return run.finish();
    } catch (error) {
      return failClosedDecision(this.meta, error, run.trace);
    }
  }

  /** `target` undefined means "fall through"; "end" ends the flow. */
  private resolve(current: NodeDoc, target: string | undefined): NodeDoc | undefined {
    if (target === 'end') return undefined;
    if (target !== undefined) return this.doc.nodes.find((n) => n.id === target);
    const i = this.doc.nodes.indexOf(current);
    return this.doc.nodes[i + 1];
  }

  private eval(source: string, s: EvalState): Value {
    let expr = this.parsed.get(source);
    if (expr === undefined) {
      expr = parseExpression(source);
      this.parsed.set(source, expr);
    }
    return evaluate(expr, s, this.names);
  }

  private node(node: NodeDoc, run: Run, s: EvalState): string | undefined {
    switch (node.type) {
      case 'ruleSet':
        this.ruleSet(node, run, s);
        return node.next;
      case 'decisionTable':
        this.table(node, run, s);
        return node.next;
      case 'scorecard':
      case 'model':
        if (node.modelRef) this.model(node, run, s);
        else this.scorecard(node as Extract<NodeDoc, { type: 'scorecard' }>, run, s);
        return node.next;
      case 'assign':
        this.assign(node, run, s);
        return node.next;
      case 'branch': {
        for (const b of node.branches) {
          if (truth(this.eval(b.when, s), 0)) {
            run.trace.push({ node: node.id, kind: 'branch', detail: `-> ${b.next}` });
            return b.next;
          }
        }
        run.trace.push({ node: node.id, kind: 'branch', detail: `otherwise -> ${node.otherwise}` });
        return node.otherwise;
      }
      case 'split': {
        const arm = pickArm(node.arms, this.env.subjectKey, this.doc.id);
        run.values[node.output ?? `${node.id}Arm`] = arm.name;
        run.trace.push({ node: node.id, kind: 'split', detail: `arm ${arm.name}` });
        return arm.next;
      }
      case 'shadow': {
        const result = this.env.shadow?.(node.strategy, s.ctx, this.env.subjectKey);
        if (result) run.shadows.push(result);
        run.trace.push({ node: node.id, kind: 'shadow', detail: `shadow ${node.strategy}` });
        return node.next;
      }
    }
  }

  private applyEffect(effect: Effect, run: Run, s: EvalState): void {
    const amounts = (effect.actions ?? []).map((a) => ({
      ...(a.limit ? { limitMinor: limitFrom(this.eval(a.limit, s)) } : {}),
      ...(a.rate ? { annualRate: rateFrom(this.eval(a.rate, s)) } : {}),
    }));
    run.applyEffect(effect, amounts);
  }

  private ruleSet(node: Extract<NodeDoc, { type: 'ruleSet' }>, run: Run, s: EvalState): void {
    const fired: string[] = [];
    if (node.mode === 'score-sum') {
      let total = 0;
      const cited: string[] = [];
      for (const rule of node.rules) {
        if (!truth(this.eval(rule.when, s), 0)) continue;
        total += rule.points ?? 0;
        fired.push(rule.id);
        cited.push(...run.effectReasons(rule));
      }
      run.values[node.output as string] = total;
      let band: (typeof node.bands & object)[number] | undefined;
      for (const b of node.bands ?? [])
        if (total >= b.min && (band === undefined || b.min > band.min)) band = b;
      if (band) {
        this.applyEffect(band, run, s);
        const rank =
          band.outcome === undefined
            ? this.meta.rank.size
            : (this.meta.rank.get(band.outcome) ?? this.meta.rank.size);
        for (const code of cited) run.addReason(code, rank);
      }
    } else {
      for (const rule of node.rules) {
        if (!truth(this.eval(rule.when, s), 0)) continue;
        fired.push(rule.id);
        this.applyEffect(rule, run, s);
        if (node.mode === 'first-hit') break;
      }
    }
    run.trace.push({ node: node.id, kind: 'ruleSet', detail: 'rule set', fired });
  }

  private output(source: OutputSource, s: EvalState): Value {
    return source !== null && typeof source === 'object' ? this.eval(source.expr, s) : source;
  }

  private table(node: Extract<NodeDoc, { type: 'decisionTable' }>, run: Run, s: EvalState): void {
    const values = node.inputs.map((source) => this.eval(source, s));
    const matchedRows = node.rows.filter((row) =>
      row.when.every((cell, k) => matchCell(parseCell(cell), values[k] as Value)),
    );
    const matched = node.hitPolicy === 'first' ? matchedRows.slice(0, 1) : matchedRows;
    if (node.hitPolicy === 'unique' && matched.length > 1)
      throw new EngineEvaluationError(`decision table '${node.id}' (unique) matched ${matched.length} rows`);
    const outputs = node.outputs ?? [];
    if (node.hitPolicy === 'collect') {
      outputs.forEach((name, k) => {
        const column = matched.map((row) => (row.then ? this.output(row.then[k] as OutputSource, s) : null));
        run.values[name] = aggregate(node.aggregate ?? 'list', column);
      });
      for (const row of matched) this.applyEffect(row, run, s);
    } else {
      const hit = matched[0] ?? node.default;
      outputs.forEach((name, k) => {
        run.values[name] = hit?.then ? this.output(hit.then[k] as OutputSource, s) : null;
      });
      if (hit) this.applyEffect(hit, run, s);
    }
    const ids = matched.map((row) => row.id ?? `row${node.rows.indexOf(row) + 1}`);
    run.trace.push({ node: node.id, kind: 'decisionTable', detail: 'table', fired: ids });
  }

  private scorecard(node: Extract<NodeDoc, { type: 'scorecard' }>, run: Run, s: EvalState): void {
    let total = node.base ?? 0;
    const losses: { reason: string; lost: number }[] = [];
    for (const feature of node.features ?? []) {
      const value = this.eval(feature.input ?? feature.name, s);
      const bin = feature.bins.find((b) => matchCell(parseCell(b.when), value));
      if (!bin)
        throw new EngineEvaluationError(
          `scorecard '${node.id}': no bin of '${feature.name}' holds ${JSON.stringify(value)}`,
        );
      total += bin.points;
      losses.push({
        reason: feature.reason,
        lost: Math.max(...feature.bins.map((b) => b.points)) - bin.points,
      });
    }
    run.values[node.output] = total;
    run.scoreReasons[node.output] = scorecardReasonCodes(losses, node.reasonCount ?? 4);
    run.trace.push({ node: node.id, kind: 'scorecard', detail: `score ${total}` });
  }

  private model(node: Extract<NodeDoc, { type: 'scorecard' | 'model' }>, run: Run, s: EvalState): void {
    const ref = node.modelRef as { id: string; version?: number };
    const model = resolveModel(this.env.models, ref.id, ref.version);
    const input: Record<string, unknown> = {};
    for (const feature of model.features) {
      const mapped = node.modelInputs?.[feature];
      if (mapped !== undefined) input[feature] = this.eval(mapped, s);
      else
        input[feature] = this.names.inputs.has(feature)
          ? (s.ctx[feature] ?? null)
          : (run.values[feature] ?? null);
    }
    for (const [feature, source] of Object.entries(node.modelInputs ?? {}))
      input[feature] = this.eval(source, s);
    const result = model.score(input);
    if (!Number.isFinite(result.score) || !Number.isFinite(result.pd))
      throw new EngineEvaluationError(`model '${ref.id}' returned a non-finite score`);
    run.values[node.output] = result.score;
    if (node.pdOutput) run.values[node.pdOutput] = result.pd;
    run.scoreReasons[node.output] = modelReasonCodes(result.reasons, node.reasonCount ?? 4);
    run.trace.push({ node: node.id, kind: node.type, detail: `score ${result.score}` });
  }

  private assign(node: Extract<NodeDoc, { type: 'assign' }>, run: Run, s: EvalState): void {
    for (const m of node.matrices ?? []) {
      const r = this.bin(m.rowBins, this.eval(m.row, s));
      const c = this.bin(m.colBins, this.eval(m.col, s));
      run.values[m.output] = m.cells[r]?.[c] as Value;
    }
    for (const [name, source] of Object.entries(node.values ?? {})) run.values[name] = this.eval(source, s);
    if (node.limit) run.setLimit(this.eval(node.limit, s));
    if (node.rate) run.setRate(this.eval(node.rate, s));
    run.trace.push({ node: node.id, kind: 'assign', detail: 'assign' });
  }

  private bin(bins: readonly CellSource[], value: Value): number {
    const k = bins.findIndex((b) => matchCell(parseCell(b), value));
    if (k < 0) throw new EngineEvaluationError(`no bin holds ${JSON.stringify(value)}`);
    return k;
  }
}
