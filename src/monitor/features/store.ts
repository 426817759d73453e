import type { EventType, MonitorEvent } from '../events.js';
import { canonicalCode } from '../list-values.js';

/** What features are keyed by (issue 5: user, device, IP, payee, merchant; plus the channel that pulls credit reports). */
export const ENTITY_TYPES = ['user', 'device', 'ip', 'payee', 'merchant', 'channel'] as const;
export type EntityType = (typeof ENTITY_TYPES)[number];

/** One event as the feature store indexes it; r = when the monitor received it (for "known at" queries). */
export interface FeatureEntry {
  readonly eventId: string;
  readonly type: EventType;
  /** occurredAt, epoch ms */
  readonly t: number;
  /** receivedAt, epoch ms */
  readonly r: number;
  readonly userId: string;
  readonly deviceId?: string;
  readonly ip?: string;
  readonly payeeId?: string;
  readonly merchantId?: string;
  readonly channel?: string;
  readonly amountMinor?: number;
  readonly payeeCreatedAt?: number;
  readonly merchantCategory?: string;
  readonly purpose?: string;
  readonly origin?: string;
  /** Money in marked as a refund (attributes.kind = 'refund'): a purchase reversed, not a cash-out loop. */
  readonly refund?: true;
}

export const DISTINCT_FIELDS = ['userId', 'deviceId', 'ip', 'payeeId', 'merchantId', 'channel'] as const;
export type DistinctField = (typeof DISTINCT_FIELDS)[number];

export type Aggregate =
  | { readonly kind: 'count' }
  | { readonly kind: 'sum' }
  | { readonly kind: 'max' }
  | { readonly kind: 'distinct'; readonly of: DistinctField }
  /** ms from the latest event in the window to toMs; null when there is none. */
  | { readonly kind: 'timeSince' }
  /**
   * ms from when the monitor first received an event on device `deviceId` in the window (the earliest r) to toMs;
   * null when there is none. On a borrower's window: how long the monitor has seen the borrower on the device, as far
   * back as the window reaches (an event dated back and sent now is seen now). Reads the window's entries: a
   * borrower's, not the device's, which anyone may fill with events.
   */
  | { readonly kind: 'sinceFirstSeenOn'; readonly deviceId: string };

/** Events of `types` for one entity with fromMs < occurredAt <= toMs, and (when given) receivedAt <= knownAt. */
export interface WindowQuery {
  readonly entity: EntityType;
  readonly id: string;
  readonly types: readonly EventType[];
  readonly fromMs: number;
  readonly toMs: number;
  /** Point-in-time in the second dimension: only what the live system had received by then. */
  readonly knownAt?: number;
}

/** Several window reads answered together: one round trip on a shared store (a draw reads 20+ windows). */
export interface WindowBatch {
  readonly aggregates: readonly { readonly query: WindowQuery; readonly aggregate: Aggregate }[];
  /** The distinct values of a field over a window (what a 'distinct' aggregate counts), in no particular order. */
  readonly values?: readonly { readonly query: WindowQuery; readonly field: DistinctField }[];
}

/** A WindowBatch's answers, each list in the order of its requests. */
export interface WindowBatchResult {
  readonly aggregates: (number | null)[];
  readonly values: string[][];
}

/**
 * Event windows per entity. One interface, two implementations (memory — rebuilt from SQLite on start — and Redis
 * sorted sets), one conformance suite (test/monitor/feature-store.conformance.test.ts).
 */
export interface FeatureStore {
  readonly kind: 'memory' | 'redis';
  /** Adds entries; an eventId already present is ignored (idempotent). */
  append(entries: readonly FeatureEntry[]): Promise<void>;
  /** Takes entries out again (a group whose database commit failed); never an entry marked committed. */
  remove(entries: readonly FeatureEntry[]): Promise<void>;
  /**
   * Shared stores only: marks entries whose events committed in the database (adding any that are missing), so no
   * other process's rollback removes them. A store private to one process omits it.
   */
  commit?(entries: readonly FeatureEntry[]): Promise<void>;
  events(query: WindowQuery, limit?: number): Promise<FeatureEntry[]>;
  aggregate(query: WindowQuery, aggregate: Aggregate): Promise<number | null>;
  /** Aggregates and distinct values of several windows at once, each as aggregate / distinct values would answer. */
  readBatch(batch: WindowBatch): Promise<WindowBatchResult>;
  /** Drops entries with occurredAt <= olderThanMs (bounded memory; stores that expire entries themselves omit it). */
  prune?(olderThanMs: number): Promise<number>;
  /** Drops everything (tests, rebuilds). */
  clear(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Reads a store answers without a promise (the embedded memory store). The draw path reads 20+ windows per draw:
 * through these it skips a promise per window. Same values as the async reads.
 */
export interface SyncFeatureReads {
  eventsSync(query: WindowQuery, limit?: number): FeatureEntry[];
  aggregateSync(query: WindowQuery, aggregate: Aggregate): number | null;
  /** The values of `field` in the window (those a 'distinct' aggregate counts). */
  distinctValuesSync(query: WindowQuery, field: DistinctField): Set<string>;
}

/**
 * Whether every process reads the same entries (Redis): a store private to one process has no commit marks, and on a
 * shared database it must be fed what the other processes ingested (EventIntake.follow).
 */
export function isSharedFeatureStore(store: FeatureStore): boolean {
  return store.commit !== undefined;
}

/** The store's synchronous reads, when it has them. */
export function syncReadsOf(store: FeatureStore): (FeatureStore & SyncFeatureReads) | undefined {
  const candidate = store as FeatureStore & Partial<SyncFeatureReads>;
  const hasAll =
    typeof candidate.eventsSync === 'function' &&
    typeof candidate.aggregateSync === 'function' &&
    typeof candidate.distinctValuesSync === 'function';
  return hasAll ? (candidate as FeatureStore & SyncFeatureReads) : undefined;
}

/** The entities an event is indexed under, with their ids. */
export function entityKeys(e: FeatureEntry): [EntityType, string][] {
  const keys: [EntityType, string][] = [['user', e.userId]];
  if (e.deviceId) keys.push(['device', e.deviceId]);
  if (e.ip) keys.push(['ip', e.ip]);
  if (e.payeeId) keys.push(['payee', e.payeeId]);
  if (e.merchantId) keys.push(['merchant', e.merchantId]);
  if (e.channel) keys.push(['channel', e.channel]);
  return keys;
}

export function toEntry(e: MonitorEvent, receivedAt: number): FeatureEntry {
  const entry: Record<string, unknown> = {
    eventId: e.eventId,
    type: e.type,
    t: e.occurredAt,
    r: receivedAt,
    userId: e.userId,
  };
  if (e.deviceId !== undefined) entry.deviceId = e.deviceId;
  if (e.ip !== undefined) entry.ip = e.ip;
  if (e.payeeId !== undefined) entry.payeeId = e.payeeId;
  if (e.merchantId !== undefined) entry.merchantId = e.merchantId;
  if (e.channel !== undefined) entry.channel = e.channel;
  if (e.amountMinor !== undefined) entry.amountMinor = e.amountMinor;
  if (e.payeeCreatedAt !== undefined) entry.payeeCreatedAt = e.payeeCreatedAt;
  if (e.merchantCategory !== undefined) entry.merchantCategory = e.merchantCategory;
  const purpose = codeAttribute(e, 'purpose');
  if (purpose !== undefined) entry.purpose = purpose;
  const origin = codeAttribute(e, 'origin');
  if (origin !== undefined) entry.origin = origin;
  if (e.attributes?.kind === 'refund') entry.refund = true;
  return entry as unknown as FeatureEntry;
}

/**
 * An attribute that holds a code of a closed vocabulary (an inquiry's `purpose` and `origin`, a draw's stated purpose),
 * in its canonical form (list-values.ts canonicalCode); undefined when absent or not text. Windows and typologies read
 * codes only through it, so `loan_approval` is LOAN_APPROVAL wherever it is compared.
 */
export function codeAttribute(
  e: Pick<MonitorEvent, 'attributes'>,
  name: 'purpose' | 'origin',
): string | undefined {
  const value = e.attributes?.[name];
  return typeof value === 'string' ? canonicalCode(value) : undefined;
}

/** Aggregates a window slice; shared by the memory store and by tests as the reference semantics. */
export function aggregateEntries(
  entries: readonly FeatureEntry[],
  aggregate: Aggregate,
  toMs: number,
): number | null {
  switch (aggregate.kind) {
    case 'count':
      return entries.length;
    case 'sum':
      return entries.reduce((s, e) => s + (e.amountMinor ?? 0), 0);
    case 'max':
      return entries.reduce((m, e) => Math.max(m, e.amountMinor ?? 0), 0);
    case 'distinct': {
      const seen = new Set<string>();
      for (const e of entries) {
        const v = e[aggregate.of];
        if (v !== undefined) seen.add(v);
      }
      return seen.size;
    }
    case 'timeSince': {
      const last = entries[entries.length - 1];
      return last ? toMs - last.t : null;
    }
    case 'sinceFirstSeenOn': {
      let first: number | undefined;
      for (const e of entries)
        if (e.deviceId === aggregate.deviceId && (first === undefined || e.r < first)) first = e.r;
      return first === undefined ? null : toMs - first;
    }
  }
}
