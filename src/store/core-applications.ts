import type { Insertable, Kysely, Selectable } from 'kysely';
import type { OutboxEvent } from '../core/index.js';
import type { CoreTables } from './core-tables.js';
import { outboxRow } from './core-draws.js';
import type { Database } from './schema.js';
import { insertRows } from './shaped.js';
import type { StoreKind } from './store-types.js';

/** Applications as the core writes and reviews them (core/applications.ts, core/reviews.ts), and its outbox rows. */
type Q = Kysely<Database>;
type ApplicationRow = Selectable<CoreTables['applications']>;

export async function insertApplication(db: Q, row: Insertable<CoreTables['applications']>): Promise<void> {
  await db.insertInto('applications').values(row).execute();
}

/** The application, locked until the transaction ends on PostgreSQL (SQLite has one writer already). */
export function lockApplication(db: Q, kind: StoreKind, id: string): Promise<ApplicationRow | undefined> {
  const query = db.selectFrom('applications').selectAll().where('id', '=', id);
  return (kind === 'postgres' ? query.forUpdate() : query).executeTakeFirst();
}

/** Decides an application still in REVIEW; false when it was decided meanwhile. */
export async function settleApplication(
  db: Q,
  settlement: {
    readonly id: string;
    readonly outcome: string;
    readonly reasons: readonly string[];
    readonly lineId: string | null;
    readonly limitMinor: number | null;
    readonly annualRate: number | null;
  },
): Promise<boolean> {
  const updated = await db
    .updateTable('applications')
    .set({
      outcome: settlement.outcome,
      reasons: JSON.stringify(settlement.reasons),
      line_id: settlement.lineId,
      limit_minor: settlement.limitMinor,
      annual_rate: settlement.annualRate,
    })
    .where('id', '=', settlement.id)
    .where('outcome', '=', 'REVIEW')
    .executeTakeFirst();
  return Number(updated.numUpdatedRows) === 1;
}

/** Events that leave through the outbox once the caller's transaction commits. */
export async function insertOutbox(db: Q, events: readonly OutboxEvent[]): Promise<void> {
  await insertRows(db, 'outbox', events.map(outboxRow));
}
