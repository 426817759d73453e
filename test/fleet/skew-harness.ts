import { ManualClock } from '../../src/domain/clock.js';
import { seededRandom } from '../../src/domain/random.js';
import { createIsolatedPostgresSchema } from '../../src/store/db.js';
import type { Env } from '../../src/app/config.js';
import { STRONG_APPLICANT, startTestApp, type TestApp } from '../helpers/app.js';
import { TEST_DATABASE_URL } from '../helpers/stores.js';
import { residentId } from '../core/harness.js';
import { client } from '../cases/helpers.js';

export const REDIS_URL = process.env.LINEGUARD_TEST_REDIS_URL;
export const NATS_URL = process.env.LINEGUARD_TEST_NATS_URL;
export const PG = Boolean(TEST_DATABASE_URL);
export const T0 = Date.UTC(2026, 10, 2, 9, 0, 0);

export interface Proc {
  readonly t: TestApp;
  readonly clock: ManualClock;
}

/**
 * Two (or more) LineGuard apps over one PostgreSQL schema: each its own pool, clock, ids, caches and monitor — two
 * processes in all but the pid. `redis` shares one Redis namespace between them.
 */
export async function fleet(
  label: string,
  opts: { n?: number; env?: Env; redis?: boolean; clocks?: number[] } = {},
): Promise<{ procs: Proc[]; url: string; close(): Promise<void> }> {
  const url = await createIsolatedPostgresSchema(TEST_DATABASE_URL ?? '', `fleet_skew_${label}`);
  const namespace = `fs${label.replace(/[^a-z0-9]/g, '').slice(0, 12)}${process.pid}`;
  const env: Env = {
    LINEGUARD_DATABASE_URL: url,
    LINEGUARD_CASE_JOBS_MS: '0',
    ...(opts.redis && REDIS_URL ? { LINEGUARD_REDIS_URL: REDIS_URL, LINEGUARD_NAMESPACE: namespace } : {}),
    ...opts.env,
  };
  const procs: Proc[] = [];
  const n = opts.n ?? 2;
  for (let i = 0; i < n; i++) {
    const clock = new ManualClock(opts.clocks?.[i] ?? T0);
    const t = await startTestApp(env, { clock, random: seededRandom(1000 + i) });
    procs.push({ t, clock });
  }
  return {
    procs,
    url,
    async close() {
      for (const p of procs.reverse()) await p.t.close().catch(() => undefined);
    },
  };
}

let applicantSeq = 0;
/** A fresh applicant (unique national id and phone). */
export function applicant(tag: number) {
  applicantSeq += 1;
  const n = (tag * 100 + applicantSeq) % 1000;
  return {
    name: `探针${tag}`,
    nationalId: residentId('19850505', n),
    phone: `137${String(tag % 100).padStart(2, '0')}${String(applicantSeq).padStart(6, '0')}`,
  };
}

/** Applies through the admin key; returns the line (throws unless a line was opened). */
export async function openLine(t: TestApp, who: ReturnType<typeof applicant>) {
  const res = await client(t).post('/v1/applications', { applicant: who, attributes: STRONG_APPLICANT });
  if (res.statusCode !== 201) throw new Error(`application failed: ${res.statusCode} ${res.body}`);
  const body = res.json();
  if (!body.line) throw new Error(`no line: ${res.body}`);
  return {
    lineId: body.line.id as string,
    borrowerId: body.borrowerId as string,
    limitMinor: body.line.limitMinor as number,
  };
}

export { client };
