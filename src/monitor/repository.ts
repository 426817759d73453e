import { canonicalJson } from '../domain/canonical-json.js';
import type { Db, DbTx } from '../store/db.js';
import type { AttributeValue, EventType, MonitorEvent } from './events.js';
import type { MonitorTables } from '../store/monitor-tables.js';

/** Rows per INSERT: 19 columns × 200 stays far below SQLite's and PostgreSQL's bound-parameter limits. */
const INSERT_CHUNK_ROWS = 200;

export type EventRow = MonitorTables['monitor_events'];
export type AlertRow = MonitorTables['monitor_alerts'];
export type ActionRow = MonitorTables['monitor_actions'];

export function eventToRow(e: MonitorEvent, receivedAt: number, hash: string, result: unknown): EventRow {
  return {
    event_id: e.eventId,
    type: e.type,
    occurred_at: e.occurredAt,
    received_at: receivedAt,
    user_id: e.userId,
    line_id: e.lineId ?? null,
    loan_id: e.loanId ?? null,
    device_id: e.deviceId ?? null,
    ip: e.ip ?? null,
    amount_minor: e.amountMinor ?? null,
    currency: e.currency ?? null,
    payee_id: e.payeeId ?? null,
    payee_created_at: e.payeeCreatedAt ?? null,
    merchant_id: e.merchantId ?? null,
    merchant_category: e.merchantCategory ?? null,
    channel: e.channel ?? null,
    attributes: e.attributes === undefined ? null : canonicalJson(e.attributes),
    content_hash: hash,
    // Our own object, built in a fixed key order: plain JSON is already stable here.
    result: JSON.stringify(result),
  };
}

export function rowToEvent(r: EventRow): MonitorEvent {
  const e: Record<string, unknown> = { eventId: r.event_id, type: r.type as EventType, occurredAt: Number(r.occurred_at), userId: r.user_id };
  const set = (k: string, v: unknown) => {
    if (v !== null && v !== undefined) e[k] = v;
  };
  set('lineId', r.line_id);
  set('loanId', r.loan_id);
  set('deviceId', r.device_id);
  set('ip', r.ip);
  set('amountMinor', r.amount_minor === null ? null : Number(r.amount_minor));
  set('currency', r.currency);
  set('payeeId', r.payee_id);
  set('payeeCreatedAt', r.payee_created_at === null ? null : Number(r.payee_created_at));
  set('merchantId', r.merchant_id);
  set('merchantCategory', r.merchant_category);
  set('channel', r.channel);
  set('attributes', r.attributes === null ? null : (JSON.parse(r.attributes) as Record<string, AttributeValue>));
  return e as unknown as MonitorEvent;
}

export async function inChunks<T>(rows: readonly T[], write: (chunk: T[]) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < rows.length; i += INSERT_CHUNK_ROWS) await write(rows.slice(i, i + INSERT_CHUNK_ROWS));
}

export async function insertRows(tx: DbTx, rows: { events: EventRow[]; alerts: AlertRow[]; actions: ActionRow[] }): Promise<void> {
  await inChunks(rows.events, (chunk) => tx.insertInto('monitor_events').values(chunk).execute());
  await inChunks(rows.alerts, (chunk) => tx.insertInto('monitor_alerts').values(chunk).execute());
  await inChunks(rows.actions, (chunk) => tx.insertInto('monitor_actions').values(chunk).execute());
}

/** Streams all stored events in (occurred_at, event_id) order, a page at a time (start-up rebuild). */
export async function* allEvents(db: Db, pageSize = 5_000): AsyncGenerator<{ event: MonitorEvent; receivedAt: number; hash: string }[]> {
  let after: { t: number; id: string } | undefined;
  for (;;) {
    let q = db.selectFrom('monitor_events').selectAll();
    if (after) {
      const a = after;
      q = q.where((eb) => eb.or([eb('occurred_at', '>', a.t), eb.and([eb('occurred_at', '=', a.t), eb('event_id', '>', a.id)])]));
    }
    const rows = await q.orderBy('occurred_at').orderBy('event_id').limit(pageSize).execute();
    if (rows.length === 0) return;
    yield rows.map((r) => ({ event: rowToEvent(r), receivedAt: Number(r.received_at), hash: r.content_hash }));
    const last = rows[rows.length - 1] as EventRow;
    after = { t: Number(last.occurred_at), id: last.event_id };
    if (rows.length < pageSize) return;
  }
}
