import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import { Type } from '@sinclair/typebox';
import { loadConfig } from '../../src/app/config.js';
import { createApp, createHttpServer, type AppServices } from '../../src/app/app.js';
import { bootstrapServe } from '../../src/app/bootstrap.js';
import { buildServer, createMetricsRegistry } from '../../src/api/server.js';
import { openStore } from '../../src/store/db.js';
import { ManualClock } from '../../src/domain/clock.js';
import { LgError } from '../../src/domain/errors.js';
import * as R from '../../src/api/routes/responses.js';
import { STRONG_APPLICANT, TEST_ADMIN_KEY, adminHeaders } from '../helpers/app.js';
import { residentId } from '../core/harness.js';
import {
  contractAjv,
  describeErrors,
  recordResponseViolations,
  type Violation,
} from './response-contract.js';

/**
 * The API's contract (issue 14): every operation in /openapi.json declares its success answer and its error answers,
 * and what the routes actually answer fits what they declare — checked on the value a handler returns (before
 * fast-json-stringify could drop or coerce anything) and on the body a client receives.
 */
type Operation = {
  responses?: Record<string, { content?: Record<string, { schema?: unknown }> }>;
  security?: unknown[];
};
type OpenApi = { paths: Record<string, Record<string, Operation>> };

const ERROR_REF = '#/components/schemas/ErrorBody';

function operations(doc: OpenApi): { method: string; path: string; op: Operation }[] {
  return Object.entries(doc.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, op]) => ({ method: method.toUpperCase(), path, op })),
  );
}

function jsonSchemaOf(op: Operation, status: string): unknown {
  const content = op.responses?.[status]?.content;
  return content?.['application/json']?.schema;
}

async function startContractApp(): Promise<{
  app: AppServices;
  server: FastifyInstance;
  violations: Violation[];
}> {
  const dataDir = mkdtempSync(join(tmpdir(), 'lg-contract-'));
  const config = loadConfig(
    {
      LINEGUARD_KEY: 'ab'.repeat(32),
      LINEGUARD_ADMIN_KEY: TEST_ADMIN_KEY,
      LINEGUARD_SEED_DEMO: '1',
      LINEGUARD_BUREAU: 'off',
      LINEGUARD_DATA_DIR: dataDir,
    },
    {},
    () => undefined,
  );
  const app = await createApp(config);
  const server = await createHttpServer(app);
  const violations: Violation[] = [];
  recordResponseViolations(server, (v) => violations.push(v));
  await server.ready();
  await bootstrapServe(app, () => undefined);
  return { app, server, violations };
}

describe('/openapi.json declares every operation’s answers', () => {
  let started: Awaited<ReturnType<typeof startContractApp>>;
  let doc: OpenApi;
  beforeAll(async () => {
    started = await startContractApp();
    doc = (await started.server.inject({ method: 'GET', url: '/openapi.json' })).json();
  }, 120_000);
  afterAll(async () => {
    await started?.server.close();
    await started?.app.close();
  });

  it('every operation declares a 2xx response schema', () => {
    const ops = operations(doc);
    expect(ops.length).toBeGreaterThanOrEqual(110);
    const missing = ops
      .filter(({ op }) =>
        Object.keys(op.responses ?? {}).every(
          (status) => !status.startsWith('2') || (status !== '204' && jsonSchemaOf(op, status) === undefined),
        ),
      )
      .map(({ method, path }) => `${method} ${path}`);
    expect(missing).toEqual([]);
  });

  it('every operation declares its error responses with the one ErrorBody schema', () => {
    const problems: string[] = [];
    for (const { method, path, op } of operations(doc)) {
      const errors = Object.keys(op.responses ?? {}).filter((s) => /^[45]/.test(s));
      if (errors.length === 0) problems.push(`${method} ${path}: no error response`);
      // Every route behind a key can refuse the key (401), the role (403), the request (400) and be unavailable (503),
      // and fail (500: a defect, LG_INTERNAL, or a sealed value no held key opens, LG_SEALED_DATA_UNREADABLE).
      if (path !== '/health')
        for (const status of ['400', '401', '403', '429', '500', '503'])
          if (!errors.includes(status)) problems.push(`${method} ${path}: no ${status}`);
      if (/\{\w+\}/.test(path) && !errors.includes('404')) problems.push(`${method} ${path}: no 404`);
      for (const status of errors) {
        const schema = JSON.stringify(jsonSchemaOf(op, status) ?? null);
        if (!schema.includes(ERROR_REF)) problems.push(`${method} ${path}: ${status} is not ErrorBody`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('every operation answers with a shape its schema allows (handler value and sent body)', async () => {
    const exercised = await exerciseApi(started.server, doc);
    if (process.env.LG_CONTRACT_REPORT)
      console.log(
        JSON.stringify({
          succeeded: exercised.succeeded.size,
          answered: exercised.answered.size,
          notSucceeded: operations(doc)
            .map((o) => `${o.method} ${o.path}`)
            .filter((k) => !exercised.succeeded.has(k)),
        }),
      );
    expect(started.violations).toEqual([]);
    expect(exercised.bodyViolations).toEqual([]);
    // Every idempotent write the walk made committed its key in its own unit of work (the handler passed its guard).
    const metrics = (await started.server.inject({ method: 'GET', url: '/metrics' })).body;
    const unguarded = metrics
      .split('\n')
      .filter((line) => line.startsWith('lineguard_idempotent_writes_unguarded_total{'));
    expect(unguarded).toEqual([]);
    // The walk below reaches most of the API with a 2xx; the rest answered (and were checked) with their errors.
    expect(exercised.succeeded.size).toBeGreaterThanOrEqual(98);
    // The borrower's own reads and the dispute routes each get their 2xx shape checked, not only their errors.
    const mustSucceed = operations(doc)
      .filter(
        ({ method, path }) =>
          (method === 'GET' && path.startsWith('/v1/me/')) || /disputes|bureau-notices/.test(path),
      )
      .map(({ method, path }) => `${method} ${path}`);
    expect(mustSucceed.length).toBeGreaterThanOrEqual(16);
    expect(mustSucceed.filter((k) => !exercised.succeeded.has(k))).toEqual([]);
    expect(exercised.answered.size).toBeGreaterThanOrEqual(100);
  }, 300_000);
});

describe('the contract check itself', () => {
  it('fails an answer with a member its schema does not name, or a wrong type, or no schema for its status', async () => {
    const store = await openStore({ sqlitePath: ':memory:' });
    const routes: FastifyPluginAsync = async (app) => {
      const answer = Type.Object({ id: Type.String(), count: Type.Number() });
      app.get('/extra', { schema: { response: { 200: answer } } }, async () => ({
        id: 'a',
        count: 1,
        secret: 'dropped by the serializer',
      }));
      app.get('/wrong', { schema: { response: { 200: answer } } }, async () => ({ id: null, count: '2' }));
      app.get('/undeclared', { schema: { response: { 200: answer } } }, async () => {
        throw new LgError('LG_CONFLICT', 'an error status the route does not declare');
      });
      app.get('/fine', { schema: { response: { 200: answer, ...R.READ_ERRORS } } }, async () => ({
        id: 'a',
        count: 1,
      }));
    };
    const server = await buildServer({
      store,
      clock: new ManualClock(0),
      metrics: createMetricsRegistry(),
      requestBytesMax: 1024,
      verifyKey: async () => null,
      routes: [routes],
    });
    const violations: Violation[] = [];
    recordResponseViolations(server, (v) => violations.push(v));
    await server.ready();
    const extra = await server.inject({ method: 'GET', url: '/extra' });
    // What the client would have got: the member silently gone. The check is what catches it.
    expect(extra.json()).toEqual({ id: 'a', count: 1 });
    await server.inject({ method: 'GET', url: '/wrong' });
    await server.inject({ method: 'GET', url: '/undeclared' });
    await server.inject({ method: 'GET', url: '/fine' });
    await server.close();
    await store.close();
    expect(violations.map((v) => v.url)).toEqual(['/extra', '/wrong', '/undeclared']);
    expect(violations[0]?.errors.join()).toMatch(/secret/);
    expect(violations[1]?.errors.join()).toMatch(/must be string/);
  });
});

interface Exercise {
  readonly succeeded: Set<string>;
  readonly answered: Set<string>;
  readonly bodyViolations: string[];
}

/**
 * Walks the API as a lender, a risk team and a borrower would: applications, draws, repayments, quotes, line actions,
 * lists, events, consents, strategies, overlays, partners, products, users and keys, cases and changes, the borrower's
 * own routes; then every GET in the document with the ids those produced. Each answer is checked against the
 * operation's published schema for its status.
 */
async function exerciseApi(server: FastifyInstance, doc: OpenApi): Promise<Exercise> {
  const ajv = contractAjv();
  ajv.addSchema({ ...doc, $id: 'openapi' });
  const result: Exercise = { succeeded: new Set(), answered: new Set(), bodyViolations: [] };
  let n = 0;
  const call = async (
    method: string,
    template: string,
    params: Record<string, string | number> = {},
    options: { payload?: unknown; headers?: Record<string, string>; query?: string } = {},
  ) => {
    const url = template.replace(/\{(\w+)\}/g, (_m, name: string) =>
      encodeURIComponent(String(params[name])),
    );
    const headers = options.headers ?? adminHeaders(method === 'GET' ? undefined : `contract-${++n}`);
    const response = await server.inject({
      method: method as 'GET',
      url: options.query ? `${url}?${options.query}` : url,
      headers,
      ...(options.payload === undefined ? {} : { payload: options.payload as object }),
    });
    const key = `${method} ${template}`;
    result.answered.add(key);
    if (response.statusCode < 300) result.succeeded.add(key);
    const status = String(response.statusCode);
    const op = doc.paths[template]?.[method.toLowerCase()];
    const declared = op?.responses?.[status];
    if (!declared) result.bodyViolations.push(`${key}: ${status} not declared`);
    else if (
      response.statusCode !== 204 &&
      String(response.headers['content-type']).startsWith('application/json')
    ) {
      const pointer = `openapi#/paths/${template.replaceAll('~', '~0').replaceAll('/', '~1')}/${method.toLowerCase()}/responses/${status}/content/application~1json/schema`;
      const validate = ajv.getSchema(pointer);
      if (!validate) result.bodyViolations.push(`${key}: ${status} has no JSON schema`);
      else if (!validate(response.json()))
        result.bodyViolations.push(`${key}: ${status} ${describeErrors(validate.errors).join('; ')}`);
    }
    return response;
  };
  const ids = await walkWrites(call);
  for (const { method, path } of operations(doc)) {
    if (method !== 'GET' || result.answered.has(`GET ${path}`)) continue;
    const names = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1] ?? '');
    const params = Object.fromEntries(names.map((name) => [name, ids.paramFor(path, name)]));
    await call('GET', path, params, { query: ids.queryFor(path), headers: ids.headersFor(path) });
  }
  return result;
}

type Call = (
  method: string,
  template: string,
  params?: Record<string, string | number>,
  options?: { payload?: unknown; headers?: Record<string, string>; query?: string },
) => Promise<{ statusCode: number; json: () => Answer; body: string }>;

/** An answer as the walk reads it: any member may be looked up (the checks above hold it to its schema). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the walk reads ids out of answers of every shape
type Answer = any;

async function walkWrites(call: Call) {
  const applied = await call(
    'POST',
    '/v1/applications',
    {},
    {
      payload: {
        applicant: { name: '韩梅梅', nationalId: residentId('19850302', 777), phone: '13900007777' },
        attributes: STRONG_APPLICANT,
      },
    },
  );
  expect(applied.statusCode, applied.body).toBe(201);
  const lineId: string = applied.json().line.id;
  const borrowerId: string = applied.json().borrowerId;
  const decisionId: string = applied.json().decisionId;
  const quote = await call(
    'POST',
    '/v1/lines/{id}/quotes',
    { id: lineId },
    {
      payload: { amountMinor: 300_000, currency: 'CNY', termMonths: 6, method: 'EQUAL_INSTALLMENT' },
    },
  );
  const draw = await call(
    'POST',
    '/v1/lines/{id}/draws',
    { id: lineId },
    {
      payload: { amountMinor: 300_000, currency: 'CNY', termMonths: 6, method: 'EQUAL_INSTALLMENT' },
    },
  );
  const loanId: string | undefined = draw.json().loan?.id;
  const drawId: string = draw.json().drawId;
  if (loanId)
    await call(
      'POST',
      '/v1/loans/{id}/repayments',
      { id: loanId },
      { payload: { amountMinor: 10_000, currency: 'CNY' } },
    );
  await call(
    'POST',
    '/v1/lines/{id}/actions',
    { id: lineId },
    {
      payload: { type: 'LIMIT_DECREASE', reasons: ['R_INQUIRY_VELOCITY'], limitMinor: 900_000 },
    },
  );
  await call(
    'POST',
    '/v1/events',
    {},
    {
      payload: {
        eventId: 'contract-evt-1',
        type: 'login',
        userId: borrowerId,
        occurredAt: new Date().toISOString(),
      },
    },
  );
  await call(
    'POST',
    '/v1/events',
    {},
    {
      payload: {
        events: [
          {
            eventId: 'contract-evt-2',
            type: 'login',
            userId: borrowerId,
            occurredAt: new Date().toISOString(),
          },
        ],
      },
    },
  );
  const entry = await call(
    'POST',
    '/v1/lists',
    {},
    {
      payload: {
        list: 'grey',
        entityType: 'device',
        value: 'contract-device',
        reason: 'test',
        source: 'contract',
      },
    },
  );
  await call('GET', '/v1/lists/check', {}, { query: 'entityType=device&value=contract-device' });
  await call(
    'PUT',
    '/v1/lists/partners/{partnerId}/key',
    { partnerId: 'bank-b' },
    { payload: { key: 'ab'.repeat(32) } },
  );
  const exported = await call('POST', '/v1/lists/export', {}, { payload: { partnerId: 'bank-b' } });
  await call('POST', '/v1/lists/import', {}, { payload: { ...exported.json(), partnerId: 'bank-b' } });
  if (entry.statusCode === 201)
    await call('DELETE', '/v1/lists/{entryId}', { entryId: entry.json().entryId });
  const consent = await call(
    'POST',
    '/v1/consents',
    {},
    {
      payload: {
        nationalId: residentId('19850302', 777),
        purpose: 'POST_LOAN_MGMT',
        textVersion: 'v1',
        channel: 'APP',
      },
    },
  );
  await call(
    'POST',
    '/v1/bureau/inquiries',
    {},
    {
      payload: { borrowerId, purpose: 'POST_LOAN_MGMT', kind: 'soft', reason: 'contract check' },
    },
  );
  if (consent.statusCode === 201)
    await call(
      'POST',
      '/v1/consents/{id}/withdraw',
      { id: consent.json().id },
      { payload: { reason: 'contract' } },
    );
  const strategies = await call('GET', '/v1/strategies');
  const strategyId: string = strategies.json().strategies[0].id;
  const active = await call('GET', '/v1/strategies/{id}/versions/{version}', {
    id: strategyId,
    version: strategies.json().strategies[0].activeVersion ?? 1,
  });
  const document = active.json().document;
  await call('POST', '/v1/strategies/validate', {}, { payload: document });
  const saved = await call('POST', '/v1/strategies', {}, { payload: document });
  const day = new Date().toISOString().slice(0, 10);
  await call(
    'POST',
    '/v1/strategies/{id}/simulate',
    { id: strategyId },
    { payload: { from: day, to: day, document } },
  );
  if (saved.statusCode === 201) {
    await call('POST', '/v1/strategies/{id}/versions/{version}/activate', {
      id: strategyId,
      version: saved.json().version,
    });
    await call(
      'POST',
      '/v1/strategies/{id}/activate',
      { id: strategyId },
      { payload: { version: saved.json().version } },
    );
  }
  const overlays = await call('GET', '/v1/overlays');
  const declaration = overlays.json().declarations[0];
  if (declaration)
    await call('PUT', '/v1/overlays', {}, { payload: { name: declaration.name, value: declaration.min } });
  const partner = await call(
    'POST',
    '/v1/partners',
    {},
    {
      payload: {
        name: '契约平台',
        type: 'PLATFORM_OPERATOR',
        licenceNo: 'C-1',
        contractStart: '2026-01-01',
        contractEnd: '2030-12-31',
      },
    },
  );
  const partnerId: string = partner.json().id;
  await call(
    'POST',
    '/v1/partners/{id}/status',
    { id: partnerId },
    { payload: { status: 'ACTIVE', reason: 'contract' } },
  );
  const partnerKey = (await call('POST', '/v1/partners/{id}/keys', { id: partnerId })).json().key as string;
  const products = await call('GET', '/v1/products');
  const product = products.json().products[0];
  const productId: string | undefined = product?.id;
  if (product) {
    await call('POST', '/v1/products/{id}/versions', { id: product.id }, { payload: { ...product.terms } });
    await call('POST', '/v1/products', {}, { payload: { id: 'contract-product', ...product.terms } });
    await call('POST', '/v1/products/{id}/retire', { id: 'contract-product' }, { payload: {} });
  }
  const user = await call(
    'POST',
    '/v1/users',
    {},
    { payload: { name: 'Contract Analyst', role: 'analyst' } },
  );
  const key = await call('POST', '/v1/keys', {}, { payload: { userId: user.json().id, label: 'contract' } });
  if (key.statusCode === 201) await call('DELETE', '/v1/keys/{id}', { id: key.json().id });
  // Only a service key mints borrower tokens: with the admin key the mint is refused (403), and every /v1/me/… call
  // below would answer 401, so none of the borrower's own answers would have had its 2xx shape checked.
  const serviceUser = await call(
    'POST',
    '/v1/users',
    {},
    { payload: { name: 'Contract Service', role: 'service' } },
  );
  const serviceKey = await call('POST', '/v1/keys', {}, { payload: { userId: serviceUser.json().id } });
  expect(serviceKey.statusCode, serviceKey.body).toBe(201);
  const token = await call(
    'POST',
    '/v1/borrowers/{id}/tokens',
    { id: borrowerId },
    {
      payload: {},
      headers: {
        authorization: `Bearer ${serviceKey.json().key as string}`,
        'idempotency-key': 'contract-token',
      },
    },
  );
  expect(token.statusCode, token.body).toBe(201);
  const borrower = { authorization: `Bearer ${token.json().token as string}` };
  const me = (idem?: string) => ({ ...borrower, ...(idem ? { 'idempotency-key': idem } : {}) });
  await call('GET', '/v1/me/lines', {}, { headers: me() });
  await call('GET', '/v1/me/lines/{id}/explanation', { id: lineId }, { headers: me(), query: 'lang=en' });
  const appeal = await call(
    'POST',
    '/v1/me/appeals',
    {},
    {
      headers: me('contract-appeal'),
      payload: { decisionId, text: 'I repaid on time' },
    },
  );
  const complaint = await call(
    'POST',
    '/v1/me/complaints',
    {},
    {
      headers: me('contract-complaint'),
      payload: { category: 'SERVICE', text: 'slow answer' },
    },
  );
  await call('GET', '/v1/me/appeals', {}, { headers: me() });
  await call('GET', '/v1/me/complaints', {}, { headers: me() });
  await call('GET', '/v1/me/inquiries', {}, { headers: me() });
  if (appeal.statusCode === 201)
    await call('GET', '/v1/me/appeals/{id}', { id: appeal.json().id }, { headers: me() });
  if (complaint.statusCode === 201)
    await call('GET', '/v1/me/complaints/{id}', { id: complaint.json().id }, { headers: me() });
  await call('GET', '/v1/me/decisions/{id}/proof', { id: decisionId }, { headers: me() });
  await call(
    'POST',
    '/v1/me/draws/{id}/cancel',
    { id: drawId },
    { headers: me('contract-cancel'), payload: {} },
  );
  const myDispute = await call(
    'POST',
    '/v1/me/disputes',
    {},
    {
      headers: me('contract-my-dispute'),
      payload: {
        target: { kind: 'REPORT_ITEM', id: 'existingDebtMinor', correctValue: 0 },
        text: 'I owe nothing elsewhere',
      },
    },
  );
  expect(myDispute.statusCode, myDispute.body).toBe(201);
  await call('GET', '/v1/me/disputes', {}, { headers: me() });
  await call('GET', '/v1/me/disputes/{id}', { id: myDispute.json().id }, { headers: me() });
  await call('GET', '/v1/me/bureau-notices', {}, { headers: me() });
  const dispute = await call(
    'POST',
    '/v1/disputes',
    {},
    {
      payload: {
        borrowerId,
        target: { kind: 'REPORT_ITEM', id: 'externalDelinquent', correctValue: false },
        text: 'the customer called: repaid last month',
      },
    },
  );
  expect(dispute.statusCode, dispute.body).toBe(201);
  // Decided, so GET /v1/disputes/{id} below answers with an outcome, not only the open shape.
  const decided = await call(
    'POST',
    '/v1/cases/{id}/resolve',
    { id: dispute.json().caseId },
    {
      payload: {
        outcome: 'REJECTED',
        textZh: '逾期记录属实。',
        textEn: 'The delinquency was reported correctly.',
      },
    },
  );
  expect(decided.statusCode, decided.body).toBe(200);
  const cases = await call('GET', '/v1/cases');
  const caseId: string | undefined = cases.json().items[0]?.id;
  if (caseId) {
    await call('POST', '/v1/cases/{id}/assign', { id: caseId }, { payload: { assignee: 'user:contract' } });
    await call('POST', '/v1/cases/{id}/notes', { id: caseId }, { payload: { text: 'looked at it' } });
    await call('POST', '/v1/cases/{id}/state', { id: caseId }, { payload: { to: 'PENDING_CUSTOMER' } });
    await call(
      'POST',
      '/v1/cases/{id}/resolve',
      { id: caseId },
      { payload: { outcome: 'FALSE_POSITIVE', note: 'contract' } },
    );
  }
  const complaintCase = complaint.statusCode === 201 ? complaint.json().id : 'none';
  await call(
    'POST',
    '/v1/cases/{id}/extend',
    { id: complaintCase },
    { payload: { reason: 'needs documents' } },
  );
  await call('POST', '/v1/draws/{id}/challenge', { id: drawId }, { payload: { result: 'PASSED' } });
  await call('POST', '/v1/draws/{id}/stop', { id: drawId }, { payload: { reason: 'contract' } });
  const changes = await call('GET', '/v1/changes');
  const changeId: string | undefined = changes.json().items[0]?.id;
  if (changeId)
    await call('POST', '/v1/changes/{id}/reject', { id: changeId }, { payload: { note: 'contract' } });
  await call('POST', '/v1/changes/{id}/approve', { id: changeId ?? 'none' }, { payload: {} });
  await call('POST', '/v1/ledger/checkpoints');
  await call('POST', '/v1/models/{id}/versions/{version}/activate', { id: 'german-credit', version: 1 });
  const alerts = await call('GET', '/v1/alerts');
  const alertId: string = alerts.json().items[0]?.alertId ?? 'none';
  await call('POST', '/v1/alerts/{alertId}/status', { alertId }, { payload: { status: 'ACKNOWLEDGED' } });
  const models = await call('GET', '/v1/models');
  const partnerHeaders = { authorization: `Bearer ${partnerKey}` };
  const byPath: Record<string, Record<string, string | number>> = {
    '/v1/strategies/{id}/versions': { id: strategyId },
    '/v1/decisions/{id}': { id: decisionId },
    '/v1/decisions/{id}/proof': { id: decisionId },
    '/v1/ledger/entries/{seq}/proof': { seq: 1 },
    '/v1/models/{id}/activations': { id: models.json().models[0]?.id ?? 'none' },
    '/v1/features/{name}': { name: 'user_logins_1h' },
    '/v1/products/{id}': { id: productId ?? 'none' },
    '/v1/quotes/{id}': { id: quote.json().quoteId ?? 'none' },
    '/v1/loans/{id}': { id: loanId ?? 'none' },
    '/v1/partners/{id}': { id: partnerId },
    '/v1/partners/{id}/quality': { id: partnerId },
    '/v1/partner/lines/{id}': { id: lineId },
    '/v1/cases/{id}': { id: caseId ?? 'none' },
    '/v1/disputes/{id}': { id: dispute.json().id },
    '/v1/changes/{id}': { id: changeId ?? 'none' },
    '/v1/console/alerts/{id}': { id: alertId },
    '/v1/portfolio/snapshots/{asOf}': { asOf: day },
  };
  const queries: Record<string, string> = {
    '/v1/features/{name}': `entityId=${borrowerId}`,
    '/v1/monitor/draw-signals': `borrowerId=${borrowerId}`,
    '/v1/ledger/consistency': 'from=1&to=2',
    '/v1/portfolio/reports/monthly': `month=${day.slice(0, 7)}`,
    '/v1/lists/check': 'entityType=device&value=x',
  };
  return {
    paramFor: (path: string, name: string): string | number =>
      byPath[path]?.[name] ?? (path.startsWith('/v1/borrowers/') ? borrowerId : lineId),
    queryFor: (path: string): string | undefined => queries[path],
    headersFor: (path: string): Record<string, string> | undefined =>
      path.startsWith('/v1/partner/') ? partnerHeaders : path.startsWith('/v1/me/') ? me() : undefined,
  };
}
