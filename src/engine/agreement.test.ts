import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Decision, DecisionContext, Outcome } from '../domain/index.js';
import { compileStrategy } from './compiler.js';
import { interpretStrategy } from './interpreter.js';
import { envOf } from '../../test/helpers/engine.js';
import type { CellSource, NodeDoc, StrategyDocument } from './types.js';

/**
 * Property: the compiled closures and the tree-walking interpreter reach the same decision (outcome, reasons,
 * actions, limit, rate, values, path and fired rules; or both fail closed) on random documents and random inputs.
 */
const NUM_INPUTS = ['x0', 'x1', 'x2', 'x3'];
const OUTCOMES: Outcome[] = ['APPROVE', 'DECLINE', 'REVIEW', 'CHALLENGE', 'COOLDOWN', 'HOLD'];
const REASONS = ['R_SCORE_LOW', 'R_NEW_DEVICE', 'R_INQUIRY_VELOCITY', 'R_DRAW_VELOCITY', 'R_COOLING_OFF'];

const numLeaf = fc.oneof(
  fc.integer({ min: -5, max: 20 }).map(String),
  fc.constantFrom(...NUM_INPUTS),
  fc.constant('param.p'),
);

const { num, bool } = fc.letrec<{ num: string; bool: string }>((tie) => ({
  num: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    numLeaf,
    fc
      .tuple(tie('num'), fc.constantFrom('+', '-', '*', '/', '%'), tie('num'))
      .map(([a, op, b]) => `(${a} ${op} ${b})`),
    tie('num').map((a) => `-${a}`),
    fc.tuple(tie('num'), tie('num')).map(([a, b]) => `min(${a}, ${b})`),
    fc.tuple(tie('num'), tie('num')).map(([a, b]) => `max(${a}, ${b})`),
    tie('num').map((a) => `abs(${a})`),
    tie('num').map((a) => `round(${a}, 1)`),
    tie('num').map((a) => `floor(${a})`),
    tie('num').map((a) => `clamp(${a}, 0, 10)`),
    fc.tuple(tie('num'), tie('num')).map(([a, b]) => `(${a} ?? ${b})`),
    fc.tuple(tie('bool'), tie('num'), tie('num')).map(([c, a, b]) => `if(${c}, ${a}, ${b})`),
  ),
  bool: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constantFrom('true', 'false', "s0 in ['A', 'B']", "s0 == 'C'", 'isNull(x3)'),
    fc
      .tuple(tie('num'), fc.constantFrom('<', '<=', '>', '>=', '==', '!='), tie('num'))
      .map(([a, op, b]) => `${a} ${op} ${b}`),
    fc.tuple(tie('num'), tie('num'), tie('num')).map(([a, b, c]) => `${a} between ${b} and ${c}`),
    tie('num').map((a) => `${a} in [1, 2, 3]`),
    tie('num').map((a) => `${a} not in [0, 5]`),
    tie('bool').map((a) => `not (${a})`),
    fc.tuple(tie('bool'), fc.constantFrom('and', 'or'), tie('bool')).map(([a, op, b]) => `(${a} ${op} ${b})`),
  ),
}));

const outcome = fc.option(fc.constantFrom(...OUTCOMES), { nil: undefined });
const reasons = fc.subarray(REASONS, { maxLength: 2 });
const cell: fc.Arbitrary<CellSource> = fc.constantFrom(
  '-',
  '[0..5)',
  '(..0]',
  '>= 3',
  '!= 2',
  2,
  null,
  [1, 2, 3],
  '[-5..20]',
  '(2..)',
);

function ruleSetNode(id: string): fc.Arbitrary<NodeDoc> {
  return fc.constantFrom('first-hit', 'all', 'score-sum').chain((mode) =>
    fc
      .array(
        fc.record({
          when: bool,
          outcome,
          reasons,
          points: fc.integer({ min: -10, max: 50 }),
          limit: fc.option(num, { nil: undefined }),
        }),
        { minLength: 1, maxLength: 4 },
      )
      .chain((rules) =>
        fc
          .array(fc.record({ min: fc.integer({ min: -10, max: 100 }), outcome, reasons }), { maxLength: 3 })
          .map((bands): NodeDoc =>
            mode === 'score-sum'
              ? {
                  id,
                  type: 'ruleSet',
                  mode,
                  output: `${id}Total`,
                  rules: rules.map((r, i) => ({
                    id: `r${i}`,
                    when: r.when,
                    points: r.points,
                    reasons: r.reasons,
                  })),
                  bands,
                }
              : {
                  id,
                  type: 'ruleSet',
                  mode: mode as 'first-hit' | 'all',
                  rules: rules.map((r, i) => ({
                    id: `r${i}`,
                    when: r.when,
                    ...(r.outcome ? { outcome: r.outcome } : {}),
                    reasons: r.reasons,
                    ...(r.limit
                      ? { actions: [{ type: 'LIMIT_DECREASE' as const, limit: `abs(${r.limit})` }] }
                      : {}),
                  })),
                },
          ),
      ),
  );
}

function tableNode(id: string): fc.Arbitrary<NodeDoc> {
  return fc
    .record({
      hitPolicy: fc.constantFrom('first', 'unique', 'collect'),
      inputs: fc.tuple(num, num),
      rows: fc.array(fc.record({ a: cell, b: cell, out: num, outcome, reasons }), {
        minLength: 1,
        maxLength: 5,
      }),
      aggregate: fc.constantFrom('list', 'sum', 'count', 'max'),
      withDefault: fc.boolean(),
    })
    .map((t): NodeDoc => ({
      id,
      type: 'decisionTable',
      hitPolicy: t.hitPolicy as 'first' | 'unique' | 'collect',
      aggregate: t.aggregate as 'list' | 'sum' | 'count' | 'max',
      inputs: [...t.inputs],
      outputs: [`${id}Out`],
      rows: t.rows.map((r) => ({
        when: [r.a, r.b],
        then: [{ expr: r.out }],
        ...(r.outcome ? { outcome: r.outcome } : {}),
        reasons: r.reasons,
      })),
      ...(t.withDefault ? { default: { then: [7], outcome: 'REVIEW' as const } } : {}),
    }));
}

function assignNode(id: string): fc.Arbitrary<NodeDoc> {
  return fc.record({ v: num, limit: num, useLimit: fc.boolean() }).map((a): NodeDoc => ({
    id,
    type: 'assign',
    values: { [`${id}V`]: a.v },
    ...(a.useLimit ? { limit: `abs(${a.limit}) * 100` } : {}),
  }));
}

function branchedDoc(): fc.Arbitrary<StrategyDocument> {
  return fc
    .record({
      kinds: fc.array(fc.constantFrom('rules', 'table', 'assign'), { minLength: 1, maxLength: 4 }),
      branchWhen: bool,
      stopOnNothing: fc.boolean(),
    })
    .chain(({ kinds, branchWhen, stopOnNothing }) =>
      fc
        .tuple(
          ...kinds.map((k, i) =>
            k === 'rules' ? ruleSetNode(`n${i}`) : k === 'table' ? tableNode(`n${i}`) : assignNode(`n${i}`),
          ),
        )
        .map((nodes): StrategyDocument => ({
          id: 'prop',
          inputs: [
            ...NUM_INPUTS.map((name) => ({ name, type: 'number' as const })),
            { name: 's0', type: 'string' as const },
          ],
          params: { p: { default: 3 } },
          ...(stopOnNothing ? { stopOn: [] } : {}),
          nodes: [
            {
              id: 'split',
              type: 'branch',
              branches: [{ when: branchWhen, next: nodes[nodes.length - 1]?.id ?? 'end' }],
              otherwise: nodes[0]?.id ?? 'end',
            },
            ...nodes,
          ],
        })),
    );
}

const context: fc.Arbitrary<DecisionContext> = fc.record(
  {
    x0: fc.oneof(fc.integer({ min: -5, max: 20 }), fc.constant(null)),
    x1: fc.integer({ min: -5, max: 20 }),
    x2: fc.double({ min: -10, max: 10, noNaN: true, noDefaultInfinity: true }),
    x3: fc.oneof(fc.integer({ min: 0, max: 5 }), fc.constant(null)),
    s0: fc.constantFrom('A', 'B', 'C'),
  },
  { requiredKeys: ['x1'] },
);

function comparable(d: Decision) {
  if (d.engineError) return { engineError: true, outcome: d.outcome, reasons: d.reasons };
  return { ...d, trace: d.trace.map((t) => ({ node: t.node, kind: t.kind, fired: t.fired ?? null })) };
}

describe('compiler agrees with the interpreter', () => {
  it('on random rule sets, tables, assignments, branches and expressions', () => {
    let errors = 0;
    let total = 0;
    fc.assert(
      fc.property(
        branchedDoc(),
        fc.array(context, { minLength: 1, maxLength: 5 }),
        fc.integer({ min: -3, max: 3 }),
        (document, contexts, p) => {
          const compiled = compileStrategy(document);
          for (const ctx of contexts) {
            const env = envOf({ params: { p } });
            const a = compiled.run(ctx, env);
            const b = interpretStrategy(document, ctx, env);
            total++;
            if (a.engineError) errors++;
            expect(comparable(b)).toEqual(comparable(a));
            if (a.engineError) expect(a.outcome).toBe('REVIEW');
          }
        },
      ),
      { numRuns: 400, seed: 20240601 },
    );
    // The generator must mostly exercise successful paths, not only the error path.
    expect(errors / total).toBeLessThan(0.5);
  });
});
