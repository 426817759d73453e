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

/** A borrower with a line (applied through the service key), the decision that granted it, and a borrower token. */
export async function lineWithToken(
  t: TestApp,
  serviceKey: string,
  applicant: { name: string; nationalId: string; phone: string },
): Promise<{ lineId: string; borrowerId: string; decisionId: string; limitMinor: number; token: string }> {
  const applied = (
    await client(t, serviceKey).post('/v1/applications', { applicant, attributes: STRONG_APPLICANT })
  ).json();
  const borrowerId = applied.borrowerId as string;
  const token = (
    await client(t, serviceKey).post(`/v1/borrowers/${borrowerId}/tokens`, { ttlSeconds: 900 })
  ).json().token as string;
  return {
    lineId: applied.line.id as string,
    borrowerId,
    decisionId: applied.decisionId as string,
    limitMinor: applied.line.limitMinor as number,
    token,
  };
}

/**
 * A borrower with a line, the line frozen by a person for high utilisation, and a borrower token: the starting point
 * of an appeal.
 */
export async function frozenLineWithToken(
  t: TestApp,
  serviceKey: string,
  applicant: { name: string; nationalId: string; phone: string },
): Promise<{ lineId: string; borrowerId: string; actionId: string; token: string }> {
  const { lineId, borrowerId, token } = await lineWithToken(t, serviceKey, applicant);
  const frozen = await t.app.core.applyLineAction(lineId, {
    type: 'FREEZE_DRAW',
    reasons: ['R_UTILISATION_HIGH'],
    automated: false,
    actor: 'test',
  });
  return { lineId, borrowerId, actionId: frozen.actionId, token };
}

/** The draw largeDrawHeldOnScamSignal asks for: over the four-eyes threshold for a release (2,000,000). */
export const LARGE_DRAW_MINOR = 2_500_000;

/**
 * A new borrower's line (through the partner's `channel` when given) and a large draw on it held for a person (HOLD),
 * with the HELD_DRAW case it opened: a call in progress on the borrower (the safe-account scam's sign) is reported
 * just before the draw.
 */
export async function largeDrawHeldOnScamSignal(
  t: TestApp,
  clock: { now(): number },
  held: {
    readonly applicant: { name: string; nationalId: string; phone: string };
    readonly eventId: string;
    readonly channel?: Record<string, unknown>;
  },
): Promise<{ lineId: string; borrowerId: string; drawId: string; caseId: string }> {
  const applied = await client(t).post('/v1/applications', {
    applicant: held.applicant,
    attributes: STRONG_APPLICANT,
    ...(held.channel ? { channel: held.channel } : {}),
  });
  if (applied.statusCode !== 201) throw new Error(`the application failed: ${applied.body}`);
  const app = applied.json();
  await client(t).post('/v1/events', {
    eventId: held.eventId,
    type: 'call_in_progress',
    occurredAt: new Date(clock.now()).toISOString(),
    userId: app.borrowerId,
  });
  const drawn = (
    await client(t).post(`/v1/lines/${app.line.id}/draws`, {
      amountMinor: LARGE_DRAW_MINOR,
      currency: 'CNY',
      termMonths: 12,
      method: 'EQUAL_INSTALLMENT',
    })
  ).json();
  if (drawn.status !== 'HOLD') throw new Error(`the draw was not held: ${JSON.stringify(drawn)}`);
  const lineId = app.line.id as string;
  const cases = (await client(t).get(`/v1/cases?type=HELD_DRAW&lineId=${lineId}`)).json();
  return {
    lineId,
    borrowerId: app.borrowerId as string,
    drawId: drawn.drawId as string,
    caseId: cases.items[0].id as string,
  };
}
