/**
 * The storage floor of a draw: the very rows one LineGuard draw writes (its decision, draw, loan, instalments, ledger
 * entries, outbox row, monitor event and stored idempotent response, copied with fresh keys) plus the debit UPDATE,
 * and per transaction the ledger head's UPDATE, written with prepared statements and nothing else: no decision,
 * pricing, hashing, JSON, idempotency or monitor logic at all.
 *
 * It commits as LineGuard's embedded store does: writes arriving in one turn of the event loop share a transaction,
 * the transaction commits with synchronous=NORMAL, and its writers are answered only after an fdatasync of the WAL on
 * the thread pool (src/store/wal-sync.ts); a checkpointer thread copies the WAL back (src/store/checkpointer.ts). So
 * the floor has the same durability as a draw, and what separates the two is LineGuard's own work.
 *
 * A second variant moves the writes to a writer thread that owns the connection (the event loop only builds the rows
 * and posts them): what that design would raise the ceiling to on the machine at hand.
 */
import BetterSqlite3 from 'better-sqlite3';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { setTimeout as sleep } from 'node:timers/promises';
import type { AppServices } from '../../src/app/app.js';
import { startCheckpointer, type Checkpointer } from '../../src/store/checkpointer.js';
import { createWalSyncer } from '../../src/store/wal-sync.js';

type Row = Record<string, unknown>;

export interface DrawFloor {
  /** Writes one draw's rows; resolves once they are committed and durable. */
  write(): Promise<void>;
  close(): Promise<void>;
}

/** The rows the draw that made `loanId` wrote, by table. */
function rowsOfDraw(db: BetterSqlite3.Database, loanId: string): Map<string, Row[]> {
  const draw = db.prepare('select * from draws where loan_id = ?').get(loanId) as Row;
  const outbox = db.prepare(`select * from outbox where payload like ? limit 1`).get(`%${loanId}%`) as Row;
  const rows = new Map<string, Row[]>([
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
    [
      'monitor_events',
      db
        .prepare(`select * from monitor_events where loan_id = ? and type = 'disbursement'`)
        .all(loanId) as Row[],
    ],
  ]);
  // A draw made over HTTP stored its answer in its transaction, so that a retry gets it (bench:core draws without one).
  const answer = db
    .prepare(`select * from idempotency_keys where response_body like ? limit 1`)
    .all(`%${loanId}%`) as Row[];
  if (answer.length > 0) rows.set('idempotency_keys', answer);
  return rows;
}

/**
 * Makes one draw on `lineId` with `drawOnce` (which answers the loan's id) the way the benchmark makes its draws — over
 * HTTP its stored idempotent answer is among its rows — and waits until the monitor has stored its
 * disbursement event, then opens the floor on a copy of the app's database with that draw's rows as the template.
 */
export async function openDrawFloorAfterOneDraw(
  services: AppServices,
  drawOnce: () => Promise<string>,
  lineId: string,
  dataDir: string,
  writer: FloorWriter = 'event-loop',
): Promise<DrawFloor> {
  const loanId = await drawOnce();
  for (let waited = 0; waited < 10_000; waited += 50) {
    const stored = await services.store.db
      .selectFrom('monitor_events')
      .select('event_id')
      .where('loan_id', '=', loanId)
      .where('type', '=', 'disbursement')
      .executeTakeFirst();
    if (stored) {
      const floorPath = join(dataDir, `floor-${writer}.db`);
      return openDrawFloor(join(dataDir, 'lineguard.db'), floorPath, lineId, loanId, writer);
    }
    await sleep(50);
  }
  throw new Error('the monitor stored no disbursement event for the template draw within 10 s');
}

export type FloorWriter = 'event-loop' | 'thread';

/**
 * Copies the database at `sourcePath` (a consistent snapshot, WAL included, even while LineGuard has it open) to
 * `floorPath` and opens the floor there, on the line `lineId`, copying the rows of the draw that made `loanId`.
 */
async function openDrawFloor(
  sourcePath: string,
  floorPath: string,
  lineId: string,
  loanId: string,
  writer: FloorWriter,
): Promise<DrawFloor> {
  const source = new BetterSqlite3(sourcePath, { readonly: true });
  await source.backup(floorPath);
  source.close();
  const draft = draftDraws(floorPath, lineId, loanId);
  const checkpointer: Checkpointer = startCheckpointer(floorPath, {
    intervalMs: 100,
    onError: (message) => process.emitWarning(`floor checkpoint failed: ${message}`),
  });
  const committer = writer === 'thread' ? threadWriter(floorPath, draft) : eventLoopWriter(floorPath, draft);
  // Writes arriving in one turn of the event loop share a transaction.
  let waiting: Waiter[] = [];
  const commitWaiting = (): void => {
    const batch = waiting;
    waiting = [];
    committer.commit(batch);
  };
  return {
    write: () =>
      new Promise<void>((resolve, reject) => {
        if (waiting.length === 0) setImmediate(commitWaiting);
        waiting.push({ resolve, reject });
      }),
    close: async () => {
      await committer.close();
      await checkpointer.close();
    },
  };
}

interface Waiter {
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

/** The statements' shapes, and a maker of one draw's parameters: the template's rows with fresh keys. */
interface DrawDraft {
  readonly tables: readonly { readonly table: string; readonly columns: readonly string[] }[];
  /** One draw: the debit's parameters, then each table's rows as parameter arrays, in `tables` order. */
  next(): { debit: unknown[]; rows: unknown[][][] };
  /** The ledger head's parameters after the draws made so far. */
  head(): unknown[];
}

const DEBIT_SQL =
  'update credit_lines set available_minor = available_minor - ?, outstanding_minor = outstanding_minor + ?, updated_at = ? where id = ? and available_minor >= ?';
/** The embedded store's one chain head, moved once per transaction whatever the number of entries. */
const LEDGER_HEAD_SQL = 'update ledger_head set seq = ?, hash = ? where id = 1';

function insertSql(table: string, columns: readonly string[]): string {
  return `insert into "${table}" (${columns.map((c) => `"${c}"`).join(',')}) values (${columns.map(() => '?').join(',')})`;
}

function draftDraws(floorPath: string, lineId: string, loanId: string): DrawDraft {
  const db = new BetterSqlite3(floorPath, { readonly: true });
  const template = rowsOfDraw(db, loanId);
  let seq = (db.prepare('select max(seq) as s from ledger_entries').get() as { s: number }).s;
  db.close();
  for (const [table, rows] of template)
    if (rows.length === 0) throw new Error(`no ${table} row for the template draw`);
  const tables = [...template].map(([table, rows]) => ({
    table,
    rows,
    columns: Object.keys(rows[0] ?? {}),
  }));
  const headHash = (template.get('ledger_entries')?.at(-1)?.hash as string | undefined) ?? '';
  let serial = 0;
  // Same length and order as the UUIDv7 keys they replace.
  const freshKey = () => `ffffffff-ffff-7fff-8fff-${(serial++).toString(16).padStart(12, '0')}`;
  return {
    tables: tables.map(({ table, columns }) => ({ table, columns })),
    head: () => [seq, headHash],
    next: () => ({
      debit: [100, 100, Date.now(), lineId, 100],
      rows: tables.map(({ table, rows, columns }) => {
        const key = freshKey();
        return rows.map((row) => {
          const copy: Row = { ...row };
          if ('id' in copy) copy.id = key;
          if (table === 'loan_installments') copy.loan_id = key;
          if (table === 'monitor_events') copy.event_id = key;
          if (table === 'idempotency_keys') copy.idem_key = key;
          if (table === 'ledger_entries') {
            copy.seq = ++seq;
            copy.entry_id = freshKey();
          }
          return columns.map((c) => copy[c]);
        });
      }),
    }),
  };
}

interface FloorCommitter {
  commit(batch: readonly Waiter[]): void;
  close(): Promise<void>;
}

/**
 * On the event loop, as LineGuard's embedded store writes: commit with synchronous=NORMAL, answer after an fdatasync
 * of the WAL on the thread pool.
 */
function eventLoopWriter(floorPath: string, draft: DrawDraft): FloorCommitter {
  const db = new BetterSqlite3(floorPath);
  db.pragma('synchronous = NORMAL');
  db.pragma('temp_store = MEMORY');
  db.pragma('wal_autocheckpoint = 16000');
  const walSyncer = createWalSyncer(`${floorPath}-wal`);
  const debit = db.prepare(DEBIT_SQL);
  const inserts = draft.tables.map(({ table, columns }) => db.prepare(insertSql(table, columns)));
  const head = db.prepare(LEDGER_HEAD_SQL);
  const writeBatch = db.transaction((count: number) => {
    for (let i = 0; i < count; i++) {
      const draw = draft.next();
      debit.run(draw.debit);
      draw.rows.forEach((rows, t) => {
        for (const params of rows) inserts[t]?.run(params);
      });
    }
    head.run(draft.head());
  });
  return {
    commit(batch) {
      try {
        writeBatch(batch.length);
      } catch (error) {
        for (const w of batch) w.reject(error);
        return;
      }
      walSyncer.sync().then(
        () => batch.forEach((w) => w.resolve()),
        (error: unknown) => batch.forEach((w) => w.reject(error)),
      );
    },
    close: async () => {
      db.close();
    },
  };
}

/**
 * A writer thread that owns the only write connection (synchronous=FULL: its fsync blocks that thread, not the event
 * loop). The event loop builds each draw's rows and posts them as data; the thread writes every batch it has been
 * sent in one transaction and answers. This is the design a LineGuard writer thread would have, with no logic.
 */
const WRITER_THREAD_SOURCE = `
const { workerData, parentPort, receiveMessageOnPort } = require('node:worker_threads');
const Database = require(workerData.sqliteModule);
const db = new Database(workerData.path);
db.pragma('synchronous = FULL');
db.pragma('temp_store = MEMORY');
db.pragma('wal_autocheckpoint = 16000');
const debit = db.prepare(workerData.debitSql);
const inserts = workerData.insertSqls.map((text) => db.prepare(text));
const head = db.prepare(workerData.headSql);
const write = db.transaction((messages) => {
  for (const m of messages) for (const draw of m.draws) {
    debit.run(draw.debit);
    draw.rows.forEach((rows, t) => { for (const params of rows) inserts[t].run(params); });
  }
  head.run(messages[messages.length - 1].head);
});
parentPort.on('message', (first) => {
  if (first === 'stop') { db.close(); parentPort.postMessage('stopped'); return; }
  const messages = [first];
  for (let next = receiveMessageOnPort(parentPort); next; next = receiveMessageOnPort(parentPort)) {
    messages.push(next.message);
  }
  try {
    write(messages);
    for (const m of messages) parentPort.postMessage({ id: m.id });
  } catch (error) {
    for (const m of messages) parentPort.postMessage({ id: m.id, error: String(error) });
  }
});
`;

function threadWriter(floorPath: string, draft: DrawDraft): FloorCommitter {
  const worker = new Worker(WRITER_THREAD_SOURCE, {
    eval: true,
    workerData: {
      path: floorPath,
      sqliteModule: createRequire(import.meta.url).resolve('better-sqlite3'),
      debitSql: DEBIT_SQL,
      headSql: LEDGER_HEAD_SQL,
      insertSqls: draft.tables.map(({ table, columns }) => insertSql(table, columns)),
    },
  });
  const pending = new Map<number, readonly Waiter[]>();
  let nextId = 0;
  worker.on('message', (message: { id: number; error?: string } | 'stopped') => {
    if (message === 'stopped') return;
    const batch = pending.get(message.id) ?? [];
    pending.delete(message.id);
    for (const w of batch) {
      if (message.error) w.reject(new Error(message.error));
      else w.resolve();
    }
  });
  return {
    commit(batch) {
      const id = nextId++;
      pending.set(id, batch);
      const draws = batch.map(() => draft.next());
      worker.postMessage({ id, draws, head: draft.head() });
    },
    close: async () => {
      const stopped = new Promise((resolve) => worker.once('message', resolve));
      worker.postMessage('stop');
      await stopped;
      await worker.terminate();
    },
  };
}
