import {
  BEFORE_ANY_COMMIT,
  LgError,
  readInCommitOrder,
  type Clock,
  type CommitPageCursor,
  type IdGenerator,
} from '../domain/index.js';
import {
  MONITOR_ALERTS_TOPIC,
  type AlertPort,
  type AlertRaise,
  type AlertPage,
  type AlertQuery,
  type AlertRaised,
  type AuditTrail,
  type NewAlert,
  type Severity,
} from '../monitor/index.js';

/**
 * Alerts: what the monitor (or the platform) asks an analyst to look at. This module keeps their state — the dedupe
 * window per borrower and typology, the open-alert count a draw decision reads — lists them and records dispositions.
 * The monitor raises alerts through AlertPort and writes them in its own unit of work; every alert and every status
 * change carries a ledger entry and an outbox row.
 */

export type AlertStatus = 'OPEN' | 'ACKNOWLEDGED' | 'CLOSED';
export type { AlertPage, AlertQuery, AlertView } from '../monitor/index.js';

/** What the alert state is rebuilt from. */
export interface AlertState {
  readonly alertId: string;
  readonly typologyId: string;
  readonly userId: string;
  readonly occurredAt: number;
  readonly status: string;
}

/** A page of alerts changed after a follower's place: each alert's state now, with the transaction that last changed it. */
export interface AlertFeedPage {
  /** The read's snapshot (src/domain/commit-order.ts): once every page is read, the follower's place. */
  readonly snapshot: string;
  readonly alerts: readonly (AlertState & { readonly xid: string })[];
}

/** The alerts' store (src/store/cases-alerts.ts). */
export interface AlertStore {
  /** True when other processes raise and close alerts (a shared database): counts come from the table. */
  readonly sharedWriters: boolean;
  alertStates(): Promise<AlertState[]>;
  /** Where a process following the others starts (a snapshot), taken before load() reads the alerts (shared stores). */
  followFrom(): Promise<string>;
  /**
   * Alerts whose creation or latest status change a unit made visible after a follower's place, in commit order, a
   * page of at most `limit`
   * (following the other processes; a store with one writer returns none). Not by created_at or status_at: those are
   * the writer's clock, stamped before its unit commits.
   */
  alertsChangedSince(from: CommitPageCursor, limit: number): Promise<AlertFeedPage>;
  countOpen(userId: string): Promise<number>;
  /**
   * Sets an alert's status in one unit with the trail `trail` builds from the current state (nothing is written when
   * the status is already `status`); returns the state before, or undefined when there is no such alert.
   */
  changeStatus(
    alertId: string,
    status: AlertStatus,
    at: number,
    trail: (current: AlertState) => AuditTrail,
  ): Promise<AlertState | undefined>;
  list(q: AlertQuery): Promise<AlertPage>;
  insertAlert(alert: NewAlert, trail: AuditTrail): Promise<void>;
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

interface Alerted {
  readonly alertId: string;
  readonly t: number;
}

/** Alerts per follow read; a follower that fell far behind pages on. */
const FOLLOW_PAGE_ALERTS = 1_000;

/** The ledger entry and outbox message of a new alert. */
export function alertRaisedTrail(alert: NewAlert, ids: IdGenerator): AuditTrail {
  const payload = {
    alertId: alert.alertId,
    typologyId: alert.typologyId,
    typologyVersion: alert.typologyVersion,
    severity: alert.severity,
    userId: alert.userId,
    lineId: alert.lineId,
    eventId: alert.eventId,
    reasons: alert.reasons,
  };
  return {
    ledger: {
      entryId: ids.next(),
      kind: 'alert.raised',
      subjectId: alert.alertId,
      recordedAt: alert.createdAt,
      payload,
    },
    outbox: {
      id: ids.next(),
      topic: MONITOR_ALERTS_TOPIC,
      payload: { type: 'alert.raised', ...payload },
      at: alert.createdAt,
    },
  };
}

function statusTrail(
  ids: IdGenerator,
  change: { current: AlertState; status: AlertStatus; at: number },
): AuditTrail {
  const payload = { alertId: change.current.alertId, from: change.current.status, to: change.status };
  return {
    ledger: {
      entryId: ids.next(),
      kind: 'alert.status',
      subjectId: change.current.alertId,
      recordedAt: change.at,
      payload,
    },
    outbox: {
      id: ids.next(),
      topic: MONITOR_ALERTS_TOPIC,
      payload: { type: 'alert.status', ...payload },
      at: change.at,
    },
  };
}

/**
 * The alert state of one process: the last alert per (typology, borrower) for dedupe, and open alerts per borrower.
 * On a shared database the open count is read from the table (another process may have raised or closed one).
 */
export class AlertBook implements AlertPort {
  private readonly lastAlert = new Map<string, Alerted>();
  private readonly openAlerts = new Map<string, number>();
  /** follow()'s place: a snapshot whose every ended transaction's alert changes it has read (commit-order.ts). */
  private followedTo = BEFORE_ANY_COMMIT;

  constructor(
    private readonly store: AlertStore,
    private readonly deps: { readonly clock: Clock; readonly ids: IdGenerator },
  ) {}

  async load(): Promise<void> {
    this.lastAlert.clear();
    this.openAlerts.clear();
    // Whatever commits while the table is read is picked up by follow() from here.
    if (this.store.sharedWriters) this.followedTo = await this.store.followFrom();
    for (const a of await this.store.alertStates()) this.note(a);
  }

  /**
   * Learns the alerts other processes raised or closed since the last call, so the dedupe window holds across the
   * fleet within one follow interval (README: what each process keeps in memory), and a closed alert stops absorbing
   * new firings there too. It reads them in the order their units committed (the transaction that last changed each
   * alert), as the monitor's intake follows events, not by created_at or status_at, which are the writer's clock: a
   * process whose clock lags, or a unit that commits late, is learnt all the same. Each alert is read in its state now,
   * so reading one again (load() and a first follow() may both see one) changes nothing.
   * Only the dedupe state is learnt; on a shared database the open-alert count is read from the table.
   */
  async follow(): Promise<void> {
    if (!this.store.sharedWriters) return;
    const followedTo = await readInCommitOrder(
      { seen: this.followedTo },
      FOLLOW_PAGE_ALERTS,
      async (cursor) => {
        const { snapshot, alerts } = await this.store.alertsChangedSince(cursor, FOLLOW_PAGE_ALERTS);
        const last = alerts[alerts.length - 1];
        return { snapshot, rows: alerts, last: last && { xid: last.xid, id: last.alertId } };
      },
      (alerts) => alerts.forEach((a) => this.learn(a)),
    );
    // Its pages never stop the read, so it answers a place.
    this.followedTo = followedTo ?? this.followedTo;
  }

  raise(input: AlertRaise): AlertRaised {
    const key = `${input.typologyId}|${input.userId}`;
    const last = this.lastAlert.get(key);
    if (last && Math.abs(input.occurredAt - last.t) < input.dedupMs)
      return { new: false, alertId: last.alertId };
    const alert: NewAlert = {
      alertId: this.deps.ids.next(),
      typologyId: input.typologyId,
      typologyVersion: input.typologyVersion,
      severity: input.severity,
      userId: input.userId,
      lineId: input.lineId,
      eventId: input.eventId,
      occurredAt: input.occurredAt,
      createdAt: input.now,
      reasons: input.reasons,
      evidence: input.evidence,
      actions: input.actions,
    };
    this.noteStored(alert);
    return { new: true, alertId: alert.alertId, alert, audit: alertRaisedTrail(alert, this.deps.ids) };
  }

  checkpoint(): () => void {
    const lastAlert = new Map(this.lastAlert);
    const openAlerts = new Map(this.openAlerts);
    return () => {
      this.lastAlert.clear();
      for (const [k, v] of lastAlert) this.lastAlert.set(k, v);
      this.openAlerts.clear();
      for (const [k, v] of openAlerts) this.openAlerts.set(k, v);
    };
  }

  noteStored(alert: NewAlert): void {
    this.note({ ...alert, status: 'OPEN' });
  }

  openCount(userId: string): number | Promise<number> {
    if (!this.store.sharedWriters) return this.openAlerts.get(userId) ?? 0;
    return this.store.countOpen(userId);
  }

  /** Changes an alert's status (a disposition); keeps the open-alert count the engine reads in step. */
  async setStatus(alertId: string, status: AlertStatus): Promise<void> {
    const at = this.deps.clock.now();
    const before = await this.store.changeStatus(alertId, status, at, (current) =>
      statusTrail(this.deps.ids, { current, status, at }),
    );
    if (!before) throw new LgError('LG_NOT_FOUND', `no alert ${alertId}`);
    // A closed alert is a finished incident: a firing after it raises a new alert with its own actions.
    const key = `${before.typologyId}|${before.userId}`;
    if (status === 'CLOSED' && this.lastAlert.get(key)?.alertId === alertId) this.lastAlert.delete(key);
    const delta = (status === 'OPEN' ? 1 : 0) - (before.status === 'OPEN' ? 1 : 0);
    this.openAlerts.set(before.userId, Math.max(0, (this.openAlerts.get(before.userId) ?? 0) + delta));
  }

  /** Alerts newest first, with their actions; `nextCursor` pages on. */
  list(q: AlertQuery): Promise<AlertPage> {
    return this.store.list(q);
  }

  /**
   * An alert that no account event fired: the platform itself asks for an analyst (the blast-radius guard stopping
   * automated restrictions, for one). It lands in the same queue as typology alerts.
   */
  async recordSystemAlert(input: SystemAlertInput): Promise<string> {
    const alertId = this.deps.ids.next();
    const now = this.deps.clock.now();
    const alert: NewAlert = {
      alertId,
      typologyId: input.typologyId,
      typologyVersion: 1,
      severity: input.severity,
      userId: input.userId ?? 'system',
      lineId: input.lineId ?? null,
      eventId: `system:${alertId}`,
      occurredAt: now,
      createdAt: now,
      reasons: input.reasons,
      evidence: input.evidence,
      actions: [],
    };
    await this.store.insertAlert(alert, alertRaisedTrail(alert, this.deps.ids));
    if (alert.userId !== 'system') this.noteStored(alert);
    return alertId;
  }

  /** An alert another process raised or changed, in its state now, joins the dedupe window (or, closed, leaves it). */
  private learn(a: AlertState): void {
    const key = `${a.typologyId}|${a.userId}`;
    const known = this.lastAlert.get(key);
    if (a.status === 'CLOSED') {
      if (known?.alertId === a.alertId) this.lastAlert.delete(key);
    } else if (!known || known.t <= a.occurredAt)
      this.lastAlert.set(key, { alertId: a.alertId, t: a.occurredAt });
  }

  private note(a: AlertState): void {
    if (a.status !== 'CLOSED')
      this.lastAlert.set(`${a.typologyId}|${a.userId}`, { alertId: a.alertId, t: a.occurredAt });
    if (a.status === 'OPEN') this.openAlerts.set(a.userId, (this.openAlerts.get(a.userId) ?? 0) + 1);
  }
}

/** Alerts newest first, with their actions (the listing the API and the CLI page through). */
export function listAlerts(alerts: Pick<AlertPort, 'list'>, q: AlertQuery): Promise<AlertPage> {
  return alerts.list(q);
}
