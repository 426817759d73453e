import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { adminHeaders, startTestApp, type TestApp } from '../helpers/app.js';

/**
 * "Fuzz every endpoint and never answer 500": every route in the published OpenAPI document gets random and
 * near-valid bodies, odd path parameters and query strings; each answer must be a coded 4xx or a success.
 */
describe('API fuzz', () => {
  let t: TestApp;
  let routes: { method: string; path: string }[] = [];

  beforeAll(async () => {
    t = await startTestApp();
    const spec = (await t.server.inject({ method: 'GET', url: '/openapi.json' })).json() as {
      paths: Record<string, Record<string, unknown>>;
    };
    routes = Object.entries(spec.paths).flatMap(([path, methods]) =>
      Object.keys(methods)
        .filter((m) => ['get', 'post', 'put', 'delete', 'patch'].includes(m))
        .map((method) => ({ method: method.toUpperCase(), path })),
    );
  });
  afterAll(async () => t?.close());

  const pathParam = fc.oneof(
    fc.uuid(),
    fc.constantFrom('x', '0', '-1', '%00', '..', 'application', 'draw', '1e309'),
    fc.string({ maxLength: 12 }),
  );
  const body = fc.oneof(
    fc.jsonValue({ maxDepth: 3 }),
    fc.dictionary(
      fc.constantFrom(
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
      ),
      fc.oneof(
        fc.integer(),
        fc.double(),
        fc.string({ maxLength: 20 }),
        fc.boolean(),
        fc.constant(null),
        fc.array(fc.string(), { maxLength: 3 }),
        fc.jsonValue({ maxDepth: 2 }),
      ),
    ),
  );

  it('has routes to fuzz', () => {
    expect(routes.length).toBeGreaterThan(10);
  });

  it('never answers 500 on any route', async () => {
    let counter = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.nat({ max: 10_000 }),
        pathParam,
        body,
        fc.string({ maxLength: 10 }),
        async (pick, param, payload, query) => {
          const route = routes[pick % routes.length]!;
          const url =
            route.path.replace(/\{[^}]+\}/g, encodeURIComponent(param)) +
            (query ? `?q=${encodeURIComponent(query)}&from=${encodeURIComponent(query)}` : '');
          counter += 1;
          const response = await t.server.inject({
            method: route.method as 'GET',
            url,
            headers: adminHeaders(`fuzz-${counter}`),
            ...(route.method === 'GET' || route.method === 'DELETE' ? {} : { payload: payload as object }),
          });
          if (response.statusCode >= 500) {
            throw new Error(
              `${route.method} ${url} answered ${response.statusCode}: ${response.body.slice(0, 300)}`,
            );
          }
          if (response.statusCode >= 400) expect(response.json().error.code).toMatch(/^LG_/);
        },
      ),
      { numRuns: 600, seed: 20261128 },
    );
  });
});
