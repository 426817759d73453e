import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { InjectOptions } from 'fastify';
import { routeTable, type RouteEntry } from '../../src/api/server.js';
import { createApiKey } from '../../src/api/api-keys.js';
import {
  STRONG_APPLICANT,
  adminHeaders,
  mintPartnerKey,
  startTestApp,
  type TestApp,
} from '../helpers/app.js';
import { residentId } from '../core/harness.js';

/**
 * "Fuzz every endpoint and never answer 500" (issue 12): every route in the server's own route table (so a route
 * another module adds tomorrow is fuzzed without touching this file) gets generated path parameters, query strings,
 * bodies (JSON values, near-valid objects, hostile raw text), content types, credentials and idempotency keys.
 * Every answer must be a success or a coded 4xx in the one error shape; none may be a 5xx.
 */
const REQUESTS = 10_000;
/** Requests in flight at once: enough to overlap database work, few enough to keep the run deterministic enough. */
const CONCURRENCY = 16;
const SEED = 20_261_203;

const FIELD_NAMES = [
  'amountMinor',
  'currency',
  'termMonths',
  'method',
  'type',
  'reasons',
  'applicant',
  'attributes',
  'events',
  'eventId',
  'occurredAt',
  'userId',
  'from',
  'to',
  'version',
  'name',
  'value',
  'document',
  'list',
  'entityType',
  'reason',
  'source',
  'expiresAt',
  'paidAt',
  'partnerId',
  'entries',
  'key',
  'id',
  '__proto__',
  'constructor',
] as const;

const QUERY_NAMES = [
  'limit',
  'cursor',
  'list',
  'entityType',
  'includeExpired',
  'value',
  'from',
  'to',
  'lang',
  'asOf',
  'entityId',
  'borrowerId',
  'at',
  'status',
  'q',
  'version',
] as const;

/** Bodies a JSON generator does not produce: broken, huge, deep, non-finite, prototype-polluting. */
const RAW_BODIES = [
  '',
  '{',
  'null',
  '[]',
  '"text"',
  '{"a":1e400}',
  '{"amountMinor":-1e400}',
  '{"id":"application","extra":[1e999]}',
  `{"deep":${'['.repeat(200)}${']'.repeat(200)}}`,
  `${'{"a":'.repeat(70)}1${'}'.repeat(70)}`,
  '{"__proto__":{"polluted":true}}',
  '{"constructor":{"prototype":{"polluted":true}}}',
  '{"amountMinor":9007199254740993}',
  '{"amountMinor":1e21,"currency":"CNY"}',
  '{"expiresAt":"+275760-09-13T00:00:00.000Z"}',
  '{"paidAt":"-271821-04-20T00:00:00.000Z","amountMinor":1,"currency":"CNY"}',
  '\u0000\u0001',
  '{"a":"\ud800"}',
] as const;

interface FuzzRequest {
  readonly params: readonly string[];
  readonly query: readonly (readonly [string, string])[];
  readonly body:
    | { readonly kind: 'json'; readonly value: unknown }
    | { readonly kind: 'raw'; readonly text: string }
    | { readonly kind: 'none' };
  readonly contentType: string | undefined;
  readonly auth: 'admin' | 'none' | 'bad' | 'basic';
  readonly idempotency: 'fresh' | 'reused' | 'invalid' | 'none';
  readonly address: number;
}

/** Marks a path parameter to be put into the URL without encoding. */
const RAW = '\u0000raw:';

const pathParam = fc.oneof(
  { weight: 3, arbitrary: fc.uuid() },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      'x',
      '0',
      '-1',
      '1',
      '2',
      '..',
      'application',
      'draw',
      'review',
      'black',
      'acme',
      '1e309',
      '2147483648',
      'drawsLast24h',
    ),
  },
  { weight: 2, arbitrary: fc.string({ maxLength: 12 }) },
  // Longer than the router's maxParamLength (100): the framework's 414.
  { weight: 1, arbitrary: fc.string({ minLength: 101, maxLength: 300 }) },
  // Sent as is, not encoded: broken percent-escapes are the router's 400.
  {
    weight: 1,
    arbitrary: fc.constantFrom('%E0%A4%A', '%zz', '%', '%00', '%2e%2e').map((raw) => `${RAW}${raw}`),
  },
);

const jsonBody = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.dictionary(
    fc.constantFrom(...FIELD_NAMES),
    fc.oneof(
      fc.integer(),
      fc.double(),
      fc.string({ maxLength: 20 }),
      fc.boolean(),
      fc.constant(null),
      fc.array(fc.string(), { maxLength: 3 }),
      fc.jsonValue({ maxDepth: 2 }),
      fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
    ),
  ),
);

const fuzzRequest: fc.Arbitrary<FuzzRequest> = fc.record({
  params: fc.array(pathParam, { minLength: 3, maxLength: 3 }),
  query: fc.array(
    fc.tuple(
      fc.oneof(fc.constantFrom(...QUERY_NAMES), fc.string({ maxLength: 6 })),
      fc.string({ maxLength: 12 }),
    ),
    { maxLength: 3 },
  ),
  body: fc.oneof(
    { weight: 6, arbitrary: jsonBody.map((value) => ({ kind: 'json' as const, value })) },
    { weight: 2, arbitrary: fc.constantFrom(...RAW_BODIES).map((text) => ({ kind: 'raw' as const, text })) },
    { weight: 1, arbitrary: fc.constant({ kind: 'none' as const }) },
  ),
  contentType: fc.oneof(
    { weight: 12, arbitrary: fc.constant('application/json') },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        undefined,
        'text/plain',
        'application/x-www-form-urlencoded',
        'application/json; charset=utf-16',
        'multipart/form-data; boundary=x',
      ),
    },
  ),
  auth: fc.oneof(
    { weight: 12, arbitrary: fc.constant('admin' as const) },
    { weight: 1, arbitrary: fc.constantFrom('none' as const, 'bad' as const, 'basic' as const) },
  ),
  idempotency: fc.oneof(
    { weight: 10, arbitrary: fc.constant('fresh' as const) },
    { weight: 1, arbitrary: fc.constantFrom('reused' as const, 'invalid' as const, 'none' as const) },
  ),
  address: fc.nat({ max: 250 }),
});

function urlFor(route: RouteEntry, request: FuzzRequest): string {
  let index = 0;
  const nextParam = () => {
    const param = request.params[index++ % request.params.length] ?? '';
    return param.startsWith(RAW) ? param.slice(RAW.length) : encodeURIComponent(param);
  };
  const path = route.url.replace(/:[^/]+/g, nextParam).replace(/\*$/, () => nextParam());
  const query = request.query.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');
  return query ? `${path}?${query}` : path;
}

function injectionFor(route: RouteEntry, request: FuzzRequest, n: number): InjectOptions {
  const headers: Record<string, string> = {};
  if (request.auth === 'admin' && route.url.startsWith('/v1/me/'))
    headers.authorization = `Bearer ${borrowerToken}`;
  else if (request.auth === 'admin' && route.url.startsWith('/v1/partner/'))
    headers.authorization = `Bearer ${partnerKey}`;
  else if (request.auth === 'admin') Object.assign(headers, adminHeaders());
  if (request.auth === 'bad') headers.authorization = `Bearer lg_fuzz_guess_${n}`;
  if (request.auth === 'basic') headers.authorization = 'Basic YWRtaW46YWRtaW4=';
  if (request.idempotency === 'fresh') headers['idempotency-key'] = `fuzz-${n}`;
  if (request.idempotency === 'reused') headers['idempotency-key'] = `fuzz-reused-${n % 7}`;
  if (request.idempotency === 'invalid') headers['idempotency-key'] = 'not a valid key!';
  const sendsBody = !['GET', 'HEAD', 'DELETE'].includes(route.method) && request.body.kind !== 'none';
  if (sendsBody && request.contentType) headers['content-type'] = request.contentType;
  const payload = !sendsBody
    ? undefined
    : request.body.kind === 'raw'
      ? request.body.text
      : JSON.stringify(request.body.kind === 'json' ? request.body.value : null);
  return {
    method: route.method as InjectOptions['method'],
    url: urlFor(route, request),
    headers,
    // Guessed keys come from many addresses, as an attacker's would; the admin works from one.
    remoteAddress: request.auth === 'admin' ? '127.0.0.1' : `198.51.100.${request.address}`,
    ...(payload === undefined ? {} : { payload }),
  };
}

/** The one error shape: `{"error":{"code":"LG_…","message":"…"[,"details":…]}}` and nothing else. */
function errorShapeProblem(body: string): string | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return 'body is not JSON';
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return 'body is not an object';
  const top = Object.keys(parsed);
  if (top.length !== 1 || top[0] !== 'error') return `top-level keys ${top.join(',')}`;
  const error = (parsed as { error: unknown }).error;
  if (typeof error !== 'object' || error === null) return 'error is not an object';
  const { code, message, ...rest } = error as Record<string, unknown>;
  if (typeof code !== 'string' || !/^LG_[A-Z_]+$/.test(code)) return `code ${String(code)}`;
  if (typeof message !== 'string' || message === '') return 'message missing';
  const extra = Object.keys(rest).filter((k) => k !== 'details');
  return extra.length > 0 ? `extra keys ${extra.join(',')}` : undefined;
}

/** /v1/me routes admit only borrower tokens: the fuzz signs in to them as one real borrower. */
let borrowerToken = '';
/** /v1/partner routes admit only a key bound to a 助贷 partner. */
let partnerKey = '';

async function mintTokenForOneBorrower(t: TestApp): Promise<string> {
  const applied = await t.server.inject({
    method: 'POST',
    url: '/v1/applications',
    headers: adminHeaders('fuzz-borrower'),
    payload: {
      applicant: { name: '张三', nationalId: residentId('19800101', 123), phone: '13900009999' },
      attributes: STRONG_APPLICANT,
    },
  });
  const borrowerId = (applied.json() as { borrowerId: string }).borrowerId;
  const service = await createApiKey(t.app.store.db, t.app, 'service', 'fuzz');
  const minted = await t.server.inject({
    method: 'POST',
    url: `/v1/borrowers/${borrowerId}/tokens`,
    headers: { authorization: `Bearer ${service.key}` },
    payload: {},
  });
  return (minted.json() as { token: string }).token;
}

describe('API fuzz', () => {
  let t: TestApp;
  let routes: readonly RouteEntry[] = [];

  beforeAll(async () => {
    t = await startTestApp();
    routes = routeTable(t.server);
    borrowerToken = await mintTokenForOneBorrower(t);
    partnerKey = await mintPartnerKey(t.server);
  });
  afterAll(async () => t?.close());

  it('takes its routes from the server, every module included', () => {
    const urls = new Set(routes.map((r) => `${r.method} ${r.url}`));
    for (const known of [
      'GET /health',
      'GET /metrics',
      'POST /v1/applications',
      'POST /v1/events',
      'GET /v1/lists',
    ])
      expect(urls, known).toContain(known);
    expect(routes.length).toBeGreaterThan(30);
  });

  it(`answers ${REQUESTS} generated requests across every route with no 5xx and only coded errors`, async () => {
    const requests = fc.sample(fuzzRequest, { numRuns: REQUESTS, seed: SEED });
    const failures: string[] = [];
    const pastAuth = new Map<string, number>();
    const perRoute = new Map<string, number>();
    for (let start = 0; start < requests.length; start += CONCURRENCY) {
      await Promise.all(
        requests.slice(start, start + CONCURRENCY).map(async (request, offset) => {
          const n = start + offset;
          // Round-robin over the table, so every route gets its share.
          const route = routes[n % routes.length]!;
          const name = `${route.method} ${route.url}`;
          const injection = injectionFor(route, request, n);
          const response = await t.server.inject(injection);
          perRoute.set(name, (perRoute.get(name) ?? 0) + 1);
          if (![401, 403, 429].includes(response.statusCode))
            pastAuth.set(name, (pastAuth.get(name) ?? 0) + 1);
          const problem =
            response.statusCode >= 500
              ? `status ${response.statusCode}`
              : response.statusCode >= 400 && route.method !== 'HEAD'
                ? errorShapeProblem(response.body)
                : undefined;
          if (problem && failures.length < 20) {
            failures.push(
              `${injection.method} ${String(injection.url).slice(0, 120)} → ${response.statusCode} (${problem}): ${response.body.slice(0, 200)}`,
            );
          }
        }),
      );
    }
    expect(failures).toEqual([]);
    expect([...perRoute.values()].reduce((a, b) => a + b, 0)).toBe(REQUESTS);
    // Every route was reached, and past authentication: the fuzz exercised the handlers, not only the gate.
    for (const route of routes) {
      const name = `${route.method} ${route.url}`;
      expect(perRoute.get(name) ?? 0, name).toBeGreaterThanOrEqual(Math.floor(REQUESTS / routes.length));
      expect(pastAuth.get(name) ?? 0, name).toBeGreaterThan(0);
    }
  });
});
