import { BEFORE_ANY_COMMIT, LgError, readInCommitOrder, type Clock } from '../domain/index.js';
import { LINE_SOURCE_TYPES, type AccountMemory } from './account-memory.js';
import type { ActionDispatcher } from './dispatcher.js';
import { EventIds, PRUNE_EVERY_MS } from './event-ids.js';
import {
  findingsJson,
  NO_FINDINGS,
  type Evaluator,
  type Findings,
  type GroupFindings,
} from './evaluation.js';
import { withCanonicalKeys, type MonitorEvent } from './events.js';
import { MAX_FEATURE_WINDOW_MS } from './features/registry.js';
import { isSharedFeatureStore, toEntry, type FeatureEntry, type FeatureStore } from './features/store.js';
import {
  type AlertPort,
  type EventWrite,
  type KnownEvent,
  type LineMention,
  type MonitorIntakeStore,
  type PendingLineAction,
} from './ports.js';

export interface GroupCommitOptions {
  /** Commit when this many events are queued (default 500). */
  readonly eventsMax?: number;
  /** …or when the oldest queued request has waited this long (default 2 ms). */
  readonly delayMs?: number;
  /** Push back (LG_RATE_LIMITED) beyond this many queued events (default 20,000). */
  readonly queueEventsMax?: number;
}

export interface IntakeDeps {
  readonly store: MonitorIntakeStore;
  readonly clock: Clock;
  readonly features: FeatureStore;
  readonly memory: AccountMemory;
  readonly evaluator: Evaluator;
  readonly alerts: Pick<AlertPort, 'checkpoint' | 'noteStored'>;
  readonly dispatcher: ActionDispatcher;
  readonly groupCommit?: GroupCommitOptions;
  readonly onError?: (error: unknown, context: string) => void;
}

/** The answer to one event: accepted (new) or duplicate (its first answer), with what it found. */
export interface EventOutcome extends Findings {
  readonly eventId: string;
  readonly status: 'accepted' | 'duplicate';
}

interface Pending {
  readonly events: readonly MonitorEvent[];
  resolve(outcomes: EventOutcome[]): void;
  reject(error: unknown): void;
}

interface Accepted {
  readonly pending: Pending;
  fresh: boolean[];
}

/** A group after dedupe: the requests it answers, and its new events with their content hashes. */
interface Admitted {
  readonly accepted: Accepted[];
  readonly newEvents: MonitorEvent[];
  readonly hashes: Map<string, string>;
}

/** A group after its unit of work: what each new event found, and which of them this unit stored. */
interface Committed {
  readonly results: Map<string, Findings>;
  readonly stored: ReadonlySet<string>;
  readonly findings: GroupFindings;
  readonly entries: FeatureEntry[];
}

/** The longest feature window plus the day a late event may be judged back from (evaluationInstant). */
export const RETENTION_MS = MAX_FEATURE_WINDOW_MS + PRUNE_EVERY_MS;
/** Ids per store read (learning foreign ids, loading first answers). */
const READ_IDS_MAX = 500;
/** Events per read when following the other processes. */
const FOLLOW_PAGE_EVENTS = 2_000;

/**
 * Durable intake with group commit. An event is answered only after the unit of work holding it (and its findings,
 * alerts and actions) has committed. Concurrent requests are group-committed: one unit per `eventsMax` events or
 * `delayMs`, each request resolved after ITS group commits (one fsync amortised over many writers). Dedupe by event
 * id and content hash; retention bounds memory by event time.
 */
export class EventIntake {
  private readonly ids = new EventIds();
  private prunedAt = Number.NEGATIVE_INFINITY;
  /**
   * follow()'s place in the feed of other processes' events: a snapshot whose every ended transaction's events it has
   * read (src/domain/commit-order.ts; shared database only).
   */
  private followedTo = BEFORE_ANY_COMMIT;
  /** The catch-up being read, and the one queued behind it (catchUp). */
  private catching: Promise<void> | undefined;
  private catchingNext: Promise<void> | undefined;
  /** True in the turn a catch-up started: its read has not left yet, so a caller may still share it. */
  private catchingJoinable = false;
  private queue: Pending[] = [];
  private queuedEvents = 0;
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  private closed = false;
  private readonly eventsMax: number;
  private readonly delayMs: number;
  private readonly queueEventsMax: number;

  constructor(private readonly deps: IntakeDeps) {
    this.eventsMax = deps.groupCommit?.eventsMax ?? 500;
    this.delayMs = deps.groupCommit?.delayMs ?? 2;
    this.queueEventsMax = deps.groupCommit?.queueEventsMax ?? 20_000;
  }

  /** Number of distinct events intake remembers. */
  get eventCount(): number {
    return this.ids.size;
  }

  /**
   * Rebuilds windows, links, known ids and the borrower → line map from the stored events, reading only what retention
   * keeps: prune() drops at once whatever lies past its horizon (windows and links up to it, ids before its day), so
   * the events from the first instant it keeps are read whole, and of the older ones only the line map's facts (it is
   * never pruned): the last mention of each borrower and line. The state is the one reading every event would leave,
   * and start-up grows with the retained days and the number of lines, not with the whole history.
   */
  async rebuild(): Promise<void> {
    const { store, memory } = this.deps;
    // Whatever commits while the rebuild reads is picked up by follow() from here.
    if (store.sharedWriters) this.followedTo = await store.followFrom();
    const span = await store.storedSpan();
    if (span === undefined) return this.prune();
    // The horizon prune() draws after the read: its newest event is the newest stored now (an event committed
    // meanwhile may move it on, past more of what is read, never back before it).
    const from = EventIds.keptFrom(
      this.retentionInstant(Math.max(span.newestMs, memory.newest)) - RETENTION_MS,
    );
    const olderUnread = span.oldestMs < from;
    if (olderUnread) await this.learnLines(from);
    await this.readStored(from);
    await this.prune({ olderUnread });
  }

  /** Tracks the stored events from `fromMs` on, and puts them in the windows. */
  private async readStored(fromMs: number): Promise<void> {
    const { features, memory } = this.deps;
    for await (const page of this.deps.store.storedEvents(fromMs)) {
      const entries: FeatureEntry[] = [];
      for (const stored of page) {
        // Rows stored before keys were canonical are indexed as the ones stored since.
        const event = withCanonicalKeys(stored.event);
        this.ids.remember(event.eventId, stored.hash, event.occurredAt);
        memory.track(event);
        entries.push(toEntry(event, stored.receivedAt));
      }
      // Stored events are committed: a shared store marks them so (and restores any a crashed process lost).
      await (features.commit ? features.commit(entries) : features.append(entries));
    }
  }

  /** The line map's facts from the stored events before `beforeMs`, which the rebuild does not read. */
  private async learnLines(beforeMs: number): Promise<void> {
    const mentions: LineMention[] = [];
    for await (const page of this.deps.store.lineMentions({ beforeMs, types: LINE_SOURCE_TYPES }))
      for (const mention of page) mentions.push(mention);
    this.deps.memory.learnLines(mentions);
  }

  /**
   * On a shared database, learns what the other processes ingested since the last call: their events join the link
   * graph, the borrower → line map and the known ids, and, when the feature store is this process's own (PostgreSQL
   * without Redis), the feature windows. It reads the events in the order their units committed (monitor_event_feed),
   * not by their receipt time, which is the writer's clock, and from its place (a snapshot): the events of the
   * transactions that had ended there are not read again, however long another transaction stays open meanwhile. An
   * event the rebuild read and the feed returns again is tracked twice, which changes nothing. Returns how many events
   * it read.
   */
  async follow(): Promise<number> {
    if (!this.deps.store.sharedWriters) return 0;
    const { features, memory } = this.deps;
    // A shared store (Redis) already holds every process's entries; only a private one is fed from here.
    const privateWindows = !isSharedFeatureStore(features);
    let read = 0;
    const followedTo = await readInCommitOrder(
      { seen: this.followedTo },
      FOLLOW_PAGE_EVENTS,
      async (cursor) => {
        const page = await this.deps.store.eventsCommittedSince(cursor, FOLLOW_PAGE_EVENTS);
        // The store dropped this process (silent past the followers' lease: paused, cut off) and may have pruned feed
        // rows it had not read: the read stops, and the rebuild below learns them.
        if (page.prunedPast) return undefined;
        const last = page.events[page.events.length - 1];
        return {
          snapshot: page.snapshot,
          rows: page.events,
          last: last && { xid: last.xid, id: last.event.eventId },
        };
      },
      async (events) => {
        const entries: FeatureEntry[] = [];
        for (const { event: stored, receivedAt, hash } of events) {
          const event = withCanonicalKeys(stored);
          this.ids.remember(event.eventId, hash, event.occurredAt);
          memory.track(event);
          if (privateWindows) entries.push(toEntry(event, receivedAt));
        }
        if (entries.length > 0) await features.append(entries);
        read += events.length;
      },
    );
    // Dropped: the events table still holds every event; reading it again, as at start, learns them (and registers
    // the process again); what it knew already it learns again, which changes nothing.
    if (followedTo === undefined) await this.rebuild();
    else this.followedTo = followedTo;
    return read;
  }

  /**
   * Tells the store this process is alive and has read the feed up to its cursor: the feed after it is kept for it
   * (the follow timer's beat; between beats the store holds an older cursor, which only keeps more).
   */
  async renewFollower(): Promise<void> {
    if (this.deps.store.sharedWriters) await this.deps.store.renewFollower(this.followedTo);
  }

  /**
   * follow(), read after this call: what every other process had committed when it was made is in memory when the
   * promise settles. Concurrent callers share one read: callers in the turn that started it (its statement leaves
   * later, so its snapshot holds what they need), else the next one (a read already sent may have been answered
   * before their facts committed).
   */
  catchUp(): Promise<void> {
    if (!this.catching) {
      const run = this.follow().then(() => undefined);
      this.catching = run.finally(() => {
        this.catching = undefined;
      });
      this.catchingJoinable = true;
      process.nextTick(() => {
        this.catchingJoinable = false;
      });
      return this.catching;
    }
    if (this.catchingJoinable) return this.catching;
    this.catchingNext ??= this.catching
      .catch(() => undefined)
      .then(() => {
        this.catchingNext = undefined;
        return this.catchUp();
      });
    return this.catchingNext;
  }

  /**
   * Accepts events; resolves after they are durable, with one outcome per event in request order. Their keys are
   * stored, hashed and indexed in canonical form (withCanonicalKeys).
   */
  ingest(sent: readonly MonitorEvent[]): Promise<EventOutcome[]> {
    if (this.closed) return Promise.reject(new LgError('LG_UNAVAILABLE', 'the monitor is shutting down'));
    if (sent.length === 0) return Promise.resolve([]);
    const events = sent.map(withCanonicalKeys);
    if (this.queuedEvents + events.length > this.queueEventsMax) {
      return Promise.reject(new LgError('LG_RATE_LIMITED', 'the event queue is full; retry shortly'));
    }
    return new Promise((resolve, reject) => {
      this.queue.push({ events, resolve, reject });
      this.queuedEvents += events.length;
      this.schedule();
    });
  }

  /** Waits for queued events, then refuses new work. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    while (this.queue.length > 0 || this.flushing) await (this.flushing ?? this.flush());
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
        const group = this.nextGroup();
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

  /** Takes whole requests off the queue up to eventsMax events (at least one request). */
  private nextGroup(): Pending[] {
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
    return group;
  }

  private async processGroup(group: readonly Pending[]): Promise<void> {
    const receivedAt = this.deps.clock.now();
    // On a shared database the group is judged with what every process had committed when it arrived: a borrower's
    // draw reported to one process and the transfer after it to another are one pattern (its windows, links and line).
    // The same read tells which of its ids are stored already (one round trip per group, as learning them was).
    if (this.deps.store.sharedWriters) await this.catchUp();
    const admitted = await this.admit(group);
    const committed = await this.commit(admitted, receivedAt);
    const storedFirst = await this.storedElsewhere(admitted, committed);
    // Committed: no other process's rollback may take these entries out of the shared windows any more.
    await this.deps.features
      .commit?.(committed.entries.filter((entry) => committed.stored.has(entry.eventId)))
      .catch((e: unknown) => this.deps.onError?.(e, 'feature commit'));
    for (const event of admitted.newEvents) {
      // An id another process stored first is remembered as it stored it, whatever this process was sent.
      const theirs = storedFirst.get(event.eventId);
      const hash = theirs?.hash ?? (admitted.hashes.get(event.eventId) as string);
      this.ids.remember(event.eventId, hash, theirs?.occurredAt ?? event.occurredAt);
    }
    // Retention runs once per day of event time, before answering, so an answer reflects the pruned state.
    if (this.retentionInstant() - this.prunedAt >= PRUNE_EVERY_MS)
      await this.prune().catch((e: unknown) => this.deps.onError?.(e, 'retention'));
    await this.answer(admitted, committed.results, storedFirst);
    this.deps.dispatcher.dispatch(pendingLineActions(committed));
  }

  /** Dedupe: each request's events as new, duplicate or (a reused id with other content) a rejected conflict. */
  private async admit(group: readonly Pending[]): Promise<Admitted> {
    // After ids were forgotten (retention), a repeat may predate memory. (On a shared database the catch-up before the
    // group learnt every id stored by then; one stored after it loses to this unit's insert or wins it: lostRace.)
    if (this.ids.forgotten) await this.learnStoredIds(group);
    const admitted: Admitted = { accepted: [], newEvents: [], hashes: new Map() };
    for (const pending of group) {
      const plan = this.ids.classify(pending.events, admitted.hashes);
      if ('conflicts' in plan) {
        pending.reject(conflictError(plan.conflicts));
        continue;
      }
      for (const [i, fresh] of plan.fresh.entries()) {
        const event = pending.events[i] as MonitorEvent;
        if (!fresh) continue;
        admitted.hashes.set(event.eventId, plan.hashes[i] as string);
        admitted.newEvents.push(event);
      }
      admitted.accepted.push({ pending, fresh: plan.fresh });
    }
    return admitted;
  }

  /**
   * Evaluates the new events against the windows (which already hold them) and stores the group in one unit. If the
   * unit fails nothing of the group is durable: its events leave the windows and the alert state goes back.
   */
  private async commit(admitted: Admitted, receivedAt: number): Promise<Committed> {
    const { features, alerts } = this.deps;
    const entries = admitted.newEvents.map((e) => toEntry(e, receivedAt));
    const restore = alerts.checkpoint();
    await features.append(entries);
    const findings: GroupFindings = { alerts: [], actions: [], audit: [] };
    const results = new Map<string, Findings>();
    try {
      const events = await this.evaluateAll(admitted, { receivedAt, findings, results });
      const stored = await this.deps.store.storeGroup({ events, ...findings });
      if (stored.size < admitted.newEvents.length)
        this.lostRace(admitted, { results, stored, findings, restore });
      return { results, stored, findings, entries };
    } catch (error) {
      // A shared feature store keeps an entry another process has committed meanwhile (redis-store.ts).
      await features.remove(entries).catch((e: unknown) => this.deps.onError?.(e, 'feature rollback'));
      restore();
      throw error;
    }
  }

  private async evaluateAll(
    admitted: Admitted,
    into: { receivedAt: number; findings: GroupFindings; results: Map<string, Findings> },
  ): Promise<EventWrite[]> {
    const { memory, evaluator } = this.deps;
    const writes: EventWrite[] = [];
    for (const event of admitted.newEvents) {
      const at = memory.evaluationInstant(event);
      memory.track(event);
      const result = await evaluator.evaluate(event, at, into.receivedAt, into.findings);
      into.results.set(event.eventId, result);
      const hash = admitted.hashes.get(event.eventId) as string;
      writes.push({ event, receivedAt: into.receivedAt, hash, resultJson: findingsJson(result) });
    }
    return writes;
  }

  /**
   * Another process stored some of these events first: its findings are the answer (loaded in `answer`), ours were
   * not written, so the alert state goes back to before this group plus the alerts we did store.
   */
  private lostRace(
    admitted: Admitted,
    o: {
      results: Map<string, Findings>;
      stored: ReadonlySet<string>;
      findings: GroupFindings;
      restore: () => void;
    },
  ): void {
    for (const event of admitted.newEvents) if (!o.stored.has(event.eventId)) o.results.delete(event.eventId);
    o.restore();
    for (const alert of o.findings.alerts)
      if (o.stored.has(alert.eventId)) this.deps.alerts.noteStored(alert);
    for (const item of admitted.accepted)
      item.fresh = item.fresh.map(
        (fresh, i) => fresh && o.stored.has((item.pending.events[i] as MonitorEvent).eventId),
      );
  }

  /**
   * The events of this group that another process stored first, as it stored them (their hash and time). Where this
   * process was sent other content under the same id (a client sent both at once), its copy leaves the shared
   * windows, and `answer` refuses the request that sent it, as if the two had come one after the other.
   */
  private async storedElsewhere(admitted: Admitted, committed: Committed): Promise<Map<string, KnownEvent>> {
    const lostIds = admitted.newEvents.map((e) => e.eventId).filter((id) => !committed.stored.has(id));
    if (lostIds.length === 0) return new Map();
    const storedFirst = new Map((await this.deps.store.knownEvents(lostIds)).map((k) => [k.eventId, k]));
    const otherContent = committed.entries.filter((entry) => {
      const theirs = storedFirst.get(entry.eventId);
      return theirs !== undefined && theirs.hash !== admitted.hashes.get(entry.eventId);
    });
    if (otherContent.length > 0)
      await this.deps.features
        .remove(otherContent)
        .catch((e: unknown) => this.deps.onError?.(e, 'feature rollback'));
    return storedFirst;
  }

  /**
   * Bounded memory: forgets feature entries, entity links and event ids older than the longest feature window (90
   * days, plus the one day a late event may be judged back from) before the newest event; the borrower → line map is
   * kept whole. The events table keeps everything; a repeat of a forgotten id is then found there (learnStoredIds) and
   * still answered with its first result.
   */
  private async prune(o: { olderUnread?: boolean } = {}): Promise<void> {
    const newest = this.retentionInstant();
    if (newest === Number.NEGATIVE_INFINITY) return;
    this.prunedAt = newest;
    const horizon = newest - RETENTION_MS;
    // Feature entries exist only for remembered events: no id bucket past the horizon means nothing to prune. After a
    // rebuild that left the older events unread, their ids would have been there: what it read up to the horizon goes
    // as it would have gone with them.
    if (!o.olderUnread && !this.ids.anyBefore(horizon)) return;
    await this.deps.features.prune?.(horizon);
    this.deps.memory.graph.prune(horizon);
    this.ids.forgetBefore(horizon);
    // A repeat of an unread event is found in the store (learnStoredIds), as one of a forgotten event is.
    if (o.olderUnread) this.ids.forgotten = true;
  }

  /**
   * The instant retention counts back from: the newest event time, but never later than the clock. occurredAt is the
   * client's word: one event dated years ahead (a device clock set forward, a typo) would otherwise move the horizon
   * past every borrower's history and prune all windows, links and ids at once. A replay, whose clock follows its
   * events, prunes as before.
   */
  private retentionInstant(newest = this.deps.memory.newest): number {
    return Math.min(newest, this.deps.clock.now());
  }

  /** Learns which of the group's unknown ids are already stored (by another process, or before retention). */
  private async learnStoredIds(group: readonly Pending[]): Promise<void> {
    const unknown = [
      ...new Set(group.flatMap((p) => p.events.map((e) => e.eventId)).filter((id) => !this.ids.has(id))),
    ];
    for (let i = 0; i < unknown.length; i += READ_IDS_MAX) {
      const known = await this.deps.store.knownEvents(unknown.slice(i, i + READ_IDS_MAX));
      for (const k of known) this.ids.remember(k.eventId, k.hash, k.occurredAt);
    }
  }

  private async answer(
    admitted: Admitted,
    results: Map<string, Findings>,
    storedFirst: ReadonlyMap<string, KnownEvent>,
  ): Promise<void> {
    const accepted: Accepted[] = [];
    for (const item of admitted.accepted) {
      const conflicts = item.pending.events.flatMap((e, index) => {
        const theirs = storedFirst.get(e.eventId);
        return theirs && theirs.hash !== admitted.hashes.get(e.eventId)
          ? [{ index, eventId: e.eventId }]
          : [];
      });
      if (conflicts.length > 0) item.pending.reject(conflictError(conflicts));
      else accepted.push(item);
    }
    const missing = new Set<string>();
    for (const { pending } of accepted)
      for (const e of pending.events) if (!results.has(e.eventId)) missing.add(e.eventId);
    const ids = [...missing];
    for (let i = 0; i < ids.length; i += READ_IDS_MAX) {
      const stored = await this.deps.store.eventResults(ids.slice(i, i + READ_IDS_MAX));
      for (const r of stored) results.set(r.eventId, JSON.parse(r.resultJson) as Findings);
    }
    for (const { pending, fresh } of accepted) pending.resolve(outcomesOf(pending.events, fresh, results));
  }
}

/** A request that reuses stored eventIds with other content (nothing of it is answered as accepted). */
function conflictError(conflicts: readonly { index: number; eventId: string }[]): LgError {
  const list = conflicts.map((c) => `events[${c.index}] ${c.eventId}`).join(', ');
  return new LgError('LG_EVENT_CONFLICT', `eventId already used for different content: ${list}`, conflicts);
}

/** One outcome per event in request order; a repeat within the request is a duplicate of its first occurrence. */
function outcomesOf(
  events: readonly MonitorEvent[],
  fresh: readonly boolean[],
  results: ReadonlyMap<string, Findings>,
): EventOutcome[] {
  const firstIndex = new Map<string, number>();
  return events.map((e, i) => {
    const first = firstIndex.get(e.eventId);
    firstIndex.set(e.eventId, first ?? i);
    const result = results.get(e.eventId) ?? NO_FINDINGS;
    const status = fresh[i] && first === undefined ? 'accepted' : 'duplicate';
    return { eventId: e.eventId, status, ...result };
  });
}

/** The group's line actions this unit stored, for the dispatcher. */
function pendingLineActions(committed: Committed): PendingLineAction[] {
  return committed.findings.actions
    .filter((a) => a.status === 'PENDING' && committed.stored.has(a.eventId))
    .map((a) => ({
      actionId: a.actionId,
      type: a.type as PendingLineAction['type'],
      lineId: a.lineId as string,
      userId: a.userId,
      reasons: a.detail.reasons,
    }));
}
