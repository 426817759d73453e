import type { DecisionContext } from '../../domain/index.js';
import type { Value } from './ast.js';

/** What an expression can see while a strategy runs. */
export interface EvalState {
  readonly ctx: DecisionContext;
  /** Values computed so far on this path (assign, table outputs, scores). */
  readonly values: Record<string, Value>;
  /** Overlay parameters (`param.x`), resolved once per decision. */
  readonly params: Readonly<Record<string, Value>>;
}

/** How each identifier of a strategy resolves, fixed when the strategy is validated. */
export interface NameTable {
  readonly inputs: ReadonlySet<string>;
  readonly values: ReadonlySet<string>;
  readonly params: ReadonlySet<string>;
}
