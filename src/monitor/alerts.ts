import type { Db, Store } from '../store/db.js';
import type { Clock } from '../domain/clock.js';
import type { IdGenerator } from '../domain/ids.js';
import { canonicalJson } from '../domain/canonical-json.js';
import type { Severity } from './actions.js';

export interface AlertQuery {
  readonly status?: string;
  readonly typology?: string;
  readonly userId?: string;
  readonly limit?: number;
  /** Cursor: return alerts older than this alert id (ids are UUIDv7, so they sort by creation). */
  readonly before?: string;
}

export interface AlertView {
  readonly alertId: string;
  readonly typology: { readonly id: string; readonly version: number };
  readonly severity: string;
  readonly status: string;
  readonly userId: string;
  readonly lineId: string | null;
  readonly eventId: string;
  readonly occurredAt: string;
  readonly createdAt: string;
  readonly reasons: readonly string[];
  readonly evidence: unknown;
  readonly actions: readonly {
    actionId: string;
    type: string;
    status: string;
    lineId: string | null;
    detail: unknown;
  }[];
}

/** Alerts newest first, with their actions; `nextCursor` pages on. */
export async function listAlerts(
  db: Db,
  q: AlertQuery,
): Promise<{ items: AlertView[]; nextCursor: string | null }> {
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
  const items = page.map((r) => ({
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
  }));
  return { items, nextCursor: rows.length > limit ? (page[page.length - 1]?.alert_id ?? null) : null };
}

export interface SystemAlertInput {
  /** What raised it, in the typology column (e.g. BLAST_RADIUS_GUARD). */
  readonly typologyId: string;
  readonly severity: Severity;
  readonly reasons: readonly string[];
  readonly evidence: unknown;
  readonly lineId?: string;
  readonly userId?: string;
}

/**
 * An alert that no account event fired: the platform itself asks for an analyst (the blast-radius guard stopping
 * automated restrictions, for one). It lands in the same queue as typology alerts.
 */
export async function recordSystemAlert(
  store: Store,
  deps: { clock: Clock; ids: IdGenerator },
  input: SystemAlertInput,
): Promise<string> {
  const alertId = deps.ids.next();
  const now = deps.clock.now();
  await store.transaction((tx) =>
    tx
      .insertInto('monitor_alerts')
      .values({
        alert_id: alertId,
        typology_id: input.typologyId,
        typology_version: 1,
        severity: input.severity,
        status: 'OPEN',
        user_id: input.userId ?? 'system',
        line_id: input.lineId ?? null,
        event_id: `system:${alertId}`,
        occurred_at: now,
        created_at: now,
        reasons: canonicalJson(input.reasons),
        evidence: canonicalJson(input.evidence),
        actions: '[]',
      })
      .execute(),
  );
  return alertId;
}
