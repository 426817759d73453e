/**
 * Large-strategy benchmark: time per decision for strategies of 10, 100 and 1,000 rules (plus the reference table
 * and scorecard), compiled vs interpreted, to show how cost grows with the rule count. JSON on the last line.
 *   node --import tsx bench/engine/large.ts [--count 20000]
 */
import { performance } from 'node:perf_hooks';
import { compileStrategy } from '../../src/engine/compiler.js';
import { interpretStrategy } from '../../src/engine/interpreter.js';
import { generateContexts, lineGuardStrategy, manyRules, type BenchContext } from './policy.js';

const i = process.argv.indexOf('--count');
const count = i >= 0 ? Number(process.argv[i + 1]) : 20_000;
const contexts = generateContexts(count, 7);
const env = { params: {}, models: () => undefined };

function perDecisionMicros(decide: (ctx: BenchContext) => unknown, n: number): number {
  for (let k = 0; k < Math.min(n, 10_000); k++) decide(contexts[k % contexts.length] as BenchContext);
  const started = performance.now();
  for (let k = 0; k < n; k++) decide(contexts[k % contexts.length] as BenchContext);
  return ((performance.now() - started) * 1000) / n;
}

const results: { rules: number; compiledMicros: number; interpretedMicros: number; compileMs: number }[] = [];
for (const rules of [10, 100, 1000]) {
  const doc = lineGuardStrategy(manyRules(rules));
  const t0 = performance.now();
  const strategy = compileStrategy(doc);
  const compileMs = performance.now() - t0;
  const compiledMicros = perDecisionMicros((ctx) => strategy.run(strategy.validateContext(ctx), env), count);
  // The interpreter re-reads the document each call; fewer runs keep the benchmark short.
  const interpretedMicros = perDecisionMicros(
    (ctx) => interpretStrategy(doc, ctx, env),
    Math.max(200, Math.floor(count / (rules / 10))),
  );
  results.push({
    rules,
    compiledMicros: Number(compiledMicros.toFixed(2)),
    interpretedMicros: Number(interpretedMicros.toFixed(2)),
    compileMs: Number(compileMs.toFixed(1)),
  });
  console.log(
    `${rules} rules: compiled ${compiledMicros.toFixed(2)} µs/decision, interpreted ${interpretedMicros.toFixed(2)} µs, compile ${compileMs.toFixed(1)} ms`,
  );
}
const first = results[0] as (typeof results)[number];
const last = results[results.length - 1] as (typeof results)[number];
console.log(
  JSON.stringify({
    bench: 'engine-large',
    contexts: count,
    results,
    growth: {
      rulesFactor: last.rules / first.rules,
      compiledTimeFactor: Number((last.compiledMicros / first.compiledMicros).toFixed(1)),
    },
    node: process.version,
  }),
);
