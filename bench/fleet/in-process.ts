/**
 * A fleet draw's CPU without HTTP or a load generator in another process: the app wired as `serve` wires it (on
 * PostgreSQL with Redis and NATS, or on SQLite), draws through Fastify's inject from 8 concurrent loops on 12 lines,
 * CPU of this one process per draw (everything it does for the draws, background work included), and on PostgreSQL the
 * statements it sent per draw (every query on a pg client: the draw's own, its share of the monitor's ingest of the
 * disbursement event, the outbox relay, the follower), a count that does not depend on the machine, its Redis commands
 * by name and the Redis server's CPU per draw (a fleet's Redis is shared by every process). Quieter than
 * bench:fleet on a shared 2-core machine, and runnable against an older checkout for a side-by-side comparison (copy
 * this file there): run the two alternately, several times.
 *
 * On SQLite it counts the statements run per draw (every better-sqlite3 statement of this thread: the draw's unit, its
 * group's BEGIN and COMMIT, the reads before it, the relay and the monitor) and the time spent in them, which says how
 * much of a draw is SQLite itself.
 *
 * node --import tsx bench/fleet/in-process.ts [pg|sqlite] [draws=1500] [--texts]
 * --texts also prints, per draw, how often each statement text was sent (the first 100 characters of each), and on
 * SQLite the µs spent in each.
 * pg needs LINEGUARD_TEST_DATABASE_URL, LINEGUARD_TEST_REDIS_URL and LINEGUARD_TEST_NATS_URL. LINEGUARD_RATE_LIMIT_* and
 * LINEGUARD_PG_PREPARED are passed through to the app, for a side-by-side run with one of them changed.
 */
import { randomUUID } from 'node:crypto';
import net from 'node:net';
import pg from 'pg';
import { Redis } from 'ioredis';
import Database from 'better-sqlite3';
import { residentIdCheckChar } from '../../src/domain/national-id.js';
import { createIsolatedPostgresSchema } from '../../src/store/db.js';
import { adminHeaders, startTestApp, STRONG_APPLICANT } from '../../test/helpers/app.js';
import { DRAW_INPUT } from '../api/payload.js';

const LINES = 12;
const LOOPS = 8;
const mode = process.argv[2] === 'sqlite' ? 'sqlite' : 'pg';
const draws = Math.max(LOOPS, Number(process.argv.slice(3).find((a) => /^\d+$/.test(a)) ?? 1500));
const byText = process.argv.includes('--texts') ? new Map<string, number>() : undefined;

/** Settings passed through from this process's environment, for side-by-side runs with one of them changed. */
function passedThrough(): Record<string, string> {
  return Object.fromEntries(
    Object.entries(process.env).filter(
      (e): e is [string, string] => /^LINEGUARD_(RATE_LIMIT_|PG_PREPARED$)/.test(e[0]) && e[1] !== undefined,
    ),
  );
}

async function environment(): Promise<Record<string, string>> {
  if (mode === 'sqlite') return passedThrough();
  const {
    LINEGUARD_TEST_DATABASE_URL: db,
    LINEGUARD_TEST_REDIS_URL: redis,
    LINEGUARD_TEST_NATS_URL: nats,
  } = process.env;
  if (!db || !redis || !nats) throw new Error('pg needs the PostgreSQL, Redis and NATS test URLs');
  return {
    // e.g. LINEGUARD_PG_PREPARED=0 (prepared statements off) or LINEGUARD_RATE_LIMIT_PER_KEY=0.
    ...passedThrough(),
    LINEGUARD_DATABASE_URL: await createIsolatedPostgresSchema(db, 'bench_in_process'),
    LINEGUARD_REDIS_URL: redis,
    LINEGUARD_NATS_URL: nats,
  };
}

const t = await startTestApp(await environment());
const lines: string[] = [];
for (let i = 0; lines.length < LINES && i < LINES * 4; i++) {
  const first17 = `11010119800101${String(100 + i).padStart(3, '0')}`;
  const applied = await t.app.core.submitApplication({
    applicant: {
      name: '压测',
      nationalId: first17 + residentIdCheckChar(first17),
      phone: `1370000${String(i).padStart(4, '0')}`,
    },
    attributes: STRONG_APPLICANT,
  });
  if (!applied.line) continue;
  await t.app.core.applyLineAction(applied.line.id, {
    type: 'LIMIT_INCREASE',
    limitMinor: 1_000_000_000_000,
    reasons: ['R_LIMIT_REVIEW'],
    automated: false,
    actor: 'bench',
  });
  lines.push(applied.line.id);
}
// Many draws a second on one line are velocity by definition; measured here is the approve path (as bench:fleet).
const draw = await t.app.engine.getVersion('draw', 1);
const velocityInputs = new Set(['drawsLast24h', 'minutesSinceLastDraw']);
const lean = {
  ...draw.document,
  inputs: draw.document.inputs.filter((input) => !velocityInputs.has(input.name)),
  nodes: draw.document.nodes.filter((node) => node.id !== 'velocity'),
};
await t.app.engine.activate('draw', (await t.app.engine.saveVersion(lean, 'bench')).version, 'bench');

let refused = 0;
async function drawLoop(count: number, offset: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const answer = await t.server.inject({
      method: 'POST',
      url: `/v1/lines/${lines[(offset + i) % lines.length]}/draws`,
      headers: adminHeaders(randomUUID()),
      payload: DRAW_INPUT,
    });
    if (answer.statusCode >= 300) refused++;
  }
}
const loops = (perLoop: number) => Promise.all(Array.from({ length: LOOPS }, (_, k) => drawLoop(perLoop, k)));

/** Counts the statements every pg client of this process sends while `counting` is on. */
let statements = 0;
let counting = false;
const query = pg.Client.prototype.query;
pg.Client.prototype.query = function countedQuery(this: pg.Client, ...args: unknown[]) {
  if (counting) {
    statements += 1;
    if (byText) countText(byText, args[0]);
  }
  return (query as (...a: unknown[]) => unknown).apply(this, args);
} as typeof query;

/**
 * The same for SQLite: every statement run on this thread while `counting` is on, with the time spent in it (the
 * statement's own prototype, shared by every connection's statements, wrapped once).
 */
let sqliteMicros = 0;
const sqliteMicrosByText = new Map<string, number>();
type StatementMethod = (this: { source: string }, ...args: unknown[]) => unknown;
// Only on SQLite: a PostgreSQL run's count is its pg queries alone.
const statementPrototype = (() => {
  const probe = new Database(':memory:');
  const prototype = Object.getPrototypeOf(probe.prepare('select 1')) as Record<string, StatementMethod>;
  probe.close();
  return prototype;
})();
for (const method of mode === 'sqlite' ? (['run', 'get', 'all', 'iterate'] as const) : []) {
  const original = statementPrototype[method]!;
  statementPrototype[method] = function timedStatement(this: { source: string }, ...args: unknown[]) {
    if (!counting) return original.apply(this, args);
    const began = process.hrtime.bigint();
    try {
      return original.apply(this, args);
    } finally {
      const micros = Number(process.hrtime.bigint() - began) / 1000;
      statements += 1;
      sqliteMicros += micros;
      if (byText) {
        countText(byText, this.source);
        const head = textHead(this.source);
        sqliteMicrosByText.set(head, (sqliteMicrosByText.get(head) ?? 0) + micros);
      }
    }
  };
}

/**
 * Redis commands by name (a script by the name it was defined under): every command of every ioredis
 * client of this process (the rate limits' counts, the draw's feature windows, the monitor's intake) goes through
 * sendCommand, pipelined or not.
 */
const redisCommands = new Map<string, number>();
type SendCommand = (this: Redis, command: { name: string; args?: unknown[] }, ...rest: unknown[]) => unknown;
const redisPrototype = Redis.prototype as unknown as { sendCommand: SendCommand };
const sendCommand = redisPrototype.sendCommand;
redisPrototype.sendCommand = function countedCommand(this: Redis, command, ...rest) {
  if (counting) {
    const name = command.name === 'evalsha' ? scriptName(this, command.args?.[0]) : command.name;
    redisCommands.set(name, (redisCommands.get(name) ?? 0) + 1);
  }
  return sendCommand.call(this, command, ...rest);
};

/** The name a script was defined under (ioredis defineCommand) on this client, by its SHA1. */
function scriptName(client: Redis, sha: unknown): string {
  const scripts = (client as unknown as { scriptsSet?: Record<string, { sha?: string }> }).scriptsSet ?? {};
  const name = Object.entries(scripts).find(([, script]) => script.sha === sha)?.[0];
  return `evalsha ${name ?? String(sha).slice(0, 8)}`;
}

/**
 * Socket writes by the port written to (PostgreSQL, Redis, NATS): on this kind of machine each write is a system call
 * costing tens to hundreds of µs, the largest part of what a fleet draw costs beyond an embedded one. Counted where
 * every stream write of a socket ends up (net.Socket's _writeGeneric: write and writev both).
 */
const socketWrites = new Map<number, number>();
/** Bytes written by port: on loopback the kernel also does the receiving side's work in the writer's system call. */
const socketBytes = new Map<number, number>();
type WriteGeneric = (this: net.Socket, ...args: unknown[]) => unknown;
const socketPrototype = net.Socket.prototype as unknown as { _writeGeneric: WriteGeneric };
const writeGeneric = socketPrototype._writeGeneric;
socketPrototype._writeGeneric = function countedWrite(this: net.Socket, ...args: unknown[]) {
  if (counting) {
    const port = this.remotePort ?? 0;
    socketWrites.set(port, (socketWrites.get(port) ?? 0) + 1);
    socketBytes.set(port, (socketBytes.get(port) ?? 0) + writtenBytes(args));
  }
  return writeGeneric.apply(this, args);
};

/** The bytes of one _writeGeneric call: (false, chunk, encoding) or (true, [{ chunk, encoding }]). */
function writtenBytes(args: readonly unknown[]): number {
  const [isWritev, data, encoding] = args;
  const size = (chunk: unknown, enc: unknown) =>
    typeof chunk === 'string'
      ? Buffer.byteLength(chunk, typeof enc === 'string' ? (enc as BufferEncoding) : 'utf8')
      : chunk instanceof Uint8Array
        ? chunk.byteLength
        : 0;
  if (isWritev === true && Array.isArray(data))
    return data.reduce(
      (sum: number, c: { chunk?: unknown; encoding?: unknown }) => sum + size(c.chunk, c.encoding),
      0,
    );
  return size(data, encoding);
}

/** A statement's text as the per-text tables name it: white space folded, the first 100 characters. */
function textHead(text: string): string {
  return text.replace(/\s+/g, ' ').slice(0, 100);
}

function countText(counts: Map<string, number>, first: unknown): void {
  const text = typeof first === 'string' ? first : ((first as { text?: string } | null)?.text ?? '?');
  const head = textHead(text);
  counts.set(head, (counts.get(head) ?? 0) + 1);
}

/**
 * The Redis server's own CPU (INFO cpu: user + system seconds since it started), read before and after: a fleet's
 * Redis is shared by every process, so what a draw costs there is part of what scales.
 */
async function redisServerCpuSeconds(): Promise<number | undefined> {
  const url = process.env.LINEGUARD_TEST_REDIS_URL;
  if (mode !== 'pg' || !url) return undefined;
  const client = new Redis(url, { lazyConnect: true });
  await client.connect();
  const info = await client.info('cpu');
  client.disconnect();
  const seconds = (name: string) => Number(new RegExp(`${name}:([\\d.]+)`).exec(info)?.[1] ?? NaN);
  return seconds('used_cpu_user') + seconds('used_cpu_sys');
}

await loops(20); // warm up: JIT, pools, caches
const redisBefore = await redisServerCpuSeconds();
const before = process.cpuUsage();
const started = performance.now();
counting = true;
await loops(Math.floor(draws / LOOPS));
counting = false;
const used = process.cpuUsage(before);
const redisAfter = await redisServerCpuSeconds();
const seconds = (performance.now() - started) / 1000;
const measured = Math.floor(draws / LOOPS) * LOOPS;
process.stdout.write(
  `${JSON.stringify({
    mode,
    draws: measured,
    refused,
    cpuMicrosPerDraw: Math.round((used.user + used.system) / measured),
    drawsPerSecond: Math.round(measured / seconds),
    ...(mode === 'pg'
      ? {
          postgresStatementsPerDraw: Number((statements / measured).toFixed(2)),
          socketWritesPerDrawByPort: Object.fromEntries(
            [...socketWrites]
              .sort((a, b) => a[0] - b[0])
              .map(([port, n]) => [port, Number((n / measured).toFixed(2))]),
          ),
          socketBytesPerDrawByPort: Object.fromEntries(
            [...socketBytes].sort((a, b) => a[0] - b[0]).map(([port, n]) => [port, Math.round(n / measured)]),
          ),
          redisServerCpuMicrosPerDraw:
            redisBefore === undefined || redisAfter === undefined
              ? null
              : Math.round(((redisAfter - redisBefore) * 1e6) / measured),
          redisCommandsPerDraw: Object.fromEntries(
            [...redisCommands]
              .sort((a, b) => b[1] - a[1])
              .map(([name, n]) => [name, Number((n / measured).toFixed(2))]),
          ),
        }
      : {
          sqliteStatementsPerDraw: Number((statements / measured).toFixed(2)),
          sqliteMicrosPerDraw: Math.round(sqliteMicros / measured),
        }),
    ...(byText
      ? {
          perDrawByText: Object.fromEntries(
            [...byText]
              .sort((a, b) => b[1] - a[1])
              .map(([text, n]) => [text, Number((n / measured).toFixed(3))]),
          ),
          ...(mode === 'sqlite'
            ? {
                sqliteMicrosPerDrawByText: Object.fromEntries(
                  [...sqliteMicrosByText]
                    .sort((a, b) => b[1] - a[1])
                    .map(([text, micros]) => [text, Number((micros / measured).toFixed(1))]),
                ),
              }
            : {}),
        }
      : {}),
  })}\n`,
);
await t.close();
process.exit(0);
