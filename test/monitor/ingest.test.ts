import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { buildServer, createMetricsRegistry } from '../../src/api/server.js';
import { createApiKey, createKeyVerifier } from '../../src/api/api-keys.js';
import { monitorRoutes } from '../../src/api/routes/monitor.js';
import { uuidv7Generator } from '../../src/domain/ids.js';
import { seededRandom } from '../../src/domain/random.js';
import { DAY, HOUR, MIN, MASTER_KEY, T0, ev, money, openTestMonitor, type TestMonitor } from './helpers.js';
import { fieldCryptoFromMasterKey } from '../../src/compliance/crypto.js';
import { rowCount } from '../helpers/stores.js';

describe('event intake over HTTP', () => {
  let t: TestMonitor;
  let app: FastifyInstance;
  let service: string;
  let auditor: string;
  let analyst: string;
  const iso = (ms: number) => new Date(ms).toISOString();

  beforeAll(async () => {
    t = await openTestMonitor();
    const deps = { clock: t.clock, ids: uuidv7Generator(t.clock, seededRandom(3)), random: seededRandom(4) };
    service = (await createApiKey(t.store.db, deps, 'service')).key;
    auditor = (await createApiKey(t.store.db, deps, 'auditor')).key;
    analyst = (await createApiKey(t.store.db, deps, 'risk_analyst')).key;
    app = await buildServer({
      store: t.store,
      clock: t.clock,
      metrics: createMetricsRegistry(),
      requestBytesMax: 1_048_576,
      verifyKey: createKeyVerifier(t.store.db, t.clock),
      routes: [monitorRoutes({ monitor: t.monitor, eventBatchMax: 50 })],
      crypto: fieldCryptoFromMasterKey(MASTER_KEY),
    });
  });
  afterAll(async () => {
    await app.close();
    await t.close();
  });

  const post = (payload: unknown, key = service) =>
    app.inject({
      method: 'POST',
      url: '/v1/events',
      headers: { authorization: `Bearer ${key}` },
      payload: payload as object,
    });

  it('accepts one event and answers with its outcome', async () => {
    const res = await post({
      eventId: 'h1',
      type: 'login',
      occurredAt: iso(T0),
      userId: 'u1',
      deviceId: 'd1',
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      eventId: 'h1',
      status: 'accepted',
      typologies: [],
      alerts: [],
      actions: [],
    });
  });

  it('a repeated eventId is accepted once and answered with the first result', async () => {
    const body = {
      eventId: 'h2',
      type: 'bureau_inquiry',
      occurredAt: iso(T0),
      userId: 'u2',
      channel: 'partner-z',
      attributes: { purpose: 'LOAN_APPROVAL' },
    };
    const first = (await post(body)).json();
    expect(first.typologies[0].id).toBe('CREDIT_REPORT_ABUSE');
    const again = await post(body);
    expect(again.json()).toEqual({ ...first, status: 'duplicate' });
    const batch = (await post({ events: [body, body] })).json();
    expect(batch.results.map((r: { status: string }) => r.status)).toEqual(['duplicate', 'duplicate']);
    const rows = await t.store.db
      .selectFrom('monitor_events')
      .select('event_id')
      .where('event_id', '=', 'h2')
      .execute();
    expect(rows).toHaveLength(1);
    const alerts = await t.store.db
      .selectFrom('monitor_alerts')
      .select('alert_id')
      .where('user_id', '=', 'u2')
      .execute();
    expect(alerts).toHaveLength(1);
  });

  it('the same eventId with different content is a conflict', async () => {
    const res = await post({ eventId: 'h1', type: 'login', occurredAt: iso(T0 + 1), userId: 'u1' });
    expect(res.statusCode).toBe(409);
    expect(res.json().error.code).toBe('LG_EVENT_CONFLICT');
  });

  it('validation errors name the index and the field', async () => {
    const res = await post({
      events: [
        { eventId: 'ok', type: 'login', occurredAt: iso(T0), userId: 'u' },
        {
          eventId: 'bad',
          type: 'transfer_out',
          occurredAt: iso(T0),
          userId: 'u',
          amount: 1.5,
          currency: 'CNY',
          payeeId: 'p',
        },
      ],
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.details[0].path).toBe('body/events/1/amount');
    const missing = await post({
      events: [{ eventId: 'm1', type: 'transfer_out', occurredAt: iso(T0), userId: 'u' }],
    });
    expect(missing.statusCode).toBe(400);
    expect(missing.json().error.code).toBe('LG_EVENT_INVALID');
    expect(missing.json().error.details).toContainEqual({
      index: 0,
      field: 'amount',
      problem: 'required for type transfer_out',
    });
    const unknownType = await post({ eventId: 'x', type: 'teleport', occurredAt: iso(T0), userId: 'u' });
    expect(unknownType.statusCode).toBe(400);
  });

  const storedIds = async (ids: readonly string[]) =>
    (
      await t.store.db.selectFrom('monitor_events').select('event_id').where('event_id', 'in', ids).execute()
    ).map((r) => r.event_id);

  it('the core’s own event types are refused from a client: 422 LG_EVENT_TYPE_RESERVED, nothing of the batch written', async () => {
    const res = await post({
      events: [
        { eventId: 'rs-login', type: 'login', occurredAt: iso(T0), userId: 'rs' },
        {
          eventId: 'rs-draw',
          type: 'disbursement',
          occurredAt: iso(T0),
          userId: 'rs',
          lineId: 'line-rs',
          amount: 800_000,
          currency: 'CNY',
        },
      ],
    });
    expect(res.statusCode).toBe(422);
    expect(res.json().error).toMatchObject({
      code: 'LG_EVENT_TYPE_RESERVED',
      details: [{ index: 1, eventId: 'rs-draw', type: 'disbursement' }],
    });
    expect(res.json().error.message).toContain('events[1]');
    for (const [type, extra] of [
      ['repayment', { amount: 100, currency: 'CNY' }],
      ['application', {}],
    ] as const) {
      const one = await post({ eventId: `rs-${type}`, type, occurredAt: iso(T0), userId: 'rs', ...extra });
      expect(one.statusCode, type).toBe(422);
      expect(one.json().error.details).toEqual([{ index: 0, eventId: `rs-${type}`, type }]);
    }
    expect(await storedIds(['rs-login', 'rs-draw', 'rs-repayment', 'rs-application'])).toEqual([]);
  });

  it('a client cannot halve a scam’s transferred share by reporting the core’s disbursement again', async () => {
    const u = { userId: 'dup', deviceId: 'dev-dup' };
    // The core's own disbursement (through its outbox), then the borrower's app reporting it a second time.
    await t.monitor.ingest([ev('disbursement', T0, { ...u, lineId: 'line-dup', ...money(10_000) })]);
    const copy = await post({
      eventId: 'dup-copy',
      type: 'disbursement',
      occurredAt: iso(T0 + MIN),
      userId: 'dup',
      lineId: 'line-dup',
      amount: 1_000_000,
      currency: 'CNY',
    });
    expect(copy.statusCode).toBe(422);
    const out = await post({
      events: [
        {
          eventId: 'dup-call',
          type: 'call_in_progress',
          occurredAt: iso(T0 - 10 * MIN),
          userId: 'dup',
          deviceId: 'dev-dup',
        },
        {
          eventId: 'dup-payee',
          type: 'payee_added',
          occurredAt: iso(T0 + 2 * MIN),
          userId: 'dup',
          deviceId: 'dev-dup',
          payeeId: 'safe-dup',
        },
        {
          eventId: 'dup-out',
          type: 'transfer_out',
          occurredAt: iso(T0 + 3 * MIN),
          userId: 'dup',
          deviceId: 'dev-dup',
          payeeId: 'safe-dup',
          amount: 900_000,
          currency: 'CNY',
        },
      ],
    });
    expect(out.statusCode).toBe(200);
    expect(out.json().results[2].typologies.map((f: { id: string }) => f.id)).toContain(
      'SCAM_SAFE_ACCOUNT_TRANSFER',
    );
  });

  it('an event dated beyond the clock’s tolerance is refused: 422 LG_EVENT_IN_FUTURE, nothing of the batch written', async () => {
    // The core's disbursement now; the app's transfer of it dated a day ahead (it would never meet the draw inside the
    // scam's window: judged a day later, when the draw is out of it).
    const now = t.clock.now();
    const res = await post({
      events: [
        { eventId: 'fu-login', type: 'login', occurredAt: iso(now), userId: 'fu' },
        {
          eventId: 'fu-out',
          type: 'transfer_out',
          occurredAt: iso(now + DAY),
          userId: 'fu',
          payeeId: 'safe-fu',
          amount: 900_000,
          currency: 'CNY',
        },
      ],
    });
    expect(res.statusCode).toBe(422);
    expect(res.json().error).toMatchObject({
      code: 'LG_EVENT_IN_FUTURE',
      details: [
        { index: 1, eventId: 'fu-out', occurredAt: iso(now + DAY), latestAccepted: iso(now + 5 * MIN) },
      ],
    });
    expect(res.json().error.message).toContain('events[1]');
    expect(await storedIds(['fu-login', 'fu-out'])).toEqual([]);
    // A device clock a little fast is not refused: up to the tolerance (5 minutes by default) ahead of ours.
    const fast = await post({
      eventId: 'fu-fast',
      type: 'login',
      occurredAt: iso(now + 5 * MIN),
      userId: 'fu',
    });
    expect(fast.statusCode).toBe(200);
    const over = await post({
      eventId: 'fu-over',
      type: 'login',
      occurredAt: iso(now + 5 * MIN + 1),
      userId: 'fu',
    });
    expect(over.json().error.code).toBe('LG_EVENT_IN_FUTURE');
    // Once the clock has come to it, the same event is taken.
    t.clock.advance(MIN);
    expect(
      (await post({ eventId: 'fu-over', type: 'login', occurredAt: iso(now + 5 * MIN + 1), userId: 'fu' }))
        .statusCode,
    ).toBe(200);
  });

  it('a batch over eventBatchMax is 413 LG_BATCH_TOO_LARGE', async () => {
    const events = Array.from({ length: 51 }, (_, i) => ({
      eventId: `big${i}`,
      type: 'login',
      occurredAt: iso(T0),
      userId: 'u',
    }));
    const res = await post({ events });
    expect(res.statusCode).toBe(413);
    expect(res.json().error.code).toBe('LG_BATCH_TOO_LARGE');
  });

  it('needs a writer role to send events; readers may list alerts with filters and paging', async () => {
    expect(
      (await post({ eventId: 'r1', type: 'login', occurredAt: iso(T0), userId: 'u' }, auditor)).statusCode,
    ).toBe(403);
    expect((await app.inject({ method: 'POST', url: '/v1/events', payload: {} })).statusCode).toBe(401);
    for (let i = 0; i < 3; i++)
      await post({
        eventId: `pa${i}`,
        type: 'bureau_inquiry',
        occurredAt: iso(T0),
        userId: `pu${i}`,
        channel: 'partner-z',
        attributes: { purpose: 'LOAN_APPROVAL' },
      });
    const page1 = await app.inject({
      method: 'GET',
      url: '/v1/alerts?typology=CREDIT_REPORT_ABUSE&status=OPEN&limit=2',
      headers: { authorization: `Bearer ${auditor}` },
    });
    expect(page1.statusCode).toBe(200);
    const body1 = page1.json();
    expect(body1.items).toHaveLength(2);
    expect(body1.items[0].evidence.eventIds).toEqual(['pa2']);
    const page2 = await app.inject({
      method: 'GET',
      url: `/v1/alerts?typology=CREDIT_REPORT_ABUSE&limit=2&cursor=${body1.nextCursor}`,
      headers: { authorization: `Bearer ${auditor}` },
    });
    expect(page2.json().items.length).toBeGreaterThan(0);
    const byUser = await app.inject({
      method: 'GET',
      url: '/v1/alerts?userId=pu1',
      headers: { authorization: `Bearer ${auditor}` },
    });
    expect(byUser.json().items.map((a: { userId: string }) => a.userId)).toEqual(['pu1']);
    const close = await app.inject({
      method: 'POST',
      url: `/v1/alerts/${byUser.json().items[0].alertId}/status`,
      headers: { authorization: `Bearer ${analyst}` },
      payload: { status: 'CLOSED' },
    });
    expect(close.statusCode).toBe(200);
    expect(await t.monitor.openAlertCount('pu1')).toBe(0);
  });

  it('serves the typology packs and the feature registry', async () => {
    const packs = (
      await app.inject({
        method: 'GET',
        url: '/v1/typologies',
        headers: { authorization: `Bearer ${auditor}` },
      })
    ).json();
    expect(packs.items.map((p: { id: string }) => p.id)).toContain('SCAM_SAFE_ACCOUNT_TRANSFER');
    expect(packs.items[0].parameters.minTransferRatio.value).toBe(0.6);
    const features = (
      await app.inject({
        method: 'GET',
        url: '/v1/features',
        headers: { authorization: `Bearer ${auditor}` },
      })
    ).json();
    expect(features.items.length).toBeGreaterThanOrEqual(20);
  });
});

describe('ordering and point in time', () => {
  it('places late events by occurredAt and answers features as of any instant', async () => {
    const t = await openTestMonitor();
    const u = { userId: 'late' };
    // Sent out of order: the 3rd draw first, then the 1st, then the 2nd.
    await t.monitor.ingest([ev('disbursement', T0 + 2 * HOUR, { ...u, lineId: 'l', ...money(300) })]);
    t.clock.advance(MIN);
    await t.monitor.ingest([ev('disbursement', T0, { ...u, lineId: 'l', ...money(100) })]);
    t.clock.advance(MIN);
    await t.monitor.ingest([ev('disbursement', T0 + HOUR, { ...u, lineId: 'l', ...money(200) })]);
    const r = t.monitor.reader;
    expect(await r.value('userDisbursedSum24h', 'late', T0 - 1)).toBe(0);
    expect(await r.value('userDisbursedSum24h', 'late', T0)).toBe(10_000);
    expect(await r.value('userDisbursedSum24h', 'late', T0 + HOUR)).toBe(30_000);
    expect(await r.value('userDisbursedSum24h', 'late', T0 + 3 * HOUR)).toBe(60_000);
    expect(await r.value('userDisbursedSum24h', 'late', T0 + DAY + 30 * MIN)).toBe(50_000);
    expect(await r.value('userSinceDisbursement90d', 'late', T0 + 3 * HOUR)).toBe(HOUR);
    const window = await t.monitor.features.events({
      entity: 'user',
      id: 'late',
      types: ['disbursement'],
      fromMs: 0,
      toMs: T0 + DAY,
    });
    expect(window.map((e) => e.amountMinor)).toEqual([10_000, 20_000, 30_000]);
    // "As known at": before the late events were received, the live system saw only the first one sent.
    const knownThen = await t.monitor.features.aggregate(
      {
        entity: 'user',
        id: 'late',
        types: ['disbursement'],
        fromMs: T0 - DAY,
        toMs: T0 + 3 * HOUR,
        knownAt: T0,
      },
      { kind: 'sum' },
    );
    expect(knownThen).toBe(30_000);
    await t.close();
  });

  it('a late disbursement completes a scam pattern whose transfer arrived first', async () => {
    const t = await openTestMonitor();
    const u = { userId: 'sv', deviceId: 'dev-sv' };
    await t.monitor.ingest([
      ev('call_in_progress', T0 - 10 * MIN, u),
      ev('payee_added', T0 + 2 * MIN, { ...u, payeeId: 'safe' }),
      ev('transfer_out', T0 + 10 * MIN, {
        ...u,
        payeeId: 'safe',
        payeeCreatedAt: T0 + 2 * MIN,
        ...money(9_000),
      }),
    ]);
    const [late] = await t.monitor.ingest([
      ev('disbursement', T0, { ...u, lineId: 'l-sv', ...money(10_000) }),
    ]);
    expect(late?.typologies.map((f) => f.id)).toContain('SCAM_SAFE_ACCOUNT_TRANSFER');
    await t.close();
  });

  it('the tolerance for app events dated ahead is the monitor’s setting; trusted sources are not held to it', async () => {
    const t = await openTestMonitor({ deps: { eventFutureToleranceMs: 0 } });
    const now = t.clock.now();
    await expect(t.monitor.ingestAppEvents([ev('login', now + 1, { userId: 'tol' })])).rejects.toMatchObject({
      code: 'LG_EVENT_IN_FUTURE',
    });
    expect((await t.monitor.ingestAppEvents([ev('login', now, { userId: 'tol' })]))[0]?.status).toBe(
      'accepted',
    );
    // The core's own event (its bus subscriber) and a replay take ingest: their time is not the app's word.
    expect(
      (await t.monitor.ingest([ev('repayment', now + DAY, { userId: 'tol', ...money(10) })]))[0]?.status,
    ).toBe('accepted');
    await t.close();
  });

  it('group-commits concurrent requests and answers each after its commit', async () => {
    const t = await openTestMonitor({ deps: { groupCommit: { eventsMax: 100, delayMs: 2 } } });
    const results = await Promise.all(
      Array.from({ length: 300 }, (_, i) =>
        t.monitor.ingest([ev('login', T0 + i, { userId: `gc${i % 7}` })]),
      ),
    );
    expect(results.flat().every((o) => o.status === 'accepted')).toBe(true);
    expect(await rowCount(t.store, 'monitor_events')).toBe(300);
    await t.close();
  });

  it('rebuilds windows, links and alert state from the store on restart', async () => {
    const t = await openTestMonitor();
    await t.monitor.ingest(
      ['r1', 'r2', 'r3', 'r4'].map((userId) => ev('login', T0, { userId, deviceId: 'shared' })),
    );
    await t.monitor.ingest([
      ev('bureau_inquiry', T0, { userId: 'r1', channel: 'z', attributes: { purpose: 'LOAN_APPROVAL' } }),
    ]);
    const before = await t.monitor.reader.value('deviceDistinctUsers24h', 'shared', T0);
    await t.monitor.close();
    const again = await openTestMonitor({ store: t.store });
    expect(await again.monitor.reader.value('deviceDistinctUsers24h', 'shared', T0)).toBe(before);
    expect(again.monitor.graph.componentUsers('device:shared')).toBe(4);
    expect(await again.monitor.openAlertCount('r1')).toBeGreaterThan(0);
    expect(again.monitor.eventCount).toBe(5);
    await again.close();
  });
});
