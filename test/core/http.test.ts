import { decisionContextOf } from '../helpers/stores.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { createApiKey } from '../../src/api/api-keys.js';
import { seededRandom } from '../../src/domain/random.js';
import { uuidv7Generator } from '../../src/domain/ids.js';
import { verifyLedger } from '../../src/compliance/ledger.js';
import { openEngine } from '../../src/app/engine.js';
import { coreEngineFromService } from '../../src/app/core-engine.js';
import { createCoreServices } from '../../src/core/index.js';
import { openStore, type Store } from '../../src/store/db.js';
import { ADULT, coreServer, makeCore, residentId, type Harness } from './harness.js';

interface Keys {
  service: string;
  analyst: string;
  auditor: string;
}

async function keysFor(store: Store, h: Harness): Promise<Keys> {
  const random = seededRandom(3);
  const deps = { clock: h.clock, ids: uuidv7Generator(h.clock, random), random };
  return {
    service: (await createApiKey(store.db, deps, 'service')).key,
    analyst: (await createApiKey(store.db, deps, 'risk_analyst')).key,
    auditor: (await createApiKey(store.db, deps, 'auditor')).key,
  };
}

describe('credit-line core over HTTP', () => {
  let store: Store;
  let h: Harness;
  let app: FastifyInstance;
  let keys: Keys;
  let gate: Promise<void> | undefined;
  let key = 0;
  const nextKey = () => `k-${++key}`;

  beforeAll(async () => {
    store = await openStore({ sqlitePath: ':memory:' });
    h = makeCore(store);
    // A gate in the draw path lets a test hold a request in flight.
    Object.assign(h.deps, { drawSignals: async () => (gate ? (await gate, {}) : {}) });
    keys = await keysFor(store, h);
    app = await coreServer(store, h);
  });
  afterAll(async () => {
    await app?.close();
    await store?.close();
  });

  const call = (
    method: 'GET' | 'POST',
    url: string,
    opts: { body?: unknown; auth?: string | null; idem?: string | null } = {},
  ) =>
    app.inject({
      method,
      url,
      headers: {
        ...(opts.auth === null ? {} : { authorization: `Bearer ${opts.auth ?? keys.service}` }),
        ...(method === 'POST' && opts.idem !== null ? { 'idempotency-key': opts.idem ?? nextKey() } : {}),
      },
      ...(opts.body === undefined ? {} : { payload: opts.body as Record<string, unknown> }),
    });

  let lineId = '';
  let loanId = '';

  it('applies: 201 with a masked borrower and an ACTIVE line', async () => {
    h.engine.script.application = () => ({ outcome: 'APPROVE', limitMinor: 2_000_000, annualRate: 0.18 });
    const res = await call('POST', '/v1/applications', {
      body: { applicant: ADULT, attributes: { monthlyIncomeMinor: 800_000 } },
    });
    expect(res.statusCode).toBe(201);
    const body = res.json<{ line: { id: string }; borrower: { nationalId: string; name: string } }>();
    expect(body.borrower.nationalId).toMatch(/^110\*{11}\d{3}[\dX]$/);
    expect(body.borrower.name).toBe('王**');
    expect(res.body).not.toContain(ADULT.nationalId);
    lineId = body.line.id;
  });

  it('401 without a key, 403 with the wrong role', async () => {
    expect((await call('GET', `/v1/lines/${lineId}`, { auth: null })).statusCode).toBe(401);
    const forbidden = await call('POST', `/v1/lines/${lineId}/draws`, {
      auth: keys.auditor,
      body: { amountMinor: 1, currency: 'CNY', termMonths: 1, method: 'EQUAL_INSTALLMENT' },
    });
    expect(forbidden.statusCode).toBe(403);
    expect(forbidden.json()).toMatchObject({ error: { code: 'LG_FORBIDDEN' } });
    const serviceAction = await call('POST', `/v1/lines/${lineId}/actions`, {
      body: { type: 'FREEZE_DRAW', reasons: ['R_NEW_DEVICE'] },
    });
    expect(serviceAction.statusCode).toBe(403);
    expect((await call('GET', `/v1/lines/${lineId}`, { auth: keys.auditor })).statusCode).toBe(200);
  });

  it('validates: 400 naming the bad fields, invalid ID reasons, 413 on a huge body, 404 on an unknown line', async () => {
    const bad = await call('POST', `/v1/lines/${lineId}/draws`, {
      body: { amountMinor: 1.5, currency: 'cny', termMonths: 0, method: 'BALLOON', extra: 1 },
    });
    expect(bad.statusCode).toBe(400);
    const text = bad.body;
    for (const field of ['amountMinor', 'currency', 'termMonths', 'method']) expect(text).toContain(field);
    const badId = await call('POST', '/v1/applications', {
      body: { applicant: { ...ADULT, nationalId: '11010119900307123' }, attributes: {} },
    });
    expect(badId.statusCode).toBe(400);
    expect(badId.json()).toMatchObject({
      error: { code: 'LG_INVALID_NATIONAL_ID', details: { reason: 'length' } },
    });
    const young = await call('POST', '/v1/applications', {
      body: { applicant: { ...ADULT, nationalId: residentId('20150101') }, attributes: {} },
    });
    expect(young.statusCode).toBe(422);
    expect(young.json()).toMatchObject({ error: { code: 'LG_BORROWER_UNDERAGE' } });
    const huge = await call('POST', '/v1/applications', {
      body: { applicant: ADULT, attributes: { note: 'x'.repeat(20_000) } },
    });
    expect(huge.statusCode).toBe(413);
    const missing = await call('GET', '/v1/lines/01890000-0000-7000-8000-000000000000');
    expect(missing.statusCode).toBe(404);
    const noKey = await call('POST', `/v1/lines/${lineId}/draws`, {
      idem: null,
      body: { amountMinor: 100, currency: 'CNY', termMonths: 1, method: 'EQUAL_INSTALLMENT' },
    });
    expect(noKey.statusCode).toBe(400);
    expect(noKey.json()).toMatchObject({ error: { code: 'LG_IDEMPOTENCY_KEY_REQUIRED' } });
  });

  it('draws idempotently: a replay returns the first response byte for byte, another body is 422', async () => {
    const body = {
      amountMinor: 500_000,
      currency: 'CNY',
      termMonths: 6,
      method: 'EQUAL_INSTALLMENT',
      deviceId: 'dev-1',
    };
    const first = await call('POST', `/v1/lines/${lineId}/draws`, { body, idem: 'draw-1' });
    expect(first.statusCode).toBe(201);
    loanId = first.json<{ loan: { id: string } }>().loan.id;
    const replay = await call('POST', `/v1/lines/${lineId}/draws`, { body, idem: 'draw-1' });
    expect(replay.statusCode).toBe(201);
    expect(replay.body).toBe(first.body);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    const mismatch = await call('POST', `/v1/lines/${lineId}/draws`, {
      body: { ...body, amountMinor: 1 },
      idem: 'draw-1',
    });
    expect(mismatch.statusCode).toBe(422);
    expect(mismatch.json()).toMatchObject({ error: { code: 'LG_IDEMPOTENCY_MISMATCH' } });
    const line = await call('GET', `/v1/lines/${lineId}`);
    expect(line.json()).toMatchObject({ availableMinor: 1_500_000, outstandingPrincipalMinor: 500_000 });
  });

  it('answers 409 while the same key is in flight', async () => {
    let open: () => void = () => undefined;
    gate = new Promise<void>((resolve) => (open = resolve));
    const body = { amountMinor: 1000, currency: 'CNY', termMonths: 1, method: 'EQUAL_INSTALLMENT' };
    const first = call('POST', `/v1/lines/${lineId}/draws`, { body, idem: 'slow-1' });
    await new Promise((r) => setTimeout(r, 30));
    const second = await call('POST', `/v1/lines/${lineId}/draws`, { body, idem: 'slow-1' });
    expect(second.statusCode).toBe(409);
    expect(second.json()).toMatchObject({ error: { code: 'LG_IDEMPOTENCY_IN_FLIGHT' } });
    gate = undefined;
    open();
    expect((await first).statusCode).toBe(201);
  });

  it('202 for a held draw, 422 with reasons for a declined one', async () => {
    h.engine.script.draw = () => ({ outcome: 'HOLD', reasons: ['R_SCAM_TRANSFER_PATTERN'] });
    const held = await call('POST', `/v1/lines/${lineId}/draws`, {
      body: { amountMinor: 1000, currency: 'CNY', termMonths: 1, method: 'EQUAL_INSTALLMENT' },
    });
    expect(held.statusCode).toBe(202);
    expect(held.json()).toMatchObject({ status: 'HOLD', reasons: ['R_SCAM_TRANSFER_PATTERN'] });
    h.engine.script.draw = () => ({ outcome: 'DECLINE', reasons: ['R_DRAW_VELOCITY'] });
    const declined = await call('POST', `/v1/lines/${lineId}/draws`, {
      body: { amountMinor: 1000, currency: 'CNY', termMonths: 1, method: 'EQUAL_INSTALLMENT' },
    });
    expect(declined.statusCode).toBe(422);
    expect(declined.json()).toMatchObject({
      error: { code: 'LG_DRAW_DECLINED', details: { reasons: ['R_DRAW_VELOCITY'] } },
    });
    delete h.engine.script.draw;
  });

  it('repays and reads the loan with its disclosure', async () => {
    const loan = (await call('GET', `/v1/loans/${loanId}`)).json<{
      schedule: { totalMinor: number }[];
      disclosure: { apr: Record<string, number> };
    }>();
    expect(Object.keys(loan.disclosure.apr).sort()).toEqual(['CN_IRR', 'EU_CCD', 'US_REGZ']);
    const paid = await call('POST', `/v1/loans/${loanId}/repayments`, {
      body: { amountMinor: loan.schedule[0]!.totalMinor, currency: 'CNY' },
    });
    expect(paid.statusCode).toBe(201);
    const over = await call('POST', `/v1/loans/${loanId}/repayments`, {
      body: { amountMinor: 99_000_000, currency: 'CNY' },
    });
    expect(over.statusCode).toBe(422);
    expect(over.json()).toMatchObject({ error: { code: 'LG_OVERPAYMENT' } });
  });

  it("refuses a person's restriction whose reasons do not say why, or that only automation gives", async () => {
    for (const reasons of [
      ['R_GOOD_REPAYMENT'],
      ['R_INCOME_GROWTH', 'R_RISK_RESOLVED'],
      ['R_ENGINE_ERROR'],
    ]) {
      for (const type of ['FREEZE_DRAW', 'LIMIT_DECREASE', 'CLOSE']) {
        const res = await call('POST', `/v1/lines/${lineId}/actions`, {
          auth: keys.analyst,
          body: { type, reasons, ...(type === 'LIMIT_DECREASE' ? { limitMinor: 1_000_000 } : {}) },
        });
        expect(res.statusCode, `${type} ${reasons.join()} ${res.body}`).toBe(400);
        expect(res.json().error.code).toBe('LG_VALIDATION');
      }
    }
    const guard = await call('POST', `/v1/lines/${lineId}/actions`, {
      auth: keys.analyst,
      body: { type: 'UNFREEZE', reasons: ['R_BLAST_RADIUS_GUARD'] },
    });
    expect(guard.statusCode).toBe(400);
    expect((await call('GET', `/v1/lines/${lineId}`)).json().status).toBe('ACTIVE');
  });

  it('manual actions by an analyst, state-machine errors, and the explanation in zh and en', async () => {
    const freeze = await call('POST', `/v1/lines/${lineId}/actions`, {
      auth: keys.analyst,
      body: {
        type: 'FREEZE_DRAW',
        reasons: ['R_ACCOUNT_TAKEOVER', 'R_NEW_DEVICE'],
        note: 'customer called in',
      },
    });
    expect(freeze.statusCode).toBe(201);
    expect(freeze.json()).toMatchObject({ outcome: 'APPLIED', newStatus: 'DRAW_FROZEN' });
    const again = await call('POST', `/v1/lines/${lineId}/actions`, {
      auth: keys.analyst,
      body: { type: 'FREEZE_DRAW', reasons: ['R_NEW_DEVICE'] },
    });
    expect(again.statusCode).toBe(409);
    expect(again.json()).toMatchObject({
      error: { code: 'LG_ILLEGAL_TRANSITION', details: { state: 'DRAW_FROZEN', action: 'FREEZE_DRAW' } },
    });
    const frozenDraw = await call('POST', `/v1/lines/${lineId}/draws`, {
      body: { amountMinor: 1000, currency: 'CNY', termMonths: 1, method: 'EQUAL_INSTALLMENT' },
    });
    expect(frozenDraw.json()).toMatchObject({ error: { code: 'LG_LINE_FROZEN' } });
    const line = (await call('GET', `/v1/lines/${lineId}`)).json<{
      recentActions: { actor: string; automated: boolean }[];
    }>();
    expect(line.recentActions[0]).toMatchObject({ automated: false });
    // The person behind the action: `user:<id>` for a key that belongs to a user, `key:<id>` for an unowned key.
    expect(line.recentActions[0]?.actor).toMatch(/^(user|key):[0-9a-f-]{36}$/);
    const zh = (await call('GET', `/v1/lines/${lineId}/explanation?lang=zh`)).json<{
      statusText: string;
      reasons: { text: string }[];
      appeal: { appealable: boolean; how: string };
    }>();
    expect(zh.statusText).toContain('暂时不能借款');
    expect(zh.reasons.length).toBeLessThanOrEqual(4);
    expect(zh.appeal.appealable).toBe(true);
    const en = (await call('GET', `/v1/lines/${lineId}/explanation?lang=en`)).json<{ statusText: string }>();
    expect(en.statusText).toMatch(/cannot borrow/);
    expect((await call('GET', `/v1/lines/${lineId}/explanation?lang=fr`)).statusCode).toBe(400);
    expect((await verifyLedger(store.db)).ok).toBe(true);
  });
});

describe('credit-line core with the real engine and bundled strategies', () => {
  let h: Harness;
  let store: Store;
  let app: FastifyInstance;
  let keys: Keys;
  beforeAll(async () => {
    store = await openStore({ sqlitePath: ':memory:' });
    h = makeCore(store);
    const engine = await openEngine({
      store,
      crypto: h.deps.crypto,
      clock: h.clock,
      models: () => undefined,
      strategiesDir: 'strategies',
    });
    const core = createCoreServices({
      ...h.deps,
      engine: coreEngineFromService(engine, { crypto: h.deps.crypto }),
    });
    keys = await keysFor(store, h);
    app = await coreServer(store, h, core);
  });
  afterAll(async () => {
    await app?.close();
    await store?.close();
  });

  it('names unknown and ill-typed attributes in a 400', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/v1/applications',
      headers: { authorization: `Bearer ${keys.service}`, 'idempotency-key': 'a-1' },
      payload: { applicant: ADULT, attributes: { monthlyIncomeMinor: 'lots', shoeSize: 42 } },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ error: { code: 'LG_CONTEXT_INVALID' } });
    expect(res.body).toContain('monthlyIncomeMinor');
    expect(res.body).toContain('shoeSize');
  });

  it('decides an application with the bundled strategy (a thin file is referred)', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/v1/applications',
      headers: { authorization: `Bearer ${keys.service}`, 'idempotency-key': 'a-2' },
      payload: { applicant: ADULT, attributes: { monthlyIncomeMinor: 900_000 } },
    });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({ outcome: 'REVIEW', reasons: ['R_THIN_FILE'], line: null });
    const decision = await store.db
      .selectFrom('decisions')
      .select(['id', 'strategy_id', 'context', 'trace'])
      .executeTakeFirstOrThrow();
    expect(decision.strategy_id).toBe('application');
    expect(decisionContextOf(h.deps.crypto, decision)).toMatchObject({
      age: 34,
      monthlyIncomeMinor: 900_000,
    });
  });
});
