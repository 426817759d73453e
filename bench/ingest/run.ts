/**
 * Ingest benchmark (issue 5 "Speed"): durable events/s through features and typologies via POST /v1/events (Fastify
 * inject, batches, several requests in flight, SQLite file with WAL + synchronous=FULL), beside raw better-sqlite3
 * batched inserts of the same rows in the same run (the ratio is the figure); plus single-event requests (group
 * commit) and the latency of the draw-signal read (20+ features). The simulated core events (applications,
 * disbursements, repayments: about 6% of the traffic) go where the core's bus subscriber puts them (monitor.ingest),
 * not over HTTP, which refuses them from an app (422 LG_EVENT_TYPE_RESERVED). Prints JSON.
 *
 *   npm run bench:ingest -- [--users 2000] [--days 30] [--batch 500] [--inflight 4]
 */
import BetterSqlite3 from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildServer, createMetricsRegistry } from '../../src/api/server.js';
import { createApiKey, createKeyVerifier } from '../../src/api/api-keys.js';
import { monitorRoutes } from '../../src/api/routes/monitor.js';
import { systemClock } from '../../src/domain/clock.js';
import { uuidv7Generator } from '../../src/domain/ids.js';
import { cryptoRandom, seededRandom } from '../../src/domain/random.js';
import { openStore } from '../../src/store/db.js';
import {
  CORE_EVENT_TYPES,
  contentHash,
  fromWire,
  type EventIn,
  type MonitorEvent,
} from '../../src/monitor/events.js';
import { ListService } from '../../src/monitor/lists.js';
import { fieldCryptoFromMasterKey } from '../../src/compliance/crypto.js';
import { monitorListStore } from '../../src/store/monitor-lists.js';
import { monitorPorts } from '../../src/app/monitor.js';
import { MonitorService } from '../../src/monitor/service.js';
import { eventToRow } from '../../src/store/monitor.js';
import { simulateTraffic } from '../../src/monitor/simulate.js';

const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i += 2)
  args.set(process.argv[i]?.replace(/^--/, '') ?? '', process.argv[i + 1] ?? '');
const USERS = Number(args.get('users') ?? 2000);
const DAYS = Number(args.get('days') ?? 30);
const BATCH = Number(args.get('batch') ?? 500);
const INFLIGHT = Number(args.get('inflight') ?? 4);
/** Group-commit size: several in-flight batches share one transaction. */
const GROUP = Number(args.get('group') ?? 2000);

function percentile(sorted: readonly number[], p: number): number {
  return Math.round((sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0) * 1000) / 1000;
}

async function ingestHttp(events: readonly EventIn[], dir: string) {
  const store = await openStore({ sqlitePath: join(dir, 'monitor.db') });
  const ids = uuidv7Generator(systemClock, cryptoRandom);
  const masterKey = Buffer.alloc(32, 1);
  const lists = new ListService(monitorListStore(store), { clock: systemClock, ids, masterKey });
  const monitor = new MonitorService({
    ...monitorPorts(store, { clock: systemClock, ids }),
    clock: systemClock,
    ids,
    lists,
    groupCommit: { eventsMax: GROUP, delayMs: 2 },
  });
  await monitor.start();
  const key = (await createApiKey(store.db, { clock: systemClock, ids, random: cryptoRandom }, 'service'))
    .key;
  const app = await buildServer({
    store,
    clock: systemClock,
    metrics: createMetricsRegistry(),
    requestBytesMax: 64 * 1_048_576,
    verifyKey: createKeyVerifier(store.db, systemClock),
    routes: [monitorRoutes({ monitor, eventBatchMax: BATCH })],
    crypto: fieldCryptoFromMasterKey(masterKey),
  });
  const slices: Slice[] = [];
  for (let i = 0; i < events.length; i += BATCH) {
    const slice = events.slice(i, i + BATCH);
    const appEvents = slice.filter((e) => !CORE_EVENT_TYPES.has(e.type));
    slices.push({
      body: appEvents.length > 0 ? JSON.stringify({ events: appEvents }) : undefined,
      core: slice.filter((e) => CORE_EVENT_TYPES.has(e.type)).map(fromWire),
    });
  }
  const batched = await postAll(app, key, slices, { inFlight: INFLIGHT, monitor });
  const alerts = (
    await store.db
      .selectFrom('monitor_alerts')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow()
  ).n;

  // Single-event requests, many in flight: group commit gathers them into shared transactions.
  const singles = events
    .filter((e) => !CORE_EVENT_TYPES.has(e.type))
    .slice(0, 5_000)
    .map((e): Slice => ({ body: JSON.stringify({ ...e, eventId: `${e.eventId}-single` }), core: [] }));
  const single = await postAll(app, key, singles, { inFlight: 64, monitor });

  const signals = await drawSignalLatency(monitor, events);
  await app.close();
  await monitor.close();
  await store.close();
  return {
    eventsPerSecond: Math.round(events.length / batched.seconds),
    batch: BATCH,
    inFlight: INFLIGHT,
    groupCommitEventsMax: GROUP,
    requestLatencyMs: batched.latencyMs,
    alerts: Number(alerts),
    singleEventRequests: {
      requests: singles.length,
      inFlight: 64,
      eventsPerSecond: Math.round(singles.length / single.seconds),
      latencyMs: single.latencyMs,
    },
    drawSignals: signals,
  };
}

/** A slice of the traffic: the app's events as one POST /v1/events body, the core's as its bus subscriber ingests them. */
interface Slice {
  readonly body: string | undefined;
  readonly core: readonly MonitorEvent[];
}

/**
 * Sends every slice, `inFlight` at a time: its core events to the monitor, then its body to /v1/events; the elapsed
 * time and the requests' latency percentiles.
 */
async function postAll(
  app: FastifyInstance,
  key: string,
  slices: readonly Slice[],
  options: { inFlight: number; monitor: MonitorService },
) {
  const latencies: number[] = [];
  let next = 0;
  const began = performance.now();
  const worker = async () => {
    for (;;) {
      const slice = slices[next++];
      if (slice === undefined) return;
      if (slice.core.length > 0) await options.monitor.ingest(slice.core);
      const body = slice.body;
      if (body === undefined) continue;
      const t = performance.now();
      const res = await app.inject({
        method: 'POST',
        url: '/v1/events',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        payload: body,
      });
      if (res.statusCode !== 200)
        throw new Error(`POST /v1/events answered ${res.statusCode}: ${res.body.slice(0, 300)}`);
      latencies.push(performance.now() - t);
    }
  };
  await Promise.all(Array.from({ length: options.inFlight }, worker));
  const seconds = (performance.now() - began) / 1000;
  latencies.sort((a, b) => a - b);
  return { seconds, latencyMs: { p50: percentile(latencies, 0.5), p99: percentile(latencies, 0.99) } };
}

async function drawSignalLatency(monitor: MonitorService, events: readonly EventIn[]) {
  const rnd = seededRandom(11);
  const draws = events.filter((e) => e.type === 'disbursement');
  const samples: number[] = [];
  let features = 0;
  for (let i = 0; i < 20_000; i++) {
    const e = draws[Math.floor(rnd.next() * draws.length)] as EventIn;
    const t = performance.now();
    const s = await monitor.drawSignals({
      borrowerId: e.userId,
      deviceId: e.deviceId,
      ip: e.ip,
      at: Date.parse(e.occurredAt),
    });
    samples.push(performance.now() - t);
    features = Object.keys(s).length;
  }
  samples.sort((a, b) => a - b);
  return {
    calls: samples.length,
    featuresPerCall: features,
    latencyMs: { p50: percentile(samples, 0.5), p99: percentile(samples, 0.99) },
  };
}

/** The same rows, straight into SQLite with a prepared statement, one transaction per batch, same pragmas. */
function rawSqlite(events: readonly EventIn[], dir: string) {
  const db = new BetterSqlite3(join(dir, 'raw.db'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec(`create table monitor_events (event_id text primary key, type text not null, occurred_at bigint not null, received_at bigint not null,
    user_id text not null, line_id text, loan_id text, device_id text, ip text, amount_minor bigint, currency text, payee_id text,
    payee_created_at bigint, merchant_id text, merchant_category text, channel text, attributes text, content_hash text not null, result text not null)`);
  db.exec('create index raw_user_time on monitor_events (user_id, occurred_at)');
  db.exec('create index raw_time on monitor_events (occurred_at)');
  const insert =
    db.prepare(`insert into monitor_events values (@event_id, @type, @occurred_at, @received_at, @user_id, @line_id, @loan_id,
    @device_id, @ip, @amount_minor, @currency, @payee_id, @payee_created_at, @merchant_id, @merchant_category, @channel, @attributes, @content_hash, @result)`);
  const insertBatch = db.transaction((rows: ReturnType<typeof eventToRow>[]) => {
    for (const row of rows) insert.run(row);
  });
  // Rows are built before the clock starts: this measures SQLite alone.
  const rows = events.map((w) => {
    const e = fromWire(w);
    return eventToRow({
      event: e,
      receivedAt: Date.now(),
      hash: contentHash(e),
      resultJson: JSON.stringify({ typologies: [], alerts: [], actions: [] }),
    });
  });
  const began = performance.now();
  for (let i = 0; i < rows.length; i += BATCH) insertBatch(rows.slice(i, i + BATCH));
  const seconds = (performance.now() - began) / 1000;
  db.close();
  return { eventsPerSecond: Math.round(events.length / seconds), batch: BATCH };
}

const dir = mkdtempSync(join(tmpdir(), 'lg-bench-ingest-'));
try {
  const events = simulateTraffic({ users: USERS, days: DAYS, seed: 1 }).map(
    ({ scenario: _s, label: _l, ...wire }) => wire as EventIn,
  );
  const raw = rawSqlite(events, dir);
  const http = await ingestHttp(events, dir);
  process.stdout.write(
    `${JSON.stringify(
      {
        benchmark: 'ingest',
        node: process.version,
        events: events.length,
        users: USERS,
        monitorHttp: http,
        rawSqliteInsert: raw,
        ratioMonitorToRaw: Math.round((http.eventsPerSecond / raw.eventsPerSecond) * 1000) / 1000,
      },
      null,
      2,
    )}\n`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
