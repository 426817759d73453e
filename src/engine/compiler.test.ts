import { describe, expect, it } from 'vitest';
import { LgError } from '../domain/index.js';
import type { Decision, DecisionContext } from '../domain/index.js';
import { compileStrategy } from './compiler.js';
import { validateContext } from './context.js';
import { interpretStrategy } from './interpreter.js';
import { envOf, fakeScorer, resolverOf } from '../../test/helpers/engine.js';
import type { NodeDoc, StrategyDocument, InputDecl } from './types.js';
import { splitBucket, type RunEnv } from './runtime.js';
import { checkStrategy } from './validate.js';

const INPUTS: InputDecl[] = [
  { name: 'a', type: 'number' },
  { name: 'b', type: 'number' },
  { name: 's', type: 'string' },
  { name: 'income', type: 'number' },
  { name: 'delinquencies', type: 'integer' },
];

function doc(nodes: NodeDoc[], extra: Partial<StrategyDocument> = {}): StrategyDocument {
  return { id: 'test', inputs: INPUTS, nodes, ...extra };
}

/** Runs both evaluators and insists they agree on everything decision-relevant. */
function decide(document: StrategyDocument, ctx: DecisionContext, env: RunEnv = envOf()): Decision {
  const compiled = compileStrategy(document).run(ctx, env);
  const interpreted = interpretStrategy(document, ctx, env);
  const strip = (d: Decision) => ({
    ...d,
    trace: d.trace.map((t) => ({ node: t.node, kind: t.kind, fired: t.fired })),
  });
  if (!compiled.engineError) expect(strip(interpreted)).toEqual(strip(compiled));
  else expect(interpreted.engineError).toBe(true);
  return compiled;
}

describe('ruleSet', () => {
  const rules = [
    { id: 'R1', when: 'a > 10', outcome: 'REVIEW' as const, reasons: ['R_INQUIRY_VELOCITY'] },
    { id: 'R2', when: 'a > 5', outcome: 'DECLINE' as const, reasons: ['R_SCORE_LOW'] },
    { id: 'R3', when: 'b > 0', outcome: 'CHALLENGE' as const, reasons: ['R_NEW_DEVICE'] },
  ];

  it('first-hit applies only the first matching rule', () => {
    const d = decide(doc([{ id: 'n', type: 'ruleSet', mode: 'first-hit', rules }]), { a: 20, b: 1 });
    expect(d.outcome).toBe('REVIEW');
    expect(d.reasons).toEqual(['R_INQUIRY_VELOCITY']);
    expect(d.trace.at(-1)?.fired).toEqual(['R1']);
    expect(d.trace.at(-1)?.inputs).toEqual({ a: 20, b: 1 });
  });

  it('all applies every matching rule; precedence picks the outcome and orders the reasons', () => {
    const d = decide(doc([{ id: 'n', type: 'ruleSet', mode: 'all', rules }]), { a: 20, b: 1 });
    expect(d.outcome).toBe('DECLINE');
    expect(d.reasons).toEqual(['R_SCORE_LOW', 'R_INQUIRY_VELOCITY', 'R_NEW_DEVICE']);
  });

  it('an explicit precedence overrides the default', () => {
    const precedence = ['REVIEW', 'DECLINE', 'HOLD', 'CHALLENGE', 'COOLDOWN', 'APPROVE'] as const;
    const d = decide(
      doc([{ id: 'n', type: 'ruleSet', mode: 'all', rules }], {
        outcomePrecedence: [...precedence],
        stopOn: [],
      }),
      { a: 20, b: 1 },
    );
    expect(d.outcome).toBe('REVIEW');
    expect(d.reasons[0]).toBe('R_INQUIRY_VELOCITY');
  });

  it('score-sum adds points and applies the highest band reached with the fired rules cited', () => {
    const node: NodeDoc = {
      id: 'fraud',
      type: 'ruleSet',
      mode: 'score-sum',
      output: 'fraudPoints',
      rules: [
        { id: 'P1', when: 'a > 1', points: 30, reasons: ['R_NEW_DEVICE'] },
        { id: 'P2', when: 'b > 1', points: 50, reasons: ['R_ACCOUNT_TAKEOVER'] },
        { id: 'P3', when: "s == 'x'", points: 5 },
      ],
      bands: [
        { min: 40, outcome: 'CHALLENGE', reasons: ['R_MANUAL_REVIEW'] },
        { min: 75, outcome: 'HOLD' },
      ],
    };
    const d = decide(doc([node]), { a: 2, b: 2, s: 'y' });
    expect(d.values.fraudPoints).toBe(80);
    expect(d.outcome).toBe('HOLD');
    expect(d.reasons).toEqual(['R_NEW_DEVICE', 'R_ACCOUNT_TAKEOVER']);
    const low = decide(doc([node]), { a: 2, b: 0, s: 'x' });
    expect(low.values.fraudPoints).toBe(35);
    expect(low.outcome).toBe('APPROVE');
    expect(low.reasons).toEqual([]);
  });

  it('stops the flow at a DECLINE by default', () => {
    const d = decide(
      doc([
        {
          id: 'gate',
          type: 'ruleSet',
          mode: 'first-hit',
          rules: [{ id: 'G', when: 'a < 0', outcome: 'DECLINE', reasons: ['R_BLACKLIST'] }],
        },
        { id: 'later', type: 'assign', values: { v: 'a / 0' } },
      ]),
      { a: -1 },
    );
    expect(d.outcome).toBe('DECLINE');
    expect(d.engineError).toBeUndefined();
    expect(d.trace.map((t) => t.node)).toEqual(['gate']);
  });
});

describe('decisionTable', () => {
  const table = (hitPolicy: 'first' | 'unique' | 'collect', aggregate?: 'sum'): NodeDoc => ({
    id: 'price',
    type: 'decisionTable',
    hitPolicy,
    ...(aggregate ? { aggregate } : {}),
    inputs: ['a', 's'],
    outputs: ['rate'],
    rows: [
      { id: 'low', when: ['(..600)', '-'], then: [0.2], outcome: 'REVIEW', reasons: ['R_SCORE_LOW'] },
      { id: 'mid', when: ['[600..700)', ['A', 'B']], then: [0.15] },
      { id: 'midOther', when: ['[600..700)', '-'], then: [{ expr: 'a / 5000' }] },
      { id: 'high', when: ['>= 700', '!= Z'], then: [0.1] },
    ],
    default: { then: [null], outcome: 'DECLINE', reasons: ['R_SCORE_LOW'] },
  });

  it('first: the first matching row, with ranges, sets and comparisons', () => {
    expect(decide(doc([table('first')]), { a: 650, s: 'A' }).values.rate).toBe(0.15);
    expect(decide(doc([table('first')]), { a: 650, s: 'C' }).values.rate).toBe(0.13);
    expect(decide(doc([table('first')]), { a: 599.99, s: 'A' }).outcome).toBe('REVIEW');
    expect(decide(doc([table('first')]), { a: 800, s: 'A' }).values.rate).toBe(0.1);
    const none = decide(doc([table('first')]), { a: 800, s: 'Z' });
    expect(none.values.rate).toBeNull();
    expect(none.outcome).toBe('DECLINE');
  });

  it('a null input matches only "-" cells', () => {
    const d = decide(doc([table('first')]), { s: 'A' });
    expect(d.outcome).toBe('DECLINE');
  });

  it('unique: two matching rows fail closed', () => {
    const d = decide(doc([table('unique')]), { a: 650, s: 'A' });
    expect(d.engineError).toBe(true);
    expect(d.outcome).toBe('REVIEW');
    expect(d.reasons).toEqual(['R_ENGINE_ERROR']);
    expect(decide(doc([table('unique')]), { a: 650, s: 'C' }).values.rate).toBe(0.13);
  });

  it('collect: every matching row, aggregated', () => {
    expect(decide(doc([table('collect')]), { a: 650, s: 'A' }).values.rate).toEqual([0.15, 0.13]);
    expect(decide(doc([table('collect', 'sum')]), { a: 650, s: 'A' }).values.rate).toBeCloseTo(0.28, 10);
  });
});

describe('scorecard and model', () => {
  const inline: NodeDoc = {
    id: 'card',
    type: 'scorecard',
    output: 'score',
    base: 500,
    features: [
      {
        name: 'a',
        reason: 'R_CHECKING_ACCOUNT',
        bins: [
          { when: '(..0)', points: 0 },
          { when: '[0..100)', points: 20 },
          { when: '-', points: 40 },
        ],
      },
      {
        name: 's',
        reason: 'R_PURPOSE',
        bins: [
          { when: ['car'], points: 30 },
          { when: '-', points: 10 },
        ],
      },
      {
        name: 'b',
        input: 'b ?? 0',
        reason: 'R_CREDIT_HISTORY',
        bins: [
          { when: '[0..2]', points: 25 },
          { when: '-', points: 0 },
        ],
      },
    ],
  };

  it('inline bins add up and the largest point losses become reasons, in order', () => {
    const d = decide(
      doc([
        inline,
        {
          id: 'cut',
          type: 'ruleSet',
          mode: 'first-hit',
          rules: [
            {
              id: 'C',
              when: 'score < 560',
              outcome: 'DECLINE',
              reasons: ['R_SCORE_LOW'],
              reasonsFrom: 'score',
            },
          ],
        },
      ]),
      { a: -5, s: 'boat', b: 1 },
    );
    expect(d.values.score).toBe(535);
    expect(d.outcome).toBe('DECLINE');
    // a lost 40, s lost 20, b lost 0
    expect(d.reasons).toEqual(['R_SCORE_LOW', 'R_CHECKING_ACCOUNT', 'R_PURPOSE']);
  });

  it('a stored scorer by modelRef writes score and pd; catalogue reasons only', () => {
    const d = decide(
      doc([
        { id: 'sc', type: 'scorecard', output: 'score', pdOutput: 'pd', modelRef: { id: 'test-scorecard' } },
        {
          id: 'cut',
          type: 'ruleSet',
          mode: 'first-hit',
          rules: [
            {
              id: 'C',
              when: 'score < 650',
              outcome: 'DECLINE',
              reasons: ['R_SCORE_LOW'],
              reasonsFrom: 'score',
            },
          ],
        },
      ]),
      { income: 30000, delinquencies: 1 },
    );
    expect(d.values.score).toBe(630);
    expect(d.values.pd).toBeCloseTo(1 / (1 + Math.exp(130 / 28.85)), 12);
    expect(d.reasons).toEqual(['R_SCORE_LOW', 'R_DELINQUENT_EXTERNAL', 'R_INCOME_INSUFFICIENT']);
  });

  it('the model node resolves by id and version and maps inputs', () => {
    const env = envOf({
      models: resolverOf(fakeScorer('m', 1), {
        ...fakeScorer('m', 2),
        score: () => ({ score: 1, pd: 0.9, reasons: [] }),
      }),
    });
    const node: NodeDoc = {
      id: 'm',
      type: 'model',
      modelRef: { id: 'm', version: 1 },
      output: 'ms',
      modelInputs: { income: 'a * 1000' },
    };
    const d = decide(doc([node]), { a: 60, delinquencies: 0 }, env);
    expect(d.values.ms).toBe(700);
    const v2 = decide(
      doc([{ ...node, modelRef: { id: 'm', version: 2 } } as NodeDoc]),
      { a: 60, delinquencies: 0 },
      env,
    );
    expect(v2.values.ms).toBe(1);
  });

  it('a missing model or a scorer that throws fails closed', () => {
    const missing = decide(doc([{ id: 'm', type: 'model', modelRef: { id: 'nope' }, output: 'x' }]), {});
    expect(missing).toMatchObject({ outcome: 'REVIEW', reasons: ['R_ENGINE_ERROR'], engineError: true });
    expect(missing.trace.at(-1)?.detail).toMatch(/model 'nope'/);
    const throws = decide(
      doc([{ id: 'm', type: 'model', modelRef: { id: 'test-scorecard' }, output: 'x' }]),
      { income: 1 },
    );
    expect(throws.engineError).toBe(true);
  });
});

describe('assign, branch, split, shadow', () => {
  it('assign computes values, a matrix lookup, a floored limit and a rate', () => {
    const d = decide(
      doc(
        [
          {
            id: 'offer',
            type: 'assign',
            matrices: [
              {
                output: 'mult',
                row: 'a',
                rowBins: ['(..600)', '[600..]'],
                col: 'income',
                colBins: ['(..5000)', '[5000..]'],
                cells: [
                  [1, 2],
                  [3, 4],
                ],
              },
            ],
            values: { raw: 'income * mult * param.k' },
            limit: 'raw + 0.9',
            rate: 'round(0.1 + a / 10000, 4)',
          },
        ],
        { params: { k: { default: 1 } } },
      ),
      { a: 650, income: 6000 },
      envOf({ params: { k: 1.5 } }),
    );
    expect(d.values).toMatchObject({ mult: 4, raw: 36000 });
    expect(d.limitMinor).toBe(36000);
    expect(d.annualRate).toBe(0.165);
  });

  it('branch routes by condition', () => {
    const nodes: NodeDoc[] = [
      { id: 'route', type: 'branch', branches: [{ when: 'a > 0', next: 'pos' }], otherwise: 'neg' },
      { id: 'pos', type: 'assign', values: { sign: '1' }, next: 'end' },
      { id: 'neg', type: 'assign', values: { sign: '-1' } },
    ];
    expect(decide(doc(nodes), { a: 3 }).values.sign).toBe(1);
    expect(decide(doc(nodes), { a: -3 }).values.sign).toBe(-1);
    expect(decide(doc(nodes), { a: -3 }).trace.map((t) => t.node)).toEqual(['route', 'neg']);
  });

  it('split assigns arms by a stable hash in the stated proportions', () => {
    const nodes: NodeDoc[] = [
      {
        id: 'ab',
        type: 'split',
        arms: [
          { name: 'champion', percent: 80, next: 'c' },
          { name: 'challenger', percent: 20, next: 'x' },
        ],
      },
      { id: 'c', type: 'assign', values: { arm: "'c'" }, next: 'end' },
      { id: 'x', type: 'assign', values: { arm: "'x'" } },
    ];
    const compiled = compileStrategy(doc(nodes));
    let challengers = 0;
    for (let i = 0; i < 5000; i++) {
      const subjectKey = `borrower-${i}`;
      const d = compiled.run({}, envOf({ subjectKey }));
      if (d.values.abArm === 'challenger') challengers++;
      expect(d.values.arm).toBe(d.values.abArm === 'challenger' ? 'x' : 'c');
      expect(splitBucket(subjectKey, 'test')).toBe(splitBucket(subjectKey, 'test'));
    }
    expect(challengers / 5000).toBeGreaterThan(0.18);
    expect(challengers / 5000).toBeLessThan(0.22);
    expect(decide(doc(nodes), {}, envOf({ subjectKey: 'borrower-7' })).values.abArm).toBe(
      compiled.run({}, envOf({ subjectKey: 'borrower-7' })).values.abArm,
    );
    expect(compiled.run({}, envOf()).values.abArm).toBe('champion');
  });

  it('shadow records the other strategy and never acts on it', () => {
    const d = decide(
      doc([{ id: 'sh', type: 'shadow', strategy: 'candidate' }]),
      {},
      envOf({
        shadow: (strategyId) => ({
          strategyId,
          strategyVersion: 3,
          outcome: 'DECLINE',
          reasons: ['R_SCORE_LOW'],
        }),
      }),
    );
    expect(d.outcome).toBe('APPROVE');
    expect(d.shadows).toEqual([
      { strategyId: 'candidate', strategyVersion: 3, outcome: 'DECLINE', reasons: ['R_SCORE_LOW'] },
    ]);
  });

  it('rule actions carry computed limits and the rule reasons', () => {
    const d = decide(
      doc([
        {
          id: 'r',
          type: 'ruleSet',
          mode: 'first-hit',
          rules: [
            {
              id: 'DEC',
              when: 'a > 0',
              reasons: ['R_INQUIRY_VELOCITY'],
              actions: [{ type: 'LIMIT_DECREASE', limit: 'a * 0.75' }],
            },
          ],
        },
      ]),
      { a: 1001 },
    );
    expect(d.actions).toEqual([{ type: 'LIMIT_DECREASE', limitMinor: 750, reasons: ['R_INQUIRY_VELOCITY'] }]);
    expect(d.outcome).toBe('APPROVE');
  });
});

describe('fail closed', () => {
  it.each([
    ['division by zero', 'a / b > 1', { a: 1, b: 0 }],
    ['type error', 's > 1', { s: 'x' }],
    ['uncomputed value', 'v > 1', {}],
  ])('%s yields REVIEW with R_ENGINE_ERROR and never APPROVE', (_name, when, ctx) => {
    const document = doc([
      { id: 'r', type: 'ruleSet', mode: 'first-hit', rules: [{ id: 'X', when, outcome: 'APPROVE' }] },
      { id: 'later', type: 'assign', values: { v: '1' } },
    ]);
    const d = decide(document, ctx);
    expect(d).toMatchObject({
      outcome: 'REVIEW',
      reasons: ['R_ENGINE_ERROR'],
      engineError: true,
      actions: [],
    });
  });

  it('a limit that is not a number fails closed', () => {
    const d = decide(doc([{ id: 'o', type: 'assign', limit: 'a' }]), {});
    expect(d.engineError).toBe(true);
  });
});

describe('context validation', () => {
  const document = doc(
    [{ id: 'r', type: 'ruleSet', mode: 'first-hit', rules: [{ id: 'X', when: 'true' }] }],
    {
      inputs: [
        { name: 'age', type: 'integer', required: true, min: 18, max: 100 },
        { name: 'status', type: 'string', allowed: ['ACTIVE', 'CLOSED'] },
        { name: 'since', type: 'date' },
        { name: 'tags', type: 'string[]' },
        { name: 'ok', type: 'boolean' },
      ],
    },
  );

  it('accepts a fitting context and optional nulls', () => {
    expect(() =>
      validateContext(document, { age: 30, status: 'ACTIVE', since: '2024-02-29', tags: ['a'], ok: null }),
    ).not.toThrow();
  });

  it('names every unknown, ill-typed, out-of-range and missing input', () => {
    try {
      validateContext(document, {
        age: 17.5,
        status: 'OPEN',
        since: '2023-02-29',
        tags: 'a',
        ok: 'yes',
        extra: 1,
      });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(LgError);
      expect((error as LgError).code).toBe('LG_CONTEXT_INVALID');
      const errors = ((error as LgError).details as { errors: { input: string; problem: string }[] }).errors;
      expect(errors.map((e) => e.input).sort()).toEqual(['age', 'extra', 'ok', 'since', 'status', 'tags']);
    }
    try {
      validateContext(document, {});
      expect.unreachable();
    } catch (error) {
      expect(((error as LgError).details as { errors: unknown[] }).errors).toEqual([
        { input: 'age', problem: 'is required' },
      ]);
    }
  });
});

describe('strategy validation', () => {
  it('points at the exact JSON path of each problem', () => {
    const problems = checkStrategy({
      id: 'bad',
      inputs: [{ name: 'a', type: 'number' }],
      nodes: [
        {
          id: 'r',
          type: 'ruleSet',
          mode: 'first-hit',
          rules: [{ id: 'X', when: 'a >', outcome: 'DECLINE', reasons: ['R_NOPE'] }],
        },
        {
          id: 't',
          type: 'decisionTable',
          hitPolicy: 'first',
          inputs: ['zz'],
          rows: [{ when: ['[5..1]', 1] }],
        },
        { id: 'b', type: 'branch', branches: [{ when: 'param.q', next: 'missing' }], otherwise: 'r' },
      ],
    });
    const byPath = Object.fromEntries(problems.map((p) => [p.path, p.message]));
    expect(byPath['/nodes/0/rules/0/when']).toMatch(/unexpected end of expression at position 4/);
    expect(byPath['/nodes/0/rules/0/reasons/0']).toMatch(/unknown reason code 'R_NOPE'/);
    expect(byPath['/nodes/1/inputs/0']).toMatch(/unknown name 'zz'/);
    expect(byPath['/nodes/1/rows/0/when']).toMatch(/2 cells for 1 inputs/);
    expect(byPath['/nodes/1/rows/0/when/0']).toMatch(/lower bound above/);
    expect(byPath['/nodes/2/branches/0/when']).toMatch(/unknown parameter 'param.q'/);
    expect(byPath['/nodes/2/branches/0/next']).toMatch(/no node with id 'missing'/);
  });

  it('reports schema errors with paths and rejects loops', () => {
    const schema = checkStrategy({
      id: 'x',
      inputs: [{ name: 'a', type: 'decimal' }],
      nodes: [{ id: 'n', type: 'ruleSet', mode: 'first-hit', rules: [], bogus: 1 }],
    });
    expect(schema.map((p) => p.path)).toEqual(expect.arrayContaining(['/inputs/0/type', '/nodes/0']));
    const loop = checkStrategy({
      id: 'x',
      inputs: [],
      nodes: [
        { id: 'a', type: 'assign', values: {}, next: 'b' },
        { id: 'b', type: 'assign', values: {}, next: 'a' },
      ],
    });
    expect(loop[0]?.message).toMatch(/loops back/);
  });
});
