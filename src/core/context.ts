import { performance } from 'node:perf_hooks';
import type { ContextValue, Decision, DecisionContext } from '../domain/index.js';
import { LgError } from '../domain/index.js';
import type { CoreEngine } from './deps.js';

/**
 * A decision's two contexts. `context` is what the engine is handed: the client's attributes as given (the engine
 * validates them against the strategy's declared inputs and names every unknown or ill-typed one), plus the facts the
 * core derives that the active version declares (the engine refuses an undeclared input). `recorded` is what the
 * decision records: the same attributes plus every fact the core computed for it, declared or not, so that a candidate
 * version is replayed on the facts it would be handed once activated, and a shadow strategy judged on its own inputs
 * (README "Simulation is what activation will do"). A client may not supply a fact the core derives (e.g. `age` comes
 * from the national ID).
 */
/**
 * Facts about the person, not their credit, that a decision records only when its strategy reads them: the sex and
 * the birth region the resident ID encodes. Recorded for every decision, they would show staff who read a decision or
 * a case's evidence a fact no rule used as if it had weighed (and keep more than the decision needed, PIPL Art. 6);
 * a candidate that starts reading one finds it missing from earlier decisions (`missingFacts`), not guessed.
 */
const READ_ONLY_FACTS: ReadonlySet<string> = new Set(['sex', 'regionCode']);

export interface DecisionContexts {
  readonly context: DecisionContext;
  readonly recorded: DecisionContext;
}

export function buildContexts(
  engine: CoreEngine,
  strategyId: string,
  attributes: Readonly<Record<string, unknown>>,
  facts: Readonly<Record<string, ContextValue | undefined>>,
): DecisionContexts {
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
  const recorded: Record<string, ContextValue> = {};
  for (const [key, value] of Object.entries(facts)) {
    if (value === undefined) continue;
    const read = declared === undefined || declared.has(key);
    if (read) ctx[key] = value;
    if (read || !READ_ONLY_FACTS.has(key)) recorded[key] = value;
  }
  for (const [key, value] of Object.entries(attributes)) {
    ctx[key] = value as ContextValue;
    recorded[key] = value as ContextValue;
  }
  return { context: ctx, recorded };
}

/** The context the engine is handed (see buildContexts); for a decision that records only what it was handed. */
export function buildContext(
  engine: CoreEngine,
  strategyId: string,
  attributes: Readonly<Record<string, unknown>>,
  facts: Readonly<Record<string, ContextValue | undefined>>,
): DecisionContext {
  return buildContexts(engine, strategyId, attributes, facts).context;
}

/**
 * The engine's decide options as the core passes them: `facts` is the decision's recorded context (every fact the core
 * computed), from which each shadow strategy takes its own declared inputs (src/engine/service.ts).
 */
interface DecideOptions {
  readonly subjectKey: string;
  readonly facts?: DecisionContext;
}

/** decide() with its latency, which the decision row records; `recorded`: the decision's recorded context (shadows). */
export function timedDecide(
  engine: CoreEngine,
  strategyId: string,
  context: DecisionContext,
  subjectKey: string,
  recorded?: DecisionContext,
): { decision: Decision; latencyMs: number } {
  const options: DecideOptions = recorded === undefined ? { subjectKey } : { subjectKey, facts: recorded };
  const started = performance.now();
  const decision = engine.decide(strategyId, context, options);
  return { decision, latencyMs: performance.now() - started };
}
