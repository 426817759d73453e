import type { Db } from './db.js';

/**
 * Read models for the risk console (the dashboard). Every figure comes from the shared store, never from one
 * process's memory, so every instance of a fleet shows the same overview.
 */

export interface OverviewWindow {
  readonly now: number;
  readonly windowMs: number;
  readonly bucketMs: number;
  /** At most this many recent decisions are read for the latency percentiles (a bounded sample). */
  readonly latencySampleMax: number;
}

export interface OutcomeBucket {
  readonly startMs: number;
  readonly outcome: string;
  readonly count: number;
}

export interface OverviewRows {
  readonly decisionsByKindOutcome: readonly { kind: string; outcome: string; count: number }[];
  readonly buckets: readonly OutcomeBucket[];
  readonly latenciesMs: readonly number[];
  readonly linesByStatus: readonly { status: string; count: number }[];
  readonly actionsByType: readonly { type: string; outcome: string; count: number }[];
  readonly openAlertsBySeverity: readonly { severity: string; count: number }[];
  readonly ledgerHead: { seq: number; hash: string } | null;
}

export async function readOverview(db: Db, window: OverviewWindow): Promise<OverviewRows> {
  const since = window.now - window.windowMs;
  const [decisions, recent, linesByStatus, actions, alerts, head] = await Promise.all([
    db
      .selectFrom('decisions')
      .select(['kind', 'outcome', (eb) => eb.fn.countAll<number>().as('count')])
      .where('decided_at', '>=', since)
      .where('kind', '!=', 'simulation')
      .groupBy(['kind', 'outcome'])
      .execute(),
    db
      .selectFrom('decisions')
      .select(['decided_at', 'outcome', 'latency_ms'])
      .where('decided_at', '>=', since)
      .where('kind', '!=', 'simulation')
      .orderBy('decided_at', 'desc')
      .limit(window.latencySampleMax)
      .execute(),
    db
      .selectFrom('credit_lines')
      .select(['status', (eb) => eb.fn.countAll<number>().as('count')])
      .groupBy('status')
      .execute(),
    db
      .selectFrom('line_actions')
      .select(['type', 'outcome', (eb) => eb.fn.countAll<number>().as('count')])
      .where('created_at', '>=', since)
      .groupBy(['type', 'outcome'])
      .execute(),
    db
      .selectFrom('monitor_alerts')
      .select(['severity', (eb) => eb.fn.countAll<number>().as('count')])
      .where('status', '!=', 'CLOSED')
      .groupBy('severity')
      .execute(),
    // The newest entry in global order (the ledger has one head per chain; src/compliance/ledger.ts).
    db
      .selectFrom('ledger_entries')
      .select(['seq', 'hash'])
      .orderBy('seq', 'desc')
      .limit(1)
      .executeTakeFirst(),
  ]);
  return {
    decisionsByKindOutcome: decisions.map((d) => ({
      kind: d.kind,
      outcome: d.outcome,
      count: Number(d.count),
    })),
    buckets: bucketise(recent, window),
    latenciesMs: recent.map((r) => Number(r.latency_ms)),
    linesByStatus: linesByStatus.map((l) => ({ status: l.status, count: Number(l.count) })),
    actionsByType: actions.map((a) => ({ type: a.type, outcome: a.outcome, count: Number(a.count) })),
    openAlertsBySeverity: alerts.map((a) => ({ severity: a.severity, count: Number(a.count) })),
    ledgerHead: head ? { seq: Number(head.seq), hash: head.hash } : null,
  };
}

function bucketise(
  rows: readonly { decided_at: number; outcome: string }[],
  window: OverviewWindow,
): OutcomeBucket[] {
  const counts = new Map<string, OutcomeBucket>();
  for (const row of rows) {
    const startMs = Math.floor(Number(row.decided_at) / window.bucketMs) * window.bucketMs;
    const key = `${startMs}|${row.outcome}`;
    const prev = counts.get(key);
    counts.set(key, { startMs, outcome: row.outcome, count: (prev?.count ?? 0) + 1 });
  }
  return [...counts.values()].sort((a, b) => a.startMs - b.startMs || a.outcome.localeCompare(b.outcome));
}

export interface LineSearch {
  /** A line id, a borrower id, or a prefix of either (at least 4 characters; the route allows [A-Za-z0-9_-]). */
  readonly query?: string;
  readonly status?: string;
  /** Keyset cursor: lines whose id sorts after this one. */
  readonly after?: string;
  readonly limit: number;
}

export interface LineSummaryRow {
  readonly id: string;
  readonly borrowerId: string;
  readonly status: string;
  readonly currency: string;
  readonly limitMinor: number;
  readonly availableMinor: number;
  readonly outstandingMinor: number;
  readonly dpd: number;
  readonly bucket: string;
  readonly updatedAt: number;
}

/** A page of lines in id order (keyset pagination: constant cost however deep the page, fit for 100,000 lines). */
export async function searchLines(
  db: Db,
  search: LineSearch,
): Promise<{ items: LineSummaryRow[]; nextCursor: string | null }> {
  let query = db
    .selectFrom('credit_lines')
    .select([
      'id',
      'borrower_id',
      'status',
      'currency',
      'limit_minor',
      'available_minor',
      'outstanding_minor',
      'dpd',
      'bucket',
      'updated_at',
    ]);
  if (search.query) {
    // A prefix as a range (query <= id < query + U+FFFF) so both indexes serve it; LIKE would scan the table.
    const from = search.query;
    const to = `${search.query}\uffff`;
    query = query.where((eb) =>
      eb.or([
        eb.and([eb('id', '>=', from), eb('id', '<', to)]),
        eb.and([eb('borrower_id', '>=', from), eb('borrower_id', '<', to)]),
      ]),
    );
  }
  if (search.status) query = query.where('status', '=', search.status);
  if (search.after) query = query.where('id', '>', search.after);
  const rows = await query
    .orderBy('id')
    .limit(search.limit + 1)
    .execute();
  const page = rows.slice(0, search.limit);
  return {
    items: page.map((r) => ({
      id: r.id,
      borrowerId: r.borrower_id,
      status: r.status,
      currency: r.currency,
      limitMinor: Number(r.limit_minor),
      availableMinor: Number(r.available_minor),
      outstandingMinor: Number(r.outstanding_minor),
      dpd: Number(r.dpd),
      bucket: r.bucket,
      updatedAt: Number(r.updated_at),
    })),
    nextCursor: rows.length > search.limit ? (page.at(-1)?.id ?? null) : null,
  };
}

export interface LineHistoryRow {
  readonly actions: readonly {
    id: string;
    type: string;
    outcome: string;
    reasons: string;
    automated: boolean;
    actor: string | null;
    prevStatus: string;
    newStatus: string;
    prevLimitMinor: number;
    newLimitMinor: number;
    createdAt: number;
  }[];
  readonly loans: readonly { id: string; principalMinor: number; status: string; createdAt: number }[];
  readonly alerts: readonly {
    alertId: string;
    typologyId: string;
    severity: string;
    status: string;
    createdAt: number;
  }[];
}

/** Everything the line's 360 view lists, newest first, each list bounded. */
export async function readLineHistory(db: Db, lineId: string, rowsMax: number): Promise<LineHistoryRow> {
  const [actions, loans, alerts] = await Promise.all([
    db
      .selectFrom('line_actions')
      .selectAll()
      .where('line_id', '=', lineId)
      .orderBy('created_at', 'desc')
      .limit(rowsMax)
      .execute(),
    db
      .selectFrom('loans')
      .select(['id', 'principal_minor', 'status', 'created_at'])
      .where('line_id', '=', lineId)
      .orderBy('created_at', 'desc')
      .limit(rowsMax)
      .execute(),
    db
      .selectFrom('monitor_alerts')
      .select(['alert_id', 'typology_id', 'severity', 'status', 'created_at'])
      .where('line_id', '=', lineId)
      .orderBy('created_at', 'desc')
      .limit(rowsMax)
      .execute(),
  ]);
  return {
    actions: actions.map((a) => ({
      id: a.id,
      type: a.type,
      outcome: a.outcome,
      reasons: a.reasons,
      automated: Boolean(a.automated),
      actor: a.actor,
      prevStatus: a.prev_status,
      newStatus: a.new_status,
      prevLimitMinor: Number(a.prev_limit_minor),
      newLimitMinor: Number(a.new_limit_minor),
      createdAt: Number(a.created_at),
    })),
    loans: loans.map((l) => ({
      id: l.id,
      principalMinor: Number(l.principal_minor),
      status: l.status,
      createdAt: Number(l.created_at),
    })),
    alerts: alerts.map((a) => ({
      alertId: a.alert_id,
      typologyId: a.typology_id,
      severity: a.severity,
      status: a.status,
      createdAt: Number(a.created_at),
    })),
  };
}

export interface EventRow {
  readonly eventId: string;
  readonly type: string;
  readonly occurredAt: number;
  readonly userId: string;
  readonly deviceId: string | null;
  readonly ip: string | null;
  readonly payeeId: string | null;
  readonly amountMinor: number | null;
  readonly currency: string | null;
}

export interface AlertEvidenceRows {
  readonly alert: {
    alertId: string;
    typologyId: string;
    severity: string;
    status: string;
    userId: string;
    lineId: string | null;
    eventId: string;
    occurredAt: number;
    createdAt: number;
    reasons: string;
    evidence: string;
  };
  /** The borrower's events up to the alert, newest first (the timeline an analyst reads). */
  readonly timeline: readonly EventRow[];
  /** Other users' events that share a device, IP or payee with this borrower's timeline (the entity graph). */
  readonly shared: readonly EventRow[];
}

/** An alert with the events behind it and the entities its borrower shares with others, each list bounded. */
export async function readAlertEvidence(
  db: Db,
  alertId: string,
  rowsMax: number,
): Promise<AlertEvidenceRows | null> {
  const alert = await db
    .selectFrom('monitor_alerts')
    .selectAll()
    .where('alert_id', '=', alertId)
    .executeTakeFirst();
  if (!alert) return null;
  const timeline = (
    await db
      .selectFrom('monitor_events')
      .select(EVENT_COLUMNS)
      .where('user_id', '=', alert.user_id)
      .where('occurred_at', '<=', Number(alert.occurred_at))
      .orderBy('occurred_at', 'desc')
      .limit(rowsMax)
      .execute()
  ).map(eventRow);
  const devices = distinct(timeline.map((e) => e.deviceId));
  const ips = distinct(timeline.map((e) => e.ip));
  const payees = distinct(timeline.map((e) => e.payeeId));
  const shared =
    devices.length + ips.length + payees.length === 0
      ? []
      : (
          await db
            .selectFrom('monitor_events')
            .select(EVENT_COLUMNS)
            .where('user_id', '!=', alert.user_id)
            .where((eb) =>
              eb.or([
                ...(devices.length ? [eb('device_id', 'in', devices)] : []),
                ...(ips.length ? [eb('ip', 'in', ips)] : []),
                ...(payees.length ? [eb('payee_id', 'in', payees)] : []),
              ]),
            )
            .orderBy('occurred_at', 'desc')
            .limit(rowsMax)
            .execute()
        ).map(eventRow);
  return {
    alert: {
      alertId: alert.alert_id,
      typologyId: alert.typology_id,
      severity: alert.severity,
      status: alert.status,
      userId: alert.user_id,
      lineId: alert.line_id,
      eventId: alert.event_id,
      occurredAt: Number(alert.occurred_at),
      createdAt: Number(alert.created_at),
      reasons: alert.reasons,
      evidence: alert.evidence,
    },
    timeline,
    shared,
  };
}

const EVENT_COLUMNS = [
  'event_id',
  'type',
  'occurred_at',
  'user_id',
  'device_id',
  'ip',
  'payee_id',
  'amount_minor',
  'currency',
] as const;

function eventRow(r: {
  event_id: string;
  type: string;
  occurred_at: number;
  user_id: string;
  device_id: string | null;
  ip: string | null;
  payee_id: string | null;
  amount_minor: number | null;
  currency: string | null;
}): EventRow {
  return {
    eventId: r.event_id,
    type: r.type,
    occurredAt: Number(r.occurred_at),
    userId: r.user_id,
    deviceId: r.device_id,
    ip: r.ip,
    payeeId: r.payee_id,
    amountMinor: r.amount_minor === null ? null : Number(r.amount_minor),
    currency: r.currency,
  };
}

function distinct(values: readonly (string | null)[]): string[] {
  return [...new Set(values.filter((v): v is string => v !== null))];
}
