import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalJson } from '../../src/domain/index.js';
import { openDecision, sealDecisionColumns } from '../../src/compliance/sealed-decisions.js';
import { STRONG_APPLICANT, adminHeaders, startTestApp, type TestApp } from '../helpers/app.js';
import { residentId } from '../core/harness.js';

/**
 * README "Simulation is what activation will do", for the facts the core computes itself (age from the resident ID,
 * the lists' verdict, exposure, bureau figures). A decision records every fact the core computed for it, whether or
 * not the version deciding it read the fact; the live engine is handed only the inputs its version declares, and so is
 * each replay (a candidate's) and each shadow (its own). A fact a candidate reads that a decision lacks (recorded
 * before the core recorded every fact, or one it did not compute then) is never replayed as absent: the decision is
 * left out of the figures and counted in `missingFacts`.
 */
type Doc = {
  id: string;
  version?: number;
  inputs: { name: string; type: string }[];
  nodes: { id: string; type: string; rules?: { id: string; [k: string]: unknown }[]; [k: string]: unknown }[];
  [k: string]: unknown;
};

interface Report {
  decisions: number;
  changed: number;
  contextErrors: number;
  engineErrors: { before: number; after: number };
  outcomeMatrix: Record<'APPROVE' | 'DECLINE' | 'REVIEW', Record<'APPROVE' | 'DECLINE' | 'REVIEW', number>>;
  approvalRate: { before: number; after: number };
  missingFacts: {
    count: number;
    inputs: Record<string, number>;
    decisionIds: string[];
    handling: string;
  };
}

describe('simulation and shadows see the facts the core computed, as activation would', () => {
  let t: TestApp;
  let n = 0;
  let seq = 700;
  let live: Doc;
  const post = (url: string, payload: object) =>
    t.server.inject({ method: 'POST', url, headers: adminHeaders(`scf-${++n}`), payload });
  const apply = (phone: string) =>
    post('/v1/applications', {
      applicant: { name: '周八', nationalId: residentId('19850101', ++seq), phone },
      attributes: STRONG_APPLICANT,
    });
  const list = async (kind: 'black' | 'grey', phone: string) => {
    const res = await post('/v1/lists', {
      list: kind,
      entityType: 'phoneHash',
      value: phone,
      reason: 'reports of fraud',
      source: 'analyst',
    });
    expect(res.statusCode, res.body).toBe(201);
  };
  const simulate = async (document: Doc, from: string, to: string): Promise<Report> => {
    const sim = await post('/v1/strategies/application/simulate', { from, to, document });
    expect(sim.statusCode, sim.body).toBe(200);
    return sim.json<Report>();
  };
  const activate = async (document: Doc | number) => {
    let version = document;
    if (typeof version !== 'number') {
      const saved = await post('/v1/strategies', version);
      expect(saved.statusCode, saved.body).toBe(201);
      version = saved.json<{ version: number }>().version;
    }
    const act = await post(
      `/v1/strategies/${typeof document === 'number' ? 'application' : document.id}/versions/${version}/activate`,
      {},
    );
    expect(act.statusCode, act.body).toBe(200);
  };
  const withoutVersion = (doc: Doc): Doc => {
    const { version: _v, ...rest } = doc;
    return rest as Doc;
  };
  /** The bundled strategy, plus a first rule that refers a grey-listed applicant. */
  const readingGreylisted = (): Doc => {
    const candidate = withoutVersion(live);
    candidate.inputs = [...live.inputs, { name: 'greylisted', type: 'boolean' }];
    candidate.nodes = [
      {
        id: 'grey',
        type: 'ruleSet',
        mode: 'first-hit',
        rules: [{ id: 'GREY', when: 'greylisted ?? false', outcome: 'REVIEW', reasons: ['R_MANUAL_REVIEW'] }],
      },
      ...live.nodes,
    ];
    return candidate;
  };
  const window = () => {
    const from = new Date(Date.now() - 1).toISOString();
    return { from, to: () => new Date(Date.now() + 1000).toISOString() };
  };

  beforeAll(async () => {
    t = await startTestApp();
    const res = await t.server.inject({
      method: 'GET',
      url: '/v1/strategies/application/versions/1',
      headers: adminHeaders(),
    });
    live = res.json<{ document: Doc }>().document;
    expect(live.inputs.map((i) => i.name)).toContain('blacklisted');
    expect(live.inputs.map((i) => i.name)).not.toContain('greylisted');
  });
  afterAll(async () => t?.close());

  it('a candidate that no longer reads `blacklisted` replays without errors, as activated it decides', async () => {
    await activate(1);
    const w = window();
    for (let i = 0; i < 3; i++) {
      const res = await apply('13900001111');
      expect(res.statusCode, res.body).toBe(201);
      expect(res.json().outcome).toBe('APPROVE');
    }
    await list('black', '13900001112');
    const declined = await apply('13900001112');
    expect(declined.json().outcome).toBe('DECLINE');
    const to = w.to();

    const candidate = withoutVersion(live);
    candidate.inputs = live.inputs.filter((i) => i.name !== 'blacklisted');
    candidate.nodes = live.nodes.map((node) =>
      node.id === 'eligibility' ? { ...node, rules: node.rules?.filter((r) => r.id !== 'BLACKLIST') } : node,
    );
    const report = await simulate(candidate, w.from, to);
    expect(report).toMatchObject({
      decisions: 4,
      contextErrors: 0,
      engineErrors: { before: 0, after: 0 },
      changed: 0,
      missingFacts: { count: 0, inputs: {}, decisionIds: [] },
    });
    expect(report.outcomeMatrix.APPROVE.APPROVE).toBe(3);
    // The core's own black list still declines, before and after.
    expect(report.outcomeMatrix.DECLINE.DECLINE).toBe(1);

    // Replaying the live version over the same decisions changes nothing.
    const itself = await simulate(live, w.from, to);
    expect(itself).toMatchObject({ decisions: 4, changed: 0, contextErrors: 0, missingFacts: { count: 0 } });

    await activate(candidate);
    const after = await apply('13900001111');
    expect(after.statusCode, after.body).toBe(201);
    expect(after.json().outcome).toBe('APPROVE');
    const blackAfter = await apply('13900001112');
    expect(blackAfter.json().outcome).toBe('DECLINE');
  });

  it('a candidate that starts reading `greylisted` sees it in the replay, as activated it refers', async () => {
    await activate(1);
    const phone = '13900002222';
    await list('grey', phone);
    const w = window();
    const first = await apply(phone);
    expect(first.statusCode, first.body).toBe(201);
    expect(first.json().outcome).toBe('APPROVE'); // the bundled strategy does not read greylisted
    const clean = await apply('13900002223');
    expect(clean.json().outcome).toBe('APPROVE');
    const to = w.to();

    const candidate = readingGreylisted();
    const report = await simulate(candidate, w.from, to);
    expect(report).toMatchObject({
      decisions: 2,
      changed: 1,
      contextErrors: 0,
      missingFacts: { count: 0, inputs: {}, decisionIds: [] },
    });
    expect(report.outcomeMatrix.APPROVE.REVIEW).toBe(1);
    expect(report.outcomeMatrix.APPROVE.APPROVE).toBe(1);

    await activate(candidate);
    const again = await apply(phone);
    expect(again.statusCode, again.body).toBe(201);
    expect(again.json().outcome).toBe('REVIEW');
    expect(again.json().reasons).toContain('R_MANUAL_REVIEW');
    await activate(1);
  });

  it('a decision recorded without a fact the candidate reads is reported missing, not replayed as absent', async () => {
    await activate(1);
    const phone = '13900003333';
    await list('grey', phone);
    const w = window();
    const recorded = await apply(phone);
    expect(recorded.json().outcome).toBe('APPROVE');
    const old = await apply(phone);
    expect(old.json().outcome).toBe('APPROVE');
    const oldId = old.json<{ decisionId: string }>().decisionId;
    const to = w.to();

    // `old` as recorded before the core recorded every fact: its context holds only what version 1 declares.
    const row = await t.app.store.db
      .selectFrom('decisions')
      .select(['id', 'context', 'trace', 'result'])
      .where('id', '=', oldId)
      .executeTakeFirstOrThrow();
    const opened = openDecision(t.app.crypto, row);
    const context = JSON.parse(opened.context) as Record<string, unknown>;
    expect(context.greylisted).toBe(true); // recorded now, though version 1 does not read it
    const declared = new Set(live.inputs.map((i) => i.name));
    const asBefore = Object.fromEntries(Object.entries(context).filter(([k]) => declared.has(k)));
    const sealed = sealDecisionColumns(t.app.crypto, oldId, {
      context: canonicalJson(asBefore),
      trace: opened.trace,
      result: '{}',
    });
    await t.app.store.db
      .updateTable('decisions')
      .set({ context: sealed.context, trace: sealed.trace })
      .where('id', '=', oldId)
      .execute();

    const report = await simulate(readingGreylisted(), w.from, to);
    expect(report.missingFacts).toEqual({
      count: 1,
      inputs: { greylisted: 1 },
      decisionIds: [oldId],
      handling: 'excluded',
    });
    // Only the decision that recorded the fact is in the figures: referred, as live.
    expect(report).toMatchObject({ decisions: 1, changed: 1, contextErrors: 0 });
    expect(report.outcomeMatrix.APPROVE.REVIEW).toBe(1);

    // The live version reads no fact the old decision lacks: it replays all of it, unchanged.
    const itself = await simulate(live, w.from, to);
    expect(itself).toMatchObject({ decisions: 2, changed: 0, contextErrors: 0, missingFacts: { count: 0 } });
  });

  it('a shadow (challenger) strategy that reads `greylisted` sees the fact on live traffic', async () => {
    const shadow = {
      id: 'application-shadow',
      inputs: [{ name: 'greylisted', type: 'boolean' }],
      nodes: [
        {
          id: 'grey',
          type: 'ruleSet',
          mode: 'first-hit',
          rules: [
            { id: 'GREY', when: 'greylisted ?? false', outcome: 'REVIEW', reasons: ['R_MANUAL_REVIEW'] },
          ],
        },
      ],
    } as unknown as Doc;
    await activate(shadow);
    const champion = withoutVersion(live);
    champion.nodes = [{ id: 'shadow', type: 'shadow', strategy: 'application-shadow' }, ...live.nodes];
    await activate(champion);

    const phone = '13900004444';
    await list('grey', phone);
    const res = await apply(phone);
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json().outcome).toBe('APPROVE'); // the champion does not read it
    const stored = await t.server.inject({
      method: 'GET',
      url: `/v1/decisions/${res.json<{ decisionId: string }>().decisionId}`,
      headers: adminHeaders(),
    });
    // Every fact about the credit is recorded (the grey list, unread by the champion); the person's sex and birth
    // region, which no strategy here reads, are not.
    const context = stored.json().context as Record<string, unknown>;
    expect(context).toMatchObject({ greylisted: true });
    expect(context).not.toHaveProperty('sex');
    expect(context).not.toHaveProperty('regionCode');
    expect(stored.json().decision.shadows).toEqual([
      expect.objectContaining({
        strategyId: 'application-shadow',
        outcome: 'REVIEW',
        reasons: ['R_MANUAL_REVIEW'],
      }),
    ]);
    await activate(1);
  });
});
