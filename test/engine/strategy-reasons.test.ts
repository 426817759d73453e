import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/domain/clock.js';
import { isLgError } from '../../src/domain/errors.js';
import { openStore, type Store } from '../../src/store/db.js';
import { createEngineRepository } from '../../src/store/index.js';
import { openEngine } from '../../src/app/engine.js';
import {
  checkStrategy,
  compileStrategy,
  type EngineService,
  type StrategyDocument,
} from '../../src/engine/index.js';
import { TEST_FIELD_CRYPTO } from '../helpers/stores.js';
import { adminHeaders, startTestApp, type TestApp } from '../helpers/app.js';
import { applicationScorecard } from './fixtures.js';

/**
 * A strategy speaks to the borrower as a person's action does: a decline, and every restriction it asks for, carries
 * at least one catalogue reason that says why — never none, never only "thank you for repaying on time" (the rule a
 * person's reasons meet, src/domain/reason-codes.ts personReasonsProblem). Refused when validated and saved
 * (LG_STRATEGY_INVALID, with the path of the rule), and when a version saved before the rule is activated.
 */
const rules = (...list: object[]): StrategyDocument =>
  ({
    id: 'reasons',
    inputs: [{ name: 'x', type: 'number', required: true }],
    nodes: [{ id: 'n', type: 'ruleSet', mode: 'first-hit', rules: list }],
  }) as unknown as StrategyDocument;

const rule = (effect: object) => ({ id: 'R', when: 'x > 1', ...effect });

const paths = (doc: unknown) => checkStrategy(doc).map((p) => p.path);

describe('strategy validation: adverse outcomes and restrictions say why', () => {
  it('refuses a DECLINE with no reasons, with the path of the rule', () => {
    const problems = checkStrategy(rules(rule({ outcome: 'DECLINE' })));
    expect(problems).toHaveLength(1);
    expect(problems[0]?.path).toBe('/nodes/0/rules/0');
    expect(problems[0]?.message).toMatch(/DECLINE.*reason that says why/);
  });

  it('refuses a DECLINE whose only reasons are favourable, or an empty list topped up by a scorecard', () => {
    expect(paths(rules(rule({ outcome: 'DECLINE', reasons: ['R_GOOD_REPAYMENT'] })))).toEqual([
      '/nodes/0/rules/0/reasons',
    ]);
    expect(
      paths(rules(rule({ outcome: 'DECLINE', reasons: ['R_INCOME_GROWTH', 'R_RISK_RESOLVED'] }))),
    ).toEqual(['/nodes/0/rules/0/reasons']);
    // reasonsFrom adds the model's reasons only for the points the applicant lost: it may add none.
    const scored = {
      id: 'reasons',
      inputs: [{ name: 'x', type: 'number', required: true }],
      nodes: [
        { id: 's', type: 'scorecard', output: 'score', features: [scoredFeature] },
        {
          id: 'cut',
          type: 'ruleSet',
          mode: 'first-hit',
          rules: [{ id: 'LOW', when: 'score < 10', outcome: 'DECLINE', reasons: [], reasonsFrom: 'score' }],
        },
      ],
    };
    expect(paths(scored)).toEqual(['/nodes/1/rules/0/reasons']);
  });

  it('accepts a DECLINE with an adverse reason, favourable ones beside it, or a scorecard topping it up', () => {
    expect(checkStrategy(rules(rule({ outcome: 'DECLINE', reasons: ['R_SCORE_LOW'] })))).toEqual([]);
    expect(
      checkStrategy(rules(rule({ outcome: 'DECLINE', reasons: ['R_GOOD_REPAYMENT', 'R_DAYS_PAST_DUE'] }))),
    ).toEqual([]);
    // Outcomes the core does not treat as adverse (src/cases/outcomes.ts: DECLINE, CANCEL) keep their freedom.
    expect(
      checkStrategy(rules(rule({ outcome: 'REVIEW' }), { ...rule({ outcome: 'HOLD' }), id: 'H' })),
    ).toEqual([]);
  });

  it('refuses DECLINE as the default outcome: a default carries no reasons', () => {
    const doc = {
      ...rules(rule({ outcome: 'APPROVE', reasons: ['R_GOOD_REPAYMENT'] })),
      defaultOutcome: 'DECLINE',
    };
    const problems = checkStrategy(doc);
    expect(problems.map((p) => p.path)).toEqual(['/defaultOutcome']);
    expect(problems[0]?.message).toMatch(/default/);
    expect(checkStrategy({ ...doc, defaultOutcome: 'REVIEW' })).toEqual([]);
  });

  it('refuses a restriction whose reasons, its own or its rule’s, are none or only favourable', () => {
    const freeze = (effect: object) => rules(rule(effect));
    // Its own reasons, only favourable.
    expect(paths(freeze({ actions: [{ type: 'FREEZE_DRAW', reasons: ['R_GOOD_REPAYMENT'] }] }))).toEqual([
      '/nodes/0/rules/0/actions/0/reasons',
    ]);
    // None at all: the action takes the rule's, and the rule has none.
    expect(paths(freeze({ actions: [{ type: 'FREEZE_DRAW' }] }))).toEqual(['/nodes/0/rules/0/actions/0']);
    // The rule's, only favourable.
    expect(
      paths(freeze({ reasons: ['R_RISK_RESOLVED'], actions: [{ type: 'SUSPEND' }, { type: 'UNFREEZE' }] })),
    ).toEqual(['/nodes/0/rules/0/actions/0']);
    // Every restrictive action of the catalogue's list (src/domain/decision.ts RESTRICTIVE_ACTIONS).
    for (const type of ['LIMIT_DECREASE', 'FREEZE_DRAW', 'SUSPEND', 'CLOSE'])
      expect(paths(freeze({ actions: [{ type, limit: '1', reasons: [] }] })), type).toEqual([
        '/nodes/0/rules/0/actions/0/reasons',
      ]);
  });

  it('accepts a restriction that says why, and a favourable reason on what gives the borrower something', () => {
    expect(
      checkStrategy(rules(rule({ reasons: ['R_DAYS_PAST_DUE'], actions: [{ type: 'FREEZE_DRAW' }] }))),
    ).toEqual([]);
    expect(
      checkStrategy(
        rules(rule({ actions: [{ type: 'LIMIT_DECREASE', limit: '100', reasons: ['R_UTILISATION_HIGH'] }] })),
      ),
    ).toEqual([]);
    expect(
      checkStrategy(
        rules(rule({ reasons: ['R_RISK_RESOLVED'], actions: [{ type: 'UNFREEZE' }] }), {
          ...rule({ reasons: ['R_GOOD_REPAYMENT'], actions: [{ type: 'LIMIT_INCREASE', limit: '2' }] }),
          id: 'U',
        }),
      ),
    ).toEqual([]);
  });

  it('checks decision-table rows, their default and score bands the same way', () => {
    const table = {
      id: 'reasons',
      inputs: [{ name: 'x', type: 'number', required: true }],
      nodes: [
        {
          id: 't',
          type: 'decisionTable',
          hitPolicy: 'first',
          inputs: ['x'],
          rows: [
            { when: ['> 5'], outcome: 'DECLINE' },
            { when: ['> 3'], actions: [{ type: 'CLOSE', reasons: ['R_GOOD_REPAYMENT'] }] },
            { when: ['> 2'], outcome: 'DECLINE', reasons: ['R_SCORE_LOW'] },
          ],
          default: { outcome: 'DECLINE', reasons: ['R_INCOME_GROWTH'] },
        },
        {
          id: 'b',
          type: 'ruleSet',
          mode: 'score-sum',
          output: 'total',
          rules: [{ id: 'P', when: 'x > 0', points: 1 }],
          bands: [{ min: 0, outcome: 'DECLINE' }],
        },
      ],
    };
    expect(paths(table)).toEqual([
      '/nodes/0/rows/0',
      '/nodes/0/rows/1/actions/0/reasons',
      '/nodes/0/default/reasons',
      '/nodes/1/bands/0',
    ]);
  });

  it('refuses the reasons only LineGuard’s own automation writes, as for a person', () => {
    // A strategy that cites the fail-closed engine or the blast-radius guard would tell the borrower something that
    // did not happen (and count as an engine error in the metrics).
    expect(paths(rules(rule({ outcome: 'DECLINE', reasons: ['R_ENGINE_ERROR', 'R_SCORE_LOW'] })))).toEqual([
      '/nodes/0/rules/0/reasons',
    ]);
    expect(paths(rules(rule({ outcome: 'REVIEW', reasons: ['R_BLAST_RADIUS_GUARD'] })))).toEqual([
      '/nodes/0/rules/0/reasons',
    ]);
  });

  it('the bundled strategies meet the rule', () => {
    for (const name of ['application', 'draw', 'line-review'])
      expect(checkStrategy(JSON.parse(readFileSync(`strategies/${name}.json`, 'utf8'))), name).toEqual([]);
  });

  it('a version stored before the rule still compiles (an active one keeps deciding after an upgrade)', () => {
    const stored = compileStrategy(rules(rule({ outcome: 'DECLINE' })));
    expect(stored.run({ x: 5 }, { params: {}, models: () => undefined }).outcome).toBe('DECLINE');
  });
});

const scoredFeature = { name: 'x', reason: 'R_SCORE_LOW', bins: [{ when: '-', points: 5 }] };

describe('engine: saving and activating a strategy that declines or restricts without saying why', () => {
  let store: Store;
  let engine: EngineService;
  const clock = new ManualClock(Date.UTC(2025, 5, 1));

  beforeAll(async () => {
    store = await openStore({ sqlitePath: ':memory:' });
    engine = await openEngine({
      store,
      crypto: TEST_FIELD_CRYPTO,
      clock,
      models: (id) => (id === applicationScorecard.id ? applicationScorecard : undefined),
    });
  });
  afterAll(async () => store?.close());

  const codeOf = async (work: () => Promise<unknown>): Promise<string> => {
    try {
      await work();
      return 'no error';
    } catch (error) {
      return isLgError(error) ? error.code : String(error);
    }
  };

  it('saveVersion refuses it with LG_STRATEGY_INVALID', async () => {
    expect(await codeOf(() => engine.saveVersion(rules(rule({ outcome: 'DECLINE' })), 'test'))).toBe(
      'LG_STRATEGY_INVALID',
    );
  });

  it('activating a version saved before the rule is refused, and the active version stays', async () => {
    const good = await engine.saveVersion(
      rules(rule({ outcome: 'DECLINE', reasons: ['R_SCORE_LOW'] })),
      'test',
    );
    await engine.activate('reasons', good.version, 'test');
    // Saved as an older release saved it: through the repository, without the rule.
    const repo = createEngineRepository(store, TEST_FIELD_CRYPTO);
    const old = await repo.saveVersion(rules(rule({ outcome: 'DECLINE' })), {
      by: 'old-release',
      at: clock.now(),
      entryId: '01900000-0000-7000-8000-000000000001',
    });
    let caught: unknown;
    try {
      await engine.activate('reasons', old.version, 'test');
    } catch (error) {
      caught = error;
    }
    expect(isLgError(caught) && caught.code).toBe('LG_STRATEGY_INVALID');
    expect(JSON.stringify(isLgError(caught) && caught.details)).toContain('/nodes/0/rules/0');
    expect(engine.decide('reasons', { x: 5 })).toMatchObject({
      strategyVersion: good.version,
      outcome: 'DECLINE',
      reasons: ['R_SCORE_LOW'],
    });
  });
});

describe('HTTP: a strategy that declines or freezes without saying why', () => {
  let t: TestApp;
  let n = 0;
  const post = (url: string, payload: object) =>
    t.server.inject({ method: 'POST', url, headers: adminHeaders(`srr-${++n}`), payload });

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => t?.close());

  it('validate answers 400 LG_STRATEGY_INVALID naming the rule', async () => {
    const res = await post('/v1/strategies/validate', rules(rule({ outcome: 'DECLINE' })));
    expect(res.statusCode, res.body).toBe(400);
    expect(res.json().error.code).toBe('LG_STRATEGY_INVALID');
    expect(res.json().error.details.errors[0].path).toBe('/nodes/0/rules/0');
  });

  it('a line review that freezes with "thank you for repaying on time" is not saved', async () => {
    const review = {
      id: 'line-review',
      inputs: [{ name: 'lineStatus', type: 'string', required: true }],
      nodes: [
        {
          id: 'thanks',
          type: 'ruleSet',
          mode: 'first-hit',
          rules: [
            {
              id: 'THANKS',
              when: "lineStatus == 'ACTIVE'",
              actions: [{ type: 'FREEZE_DRAW', reasons: ['R_GOOD_REPAYMENT'] }],
            },
          ],
        },
      ],
    };
    const res = await post('/v1/strategies', review);
    expect(res.statusCode, res.body).toBe(400);
    expect(res.json().error.code).toBe('LG_STRATEGY_INVALID');
    expect(res.json().error.details.errors[0].path).toBe('/nodes/0/rules/0/actions/0/reasons');
    const versions = await t.server.inject({
      method: 'GET',
      url: '/v1/strategies/line-review/versions',
      headers: adminHeaders(),
    });
    expect(versions.json().versions.map((v: { version: number }) => v.version)).toEqual([1]);
  });

  it('an application strategy with a DECLINE as its default is not saved', async () => {
    const live = (
      await t.server.inject({
        method: 'GET',
        url: '/v1/strategies/application/versions/1',
        headers: adminHeaders(),
      })
    ).json().document as Record<string, unknown>;
    const res = await post('/v1/strategies', { ...live, defaultOutcome: 'DECLINE' });
    expect(res.statusCode, res.body).toBe(400);
    expect(res.json().error.details.errors.map((e: { path: string }) => e.path)).toEqual(['/defaultOutcome']);
  });
});
