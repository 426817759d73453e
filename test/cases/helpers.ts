import type { LightMyRequestResponse } from 'fastify';
import { ManualClock } from '../../src/domain/clock.js';
import { seededRandom } from '../../src/domain/random.js';
import { createUser, createUserKey } from '../../src/api/api-keys.js';
import { adminHeaders, startTestApp, STRONG_APPLICANT, type TestApp } from '../helpers/app.js';
import type { Role } from '../../src/api/types.js';
import type { Env } from '../../src/app/config.js';
import { appStores } from '../helpers/stores.js';

export const T0 = Date.UTC(2026, 10, 2, 9, 0, 0);

/** The stores the case suites run on. */
export const CASE_STORES = appStores('cases');

/** The app with the case jobs timer off: tests run the jobs themselves (no timing in assertions). */
export async function startCaseApp(env: Env = {}, seed = 7) {
  const clock = new ManualClock(T0);
  const t = await startTestApp(
    { LINEGUARD_CASE_JOBS_MS: '0', ...env },
    { clock, random: seededRandom(seed) },
  );
  return { t, clock };
}

export interface Person {
  readonly userId: string;
  readonly key: string;
  readonly keyId: string;
}

export async function person(t: TestApp, name: string, role: Role): Promise<Person> {
  const deps = { clock: t.app.clock, ids: t.app.ids, random: t.app.random };
  const user = await createUser(t.app.store, deps, { name, role, actor: 'test' });
  const key = await createUserKey(t.app.store, deps, { userId: user.id, actor: 'test' });
  return { userId: user.id, key: key.key, keyId: key.id };
}

let counter = 0;

/** A small HTTP client over inject: every write carries a fresh Idempotency-Key. */
export function client(t: TestApp, key?: string) {
  const headers = (write: boolean): Record<string, string> => ({
    ...(key ? { authorization: `Bearer ${key}` } : adminHeaders()),
    ...(write ? { 'idempotency-key': `k-${++counter}` } : {}),
  });
  return {
    get: (url: string): Promise<LightMyRequestResponse> =>
      t.server.inject({ method: 'GET', url, headers: headers(false) }),
    post: (url: string, payload?: unknown): Promise<LightMyRequestResponse> =>
      t.server.inject({
        method: 'POST',
        url,
        headers: headers(true),
        ...(payload === undefined ? {} : { payload: payload as object }),
      }),
    del: (url: string): Promise<LightMyRequestResponse> =>
      t.server.inject({ method: 'DELETE', url, headers: headers(false) }),
  };
}

/**
 * A borrower with a line (applied through the service key), the line frozen by a person for high utilisation, and a
 * borrower token: the starting point of an appeal.
 */
export async function frozenLineWithToken(
  t: TestApp,
  serviceKey: string,
  applicant: { name: string; nationalId: string; phone: string },
): Promise<{ lineId: string; borrowerId: string; actionId: string; token: string }> {
  const applied = (
    await client(t, serviceKey).post('/v1/applications', { applicant, attributes: STRONG_APPLICANT })
  ).json();
  const lineId = applied.line.id as string;
  const frozen = await t.app.core.applyLineAction(lineId, {
    type: 'FREEZE_DRAW',
    reasons: ['R_UTILISATION_HIGH'],
    automated: false,
    actor: 'test',
  });
  const token = (
    await client(t, serviceKey).post(`/v1/borrowers/${applied.borrowerId}/tokens`, { ttlSeconds: 900 })
  ).json().token as string;
  return { lineId, borrowerId: applied.borrowerId as string, actionId: frozen.actionId, token };
}
