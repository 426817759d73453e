import { CompiledQuery } from 'kysely';
import { canonicalJson } from '../domain/canonical-json.js';
import type { Db, DbTx, Store, StoreKind } from '../store/db.js';
import type { SyncSql } from '../store/sync.js';
import type { AttributeValue, EventType, MonitorEvent } from './events.js';
import type { MonitorTables } from '../store/monitor-tables.js';

/** Rows per INSERT: 19 columns × 200 stays far below SQLite's and PostgreSQL's bound-parameter limits. */
const INSERT_CHUNK_ROWS = 200;

export type EventRow = MonitorTables['monitor_events'];
export type AlertRow = MonitorTables['monitor_alerts'];
export type ActionRow = MonitorTables['monitor_actions'];

/** The result of an event that fired nothing (most events): one shared, frozen object and its JSON, built once. */
export const NO_FINDINGS = Object.freeze({
  typologies: Object.freeze([]),
  alerts: Object.freeze([]),
  actions: Object.freeze([]),
});
const NO_FINDINGS_JSON = JSON.stringify(NO_FINDINGS);

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
    result: result === NO_FINDINGS ? NO_FINDINGS_JSON : JSON.stringify(result),
  };
}

export function rowToEvent(r: EventRow): MonitorEvent {
  const e: Record<string, unknown> = {
    eventId: r.event_id,
    type: r.type as EventType,
    occurredAt: Number(r.occurred_at),
    userId: r.user_id,
  };
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
  set(
    'attributes',
    r.attributes === null ? null : (JSON.parse(r.attributes) as Record<string, AttributeValue>),
  );
  return e as unknown as MonitorEvent;
}

export async function inChunks<T>(
  rows: readonly T[],
  write: (chunk: T[]) => Promise<unknown>,
): Promise<void> {
  for (let i = 0; i < rows.length; i += INSERT_CHUNK_ROWS) await write(rows.slice(i, i + INSERT_CHUNK_ROWS));
}

/** Column order of the precompiled event INSERT (the same order eventToRow builds). */
const EVENT_COLUMNS = [
  'event_id',
  'type',
  'occurred_at',
  'received_at',
  'user_id',
  'line_id',
  'loan_id',
  'device_id',
  'ip',
  'amount_minor',
  'currency',
  'payee_id',
  'payee_created_at',
  'merchant_id',
  'merchant_category',
  'channel',
  'attributes',
  'content_hash',
  'result',
] as const satisfies readonly (keyof EventRow)[];

/**
 * Rows per event INSERT: 19 columns × 500 = 9,500 bound parameters, under SQLite's limit (32,766 since 3.32; the
 * bundled better-sqlite3 build) and PostgreSQL's (65,535).
 */
const EVENT_CHUNK_ROWS = 500;

const eventInsertSql = new Map<string, string>();

/**
 * The multi-row event INSERT for `rows` rows, built once per (dialect, size) and reused: the SQL text is identical for
 * every full chunk, so the store's statement cache prepares it once, and no query builder runs on the hot path.
 */
function eventInsert(kind: StoreKind, rows: number): string {
  const key = `${kind}:${rows}`;
  let text = eventInsertSql.get(key);
  if (text === undefined) {
    const tuples: string[] = [];
    let n = 0;
    for (let r = 0; r < rows; r++) {
      const marks = EVENT_COLUMNS.map(() => (kind === 'postgres' ? `$${++n}` : '?'));
      tuples.push(`(${marks.join(', ')})`);
    }
    text = `insert into "monitor_events" (${EVENT_COLUMNS.map((c) => `"${c}"`).join(', ')}) values ${tuples.join(', ')}`;
    if (eventInsertSql.size > 64) eventInsertSql.clear();
    eventInsertSql.set(key, text);
  }
  return text;
}

/**
 * PostgreSQL has several writers: the same eventId may reach two processes at once. The insert ignores an id already
 * stored (or being stored: PostgreSQL waits for the other transaction, then skips the row if it committed) and
 * returns the ids this transaction stored, so the loser keeps none of its own findings and answers with the winner's.
 */
const ON_CONFLICT_IGNORE = ' on conflict ("event_id") do nothing returning "event_id"';

async function insertEvents(tx: DbTx, kind: StoreKind, rows: readonly EventRow[]): Promise<Set<string>> {
  const stored = new Set<string>();
  for (let i = 0; i < rows.length; i += EVENT_CHUNK_ROWS) {
    const end = Math.min(rows.length, i + EVENT_CHUNK_ROWS);
    const text = eventInsert(kind, end - i) + (kind === 'postgres' ? ON_CONFLICT_IGNORE : '');
    const result = await tx.executeQuery<{ event_id: string }>(
      CompiledQuery.raw(text, eventParams(rows, i, end)),
    );
    if (kind === 'postgres') for (const row of result.rows) stored.add(row.event_id);
    else for (let r = i; r < end; r++) stored.add((rows[r] as EventRow).event_id);
  }
  return stored;
}

/** The flat parameter list of rows[from, to) in EVENT_COLUMNS order. */
function eventParams(rows: readonly EventRow[], from: number, to: number): unknown[] {
  const params: unknown[] = new Array((to - from) * EVENT_COLUMNS.length);
  let p = 0;
  for (let r = from; r < to; r++) {
    const row = rows[r] as EventRow;
    for (const c of EVENT_COLUMNS) params[p++] = row[c];
  }
  return params;
}

export interface MonitorRows {
  events: EventRow[];
  alerts: AlertRow[];
  actions: ActionRow[];
}

/** Inserts a group's rows; returns the event ids it stored (all of them unless another process stored some first). */
export async function insertRows(tx: DbTx, rows: MonitorRows, kind: StoreKind): Promise<Set<string>> {
  const stored = await insertEvents(tx, kind, rows.events);
  const alerts = rows.alerts.filter((a) => stored.has(a.event_id));
  const actions = rows.actions.filter((a) => stored.has(a.event_id));
  await inChunks(alerts, (chunk) => tx.insertInto('monitor_alerts').values(chunk).execute());
  await inChunks(actions, (chunk) => tx.insertInto('monitor_actions').values(chunk).execute());
  return stored;
}

/** insertRows in a synchronous unit (embedded SQLite): the same statements, without Kysely. */
export function insertRowsSync(syncSql: SyncSql, rows: MonitorRows): void {
  for (let i = 0; i < rows.events.length; i += EVENT_CHUNK_ROWS) {
    const end = Math.min(rows.events.length, i + EVENT_CHUNK_ROWS);
    syncSql.run(eventInsert('sqlite', end - i), eventParams(rows.events, i, end));
  }
  for (let i = 0; i < rows.alerts.length; i += INSERT_CHUNK_ROWS)
    syncSql.insert('monitor_alerts', rows.alerts.slice(i, i + INSERT_CHUNK_ROWS));
  for (let i = 0; i < rows.actions.length; i += INSERT_CHUNK_ROWS)
    syncSql.insert('monitor_actions', rows.actions.slice(i, i + INSERT_CHUNK_ROWS));
}

/** Work that commits in the same unit as a group's new alerts (the case queue opens one case per alert). */
export interface AlertFollowUp {
  inTx(tx: DbTx, alerts: readonly AlertRow[]): Promise<void>;
  inSync(syncSql: SyncSql, alerts: readonly AlertRow[]): void;
}

/**
 * Stores one group's rows in one unit of work: synchronous on the embedded store (one writer process, so every row
 * is stored), through Kysely elsewhere. Returns the event ids stored by this unit; the follow-up (cases) sees only
 * the alerts of those events, so a process that lost an intake race opens no case for the winner's alert.
 */
export async function storeRows(
  store: Store,
  rows: MonitorRows,
  followUp?: AlertFollowUp,
): Promise<Set<string>> {
  if (store.sync) {
    await store.sync.transaction((syncSql) => {
      insertRowsSync(syncSql, rows);
      if (followUp && rows.alerts.length > 0) followUp.inSync(syncSql, rows.alerts);
    });
    return new Set(rows.events.map((e) => e.event_id));
  }
  return store.transaction(async (tx) => {
    const stored = await insertRows(tx, rows, store.kind);
    const alerts = rows.alerts.filter((a) => stored.has(a.event_id));
    if (followUp && alerts.length > 0) await followUp.inTx(tx, alerts);
    return stored;
  });
}

/** Streams all stored events in (occurred_at, event_id) order, a page at a time (start-up rebuild). */
export async function* allEvents(
  db: Db,
  pageSize = 5_000,
): AsyncGenerator<{ event: MonitorEvent; receivedAt: number; hash: string }[]> {
  let after: { t: number; id: string } | undefined;
  for (;;) {
    let q = db.selectFrom('monitor_events').selectAll();
    if (after) {
      const a = after;
      q = q.where((eb) =>
        eb.or([
          eb('occurred_at', '>', a.t),
          eb.and([eb('occurred_at', '=', a.t), eb('event_id', '>', a.id)]),
        ]),
      );
    }
    const rows = await q.orderBy('occurred_at').orderBy('event_id').limit(pageSize).execute();
    if (rows.length === 0) return;
    yield rows.map((r) => ({
      event: rowToEvent(r),
      receivedAt: Number(r.received_at),
      hash: r.content_hash,
    }));
    const last = rows[rows.length - 1] as EventRow;
    after = { t: Number(last.occurred_at), id: last.event_id };
    if (rows.length < pageSize) return;
  }
}
