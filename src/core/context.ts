import { performance } from 'node:perf_hooks';
import type { ContextValue, Decision, DecisionContext } from '../domain/index.js';
import { LgError } from '../domain/index.js';
import type { CoreEngine } from './deps.js';

/**
 * Builds a decision context: the client's attributes as given (the engine validates them against the strategy's
 * declared inputs and names every unknown or ill-typed one), plus facts the core derives, kept only when the strategy
 * declares them. A client may not supply a fact the core derives (e.g. `age` comes from the national ID).
 */
export function buildContext(
  engine: CoreEngine,
  strategyId: string,
  attributes: Readonly<Record<string, unknown>>,
  facts: Readonly<Record<string, ContextValue | undefined>>,
): DecisionContext {
  const clash = Object.keys(attributes).filter((k) => Object.hasOwn(facts, k));
  if (clash.length > 0) {
    throw new LgError(
      'LG_INVALID_ATTRIBUTE',
      `attributes ${clash.join(', ')} are derived by LineGuard and may not be sent`,
      {
        errors: clash.map((input) => ({ input, problem: 'is derived by LineGuard' })),
      },
    );
  }
  const declared = engine.inputsOf(strategyId);
  const ctx: Record<string, ContextValue> = {};
  for (const [key, value] of Object.entries(facts)) {
    if (value !== undefined && (declared === undefined || declared.has(key))) ctx[key] = value;
  }
  for (const [key, value] of Object.entries(attributes)) ctx[key] = value as ContextValue;
  return ctx;
}

/** decide() with its latency, which the decision row records. */
export function timedDecide(
  engine: CoreEngine,
  strategyId: string,
  context: DecisionContext,
  subjectKey: string,
): { decision: Decision; latencyMs: number } {
  const started = performance.now();
  const decision = engine.decide(strategyId, context, { subjectKey });
  return { decision, latencyMs: performance.now() - started };
}
