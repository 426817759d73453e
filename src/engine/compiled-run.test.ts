import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { DecisionContext } from '../domain/index.js';
import { LgError } from '../domain/index.js';
import { compileStrategy } from './compiler.js';
import { compileContextValidator, reportingValidator } from './context.js';
import { envOf } from '../../test/helpers/engine.js';
import type { InputDecl, StrategyDocument } from './types.js';

const doc: StrategyDocument = {
  id: 'lazy',
  inputs: [
    { name: 'a', type: 'number', required: true },
    { name: 's', type: 'string', allowed: ['A', 'B'] },
  ],
  nodes: [
    {
      id: 'rules',
      type: 'ruleSet',
      mode: 'all',
      rules: [{ id: 'R1', when: 'a > 10', outcome: 'REVIEW', reasons: ['R_MANUAL_REVIEW'] }],
    },
    { id: 'set', type: 'assign', values: { v: 'a * 2' }, limit: 'a * 100' },
  ],
};

describe('lazily built trace', () => {
  it('is an own enumerable property that JSON, spreads and key listings see, built once', () => {
    const d = compileStrategy(doc).run({ a: 20, s: 'A' }, envOf());
    expect(Object.keys(d)).toEqual([
      'strategyId',
      'strategyVersion',
      'engineVersion',
      'outcome',
      'reasons',
      'limitMinor',
      'actions',
      'values',
      'trace',
    ]);
    const json = JSON.parse(JSON.stringify(d)) as { trace: unknown[] };
    expect(json.trace).toEqual([
      { node: 'rules', kind: 'ruleSet', detail: '1 rule(s) fired', fired: ['R1'], inputs: { a: 20 } },
      {
        node: 'set',
        kind: 'assign',
        detail: 'assigned v, limitMinor',
        inputs: { a: 20 },
        values: { v: 40, limitMinor: 2000 },
      },
    ]);
    expect(d.trace).toBe(d.trace);
    expect({ ...d }.trace).toBe(d.trace);
    expect(Object.getOwnPropertyDescriptor(d, 'trace')).toMatchObject({ enumerable: true, writable: true });
  });

  it('shows the inputs as they were when the decision was made', () => {
    const ctx: Record<string, number> = { a: 20 };
    const d = compileStrategy(doc).run(ctx, envOf());
    ctx.a = 1;
    expect(d.trace[0]?.inputs).toEqual({ a: 20 });
  });

  it('records overlay parameters and keeps the trace of a run that failed closed', () => {
    const failing: StrategyDocument = {
      ...doc,
      nodes: [
        doc.nodes[0] as StrategyDocument['nodes'][number],
        { id: 'bad', type: 'assign', values: { v: 'a / 0' } },
      ],
    };
    const d = compileStrategy(failing).run({ a: 20 }, envOf({ params: { p: 1 } }));
    expect(d.engineError).toBe(true);
    expect(d.trace.map((t) => t.node)).toEqual(['$params', 'rules', '$error']);
  });
});

describe('compiled context validator', () => {
  const inputs: InputDecl[] = [
    { name: 'n', type: 'number', min: 0, max: 10, required: true },
    { name: 'i', type: 'integer', allowed: [1, 2, 3] },
    { name: 's', type: 'string', allowed: ['A', 'B'] },
    { name: 'b', type: 'boolean' },
    { name: 'd', type: 'date' },
    { name: 'l', type: 'string[]', allowed: ['x', 'y'] },
  ];
  const value = fc.oneof(
    fc.constant(undefined),
    fc.constant(null),
    fc.integer({ min: -2, max: 12 }),
    fc.double({ noNaN: false }),
    fc.constantFrom('A', 'B', 'C', '2024-01-31', '2024-02-30', true, false, ['x'], ['x', 'z'], [1], {}),
  );
  const context = fc.dictionary(fc.constantFrom('n', 'i', 's', 'b', 'd', 'l', 'extra'), value, {
    maxKeys: 7,
  });

  it('accepts and rejects exactly what the reporting validator does, with the same report', () => {
    const fast = compileContextValidator(inputs);
    const reference = reportingValidator(inputs);
    const outcome = (validate: (c: unknown) => DecisionContext, c: unknown): unknown => {
      try {
        return { ok: validate(c) === c };
      } catch (error) {
        return { code: (error as LgError).code, details: (error as LgError).details };
      }
    };
    fc.assert(
      fc.property(context, (c) => {
        expect(outcome(fast, c)).toEqual(outcome(reference, c));
      }),
      { numRuns: 2000, seed: 7 },
    );
  });
});
