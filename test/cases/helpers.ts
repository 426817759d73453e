import type { LightMyRequestResponse } from 'fastify';
import { ManualClock } from '../../src/domain/clock.js';
import { seededRandom } from '../../src/domain/random.js';
import { createUser, createUserKey } from '../../src/api/api-keys.js';
import { caseRows } from '../../src/store/cases-rows.js';
import { adminHeaders, startTestApp, STRONG_APPLICANT, type TestApp } from '../helpers/app.js';
import { stallOnce, type Stall } from '../helpers/stall.js';
import { residentId } from '../core/harness.js';
import type { Role } from '../../src/api/types.js';
import type { Env } from '../../src/app/config.js';
import { appStores } from '../helpers/stores.js';

export const T0 = Date.UTC(2026, 10, 2, 9, 0, 0);

/** The stores the case suites run on. */
export const CASE_STORES = appStores('cases');

/** The borrower-facing texts of an upheld appeal, as a reviewer writes them. */
export const UPHELD_TEXTS = { textZh: '申诉成立。', textEn: 'Your appeal is upheld.' };

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

/** The people a suite acts as: each a name and a role, made a user with a key. */
export type Cast<K extends string> = Readonly<Record<K, readonly [name: string, role: Role]>>;

/**
 * The case app (startCaseApp) with the people a suite works with, made users with keys in the order given: the set-up
 * the case suites share. The people come back under the suite's names for them (not `t` or `clock`).
 */
export async function startCaseAppWith<K extends string>(
  env: Env,
  cast: Cast<K>,
): Promise<{ t: TestApp; clock: ManualClock } & Record<K, Person>> {
  const { t, clock } = await startCaseApp(env);
  const people = {} as Record<K, Person>;
  for (const [as, [name, role]] of Object.entries(cast) as [K, readonly [string, Role]][])
    people[as] = await person(t, name, role);
  return { ...people, t, clock };
}

/** An appeal suite's people: the analyst who decides appeals and the lender's backend, which issues borrower tokens. */
export const APPEAL_CAST = {
  analyst: ['Wang Fang', 'analyst'],
  service: ['lender-backend', 'service'],
} as const satisfies Cast<string>;

/** A case suite's maker and checker: the analyst who resolves a case, the supervisor who approves what needs two. */
export const MAKER_CHECKER_CAST = {
  analyst: ['王芳', 'analyst'],
  supervisor: ['赵敏', 'supervisor'],
} as const satisfies Cast<string>;

/** New borrowers of one name and phone, each call with a fresh national id (born `born`, sequence after `after`). */
export function applicants(who: { name: string; born: string; phone: string; after: number }) {
  let seq = who.after;
  return () => ({ name: who.name, nationalId: residentId(who.born, ++seq), phone: who.phone });
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
  held: {
    readonly applicant: { name: string; nationalId: string; phone: string };
    readonly eventId: string;
    readonly channel?: Record<string, unknown>;
    /** Where the draw came from and where the money goes (deviceId, ip, payeeId), when it says. */
    readonly origin?: { deviceId?: string; ip?: string; payeeId?: string };
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
    occurredAt: new Date(t.app.clock.now()).toISOString(),
    userId: app.borrowerId,
  });
  const drawn = (
    await client(t).post(`/v1/lines/${app.line.id}/draws`, {
      amountMinor: LARGE_DRAW_MINOR,
      currency: 'CNY',
      termMonths: 12,
      method: 'EQUAL_INSTALLMENT',
      ...held.origin,
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

/** Puts a national id on the black list (a confirmed mule account), as the lender's risk team would. */
export async function blackList(t: TestApp, nationalId: string): Promise<void> {
  const listed = await client(t).post('/v1/lists', {
    list: 'black',
    entityType: 'nationalIdHash',
    value: nationalId,
    reason: 'confirmed mule account',
    source: 'test',
  });
  if (listed.statusCode !== 201) throw new Error(`not black-listed: ${listed.body}`);
}

/**
 * Runs `meanwhile` to its commit just before the next transaction that holds a request's idempotency key begins: the
 * request has read what it reads before its transaction, and `meanwhile` lands in between. Returns the undo (call it
 * in a finally) and whether it ran.
 */
export function beforeNextKeyedTransaction(
  t: TestApp,
  meanwhile: () => Promise<unknown>,
): { restore(): void; ran(): boolean } {
  const db = t.app.store;
  const transaction = db.transaction.bind(db);
  let armed = true;
  db.transaction = (async (...args: Parameters<typeof transaction>) => {
    if (armed && args[1] !== undefined) {
      armed = false;
      await meanwhile();
    }
    return transaction(...args);
  }) as typeof db.transaction;
  return {
    restore: () => {
      db.transaction = transaction;
    },
    ran: () => !armed,
  };
}

/**
 * Stops the next appeal filing between its one-appeal read (appealsCovering, under the borrower's lock) and its insert,
 * until `stall.resume()`: a race test sends another request meanwhile. `restore()` puts the read back (in a finally).
 */
export function stallFilingAfterItsCheck(): { stall: Stall; restore(): void } {
  const stall = stallOnce();
  const check = caseRows.appealsCovering;
  caseRows.appealsCovering = async (...args) => {
    const found = await check(...args);
    await stall.pause();
    return found;
  };
  return {
    stall,
    restore: () => {
      caseRows.appealsCovering = check;
    },
  };
}

/**
 * Two filings at once: `first` stops between its one-appeal check and its insert, `second` is sent meanwhile and runs
 * as far as it can (300 ms), then `first` goes on. Returns both answers, in that order.
 */
export async function twoFilingsAtOnce(
  first: () => Promise<LightMyRequestResponse>,
  second: () => Promise<LightMyRequestResponse>,
): Promise<LightMyRequestResponse[]> {
  const { stall, restore } = stallFilingAfterItsCheck();
  try {
    const one = first();
    await stall.paused;
    const other = second();
    await new Promise((resolve) => setTimeout(resolve, 300));
    stall.resume();
    return await Promise.all([one, other]);
  } finally {
    restore();
  }
}
