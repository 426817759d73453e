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
  type ActionClass,
  type BlastRadiusGuard,
  type BlastRadiusGuardOptions,
  type BlastRadiusTrip,
} from './guard.js';
export {
  DECISION_KINDS,
  type DecisionKind,
  type DecisionHistory,
  type DecisionRecord,
  type EngineMetrics,
  type EngineRepository,
  type ReplayCursor,
  type ReplayPage,
  type ReplayRow,
  type StoredDecision,
  type UnreadableDecision,
  type StrategyActivation,
  type StrategyVersionRecord,
  type StrategySummary,
  type Overlay,
  type OverlayChange,
  type VersionStatus,
} from './ports.js';
export {
  simulateStrategy,
  type SimulationReport,
  type AffectedSubject,
  type MissingFacts,
} from './simulate.js';
export {
  createEngineService,
  CONFIG_POLL_MS_MAX,
  type DecideOptions,
  type EngineService,
  type EngineServiceOptions,
  type OverlayInForce,
  type StrategyListing,
} from './service.js';
export type * from './types.js';

export { actionClassOf } from './guard.js';
