/** The decision engine's public face. */
export { compileStrategy, type CompiledStrategy } from './compiler.js';
export { interpretStrategy } from './interpreter.js';
export { validateContext, compileContextValidator, type ContextProblem } from './context.js';
export { validateStrategy, checkStrategy, parseStrategySource, type StrategyProblem } from './validate.js';
export { STRATEGY_SCHEMA } from './strategy-schema.js';
export { parseExpression } from './expr/parser.js';
export { ExpressionSyntaxError, EngineEvaluationError } from './errors.js';
export {
  ENGINE_VERSION,
  DEFAULT_PRECEDENCE,
  fnv1a32,
  splitBucket,
  type RunEnv,
  type ShadowResult,
} from './runtime.js';
export {
  createBlastRadiusGuard,
  applyBlastRadiusGuard,
  type BlastRadiusGuard,
  type BlastRadiusGuardOptions,
  type BlastRadiusTrip,
} from './guard.js';
export { createEngineMetrics, type EngineMetrics } from './metrics.js';
export {
  recordDecision,
  getDecision,
  DECISION_KINDS,
  type DecisionKind,
  type DecisionRecord,
  type StoredDecision,
  type StrategyVersionRecord,
  type StrategySummary,
  type Overlay,
  type OverlayChange,
} from './store.js';
export { simulateStrategy, type SimulationReport, type AffectedSubject } from './simulate.js';
export { createEngineService, type EngineService, type EngineServiceOptions } from './service.js';
export type * from './types.js';
