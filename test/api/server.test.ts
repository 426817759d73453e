import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import {
  buildServer,
  createMetricsRegistry,
  createMetricsServer,
  type MetricsAccess,
} from '../../src/api/server.js';
import { clientAddress, type RateLimitOptions } from '../../src/api/rate-limit.js';
import { startTcpProxy } from '../fleet/tcp-proxy.js';
import { createApiKey, createKeyVerifier } from '../../src/api/api-keys.js';
import { ManualClock } from '../../src/domain/clock.js';
import { seededRandom } from '../../src/domain/random.js';
import { uuidv7Generator } from '../../src/domain/ids.js';
import { LgError } from '../../src/domain/errors.js';
import { openStore, type Store } from '../../src/store/db.js';
import { appStores, keyRow, STORE_FACTORIES } from '../helpers/stores.js';
import { adminHeaders, startTestApp } from '../helpers/app.js';
import { answeringGuard } from '../../src/api/idempotency.js';
import { claimKeyInTx } from '../../src/store/idempotency-claim.js';

/** The platform server (auth, idempotency, errors, metrics) around the test's routes, with a 1 KiB body limit. */
function testServer(store: Store, clock: ManualClock, routes: FastifyPluginAsync): Promise<FastifyInstance> {
  return buildServer({
    store,
    clock,
    metrics: createMetricsRegistry(),
    requestBytesMax: 1024,
    verifyKey: createKeyVerifier(store.db, clock),
    routes: [routes],
  });
}

describe('API platform: auth, idempotency, errors', () => {
  let store: Store;
  let app: FastifyInstance;
  let serviceKey: string;
  let auditorKey: string;
  let counter = 0;
  let release: (() => void) | undefined;

  beforeAll(async () => {
    store = await openStore({ sqlitePath: ':memory:' });
    const clock = new ManualClock(1_750_000_000_000);
    const random = seededRandom(7);
    const ids = uuidv7Generator(clock, random);
    serviceKey = (await createApiKey(store.db, { clock, ids, random }, 'service')).key;
    auditorKey = (await createApiKey(store.db, { clock, ids, random }, 'auditor')).key;
    const routes: FastifyPluginAsync = async (instance) => {
      instance.post<{ Body: { amount: number } }>(
        '/v1/things',
        {
          config: { roles: ['service', 'admin'], idempotent: true },
          schema: {
            body: {
              type: 'object',
              required: ['amount'],
              additionalProperties: false,
              properties: { amount: { type: 'integer' } },
            },
          },
        },
        async (request, reply) => {
          if (request.body.amount === 13) {
            await new Promise<void>((resolve) => (release = resolve));
          }
          if (request.body.amount < 0) throw new LgError('LG_INSUFFICIENT_CREDIT', 'not enough');
          counter += 1;
          return reply.code(201).send({ n: counter, amount: request.body.amount });
        },
      );
      // A route that says its answer in its unit (answeringGuard), and with `drift` replies with another one.
      instance.post<{ Body: { amount: number; drift?: boolean } }>(
        '/v1/answered',
        { config: { roles: ['service'], idempotent: true } },
        async (request, reply) => {
          const answer = answeringGuard(request, reply, () => 201);
          const said = { amount: request.body.amount };
          await store.transaction((tx) =>
            claimKeyInTx(tx, answer.guard, () => answer.guard?.respond?.({ ok: true, value: said })),
          );
          return answer.send(request.body.drift ? { amount: -request.body.amount } : said);
        },
      );
      instance.get('/v1/boom', { config: { roles: ['service'] } }, async () => {
        throw new Error('secret internal detail');
      });
    };
    app = await testServer(store, clock, routes);
  });
  afterAll(async () => {
    await app?.close();
    await store?.close();
  });

  const post = (body: unknown, key?: string, auth = serviceKey) =>
    app.inject({
      method: 'POST',
      url: '/v1/things',
      headers: { authorization: `Bearer ${auth}`, ...(key ? { 'idempotency-key': key } : {}) },
      payload: body as object,
    });

  it('rejects missing and wrong keys and roles', async () => {
    const none = await app.inject({ method: 'POST', url: '/v1/things', payload: { amount: 1 } });
    expect(none.statusCode).toBe(401);
    expect(none.json().error.code).toBe('LG_UNAUTHENTICATED');
    expect((await post({ amount: 1 }, 'k0', 'lg_wrong')).statusCode).toBe(401);
    const forbidden = await post({ amount: 1 }, 'k0', auditorKey);
    expect(forbidden.statusCode).toBe(403);
    expect(forbidden.json().error.code).toBe('LG_FORBIDDEN');
  });

  it('requires an idempotency key and replays the first response byte for byte', async () => {
    expect((await post({ amount: 5 })).json().error.code).toBe('LG_IDEMPOTENCY_KEY_REQUIRED');
    const first = await post({ amount: 5 }, 'key-1');
    const again = await post({ amount: 5 }, 'key-1');
    expect(first.statusCode).toBe(201);
    expect(again.statusCode).toBe(201);
    expect(again.body).toBe(first.body);
    expect(again.headers['idempotent-replayed']).toBe('true');
    const mismatch = await post({ amount: 6 }, 'key-1');
    expect(mismatch.statusCode).toBe(422);
    expect(mismatch.json().error.code).toBe('LG_IDEMPOTENCY_MISMATCH');
    // The same body at another address is another request too, and the answer must not blame the body.
    const elsewhere = await app.inject({
      method: 'POST',
      url: '/v1/things?again=1',
      headers: { authorization: `Bearer ${serviceKey}`, 'idempotency-key': 'key-1' },
      payload: { amount: 5 },
    });
    expect(elsewhere.json().error).toMatchObject({
      code: 'LG_IDEMPOTENCY_MISMATCH',
      message: expect.stringMatching(/method, path or body/),
    });
  });

  it('stores the responses of requests finishing together, and replays them from the store', async () => {
    const keys = ['batch-0', 'batch-1', 'batch-2', 'batch-3', 'batch-4'];
    const firsts = await Promise.all(keys.map((key, i) => post({ amount: 100 + i }, key)));
    const stored = async () =>
      store.db
        .selectFrom('idempotency_keys')
        .select(['idem_key', 'state', 'status_code', 'response_body'])
        .where('idem_key', 'in', keys)
        .orderBy('idem_key')
        .execute();
    const allDone = async () => (await stored()).filter((r) => r.state === 'done').length === keys.length;
    for (let tries = 0; tries < 50 && !(await allDone()); tries += 1) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const rows = await stored();
    expect(rows.map((r) => [r.idem_key, r.state, r.status_code, r.response_body])).toEqual(
      keys.map((key, i) => [key, 'done', 201, firsts[i]?.body]),
    );
    const replay = await post({ amount: 102 }, 'batch-2');
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.body).toBe(firsts[2]?.body);
  });

  it('a response said in the unit is stored with the key; a reply that differs from it is stored over it', async () => {
    const answered = (key: string, body: object) =>
      app.inject({
        method: 'POST',
        url: '/v1/answered',
        headers: { authorization: `Bearer ${serviceKey}`, 'idempotency-key': key },
        payload: body,
      });
    const done201 = (body: string) => ({ state: 'done', status_code: 201, response_body: body });
    const said = await answered('said-1', { amount: 4 });
    expect(said.statusCode).toBe(201);
    expect(said.body).toBe('{"amount":4}');
    expect(await keyRow(store, 'said-1')).toEqual(done201(said.body));
    const drifted = await answered('drift-1', { amount: 4, drift: true });
    expect(drifted.body).toBe('{"amount":-4}');
    // What the client saw is what a retry replays, not what the unit said.
    expect(await keyRow(store, 'drift-1')).toEqual(done201(drifted.body));
    const replay = await answered('drift-1', { amount: 4, drift: true });
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.body).toBe(drifted.body);
  });

  it('answers 409 while the first request with a key is in flight', async () => {
    const first = post({ amount: 13 }, 'slow');
    await new Promise((resolve) => setTimeout(resolve, 50));
    const second = await post({ amount: 13 }, 'slow');
    expect(second.statusCode).toBe(409);
    expect(second.json().error.code).toBe('LG_IDEMPOTENCY_IN_FLIGHT');
    release?.();
    expect((await first).statusCode).toBe(201);
  });

  it('keeps 4xx results too, so a retried failure fails the same way', async () => {
    const first = await post({ amount: -1 }, 'neg');
    expect(first.statusCode).toBe(422);
    expect((await post({ amount: -1 }, 'neg')).body).toBe(first.body);
  });

  it('maps validation, bad JSON, size and unknown routes to coded 4xx, and hides internals on 500', async () => {
    const invalid = await post({ amount: 'x', extra: 1 }, 'v1');
    expect(invalid.statusCode).toBe(400);
    expect(invalid.json().error.code).toBe('LG_VALIDATION');
    const badJson = await app.inject({
      method: 'POST',
      url: '/v1/things',
      headers: {
        authorization: `Bearer ${serviceKey}`,
        'content-type': 'application/json',
        'idempotency-key': 'j',
      },
      payload: '{"amount":',
    });
    expect(badJson.statusCode).toBe(400);
    expect(badJson.json().error.code).toBe('LG_BAD_JSON');
    const big = await post({ amount: 1, pad: 'x'.repeat(5000) }, 'big');
    expect(big.statusCode).toBe(413);
    expect(big.json().error.code).toBe('LG_PAYLOAD_TOO_LARGE');
    const missing = await app.inject({ method: 'GET', url: '/nope' });
    expect(missing.statusCode).toBe(404);
    const boom = await app.inject({
      method: 'GET',
      url: '/v1/boom',
      headers: { authorization: `Bearer ${serviceKey}` },
    });
    expect(boom.statusCode).toBe(500);
    expect(boom.body).not.toContain('secret');
    expect(boom.json().error.code).toBe('LG_INTERNAL');
  });

  it('serves health, metrics and OpenAPI', async () => {
    expect((await app.inject({ method: 'GET', url: '/health' })).json().status).toBe('ok');
    expect((await app.inject({ method: 'GET', url: '/metrics' })).body).toContain(
      'lineguard_http_request_duration_seconds',
    );
    const spec = (await app.inject({ method: 'GET', url: '/openapi.json' })).json();
    expect(spec.openapi).toBe('3.0.3');
    expect(Object.keys(spec.paths)).toContain('/v1/things');
  });
});

interface RawResponse {
  readonly status: number;
  readonly head: string;
  readonly body: string;
}

/** A TCP connection that collects every response until the server closes it. */
function rawConnection(port: number): { send(text: string): void; responses: Promise<RawResponse[]> } {
  const socket = connect(port, '127.0.0.1');
  socket.setEncoding('utf8');
  let received = '';
  socket.on('data', (chunk: string) => (received += chunk));
  const responses = new Promise<RawResponse[]>((resolve, reject) => {
    socket.on('error', reject);
    socket.on('close', () => resolve(parseResponses(received)));
  });
  return { send: (text) => void socket.write(text), responses };
}

/** Sends bytes on a fresh TCP connection and reads every response until the server closes it. */
function rawExchange(port: number, text: string): Promise<RawResponse[]> {
  const connection = rawConnection(port);
  connection.send(text);
  return connection.responses;
}

function parseResponses(text: string): RawResponse[] {
  const responses: RawResponse[] = [];
  let rest = text;
  while (rest.startsWith('HTTP/')) {
    const end = rest.indexOf('\r\n\r\n');
    const head = rest.slice(0, end);
    const length = Number(/content-length:\s*(\d+)/i.exec(head)?.[1] ?? 0);
    const body = rest.slice(end + 4, end + 4 + length);
    responses.push({ status: Number(head.split(' ')[1]), head, body });
    rest = rest.slice(end + 4 + length);
  }
  return responses;
}

/** The one error shape every failure has, whoever produced it: our handlers, Fastify or Node's HTTP parser. */
function expectErrorShape(response: { body: string }, code: string): void {
  const parsed = JSON.parse(response.body) as { error?: { code?: unknown; message?: unknown } };
  expect(Object.keys(parsed)).toEqual(['error']);
  expect(parsed.error?.code).toBe(code);
  expect(typeof parsed.error?.message).toBe('string');
}

describe('responses from the framework itself are in the error shape (issue 12)', () => {
  let store: Store;
  let app: FastifyInstance;
  let port: number;
  let serviceKey: string;
  let release: (() => void) | undefined;

  beforeAll(async () => {
    store = await openStore({ sqlitePath: ':memory:' });
    const clock = new ManualClock(1_750_000_000_000);
    const random = seededRandom(9);
    serviceKey = (
      await createApiKey(store.db, { clock, ids: uuidv7Generator(clock, random), random }, 'service')
    ).key;
    const routes: FastifyPluginAsync = async (instance) => {
      instance.get('/v1/things/:id', { config: { roles: ['service'] } }, async (request) => request.params);
      instance.post('/v1/things', { config: { roles: ['service'] } }, async () => ({ ok: true }));
      instance.get('/v1/teapot', async (_request, reply) =>
        reply.code(418).type('text/plain').send('short and stout'),
      );
      instance.get('/v1/gone', async (_request, reply) => reply.code(503).send('<html>down</html>'));
      instance.get('/v1/slow', async () => {
        await new Promise<void>((resolve) => (release = resolve));
        return { slow: true };
      });
    };
    app = await testServer(store, clock, routes);
    await app.listen({ port: 0, host: '127.0.0.1' });
    port = (app.server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await app?.close();
    await store?.close();
  });

  const auth = () => ({ authorization: `Bearer ${serviceKey}` });

  it('414 for a path parameter longer than the router takes', async () => {
    const response = await app.inject({
      method: 'GET',
      url: `/v1/things/${'x'.repeat(500)}`,
      headers: auth(),
    });
    expect(response.statusCode).toBe(414);
    expectErrorShape(response, 'LG_URI_TOO_LONG');
  });

  it('400 for a path that is not valid percent-encoding', async () => {
    const response = await app.inject({ method: 'GET', url: '/v1/things/%E0%A4%A', headers: auth() });
    expect(response.statusCode).toBe(400);
    expectErrorShape(response, 'LG_BAD_REQUEST');
  });

  it('404, 415 and 413 in the same shape', async () => {
    const missing = await app.inject({ method: 'GET', url: '/nowhere' });
    expect(missing.statusCode).toBe(404);
    expectErrorShape(missing, 'LG_ROUTE_NOT_FOUND');
    const text = await app.inject({
      method: 'POST',
      url: '/v1/things',
      headers: { ...auth(), 'content-type': 'text/plain' },
      payload: 'hello',
    });
    expect(text.statusCode).toBe(415);
    expectErrorShape(text, 'LG_UNSUPPORTED_MEDIA_TYPE');
    const xml = await app.inject({
      method: 'POST',
      url: '/v1/things',
      headers: { ...auth(), 'content-type': 'application/xml' },
      payload: '<a/>',
    });
    expect(xml.statusCode).toBe(415);
    expectErrorShape(xml, 'LG_UNSUPPORTED_MEDIA_TYPE');
    const big = await app.inject({
      method: 'POST',
      url: '/v1/things',
      headers: { ...auth(), 'content-type': 'application/json' },
      payload: JSON.stringify({ pad: 'x'.repeat(5000) }),
    });
    expect(big.statusCode).toBe(413);
    expectErrorShape(big, 'LG_PAYLOAD_TOO_LARGE');
  });

  it('rewrites a failure body a route or plugin wrote by hand into the shape', async () => {
    const teapot = await app.inject({ method: 'GET', url: '/v1/teapot' });
    expect(teapot.statusCode).toBe(400);
    expectErrorShape(teapot, 'LG_BAD_REQUEST');
    expect(teapot.headers['content-type']).toMatch(/^application\/json/);
    const gone = await app.inject({ method: 'GET', url: '/v1/gone' });
    expect(gone.statusCode).toBe(503);
    expectErrorShape(gone, 'LG_UNAVAILABLE');
  });

  it('431 for headers larger than Node accepts, on a raw socket', async () => {
    const [response] = await rawExchange(
      port,
      `GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
    );
    expect(response?.status).toBe(431);
    expectErrorShape(response!, 'LG_HEADERS_TOO_LARGE');
  });

  it('400 for bytes that are not HTTP, on a raw socket', async () => {
    const [response] = await rawExchange(port, 'HELLO THERE\r\n\r\n');
    expect(response?.status).toBe(400);
    expectErrorShape(response!, 'LG_BAD_REQUEST');
  });

  it('503 for a request that arrives while the server is shutting down, on a raw socket', async () => {
    // The first request is held in its handler while close() begins; the second, on the same connection, reaches
    // the server after shutdown started (a new connection would be refused outright).
    const connection = rawConnection(port);
    connection.send('GET /v1/slow HTTP/1.1\r\nHost: x\r\n\r\n');
    for (let tries = 0; tries < 200 && !release; tries += 1) await new Promise((r) => setTimeout(r, 5));
    const closing = app.close();
    connection.send('GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    await new Promise((r) => setTimeout(r, 20));
    release?.();
    const exchange = connection.responses;
    const [slow, late] = await exchange;
    await closing;
    expect(slow?.status).toBe(200);
    expect(late?.status).toBe(503);
    expectErrorShape(late!, 'LG_UNAVAILABLE');
  });
});

describe('rate limits: per API key, per client address, failed authentication (issue 12)', () => {
  let store: Store;
  let keys: string[];
  const clock = new ManualClock(1_750_000_000_000);
  const servers: FastifyInstance[] = [];

  beforeAll(async () => {
    store = await openStore({ sqlitePath: ':memory:' });
    const random = seededRandom(21);
    const ids = uuidv7Generator(clock, random);
    keys = [];
    for (let i = 0; i < 3; i++)
      keys.push((await createApiKey(store.db, { clock, ids, random }, 'service')).key);
  });
  afterAll(async () => {
    for (const server of servers) await server.close();
    await store?.close();
  });

  const limited = async (rateLimit: RateLimitOptions): Promise<FastifyInstance> => {
    const server = await buildServer({
      store,
      clock,
      metrics: createMetricsRegistry(),
      requestBytesMax: 1024,
      verifyKey: createKeyVerifier(store.db, clock),
      rateLimit,
      routes: [
        async (instance) => {
          instance.get('/v1/ping', { config: { roles: ['service'] } }, async () => ({ pong: true }));
        },
      ],
    });
    servers.push(server);
    return server;
  };
  const off = { windowMs: 60_000, perKeyMax: 0, perIpMax: 0, authFailuresMax: 0 };
  const ping = (server: FastifyInstance, key: string, remoteAddress = '10.0.0.1') =>
    server.inject({
      method: 'GET',
      url: '/v1/ping',
      headers: { authorization: `Bearer ${key}` },
      remoteAddress,
    });

  it('refuses a key past its allowance with 429 LG_RATE_LIMITED and Retry-After; other keys go on', async () => {
    const server = await limited({ ...off, perKeyMax: 5 });
    for (let i = 0; i < 5; i++) expect((await ping(server, keys[0]!, `10.0.1.${i}`)).statusCode).toBe(200);
    const refused = await ping(server, keys[0]!, '10.0.1.99');
    expect(refused.statusCode).toBe(429);
    expectErrorShape(refused, 'LG_RATE_LIMITED');
    expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect((await ping(server, keys[1]!)).statusCode).toBe(200);
  });

  it('refuses a client address past its allowance, whatever keys it uses; an IPv6 /64 counts as one', async () => {
    const server = await limited({ ...off, perIpMax: 4 });
    for (let i = 0; i < 4; i++) expect((await ping(server, keys[i % 3]!, '10.0.2.1')).statusCode).toBe(200);
    expect((await ping(server, keys[2]!, '10.0.2.1')).statusCode).toBe(429);
    expect((await ping(server, keys[2]!, '10.0.2.2')).statusCode).toBe(200);
    // Public routes count too: the limit is on the address, not on authenticated work.
    expect(
      (await server.inject({ method: 'GET', url: '/health', remoteAddress: '10.0.2.1' })).statusCode,
    ).toBe(429);
    for (let i = 1; i <= 4; i++) await ping(server, keys[0]!, `2001:db8:0:1::${i}`);
    expect((await ping(server, keys[0]!, '2001:db8:0:1:ffff::9')).statusCode).toBe(429);
  });

  it('refuses almost all of 3,000 bad-key requests, and then the address itself for the window', async () => {
    const server = await limited({ ...off, authFailuresMax: 20 });
    const statuses = new Map<number, number>();
    for (let batch = 0; batch < 30; batch++) {
      const answers = await Promise.all(
        Array.from({ length: 100 }, (_, i) => ping(server, `lg_guess_${batch}_${i}`, '10.0.3.1')),
      );
      for (const answer of answers)
        statuses.set(answer.statusCode, (statuses.get(answer.statusCode) ?? 0) + 1);
    }
    expect(statuses.get(401) ?? 0).toBeLessThanOrEqual(20 + 100); // at most the allowance, plus one batch in flight
    expect(statuses.get(429) ?? 0).toBeGreaterThanOrEqual(2_880);
    expect([...statuses.keys()].sort()).toEqual([401, 429]);
    // A valid key from the guessing address waits out the window; from elsewhere it works.
    expect((await ping(server, keys[0]!, '10.0.3.1')).statusCode).toBe(429);
    expect((await ping(server, keys[0]!, '10.0.3.2')).statusCode).toBe(200);
  });

  it('counts addresses as a limit should: mapped IPv4 as IPv4, IPv6 by /64', () => {
    expect(clientAddress('::ffff:10.1.2.3')).toBe('10.1.2.3');
    expect(clientAddress('10.1.2.3')).toBe('10.1.2.3');
    expect(clientAddress('2001:db8:0:1::1')).toBe(clientAddress('2001:0db8:0000:0001:ffff:1:2:3'));
    expect(clientAddress('2001:db8:0:1::1')).not.toBe(clientAddress('2001:db8:0:2::1'));
    expect(clientAddress('::1')).toBe('0:0:0:0::/64');
  });

  const redisUrl = process.env.LINEGUARD_TEST_REDIS_URL;
  it.skipIf(!redisUrl)('shares the counts between instances through Redis (scale-out)', async () => {
    const nameSpace = `lineguard:test:rate:${process.pid}:${Date.now()}:`;
    const shared = { ...off, perKeyMax: 5, redisUrl, nameSpace };
    const [a, b] = [await limited(shared), await limited(shared)];
    const answers = [];
    for (let i = 0; i < 3; i++) answers.push((await ping(a!, keys[2]!)).statusCode);
    for (let i = 0; i < 3; i++) answers.push((await ping(b!, keys[2]!)).statusCode);
    expect(answers).toEqual([200, 200, 200, 200, 200, 429]);
  });

  it.skipIf(!redisUrl)(
    'shares every limit of a request through Redis, asked for in one go: address, key and failed authentications',
    async () => {
      const nameSpace = `lineguard:test:rate-all:${process.pid}:${Date.now()}:`;
      const shared = { ...off, perIpMax: 8, perKeyMax: 6, authFailuresMax: 2, redisUrl, nameSpace };
      const [a, b] = [await limited(shared), await limited(shared)];
      // Two bad keys from one address, on either instance, use up its failed authentications: a third guess, and
      // even a valid key from there, is refused on both; the same valid key elsewhere goes on.
      expect((await ping(a!, 'lg_guess_1', '10.0.9.1')).statusCode).toBe(401);
      expect((await ping(b!, 'lg_guess_2', '10.0.9.1')).statusCode).toBe(401);
      expect((await ping(a!, 'lg_guess_3', '10.0.9.1')).statusCode).toBe(429);
      expect((await ping(b!, keys[1]!, '10.0.9.1')).statusCode).toBe(429);
      const elsewhere = [];
      for (let i = 0; i < 7; i++)
        elsewhere.push((await ping(i % 2 ? a! : b!, keys[1]!, '10.0.9.2')).statusCode);
      // The key's allowance (6) runs out first, counted across both instances.
      expect(elsewhere).toEqual([200, 200, 200, 200, 200, 429, 429]);
      const fresh = [];
      for (let i = 0; i < 3; i++) fresh.push((await ping(a!, keys[0]!, '10.0.9.2')).statusCode);
      // The address (8) ran out too: 7 requests before, so one more passes.
      expect(fresh).toEqual([200, 429, 429]);
    },
  );

  it.skipIf(!redisUrl)(
    'counts exactly when many requests at two instances ask at once, the same key and address in each burst',
    async () => {
      const nameSpace = `lineguard:test:rate-burst:${process.pid}:${Date.now()}:`;
      const shared = { ...off, perKeyMax: 37, perIpMax: 45, redisUrl, nameSpace };
      const [a, b] = [await limited(shared), await limited(shared)];
      // 60 at once on one key from one address, alternating instances: many counts of the same Redis keys at once.
      const answers = await Promise.all(
        Array.from({ length: 60 }, (_, i) => ping(i % 2 ? a! : b!, keys[0]!, '10.0.10.1')),
      );
      const passed = answers.filter((r) => r.statusCode === 200).length;
      expect(passed).toBe(37);
      expect(answers.filter((r) => r.statusCode === 429)).toHaveLength(23);
      // The address counted all 60 (refused ones too): 45 reached, so a fresh key from it is refused as well.
      expect((await ping(a!, keys[1]!, '10.0.10.1')).statusCode).toBe(429);
      expect((await ping(b!, keys[1]!, '10.0.10.2')).statusCode).toBe(200);
    },
  );

  it.skipIf(!redisUrl)(
    'lets requests through uncounted while Redis silently stops answering, and counts again on a new connection',
    async () => {
      const target = new URL(redisUrl ?? '');
      const proxy = await startTcpProxy(target.hostname, Number(target.port || 6379));
      try {
        const nameSpace = `lineguard:test:rate-stall:${process.pid}:${Date.now()}:`;
        const server = await limited({
          ...off,
          perKeyMax: 3,
          redisUrl: proxy.url(redisUrl ?? ''),
          nameSpace,
        });
        expect((await ping(server, keys[1]!, '10.0.11.1')).statusCode).toBe(200);
        proxy.stall();
        // Each count now waits for its command timeout (1 s), then the request passes uncounted.
        expect((await ping(server, keys[1]!, '10.0.11.1')).statusCode).toBe(200);
        // A failover: the old connection never answers again. The client must notice and connect anew; until it
        // does requests pass uncounted, after it two more are counted and the third is refused.
        proxy.abandon();
        let refusedAfter = 0;
        for (let i = 1; i <= 80 && refusedAfter === 0; i++) {
          if ((await ping(server, keys[1]!, '10.0.11.1')).statusCode === 429) refusedAfter = i;
          else await new Promise((resolve) => setTimeout(resolve, 100));
        }
        expect(refusedAfter).toBeGreaterThan(0);
      } finally {
        await proxy.close();
      }
    },
    30_000,
  );

  it('lets requests through uncounted while the shared counts are unreachable, without waiting for them', async () => {
    const server = await limited({
      ...off,
      perKeyMax: 1,
      redisUrl: 'redis://127.0.0.1:1',
      nameSpace: `lineguard:test:rate-down:${process.pid}:`,
    });
    const answers = await Promise.all(Array.from({ length: 5 }, () => ping(server, keys[0]!)));
    expect(answers.map((r) => r.statusCode)).toEqual([200, 200, 200, 200, 200]);
  });
});

describe('security headers and who may read /metrics (issue 12)', () => {
  let store: Store;
  const clock = new ManualClock(1_750_000_000_000);
  const servers: FastifyInstance[] = [];
  beforeAll(async () => {
    store = await openStore({ sqlitePath: ':memory:' });
  });
  afterAll(async () => {
    for (const server of servers) await server.close();
    await store?.close();
  });

  const serverWith = async (metricsAccess?: MetricsAccess): Promise<FastifyInstance> => {
    const server = await buildServer({
      store,
      clock,
      metrics: createMetricsRegistry(),
      requestBytesMax: 1024,
      verifyKey: createKeyVerifier(store.db, clock),
      routes: [],
      ...(metricsAccess ? { metricsAccess } : {}),
    });
    servers.push(server);
    return server;
  };

  it('sends the security headers on answers, errors included, with a CSP that allows only own scripts', async () => {
    const server = await serverWith();
    for (const url of ['/health', '/nowhere', '/docs/static/index.html', '/openapi.json']) {
      const response = await server.inject({ method: 'GET', url });
      const csp = String(response.headers['content-security-policy']);
      expect(csp, url).toContain("script-src 'self'");
      expect(csp, url).toContain("default-src 'self'");
      expect(csp, url).toContain("frame-ancestors 'none'");
      expect(csp, url).not.toMatch(/script-src[^;]*unsafe/);
      expect(csp, url).not.toContain('upgrade-insecure-requests');
      expect(response.headers['x-content-type-options'], url).toBe('nosniff');
      expect(response.headers['x-frame-options'], url).toBe('DENY');
      expect(response.headers['strict-transport-security'], url).toMatch(/max-age=\d+/);
      expect(response.headers['referrer-policy'], url).toBe('no-referrer');
      expect(response.headers['cross-origin-opener-policy'], url).toBe('same-origin');
      expect(response.headers['cross-origin-resource-policy'], url).toBe('same-origin');
      expect(response.headers['x-permitted-cross-domain-policies'], url).toBe('none');
    }
  });

  it('serves the Swagger UI at /docs with no inline script, so the CSP above lets it run', async () => {
    const server = await serverWith();
    const page = await server.inject({ method: 'GET', url: '/docs/' });
    expect(page.statusCode).toBe(200);
    const scripts = [...page.body.matchAll(/<script([^>]*)>([\s\S]*?)<\/script>/g)];
    expect(scripts.length).toBeGreaterThan(0);
    for (const [, attributes, content] of scripts) {
      expect(attributes).toMatch(/src="[^"]*"/);
      expect(attributes).not.toMatch(/src="(https?:)?\/\//);
      expect(content?.trim()).toBe('');
    }
    const initializer = await server.inject({ method: 'GET', url: '/docs/static/swagger-initializer.js' });
    expect(initializer.statusCode).toBe(200);
  });

  it('keeps /metrics open only when so configured, behind a bearer token when given one', async () => {
    const open = await serverWith({ kind: 'open' });
    expect((await open.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(200);
    const guarded = await serverWith({ kind: 'token', token: 'metrics-secret-0123456789' });
    const none = await guarded.inject({ method: 'GET', url: '/metrics' });
    expect(none.statusCode).toBe(401);
    expectErrorShape(none, 'LG_UNAUTHENTICATED');
    const wrong = await guarded.inject({
      method: 'GET',
      url: '/metrics',
      headers: { authorization: 'Bearer metrics-secret-0123456780' },
    });
    expect(wrong.statusCode).toBe(401);
    const right = await guarded.inject({
      method: 'GET',
      url: '/metrics',
      headers: { authorization: 'Bearer metrics-secret-0123456789' },
    });
    expect(right.statusCode).toBe(200);
    expect(right.body).toContain('lineguard_http_request_duration_seconds');
  });

  it('serves /metrics only on its own listener when given one', async () => {
    const registry = createMetricsRegistry();
    const main = await serverWith({ kind: 'elsewhere' });
    const onMain = await main.inject({ method: 'GET', url: '/metrics' });
    expect(onMain.statusCode).toBe(404);
    expectErrorShape(onMain, 'LG_ROUTE_NOT_FOUND');
    const metrics = await createMetricsServer(registry);
    servers.push(metrics);
    await metrics.listen({ port: 0, host: '127.0.0.1' });
    const { port } = metrics.server.address() as AddressInfo;
    const scraped = await fetch(`http://127.0.0.1:${port}/metrics`);
    expect(scraped.status).toBe(200);
    expect(await scraped.text()).toContain('lineguard_process_cpu');
    const other = await fetch(`http://127.0.0.1:${port}/v1/lines`);
    expect(other.status).toBe(404);
    expectErrorShape({ body: await other.text() }, 'LG_ROUTE_NOT_FOUND');
  });
});

for (const factory of STORE_FACTORIES) {
  describe.skipIf(!factory.enabled)(`idempotent responses stored in batches (${factory.name})`, () => {
    it('upserts the responses of concurrent requests over their committed keys and replays them', async () => {
      const store = await factory.open('idem_batch');
      const clock = new ManualClock(1_750_000_000_000);
      const ids = uuidv7Generator(clock, seededRandom(3));
      const key = (await createApiKey(store.db, { clock, ids, random: seededRandom(4) }, 'service')).key;
      const routes: FastifyPluginAsync = async (instance) => {
        instance.post<{ Body: { amount: number } }>(
          '/v1/writes',
          { config: { roles: ['service'], idempotent: true } },
          async (request, reply) => {
            const id = `w${request.body.amount}`;
            // A guarded write: its key row ('committed') joins this transaction; the response row follows later.
            await store.transaction((tx) =>
              tx
                .insertInto('outbox')
                .values({ id, topic: 't', payload: '{}', created_at: 1, published_at: null })
                .execute(),
            );
            return reply.code(201).send({ id });
          },
        );
      };
      const app = await testServer(store, clock, routes);
      const post = (amount: number) =>
        app.inject({
          method: 'POST',
          url: '/v1/writes',
          headers: { authorization: `Bearer ${key}`, 'idempotency-key': `k${amount}` },
          payload: { amount },
        });
      const firsts = await Promise.all([1, 2, 3, 4].map(post));
      const done = async () =>
        await store.db
          .selectFrom('idempotency_keys')
          .select(['idem_key', 'state', 'response_body'])
          .where('state', '=', 'done')
          .orderBy('idem_key')
          .execute();
      for (let tries = 0; tries < 100 && (await done()).length < 4; tries += 1)
        await new Promise((resolve) => setTimeout(resolve, 10));
      expect((await done()).map((r) => [r.idem_key, r.response_body])).toEqual(
        [1, 2, 3, 4].map((n, i) => [`k${n}`, firsts[i]?.body]),
      );
      const replay = await post(3);
      expect(replay.headers['idempotent-replayed']).toBe('true');
      expect(replay.body).toBe(firsts[2]?.body);
      const writes = await store.db.selectFrom('outbox').select('id').execute();
      expect(writes).toHaveLength(4);
      await app.close();
      await store.close();
    });
  });
}

/**
 * U+0000 in a path parameter, a query string or a body: PostgreSQL cannot hold it in text (it refuses the statement),
 * so on that store these reached the database and answered 500 LG_INTERNAL. Refused at the edge, on every store.
 */
for (const target of appStores('nul-bytes')) {
  describe.skipIf(!target.enabled)(`U+0000 in a request is a coded 400 (${target.name})`, () => {
    it('refuses it in path parameters, query strings and bodies, naming where', async () => {
      const t = await startTestApp(await target.env());
      try {
        const send = (method: 'GET' | 'POST' | 'DELETE', url: string, payload?: object) =>
          t.server.inject({ method, url, headers: adminHeaders('nul-1'), ...(payload ? { payload } : {}) });
        const answers = [
          [await send('GET', '/v1/console/lines/a%00b/history'), 'params/id'],
          [await send('GET', '/v1/console/alerts/a%00b'), 'params/id'],
          [await send('GET', '/v1/console/lines?after=a%00b'), 'querystring/after'],
          [await send('GET', '/v1/alerts?userId=a%00b'), 'querystring/userId'],
          [await send('DELETE', '/v1/lists/a%00b'), 'params/entryId'],
          [
            await send('POST', '/v1/events', {
              eventId: 'nul',
              type: 'login',
              occurredAt: '2026-11-02T09:00:00Z',
              userId: 'u\u0000',
            }),
            'body/userId',
          ],
        ] as const;
        for (const [res, path] of answers) {
          expect(res.statusCode, res.body).toBe(400);
          expect(res.json().error).toMatchObject({ code: 'LG_VALIDATION', details: [{ path }] });
        }
      } finally {
        await t.close();
      }
    });
  });
}
