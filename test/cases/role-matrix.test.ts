import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { buildServer, createMetricsRegistry } from '../../src/api/server.js';
import { createKeyVerifier } from '../../src/api/api-keys.js';
import { fieldCryptoFromMasterKey } from '../../src/compliance/crypto.js';
import { ROLES, type RouteRole } from '../../src/api/types.js';
import { STRONG_APPLICANT, mintPartnerKey, type TestApp } from '../helpers/app.js';
import { residentId } from '../core/harness.js';
import { client, person, startCaseApp } from './helpers.js';

/**
 * Every route × every role, borrower included (issue 11 "Done when"). A role outside a route's set is 403 (staff) —
 * never let through; a role inside it is never refused by auth. Borrower tokens reach only /v1/me/… and see only their
 * own borrower: every other borrower's line, appeal, complaint and draw is 404, never 403.
 */
interface RouteInfo {
  readonly method: string;
  readonly url: string;
  readonly roles: readonly RouteRole[] | undefined;
}

const ALL_ROLES: readonly RouteRole[] = [...ROLES, 'borrower'];
const SOME_ID = '01900000-0000-7000-8000-000000000001';

function concrete(url: string): string {
  return url.replace(/:([A-Za-z]+)/g, (_m, name: string) =>
    name === 'version'
      ? '1'
      : name === 'name'
        ? 'scamScore'
        : name === 'id' || name.endsWith('Id')
          ? SOME_ID
          : 'x',
  );
}

describe('role-by-route matrix', () => {
  let t: TestApp;
  let server: FastifyInstance;
  const routes: RouteInfo[] = [];
  const keys = new Map<RouteRole, string>();

  beforeAll(async () => {
    ({ t } = await startCaseApp());
    // The same server the app serves, with a hook that lists every route and the roles it declares.
    server = await buildServer({
      store: t.app.store,
      clock: t.app.clock,
      metrics: createMetricsRegistry(),
      requestBytesMax: t.app.config.requestBytesMax,
      verifyKey: createKeyVerifier(t.app.store.db, t.app.clock),
      routes: t.app.routes,
      crypto: fieldCryptoFromMasterKey(t.app.config.masterKey),
      beforeRoutes: async (app) => {
        app.addHook('onRoute', (route) => {
          const methods = Array.isArray(route.method) ? route.method : [route.method];
          for (const method of methods) {
            if (method === 'HEAD') continue;
            const roles = (route.config as { roles?: readonly RouteRole[] } | undefined)?.roles;
            routes.push({ method, url: route.url, roles });
          }
        });
      },
    });
    await server.ready();
    for (const role of ROLES)
      if (role !== 'partner') keys.set(role, (await person(t, `matrix-${role}`, role)).key);
    keys.set('partner', await mintPartnerKey(t.server));
    const applied = (
      await client(t).post('/v1/applications', {
        applicant: { name: '韩梅梅', nationalId: residentId('19900101', 777), phone: '13900002222' },
        attributes: STRONG_APPLICANT,
      })
    ).json();
    const minted = await client(t, keys.get('service')).post(`/v1/borrowers/${applied.borrowerId}/tokens`);
    keys.set('borrower', minted.json().token);
  });
  afterAll(async () => {
    await server?.close();
    await t?.close();
  });

  it('lists every route of the API, and every /v1 route declares its roles', () => {
    const v1 = routes.filter((r) => r.url.startsWith('/v1/'));
    expect(v1.length).toBeGreaterThan(50);
    expect(v1.filter((r) => r.roles === undefined).map((r) => `${r.method} ${r.url}`)).toEqual([]);
  });

  it('keeps the policy of issue 11', () => {
    const rolesOf = (method: string, url: string) =>
      routes.find((r) => r.method === method && r.url === url)?.roles;
    for (const r of routes.filter((x) => x.url.startsWith('/v1/me/')))
      expect(r.roles, r.url).toEqual(['borrower']);
    for (const r of routes.filter((x) => x.url.startsWith('/v1/') && !x.url.startsWith('/v1/me/')))
      expect(r.roles ?? [], `${r.method} ${r.url}`).not.toContain('borrower');
    expect([...(rolesOf('POST', '/v1/changes/:id/approve') ?? [])].sort()).toEqual(['admin', 'supervisor']);
    expect([...(rolesOf('POST', '/v1/changes/:id/reject') ?? [])].sort()).toEqual(['admin', 'supervisor']);
    expect(rolesOf('POST', '/v1/borrowers/:id/tokens')).toEqual(['service']);
    expect(rolesOf('POST', '/v1/users')).toEqual(['admin']);
    expect(rolesOf('POST', '/v1/keys')).toEqual(['admin']);
    expect(rolesOf('DELETE', '/v1/keys/:id')).toEqual(['admin']);
    expect(rolesOf('POST', '/v1/cases/:id/resolve')).not.toContain('service');
    expect(rolesOf('POST', '/v1/cases/:id/resolve')).not.toContain('auditor');
    expect(rolesOf('GET', '/v1/cases')).toContain('auditor');
  });

  it('answers every route for every role: 403 outside its roles, never 401/403 inside, never 500', async () => {
    let n = 0;
    const failures: string[] = [];
    for (const route of routes.filter((r) => r.roles !== undefined)) {
      for (const role of ALL_ROLES) {
        const res = await server.inject({
          method: route.method as 'GET',
          url: concrete(route.url),
          headers: { authorization: `Bearer ${keys.get(role)}`, 'idempotency-key': `matrix-${++n}` },
          ...(route.method === 'GET' || route.method === 'DELETE' ? {} : { payload: {} }),
        });
        const allowed = route.roles?.includes(role) ?? false;
        const where = `${role} ${route.method} ${route.url} → ${res.statusCode} ${res.body.slice(0, 120)}`;
        if (res.statusCode >= 500) failures.push(where);
        else if (!allowed && res.statusCode !== 403) failures.push(where);
        else if (allowed && (res.statusCode === 401 || res.json().error?.code === 'LG_FORBIDDEN'))
          failures.push(where);
      }
    }
    expect(failures).toEqual([]);
    expect(n).toBeGreaterThan(50 * ALL_ROLES.length);
  });

  it("gives a borrower token 404 on every other borrower's line, appeal, complaint and draw", async () => {
    const a = (
      await client(t).post('/v1/applications', {
        applicant: { name: '甲', nationalId: residentId('19880808', 11), phone: '13900003333' },
        attributes: STRONG_APPLICANT,
      })
    ).json();
    const service = keys.get('service');
    const tokenA = (await client(t, service).post(`/v1/borrowers/${a.borrowerId}/tokens`)).json().token;
    const asA = client(t, tokenA);
    const asB = client(t, keys.get('borrower'));
    const frozen = (
      await client(t).post(`/v1/lines/${a.line.id}/actions`, {
        type: 'FREEZE_DRAW',
        reasons: ['R_ACCOUNT_TAKEOVER'],
      })
    ).json();
    const appeal = (await asA.post('/v1/me/appeals', { actionId: frozen.actionId, text: '不是我' })).json();
    const complaint = (
      await asA.post('/v1/me/complaints', { category: 'CLOSURE_OR_LIMIT', text: '额度被冻结' })
    ).json();
    expect(complaint).toMatchObject({ state: 'OPEN', extended: false });
    const draw = await t.app.store.db.selectFrom('draws').select('id').executeTakeFirst();
    const probes = [
      asB.get(`/v1/me/lines/${a.line.id}/explanation`),
      asB.get(`/v1/me/appeals/${appeal.id}`),
      asB.get(`/v1/me/complaints/${complaint.id}`),
      asB.post('/v1/me/appeals', { actionId: frozen.actionId, text: 'x' }),
      asB.post('/v1/me/appeals', { decisionId: a.decisionId, text: 'x' }),
      ...(draw ? [asB.post(`/v1/me/draws/${draw.id}/cancel`)] : []),
      asB.get(`/v1/me/lines/${SOME_ID}/explanation`),
    ];
    for (const res of await Promise.all(probes)) {
      expect(res.statusCode, res.body).toBe(404);
      expect(res.json().error.code).toBe('LG_NOT_FOUND');
    }
    expect((await asB.get('/v1/me/appeals')).json().items).toEqual([]);
    expect((await asB.get('/v1/me/complaints')).json().items).toEqual([]);
    expect((await asB.get('/v1/me/lines')).json().items.map((l: { id: string }) => l.id)).not.toContain(
      a.line.id,
    );
    expect((await asA.get(`/v1/me/appeals/${appeal.id}`)).statusCode).toBe(200);
  });
});
