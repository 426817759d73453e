/**
 * Engine benchmark: the same reference policy (policy.ts) as a LineGuard strategy, json-rules-engine rules and a
 * GoRules ZEN graph, on the same seeded contexts in one process. Checks that all three reach the same outcome on every
 * context, then prints decisions/s for each, LineGuard p50/p99 per decision, and the ratios, as JSON on the last line.
 *   node --import tsx bench/engine/run.ts [--count 100000] [--jre-count N]
 */
import { performance } from 'node:perf_hooks';
import { Engine as RulesEngine } from 'json-rules-engine';
import type { Outcome } from '../../src/domain/decision.js';
import { compileStrategy } from '../../src/engine/compiler.js';
import {
  generateContexts,
  jsonRulesEngineRules,
  lineGuardStrategy,
  outcomeFromEvents,
  zenGraph,
  type BenchContext,
} from './policy.js';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

const count = arg('count', 100_000);
const contexts = generateContexts(count);

function lineGuard(): {
  outcomes: Outcome[];
  perSecond: number;
  perSecondWithTrace: number;
  p50us: number;
  p99us: number;
} {
  const strategy = compileStrategy(lineGuardStrategy());
  const env = { params: {}, models: () => undefined };
  const decide = (ctx: BenchContext): Outcome => strategy.run(strategy.validateContext(ctx), env).outcome;
  for (let i = 0; i < 20_000; i++) decide(contexts[i % contexts.length] as BenchContext); // warm-up (JIT)
  const outcomes = new Array<Outcome>(contexts.length);
  const started = performance.now();
  for (let i = 0; i < contexts.length; i++) outcomes[i] = decide(contexts[i] as BenchContext);
  const elapsedMs = performance.now() - started;
  // The same decisions with the trace read (materialised) each time, as when every decision is persisted.
  let steps = 0;
  const startedWithTrace = performance.now();
  for (let i = 0; i < contexts.length; i++)
    steps += strategy.run(strategy.validateContext(contexts[i] as BenchContext), env).trace.length;
  const perSecondWithTrace = (contexts.length / (performance.now() - startedWithTrace)) * 1000;
  if (steps < contexts.length) throw new Error('every decision has a trace');
  // Per-decision latency, timed one by one in a second pass.
  const samples = new Float64Array(contexts.length);
  for (let i = 0; i < contexts.length; i++) {
    const t0 = process.hrtime.bigint();
    decide(contexts[i] as BenchContext);
    samples[i] = Number(process.hrtime.bigint() - t0) / 1000;
  }
  samples.sort();
  const q = (p: number): number =>
    samples[Math.min(samples.length - 1, Math.floor(p * samples.length))] as number;
  return {
    outcomes,
    perSecond: (contexts.length / elapsedMs) * 1000,
    perSecondWithTrace,
    p50us: q(0.5),
    p99us: q(0.99),
  };
}

async function jsonRules(subset: number): Promise<{ outcomes: Outcome[]; perSecond: number }> {
  const engine = new RulesEngine(jsonRulesEngineRules(), { allowUndefinedFacts: false });
  const run = async (ctx: BenchContext): Promise<Outcome> =>
    outcomeFromEvents((await engine.run(ctx)).events);
  for (let i = 0; i < 500; i++) await run(contexts[i] as BenchContext);
  const outcomes = new Array<Outcome>(subset);
  const started = performance.now();
  for (let i = 0; i < subset; i++) outcomes[i] = await run(contexts[i] as BenchContext);
  return { outcomes, perSecond: (subset / (performance.now() - started)) * 1000 };
}

/** The part of GoRules ZEN's API the benchmark uses. */
interface ZenEngineLike {
  createDecision(graph: object): { evaluate(context: object): Promise<{ result: { outcome?: unknown } }> };
  dispose(): void;
}

/**
 * ZEN ships native builds per platform, and some of them are not on every registry mirror, which breaks `npm ci` of
 * a lock file that lists it; so it is not a project dependency and `npm run bench:engine` installs it without saving.
 */
async function loadZen(): Promise<new () => ZenEngineLike> {
  const name = '@gorules/zen-engine';
  try {
    const mod = (await import(name)) as { ZenEngine: new () => ZenEngineLike };
    return mod.ZenEngine;
  } catch {
    throw new Error(
      'GoRules ZEN is not installed; run `npm run bench:engine` (it installs @gorules/zen-engine without saving)',
    );
  }
}

async function zen(): Promise<{ outcomes: Outcome[]; perSecond: number; perSecondConcurrent: number }> {
  const ZenEngine = await loadZen();
  const engine = new ZenEngine();
  const decision = engine.createDecision(zenGraph());
  const run = async (ctx: BenchContext): Promise<Outcome> =>
    (await decision.evaluate(ctx)).result.outcome as Outcome;
  for (let i = 0; i < 2_000; i++) await run(contexts[i] as BenchContext);
  const outcomes = new Array<Outcome>(contexts.length);
  let started = performance.now();
  for (let i = 0; i < contexts.length; i++) outcomes[i] = await run(contexts[i] as BenchContext);
  const perSecond = (contexts.length / (performance.now() - started)) * 1000;
  // ZEN's evaluate is async (native); give it its best case too: 64 evaluations in flight.
  started = performance.now();
  for (let i = 0; i < contexts.length; i += 64) {
    await Promise.all(contexts.slice(i, i + 64).map((ctx) => run(ctx)));
  }
  const perSecondConcurrent = (contexts.length / (performance.now() - started)) * 1000;
  engine.dispose();
  return { outcomes, perSecond, perSecondConcurrent };
}

function agreement(
  a: readonly Outcome[],
  b: readonly Outcome[],
): { agree: number; of: number; firstDisagreement?: number } {
  let agree = 0;
  let first: number | undefined;
  for (let i = 0; i < b.length; i++) {
    if (a[i] === b[i]) agree++;
    else first ??= i;
  }
  return { agree, of: b.length, ...(first === undefined ? {} : { firstDisagreement: first }) };
}

const lg = lineGuard();
console.log(
  `LineGuard: ${Math.round(lg.perSecond).toLocaleString()} decisions/s (${Math.round(lg.perSecondWithTrace).toLocaleString()}/s reading the trace), p50 ${lg.p50us.toFixed(2)} µs, p99 ${lg.p99us.toFixed(2)} µs`,
);
const z = await zen();
console.log(
  `ZEN: ${Math.round(z.perSecond).toLocaleString()} decisions/s sequential, ${Math.round(z.perSecondConcurrent).toLocaleString()}/s with 64 in flight`,
);
const jreCount = Math.min(arg('jre-count', count), count);
const j = await jsonRules(jreCount);
console.log(
  `json-rules-engine: ${Math.round(j.perSecond).toLocaleString()} decisions/s (${jreCount.toLocaleString()} contexts)`,
);

const vsZen = agreement(lg.outcomes, z.outcomes);
const vsJre = agreement(lg.outcomes, j.outcomes);
const distribution: Record<string, number> = {};
for (const o of lg.outcomes) distribution[o] = (distribution[o] ?? 0) + 1;
console.log(
  `agreement LineGuard vs ZEN: ${vsZen.agree}/${vsZen.of}; LineGuard vs json-rules-engine: ${vsJre.agree}/${vsJre.of}`,
);
const allAgree = vsZen.agree === vsZen.of && vsJre.agree === vsJre.of;
if (!allAgree) {
  const i = vsZen.firstDisagreement ?? vsJre.firstDisagreement ?? 0;
  console.log(
    'first disagreement',
    JSON.stringify({
      context: contexts[i],
      lineGuard: lg.outcomes[i],
      zen: z.outcomes[i],
      jre: j.outcomes[i],
    }),
  );
}
const bestZen = Math.max(z.perSecond, z.perSecondConcurrent);
console.log(
  JSON.stringify({
    bench: 'engine',
    contexts: count,
    rules: 32,
    agreement: { zen: vsZen.agree / vsZen.of, jsonRulesEngine: vsJre.agree / vsJre.of, valid: allAgree },
    outcomeDistribution: distribution,
    decisionsPerSecond: {
      lineGuard: Math.round(lg.perSecond),
      lineGuardReadingTrace: Math.round(lg.perSecondWithTrace),
      zenSequential: Math.round(z.perSecond),
      zenConcurrent64: Math.round(z.perSecondConcurrent),
      jsonRulesEngine: Math.round(j.perSecond),
    },
    lineGuardLatencyMicros: { p50: Number(lg.p50us.toFixed(2)), p99: Number(lg.p99us.toFixed(2)) },
    ratios: {
      lineGuardVsBestZen: Number((lg.perSecond / bestZen).toFixed(1)),
      lineGuardVsJsonRulesEngine: Number((lg.perSecond / j.perSecond).toFixed(1)),
    },
    node: process.version,
  }),
);
if (!allAgree) process.exitCode = 1;
