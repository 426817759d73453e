/**
 * The strategy document a risk team writes (JSON or YAML). See strategy-schema.ts for the published JSON Schema and
 * docs in strategies/README.md. A strategy is a flow of nodes: execution starts at the first node and follows each
 * node's `next` (a node id, or "end"); without `next` it falls through to the following node in the list.
 */
import type { LineActionType, Outcome } from '../domain/index.js';

export const INPUT_TYPES = ['number', 'integer', 'string', 'boolean', 'date', 'string[]'] as const;
export type InputType = (typeof INPUT_TYPES)[number];

export interface InputDecl {
  readonly name: string;
  readonly type: InputType;
  /** Required inputs must be present and non-null; optional ones read as null when absent. */
  readonly required?: boolean;
  readonly min?: number;
  readonly max?: number;
  /** Allowed values (strings or numbers); for string[] each element must be allowed. */
  readonly allowed?: readonly (string | number)[];
  readonly description?: string;
}

export type ParamValue = number | string | boolean;

export interface ParamDecl {
  /** Used when no overlay of this name is set. */
  readonly default: ParamValue;
  readonly description?: string;
}

/** A decision-table or bin cell: "-" (any), a range "[a..b)", a comparison ">= 5", a literal, or a JSON list (set). */
export type CellSource = string | number | boolean | null | readonly (string | number | boolean)[];

/** A literal output, or an expression to compute. */
export type OutputSource = string | number | boolean | null | { readonly expr: string };

export interface ActionDoc {
  readonly type: LineActionType;
  /** Expression for the new limit in minor units (floored to a whole minor unit). */
  readonly limit?: string;
  /** Expression for the new annual rate as a decimal. */
  readonly rate?: string;
  /** Defaults to the rule's reasons. */
  readonly reasons?: readonly string[];
}

/** What a rule, a table row or a score band does when it applies. */
export interface Effect {
  readonly outcome?: Outcome;
  readonly reasons?: readonly string[];
  /** Append the reason codes a scorecard/model node recorded for this output (largest point losses first). */
  readonly reasonsFrom?: string;
  readonly actions?: readonly ActionDoc[];
}

export interface RuleDoc extends Effect {
  readonly id: string;
  readonly when: string;
  /** score-sum mode only. */
  readonly points?: number;
  readonly description?: string;
}

interface NodeBase {
  readonly id: string;
  readonly description?: string;
  /** Next node id or "end"; default: the following node in the list. */
  readonly next?: string;
}

export interface ScoreBand extends Effect {
  /** The band applies when the summed points are at least this. */
  readonly min: number;
}

export interface RuleSetNode extends NodeBase {
  readonly type: 'ruleSet';
  /** first-hit: the first matching rule applies; all: every matching rule applies; score-sum: points add up. */
  readonly mode: 'first-hit' | 'all' | 'score-sum';
  readonly rules: readonly RuleDoc[];
  /** score-sum: the value name that receives the total. */
  readonly output?: string;
  /** score-sum: bands checked from the highest `min` down; the first band reached applies. */
  readonly bands?: readonly ScoreBand[];
}

export interface TableRow extends Effect {
  readonly id?: string;
  readonly when: readonly CellSource[];
  readonly then?: readonly OutputSource[];
}

export interface DecisionTableNode extends NodeBase {
  readonly type: 'decisionTable';
  readonly hitPolicy: 'first' | 'unique' | 'collect';
  /** One expression per column. */
  readonly inputs: readonly string[];
  /** Value names the `then` cells write, in order. */
  readonly outputs?: readonly string[];
  readonly rows: readonly TableRow[];
  /** Applies when no row matches (first/unique). */
  readonly default?: Omit<TableRow, 'when' | 'id'>;
  /** collect: how to combine each output over the matching rows (default list). */
  readonly aggregate?: 'list' | 'sum' | 'min' | 'max' | 'count';
}

export interface ModelRef {
  readonly id: string;
  readonly version?: number;
}

export interface ScorecardFeature {
  readonly name: string;
  /** Expression for the characteristic; defaults to the input named `name`. */
  readonly input?: string;
  /** Reason code cited when this characteristic loses points against its best bin. */
  readonly reason: string;
  readonly bins: readonly { readonly when: CellSource; readonly points: number }[];
}

export interface ScorecardNode extends NodeBase {
  readonly type: 'scorecard';
  readonly output: string;
  readonly pdOutput?: string;
  readonly base?: number;
  readonly features?: readonly ScorecardFeature[];
  /** Instead of inline bins: a stored scorecard from the scoring toolkit. */
  readonly modelRef?: ModelRef;
  /** Feature name -> expression, when a model feature is not an input of the same name. */
  readonly modelInputs?: Readonly<Record<string, string>>;
  /** How many adverse reasons to keep (default 4, Reg B practice). */
  readonly reasonCount?: number;
}

export interface ModelNode extends NodeBase {
  readonly type: 'model';
  readonly modelRef: ModelRef;
  readonly output: string;
  readonly pdOutput?: string;
  readonly modelInputs?: Readonly<Record<string, string>>;
  readonly reasonCount?: number;
}

export interface MatrixDoc {
  readonly output: string;
  readonly row: string;
  readonly rowBins: readonly CellSource[];
  readonly col: string;
  readonly colBins: readonly CellSource[];
  /** cells[rowBin][colBin]. */
  readonly cells: readonly (readonly (number | string)[])[];
}

export interface AssignNode extends NodeBase {
  readonly type: 'assign';
  /** Matrix lookups run first, then `values` in order, then `limit` and `rate`. */
  readonly matrices?: readonly MatrixDoc[];
  readonly values?: Readonly<Record<string, string>>;
  /** The decision's limit in minor units (floored to a whole minor unit: never grant more than computed). */
  readonly limit?: string;
  readonly rate?: string;
}

export interface BranchNode extends NodeBase {
  readonly type: 'branch';
  readonly branches: readonly { readonly when: string; readonly next: string }[];
  readonly otherwise: string;
}

export interface SplitNode extends NodeBase {
  readonly type: 'split';
  /** Value name that records the arm taken (default `<node id>Arm`). */
  readonly output?: string;
  readonly arms: readonly { readonly name: string; readonly percent: number; readonly next: string }[];
}

export interface ShadowNode extends NodeBase {
  readonly type: 'shadow';
  readonly strategy: string;
}

export type NodeDoc =
  | RuleSetNode
  | DecisionTableNode
  | ScorecardNode
  | ModelNode
  | AssignNode
  | BranchNode
  | SplitNode
  | ShadowNode;

export interface StrategyDocument {
  readonly id: string;
  /** Assigned by the store when saved; ignored on input. */
  readonly version?: number;
  readonly name?: string;
  readonly description?: string;
  readonly inputs: readonly InputDecl[];
  readonly params?: Readonly<Record<string, ParamDecl>>;
  /** Most decisive first. Default DECLINE > HOLD > REVIEW > CHALLENGE > COOLDOWN > APPROVE. */
  readonly outcomePrecedence?: readonly Outcome[];
  /** When no node sets an outcome (default APPROVE). */
  readonly defaultOutcome?: Outcome;
  /** The flow stops as soon as one of these outcomes is reached (default ["DECLINE"]). */
  readonly stopOn?: readonly Outcome[];
  readonly nodes: readonly NodeDoc[];
}
