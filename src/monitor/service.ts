import type { Clock } from '../domain/clock.js';
import { LgError } from '../domain/errors.js';
import type { IdGenerator } from '../domain/ids.js';
import type { Store } from '../store/db.js';
import {
  ANTI_SCAM_WARNING,
  LINE_ACTIONS,
  type ActionTaken,
  type LineActionPort,
  type MonitorActionType,
  type Severity,
} from './actions.js';
import { contentHash, type EventType, type MonitorEvent } from './events.js';
import { FeatureReader, FeatureRegistry, MAX_FEATURE_WINDOW_MS } from './features/registry.js';
import { MemoryFeatureStore } from './features/memory-store.js';
import { toEntry, type EntityType, type FeatureEntry, type FeatureStore } from './features/store.js';
import { DEFAULT_LINK_OPTIONS, EntityGraph, type LinkOptions } from './links.js';
import type { ListEntityType, ListService } from './lists.js';
import {
  allEvents,
  eventToRow,
  NO_FINDINGS,
  storeRows,
  type ActionRow,
  type AlertFollowUp,
  type AlertRow,
  type EventRow,
} from './repository.js';
import {
  DEFAULT_TYPOLOGIES,
  resolveParameters,
  type ParamValue,
  type ParameterOverrides,
  type TypologyContext,
  type TypologyPack,
} from './typologies/index.js';
import { computeDrawSignals, type DrawSignals, type DrawSignalsRequest } from './signals.js';

export interface GroupCommitOptions {
  /** Commit when this many events are queued (default 500). */
  readonly eventsMax?: number;
  /** …or when the oldest queued request has waited this long (default 2 ms). */
  readonly delayMs?: number;
  /** Push back (LG_RATE_LIMITED) beyond this many queued events (default 20,000). */
  readonly queueEventsMax?: number;
}

export interface MonitorServiceDeps {
  readonly store: Store;
  readonly clock: Clock;
  readonly ids: IdGenerator;
  readonly lists: ListService;
  /** Default: the embedded memory store, rebuilt from the events table on start. */
  readonly features?: FeatureStore;
  readonly lineActions?: LineActionPort;
  readonly typologies?: readonly TypologyPack[];
  readonly parameters?: ParameterOverrides;
  readonly registry?: FeatureRegistry;
  readonly links?: LinkOptions;
  readonly groupCommit?: GroupCommitOptions;
  readonly onError?: (error: unknown, context: string) => void;
  /** Writes with every group's new alerts, in the same unit of work (cases opened for alerts). */
  readonly alertFollowUp?: AlertFollowUp;
}

export interface FiredTypology {
  readonly id: string;
  readonly version: number;
  readonly rules: readonly string[];
}

export interface RaisedAlert {
  readonly alertId: string;
  readonly typology: string;
  readonly severity: Severity;
  readonly userId: string;
  /** false when the firing joined an alert already open for this borrower and typology. */
  readonly new: boolean;
}

export interface EventOutcome {
  readonly eventId: string;
  readonly status: 'accepted' | 'duplicate';
  readonly typologies: readonly FiredTypology[];
  readonly alerts: readonly RaisedAlert[];
  readonly actions: readonly ActionTaken[];
}

type StoredResult = Omit<EventOutcome, 'eventId' | 'status'>;

interface Pending {
  readonly events: readonly MonitorEvent[];
  resolve(outcomes: EventOutcome[]): void;
  reject(error: unknown): void;
}

/** How often (in event time) retention runs, and the bucket of the id index. */
const PRUNE_EVERY_MS = 86_400_000;
/** The longest feature window plus the day a late event may be judged back from (evaluationInstant). */
const RETENTION_MS = MAX_FEATURE_WINDOW_MS + PRUNE_EVERY_MS;

interface Alerted {
  readonly alertId: string;
  readonly t: number;
}

/**
 * The monitor: durable intake with group commit, feature windows, lists, entity links, typologies, alerts, actions.
 *
 * Durability: an event is answered only after the transaction holding it (and its result, alerts and actions) has
 * committed — SQLite runs WAL + synchronous=FULL, so that is after fsync. Concurrent requests are group-committed:
 * one transaction per `eventsMax` events or `delayMs`, each request resolved after ITS group commits (the classic
 * group-commit trade: one fsync amortised over many writers).
 */
export class MonitorService {
  readonly registry: FeatureRegistry;
  readonly features: FeatureStore;
  readonly reader: FeatureReader;
  readonly graph: EntityGraph;
  readonly typologies: readonly TypologyPack[];
  private readonly params = new Map<string, ReadonlyMap<string, ParamValue>>();
  private readonly known = new Map<string, string>();
  /** Known event ids by occurredAt day, so ids beyond the retention horizon can be forgotten (bounded memory). */
  private readonly knownByDay = new Map<number, string[]>();
  /** Newest occurredAt seen; the retention horizon follows it. */
  private newest = Number.NEGATIVE_INFINITY;
  private prunedAt = Number.NEGATIVE_INFINITY;
  /** Set once ids have been forgotten: from then on unknown ids are checked against the table before insert. */
  private forgotIds = false;
  private readonly userLine = new Map<string, string>();
  private readonly lastAlert = new Map<string, Alerted>();
  private readonly openAlerts = new Map<string, number>();
  private queue: Pending[] = [];
  private queuedEvents = 0;
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  private actionChain: Promise<void> = Promise.resolve();
  private closed = false;
  private readonly eventsMax: number;
  private readonly delayMs: number;
  private readonly queueEventsMax: number;

  constructor(private readonly deps: MonitorServiceDeps) {
    this.registry = deps.registry ?? new FeatureRegistry();
    this.features = deps.features ?? new MemoryFeatureStore();
    this.reader = new FeatureReader(this.registry, this.features);
    this.graph = new EntityGraph(deps.links ?? DEFAULT_LINK_OPTIONS);
    this.typologies = deps.typologies ?? DEFAULT_TYPOLOGIES;
    for (const pack of this.typologies) this.params.set(pack.id, resolveParameters(pack, deps.parameters));
    this.eventsMax = deps.groupCommit?.eventsMax ?? 500;
    this.delayMs = deps.groupCommit?.delayMs ?? 2;
    this.queueEventsMax = deps.groupCommit?.queueEventsMax ?? 20_000;
  }

  /** Rebuilds memory state (feature windows, links, known ids, alert state) from the store, then resumes pending actions. */
  async start(): Promise<void> {
    await this.deps.lists.load();
    for await (const page of allEvents(this.deps.store.db)) {
      const entries: FeatureEntry[] = [];
      for (const { event, receivedAt, hash } of page) {
        this.remember(event.eventId, hash, event.occurredAt);
        this.track(event);
        entries.push(toEntry(event, receivedAt));
      }
      // Stored events are committed: a shared store marks them so (and restores any a crashed process lost).
      await (this.features.commit ? this.features.commit(entries) : this.features.append(entries));
    }
    await this.prune();
    const alerts = await this.deps.store.db
      .selectFrom('monitor_alerts')
      .select(['alert_id', 'typology_id', 'user_id', 'occurred_at', 'status'])
      .orderBy('occurred_at')
      .execute();
    for (const a of alerts) this.noteAlert(a);
    const pending = await this.deps.store.db
      .selectFrom('monitor_actions')
      .selectAll()
      .where('status', '=', 'PENDING')
      .execute();
    this.applyLineActions(pending);
  }

  /** Accepts events; resolves after they are durable, with one outcome per event in request order. */
  ingest(events: readonly MonitorEvent[]): Promise<EventOutcome[]> {
    if (this.closed) return Promise.reject(new LgError('LG_UNAVAILABLE', 'the monitor is shutting down'));
    if (events.length === 0) return Promise.resolve([]);
    if (this.queuedEvents + events.length > this.queueEventsMax) {
      return Promise.reject(new LgError('LG_RATE_LIMITED', 'the event queue is full; retry shortly'));
    }
    return new Promise((resolve, reject) => {
      this.queue.push({ events, resolve, reject });
      this.queuedEvents += events.length;
      this.schedule();
    });
  }

  drawSignals(request: DrawSignalsRequest): Promise<DrawSignals> {
    return computeDrawSignals(this, request);
  }

  get lists(): ListService {
    return this.deps.lists;
  }

  get db() {
    return this.deps.store.db;
  }

  /**
   * The borrower's open alerts, as a draw decision reads them. On PostgreSQL several processes raise and close alerts,
   * so the count comes from the shared table (an index on user_id); the embedded store has one process, whose memory
   * is kept in step with every alert it writes.
   */
  openAlertCount(userId: string): number | Promise<number> {
    if (this.deps.store.kind !== 'postgres') return this.openAlerts.get(userId) ?? 0;
    return this.deps.store.db
      .selectFrom('monitor_alerts')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('user_id', '=', userId)
      .where('status', '=', 'OPEN')
      .executeTakeFirstOrThrow()
      .then((row) => Number(row.n));
  }

  listHits(entityType: ListEntityType, value: string | undefined, at: number) {
    return value === undefined ? [] : this.deps.lists.check(entityType, value, at);
  }

  lineOf(userId: string): string | undefined {
    return this.userLine.get(userId);
  }

  parameter(typologyId: string, name: string): ParamValue | undefined {
    return this.params.get(typologyId)?.get(name);
  }

  /** Changes an alert's status (case management); keeps the open-alert count the engine reads in step. */
  async setAlertStatus(alertId: string, status: 'OPEN' | 'ACKNOWLEDGED' | 'CLOSED'): Promise<void> {
    const row = await this.deps.store.db
      .selectFrom('monitor_alerts')
      .select(['status', 'user_id'])
      .where('alert_id', '=', alertId)
      .executeTakeFirst();
    if (!row) throw new LgError('LG_NOT_FOUND', `no alert ${alertId}`);
    if (row.status === status) return;
    await this.deps.store.db
      .updateTable('monitor_alerts')
      .set({ status })
      .where('alert_id', '=', alertId)
      .execute();
    const delta = (status === 'OPEN' ? 1 : 0) - (row.status === 'OPEN' ? 1 : 0);
    this.openAlerts.set(row.user_id, Math.max(0, (this.openAlerts.get(row.user_id) ?? 0) + delta));
  }

  /** Waits for queued events and line actions, then refuses new work. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    while (this.queue.length > 0 || this.flushing) await (this.flushing ?? this.flush());
    await this.actionChain;
  }

  /** Number of distinct events the monitor holds (tests, health). */
  get eventCount(): number {
    return this.known.size;
  }

  private schedule(): void {
    if (this.flushing) return;
    if (this.queuedEvents >= this.eventsMax) {
      if (this.timer) clearTimeout(this.timer);
      this.timer = undefined;
      void this.flush();
    } else if (!this.timer) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        void this.flush();
      }, this.delayMs);
    }
  }

  private flush(): Promise<void> {
    if (this.flushing) return this.flushing;
    this.flushing = (async () => {
      while (this.queue.length > 0) {
        const group: Pending[] = [];
        let n = 0;
        while (
          this.queue.length > 0 &&
          (group.length === 0 || n + (this.queue[0]?.events.length ?? 0) <= this.eventsMax)
        ) {
          const next = this.queue.shift() as Pending;
          group.push(next);
          n += next.events.length;
        }
        this.queuedEvents -= n;
        await this.processGroup(group).catch((error: unknown) => {
          for (const p of group) p.reject(error);
        });
      }
    })().finally(() => {
      this.flushing = undefined;
      if (this.queue.length > 0) this.schedule();
    });
    return this.flushing;
  }

  private async processGroup(group: readonly Pending[]): Promise<void> {
    const receivedAt = this.deps.clock.now();
    // PostgreSQL may have other writers; after ids were forgotten (retention), a repeat may predate memory.
    if (this.deps.store.kind === 'postgres' || this.forgotIds) await this.learnForeignIds(group);
    const accepted: { readonly pending: Pending; fresh: boolean[] }[] = [];
    const groupNew = new Map<string, string>();
    const newEvents: MonitorEvent[] = [];
    for (const pending of group) {
      const plan = this.classify(pending.events, groupNew);
      if ('conflicts' in plan) {
        pending.reject(
          new LgError(
            'LG_EVENT_CONFLICT',
            `eventId already used for different content: ${plan.conflicts.map((c) => `events[${c.index}] ${c.eventId}`).join(', ')}`,
            plan.conflicts,
          ),
        );
        continue;
      }
      for (const [i, fresh] of plan.fresh.entries()) {
        const event = pending.events[i] as MonitorEvent;
        if (fresh) {
          groupNew.set(event.eventId, plan.hashes[i] as string);
          newEvents.push(event);
        }
      }
      accepted.push({ pending, fresh: plan.fresh });
    }
    const entries = newEvents.map((e) => toEntry(e, receivedAt));
    const snapshot = new Map(this.lastAlert);
    const openSnapshot = new Map(this.openAlerts);
    await this.features.append(entries);
    const rows = { events: [] as EventRow[], alerts: [] as AlertRow[], actions: [] as ActionRow[] };
    const results = new Map<string, StoredResult>();
    let stored: Set<string>;
    try {
      for (const event of newEvents) {
        const at = this.evaluationInstant(event);
        this.track(event);
        const result = await this.evaluate(event, at, rows, receivedAt);
        results.set(event.eventId, result);
        rows.events.push(eventToRow(event, receivedAt, groupNew.get(event.eventId) as string, result));
      }
      stored = await storeRows(this.deps.store, rows, this.deps.alertFollowUp);
    } catch (error) {
      // Nothing of this group is durable: take its events out of the windows and restore alert state, then fail it.
      // A shared feature store keeps an entry another process has committed meanwhile (redis-store.ts).
      await this.features.remove(entries).catch((e: unknown) => this.deps.onError?.(e, 'feature rollback'));
      this.restore(snapshot, openSnapshot);
      throw error;
    }
    if (stored.size < newEvents.length) {
      // Another process stored some of these events first: its findings are the answer (loaded in `answer`), ours
      // were not written, so the alert state goes back to before this group plus the alerts we did store.
      for (const event of newEvents) if (!stored.has(event.eventId)) results.delete(event.eventId);
      this.restore(snapshot, openSnapshot);
      for (const alert of rows.alerts) if (stored.has(alert.event_id)) this.noteAlert(alert);
      for (const item of accepted)
        item.fresh = item.fresh.map(
          (fresh, i) => fresh && stored.has((item.pending.events[i] as MonitorEvent).eventId),
        );
    }
    // Committed: no other process's rollback may take these entries out of the shared windows any more.
    await this.features
      .commit?.(entries.filter((entry) => stored.has(entry.eventId)))
      .catch((e: unknown) => this.deps.onError?.(e, 'feature commit'));
    for (const event of newEvents)
      this.remember(event.eventId, groupNew.get(event.eventId) as string, event.occurredAt);
    // Retention runs once per day of event time, before answering, so an answer reflects the pruned state.
    if (this.newest - this.prunedAt >= PRUNE_EVERY_MS)
      await this.prune().catch((e: unknown) => this.deps.onError?.(e, 'retention'));
    await this.answer(accepted, results);
    this.applyLineActions(rows.actions.filter((a) => a.status === 'PENDING' && stored.has(a.event_id)));
  }

  /** Keeps a stored alert in the dedup and open-count state. */
  private noteAlert(
    a: Pick<AlertRow, 'alert_id' | 'typology_id' | 'user_id' | 'occurred_at' | 'status'>,
  ): void {
    this.lastAlert.set(`${a.typology_id}|${a.user_id}`, { alertId: a.alert_id, t: Number(a.occurred_at) });
    if (a.status === 'OPEN') this.openAlerts.set(a.user_id, (this.openAlerts.get(a.user_id) ?? 0) + 1);
  }

  private remember(eventId: string, hash: string, occurredAt: number): void {
    this.known.set(eventId, hash);
    const day = Math.floor(occurredAt / PRUNE_EVERY_MS);
    const ids = this.knownByDay.get(day);
    if (ids) ids.push(eventId);
    else this.knownByDay.set(day, [eventId]);
  }

  /**
   * Bounded memory: forgets feature entries, entity links and event ids older than the longest feature window (90 days, plus the one
   * day a late event may be judged back from) before the newest event. The events table keeps everything; a repeat
   * of a forgotten id is then found there (learnForeignIds) and still answered with its first result.
   */
  private async prune(): Promise<void> {
    if (this.newest === Number.NEGATIVE_INFINITY) return;
    this.prunedAt = this.newest;
    const horizon = this.newest - RETENTION_MS;
    const lastDay = Math.floor(horizon / PRUNE_EVERY_MS);
    // Feature entries exist only for remembered events: no id bucket past the horizon means nothing to prune.
    let due = false;
    for (const day of this.knownByDay.keys()) if (day < lastDay) due = true;
    if (!due) return;
    await this.features.prune?.(horizon);
    this.graph.prune(horizon);
    for (const [day, ids] of this.knownByDay) {
      if (day >= lastDay) continue;
      for (const id of ids) this.known.delete(id);
      this.knownByDay.delete(day);
      this.forgotIds = true;
    }
  }

  /** PostgreSQL may have several writers: learn which of the group's ids another process already stored. */
  private async learnForeignIds(group: readonly Pending[]): Promise<void> {
    const unknown = [
      ...new Set(group.flatMap((p) => p.events.map((e) => e.eventId)).filter((id) => !this.known.has(id))),
    ];
    for (let i = 0; i < unknown.length; i += 500) {
      const rows = await this.deps.store.db
        .selectFrom('monitor_events')
        .select(['event_id', 'content_hash', 'occurred_at'])
        .where('event_id', 'in', unknown.slice(i, i + 500))
        .execute();
      for (const r of rows) this.remember(r.event_id, r.content_hash, Number(r.occurred_at));
    }
  }

  private classify(
    events: readonly MonitorEvent[],
    groupNew: ReadonlyMap<string, string>,
  ): { fresh: boolean[]; hashes: string[] } | { conflicts: { index: number; eventId: string }[] } {
    const local = new Map<string, string>();
    const fresh: boolean[] = [];
    const hashes: string[] = [];
    const conflicts: { index: number; eventId: string }[] = [];
    events.forEach((event, index) => {
      const hash = contentHash(event);
      const seen = this.known.get(event.eventId) ?? groupNew.get(event.eventId) ?? local.get(event.eventId);
      if (seen !== undefined && seen !== hash) conflicts.push({ index, eventId: event.eventId });
      fresh.push(seen === undefined);
      hashes.push(hash);
      local.set(event.eventId, hash);
    });
    return conflicts.length > 0 ? { conflicts } : { fresh, hashes };
  }

  private async answer(
    accepted: readonly { pending: Pending; fresh: boolean[] }[],
    results: Map<string, StoredResult>,
  ): Promise<void> {
    const missing = new Set<string>();
    for (const { pending } of accepted)
      for (const e of pending.events) if (!results.has(e.eventId)) missing.add(e.eventId);
    const ids = [...missing];
    for (let i = 0; i < ids.length; i += 500) {
      const stored = await this.deps.store.db
        .selectFrom('monitor_events')
        .select(['event_id', 'result'])
        .where('event_id', 'in', ids.slice(i, i + 500))
        .execute();
      for (const r of stored) results.set(r.event_id, JSON.parse(r.result) as StoredResult);
    }
    for (const { pending, fresh } of accepted) {
      const firstIndex = new Map<string, number>();
      pending.resolve(
        pending.events.map((e, i) => {
          const first = firstIndex.get(e.eventId);
          firstIndex.set(e.eventId, first ?? i);
          const result = results.get(e.eventId) ?? NO_FINDINGS;
          const status = fresh[i] && first === undefined ? 'accepted' : 'duplicate';
          return { eventId: e.eventId, status, ...result };
        }),
      );
    }
  }

  /** A late event is judged from the borrower's latest known instant (within a day), so a pattern it completes is seen. */
  private evaluationInstant(event: MonitorEvent): number {
    const latest = this.graph.lastSeen(event.userId);
    if (latest === undefined || latest <= event.occurredAt) return event.occurredAt;
    return latest - event.occurredAt <= 86_400_000 ? latest : event.occurredAt;
  }

  private track(event: MonitorEvent): void {
    if (event.occurredAt > this.newest) this.newest = event.occurredAt;
    if (event.lineId) this.userLine.set(event.userId, event.lineId);
    this.graph.add(event);
  }

  private restore(lastAlert: Map<string, Alerted>, open: Map<string, number>): void {
    this.lastAlert.clear();
    for (const [k, v] of lastAlert) this.lastAlert.set(k, v);
    this.openAlerts.clear();
    for (const [k, v] of open) this.openAlerts.set(k, v);
  }

  private async evaluate(
    event: MonitorEvent,
    at: number,
    rows: { alerts: AlertRow[]; actions: ActionRow[] },
    now: number,
  ): Promise<StoredResult> {
    const fired: FiredTypology[] = [];
    const alerts: RaisedAlert[] = [];
    const actions: ActionTaken[] = [];
    if (this.deps.lists.check('user', event.userId, at).some((h) => h.list === 'white')) return NO_FINDINGS;
    for (const pack of this.typologies) {
      if (!pack.triggers.includes(event.type)) continue;
      let hit;
      try {
        hit = await pack.evaluate(this.context(pack, event, at));
      } catch (error) {
        this.deps.onError?.(error, `typology ${pack.id}`);
        continue;
      }
      if (!hit) continue;
      fired.push({ id: pack.id, version: pack.version, rules: hit.rules });
      const reasons = [...new Set([...pack.reasons, ...(hit.extraReasons ?? [])])];
      for (const userId of [event.userId, ...(hit.relatedUsers ?? [])]) {
        const alert = this.raise(pack, event, userId, { reasons, hit, now, rows });
        alerts.push(alert);
        if (alert.new && userId === event.userId) {
          const taken = this.actionsFor(pack, event, alert.alertId, reasons, now);
          actions.push(...taken.map((t) => t.taken));
          rows.actions.push(...taken.map((t) => t.row));
        }
      }
    }
    return fired.length === 0 && alerts.length === 0 && actions.length === 0
      ? NO_FINDINGS
      : { typologies: fired, alerts, actions };
  }

  private raise(
    pack: TypologyPack,
    event: MonitorEvent,
    userId: string,
    o: {
      reasons: string[];
      hit: NonNullable<Awaited<ReturnType<TypologyPack['evaluate']>>>;
      now: number;
      rows: { alerts: AlertRow[] };
    },
  ): RaisedAlert {
    const key = `${pack.id}|${userId}`;
    const last = this.lastAlert.get(key);
    const dedupMs = Number(this.params.get(pack.id)?.get('alertDedupWindowMs') ?? 0);
    if (last && Math.abs(event.occurredAt - last.t) < dedupMs) {
      return { alertId: last.alertId, typology: pack.id, severity: pack.severity, userId, new: false };
    }
    const alertId = this.deps.ids.next();
    this.lastAlert.set(key, { alertId, t: event.occurredAt });
    this.openAlerts.set(userId, (this.openAlerts.get(userId) ?? 0) + 1);
    const lineId =
      userId === event.userId ? (event.lineId ?? this.userLine.get(userId)) : this.userLine.get(userId);
    o.rows.alerts.push({
      alert_id: alertId,
      typology_id: pack.id,
      typology_version: pack.version,
      severity: pack.severity,
      status: 'OPEN',
      user_id: userId,
      line_id: lineId ?? null,
      event_id: event.eventId,
      occurred_at: event.occurredAt,
      created_at: o.now,
      reasons: JSON.stringify(o.reasons),
      evidence: JSON.stringify({
        rules: o.hit.rules,
        eventIds: o.hit.eventIds,
        features: o.hit.features,
        relatedUsers: o.hit.relatedUsers ?? [],
      }),
      actions: JSON.stringify(userId === event.userId ? pack.actions : []),
    });
    return { alertId, typology: pack.id, severity: pack.severity, userId, new: true };
  }

  private actionsFor(
    pack: TypologyPack,
    event: MonitorEvent,
    alertId: string,
    reasons: string[],
    now: number,
  ): { taken: ActionTaken; row: ActionRow }[] {
    return pack.actions.map((type: MonitorActionType) => {
      const actionId = this.deps.ids.next();
      const lineId = event.lineId ?? this.userLine.get(event.userId);
      const isLine = LINE_ACTIONS.has(type);
      const status: ActionTaken['status'] = !isLine
        ? 'INSTRUCTED'
        : lineId && this.deps.lineActions
          ? 'PENDING'
          : 'SKIPPED';
      const cooldownMs =
        type === 'COOLDOWN' ? Number(this.params.get(pack.id)?.get('cooldownMs') ?? 86_400_000) : undefined;
      const taken: ActionTaken = {
        actionId,
        type,
        status,
        reasons,
        ...(isLine && lineId ? { lineId } : {}),
        ...(cooldownMs === undefined ? {} : { cooldownMs, warning: ANTI_SCAM_WARNING }),
      };
      const detail =
        status === 'SKIPPED'
          ? lineId
            ? 'no line-action port wired'
            : 'no credit line known for the borrower'
          : '';
      const row: ActionRow = {
        action_id: actionId,
        alert_id: alertId,
        event_id: event.eventId,
        type,
        user_id: event.userId,
        line_id: isLine ? (lineId ?? null) : null,
        status: status === 'INSTRUCTED' ? 'DONE' : status,
        detail: JSON.stringify({ reasons, detail, ...(cooldownMs === undefined ? {} : { cooldownMs }) }),
        created_at: now,
        updated_at: now,
      };
      return { taken, row };
    });
  }

  private context(pack: TypologyPack, event: MonitorEvent, at: number): TypologyContext {
    return new PackContext(
      this,
      pack.id,
      this.params.get(pack.id) as ReadonlyMap<string, ParamValue>,
      event,
      at,
    );
  }

  /** Line actions go to the core after commit, one at a time; each row records the outcome (DONE, BLOCKED, FAILED). */
  private applyLineActions(rows: readonly ActionRow[]): void {
    const port = this.deps.lineActions;
    if (!port || rows.length === 0) return;
    this.actionChain = this.actionChain.then(async () => {
      for (const row of rows) {
        const reasons = (JSON.parse(row.detail) as { reasons: string[] }).reasons;
        let status: string;
        let detail: string;
        try {
          const outcome = await port.applyLineAction(row.line_id as string, {
            type: row.type as 'FREEZE_DRAW' | 'SUSPEND',
            reasons,
            automated: true,
            traceId: row.action_id,
          });
          status = outcome.status === 'APPLIED' ? 'DONE' : 'BLOCKED';
          detail = outcome.detail ?? '';
        } catch (error) {
          status = 'FAILED';
          detail = error instanceof Error ? error.message : String(error);
          this.deps.onError?.(error, `line action ${row.action_id}`);
        }
        await this.deps.store.db
          .updateTable('monitor_actions')
          .set({ status, detail: JSON.stringify({ reasons, detail }), updated_at: this.deps.clock.now() })
          .where('action_id', '=', row.action_id)
          .execute()
          .catch((e: unknown) => this.deps.onError?.(e, 'action status'));
      }
    });
  }
}

/** A typology's view for one event; methods on the prototype, so evaluating a pack allocates one small object. */
class PackContext implements TypologyContext {
  constructor(
    private readonly monitor: MonitorService,
    private readonly packId: string,
    private readonly params: ReadonlyMap<string, ParamValue>,
    readonly event: MonitorEvent,
    readonly at: number,
  ) {}

  get features(): FeatureReader {
    return this.monitor.reader;
  }

  get graph(): EntityGraph {
    return this.monitor.graph;
  }

  window(
    entity: EntityType,
    id: string,
    types: readonly EventType[],
    fromMs: number,
    toMs: number,
  ): Promise<FeatureEntry[]> {
    return this.monitor.features.events({ entity, id, types, fromMs, toMs });
  }

  listHits(entityType: ListEntityType, value: string | undefined) {
    return this.monitor.listHits(entityType, value, this.at);
  }

  num(name: string): number {
    const v = this.params.get(name);
    if (typeof v !== 'number') throw new Error(`typology ${this.packId}: parameter ${name} is not a number`);
    return v;
  }

  strings(name: string): readonly string[] {
    const v = this.params.get(name);
    if (!Array.isArray(v)) throw new Error(`typology ${this.packId}: parameter ${name} is not a list`);
    return v as readonly string[];
  }
}
