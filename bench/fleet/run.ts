/**
 * Fleet benchmark (issue 13): draws, applications and events over HTTP against 1, 2 and 3 `lineguard serve` processes
 * on one PostgreSQL (with Redis and NATS), and one process on SQLite, in the same run. Prints JSON with each figure,
 * the scaling ratios (2 vs 1, 3 vs 1) and server CPU per request (all LineGuard processes together, from /proc), which
 * does not depend on the load generator sharing the machine's cores. PostgreSQL's own CPU per draw is the CPU time of
 * every `postgres` process over the phase (the server may be shared: treat it as an upper bound).
 *
 * Also the CPU of one bare PostgreSQL and Redis round trip in the same run (round-trips.ts), the unit a fleet draw's
 * extra CPU over SQLite is counted in (`postgresExtraCpuInRoundTrips`).
 *
 * SQLite is measured before and after the PostgreSQL runs, and the PostgreSQL/SQLite ratios use the mean of the two:
 * this VM's speed drifts within minutes, and `sqliteDrift` (after / before, CPU per request) says how far it moved
 * while the run lasted, i.e. how far to trust the ratio.
 *
 * `--pairs N` measures instead one SQLite process and one PostgreSQL process alternately, N times each (fresh data
 * each time), and prints every pair's PostgreSQL/SQLite CPU per request and their median: the ratio the issue aims at,
 * with the machine's drift spread over the pairs rather than falling between two ends of a run.
 *
 * npm run bench:fleet [-- --seconds 5 --connections 24 --lines 12] [-- --pairs N --only draws]
 * For a profile or a quick figure: `--only draws` (one kind), `--postgres-only` (no SQLite run), `--processes 1`
 * (one PostgreSQL deployment size), and LINEGUARD_BENCH_NODE_ARGS (extra node arguments for every server, e.g.
 * `--cpu-prof --cpu-prof-dir=DIR`). The summary (scaling, ratios) is printed only for a full run.
 * needs LINEGUARD_BENCH_DATABASE_URL (or LINEGUARD_TEST_DATABASE_URL), and uses LINEGUARD_BENCH_REDIS_URL /
 * LINEGUARD_BENCH_NATS_URL (or the TEST ones) when set.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import autocannon from 'autocannon';
import { loadConfig } from '../../src/app/config.js';
import { createApp } from '../../src/app/app.js';
import { NatsBus } from '../../src/bus/index.js';
import { createIsolatedPostgresSchema, dropIsolatedPostgresSchema } from '../../src/store/db.js';
import { residentIdCheckChar } from '../../src/domain/national-id.js';
import { DRAW_INPUT } from '../api/payload.js';
import { STRONG_APPLICANT } from '../../test/helpers/app.js';
import { roundTripCpuMicros } from './round-trips.js';

const BIG_LIMIT_MINOR = 1_000_000_000_000;
const MASTER_KEY = '02'.repeat(32);
const ADMIN_KEY = 'lg_bench_fleet_admin_key_0123456789';
const ROOT = join(import.meta.dirname, '..', '..');

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const value = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  return Number.isFinite(value) && value > 0 ? value : fallback;
}

const seconds = arg('seconds', 5);
const connections = arg('connections', 24);
const lineCount = arg('lines', 12);
const only = (() => {
  const i = process.argv.indexOf('--only');
  return i >= 0 ? process.argv[i + 1] : undefined;
})();
const postgresOnly = process.argv.includes('--postgres-only');
const processCounts = (() => {
  const i = process.argv.indexOf('--processes');
  return i >= 0 ? [arg('processes', 1)] : [1, 2, 3];
})();
const partial = only !== undefined || postgresOnly || processCounts.length !== 3;
const pgUrl = process.env.LINEGUARD_BENCH_DATABASE_URL ?? process.env.LINEGUARD_TEST_DATABASE_URL;
const redisUrl = process.env.LINEGUARD_BENCH_REDIS_URL ?? process.env.LINEGUARD_TEST_REDIS_URL;
const natsUrl = process.env.LINEGUARD_BENCH_NATS_URL ?? process.env.LINEGUARD_TEST_NATS_URL;

interface Deployment {
  readonly env: Record<string, string>;
  readonly lineIds: string[];
}

/** A fresh database with `lineCount` active lines of a huge limit, and a draw strategy without its velocity node. */
async function prepare(env: Record<string, string>): Promise<Deployment> {
  const config = loadConfig(
    // The load sends the bureau attributes itself (it measures throughput, not consent).
    { ...env, LINEGUARD_KEY: MASTER_KEY, LINEGUARD_ADMIN_KEY: ADMIN_KEY, LINEGUARD_BUREAU: 'off' },
    {},
    () => undefined,
  );
  const app = await createApp(config);
  try {
    // Many draws a second on one line are velocity by definition; the benchmark measures the approve path.
    const draw = await app.engine.getVersion('draw', 1);
    const velocityInputs = new Set(['drawsLast24h', 'minutesSinceLastDraw']);
    const lean = {
      ...draw.document,
      inputs: draw.document.inputs.filter((i) => !velocityInputs.has(i.name)),
      nodes: draw.document.nodes.filter((n) => n.id !== 'velocity'),
    };
    const saved = await app.engine.saveVersion(lean, 'bench');
    await app.engine.activate('draw', saved.version, 'bench');
    const lineIds: string[] = [];
    for (let i = 0; lineIds.length < lineCount && i < lineCount * 4; i++) {
      const result = await app.core.submitApplication({
        applicant: {
          name: `压测${i}`,
          nationalId: nationalId(900 + i),
          phone: `1370000${String(i).padStart(4, '0')}`,
        },
        attributes: STRONG_APPLICANT,
      });
      if (!result.line) continue;
      await app.core.applyLineAction(result.line.id, {
        type: 'LIMIT_INCREASE',
        limitMinor: BIG_LIMIT_MINOR,
        reasons: ['R_LIMIT_REVIEW'],
        automated: false,
        actor: 'bench',
      });
      lineIds.push(result.line.id);
    }
    return { env, lineIds };
  } finally {
    await app.close();
  }
}

let idSeq = 0;
function nationalId(seq: number): string {
  const first17 = `110101${1970 + (seq % 30)}0101${String(seq % 1000).padStart(3, '0')}`;
  return first17 + residentIdCheckChar(first17);
}

interface Serving {
  readonly child: ChildProcess;
  readonly base: string;
}

async function serve(env: Record<string, string>): Promise<Serving> {
  const child = spawn(
    process.execPath,
    [
      ...(process.env.LINEGUARD_BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean),
      '--import',
      'tsx',
      join(ROOT, 'src/cli/main.ts'),
      'serve',
      '--port',
      '0',
    ],
    {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
      env: {
        ...process.env,
        ...env,
        HOST: '127.0.0.1',
        LINEGUARD_KEY: MASTER_KEY,
        LINEGUARD_ADMIN_KEY: ADMIN_KEY,
        LINEGUARD_SEED_DEMO: '0',
        LINEGUARD_BUREAU: 'off',
        NODE_NO_WARNINGS: '1',
      },
    },
  );
  const base = await new Promise<string>((resolve, reject) => {
    let buffer = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      const m = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(buffer);
      if (m?.[1]) resolve(m[1]);
      if (buffer.length > 100_000) buffer = buffer.slice(-1000);
    });
    child.once('exit', (code) => reject(new Error(`serve exited with ${code}`)));
  });
  // The pino request log goes to stdout: keep draining it so the pipe never blocks the server.
  child.stdout?.resume();
  return { child, base };
}

/** CPU time (user + system, µs) of the given pids, from /proc (Linux). */
function cpuMicros(pids: readonly number[]): number {
  const ticks = 100; // USER_HZ on Linux
  let total = 0;
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      total += ((Number(fields[11]) + Number(fields[12])) * 1_000_000) / ticks;
    } catch {
      // the process is gone
    }
  }
  return total;
}

function postgresPids(): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() === 'postgres') pids.push(Number(entry));
    } catch {
      // gone
    }
  }
  return pids;
}

type Kind = 'draws' | 'applications' | 'events';

function requestFor(kind: Kind, lineIds: readonly string[]): autocannon.Request {
  return {
    method: 'POST',
    setupRequest: (request) => {
      const headers = { ...request.headers, 'idempotency-key': randomUUID() };
      if (kind === 'draws') {
        const line = lineIds[Math.floor(Math.random() * lineIds.length)];
        return { ...request, path: `/v1/lines/${line}/draws`, headers, body: JSON.stringify(DRAW_INPUT) };
      }
      if (kind === 'applications') {
        const seq = ++idSeq;
        const body = {
          applicant: { name: '压测', nationalId: nationalId(100_000 + seq), phone: '13800000000' },
          attributes: STRONG_APPLICANT,
        };
        return { ...request, path: '/v1/applications', headers, body: JSON.stringify(body) };
      }
      const body = {
        eventId: randomUUID(),
        type: 'login',
        occurredAt: new Date().toISOString(),
        userId: `bench-user-${Math.floor(Math.random() * 1000)}`,
        deviceId: `bench-device-${Math.floor(Math.random() * 100)}`,
      };
      return { ...request, path: '/v1/events', headers, body: JSON.stringify(body) };
    },
  };
}

interface Phase {
  readonly requestsPerSecond: number;
  readonly total: number;
  readonly non2xx: number;
  readonly errors: number;
  readonly serverCpuMicrosPerRequest: number;
  readonly postgresCpuMicrosPerRequest?: number;
  readonly latencyMsP99: number;
}

/** Load on every process at once (connections split between them) for `seconds`. */
async function phase(
  servers: readonly Serving[],
  kind: Kind,
  lineIds: readonly string[],
  pg: boolean,
): Promise<Phase> {
  const pids = servers.map((s) => s.child.pid as number);
  const pgPids = pg ? postgresPids() : [];
  const before = cpuMicros(pids);
  const pgBefore = cpuMicros(pgPids);
  const per = Math.max(1, Math.floor(connections / servers.length));
  const results = await Promise.all(
    servers.map((s) =>
      autocannon({
        url: s.base,
        connections: per,
        duration: seconds,
        headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_KEY}` },
        requests: [requestFor(kind, lineIds)],
      }),
    ),
  );
  await sleep(300);
  const cpu = cpuMicros(pids) - before;
  const pgCpu = cpuMicros(pgPids) - pgBefore;
  const total = results.reduce((n, r) => n + r.requests.total, 0);
  const ok = results.reduce((n, r) => n + r.requests.total - r.non2xx, 0);
  return {
    requestsPerSecond: Math.round(results.reduce((n, r) => n + r.requests.average, 0)),
    total,
    non2xx: total - ok,
    errors: results.reduce((n, r) => n + r.errors, 0),
    serverCpuMicrosPerRequest: Math.round(cpu / Math.max(1, total)),
    ...(pg ? { postgresCpuMicrosPerRequest: Math.round(pgCpu / Math.max(1, total)) } : {}),
    latencyMsP99: Math.max(...results.map((r) => r.latency.p99)),
  };
}

async function measure(label: string, env: Record<string, string>, processes: number, pg: boolean) {
  const deployment = await prepare(env);
  const servers = await Promise.all(Array.from({ length: processes }, () => serve(env)));
  try {
    // Warm up (JIT, pools, caches) before measuring.
    await Promise.all(
      servers.map((s) =>
        autocannon({
          url: s.base,
          connections: 2,
          duration: 1,
          headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_KEY}` },
          requests: [requestFor('draws', deployment.lineIds)],
        }),
      ),
    );
    const run = (kind: Kind) =>
      only === undefined || only === kind ? phase(servers, kind, deployment.lineIds, pg) : undefined;
    const result = {
      label,
      processes,
      draws: await run('draws'),
      applications: await run('applications'),
      events: await run('events'),
    };
    process.stderr.write(`${label}: ${JSON.stringify(result[(only as Kind | undefined) ?? 'draws'])}\n`);
    return result;
  } finally {
    for (const s of servers) s.child.kill('SIGTERM');
    await sleep(500);
    await removeDeployment(env);
  }
}

/** A PostgreSQL deployment's schema and NATS stream are the benchmark's alone: drop them, so runs do not pile up. */
async function removeDeployment(env: Record<string, string>): Promise<void> {
  const url = env.LINEGUARD_DATABASE_URL;
  if (url) await dropIsolatedPostgresSchema(url);
  const namespace = env.LINEGUARD_NAMESPACE;
  if (natsUrl && namespace) await NatsBus.deleteStream({ url: natsUrl, namespace });
}

if (!pgUrl) {
  process.stderr.write('bench:fleet needs LINEGUARD_BENCH_DATABASE_URL (or LINEGUARD_TEST_DATABASE_URL)\n');
  process.exit(2);
}

const median = (xs: readonly number[]): number => {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

type Measured = Awaited<ReturnType<typeof measure>>;

/** `--pairs N`: SQLite then PostgreSQL (one process each, fresh data each time), N times; prints and exits. */
async function measurePairs(count: number): Promise<never> {
  const kinds = (['draws', 'applications', 'events'] as const).filter(
    (k) => only === undefined || only === k,
  );
  const pairs: { sqlite: Measured; postgres: Measured }[] = [];
  for (let i = 0; i < count; i++) {
    const sqlite = await measure(
      `sqlite x1 (pair ${i + 1})`,
      { LINEGUARD_DATA_DIR: mkdtempSync(join(tmpdir(), 'lg-bench-fleet-')) },
      1,
      false,
    );
    const env = {
      LINEGUARD_DATABASE_URL: await createIsolatedPostgresSchema(pgUrl!, `bench_fleet_pair_${i}`),
      LINEGUARD_NAMESPACE: `benchfleetpair${i}${process.pid}`,
      ...services,
    };
    const postgres = await measure(`postgres x1 (pair ${i + 1})`, env, 1, true);
    pairs.push({ sqlite, postgres });
  }
  const ratios = Object.fromEntries(
    kinds.map((k) => {
      const cpu = (run: Record<Kind, Phase | undefined>) => run[k]!.serverCpuMicrosPerRequest;
      const lineguard = pairs.map((p) => cpu(p.postgres) / cpu(p.sqlite));
      const withPostgres = pairs.map(
        (p) => (cpu(p.postgres) + (p.postgres[k]!.postgresCpuMicrosPerRequest ?? 0)) / cpu(p.sqlite),
      );
      const r3 = (x: number) => Number(x.toFixed(3));
      return [
        k,
        {
          lineguardOnPostgresVsSqliteCpuPerRequest: lineguard.map(r3),
          postgresVsSqliteServerCpuPerRequest: withPostgres.map(r3),
          median: { lineguard: r3(median(lineguard)), withPostgres: r3(median(withPostgres)) },
        },
      ];
    }),
  );
  process.stdout.write(
    `${JSON.stringify({ benchmark: 'fleet: SQLite and PostgreSQL alternately, one process each', seconds, connections, lines: lineCount, roundTripCpuMicros: roundTrip, pairs, ratios, aim: { postgresCpuPerDrawVsSqlite: 2 } }, null, 2)}\n`,
  );
  process.exit(0);
}
const services = {
  ...(redisUrl ? { LINEGUARD_REDIS_URL: redisUrl } : {}),
  ...(natsUrl ? { LINEGUARD_NATS_URL: natsUrl } : {}),
};
// Measured first, on an idle machine: the CPU of one bare round trip (round-trips.ts), to read the draws' CPU against.
const roundTrip = await roundTripCpuMicros(pgUrl, redisUrl);
process.stderr.write(`bare round trip, CPU µs: ${JSON.stringify(roundTrip)}\n`);
const pairCount = process.argv.includes('--pairs') ? arg('pairs', 3) : 0;
if (pairCount > 0) await measurePairs(pairCount);
const runs = [];
const sqliteDir = mkdtempSync(join(tmpdir(), 'lg-bench-fleet-'));
if (!postgresOnly) runs.push(await measure('sqlite x1', { LINEGUARD_DATA_DIR: sqliteDir }, 1, false));
for (const n of processCounts) {
  const url = await createIsolatedPostgresSchema(pgUrl, `bench_fleet_${n}`);
  const env = {
    LINEGUARD_DATABASE_URL: url,
    LINEGUARD_NAMESPACE: `benchfleet${n}${process.pid}`,
    ...services,
  };
  runs.push(await measure(`postgres x${n}`, env, n, true));
}
// The SQLite bracket's second half (see the header): a fresh data directory, measured as the first.
if (!postgresOnly)
  runs.push(
    await measure(
      'sqlite x1 (after)',
      { LINEGUARD_DATA_DIR: mkdtempSync(join(tmpdir(), 'lg-bench-fleet-')) },
      1,
      false,
    ),
  );
if (partial) {
  process.stdout.write(
    `${JSON.stringify({ seconds, connections, lines: lineCount, roundTripCpuMicros: roundTrip, runs }, null, 2)}\n`,
  );
  process.exit(0);
}
type FullRun = Record<Kind, Phase>;
const [sqliteBefore, pg1, pg2, pg3, sqliteAfter] = runs as unknown as [
  FullRun,
  FullRun,
  FullRun,
  FullRun,
  FullRun,
];
const ratio = (a: number, b: number) => Number((a / Math.max(1, b)).toFixed(3));
/** SQLite's CPU per request of a kind: the mean of the bracket's two measurements. */
const sqliteCpu = (k: Kind) =>
  (sqliteBefore[k].serverCpuMicrosPerRequest + sqliteAfter[k].serverCpuMicrosPerRequest) / 2;
const kinds = ['draws', 'applications', 'events'] as const;
const output = {
  benchmark:
    'fleet: 1, 2, 3 processes on PostgreSQL (+Redis, NATS) and 1 on SQLite before and after them, over HTTP',
  seconds,
  connections,
  lines: lineCount,
  redis: Boolean(redisUrl),
  nats: Boolean(natsUrl),
  roundTripCpuMicros: roundTrip,
  runs,
  scaling: Object.fromEntries(
    kinds.map((k) => [
      k,
      {
        twoVsOne: ratio(pg2[k].requestsPerSecond, pg1[k].requestsPerSecond),
        threeVsOne: ratio(pg3[k].requestsPerSecond, pg1[k].requestsPerSecond),
        // With PostgreSQL's own CPU, and without it (LineGuard's processes only).
        postgresVsSqliteServerCpuPerRequest: ratio(
          pg1[k].serverCpuMicrosPerRequest + (pg1[k].postgresCpuMicrosPerRequest ?? 0),
          sqliteCpu(k),
        ),
        lineguardOnPostgresVsSqliteCpuPerRequest: ratio(pg1[k].serverCpuMicrosPerRequest, sqliteCpu(k)),
        sqliteDrift: ratio(
          sqliteAfter[k].serverCpuMicrosPerRequest,
          sqliteBefore[k].serverCpuMicrosPerRequest,
        ),
        // What one PostgreSQL process spends per request more than SQLite, in bare PostgreSQL round trips.
        postgresExtraCpuInRoundTrips: ratio(
          pg1[k].serverCpuMicrosPerRequest - sqliteCpu(k),
          roundTrip.postgres,
        ),
      },
    ]),
  ),
  aims: { twoVsOne: 1.7, threeVsOne: 2.2, postgresCpuPerDrawVsSqlite: 2 },
};
process.stdout.write(`${JSON.stringify(output, null, 2)}\n`);
