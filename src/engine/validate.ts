import { Ajv, type ErrorObject } from 'ajv';
import { parse as parseYaml } from 'yaml';
import { LgError } from '../domain/index.js';
import { isKnownReason } from '../domain/index.js';
import { CellSyntaxError, parseCell } from './cells.js';
import { ExpressionSyntaxError } from './errors.js';
import { collectNames, type Expr } from './expr/ast.js';
import { parseExpression } from './expr/parser.js';
import type { NameTable } from './expr/scope.js';
import { STRATEGY_SCHEMA } from './strategy-schema.js';
import type { CellSource, Effect, NodeDoc, StrategyDocument } from './types.js';

export interface StrategyProblem {
  /** JSON pointer into the document, e.g. /nodes/2/rules/0/when. */
  readonly path: string;
  readonly message: string;
}

const ajv = new Ajv({ allErrors: true, strict: false });
const validateShape = ajv.compile(STRATEGY_SCHEMA);

/** Reads a strategy file's text: JSON when it looks like JSON, YAML otherwise (YAML 1.2 is a superset of JSON). */
export function parseStrategySource(text: string): unknown {
  try {
    return text.trimStart().startsWith('{') ? JSON.parse(text) : parseYaml(text);
  } catch (error) {
    throw new LgError(
      'LG_STRATEGY_INVALID',
      `strategy is not valid JSON or YAML: ${(error as Error).message}`,
      {
        errors: [{ path: '', message: (error as Error).message }],
      },
    );
  }
}

/** Checks a document fully; returns it typed, or throws LG_STRATEGY_INVALID listing every problem with its path. */
export function validateStrategy(input: unknown): StrategyDocument {
  const problems = checkStrategy(input);
  if (problems.length > 0) {
    const first = problems[0] as StrategyProblem;
    throw new LgError('LG_STRATEGY_INVALID', `strategy is invalid: ${first.path || '/'} ${first.message}`, {
      errors: problems,
    });
  }
  return input as StrategyDocument;
}

export function checkStrategy(input: unknown): StrategyProblem[] {
  if (!validateShape(input)) return (validateShape.errors ?? []).filter(isUseful).map(fromAjv);
  return new SemanticChecker(input as unknown as StrategyDocument).run();
}

function isUseful(error: ErrorObject): boolean {
  return error.keyword !== 'if';
}

function fromAjv(error: ErrorObject): StrategyProblem {
  const extra =
    error.keyword === 'additionalProperties'
      ? ` ('${String((error.params as { additionalProperty?: string }).additionalProperty)}')`
      : error.keyword === 'enum'
        ? ` (${((error.params as { allowedValues?: unknown[] }).allowedValues ?? []).join(', ')})`
        : '';
  return { path: error.instancePath, message: `${error.message ?? 'is invalid'}${extra}` };
}

/** The names a strategy's expressions may use. */
export function nameTable(doc: StrategyDocument): NameTable {
  return {
    inputs: new Set(doc.inputs.map((i) => i.name)),
    values: new Set(valueNames(doc).keys()),
    params: new Set(Object.keys(doc.params ?? {})),
  };
}

/** Every value a node can compute, with the path of the node that writes it. */
export function valueNames(doc: StrategyDocument): Map<string, string> {
  const out = new Map<string, string>();
  doc.nodes.forEach((node, i) => {
    for (const name of nodeOutputs(node)) if (!out.has(name)) out.set(name, `/nodes/${i}`);
  });
  return out;
}

function nodeOutputs(node: NodeDoc): string[] {
  switch (node.type) {
    case 'ruleSet':
      return node.output ? [node.output] : [];
    case 'decisionTable':
      return [...(node.outputs ?? [])];
    case 'scorecard':
    case 'model':
      return [node.output, ...(node.pdOutput ? [node.pdOutput] : [])];
    case 'assign':
      return [...(node.matrices ?? []).map((m) => m.output), ...Object.keys(node.values ?? {})];
    case 'split':
      return [node.output ?? `${node.id}Arm`];
    default:
      return [];
  }
}

class SemanticChecker {
  private readonly problems: StrategyProblem[] = [];
  private readonly names: NameTable;
  private readonly scoreOutputs = new Set<string>();

  constructor(private readonly doc: StrategyDocument) {
    this.names = nameTable(doc);
    for (const node of doc.nodes)
      if (node.type === 'scorecard' || node.type === 'model') this.scoreOutputs.add(node.output);
  }

  run(): StrategyProblem[] {
    this.checkInputs();
    this.checkValueNames();
    this.checkFlow();
    this.doc.nodes.forEach((node, i) => this.checkNode(node, `/nodes/${i}`));
    return this.problems;
  }

  private add(path: string, message: string): void {
    this.problems.push({ path, message });
  }

  private checkInputs(): void {
    const seen = new Set<string>();
    this.doc.inputs.forEach((input, i) => {
      if (seen.has(input.name)) this.add(`/inputs/${i}/name`, `duplicate input '${input.name}'`);
      if (input.name in Object.prototype) this.add(`/inputs/${i}/name`, `'${input.name}' is a reserved name`);
      seen.add(input.name);
      if (input.min !== undefined && input.max !== undefined && input.min > input.max)
        this.add(`/inputs/${i}`, 'min is above max');
    });
  }

  private checkValueNames(): void {
    for (const [name, path] of valueNames(this.doc)) {
      if (this.names.inputs.has(name))
        this.add(path, `value '${name}' has the same name as an input; rename one`);
      if (name in Object.prototype) this.add(path, `'${name}' is a reserved name`);
    }
  }

  private checkFlow(): void {
    const ids = new Map<string, number>();
    this.doc.nodes.forEach((node, i) => {
      if (node.id === 'end') this.add(`/nodes/${i}/id`, "'end' is reserved for the end of the flow");
      if (ids.has(node.id)) this.add(`/nodes/${i}/id`, `duplicate node id '${node.id}'`);
      ids.set(node.id, i);
    });
    const edges = this.doc.nodes.map((node, i) => this.successors(node, i, ids));
    this.findCycle(edges);
  }

  private successors(node: NodeDoc, i: number, ids: Map<string, number>): number[] {
    const targets: [string, string][] = [];
    if (node.type === 'branch') {
      node.branches.forEach((b, j) => targets.push([b.next, `/nodes/${i}/branches/${j}/next`]));
      targets.push([node.otherwise, `/nodes/${i}/otherwise`]);
    } else if (node.type === 'split') {
      node.arms.forEach((a, j) => targets.push([a.next, `/nodes/${i}/arms/${j}/next`]));
      const total = node.arms.reduce((sum, a) => sum + a.percent, 0);
      if (Math.abs(total - 100) > 1e-9)
        this.add(`/nodes/${i}/arms`, `arm percentages add up to ${total}, not 100`);
    } else if (node.next !== undefined) {
      targets.push([node.next, `/nodes/${i}/next`]);
    } else if (i + 1 < this.doc.nodes.length) {
      return [i + 1];
    }
    const out: number[] = [];
    for (const [target, path] of targets) {
      if (target === 'end') continue;
      const index = ids.get(target);
      if (index === undefined) this.add(path, `no node with id '${target}'`);
      else out.push(index);
    }
    return out;
  }

  /** A flow must be acyclic so that every decision terminates. */
  private findCycle(edges: number[][]): void {
    const state = new Array<number>(edges.length).fill(0);
    const visit = (n: number): boolean => {
      state[n] = 1;
      for (const m of edges[n] ?? []) {
        if (state[m] === 1) {
          this.add(`/nodes/${m}`, `the flow loops back to node '${this.doc.nodes[m]?.id}'`);
          return true;
        }
        if (state[m] === 0 && visit(m)) return true;
      }
      state[n] = 2;
      return false;
    };
    for (let n = 0; n < edges.length; n++) if (state[n] === 0 && visit(n)) return;
  }

  private checkNode(node: NodeDoc, path: string): void {
    switch (node.type) {
      case 'ruleSet':
        if (node.mode === 'score-sum' && !node.output)
          this.add(path, "score-sum needs an 'output' for the total");
        node.rules.forEach((rule, j) => {
          this.expr(rule.when, `${path}/rules/${j}/when`);
          this.effect(rule, `${path}/rules/${j}`);
          if (node.mode === 'score-sum' && rule.points === undefined)
            this.add(`${path}/rules/${j}`, 'score-sum rules need points');
          if (node.mode === 'score-sum' && (rule.outcome !== undefined || rule.actions !== undefined)) {
            this.add(
              `${path}/rules/${j}`,
              'score-sum rules add points; put the outcome and actions on bands',
            );
          }
        });
        this.uniqueIds(
          node.rules.map((r) => r.id),
          `${path}/rules`,
        );
        (node.bands ?? []).forEach((band, j) => this.effect(band, `${path}/bands/${j}`));
        return;
      case 'decisionTable':
        return this.checkTable(node, path);
      case 'scorecard':
        return this.checkScorecard(node, path);
      case 'model':
        for (const [feature, source] of Object.entries(node.modelInputs ?? {}))
          this.expr(source, `${path}/modelInputs/${feature}`);
        return;
      case 'assign':
        return this.checkAssign(node, path);
      case 'branch':
        node.branches.forEach((b, j) => this.expr(b.when, `${path}/branches/${j}/when`));
        return;
      case 'split':
      case 'shadow':
        return;
    }
  }

  private checkTable(node: Extract<NodeDoc, { type: 'decisionTable' }>, path: string): void {
    node.inputs.forEach((source, j) => this.expr(source, `${path}/inputs/${j}`));
    const outputs = node.outputs?.length ?? 0;
    node.rows.forEach((row, j) => {
      const rowPath = `${path}/rows/${j}`;
      if (row.when.length !== node.inputs.length)
        this.add(`${rowPath}/when`, `has ${row.when.length} cells for ${node.inputs.length} inputs`);
      row.when.forEach((cell, c) => this.cell(cell, `${rowPath}/when/${c}`));
      this.outputs(row.then, outputs, `${rowPath}/then`);
      this.effect(row, rowPath);
    });
    if (node.default) {
      this.outputs(node.default.then, outputs, `${path}/default/then`);
      this.effect(node.default, `${path}/default`);
    }
  }

  private outputs(then: readonly unknown[] | undefined, count: number, path: string): void {
    if (then === undefined) return;
    if (then.length !== count) this.add(path, `has ${then.length} values for ${count} outputs`);
    then.forEach((value, k) => {
      if (typeof value === 'object' && value !== null && 'expr' in value)
        this.expr(String(value.expr), `${path}/${k}/expr`);
    });
  }

  private checkScorecard(node: Extract<NodeDoc, { type: 'scorecard' }>, path: string): void {
    const inline = node.features !== undefined;
    if (inline === (node.modelRef !== undefined))
      this.add(path, "a scorecard needs exactly one of 'features' or 'modelRef'");
    if (inline && node.pdOutput !== undefined)
      this.add(`${path}/pdOutput`, 'an inline scorecard has no probability; use modelRef');
    (node.features ?? []).forEach((feature, j) => {
      const fPath = `${path}/features/${j}`;
      this.expr(feature.input ?? feature.name, feature.input ? `${fPath}/input` : `${fPath}/name`);
      this.reason(feature.reason, `${fPath}/reason`);
      feature.bins.forEach((bin, b) => this.cell(bin.when, `${fPath}/bins/${b}/when`));
    });
    for (const [feature, source] of Object.entries(node.modelInputs ?? {}))
      this.expr(source, `${path}/modelInputs/${feature}`);
  }

  private checkAssign(node: Extract<NodeDoc, { type: 'assign' }>, path: string): void {
    (node.matrices ?? []).forEach((m, j) => {
      const mPath = `${path}/matrices/${j}`;
      this.expr(m.row, `${mPath}/row`);
      this.expr(m.col, `${mPath}/col`);
      m.rowBins.forEach((c, k) => this.cell(c, `${mPath}/rowBins/${k}`));
      m.colBins.forEach((c, k) => this.cell(c, `${mPath}/colBins/${k}`));
      if (m.cells.length !== m.rowBins.length || m.cells.some((row) => row.length !== m.colBins.length)) {
        this.add(`${mPath}/cells`, `must be ${m.rowBins.length} rows of ${m.colBins.length} values`);
      }
    });
    for (const [name, source] of Object.entries(node.values ?? {}))
      this.expr(source, `${path}/values/${name}`);
    if (node.limit) this.expr(node.limit, `${path}/limit`);
    if (node.rate) this.expr(node.rate, `${path}/rate`);
  }

  private effect(effect: Effect, path: string): void {
    (effect.reasons ?? []).forEach((code, k) => this.reason(code, `${path}/reasons/${k}`));
    if (effect.reasonsFrom !== undefined && !this.scoreOutputs.has(effect.reasonsFrom)) {
      this.add(
        `${path}/reasonsFrom`,
        `'${effect.reasonsFrom}' is not the output of a scorecard or model node`,
      );
    }
    (effect.actions ?? []).forEach((action, k) => {
      if (action.limit) this.expr(action.limit, `${path}/actions/${k}/limit`);
      if (action.rate) this.expr(action.rate, `${path}/actions/${k}/rate`);
      (action.reasons ?? []).forEach((code, r) => this.reason(code, `${path}/actions/${k}/reasons/${r}`));
    });
  }

  private uniqueIds(ids: readonly string[], path: string): void {
    const seen = new Set<string>();
    ids.forEach((id, j) => {
      if (seen.has(id)) this.add(`${path}/${j}/id`, `duplicate rule id '${id}'`);
      seen.add(id);
    });
  }

  private reason(code: string, path: string): void {
    if (!isKnownReason(code))
      this.add(path, `unknown reason code '${code}' (see src/domain/reason-codes.ts)`);
  }

  private cell(source: CellSource, path: string): void {
    try {
      parseCell(source);
    } catch (error) {
      if (!(error instanceof CellSyntaxError)) throw error;
      this.add(path, error.message);
    }
  }

  private expr(source: string, path: string): Expr | undefined {
    let expr: Expr;
    try {
      expr = parseExpression(source);
    } catch (error) {
      if (!(error instanceof ExpressionSyntaxError)) throw error;
      this.add(path, error.message);
      return undefined;
    }
    const idents = new Set<string>();
    const params = new Set<string>();
    collectNames(expr, idents, params);
    for (const name of idents) {
      if (!this.names.inputs.has(name) && !this.names.values.has(name)) {
        this.add(path, `unknown name '${name}': not a declared input or a computed value`);
      }
    }
    for (const name of params)
      if (!this.names.params.has(name))
        this.add(path, `unknown parameter 'param.${name}': declare it in params`);
    return expr;
  }
}
