import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STRONG_APPLICANT, adminHeaders, startTestApp, type TestApp } from '../helpers/app.js';
import { residentId } from '../core/harness.js';

/** Inputs a JSON schema admits but the code behind it could not use: each must be a 400 that names the problem. */
describe('input at the edges of the schemas', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => t?.close());

  const json = { 'content-type': 'application/json' };

  it('refuses a number too large for a double (1e400 parses as Infinity)', async () => {
    const response = await t.server.inject({
      method: 'PUT',
      url: '/v1/overlays',
      headers: { ...adminHeaders('overlay-inf'), ...json },
      payload: '{"name":"macro","value":1e400}',
    });
    expect(response.statusCode).toBe(400);
    expect(response.json().error.code).toBe('LG_VALIDATION');
  });

  it('refuses numbers in paths and query strings beyond their bounds, Infinity included', async () => {
    for (const url of [
      '/v1/strategies/application/versions/3000000000',
      '/v1/strategies/application/versions/1e309',
      '/v1/lists?limit=1e309',
      '/v1/alerts?limit=-1e309',
    ]) {
      const response = await t.server.inject({ method: 'GET', url, headers: adminHeaders() });
      expect(response.statusCode, url).toBe(400);
    }
  });

  it('refuses a leap-second instant Date.parse cannot read, before writing anything', async () => {
    const entry = {
      list: 'black',
      entityType: 'device',
      value: 'dev-leap',
      reason: 'test',
      source: 'analyst',
      expiresAt: '2024-06-30T23:59:60Z',
    };
    const response = await t.server.inject({
      method: 'POST',
      url: '/v1/lists',
      headers: adminHeaders('list-leap'),
      payload: entry,
    });
    expect(response.statusCode).toBe(400);
    expect(response.json().error).toMatchObject({ code: 'LG_VALIDATION', details: { field: 'expiresAt' } });
    expect(t.app.monitor.lists.check('device', 'dev-leap', Date.now()).length).toBe(0);
    const features = await t.server.inject({
      method: 'GET',
      url: '/v1/monitor/draw-signals?borrowerId=b1&at=2024-06-30T23:59:60Z',
      headers: adminHeaders(),
    });
    expect(features.statusCode).toBe(400);
  });

  it('records a list entry with its Idempotency-Key: a retry replays, it never adds a second entry', async () => {
    const entry = {
      list: 'black',
      entityType: 'device',
      value: 'dev-once',
      reason: 'test',
      source: 'analyst',
    };
    const post = () =>
      t.server.inject({
        method: 'POST',
        url: '/v1/lists',
        headers: adminHeaders('list-once'),
        payload: entry,
      });
    const first = await post();
    expect(first.statusCode).toBe(201);
    const claim = await t.app.store.db
      .selectFrom('idempotency_keys')
      .select('state')
      .where('idem_key', '=', 'list-once')
      .executeTakeFirst();
    // The key row committed with the entry (the response is stored after it).
    expect(claim).toBeDefined();
    const again = await post();
    expect(again.statusCode).toBe(201);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.body).toBe(first.body);
    expect(t.app.monitor.lists.check('device', 'dev-once', Date.now())).toHaveLength(1);
  });

  it('takes an Idempotency-Key on activation, a write a client may retry', async () => {
    const response = await t.server.inject({
      method: 'POST',
      url: '/v1/strategies/application/activate',
      headers: adminHeaders(),
      payload: { version: 1 },
    });
    expect(response.statusCode).toBe(400);
    expect(response.json().error.code).toBe('LG_IDEMPOTENCY_KEY_REQUIRED');
  });

  // Issue 12, fuzzing: the idempotency request hash threw on values the body schema let through.
  it('refuses 1e400 inside a free-form body on an idempotent route with a 400, never a 500', async () => {
    const response = await t.server.inject({
      method: 'POST',
      url: '/v1/strategies',
      headers: { ...adminHeaders('free-form-inf'), ...json },
      payload: '{"id":"application","extra":{"deep":[1e400]}}',
    });
    expect(response.statusCode).toBe(400);
    expect(response.json().error).toMatchObject({ code: 'LG_VALIDATION' });
    expect(response.json().error.message).toMatch(/finite/);
  });

  it('refuses a deeply nested body with 400 LG_BODY_TOO_DEEP on every route, idempotent or not', async () => {
    const deep = `{"id":"application","extra":${'['.repeat(20_000)}${']'.repeat(20_000)}}`;
    for (const [url, key] of [
      ['/v1/strategies', 'deep-body'],
      ['/v1/strategies/validate', undefined],
    ] as const) {
      const response = await t.server.inject({
        method: 'POST',
        url,
        headers: { ...adminHeaders(key), ...json },
        payload: deep,
      });
      expect(response.statusCode, url).toBe(400);
      expect(response.json().error.code, url).toBe('LG_BODY_TOO_DEEP');
    }
  });

  it('accepts a body nested up to the bound', async () => {
    const response = await t.server.inject({
      method: 'POST',
      url: '/v1/strategies/validate',
      headers: { ...adminHeaders(), ...json },
      payload: `{"extra":${'['.repeat(30)}${']'.repeat(30)}}`,
    });
    // The document is not a valid strategy, but it got as far as the engine: not refused for its shape.
    expect(response.json().error?.code).not.toBe('LG_BODY_TOO_DEEP');
  });

  it('refuses a partner list entry whose expiresAt no date can hold, and lists stay readable', async () => {
    const partnerKey = 'cd'.repeat(32);
    const stored = await t.server.inject({
      method: 'PUT',
      url: '/v1/lists/partners/acme/key',
      headers: adminHeaders(),
      payload: { key: partnerKey },
    });
    expect(stored.statusCode).toBe(200);
    const fingerprint = stored.json().keyFingerprint as string;
    const entry = (expiresAt: number) => ({
      partnerId: 'acme',
      algorithm: 'HMAC-SHA256',
      keyFingerprint: fingerprint,
      entries: [
        { list: 'black', entityType: 'device', hmac: 'ab'.repeat(32), reason: 'r', source: 's', expiresAt },
      ],
    });
    const imported = await t.server.inject({
      method: 'POST',
      url: '/v1/lists/import',
      headers: adminHeaders('import-9e15'),
      payload: entry(9e15),
    });
    expect(imported.statusCode).toBe(400);
    expect(imported.json().error.code).toBe('LG_VALIDATION');
    // An entry stored before the bound (or by a path that skips the API) must not fail every page that holds it.
    await t.app.monitor.lists.add({
      list: 'black',
      entityType: 'device',
      value: 'dev-legacy-9e15',
      reason: 'legacy',
      source: 'migration',
      expiresAt: 9e15,
      addedBy: 'test',
    });
    const page = await t.server.inject({
      method: 'GET',
      url: '/v1/lists?includeExpired=true',
      headers: adminHeaders(),
    });
    expect(page.statusCode).toBe(200);
    const legacy = (page.json().items as { value?: string; expiresAt: unknown }[]).find(
      (item) => item.value === 'dev-legacy-9e15',
    );
    expect(legacy?.expiresAt).toBeNull();
  });

  it('refuses an expiresAt beyond year 9999 on a list entry', async () => {
    const response = await t.server.inject({
      method: 'POST',
      url: '/v1/lists',
      headers: adminHeaders('list-far'),
      payload: {
        list: 'black',
        entityType: 'device',
        value: 'dev-far',
        reason: 'test',
        source: 'analyst',
        expiresAt: '+275760-09-13T00:00:00.000Z',
      },
    });
    expect(response.statusCode).toBe(400);
    expect(t.app.monitor.lists.check('device', 'dev-far', Date.now())).toHaveLength(0);
  });

  it('refuses an applicant name with no letters or with control characters, and an IP that is no address', async () => {
    const apply = (key: string, applicant: Record<string, string>, extra: Record<string, string> = {}) =>
      t.server.inject({
        method: 'POST',
        url: '/v1/applications',
        headers: adminHeaders(key),
        payload: {
          applicant: {
            name: '李雷',
            nationalId: residentId('19860101', 124),
            phone: '13900003333',
            ...applicant,
          },
          attributes: STRONG_APPLICANT,
          ...extra,
        },
      });
    for (const [key, applicant, extra] of [
      ['name-blank', { name: '   ' }, {}],
      ['name-nul', { name: '李\u0000雷' }, {}],
      ['name-newline', { name: '李雷\n' }, {}],
      ['ip-text', {}, { ip: 'not-an-ip' }],
      ['ip-host', {}, { ip: '10.0.0.1/8' }],
    ] as const) {
      const response = await apply(key, applicant, extra);
      expect(response.statusCode, key).toBe(400);
      expect(response.json().error.code, key).toBe('LG_VALIDATION');
    }
    // Names as people write them, and addresses of both families, still pass.
    for (const [key, applicant, extra] of [
      ['name-ok', { name: 'Zoë O’Brien-Smith' }, { ip: '203.0.113.7' }],
      ['ip6-ok', { name: '欧阳 娜娜' }, { ip: '2001:db8::1' }],
    ] as const) {
      const response = await apply(key, applicant, extra);
      expect(response.statusCode, key).toBe(201);
    }
  });

  describe('repayment dates', () => {
    let loanId = '';
    beforeAll(async () => {
      const applied = await t.server.inject({
        method: 'POST',
        url: '/v1/applications',
        headers: adminHeaders('repay-dates-app'),
        payload: {
          applicant: { name: '韩梅梅', nationalId: residentId('19850101', 123), phone: '13900002222' },
          attributes: STRONG_APPLICANT,
        },
      });
      expect(applied.json().outcome).toBe('APPROVE');
      const drawn = await t.server.inject({
        method: 'POST',
        url: `/v1/lines/${applied.json().line.id}/draws`,
        headers: adminHeaders('repay-dates-draw'),
        payload: { amountMinor: 100_000, currency: 'CNY', termMonths: 3, method: 'EQUAL_INSTALLMENT' },
      });
      expect(drawn.statusCode).toBe(201);
      loanId = drawn.json().loan.id;
    });

    const repay = (paidAt: string, key: string) =>
      t.server.inject({
        method: 'POST',
        url: `/v1/loans/${loanId}/repayments`,
        headers: adminHeaders(key),
        payload: { amountMinor: 1000, currency: 'CNY', paidAt },
      });

    it('refuses a repayment dated before the loan existed, or in year -271821, or beyond the clock', async () => {
      for (const [paidAt, key, status, code] of [
        ['2001-01-01', 'repay-2001', 422, 'LG_REPAYMENT_DATE'],
        // An expanded year is no RFC 3339 date-time: refused as such before any date rule is asked.
        ['-271821-04-20T00:00:00.000Z', 'repay-min', 400, 'LG_VALIDATION'],
        ['2999-01-01T00:00:00Z', 'repay-future', 422, 'LG_REPAYMENT_DATE'],
      ] as const) {
        const response = await repay(paidAt, key);
        expect(response.statusCode, paidAt).toBe(status);
        expect(response.json().error.code, paidAt).toBe(code);
      }
      const loan = await t.server.inject({
        method: 'GET',
        url: `/v1/loans/${loanId}`,
        headers: adminHeaders(),
      });
      expect(loan.json().outstandingPrincipalMinor ?? loan.json().principalMinor).toBe(100_000);
    });

    it('accepts a repayment dated now', async () => {
      const response = await repay(new Date().toISOString(), 'repay-now');
      expect(response.statusCode).toBe(201);
    });
  });
});

describe('the served app applies its configured limits and metrics gate', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({
      LINEGUARD_RATE_LIMIT_AUTH_FAILURES: '3',
      LINEGUARD_METRICS_TOKEN: 'metrics-token-for-tests-0123',
    });
  });
  afterAll(async () => t?.close());

  it('refuses key guessing past the configured allowance on every route', async () => {
    const statuses: number[] = [];
    for (const url of ['/v1/lists', '/v1/alerts', '/v1/strategies', '/v1/lists', '/v1/alerts']) {
      const response = await t.server.inject({
        method: 'GET',
        url,
        headers: { authorization: 'Bearer lg_not_a_key' },
        remoteAddress: '192.0.2.7',
      });
      statuses.push(response.statusCode);
    }
    expect(statuses).toEqual([401, 401, 401, 429, 429]);
  });

  it('gates /metrics behind LINEGUARD_METRICS_TOKEN', async () => {
    expect((await t.server.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(401);
    const scraped = await t.server.inject({
      method: 'GET',
      url: '/metrics',
      headers: { authorization: 'Bearer metrics-token-for-tests-0123' },
    });
    expect(scraped.statusCode).toBe(200);
  });
});
