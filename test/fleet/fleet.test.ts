import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { sql } from 'kysely';
import { createIsolatedPostgresSchema, openStore, type Store } from '../../src/store/db.js';
import { verifyLedger } from '../../src/compliance/ledger.js';
import { NatsBus } from '../../src/bus/index.js';
import { STRONG_APPLICANT } from '../helpers/app.js';
import { TEST_DATABASE_URL, rowCount } from '../helpers/stores.js';
import { residentId } from '../core/harness.js';
import { acknowledged, json, prng, send, type Call } from './history.js';
import { startServe, stopServe, type ServeProcess } from './process.js';
import { hostPort, startTcpProxy, type TcpProxy } from './tcp-proxy.js';

const REDIS_URL = process.env.LINEGUARD_TEST_REDIS_URL;
const NATS_URL = process.env.LINEGUARD_TEST_NATS_URL;
const ALL_SERVICES = Boolean(TEST_DATABASE_URL && REDIS_URL && NATS_URL);
if (!ALL_SERVICES)
  console.warn(
    'LINEGUARD_TEST_DATABASE_URL, LINEGUARD_TEST_REDIS_URL or LINEGUARD_TEST_NATS_URL is not set: the fleet suite (three processes under faults) is skipped (CI sets them).',
  );

const PROCESSES = 3;
const BORROWERS = 12;
/** Driver operations in the faulted phase (a count, not a duration: the run never depends on timing). */
const OPERATIONS = 600;
const WORKERS = 12;
/** A borrower cap repeat applications run into (each borrower applies again during the faulted phase). */
const BORROWER_CAP_MINOR = 8_000_000;
/** The process whose way to PostgreSQL goes silent for a while (a partition), through a proxy. */
const PARTITIONED = 2;
/** The bundled draw strategy's cooling-off (RAPID_REPEAT): no two approved draws on a line closer than this. */
const COOLING_OFF_MS = 10 * 60_000;

interface Line {
  readonly id: string;
  readonly limitMinor: number;
}

/**
 * Three `lineguard serve` processes on one PostgreSQL, Redis and NATS, driven concurrently (applications, draws,
 * repayments, events with duplicates sent to two processes at once) while one process is killed with SIGKILL and
 * restarted, PostgreSQL backends are terminated and another process is partitioned from PostgreSQL (its connections
 * silent, then abandoned for new ones). A history checker then proves: every acknowledged write replays
 * its answer (none lost, none repeated), the database holds each keyed write once, no line is over-drawn, no borrower
 * is over the cap (each borrower applies again, at any process), no line has two approved draws inside the
 * cooling-off, every line's balance equals its loans, every acknowledged event is stored once, and the ledger verifies.
 */
describe.skipIf(!ALL_SERVICES)('fleet: three processes under faults', () => {
  const appName = `lg_fleet_${process.pid}`;
  const namespace = `fleet${process.pid}`;
  let url = '';
  let env: Record<string, string> = {};
  const procs: (ServeProcess | undefined)[] = [];
  const bases: (string | undefined)[] = [];
  const calls: Call[] = [];
  const lines: Line[] = [];
  const loans: string[] = [];
  const random = prng(13);
  let store: Store;
  let pgProxy: TcpProxy | undefined;

  beforeAll(async () => {
    const schemaUrl = new URL(await createIsolatedPostgresSchema(TEST_DATABASE_URL ?? '', 'fleet'));
    schemaUrl.searchParams.set('application_name', appName);
    url = schemaUrl.toString();
    env = {
      LINEGUARD_DATABASE_URL: url,
      LINEGUARD_REDIS_URL: REDIS_URL ?? '',
      LINEGUARD_NATS_URL: NATS_URL ?? '',
      LINEGUARD_NAMESPACE: namespace,
      LINEGUARD_SEED_DEMO: '0',
      // The suite sends the bureau attributes itself (it tests faults and exactness, not consent).
      LINEGUARD_BUREAU: 'off',
      LINEGUARD_BORROWER_CAP_MINOR: String(BORROWER_CAP_MINOR),
      // The partition below lasts seconds, not the default 30 s bound.
      LINEGUARD_PG_QUERY_TIMEOUT_MS: '3000',
    };
    const target = hostPort(url, 5432);
    pgProxy = await startTcpProxy(target.host, target.port);
    for (let i = 0; i < PROCESSES; i++)
      procs.push(startServe(i === PARTITIONED ? { ...env, LINEGUARD_DATABASE_URL: pgProxy.url(url) } : env));
    bases.push(...(await Promise.all(procs.map((p) => p?.ready))));
    store = await openStore({ postgresUrl: url, migrate: false });
  });

  afterAll(async () => {
    await Promise.all(procs.map((p) => (p ? stopServe(p) : undefined)));
    await store?.close();
    await NatsBus.deleteStream({ url: NATS_URL ?? '', namespace }).catch(() => undefined);
    await pgProxy?.close();
  });

  const alive = () => bases.filter((b): b is string => b !== undefined);
  const pick = <T>(items: readonly T[]) => items[Math.floor(random() * items.length)] as T;
  /** The calls sent to the partitioned process while its way to PostgreSQL was silent. */
  const duringPartition: Call[] = [];
  let partitioned = false;
  const record = async (call: Call, base = pick(alive())) => {
    calls.push(call);
    if (partitioned && base === bases[PARTITIONED]) duringPartition.push(call);
    return send(base, call);
  };

  const application = (i: number, key: string): Call => ({
    method: 'POST',
    path: '/v1/applications',
    idempotencyKey: key,
    body: {
      applicant: {
        name: `机队${i}`,
        nationalId: residentId('19800101', 100 + i),
        phone: `1390000${String(i).padStart(4, '0')}`,
      },
      attributes: STRONG_APPLICANT,
    },
  });

  it('applies for the borrowers across the processes', async () => {
    await Promise.all(
      Array.from({ length: BORROWERS }, async (_, i) => {
        const call = await record(application(i, `fleet-app-${i}`), bases[i % PROCESSES]);
        expect(call.status, call.text).toBe(201);
        const body = json<{ line?: { id: string; limitMinor: number } }>(call);
        if (body.line) lines.push({ id: body.line.id, limitMinor: body.line.limitMinor });
      }),
    );
    expect(lines.length).toBeGreaterThan(0);
  });

  it(
    'drives draws, repayments and events while a process is killed and restarted, backends are terminated and a process is partitioned from PostgreSQL',
    { timeout: 240_000 },
    async () => {
      let done = 0;
      let eventSeq = 0;
      const faults = async () => {
        // Faults at fixed points of the operation count, so they land mid-load.
        const waitFor = async (n: number) => {
          while (done < n) await new Promise((resolve) => setTimeout(resolve, 20));
        };
        await waitFor(OPERATIONS * 0.2);
        procs[1]?.kill('SIGKILL');
        await procs[1]?.exited;
        bases[1] = undefined;
        await waitFor(OPERATIONS * 0.35);
        await terminateBackends(appName);
        await waitFor(OPERATIONS * 0.5);
        procs[1] = startServe(env);
        bases[1] = await procs[1].ready;
        await waitFor(OPERATIONS * 0.7);
        await terminateBackends(appName);
      };
      // A partition between one process and PostgreSQL: its connections stay open and nothing crosses them, not even
      // a COMMIT or a close, while its transactions hold their locks; then, 60 operations later, a failover (new
      // connections work, the old ones stay silent for good). First, so the restart above cannot crowd it out.
      const partition = async () => {
        const waitFor = async (n: number) => {
          while (done < n) await new Promise((resolve) => setTimeout(resolve, 20));
        };
        await waitFor(OPERATIONS * 0.05);
        pgProxy?.stall();
        partitioned = true;
        await waitFor(OPERATIONS * 0.15);
        partitioned = false;
        pgProxy?.abandon();
      };
      const operation = async (n: number) => {
        const roll = random();
        if (roll < 0.45) {
          const line = pick(lines);
          const call = await record({
            method: 'POST',
            path: `/v1/lines/${line.id}/draws`,
            idempotencyKey: `fleet-draw-${n}`,
            body: {
              amountMinor: 10_000 + Math.floor(random() * 200_000),
              currency: 'CNY',
              termMonths: 6,
              method: 'EQUAL_INSTALLMENT',
            },
          });
          const loanId = call.status === 201 ? json<{ loan?: { id: string } }>(call).loan?.id : undefined;
          if (loanId) loans.push(loanId);
        } else if (roll < 0.52) {
          // The same borrower again, at whichever process: the cap must hold across them.
          await record(application(Math.floor(random() * BORROWERS), `fleet-reapply-${n}`));
        } else if (roll < 0.65 && loans.length > 0) {
          await record({
            method: 'POST',
            path: `/v1/loans/${pick(loans)}/repayments`,
            idempotencyKey: `fleet-repay-${n}`,
            body: { amountMinor: 1_000 + Math.floor(random() * 20_000), currency: 'CNY' },
          });
        } else {
          const events = Array.from({ length: 4 }, () => {
            const type = pick(['login', 'payee_added', 'transfer_out', 'device_change'] as const);
            return {
              eventId: `fleet-ev-${++eventSeq}`,
              type,
              occurredAt: new Date(Date.UTC(2026, 5, 1) + eventSeq * 1000).toISOString(),
              userId: `fleet-user-${eventSeq % 9}`,
              deviceId: `dev-${eventSeq % 5}`,
              payeeId: `payee-${eventSeq % 4}`,
              ...(type === 'transfer_out' ? { amount: 50_000, currency: 'CNY' } : {}),
            };
          });
          const batch = { method: 'POST' as const, path: '/v1/events', body: { events } };
          // Duplicates: a third of the batches go to two processes at once.
          const targets =
            random() < 0.33 && alive().length > 1
              ? [alive()[0], alive()[alive().length - 1]]
              : [pick(alive())];
          await Promise.all(targets.map((base) => record({ ...batch }, base)));
        }
        done += 1;
      };
      let next = 0;
      const worker = async () => {
        while (next < OPERATIONS) await operation(next++);
      };
      await Promise.all([faults(), partition(), ...Array.from({ length: WORKERS }, () => worker())]);
      expect(done).toBe(OPERATIONS);
      const tally = new Map<string, number>();
      for (const c of calls) {
        const k = `${c.path.replace(/[0-9a-f-]{36}/g, ':id')} ${c.status ?? 'none'}`;
        tally.set(k, (tally.get(k) ?? 0) + 1);
      }
      console.info(JSON.stringify(Object.fromEntries([...tally].sort())));
      // The faults really happened: some calls were cut off, and yet most were answered.
      expect(calls.filter((c) => c.status === undefined || c.status >= 500).length).toBeGreaterThan(0);
      expect(calls.filter((c) => c.status !== undefined && c.status < 500).length).toBeGreaterThan(
        OPERATIONS / 2,
      );
      for (const c of calls) if (c.status === 500) throw new Error(`500 from ${c.path}: ${c.text}`);
      // The partition was felt: the process cut off from PostgreSQL answered 503, not 500, and did not hang.
      const cutOff = duringPartition.filter((c) => c.status === 503);
      expect(cutOff.length, JSON.stringify(duringPartition.map((c) => c.status))).toBeGreaterThan(0);
    },
  );

  it(
    'history check: acknowledged writes replay byte for byte; nothing lost, nothing twice',
    { timeout: 120_000 },
    async () => {
      const keyed = calls.filter((c) => c.idempotencyKey && acknowledged(c));
      expect(keyed.length).toBeGreaterThan(0);
      for (const call of keyed) {
        const replayOnce = () =>
          send(pick(alive()), {
            method: call.method,
            path: call.path,
            body: call.body,
            idempotencyKey: call.idempotencyKey,
          });
        let replay = await replayOnce();
        // As a client would: a 503 says retry shortly with the same key (a pooled connection the faults left behind
        // may fail one request, seen once in a loaded CI-like run); anything else is the answer to check.
        for (let tries = 0; replay.status === 503 && tries < 3; tries += 1) {
          await new Promise((resolve) => setTimeout(resolve, 200));
          replay = await replayOnce();
        }
        expect(replay.status, `${call.idempotencyKey}: ${replay.text}`).toBe(call.status);
        expect(replay.text, call.idempotencyKey).toBe(call.text);
      }
      // Every keyed write that committed left exactly one key row with exactly one effect.
      const drawKeys = await countKeys(store, '/v1/lines/:id/draws');
      const draws = await rowCount(store, 'draws');
      expect(draws).toBe(drawKeys);
      const repaymentKeys = await countKeys(store, '/v1/loans/:id/repayments');
      expect(await rowCount(store, 'repayments')).toBeLessThanOrEqual(repaymentKeys);
      const ackedDraws = keyed
        .filter((c) => c.path.endsWith('/draws') && c.status !== undefined && c.status < 300)
        .map((c) => json<{ drawId: string }>(c).drawId);
      const storedDraws = new Set(
        (await store.db.selectFrom('draws').select('id').execute()).map((r) => r.id),
      );
      for (const id of ackedDraws) expect(storedDraws.has(id), id).toBe(true);
      // A draw's, an application's and a repayment's response commits with its key: none is left committed without
      // one, not even a write whose process was killed between its commit and its answer.
      const withoutResponse = await store.db
        .selectFrom('idempotency_keys')
        .select(['scope', 'idem_key', 'state'])
        .where((eb) =>
          eb.or(
            ['/v1/lines/:id/draws', '/v1/applications', '/v1/loans/:id/repayments'].map((route) =>
              eb('scope', 'like', `% ${route}`),
            ),
          ),
        )
        .where('state', '!=', 'done')
        .execute();
      expect(withoutResponse).toEqual([]);
    },
  );

  it('history check: no over-draw, every balance equals its loans, events stored once, the ledger verifies', async () => {
    const rows = await store.db.selectFrom('credit_lines').selectAll().execute();
    for (const line of rows) {
      expect(Number(line.outstanding_minor), line.id).toBeLessThanOrEqual(Number(line.limit_minor));
      expect(Number(line.available_minor), line.id).toBeGreaterThanOrEqual(0);
      const sum = await store.db
        .selectFrom('loans')
        .select((eb) => eb.fn.coalesce(eb.fn.sum<number>('outstanding_principal_minor'), eb.lit(0)).as('s'))
        .where('line_id', '=', line.id)
        .executeTakeFirstOrThrow();
      expect(Number(sum.s), `line ${line.id} balance vs loans`).toBe(Number(line.outstanding_minor));
    }
    const ackedEvents = new Set<string>();
    for (const c of calls)
      if (c.path === '/v1/events' && c.status === 200)
        for (const r of json<{ results: { eventId: string }[] }>(c).results) ackedEvents.add(r.eventId);
    const stored = (await store.db.selectFrom('monitor_events').select('event_id').execute()).map(
      (r) => r.event_id,
    );
    expect(new Set(stored).size).toBe(stored.length);
    const storedSet = new Set(stored);
    for (const id of ackedEvents) expect(storedSet.has(id), id).toBe(true);
    const verification = await verifyLedger(store.db);
    expect(verification.ok, JSON.stringify(verification)).toBe(true);
  });

  it('history check: no borrower over the cap, no two disbursements on a line inside the cooling-off', async () => {
    // What the cap counts (store/core-lines.ts borrowerExposure): open lines' limits, and what closed or revoked lines
    // still owe.
    const exposure = await store.db
      .selectFrom('credit_lines')
      .select([
        'borrower_id',
        sql<number>`sum(case when status in ('CLOSED', 'REVOKED') then outstanding_minor else limit_minor end)`.as(
          'exposure',
        ),
      ])
      .groupBy('borrower_id')
      .execute();
    expect(exposure.length).toBe(BORROWERS);
    for (const b of exposure)
      expect(Number(b.exposure), b.borrower_id).toBeLessThanOrEqual(BORROWER_CAP_MINOR);
    // The repeat applications really ran into the cap somewhere (else this proves nothing).
    const reapplied = calls.filter((c) => c.idempotencyKey?.startsWith('fleet-reapply-') && acknowledged(c));
    expect(reapplied.some((c) => c.text?.includes('R_BORROWER_CAP'))).toBe(true);
    // Money leaves when a loan is created (at the draw, or at a held draw's release): those are the times the
    // cooling-off between draws is about.
    const disbursed = await store.db
      .selectFrom('loans')
      .select(['line_id', 'created_at'])
      .orderBy('line_id')
      .orderBy('created_at')
      .execute();
    const draws = await rowCount(store, 'draws');
    expect(draws).toBeGreaterThan(disbursed.length);
    for (let i = 1; i < disbursed.length; i++) {
      const [prev, cur] = [disbursed[i - 1], disbursed[i]];
      if (!prev || !cur || prev.line_id !== cur.line_id) continue;
      expect(Number(cur.created_at) - Number(prev.created_at), cur.line_id).toBeGreaterThanOrEqual(
        COOLING_OFF_MS,
      );
    }
  });
});

async function terminateBackends(name: string): Promise<void> {
  const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await admin.connect();
  try {
    await admin.query(
      'select pg_terminate_backend(pid) from pg_stat_activity where application_name = $1 and pid <> pg_backend_pid()',
      [name],
    );
  } finally {
    await admin.end();
  }
}

async function countKeys(store: Store, route: string): Promise<number> {
  const row = await store.db
    .selectFrom('idempotency_keys')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('scope', 'like', `% ${route}`)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}
