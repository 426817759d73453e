import { randomUUID } from 'node:crypto';
import { CompiledQuery, type Selectable } from 'kysely';
import { appendToLedger, appendToLedgerSync, type LedgerAppend } from '../compliance/index.js';
import { BEFORE_ANY_COMMIT, canonicalJson, type CommitPageCursor } from '../domain/index.js';
import type {
  ActionOutcomeWrite,
  AttributeValue,
  AuditTrail,
  EventType,
  EventWrite,
  FeedPage,
  GroupWrite,
  KnownEvent,
  LineMention,
  MonitorActionStore,
  MonitorEvent,
  MonitorIntakeStore,
  NewAction,
  NewAlert,
  OutboxMessage,
  PendingLineAction,
  StoredEvent,
  StoredSpan,
} from '../monitor/index.js';
import {
  commitOrderPageSql,
  commitPageParams,
  CURRENT_SNAPSHOT_SQL,
  pageHead,
  type CommitPageRow,
} from './commit-order.js';
import type { Db, DbTx, Store, StoreKind } from './db.js';
import type { MonitorTables } from './monitor-tables.js';
import type { Database } from './schema.js';
import { insertRows as insertShaped } from './shaped.js';
import type { SyncSql } from './sync.js';

/**
 * The monitor's store (its ports in src/monitor/ports.ts): intake's group unit of work, the start-up reads, line-action
 * outcomes. Every SQL text and the SQLite/PostgreSQL differences of the monitor live here.
 */

/** Rows per INSERT: 19 columns × 200 stays far below SQLite's and PostgreSQL's bound-parameter limits. */
const INSERT_CHUNK_ROWS = 200;

export type EventRow = Selectable<MonitorTables['monitor_events']>;
export type AlertRow = Selectable<MonitorTables['monitor_alerts']>;
export type ActionRow = Selectable<MonitorTables['monitor_actions']>;
type OutboxRow = Selectable<Database['outbox']>;

export function eventToRow(w: EventWrite): EventRow {
  const e = w.event;
  return {
    event_id: e.eventId,
    type: e.type,
    occurred_at: e.occurredAt,
    received_at: w.receivedAt,
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
    content_hash: w.hash,
    result: w.resultJson,
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

export function alertToRow(a: NewAlert): AlertRow {
  return {
    alert_id: a.alertId,
    typology_id: a.typologyId,
    typology_version: a.typologyVersion,
    severity: a.severity,
    status: 'OPEN',
    user_id: a.userId,
    line_id: a.lineId,
    event_id: a.eventId,
    occurred_at: a.occurredAt,
    created_at: a.createdAt,
    status_at: null,
    reasons: JSON.stringify(a.reasons),
    evidence: JSON.stringify(a.evidence),
    actions: JSON.stringify(a.actions),
  };
}

function actionToRow(a: NewAction): ActionRow {
  return {
    action_id: a.actionId,
    alert_id: a.alertId,
    event_id: a.eventId,
    type: a.type,
    user_id: a.userId,
    line_id: a.lineId,
    status: a.status,
    detail: JSON.stringify(a.detail),
    created_at: a.createdAt,
    updated_at: a.createdAt,
  };
}

export function outboxToRow(m: OutboxMessage): OutboxRow {
  return {
    id: m.id,
    topic: m.topic,
    payload: canonicalJson(m.payload),
    created_at: m.at,
    published_at: null,
  };
}

/** Writes audit trails (ledger entries and outbox rows) in a Kysely unit. */
export async function writeAudit(tx: DbTx, trails: readonly AuditTrail[]): Promise<void> {
  if (trails.length === 0) return;
  await appendToLedger(
    tx,
    trails.map((t) => t.ledger),
  );
  await inChunks(
    trails.map((t) => outboxToRow(t.outbox)),
    (chunk) => insertShaped(tx, 'outbox', chunk),
  );
}

/** writeAudit in a synchronous unit (embedded SQLite). */
export function writeAuditSync(sql: SyncSql, trails: readonly AuditTrail[]): void {
  if (trails.length === 0) return;
  appendToLedgerSync(
    sql,
    trails.map((t): LedgerAppend => t.ledger),
  );
  for (let i = 0; i < trails.length; i += INSERT_CHUNK_ROWS)
    sql.insert(
      'outbox',
      trails.slice(i, i + INSERT_CHUNK_ROWS).map((t) => outboxToRow(t.outbox)),
    );
}

async function inChunks<T>(rows: readonly T[], write: (chunk: T[]) => Promise<unknown>): Promise<void> {
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

/**
 * The PostgreSQL event INSERT: the rows it stored also go to monitor_event_feed (migration 142), stamped with the
 * transaction's id, in the same statement (no round trip more), so the other processes find them in commit order.
 */
function postgresEventInsert(rows: number): string {
  const writer = `$${rows * EVENT_COLUMNS.length + 1}`;
  return (
    `with "stored" as (${eventInsert('postgres', rows)}${ON_CONFLICT_IGNORE}), ` +
    `"fed" as (insert into "monitor_event_feed" ("event_id", "writer") select "event_id", ${writer} from "stored") ` +
    `select "event_id" from "stored"`
  );
}

async function insertEvents(
  tx: Db,
  kind: StoreKind,
  rows: readonly EventRow[],
  writer: string,
): Promise<Set<string>> {
  const stored = new Set<string>();
  for (let i = 0; i < rows.length; i += EVENT_CHUNK_ROWS) {
    const end = Math.min(rows.length, i + EVENT_CHUNK_ROWS);
    const params = eventParams(rows, i, end);
    if (kind === 'postgres') params.push(writer);
    const text = kind === 'postgres' ? postgresEventInsert(end - i) : eventInsert(kind, end - i);
    const result = await tx.executeQuery<{ event_id: string }>(CompiledQuery.raw(text, params));
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

/** A group as rows, built once before its unit of work runs. */
interface GroupRows {
  readonly events: EventRow[];
  readonly alerts: AlertRow[];
  readonly actions: ActionRow[];
}

function groupRows(group: GroupWrite): GroupRows {
  return {
    events: group.events.map(eventToRow),
    alerts: group.alerts.map(alertToRow),
    actions: group.actions.map(actionToRow),
  };
}

/** Work that commits in the same unit as a group's new alerts (the case queue opens one case per alert). */
export interface AlertFollowUp {
  inTx(tx: DbTx, alerts: readonly AlertRow[]): Promise<void>;
  inSync(syncSql: SyncSql, alerts: readonly AlertRow[]): void;
}

/** The group in a synchronous unit (embedded SQLite: one writer process, so every row is stored). */
function storeGroupSync(sql: SyncSql, group: GroupWrite, rows: GroupRows, followUp?: AlertFollowUp): void {
  for (let i = 0; i < rows.events.length; i += EVENT_CHUNK_ROWS) {
    const end = Math.min(rows.events.length, i + EVENT_CHUNK_ROWS);
    sql.run(eventInsert('sqlite', end - i), eventParams(rows.events, i, end));
  }
  for (let i = 0; i < rows.alerts.length; i += INSERT_CHUNK_ROWS)
    sql.insert('monitor_alerts', rows.alerts.slice(i, i + INSERT_CHUNK_ROWS));
  for (let i = 0; i < rows.actions.length; i += INSERT_CHUNK_ROWS)
    sql.insert('monitor_actions', rows.actions.slice(i, i + INSERT_CHUNK_ROWS));
  writeAuditSync(sql, group.audit);
  if (followUp && rows.alerts.length > 0) followUp.inSync(sql, rows.alerts);
}

/**
 * The group through Kysely. Only what belongs to events this unit stored is written: a process that lost an intake
 * race writes none of its findings, their trails or their cases.
 */
async function storeGroupTx(
  tx: DbTx,
  kind: StoreKind,
  input: { group: GroupWrite; rows: GroupRows; writer: string; followUp?: AlertFollowUp },
): Promise<Set<string>> {
  const { group, rows, followUp } = input;
  const stored = await insertEvents(tx, kind, rows.events, input.writer);
  const alerts = rows.alerts.filter((a) => stored.has(a.event_id));
  const actions = rows.actions.filter((a) => stored.has(a.event_id));
  await inChunks(alerts, (chunk) => tx.insertInto('monitor_alerts').values(chunk).execute());
  await inChunks(actions, (chunk) => tx.insertInto('monitor_actions').values(chunk).execute());
  await writeAudit(
    tx,
    group.audit.filter((t) => stored.has(t.eventId)),
  );
  if (followUp && alerts.length > 0) await followUp.inTx(tx, alerts);
  return stored;
}

/** Rows per page of the start-up reads. */
const REBUILD_PAGE_ROWS = 5_000;

/**
 * The occurred_at of the oldest and newest stored events: two probes of monitor_events_time_id (migration 408), one
 * statement. (SQLite answers a lone min() or max() from an index, not both in one select: hence two subqueries.)
 */
async function storedSpan(db: Db): Promise<StoredSpan | undefined> {
  const row = await db
    .selectNoFrom((eb) => [
      eb
        .selectFrom('monitor_events')
        .select((m) => m.fn.min('occurred_at').as('t'))
        .as('oldest'),
      eb
        .selectFrom('monitor_events')
        .select((m) => m.fn.max('occurred_at').as('t'))
        .as('newest'),
    ])
    .executeTakeFirst();
  if (row?.oldest == null || row.newest == null) return undefined;
  return { oldestMs: Number(row.oldest), newestMs: Number(row.newest) };
}

/**
 * The stored events with occurred_at >= fromMs in (occurred_at, event_id) order, a page at a time (start-up rebuild):
 * each page a range of monitor_events_time_id (migration 408) after the last row of the one before.
 */
export async function* storedEventPages(
  db: Db,
  read: { fromMs: number; pageRows?: number },
): AsyncGenerator<StoredEvent[]> {
  const pageRows = read.pageRows ?? REBUILD_PAGE_ROWS;
  let after: { t: number; id: string } | undefined;
  for (;;) {
    let q = db.selectFrom('monitor_events').selectAll();
    if (after) {
      const a = after;
      q = q.where((eb) => eb(eb.refTuple('occurred_at', 'event_id'), '>', eb.tuple(a.t, a.id)));
    } else q = q.where('occurred_at', '>=', read.fromMs);
    const rows = await q.orderBy('occurred_at').orderBy('event_id').limit(pageRows).execute();
    if (rows.length === 0) return;
    yield rows.map((r) => ({
      event: rowToEvent(r),
      receivedAt: Number(r.received_at),
      hash: r.content_hash,
    }));
    const last = rows[rows.length - 1] as EventRow;
    after = { t: Number(last.occurred_at), id: last.event_id };
    if (rows.length < pageRows) return;
  }
}

/**
 * Of the events of `types` with a line and occurred_at < beforeMs, the last one per (user_id, line_id), pages in
 * (user_id, line_id) order (start-up rebuild: the line map's facts from the events it does not read). One row per
 * borrower and line, not per event; both the grouping and the last event's id (the tie-break of two events in one
 * millisecond) are read from monitor_events_user_line (migration 408) alone.
 */
export async function* lineMentionPages(
  db: Db,
  read: { beforeMs: number; types: readonly EventType[]; pageRows?: number },
): AsyncGenerator<LineMention[]> {
  const pageRows = read.pageRows ?? REBUILD_PAGE_ROWS;
  if (read.types.length === 0) return;
  const types = [...read.types];
  let after: { userId: string; lineId: string } | undefined;
  for (;;) {
    let pairs = db
      .selectFrom('monitor_events as m')
      .select(['m.user_id', 'm.line_id'])
      .select((eb) => eb.fn.max('m.occurred_at').as('last_at'))
      .where('m.line_id', 'is not', null)
      .where('m.type', 'in', types)
      .where('m.occurred_at', '<', read.beforeMs);
    if (after) {
      const a = after;
      pairs = pairs.where((eb) =>
        eb(eb.refTuple('m.user_id', 'm.line_id'), '>', eb.tuple(a.userId, a.lineId)),
      );
    }
    const page = pairs
      .groupBy(['m.user_id', 'm.line_id'])
      .orderBy('m.user_id')
      .orderBy('m.line_id')
      .limit(pageRows);
    const rows = await db
      .selectFrom(page.as('g'))
      .select(['g.user_id', 'g.line_id', 'g.last_at'])
      .select((eb) =>
        eb
          .selectFrom('monitor_events as l')
          .select((l) => l.fn.max('l.event_id').as('id'))
          .whereRef('l.user_id', '=', 'g.user_id')
          .whereRef('l.line_id', '=', 'g.line_id')
          .whereRef('l.occurred_at', '=', 'g.last_at')
          .where('l.type', 'in', types)
          .as('last_event_id'),
      )
      .orderBy('g.user_id')
      .orderBy('g.line_id')
      .execute();
    if (rows.length === 0) return;
    yield rows.map((r) => ({
      userId: r.user_id,
      lineId: r.line_id as string,
      occurredAt: Number(r.last_at),
      eventId: r.last_event_id as string,
    }));
    const last = rows[rows.length - 1] as (typeof rows)[number];
    after = { userId: last.user_id, lineId: last.line_id as string };
    if (rows.length < pageRows) return;
  }
}

/** Ids per `in (…)` read: far below both stores' bound-parameter limits. */
const READ_CHUNK_IDS = 500;

async function readInChunks<T>(
  ids: readonly string[],
  read: (chunk: string[]) => Promise<T[]>,
): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < ids.length; i += READ_CHUNK_IDS)
    out.push(...(await read(ids.slice(i, i + READ_CHUNK_IDS))));
  return out;
}

/** Whether a group's unit writes nothing but its events, in one statement (storeGroupTx would run that alone). */
function onlyEvents(group: GroupWrite, rows: GroupRows): boolean {
  return (
    rows.events.length <= EVENT_CHUNK_ROWS &&
    rows.alerts.length === 0 &&
    rows.actions.length === 0 &&
    group.audit.length === 0
  );
}

/** The intake port over a store; `alertFollowUp` commits in each group's unit (cases for new alerts). */
export function monitorIntakeStore(store: Store, alertFollowUp?: AlertFollowUp): MonitorIntakeStore {
  // Names this intake's rows in the feed, so its follower skips them (it judged them itself). An identity, not an
  // input of any decision: a random id, unique per process and per store opened.
  const writer = randomUUID();
  return {
    sharedWriters: store.kind === 'postgres',
    async storeGroup(group) {
      const rows = groupRows(group);
      if (store.sync) {
        await store.sync.transaction((sql) => storeGroupSync(sql, group, rows, alertFollowUp));
        return new Set(rows.events.map((e) => e.event_id));
      }
      // Most groups raise nothing: their whole unit is one insert, atomic by itself on PostgreSQL, so it goes without
      // BEGIN and COMMIT (a round trip fewer per group). (SQLite's writes go through its group committer, whose batch
      // may be open on the one connection.)
      if (store.kind === 'postgres' && onlyEvents(group, rows))
        return insertEvents(store.db, store.kind, rows.events, writer);
      return store.transaction((tx) =>
        storeGroupTx(tx, store.kind, { group, rows, writer, followUp: alertFollowUp }),
      );
    },
    storedSpan: () => storedSpan(store.db),
    storedEvents: (fromMs) => storedEventPages(store.db, { fromMs }),
    lineMentions: (query) => lineMentionPages(store.db, query),
    followFrom: () => registerFollower(store, writer),
    renewFollower: (seen) => renewFollower(store, { writer, seen }),
    eventsCommittedSince: (from, limit) => eventsCommittedSince(store, { from, limit, writer }),
    pruneFeed: () => pruneMonitorEventFeed(store),
    knownEvents: (ids) =>
      readInChunks(ids, async (chunk): Promise<KnownEvent[]> => {
        const rows = await store.db
          .selectFrom('monitor_events')
          .select(['event_id', 'content_hash', 'occurred_at'])
          .where('event_id', 'in', chunk)
          .execute();
        return rows.map((r) => ({
          eventId: r.event_id,
          hash: r.content_hash,
          occurredAt: Number(r.occurred_at),
        }));
      }),
    eventResults: (ids) =>
      readInChunks(ids, async (chunk) => {
        const rows = await store.db
          .selectFrom('monitor_events')
          .select(['event_id', 'result'])
          .where('event_id', 'in', chunk)
          .execute();
        return rows.map((r) => ({ eventId: r.event_id, resultJson: r.result }));
      }),
  };
}

/**
 * The oldest transaction still running when the statement's snapshot was taken (PostgreSQL's xid8): every one below it
 * has ended. A feed row below every follower's place's xmin is read by all of them (pruneMonitorEventFeed).
 */
export const SNAPSHOT_XMIN_SQL = 'pg_snapshot_xmin(pg_current_snapshot())';

/**
 * Where the events' follower starts (a snapshot, src/domain/commit-order.ts), read by the statement that registers it
 * there (monitor_feed_followers, with the snapshot's xmin); it commits before the rebuild reads:
 * pruneMonitorEventFeed keeps every feed row from a registered follower's xmin on.
 */
const REGISTER_FOLLOWER_SQL = `insert into "monitor_feed_followers" ("writer", "read_to", "seen_at")
  values ($1, ${SNAPSHOT_XMIN_SQL}, now())
  on conflict ("writer") do update set "read_to" = excluded."read_to", "seen_at" = excluded."seen_at"
  returning ${CURRENT_SNAPSHOT_SQL}::text as "snapshot"`;

async function registerFollower(store: Store, writer: string): Promise<string> {
  if (store.kind !== 'postgres') return BEFORE_ANY_COMMIT;
  const result = await store.db.executeQuery<{ snapshot: string }>(
    CompiledQuery.raw(REGISTER_FOLLOWER_SQL, [writer]),
  );
  return result.rows[0]?.snapshot ?? BEFORE_ANY_COMMIT;
}

/**
 * A follower's sign of life and how far it has read (the xmin of its place, `seen`: the rows below it every read has
 * passed). It never registers a follower the prune dropped: that one's next page says `prunedPast`, and it rebuilds
 * (EventIntake.follow). `greatest`: two renewals may commit out of order.
 */
async function renewFollower(store: Store, o: { writer: string; seen: string }): Promise<void> {
  if (store.kind !== 'postgres') return;
  await store.db.executeQuery(
    CompiledQuery.raw(
      `update "monitor_feed_followers"
        set "read_to" = greatest("read_to", pg_snapshot_xmin($2::pg_snapshot)), "seen_at" = now()
        where "writer" = $1`,
      [o.writer, o.seen],
    ),
  );
}

/**
 * One page of the feed (commitOrderPageSql: the other writers' rows, $6 this one), with the events, in one round
 * trip. `following`: the reader is still registered in the page's own snapshot, so no prune that snapshot sees
 * deleted a row it had not read.
 */
const FEED_PAGE_SQL = commitOrderPageSql({
  from: '"monitor_event_feed" as "t" join "monitor_events" as "e" on "e"."event_id" = "t"."event_id"',
  xid: '"t"."xid"',
  id: '"t"."event_id"',
  columns: '"e".*',
  where: '"t"."writer" <> $6',
  head: 'exists (select 1 from "monitor_feed_followers" where "writer" = $6) as "following"',
});

/** A page of the feed from `from`: the events other writers stored, at most `limit`. */
async function eventsCommittedSince(
  store: Store,
  read: { from: CommitPageCursor; limit: number; writer: string },
): Promise<FeedPage> {
  const { from } = read;
  if (store.kind !== 'postgres') return { snapshot: from.seen, events: [], prunedPast: false };
  const result = await store.db.executeQuery<EventRow & CommitPageRow & { following: boolean }>(
    CompiledQuery.raw(FEED_PAGE_SQL, [...commitPageParams(from, read.limit), read.writer]),
  );
  const events: FeedPage['events'][number][] = [];
  for (const r of result.rows) {
    if (r.xid === null || r.id === null) continue;
    events.push({
      xid: r.xid,
      event: rowToEvent(r),
      receivedAt: Number(r.received_at),
      hash: r.content_hash,
    });
  }
  const head = pageHead(result.rows, 'the events feed');
  return { snapshot: head.snapshot, events, prunedPast: !head.following };
}

/**
 * How long the database may not hear from a follower before the prune stops keeping the feed for it. A live process
 * renews every follow interval (FOLLOW_EVERY_MS, 1 s), so only one that has exited (cleanly or not: its row stays)
 * misses an hour of renewals; one that was merely paused or cut off that long finds itself dropped at its next read and
 * rebuilds, so it misses nothing either way.
 */
const FEED_FOLLOWER_LEASE_SECONDS = 3_600;
/** Rows per DELETE of the feed: each one a short statement of its own, so no prune holds many row locks for long. */
const FEED_PRUNE_BATCH_ROWS = 5_000;

/**
 * The bound below which no feed row is needed any more: the lowest cursor of a registered follower, and never above
 * this statement's own xmin (every transaction below it has ended). A follower whose registration this statement does
 * not see yet committed it after, and its rebuild reads the events table later still: every transaction below the
 * bound had ended before, so the rebuild finds their events there, not in the feed.
 */
const FEED_PRUNE_BOUND_SQL = `select least(
    ${SNAPSHOT_XMIN_SQL},
    (select "read_to" from "monitor_feed_followers" order by "read_to" limit 1)
  )::text as "bound"`;

/**
 * One batch of the prune: the next rows below the bound in (xid, event_id) order after the last batch's, deleted in
 * one short statement, and, when the batch was full, the last of them, where the next batch starts (a shorter batch
 * was the last). Walking the index on from there, a batch never scans the rows the batches before it deleted (dead
 * until vacuumed); it deletes them by their row addresses (a TID scan, not a join over the table).
 */
const FEED_PRUNE_BATCH_SQL = `with "doomed" as (
    select "ctid", "xid", "event_id" from "monitor_event_feed"
    where ("xid", "event_id") > ($1::xid8, $2) and "xid" < $3::xid8
    order by "xid", "event_id" limit $4
  ), "gone" as (
    delete from "monitor_event_feed" where "ctid" = any (array(select "ctid" from "doomed")) returning 1
  )
  select (select count(*) from "gone")::int as "deleted", "last"."xid"::text as "xid", "last"."event_id"
  from (select 1) as "one"
  left join lateral (
    select "xid", "event_id" from "doomed" order by "xid" desc, "event_id" desc limit 1
  ) as "last" on (select count(*) from "doomed") = $4`;

/**
 * Retention of monitor_event_feed (PostgreSQL): a row is needed only by a process that has not read past it. A
 * follower never reads a row below its place's xmin (src/store/commit-order.ts), a new process registers the place it
 * starts from before its rebuild reads monitor_events (registerFollower), and each live one renews its place's xmin
 * (renewFollower); so the rows below the lowest xmin of the followers heard from within the lease go, in bounded
 * batches. Followers not heard from are dropped first, in a statement of their own: a prune that goes past a dropped
 * follower's place commits after the drop, so that follower's next page, if it sees any row gone, sees itself dropped
 * (`prunedPast`) and rebuilds. Returns how many rows were deleted. monitor_events itself is kept: it is the evidence
 * behind alerts and cases.
 */
export async function pruneMonitorEventFeed(
  store: Store,
  limits: { batchRowsMax?: number; followerLeaseSeconds?: number } = {},
): Promise<number> {
  if (store.kind !== 'postgres') return 0;
  const batchRowsMax = limits.batchRowsMax ?? FEED_PRUNE_BATCH_ROWS;
  await store.db.executeQuery(
    CompiledQuery.raw(
      `delete from "monitor_feed_followers" where "seen_at" < now() - make_interval(secs => $1)`,
      [limits.followerLeaseSeconds ?? FEED_FOLLOWER_LEASE_SECONDS],
    ),
  );
  const bound = await store.db.executeQuery<{ bound: string }>(CompiledQuery.raw(FEED_PRUNE_BOUND_SQL, []));
  const below = bound.rows[0]?.bound;
  if (below === undefined) return 0;
  let deleted = 0;
  let after = { xid: '0', eventId: '' };
  for (;;) {
    const result = await store.db.executeQuery<{
      deleted: number;
      xid: string | null;
      event_id: string | null;
    }>(CompiledQuery.raw(FEED_PRUNE_BATCH_SQL, [after.xid, after.eventId, below, batchRowsMax]));
    const batch = result.rows[0];
    deleted += batch?.deleted ?? 0;
    if (!batch || batch.xid === null || batch.event_id === null) return deleted;
    after = { xid: batch.xid, eventId: batch.event_id };
  }
}

/** The dispatcher's port: pending line actions, and each outcome written with its ledger entry and outbox row. */
export function monitorActionStore(store: Store): MonitorActionStore {
  return {
    async pendingLineActions() {
      const rows = await store.db
        .selectFrom('monitor_actions')
        .selectAll()
        .where('status', '=', 'PENDING')
        .execute();
      return rows.map((r): PendingLineAction => ({
        actionId: r.action_id,
        type: r.type as PendingLineAction['type'],
        lineId: r.line_id as string,
        userId: r.user_id,
        reasons: (JSON.parse(r.detail) as { reasons: string[] }).reasons,
      }));
    },
    recordActionOutcome: (outcome) => store.transaction((tx) => writeOutcome(tx, outcome)),
  };
}

async function writeOutcome(tx: DbTx, o: ActionOutcomeWrite): Promise<void> {
  await tx
    .updateTable('monitor_actions')
    .set({ status: o.status, detail: JSON.stringify(o.detail), updated_at: o.updatedAt })
    .where('action_id', '=', o.actionId)
    .execute();
  await writeAudit(tx, [o.audit]);
}
