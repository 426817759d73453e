import { Ajv, type ErrorObject } from 'ajv';
import { parse as parseYaml } from 'yaml';
import { LgError } from '../domain/index.js';
import { isKnownReason, personReasonsProblem } from '../domain/index.js';
import { RESTRICTIVE_ACTIONS, type Outcome } from '../domain/index.js';
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

/**
 * Outcomes that take something from the borrower, whose reasons must say why: the strategy outcomes among those the
 * core holds a person's reasons to (src/cases/outcomes.ts ADVERSE_OUTCOMES: DECLINE, and CANCEL, a case's outcome).
 * Restrictive line actions are the domain's RESTRICTIVE_ACTIONS (LIMIT_DECREASE, FREEZE_DRAW, SUSPEND, CLOSE), as for
 * a person's line action (src/core/lines.ts checkPersonReasons).
 */
const ADVERSE_OUTCOMES: ReadonlySet<Outcome> = new Set<Outcome>(['DECLINE']);

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

export interface CheckOptions {
  /**
   * The rules a version must meet to be saved or activated (default true). False checks only what a document needs to
   * run, so a version stored by an older release, before a rule below was added, still compiles and keeps deciding
   * once active: every adverse outcome and restriction carries a reason that says why, and no parameter or model input
   * has a name of Object.prototype.
   */
  readonly authoring?: boolean;
}

/** Checks a document fully; returns it typed, or throws LG_STRATEGY_INVALID listing every problem with its path. */
export function validateStrategy(input: unknown, options: CheckOptions = {}): StrategyDocument {
  const problems = checkStrategy(input, options);
  if (problems.length > 0) {
    const first = problems[0] as StrategyProblem;
    throw new LgError('LG_STRATEGY_INVALID', `strategy is invalid: ${first.path || '/'} ${first.message}`, {
      errors: problems,
    });
  }
  return input as StrategyDocument;
}

export function checkStrategy(input: unknown, options: CheckOptions = {}): StrategyProblem[] {
  // YAML has numbers JSON has not (.nan, .inf; JSON.parse turns 1e999 into Infinity): a NaN score-sum total reaches no
  // band and approves, and the store cannot hash the document. The HTTP body layer refuses them; files and text do not.
  const numbers = nonFiniteNumbers(input);
  if (!validateShape(input))
    return [...numbers, ...(validateShape.errors ?? []).filter(isUseful).map(fromAjv)];
  if (numbers.length > 0) return numbers;
  return new SemanticChecker(input as unknown as StrategyDocument, options.authoring ?? true).run();
}

/** Every number in `input` that is NaN or infinite, with its JSON pointer (walked without recursion: any depth). */
function nonFiniteNumbers(input: unknown): StrategyProblem[] {
  const problems: StrategyProblem[] = [];
  const seen = new Set<object>();
  const stack: [unknown, string][] = [[input, '']];
  while (stack.length > 0) {
    const [value, path] = stack.pop() as [unknown, string];
    if (typeof value === 'number') {
      if (!Number.isFinite(value)) problems.push({ path, message: `must be a finite number, not ${value}` });
    } else if (typeof value === 'object' && value !== null && !seen.has(value)) {
      seen.add(value);
      const entries = Array.isArray(value)
        ? value.map((v, i) => [String(i), v] as const)
        : Object.entries(value);
      for (let i = entries.length - 1; i >= 0; i--) {
        const [key, member] = entries[i] as readonly [string, unknown];
        stack.push([member, `${path}/${key.replaceAll('~', '~0').replaceAll('/', '~1')}`]);
      }
    }
  }
  return problems;
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

  constructor(
    private readonly doc: StrategyDocument,
    private readonly authoring: boolean,
  ) {
    this.names = nameTable(doc);
    for (const node of doc.nodes)
      if (node.type === 'scorecard' || node.type === 'model') this.scoreOutputs.add(node.output);
  }

  run(): StrategyProblem[] {
    this.checkInputs();
    this.checkValueNames();
    if (this.authoring) this.checkAuthoring();
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

  /** The rules a version must meet to be saved or activated (CheckOptions.authoring). */
  private checkAuthoring(): void {
    // A parameter is read from an object keyed by its name: `params['__proto__'] = 1` sets nothing.
    for (const name of Object.keys(this.doc.params ?? {}))
      if (name in Object.prototype) this.add(`/params/${name}`, `'${name}' is a reserved name`);
    this.doc.nodes.forEach((node, i) => {
      if (node.type !== 'scorecard' && node.type !== 'model') return;
      for (const name of Object.keys(node.modelInputs ?? {}))
        if (name in Object.prototype)
          this.add(`/nodes/${i}/modelInputs/${name}`, `'${name}' is a reserved name`);
    });
    const fallback = this.doc.defaultOutcome;
    if (fallback !== undefined && ADVERSE_OUTCOMES.has(fallback)) {
      this.add(
        '/defaultOutcome',
        `${fallback} cannot be the default outcome: a default carries no reasons, and a ${fallback} must tell the ` +
          `borrower why; end the flow with a rule that gives it with its reasons (when: 'true')`,
      );
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
    if (this.authoring) this.effectReasons(effect, path);
  }

  /**
   * What the borrower is told: a decline, and every restriction, with at least one catalogue reason that says why —
   * the rule a person's reasons meet (personReasonsProblem: not none, not only favourable ones, and none of the codes
   * only LineGuard's own automation writes). Only the codes written in the document count: `reasonsFrom` adds a
   * model's reasons only for the points an applicant lost, which may be none. An action without reasons of its own
   * takes its rule's.
   */
  private effectReasons(effect: Effect, path: string): void {
    const own = effect.reasons ?? [];
    const adverse = effect.outcome !== undefined && ADVERSE_OUTCOMES.has(effect.outcome);
    const ownProblem = this.reasonsProblem(own, adverse);
    if (ownProblem !== undefined)
      this.add(
        effect.reasons === undefined ? path : `${path}/reasons`,
        `${effect.outcome ?? 'rule'}: ${ownProblem}`,
      );
    (effect.actions ?? []).forEach((action, k) => {
      const restrictive = RESTRICTIVE_ACTIONS.has(action.type);
      const actionPath = `${path}/actions/${k}`;
      if (action.reasons !== undefined) {
        const problem = this.reasonsProblem(action.reasons, restrictive);
        if (problem !== undefined) this.add(`${actionPath}/reasons`, `${action.type}: ${problem}`);
      } else if (restrictive && ownProblem === undefined) {
        const problem = this.reasonsProblem(own, true);
        if (problem !== undefined)
          this.add(
            actionPath,
            `${action.type} takes its rule's reasons: ${problem}; give it reasons of its own`,
          );
      }
    });
  }

  /** personReasonsProblem over known codes (an unknown code is a problem of its own, reported by `reason`). */
  private reasonsProblem(reasons: readonly string[], adverse: boolean): string | undefined {
    if (!reasons.every(isKnownReason)) return undefined;
    if (!adverse && reasons.length === 0) return undefined;
    return personReasonsProblem(reasons, adverse);
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
