/**
 * API benchmark: POST /v1/lines/{id}/draws (auth, idempotency, validation, engine decision, conditional debit, loan,
 * schedule, disclosure, ledger and outbox, durably committed before the response) against a bare Fastify endpoint
 * with the same payload, in the same run, from the same load generator. Prints both and the ratio as JSON.
 *
 * On SQLite it also measures the storage floor (floor.ts) over HTTP: a Fastify endpoint that writes the rows of one
 * draw raw, with the same group commit and durability, and nothing else. `floorRatio` (floor / bare) is the most any
 * draw that writes those rows durably could reach on this machine; `drawsToFloor` is what LineGuard's logic leaves of it.
 * `floorThread` writes the same rows through a writer thread that owns the connection (rows posted as data), and
 * `floorThreadRatio` is the ceiling that design would give here.
 *
 * npm run bench:api  [-- --seconds 10 --connections 32] [-- --draws-only]
 * `--draws-only` skips the bare and floor phases (e.g. to profile the server with LINEGUARD_BENCH_NODE_ARGS=--cpu-prof
 * and see only what draws cost).
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import autocannon from 'autocannon';
import { DRAW_INPUT } from './payload.js';

interface Ready {
  appPort: number;
  barePort: number;
  floorPort: number;
  floorThreadPort: number;
  lineId: string;
  key: string;
  store: string;
}

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const value = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  return Number.isFinite(value) && value > 0 ? value : fallback;
}

const seconds = arg('seconds', 10);
const connections = arg('connections', 32);
const drawsOnly = process.argv.includes('--draws-only');
/** How long the draw path runs before it is measured. */
const WARM_SECONDS = 2;
const payload = JSON.stringify(DRAW_INPUT);

async function startServer(): Promise<{ ready: Ready; stop: () => void }> {
  const extra = (process.env.LINEGUARD_BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const child = spawn(process.execPath, [...extra, '--import', 'tsx', 'bench/api/server.ts'], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: process.env,
  });
  const lines = createInterface({ input: child.stdout });
  const ready = await new Promise<Ready>((resolve, reject) => {
    lines.once('line', (line) => resolve(JSON.parse(line) as Ready));
    child.once('exit', (code) => reject(new Error(`bench server exited with ${code}`)));
  });
  return { ready, stop: () => child.kill('SIGTERM') };
}

async function load(
  url: string,
  headers: Record<string, string>,
  idempotent: boolean,
  duration = seconds,
): Promise<autocannon.Result> {
  return autocannon({
    url,
    method: 'POST',
    connections,
    duration,
    headers: { 'content-type': 'application/json', ...headers },
    body: payload,
    requests: [
      {
        method: 'POST',
        setupRequest: (request) =>
          idempotent
            ? { ...request, headers: { ...request.headers, 'idempotency-key': randomUUID() } }
            : request,
      },
    ],
  });
}

/** The server process's CPU time in µs (user + system, all its threads). */
async function serverCpuMicros(barePort: number): Promise<number> {
  const response = await fetch(`http://127.0.0.1:${barePort}/cpu`);
  const usage = (await response.json()) as { user: number; system: number };
  return usage.user + usage.system;
}

interface Measured {
  readonly result: autocannon.Result;
  readonly serverCpuMicros: number;
}

/** One load phase, with the server's CPU time over it (and its trailing background work, e.g. the outbox relay). */
async function measured(barePort: number, run: () => Promise<autocannon.Result>): Promise<Measured> {
  const before = await serverCpuMicros(barePort);
  const result = await run();
  await sleep(300);
  return { result, serverCpuMicros: (await serverCpuMicros(barePort)) - before };
}

function summary({ result, serverCpuMicros: cpu }: Measured) {
  return {
    requestsPerSecond: result.requests.average,
    serverCpuMicrosPerRequest: Math.round(cpu / Math.max(1, result.requests.total)),
    latencyMsP50: result.latency.p50,
    latencyMsP99: result.latency.p99,
    total: result.requests.total,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
  };
}

const { ready, stop } = await startServer();
try {
  const drawsUrl = `http://127.0.0.1:${ready.appPort}/v1/lines/${ready.lineId}/draws`;
  const drawHeaders = { authorization: `Bearer ${ready.key}` };
  // Warm every path (JIT, caches) before measuring: the draw path is thousands of lines that V8 compiles only once
  // they run hot, so an unwarmed draw phase would count the compiler's work in its first seconds as draws' CPU.
  await autocannon({
    url: `http://127.0.0.1:${ready.barePort}/bare`,
    method: 'POST',
    body: payload,
    duration: 1,
    connections: 4,
    headers: { 'content-type': 'application/json' },
  });
  await load(drawsUrl, drawHeaders, true, WARM_SECONDS);
  const phase = (run: () => Promise<autocannon.Result>) => measured(ready.barePort, run);
  const bare = drawsOnly
    ? undefined
    : await phase(() => load(`http://127.0.0.1:${ready.barePort}/bare`, {}, false));
  const floor =
    ready.floorPort && !drawsOnly
      ? await phase(() => load(`http://127.0.0.1:${ready.floorPort}/floor`, {}, false))
      : undefined;
  const floorThread =
    ready.floorThreadPort && !drawsOnly
      ? await phase(() => load(`http://127.0.0.1:${ready.floorThreadPort}/floor`, {}, false))
      : undefined;
  const draws = await phase(() => load(drawsUrl, drawHeaders, true));
  const rps = (m: Measured) => m.result.requests.average;
  const result = {
    benchmark: 'POST /v1/lines/{id}/draws vs bare Fastify',
    store: ready.store,
    durability:
      ready.store === 'sqlite'
        ? 'WAL, group commit; each batch committed and its WAL fdatasync-ed before any of its responses'
        : 'PostgreSQL commit before response',
    seconds,
    connections,
    ...(bare ? { bare: summary(bare) } : {}),
    draws: summary(draws),
    ...(bare ? { ratio: Number((rps(draws) / rps(bare)).toFixed(3)) } : {}),
    ...(floor && bare
      ? {
          floor: summary(floor),
          floorRatio: Number((rps(floor) / rps(bare)).toFixed(3)),
          drawsToFloor: Number((rps(draws) / rps(floor)).toFixed(3)),
        }
      : {}),
    ...(floorThread && bare
      ? {
          floorThread: summary(floorThread),
          floorThreadRatio: Number((rps(floorThread) / rps(bare)).toFixed(3)),
        }
      : {}),
  };
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
} finally {
  stop();
}
