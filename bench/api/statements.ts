/**
 * The SQL statements one draw runs, over HTTP (app.inject) on the app as the benchmark wires it (setup.ts), one API
 * key, warm-up draws, then `--draws N` draws one at a time, each with its own idempotency key.
 *
 * On PostgreSQL (LINEGUARD_BENCH_DATABASE_URL set) it prints the statements of the last draw and the mean count per
 * draw: each one is a round trip, and the socket writes and reads are a large share of a draw's CPU there.
 *
 * On SQLite (the default) it prints, per statement text, the mean time a draw spends in it and how often it runs, the
 * time in every statement together, and the process CPU per draw. Draws one at a time commit one at a time (no group
 * commit to share), so the commit and its pragmas weigh more here than under load; the reads and inserts do not.
 *
 * node --import tsx bench/api/statements.ts [--draws 1000 --top 25]
 * LINEGUARD_BENCH_DATABASE_URL=postgres://… node --import tsx bench/api/statements.ts [--draws 20]
 */
import { randomUUID } from 'node:crypto';
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import { createApiKey } from '../../src/api/api-keys.js';
import { createHttpServer } from '../../src/app/app.js';
import { DRAW_INPUT } from './payload.js';
import { prepareDrawBench } from './setup.js';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const value = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  return Number.isFinite(value) && value > 0 ? value : fallback;
}

const onPostgres = Boolean(process.env.LINEGUARD_BENCH_DATABASE_URL);
const oneLine = (text: string) => text.replace(/\s+/g, ' ');

/** Statements sent since the last reset (PostgreSQL), in order. */
let sent: string[] = [];
/** Time in each statement text, while measuring (SQLite). */
const timed = new Map<string, { calls: number; nanos: bigint }>();
let measuring = false;

function recordPostgresStatements(): void {
  const query = pg.Client.prototype.query;
  pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
    const first = args[0] as string | { text?: string };
    sent.push(typeof first === 'string' ? first : (first?.text ?? '?'));
    return (query as (...a: unknown[]) => unknown).apply(this, args);
  } as typeof pg.Client.prototype.query;
}

/** Wraps every statement the process prepares so its run/get/all are timed per text while `measuring`. */
function timeSqliteStatements(): void {
  const prototype = BetterSqlite3.prototype as unknown as { prepare(text: string): object };
  const prepare = prototype.prepare;
  prototype.prepare = function (this: unknown, text: string) {
    const statement = prepare.call(this, text) as Record<string, (...params: unknown[]) => unknown>;
    for (const method of ['run', 'get', 'all'] as const) {
      const original = statement[method]!.bind(statement);
      // Multi-row inserts of different row counts share their first 160 characters, and one line here.
      const label = `${method} ${oneLine(text).slice(0, 160)}`;
      statement[method] = (...params: unknown[]) => {
        if (!measuring) return original(...params);
        const start = process.hrtime.bigint();
        try {
          return original(...params);
        } finally {
          const entry = timed.get(label) ?? { calls: 0, nanos: 0n };
          entry.calls += 1;
          entry.nanos += process.hrtime.bigint() - start;
          timed.set(label, entry);
        }
      };
    }
    return statement;
  };
}

if (onPostgres) recordPostgresStatements();
else timeSqliteStatements();

const { services, lineId } = await prepareDrawBench();
const key = (await createApiKey(services.store.db, services, 'service', 'bench')).key;
const app = await createHttpServer(services);
const draw = async () => {
  const response = await app.inject({
    method: 'POST',
    url: `/v1/lines/${lineId}/draws`,
    headers: { authorization: `Bearer ${key}`, 'idempotency-key': randomUUID() },
    payload: DRAW_INPUT,
  });
  if (response.statusCode >= 300) throw new Error(`draw: ${response.statusCode} ${response.body}`);
};
const draws = arg('draws', onPostgres ? 20 : 1000);
for (let i = 0; i < (onPostgres ? 5 : 200); i++) await draw();
await new Promise((resolve) => setTimeout(resolve, 500));

let total = 0;
measuring = true;
const cpuBefore = process.cpuUsage();
for (let i = 0; i < draws; i++) {
  sent = [];
  await draw();
  total += sent.length;
}
const cpu = process.cpuUsage(cpuBefore);
measuring = false;
const last = sent;
await app.close();
await services.close();

if (onPostgres) {
  console.log(
    last.map((text, i) => `${String(i + 1).padStart(3)} ${oneLine(text).slice(0, 220)}`).join('\n'),
  );
  console.log(`statements per draw: ${(total / draws).toFixed(1)} (last draw: ${last.length})`);
} else {
  const micros = (nanos: bigint) => Number(nanos) / 1e3 / draws;
  let nanos = 0n;
  let calls = 0;
  const slowestFirst = [...timed].sort((a, b) => Number(b[1].nanos - a[1].nanos));
  for (const [, entry] of slowestFirst) {
    nanos += entry.nanos;
    calls += entry.calls;
  }
  for (const [label, entry] of slowestFirst.slice(0, arg('top', 25))) {
    const perDraw = (entry.calls / draws).toFixed(2);
    console.log(`${micros(entry.nanos).toFixed(1).padStart(7)} µs ${perDraw.padStart(6)}x  ${label}`);
  }
  console.log(
    `per draw: ${micros(nanos).toFixed(0)} µs in ${(calls / draws).toFixed(1)} statements; ` +
      `process CPU ${((cpu.user + cpu.system) / draws).toFixed(0)} µs`,
  );
}
