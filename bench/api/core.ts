/**
 * The draw path without HTTP, beside its storage floor, in one run.
 *
 * 1. LineGuard: services.core.requestDraw on the benchmark's line (setup.ts: the app as `lineguard serve` wires it),
 *    32 at a time so that they share group commits as concurrent requests do.
 * 2. The floor: the very rows those draws wrote (the last draw's decision, draw, loan, instalments, ledger entries,
 *    outbox row and monitor event, copied with fresh keys) inserted with prepared statements, one debit UPDATE per
 *    draw, in transactions of 32, into a copy of the same database with the same durability (WAL, synchronous=FULL):
 *    what a draw costs with no decision, pricing, hashing, JSON, idempotency or monitor logic at all.
 *
 * Prints JSON: both rates, CPU µs per draw, and the ratio. npm run bench:core -- [--draws 6000]
 */
import BetterSqlite3 from 'better-sqlite3';
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { DRAW_INPUT } from './payload.js';
import { prepareDrawBench } from './setup.js';

const CONCURRENCY = 32;

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const value = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  return Number.isFinite(value) && value > 0 ? value : fallback;
}

interface Rate {
  readonly drawsPerSecond: number;
  readonly cpuMicrosPerDraw: number;
}

async function measure(draws: number, round: () => Promise<void>): Promise<Rate> {
  const rounds = Math.ceil(draws / CONCURRENCY);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < rounds; i++) await round();
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const done = rounds * CONCURRENCY;
  return {
    drawsPerSecond: Math.round(done / seconds),
    cpuMicrosPerDraw: Math.round((cpu.user + cpu.system) / done),
  };
}

type Row = Record<string, unknown>;

/** The rows one draw wrote, by table: the newest draw whose disbursement event the monitor has already stored. */
function rowsOfLastDraw(db: BetterSqlite3.Database): Map<string, Row[]> {
  const event = db
    .prepare(
      `select loan_id from monitor_events where type = 'disbursement' order by received_at desc limit 1`,
    )
    .get() as Row;
  const loanId = event.loan_id as string;
  const draw = db.prepare('select * from draws where loan_id = ?').get(loanId) as Row;
  const outbox = db.prepare(`select * from outbox where payload like ? limit 1`).get(`%${loanId}%`) as Row;
  return new Map<string, Row[]>([
    ['decisions', db.prepare('select * from decisions where id = ?').all(draw.decision_id) as Row[]],
    ['draws', [draw]],
    ['loans', db.prepare('select * from loans where id = ?').all(loanId) as Row[]],
    [
      'loan_installments',
      db.prepare('select * from loan_installments where loan_id = ?').all(loanId) as Row[],
    ],
    [
      'ledger_entries',
      db
        .prepare('select * from ledger_entries where entry_id in (?, ?, ?) order by seq')
        .all(draw.decision_id, draw.id, loanId) as Row[],
    ],
    ['outbox', [outbox]],
    ['monitor_events', db.prepare('select * from monitor_events where loan_id = ?').all(loanId) as Row[]],
  ]);
}

/** The storage floor: the same rows with fresh keys, written as plainly as better-sqlite3 allows. */
function rawFloor(path: string, lineId: string): { round: () => Promise<void> } {
  const db = new BetterSqlite3(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  const template = rowsOfLastDraw(db);
  for (const [table, rows] of template)
    if (rows.length === 0) throw new Error(`no ${table} row for the template draw`);
  const inserts = [...template].map(([table, rows]) => {
    const columns = Object.keys(rows[0] ?? {});
    const statement = db.prepare(
      `insert into "${table}" (${columns.map((c) => `"${c}"`).join(',')}) values (${columns.map(() => '?').join(',')})`,
    );
    return { table, rows, columns, statement };
  });
  const debit = db.prepare(
    'update credit_lines set available_minor = available_minor - ?, outstanding_minor = outstanding_minor + ?, updated_at = ? where id = ? and available_minor >= ?',
  );
  let seq = (db.prepare('select max(seq) as s from ledger_entries').get() as { s: number }).s;
  let serial = 0;
  // Same length and order as the UUIDv7 keys they replace.
  const freshKey = () => `ffffffff-ffff-7fff-8fff-${(serial++).toString(16).padStart(12, '0')}`;
  const oneDraw = () => {
    debit.run(100, 100, Date.now(), lineId, 100);
    for (const { table, rows, columns, statement } of inserts) {
      const key = freshKey();
      for (const row of rows) {
        const copy: Row = { ...row };
        if ('id' in copy) copy.id = key;
        if (table === 'loan_installments') copy.loan_id = key;
        if (table === 'monitor_events') copy.event_id = key;
        if (table === 'ledger_entries') {
          copy.seq = ++seq;
          copy.entry_id = freshKey();
        }
        statement.run(columns.map((c) => copy[c]));
      }
    }
  };
  const batch = db.transaction(() => {
    for (let i = 0; i < CONCURRENCY; i++) oneDraw();
  });
  return { round: () => Promise.resolve(batch()) };
}

const draws = arg('draws', 6_000);
if (process.env.LINEGUARD_BENCH_DATABASE_URL) {
  throw new Error('bench:core compares against raw SQLite: unset LINEGUARD_BENCH_DATABASE_URL');
}
const { services, lineId, dataDir } = await prepareDrawBench();
const drawOnce = () => services.core.requestDraw(lineId, DRAW_INPUT);
const round = async () => {
  await Promise.all(Array.from({ length: CONCURRENCY }, drawOnce));
};
// Warm the JIT and the caches of both paths before measuring.
await measure(CONCURRENCY * 20, round);
const lineguard = await measure(draws, round);
await services.close();

const copy = join(dataDir, 'floor.db');
copyFileSync(join(dataDir, 'lineguard.db'), copy);
const floor = rawFloor(copy, lineId);
await measure(CONCURRENCY * 20, floor.round);
const raw = await measure(draws, floor.round);

process.stdout.write(
  `${JSON.stringify(
    {
      benchmark: 'draws in-process (no HTTP) vs the same rows written raw',
      concurrency: CONCURRENCY,
      draws,
      lineguard,
      rawRowsFloor: raw,
      ratio: Number((lineguard.drawsPerSecond / raw.drawsPerSecond).toFixed(3)),
    },
    null,
    2,
  )}\n`,
);
