/**
 * The storage floor of a draw: the very rows one LineGuard draw writes (its decision, draw, loan, instalments, ledger
 * entries, outbox row and monitor event, copied with fresh keys) plus the debit UPDATE, inserted with prepared
 * statements and nothing else: no decision, pricing, hashing, JSON, idempotency or monitor logic at all.
 *
 * It commits as LineGuard's embedded store does: writes arriving in one turn of the event loop share a transaction,
 * the transaction commits with synchronous=NORMAL, and its writers are answered only after an fdatasync of the WAL on
 * the thread pool (src/store/wal-sync.ts); a checkpointer thread copies the WAL back (src/store/checkpointer.ts). So
 * the floor has the same durability as a draw, and what separates the two is LineGuard's own work.
 */
import BetterSqlite3 from 'better-sqlite3';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { AppServices } from '../../src/app/app.js';
import { startCheckpointer, type Checkpointer } from '../../src/store/checkpointer.js';
import { createWalSyncer } from '../../src/store/wal-sync.js';
import { DRAW_INPUT } from './payload.js';

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
    [
      'monitor_events',
      db
        .prepare(`select * from monitor_events where loan_id = ? and type = 'disbursement'`)
        .all(loanId) as Row[],
    ],
  ]);
}

/**
 * Makes one draw on `lineId` and waits until the monitor has stored its disbursement event, then opens the floor on a
 * copy of the app's database with that draw's rows as the template.
 */
export async function openDrawFloorAfterOneDraw(
  services: AppServices,
  lineId: string,
  dataDir: string,
): Promise<DrawFloor> {
  const drawn = await services.core.requestDraw(lineId, DRAW_INPUT);
  const loanId = drawn.loan?.id;
  if (!loanId) throw new Error(`the floor's template draw was not approved (${drawn.status})`);
  for (let waited = 0; waited < 10_000; waited += 50) {
    const stored = await services.store.db
      .selectFrom('monitor_events')
      .select('event_id')
      .where('loan_id', '=', loanId)
      .where('type', '=', 'disbursement')
      .executeTakeFirst();
    if (stored)
      return openDrawFloor(join(dataDir, 'lineguard.db'), join(dataDir, 'floor.db'), lineId, loanId);
    await sleep(50);
  }
  throw new Error('the monitor stored no disbursement event for the template draw within 10 s');
}

/**
 * Copies the database at `sourcePath` (a consistent snapshot, WAL included, even while LineGuard has it open) to
 * `floorPath` and opens the floor there, on the line `lineId`, copying the rows of the draw that made `loanId`.
 */
async function openDrawFloor(
  sourcePath: string,
  floorPath: string,
  lineId: string,
  loanId: string,
): Promise<DrawFloor> {
  const source = new BetterSqlite3(sourcePath, { readonly: true });
  await source.backup(floorPath);
  source.close();

  const db = new BetterSqlite3(floorPath);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('temp_store = MEMORY');
  const checkpointer: Checkpointer = startCheckpointer(floorPath, {
    intervalMs: 100,
    onError: (message) => process.emitWarning(`floor checkpoint failed: ${message}`),
  });
  db.pragma('wal_autocheckpoint = 16000');
  const walSyncer = createWalSyncer(`${floorPath}-wal`);

  const template = rowsOfDraw(db, loanId);
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

  let waiting: Array<{ resolve: () => void; reject: (error: unknown) => void }> = [];
  const commitWaiting = (): void => {
    const batch = waiting;
    waiting = [];
    try {
      db.transaction(() => {
        for (let i = 0; i < batch.length; i++) oneDraw();
      })();
    } catch (error) {
      for (const w of batch) w.reject(error);
      return;
    }
    walSyncer.sync().then(
      () => batch.forEach((w) => w.resolve()),
      (error: unknown) => batch.forEach((w) => w.reject(error)),
    );
  };
  return {
    write: () =>
      new Promise<void>((resolve, reject) => {
        if (waiting.length === 0) setImmediate(commitWaiting);
        waiting.push({ resolve, reject });
      }),
    close: async () => {
      await checkpointer.close();
      db.close();
    },
  };
}
