/**
 * Engine-internal failures. A syntax error is found when a strategy is validated (the author sees the position);
 * an evaluation error happens while deciding and makes the engine fail closed (REVIEW + R_ENGINE_ERROR).
 */
export class ExpressionSyntaxError extends Error {
  constructor(
    message: string,
    readonly source: string,
    /** 0-based character offset into the expression. */
    readonly position: number,
  ) {
    super(`${message} at position ${position + 1}: ${pointAt(source, position)}`);
    this.name = 'ExpressionSyntaxError';
  }
}

export class EngineEvaluationError extends Error {
  constructor(
    message: string,
    /** Character offset in the expression, when the error comes from one. */
    readonly position?: number,
  ) {
    super(position === undefined ? message : `${message} (at position ${position + 1})`);
    this.name = 'EngineEvaluationError';
  }
}

function pointAt(source: string, position: number): string {
  return `${source.slice(0, position)}⟨here⟩${source.slice(position)}`;
}
