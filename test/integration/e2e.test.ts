import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/domain/clock.js';
import { seededRandom } from '../../src/domain/random.js';
import { verifyLedger } from '../../src/compliance/ledger.js';
import { STRONG_APPLICANT, adminHeaders, startTestApp, type TestApp } from '../helpers/app.js';
import { residentId } from '../core/harness.js';

/**
 * The whole product through its HTTP API, wired exactly as `npm start` wires it: the bundled strategies and the
 * trained scorecard decide, core events reach the monitor through the outbox, a scam typology freezes the line
 * through the core's line actions, and the borrower is told why.
 */
const T0 = Date.UTC(2026, 10, 2, 9, 0, 0);

describe('end to end', () => {
  const clock = new ManualClock(T0);
  let t: TestApp;
  let lineId: string;
  let borrowerId: string;
  let n = 0;
  const post = (url: string, payload: unknown) =>
    t.server.inject({ method: 'POST', url, headers: adminHeaders(`e2e-${++n}`), payload: payload as object });
  const get = (url: string) => t.server.inject({ method: 'GET', url, headers: adminHeaders() });

  beforeAll(async () => {
    t = await startTestApp({}, { clock, random: seededRandom(11) });
  });
  afterAll(async () => t?.close());

  it('approves a strong applicant through the application strategy and its scorecard', async () => {
    const res = await post('/v1/applications', {
      applicant: { name: '李雷', nationalId: residentId('19810412', 321), phone: '13900001111' },
      attributes: STRONG_APPLICANT,
    });
    expect(res.statusCode).toBe(201);
    const body = res.json();
    expect(body.outcome).toBe('APPROVE');
    lineId = body.line.id;
    borrowerId = body.borrowerId ?? body.line.borrower?.id;
    expect(body.line.limitMinor).toBeGreaterThan(0);
    const decision = (await get(`/v1/decisions/${body.decisionId}`)).json();
    expect(decision.kind).toBe('application');
    expect(JSON.stringify(decision)).toContain('application-scorecard');
  });

  it('reads typed path parameters but never coerces a body value', async () => {
    expect((await get('/v1/strategies/draw/versions/1')).json().version).toBe(1);
    const stringly = await post(`/v1/lines/${lineId}/draws`, {
      amountMinor: '500',
      currency: 'CNY',
      termMonths: 12,
      method: 'EQUAL_INSTALLMENT',
    });
    expect(stringly.statusCode).toBe(400);
    expect(stringly.json().error.details[0].path).toBe('body/amountMinor');
  });

  it('draws with a disclosure of the all-in cost under three conventions', async () => {
    const res = await post(`/v1/lines/${lineId}/draws`, {
      amountMinor: 500_000,
      currency: 'CNY',
      termMonths: 12,
      method: 'EQUAL_INSTALLMENT',
    });
    expect(res.statusCode).toBe(201);
    const loan = (await get(`/v1/loans/${res.json().loan.id}`)).json();
    const principal = loan.schedule.reduce(
      (sum: number, i: { principalMinor: number }) => sum + i.principalMinor,
      0,
    );
    expect(principal).toBe(500_000);
    expect(Object.keys(loan.disclosure.apr).sort()).toEqual(['CN_IRR', 'EU_CCD', 'US_REGZ']);
    expect(loan.disclosure.apr.CN_IRR).toBeCloseTo(loan.annualRate * 100, 1);
  });

  it('freezes the line when the borrower moves the loan to a new payee during a call, and says why', async () => {
    // The disbursement reached the monitor through the outbox; wait for the relay.
    await waitFor(async () => {
      const row = await t.app.store.db
        .selectFrom('monitor_events')
        .select('event_id')
        .where('type', '=', 'disbursement')
        .executeTakeFirst();
      return row !== undefined;
    });
    const at = (minutes: number) => new Date(T0 + minutes * 60_000).toISOString();
    const events = [
      {
        eventId: 'e2e-call',
        type: 'call_in_progress',
        occurredAt: at(-10),
        userId: borrowerId,
        deviceId: 'dev-1',
      },
      {
        eventId: 'e2e-payee',
        type: 'payee_added',
        occurredAt: at(5),
        userId: borrowerId,
        payeeId: 'safe-acct-9',
        payeeCreatedAt: at(5),
        deviceId: 'dev-1',
      },
      {
        eventId: 'e2e-transfer',
        type: 'transfer_out',
        occurredAt: at(8),
        userId: borrowerId,
        lineId,
        payeeId: 'safe-acct-9',
        amount: 480_000,
        currency: 'CNY',
        deviceId: 'dev-1',
      },
    ];
    clock.set(T0 + 9 * 60_000);
    const res = await post('/v1/events', { events });
    expect(res.statusCode).toBe(200);
    const outcome = res.json().results.find((r: { eventId: string }) => r.eventId === 'e2e-transfer');
    expect(outcome.typologies.map((x: { id: string }) => x.id)).toContain('SCAM_SAFE_ACCOUNT_TRANSFER');
    await waitFor(async () => (await get(`/v1/lines/${lineId}`)).json().status === 'DRAW_FROZEN');
    const explanation = (await get(`/v1/lines/${lineId}/explanation?lang=zh`)).json();
    expect(JSON.stringify(explanation)).toContain('R_SCAM_TRANSFER_PATTERN');
    const blocked = await post(`/v1/lines/${lineId}/draws`, {
      amountMinor: 1000,
      currency: 'CNY',
      termMonths: 3,
      method: 'EQUAL_PRINCIPAL',
    });
    expect(blocked.statusCode).toBe(409);
    expect(blocked.json().error.code).toBe('LG_LINE_FROZEN');
    const alerts = (await get(`/v1/alerts?userId=${borrowerId}`)).json();
    expect(
      alerts.items.some((a: { typology: { id: string } }) => a.typology.id === 'SCAM_SAFE_ACCOUNT_TRANSFER'),
    ).toBe(true);
  });

  it('keeps an intact ledger of everything that happened', async () => {
    const verification = await verifyLedger(t.app.store.db);
    expect(verification.ok).toBe(true);
    expect(verification.entriesChecked).toBeGreaterThan(5);
  });
});

async function waitFor(check: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const start = Date.now();
  while (Date.now() - start < timeoutMs) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error('condition not met in time');
}

describe('retryable writes beyond the core', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => t?.close());

  it('require an Idempotency-Key and replay the first answer (strategies, overlays, lists)', async () => {
    const doc = (
      await t.server.inject({ method: 'GET', url: '/v1/strategies/draw/versions/1', headers: adminHeaders() })
    ).json().document;
    const cases: { method: 'POST' | 'PUT'; url: string; payload: object }[] = [
      { method: 'POST', url: '/v1/strategies', payload: doc },
      {
        method: 'PUT',
        url: '/v1/overlays',
        payload: { name: 'limitMultiplier', value: 0.9, description: 'test' },
      },
      {
        method: 'POST',
        url: '/v1/lists',
        payload: {
          list: 'black',
          entityType: 'device',
          value: 'dev-farm-1',
          reason: 'test',
          source: 'analyst',
        },
      },
    ];
    for (const c of cases) {
      const missing = await t.server.inject({ ...c, headers: adminHeaders() });
      expect(missing.json().error.code, `${c.url} ${missing.body}`).toBe('LG_IDEMPOTENCY_KEY_REQUIRED');
      const first = await t.server.inject({
        ...c,
        headers: adminHeaders(`retry${c.url.replace(/\//g, '.')}`),
      });
      const again = await t.server.inject({
        ...c,
        headers: adminHeaders(`retry${c.url.replace(/\//g, '.')}`),
      });
      expect(first.statusCode, first.body).toBeLessThan(300);
      expect(again.body).toBe(first.body);
    }
    const versions = (
      await t.server.inject({ method: 'GET', url: '/v1/strategies/draw/versions', headers: adminHeaders() })
    ).json();
    expect(JSON.stringify(versions).match(/"version":2/g)?.length ?? 0).toBeGreaterThan(0);
    expect(JSON.stringify(versions)).not.toContain('"version":3');
  });
});
