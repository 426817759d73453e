/**
 * Issue 12, "Change safety", through the whole application as `lineguard serve` and the CLI wire it:
 * - an activation from another process (the CLI on the same SQLite file, another server on PostgreSQL) decides on
 *   every running instance, and GET /v1/strategies reports what decides;
 * - `model register` never changes live scoring, not even after a restart; `model activate` does, recorded.
 * Each test failed on the code before the fix.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { verifyLedger } from '../../src/compliance/ledger.js';
import { createIsolatedPostgresSchema } from '../../src/store/db.js';
import { runModelRegister } from '../../src/cli/commands/model.js';
import { modelActivateCommand } from '../../src/cli/commands/model-registry.js';
import { STRONG_APPLICANT, adminHeaders, startTestApp, type TestApp } from '../helpers/app.js';
import { TEST_DATABASE_URL, decisionContextOf } from '../helpers/stores.js';
import { residentId } from '../core/harness.js';
import type { DecisionContext, Outcome } from '../../src/domain/decision.js';

const DRAW_CONTEXT = {
  lineStatus: 'ACTIVE',
  availableMinor: 1_000_000,
  amountMinor: 200_000,
  limitMinor: 1_000_000,
};
const APPLICANT = { age: 45, ...STRONG_APPLICANT };

async function dropSchema(url: string): Promise<void> {
  const schema = /search_path=([a-z0-9_]+)/.exec(decodeURIComponent(url))?.[1];
  if (!schema || !TEST_DATABASE_URL) return;
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await client.connect();
  await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await client.end();
}

/** Saves the live draw strategy again as a new version and activates it through `by` (another process). */
async function activateNewDrawVersion(by: TestApp): Promise<number> {
  const live = (await by.app.engine.getVersion('draw', 1)).document;
  const saved = await by.app.engine.saveVersion(live, 'cli:ops');
  await by.app.engine.activate('draw', saved.version, 'cli:ops');
  return saved.version;
}

async function expectSeenBy(server: TestApp, version: number): Promise<void> {
  // Observed, not timed: the instance polls every 500 ms; the wait only bounds a hung test.
  await vi.waitFor(
    () => expect(server.app.engine.decide('draw', DRAW_CONTEXT).strategyVersion).toBe(version),
    { timeout: 10_000, interval: 50 },
  );
  const listed = await server.server.inject({
    method: 'GET',
    url: '/v1/strategies',
    headers: adminHeaders(),
  });
  expect(listed.json().strategies.find((s: { id: string }) => s.id === 'draw')).toMatchObject({
    activeVersion: version,
    decidingVersion: version,
  });
}

describe('an activation from another process decides on a running server', () => {
  const open: TestApp[] = [];
  afterAll(async () => {
    for (const t of open.reverse()) await t.close();
  });

  it('on one SQLite file (the CLI beside `lineguard serve`)', async () => {
    const server = await startTestApp();
    open.push(server);
    const cli = await startTestApp({ LINEGUARD_DB: server.app.config.sqlitePath });
    open.push(cli);
    const version = await activateNewDrawVersion(cli);
    await expectSeenBy(server, version);
  });

  it.skipIf(!TEST_DATABASE_URL)('on PostgreSQL (two servers)', async () => {
    const url = await createIsolatedPostgresSchema(TEST_DATABASE_URL ?? '', 'engine_fleet');
    try {
      const a = await startTestApp({ LINEGUARD_DATABASE_URL: url });
      open.push(a);
      const b = await startTestApp({ LINEGUARD_DATABASE_URL: url });
      open.push(b);
      const version = await activateNewDrawVersion(b);
      await expectSeenBy(a, version);
      // And back: a rollback through the first server reaches the second.
      await a.app.engine.activate('draw', 1, 'risk-lead');
      await expectSeenBy(b, 1);
    } finally {
      for (const t of open.splice(0).reverse()) await t.close();
      await dropSchema(url);
    }
  });
});

describe('registering a model never changes live scoring', () => {
  let t: TestApp | undefined;
  afterAll(async () => t?.close());

  it('scores identically after `model register` and a restart; `model activate` switches, recorded', async () => {
    t = await startTestApp();
    const db = t.app.config.sqlitePath;
    const before = t.app.engine.decide('application', APPLICANT);
    expect(typeof before.values.score).toBe('number');

    // A retrained model: every score 40 points lower.
    const model = JSON.parse(readFileSync('models/application-scorecard.json', 'utf8')) as {
      scorecard: { basePoints: number };
    };
    model.scorecard.basePoints -= 40;
    const file = join(t.dataDir, 'retrained.json');
    writeFileSync(file, JSON.stringify(model));
    const registered = await runModelRegister(t.app.models, { model: file, id: 'application-scorecard' });
    expect(registered.version).toBe(2);
    expect(t.app.engine.decide('application', APPLICANT).values.score).toBe(before.values.score);

    // Restart: the strategy (unchanged) still scores with the active version.
    await t.close();
    t = await startTestApp({ LINEGUARD_DB: db });
    expect(t.app.engine.decide('application', APPLICANT).values.score).toBe(before.values.score);

    // The explicit activation switches live scoring, and is on the chain.
    await modelActivateCommand(
      t.app.models,
      { id: 'application-scorecard', version: 2, by: 'risk-lead' },
      { log: () => undefined },
    );
    await t.app.engine.refresh();
    expect(t.app.engine.decide('application', APPLICANT).values.score).toBe(Number(before.values.score) - 40);
    const entries = await t.app.store.db
      .selectFrom('ledger_entries')
      .select(['kind', 'payload'])
      .where('kind', 'in', ['model.registered', 'model.activated'])
      .orderBy('seq')
      .execute();
    expect(entries.map((e) => [e.kind, JSON.parse(e.payload) as Record<string, unknown>])).toEqual([
      ['model.registered', expect.objectContaining({ modelId: 'application-scorecard', version: 1 })],
      [
        'model.activated',
        expect.objectContaining({ modelId: 'application-scorecard', version: 1, previousVersion: null }),
      ],
      ['model.registered', expect.objectContaining({ modelId: 'application-scorecard', version: 2 })],
      [
        'model.activated',
        expect.objectContaining({
          modelId: 'application-scorecard',
          version: 2,
          previousVersion: 1,
          activatedBy: 'risk-lead',
        }),
      ],
    ]);
    await expect(t.app.models.activate('application-scorecard', 9, 'x')).rejects.toMatchObject({
      code: 'LG_MODEL_NOT_FOUND',
    });
    expect((await verifyLedger(t.app.store.db)).ok).toBe(true);
  });
});

describe('overlays over HTTP', () => {
  let t: TestApp | undefined;
  afterAll(async () => t?.close());

  it('answer 400 naming a misspelt overlay or an absurd value, and GET /v1/overlays shows the bounds', async () => {
    t = await startTestApp();
    const put = (key: string, payload: object) =>
      t!.server.inject({ method: 'PUT', url: '/v1/overlays', headers: adminHeaders(key), payload });
    const misspelt = await put('o-1', { name: 'limitMultipler', value: 0.5 });
    expect(misspelt.statusCode).toBe(400);
    expect(misspelt.json().error).toMatchObject({
      code: 'LG_OVERLAY_UNKNOWN',
      details: { name: 'limitMultipler' },
    });
    const absurd = await put('o-2', { name: 'limitMultiplier', value: 50 });
    expect(absurd.statusCode).toBe(400);
    expect(absurd.json().error).toMatchObject({
      code: 'LG_OVERLAY_OUT_OF_BOUNDS',
      details: { name: 'limitMultiplier', value: 50, min: 0, max: 2 },
    });
    expect((await put('o-3', { name: 'limitMultiplier', value: 0.9 })).statusCode).toBe(200);
    const listed = (
      await t.server.inject({ method: 'GET', url: '/v1/overlays', headers: adminHeaders() })
    ).json();
    expect(listed.overlays).toEqual([
      expect.objectContaining({ name: 'limitMultiplier', value: 0.9, inForce: true }),
    ]);
    expect(listed.declarations).toContainEqual(
      expect.objectContaining({ name: 'limitMultiplier', type: 'number', min: 0, max: 2 }),
    );
  });
});

describe('the issue’s own case, through the API with the bundled scorecard', () => {
  let t: TestApp | undefined;
  afterAll(async () => t?.close());

  it('a candidate raising cutoffScore 500 -> 700: simulated outcomes match the activated candidate 100%', async () => {
    t = await startTestApp();
    const server = t.server;
    const from = new Date(Date.now() - 1000).toISOString();
    const checking = ['lt.0', '0.to.200', 'gt.200', 'none'];
    const history = ['Critical', 'Delay', 'PaidDuly', 'NoCredit.AllPaid'];
    for (let i = 0; i < 24; i++) {
      const applied = await server.inject({
        method: 'POST',
        url: '/v1/applications',
        headers: adminHeaders(`issue-12-${i}`),
        payload: {
          applicant: {
            name: '测试',
            nationalId: residentId('19800101', 100 + i),
            phone: `1390000${String(1000 + i)}`,
          },
          attributes: {
            ...STRONG_APPLICANT,
            CheckingAccountStatus: checking[i % 4],
            CreditHistory: history[Math.floor(i / 4) % 4],
            Duration: [6, 24, 48][i % 3],
          },
        },
      });
      expect(applied.statusCode, applied.body).toBeLessThan(300);
    }
    const to = new Date(Date.now() + 1000).toISOString();
    const live = (
      await server.inject({
        method: 'GET',
        url: '/v1/strategies/application/versions/1',
        headers: adminHeaders(),
      })
    ).json().document as { params: Record<string, { default: number }> };
    const candidate = { ...live, params: { ...live.params, cutoffScore: { default: 700 } } };
    const simulated = await server.inject({
      method: 'POST',
      url: '/v1/strategies/application/simulate',
      headers: adminHeaders(),
      payload: { from, to, document: candidate },
    });
    expect(simulated.statusCode, simulated.body).toBe(200);
    const report = simulated.json();
    expect(report.decisions).toBe(24);

    const saved = await server.inject({
      method: 'POST',
      url: '/v1/strategies',
      headers: adminHeaders('issue-12-save'),
      payload: candidate,
    });
    const version = saved.json().version as number;
    const activated = await server.inject({
      method: 'POST',
      url: `/v1/strategies/application/versions/${version}/activate`,
      headers: adminHeaders('issue-12-activate'),
    });
    expect(activated.statusCode, activated.body).toBe(200);
    const stored = await t.app.store.db
      .selectFrom('decisions')
      .select(['id', 'outcome', 'context', 'trace', 'subject_key'])
      .where('kind', '=', 'application')
      .execute();
    const live2 = new Map<string, number>();
    // A decision records every fact the core computed; the engine is handed the ones the active version declares.
    const declared = t.app.engine.inputsOf('application') ?? new Set<string>();
    for (const row of stored) {
      const recorded = decisionContextOf(t.app.crypto, row) as DecisionContext;
      const context = Object.fromEntries(Object.entries(recorded).filter(([k]) => declared.has(k)));
      const after = t.app.engine.decide('application', context, {
        ...(row.subject_key ? { subjectKey: row.subject_key } : {}),
      });
      expect(after.strategyVersion).toBe(version);
      const key = `${row.outcome as Outcome}->${after.outcome}`;
      live2.set(key, (live2.get(key) ?? 0) + 1);
    }
    const fromReport = new Map<string, number>();
    for (const [before, row] of Object.entries(
      report.outcomeMatrix as Record<string, Record<string, number>>,
    ))
      for (const [after, n] of Object.entries(row)) if (n > 0) fromReport.set(`${before}->${after}`, n);
    expect(fromReport).toEqual(live2);
    expect(report.parameterChanges).toEqual([
      { name: 'cutoffScore', before: 500, after: 700, overlaidReplays: 0 },
    ]);
    expect(report.changed).toBeGreaterThan(0);
  });
});
