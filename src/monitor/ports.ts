import type { LedgerAppend } from '../compliance/index.js';
import type { CommitPageCursor } from '../domain/index.js';
import type { MonitorActionType, Severity } from './actions.js';
import type { EventType, MonitorEvent } from './events.js';

/**
 * The ports the monitor needs, in its own terms. The store implements them (src/store/monitor.ts), src/cases keeps the
 * alert state (src/cases/alerts.ts), and src/app wires them; nothing here knows which database runs underneath.
 */

/** Outbox topics of the monitor's own changes (an alert raised or changed, an action recorded or applied). */
export const MONITOR_ALERTS_TOPIC = 'monitor.alerts';
export const MONITOR_ACTIONS_TOPIC = 'monitor.actions';

/** A message that leaves through the outbox after its unit of work commits, never before. */
export interface OutboxMessage {
  readonly id: string;
  readonly topic: string;
  readonly payload: unknown;
  readonly at: number;
}

/** What every state change carries into its unit of work (DESIGN: a ledger entry and an outbox row with each change). */
export interface AuditTrail {
  readonly ledger: LedgerAppend;
  readonly outbox: OutboxMessage;
}

/** An accepted event as intake stores it: the event, when it arrived, its content hash and its first answer. */
export interface EventWrite {
  readonly event: MonitorEvent;
  readonly receivedAt: number;
  readonly hash: string;
  /** The answer as JSON (replayed verbatim for a repeated eventId). */
  readonly resultJson: string;
}

/** An alert a typology (or the platform) raised, before it is stored. */
export interface NewAlert {
  readonly alertId: string;
  readonly typologyId: string;
  readonly typologyVersion: number;
  readonly severity: Severity;
  readonly userId: string;
  readonly lineId: string | null;
  readonly eventId: string;
  readonly occurredAt: number;
  readonly createdAt: number;
  readonly reasons: readonly string[];
  readonly evidence: unknown;
  readonly actions: readonly string[];
}

export interface ActionDetail {
  readonly reasons: readonly string[];
  readonly detail: string;
  readonly cooldownMs?: number;
}

/** PENDING: a line action waiting for the core; DONE, BLOCKED, FAILED: its outcome; SKIPPED: nothing to act on. */
export type ActionStatus = 'PENDING' | 'DONE' | 'BLOCKED' | 'FAILED' | 'SKIPPED';

export interface NewAction {
  readonly actionId: string;
  readonly alertId: string;
  readonly eventId: string;
  readonly type: MonitorActionType;
  readonly userId: string;
  readonly lineId: string | null;
  readonly status: ActionStatus;
  readonly detail: ActionDetail;
  readonly createdAt: number;
}

/** One group commit: its events, the alerts and actions they raised, and the audit trail of each alert and action. */
export interface GroupWrite {
  readonly events: EventWrite[];
  readonly alerts: NewAlert[];
  readonly actions: NewAction[];
  /** Keyed by the event that caused it, so the store keeps only the trail of the events it stored. */
  readonly audit: (AuditTrail & { readonly eventId: string })[];
}

export interface StoredEvent {
  readonly event: MonitorEvent;
  readonly receivedAt: number;
  readonly hash: string;
}

/** A page of the feed: its events (each with its transaction id), and the snapshot of the read it belongs to. */
export interface FeedPage {
  /** The read's snapshot (src/domain/commit-order.ts): once every page is read, the follower's place. */
  readonly snapshot: string;
  /**
   * The store dropped this follower (not heard from for its lease) and may have pruned feed rows it had not read:
   * the events table still holds them, and only a rebuild from it is complete.
   */
  readonly prunedPast: boolean;
  readonly events: readonly (StoredEvent & { readonly xid: string })[];
}

/** The occurredAt of the oldest and of the newest stored event (where the start-up rebuild's reads are bounded). */
export interface StoredSpan {
  readonly oldestMs: number;
  readonly newestMs: number;
}

/**
 * The last event of some types that named a borrower with a line (by (occurredAt, eventId)): what the borrower → line
 * map keeps of a pair whose events the rebuild does not read (AccountMemory.learnLines).
 */
export interface LineMention {
  readonly userId: string;
  readonly lineId: string;
  readonly occurredAt: number;
  readonly eventId: string;
}

export interface KnownEvent {
  readonly eventId: string;
  readonly hash: string;
  readonly occurredAt: number;
}

/** The intake's durable side: one unit of work per group, and the reads that rebuild and answer from it. */
export interface MonitorIntakeStore {
  /** True when other processes write the same tables (a shared database): memory alone cannot know every id. */
  readonly sharedWriters: boolean;
  /** Stores a group in one unit of work; returns the event ids this unit stored (others may have won a race). */
  storeGroup(group: GroupWrite): Promise<ReadonlySet<string>>;
  /** The span of the stored events' occurredAt; undefined when none is stored (one cheap read: start-up rebuild). */
  storedSpan(): Promise<StoredSpan | undefined>;
  /** The stored events with occurredAt >= fromMs in (occurredAt, eventId) order, a page at a time (start-up rebuild). */
  storedEvents(fromMs: number): AsyncIterable<readonly StoredEvent[]>;
  /**
   * Of the stored events of `types` with a lineId and occurredAt < beforeMs, the last one per (userId, lineId), in no
   * particular order, a page at a time (start-up rebuild: the line map's facts from the events it does not read).
   */
  lineMentions(query: {
    readonly beforeMs: number;
    readonly types: readonly EventType[];
  }): AsyncIterable<readonly LineMention[]>;
  /**
   * Where a process following the others starts (a snapshot, src/domain/commit-order.ts), taken before its rebuild
   * reads the events (shared stores); it also registers the process as a follower from there, so the feed is kept for
   * it (pruneFeed).
   */
  followFrom(): Promise<string>;
  /**
   * The process is alive and has read the feed up to its place `seen` (a snapshot): the feed it may still read is kept
   * for it. A follower the prune dropped (not heard from for its lease) stays dropped: its next page says `prunedPast`.
   */
  renewFollower(seen: string): Promise<void>;
  /**
   * A page of the events other processes' units made visible after the follower's place, in commit order, at most
   * `limit` (a process following what the others ingested; a store with one writer returns none).
   */
  eventsCommittedSince(from: CommitPageCursor, limit: number): Promise<FeedPage>;
  /** Deletes the feed rows no live follower needs any more; returns how many (a store with one writer has none). */
  pruneFeed(): Promise<number>;
  /** The stored ids among `eventIds`, with their content hashes. */
  knownEvents(eventIds: readonly string[]): Promise<KnownEvent[]>;
  /** The first answers (as JSON) of stored events. */
  eventResults(eventIds: readonly string[]): Promise<{ eventId: string; resultJson: string }[]>;
}

export interface PendingLineAction {
  readonly actionId: string;
  readonly type: 'FREEZE_DRAW' | 'SUSPEND';
  readonly lineId: string;
  readonly userId: string;
  readonly reasons: readonly string[];
}

export interface ActionOutcomeWrite {
  readonly actionId: string;
  readonly status: Exclude<ActionStatus, 'PENDING' | 'SKIPPED'>;
  readonly detail: ActionDetail;
  readonly updatedAt: number;
  readonly audit: AuditTrail;
}

/** The dispatcher's side of the store: line actions still to apply, and each outcome with its trail. */
export interface MonitorActionStore {
  pendingLineActions(): Promise<PendingLineAction[]>;
  recordActionOutcome(outcome: ActionOutcomeWrite): Promise<void>;
}

/** What the monitor asks of whoever keeps alert state (src/cases): dedupe, open counts, new alerts. */
export interface AlertRaise {
  readonly typologyId: string;
  readonly typologyVersion: number;
  readonly severity: Severity;
  readonly userId: string;
  readonly lineId: string | null;
  readonly eventId: string;
  readonly occurredAt: number;
  readonly now: number;
  readonly reasons: readonly string[];
  readonly evidence: unknown;
  readonly actions: readonly string[];
  /** A firing within this of the last alert for the same borrower and typology joins it. */
  readonly dedupMs: number;
}

export type AlertRaised =
  | { readonly new: false; readonly alertId: string }
  | { readonly new: true; readonly alertId: string; readonly alert: NewAlert; readonly audit: AuditTrail };

export interface AlertPort {
  /** Rebuilds alert state from the store (start-up). */
  load(): Promise<void>;
  /** On a shared database: learns the alerts other processes raised since the last call (for dedupe). */
  follow(): Promise<void>;
  /** Raises (or joins) an alert; a new one is remembered at once and written by the caller's unit of work. */
  raise(input: AlertRaise): AlertRaised;
  /** The state now; calling the result puts it back (a group that did not commit). */
  checkpoint(): () => void;
  /** Remembers an alert that was stored (after a rollback to a checkpoint). */
  noteStored(alert: NewAlert): void;
  /** The borrower's open alerts, as a draw decision reads them. */
  openCount(userId: string): number | Promise<number>;
  /** Changes an alert's status (a disposition), with its ledger entry and outbox row. */
  setStatus(alertId: string, status: 'OPEN' | 'ACKNOWLEDGED' | 'CLOSED'): Promise<void>;
  /** Alerts newest first, with their actions; `nextCursor` pages on (the API's and the CLI's listing). */
  list(q: AlertQuery): Promise<AlertPage>;
}

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

export interface AlertPage {
  readonly items: AlertView[];
  readonly nextCursor: string | null;
}
