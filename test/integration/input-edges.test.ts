import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminHeaders, startTestApp, type TestApp } from '../helpers/app.js';

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
});
