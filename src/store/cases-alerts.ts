import { CompiledQuery, sql } from 'kysely';
import type { CommitPageCursor } from '../domain/index.js';
import type { AlertFeedPage, AlertPage, AlertQuery, AlertState, AlertStore } from '../cases/index.js';
import {
  commitOrderPageSql,
  commitPageParams,
  pageHead,
  currentSnapshot,
  type CommitPageRow,
} from './commit-order.js';
import type { Db, DbTx, Store, StoreKind } from './db.js';
import { runShaped } from './shaped.js';
import { alertToRow, writeAudit, type ActionRow, type AlertRow } from './monitor.js';

/** The alerts' store (AlertStore in src/cases/alerts.ts): monitor_alerts and their actions, dispositions with trails. */

function stateOf(
  r: Pick<AlertRow, 'alert_id' | 'typology_id' | 'user_id' | 'occurred_at' | 'status'>,
): AlertState {
  return {
    alertId: r.alert_id,
    typologyId: r.typology_id,
    userId: r.user_id,
    occurredAt: Number(r.occurred_at),
    status: r.status,
  };
}

function viewOf(r: AlertRow, actions: readonly ActionRow[]): AlertPage['items'][number] {
  return {
    alertId: r.alert_id,
    typology: { id: r.typology_id, version: Number(r.typology_version) },
    severity: r.severity,
    status: r.status,
    userId: r.user_id,
    lineId: r.line_id,
    eventId: r.event_id,
    occurredAt: new Date(Number(r.occurred_at)).toISOString(),
    createdAt: new Date(Number(r.created_at)).toISOString(),
    reasons: JSON.parse(r.reasons) as string[],
    evidence: JSON.parse(r.evidence) as unknown,
    actions: actions
      .filter((a) => a.alert_id === r.alert_id)
      .map((a) => ({
        actionId: a.action_id,
        type: a.type,
        status: a.status,
        lineId: a.line_id,
        detail: JSON.parse(a.detail) as unknown,
      })),
  };
}

async function listAlerts(db: Db, q: AlertQuery): Promise<AlertPage> {
  const limit = Math.min(Math.max(q.limit ?? 50, 1), 500);
  let query = db.selectFrom('monitor_alerts').selectAll();
  if (q.status) query = query.where('status', '=', q.status);
  if (q.typology) query = query.where('typology_id', '=', q.typology);
  if (q.userId) query = query.where('user_id', '=', q.userId);
  if (q.before) query = query.where('alert_id', '<', q.before);
  const rows = await query
    .orderBy('alert_id', 'desc')
    .limit(limit + 1)
    .execute();
  const page = rows.slice(0, limit);
  const ids = page.map((r) => r.alert_id);
  const actions =
    ids.length === 0
      ? []
      : await db
          .selectFrom('monitor_actions')
          .selectAll()
          .where('alert_id', 'in', ids)
          .orderBy('action_id')
          .execute();
  const items = page.map((r) => viewOf(r, actions));
  return { items, nextCursor: rows.length > limit ? (page[page.length - 1]?.alert_id ?? null) : null };
}

async function changeStatus(
  tx: DbTx,
  input: {
    kind: StoreKind;
    alertId: string;
    status: string;
    at: number;
    trail: Parameters<AlertStore['changeStatus']>[3];
  },
): Promise<AlertState | undefined> {
  const read = tx
    .selectFrom('monitor_alerts')
    .select(['alert_id', 'typology_id', 'user_id', 'occurred_at', 'status'])
    .where('alert_id', '=', input.alertId);
  // PostgreSQL: two analysts closing the same alert at once record one change (SQLite already serialises writers).
  const row = await (input.kind === 'postgres' ? read.forUpdate() : read).executeTakeFirst();
  if (!row) return undefined;
  const current = stateOf(row);
  if (row.status === input.status) return current;
  if (input.kind === 'postgres')
    // The change is stamped with this unit's transaction, as the insert stamps a new alert (changed_xid's default,
    // migration 406): the other processes' followers read it in commit order (alertsChangedSince).
    await sql`update monitor_alerts set status = ${input.status}, status_at = ${input.at},
      changed_xid = pg_current_xact_id() where alert_id = ${input.alertId}`.execute(tx);
  else
    await tx
      .updateTable('monitor_alerts')
      .set({ status: input.status, status_at: input.at })
      .where('alert_id', '=', input.alertId)
      .execute();
  await writeAudit(tx, [input.trail(current)]);
  return current;
}

/**
 * One page of the alerts changed after a follower's place, in the order their units committed (changed_xid, migration
 * 406; commitOrderPageSql), one round trip, as the events' feed page (src/store/monitor.ts). Rows stored before
 * migration 406 have no changed_xid and are never read here (every process loads them at start).
 */
const CHANGED_ALERTS_PAGE_SQL = commitOrderPageSql({
  from: '"monitor_alerts" as "t"',
  xid: '"t"."changed_xid"',
  id: '"t"."alert_id"',
  columns: '"t"."alert_id", "t"."typology_id", "t"."user_id", "t"."occurred_at", "t"."status"',
  where: 'true',
});

type ChangedAlertRow = Pick<AlertRow, 'alert_id' | 'typology_id' | 'user_id' | 'occurred_at' | 'status'> &
  CommitPageRow;

async function alertsChangedSince(
  store: Store,
  from: CommitPageCursor,
  limit: number,
): Promise<AlertFeedPage> {
  if (store.kind !== 'postgres') return { snapshot: from.seen, alerts: [] };
  const result = await store.db.executeQuery<ChangedAlertRow>(
    CompiledQuery.raw(CHANGED_ALERTS_PAGE_SQL, commitPageParams(from, limit)),
  );
  const alerts: AlertFeedPage['alerts'][number][] = [];
  for (const r of result.rows) {
    // The one row of an empty page carries only the snapshot (its alert columns are null too).
    if (r.xid === null) continue;
    alerts.push({ ...stateOf(r), xid: r.xid });
  }
  const head = pageHead(result.rows, 'the changed alerts');
  return { snapshot: head.snapshot, alerts };
}

export function alertStore(store: Store): AlertStore {
  return {
    sharedWriters: store.kind === 'postgres',
    async alertStates() {
      const rows = await store.db
        .selectFrom('monitor_alerts')
        .select(['alert_id', 'typology_id', 'user_id', 'occurred_at', 'status'])
        .orderBy('occurred_at')
        .execute();
      return rows.map(stateOf);
    },
    followFrom: () => currentSnapshot(store),
    alertsChangedSince: (from, limit) => alertsChangedSince(store, from, limit),
    async countOpen(userId) {
      // Every draw on a shared store reads it: reuse the compiled SQL (shaped.ts).
      const result = await runShaped(
        store.db,
        'open alerts of a user',
        () =>
          store.db
            .selectFrom('monitor_alerts')
            .select((eb) => eb.fn.countAll<number>().as('n'))
            .where('user_id', '=', userId)
            .where('status', '=', 'OPEN'),
        [userId, 'OPEN'],
      );
      return Number(result.rows[0]?.n ?? 0);
    },
    changeStatus: (alertId, status, at, trail) =>
      store.transaction((tx) => changeStatus(tx, { kind: store.kind, alertId, status, at, trail })),
    list: (q) => listAlerts(store.db, q),
    insertAlert: (alert, trail) =>
      store.transaction(async (tx) => {
        await tx.insertInto('monitor_alerts').values(alertToRow(alert)).execute();
        await writeAudit(tx, [trail]);
      }),
  };
}
