import { TEST_FIELD_CRYPTO } from '../helpers/stores.js';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { strategyRoutes } from '../../src/api/routes/strategies.js';
import { ManualClock } from '../../src/domain/clock.js';
import { isLgError } from '../../src/domain/errors.js';
import { openStore, type Store } from '../../src/store/db.js';
import type { EngineService } from '../../src/engine/index.js';
import { openEngine } from '../../src/app/engine.js';
import { recordDecision } from '../../src/store/index.js';
import { applicationScorecard, gateStrategy } from './fixtures.js';

const T0 = Date.UTC(2025, 2, 1);

describe('strategy routes', () => {
  let store: Store;
  let engine: EngineService;
  let app: FastifyInstance;
  const clock = new ManualClock(T0);
  /** Each route's config (roles, idempotent), as registered. */
  const routeConfigs = new Map<string, { roles?: readonly string[]; idempotent?: boolean }>();

  beforeAll(async () => {
    store = await openStore({ sqlitePath: ':memory:' });
    engine = await openEngine({
      store,
      crypto: TEST_FIELD_CRYPTO,
      clock,
      models: (id) => (id === applicationScorecard.id ? applicationScorecard : undefined),
    });
    app = Fastify();
    app.addHook('onRoute', (route) => {
      const methods = Array.isArray(route.method) ? route.method : [route.method];
      for (const method of methods) routeConfigs.set(`${method} ${route.url}`, route.config ?? {});
    });
    app.setErrorHandler((error, _request, reply) => {
      if (isLgError(error)) return reply.code(error.status).send(error.toBody());
      const status = (error as { statusCode?: number }).statusCode ?? 500;
      return reply.code(status).send({ error: { code: 'LG_VALIDATION', message: (error as Error).message } });
    });
    await app.register(strategyRoutes({ engine }));
    await app.ready();
  });
  afterAll(async () => {
    await app?.close();
    await store?.close();
  });

  it('declares roles on every route; writes are for risk writers and take an Idempotency-Key', () => {
    expect(routeConfigs.size).toBeGreaterThan(5);
    for (const [route, config] of routeConfigs) {
      if (route.startsWith('HEAD ')) continue;
      expect(config.roles, route).toBeDefined();
      // GETs and the POSTs that compute without writing (validate, simulate) are open to more roles.
      if (route.startsWith('GET ') || /\/(validate|simulate)$/.test(route)) continue;
      expect(config.roles, route).toEqual(['admin', 'risk_analyst']);
      expect(config.idempotent, route).toBe(true);
    }
    for (const route of [
      'POST /v1/strategies',
      'POST /v1/strategies/:id/versions/:version/activate',
      'POST /v1/strategies/:id/activate',
      'PUT /v1/overlays',
    ])
      expect(routeConfigs.has(route), route).toBe(true);
  });

  it('lists, saves, reads and activates versions', async () => {
    const list = await app.inject({ method: 'GET', url: '/v1/strategies' });
    expect(list.json().strategies.map((s: { id: string }) => s.id)).toEqual([
      'application',
      'draw',
      'line-review',
    ]);
    const saved = await app.inject({ method: 'POST', url: '/v1/strategies', payload: gateStrategy(500) });
    expect(saved.statusCode).toBe(201);
    expect(saved.json()).toMatchObject({ strategyId: 'gate', version: 1, status: 'draft' });
    const got = await app.inject({ method: 'GET', url: '/v1/strategies/gate/versions/1' });
    expect(got.json().document.nodes[0].id).toBe('cut');
    const activated = await app.inject({ method: 'POST', url: '/v1/strategies/gate/versions/1/activate' });
    expect(activated.json()).toMatchObject({ status: 'active', activatedBy: 'anonymous' });
    expect(engine.decide('gate', { score: 400 }).outcome).toBe('DECLINE');
    const versions = await app.inject({ method: 'GET', url: '/v1/strategies/gate/versions' });
    expect(versions.json().activations).toHaveLength(1);
    expect((await app.inject({ method: 'GET', url: '/v1/strategies/nope/versions' })).statusCode).toBe(404);
    expect((await app.inject({ method: 'GET', url: '/v1/strategies/gate/versions/7' })).statusCode).toBe(404);
  });

  it('rejects an invalid document with the path of each problem', async () => {
    const bad = await app.inject({
      method: 'POST',
      url: '/v1/strategies',
      payload: {
        ...gateStrategy(500),
        nodes: [{ id: 'cut', type: 'ruleSet', mode: 'first-hit', rules: [{ id: 'X', when: 'score >>' }] }],
      },
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.code).toBe('LG_STRATEGY_INVALID');
    expect(bad.json().error.details.errors[0].path).toBe('/nodes/0/rules/0/when');
    const schema = await app.inject({ method: 'GET', url: '/v1/strategies/schema' });
    expect(schema.json().title).toBe('LineGuard strategy document');
  });

  it('simulates a candidate over stored decisions and serves a stored decision', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) {
      const context = { score: 450 + 50 * i }; // 450 declined, 500/550/600 approved
      const decision = engine.decide('gate', context);
      const id = `00000000-0000-7000-8000-00000000000${i}`;
      ids.push(id);
      await store.transaction((tx) =>
        recordDecision(
          tx,
          {
            id,
            kind: 'application',
            borrowerId: `b${i}`,
            context,
            decision,
            latencyMs: 0.01,
            decidedAt: T0 + i * 1000,
          },
          TEST_FIELD_CRYPTO,
        ),
      );
    }
    const sim = await app.inject({
      method: 'POST',
      url: '/v1/strategies/gate/simulate',
      payload: { from: '2025-03-01', to: '2025-03-01', document: gateStrategy(560) },
    });
    expect(sim.statusCode).toBe(200);
    const report = sim.json();
    expect(report.decisions).toBe(4);
    expect(report.outcomeMatrix.APPROVE.DECLINE).toBe(2);
    expect(report.outcomeMatrix.DECLINE.DECLINE).toBe(1);
    expect(report.approvalRate).toEqual({ before: 0.75, after: 0.25 });
    expect(report.newlyDeclined.map((s: { borrowerId: string }) => s.borrowerId)).toEqual(['b1', 'b2']);
    const mismatch = await app.inject({
      method: 'POST',
      url: '/v1/strategies/gate/simulate',
      payload: { from: '2025-03-01', to: '2025-03-02', document: { ...gateStrategy(1), id: 'other' } },
    });
    expect(mismatch.statusCode).toBe(400);
    const byVersion = await app.inject({
      method: 'POST',
      url: '/v1/strategies/gate/simulate',
      payload: { from: '2025-03-01T00:00:00Z', to: '2025-03-02', version: 1 },
    });
    expect(byVersion.json().changed).toBe(0);
    const stored = await app.inject({ method: 'GET', url: `/v1/decisions/${ids[0]}` });
    expect(stored.json()).toMatchObject({
      id: ids[0],
      strategyId: 'gate',
      context: { score: 450 },
      decision: { outcome: 'DECLINE' },
    });
    expect((await app.inject({ method: 'GET', url: '/v1/decisions/none' })).statusCode).toBe(404);
  });

  it('sets overlays and shows their history', async () => {
    const put = await app.inject({
      method: 'PUT',
      url: '/v1/overlays',
      payload: { name: 'limitMultiplier', value: 0.8, description: 'downturn' },
    });
    expect(put.json()).toMatchObject({ name: 'limitMultiplier', value: 0.8 });
    expect((await app.inject({ method: 'GET', url: '/v1/overlays' })).json().overlays).toHaveLength(1);
    expect(
      (await app.inject({ method: 'GET', url: '/v1/overlays/history?name=limitMultiplier' })).json().changes,
    ).toHaveLength(1);
    expect(
      (await app.inject({ method: 'PUT', url: '/v1/overlays', payload: { name: 'x y', value: 1 } }))
        .statusCode,
    ).toBe(400);
  });
});
