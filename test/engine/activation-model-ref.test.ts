import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STRONG_APPLICANT, type TestApp } from '../helpers/app.js';
import { residentId } from '../core/harness.js';
import { client, person, startCaseApp, type Person } from '../cases/helpers.js';
import { activateCommand, exitCodeFor } from '../../src/cli/commands/strategy.js';
import { isLgError } from '../../src/domain/errors.js';

/**
 * A version whose scorecard `modelRef` names a model, or a pinned model version, the registry does not hold would
 * send every application to REVIEW with R_ENGINE_ERROR from the moment it is active. That is known before the first
 * decision, so the activation is refused (404 LG_MODEL_NOT_FOUND naming the modelRef and its path), as a model
 * activation of an unregistered version is; and so is the four-eyes proposal of it, so no checker is asked to approve
 * what cannot apply. Saving and simulating such a version stay allowed (a simulation shows every replay failing).
 */
type Doc = { version?: number; nodes: { id: string; [k: string]: unknown }[]; [k: string]: unknown };

describe('activating a version whose modelRef resolves to nothing', () => {
  let t: TestApp;
  let analyst: Person;
  let seq = 300;

  beforeAll(async () => {
    ({ t } = await startCaseApp());
    analyst = await person(t, 'Strategy Analyst', 'risk_analyst');
  });
  afterAll(async () => t?.close());

  const saveWith = async (modelRef: object): Promise<number> => {
    const live = (await client(t).get('/v1/strategies/application/versions/1')).json().document as Doc;
    const { version: _v, ...doc } = live;
    const saved = await client(t).post('/v1/strategies', {
      ...doc,
      nodes: live.nodes.map((node) => (node.id === 'score' ? { ...node, modelRef } : node)),
    });
    expect(saved.statusCode, saved.body).toBe(201);
    return saved.json().version as number;
  };
  const scoreNodePath = async () => {
    const live = (await client(t).get('/v1/strategies/application/versions/1')).json().document as Doc;
    return `/nodes/${live.nodes.findIndex((n) => n.id === 'score')}/modelRef`;
  };
  const activeVersion = async (): Promise<number | null> =>
    (
      (await client(t).get('/v1/strategies')).json().strategies as {
        id: string;
        activeVersion: number | null;
      }[]
    ).find((s) => s.id === 'application')?.activeVersion ?? null;

  it('refuses a pinned model version that is not registered, and the live version keeps deciding', async () => {
    const version = await saveWith({ id: 'application-scorecard', version: 99 });
    const act = await client(t).post(`/v1/strategies/application/versions/${version}/activate`, {});
    expect(act.statusCode, act.body).toBe(404);
    expect(act.json().error.code).toBe('LG_MODEL_NOT_FOUND');
    expect(act.json().error.details).toMatchObject({
      strategyId: 'application',
      version,
      models: [{ path: await scoreNodePath(), id: 'application-scorecard', version: 99 }],
    });
    expect(await activeVersion()).toBe(1);
    const res = await client(t).post('/v1/applications', {
      applicant: { name: '陈三', nationalId: residentId('19850101', ++seq), phone: '13900002424' },
      attributes: STRONG_APPLICANT,
    });
    expect(res.json().outcome).toBe('APPROVE');
  });

  it('refuses a model id nothing is registered under', async () => {
    const version = await saveWith({ id: 'no-such-model' });
    const act = await client(t).post(`/v1/strategies/application/versions/${version}/activate`, {});
    expect(act.statusCode, act.body).toBe(404);
    expect(act.json().error.code).toBe('LG_MODEL_NOT_FOUND');
    expect(act.json().error.details.models).toEqual([{ path: await scoreNodePath(), id: 'no-such-model' }]);
  });

  it('activates a version pinned to a registered model version', async () => {
    const version = await saveWith({ id: 'application-scorecard', version: 1 });
    const act = await client(t).post(`/v1/strategies/application/versions/${version}/activate`, {});
    expect(act.statusCode, act.body).toBe(200);
    expect(await activeVersion()).toBe(version);
    expect((await client(t).post('/v1/strategies/application/versions/1/activate', {})).statusCode).toBe(200);
  });

  it('a person’s activation through four eyes is refused before it is proposed', async () => {
    const before = (await client(t).get('/v1/changes')).json();
    const bad = await saveWith({ id: 'application-scorecard', version: 42 });
    const asked = await client(t, analyst.key).post(
      `/v1/strategies/application/versions/${bad}/activate`,
      {},
    );
    expect(asked.statusCode, asked.body).toBe(404);
    expect(asked.json().error.code).toBe('LG_MODEL_NOT_FOUND');
    expect((await client(t).get('/v1/changes')).json()).toEqual(before);
    // A version that can apply is still proposed.
    const good = await client(t, analyst.key).post('/v1/strategies/application/versions/1/activate', {});
    expect(good.statusCode, good.body).toBe(202);
  });

  it('`lineguard strategy activate` exits 2', async () => {
    const version = await saveWith({ id: 'application-scorecard', version: 77 });
    let caught: unknown;
    try {
      await activateCommand(
        t.app.engine,
        { id: 'application', version: String(version) },
        {
          log: () => undefined,
          error: () => undefined,
        },
      );
    } catch (error) {
      caught = error;
    }
    expect(isLgError(caught) && caught.code).toBe('LG_MODEL_NOT_FOUND');
    expect(exitCodeFor(caught)).toBe(2);
  });
});
