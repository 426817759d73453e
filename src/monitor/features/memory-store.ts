import { EVENT_TYPES, type EventType } from '../events.js';
import { compareEntries, EntrySeries } from './series.js';
import {
  aggregateEntries,
  ENTITY_TYPES,
  entityKeys,
  type Aggregate,
  type DistinctField,
  type EntityType,
  type FeatureEntry,
  type FeatureStore,
  type SyncFeatureReads,
  type WindowBatch,
  type WindowBatchResult,
  type WindowQuery,
} from './store.js';

export { compareEntries };

/**
 * The embedded feature store: per entity and event type, a series of entries sorted by (occurredAt, eventId), plus
 * one series of all the entity's types. Appends in time order are O(1); a late event is placed by binary search
 * (events are placed by occurredAt, issue 5). A window is two binary searches, and each series keeps the indexes that
 * answer count, sum, max, time-since and distinct over a window without reading it (see EntrySeries), so a draw's
 * signals cost about the same (O(log n)) for a borrower with ten thousand draws today as for one with none.
 * State is rebuilt from the events table on start (MonitorService.start), so nothing is lost on restart.
 */
export class MemoryFeatureStore implements FeatureStore, SyncFeatureReads {
  readonly kind = 'memory' as const;
  /** entity type → id → its series: the id string itself is the key (no key concatenation on the hot path). */
  private readonly series = new Map<EntityType, Map<string, EntitySeries>>(
    ENTITY_TYPES.map((t) => [t, new Map()]),
  );
  /** eventId → the entry as indexed, so a removal finds exactly what was indexed. */
  private readonly known = new Map<string, FeatureEntry>();

  append(entries: readonly FeatureEntry[]): Promise<void> {
    try {
      this.appendSync(entries);
      return RESOLVED;
    } catch (error) {
      return Promise.reject(error);
    }
  }

  appendSync(entries: readonly FeatureEntry[]): void {
    for (const entry of entries) {
      if (this.known.has(entry.eventId)) continue;
      this.known.set(entry.eventId, entry);
      this.index(entry, 'user', entry.userId);
      if (entry.deviceId) this.index(entry, 'device', entry.deviceId);
      if (entry.ip) this.index(entry, 'ip', entry.ip);
      if (entry.payeeId) this.index(entry, 'payee', entry.payeeId);
      if (entry.merchantId) this.index(entry, 'merchant', entry.merchantId);
      if (entry.channel) this.index(entry, 'channel', entry.channel);
    }
  }

  async remove(entries: readonly FeatureEntry[]): Promise<void> {
    for (const { eventId } of entries) {
      const indexed = this.known.get(eventId);
      if (!indexed) continue;
      this.known.delete(eventId);
      for (const [entity, id] of entityKeys(indexed)) {
        const node = this.node(entity, id);
        if (!node) continue;
        node.byType.get(indexed.type)?.remove(indexed);
        node.all.remove(indexed);
      }
    }
  }

  /**
   * Bounded memory: drops entries with occurredAt <= olderThanMs (the monitor passes newest event time minus the
   * longest feature window, 90 days), and series left empty. Returns how many events were dropped.
   */
  async prune(olderThanMs: number): Promise<number> {
    let dropped = 0;
    for (const [entity, byId] of this.series) {
      for (const [id, node] of byId) {
        const gone = node.all.dropThrough(olderThanMs);
        if (gone.length === 0) continue;
        // Every entry sits in exactly one user series: forget its id there.
        if (entity === 'user') {
          for (const e of gone) this.known.delete(e.eventId);
          dropped += gone.length;
        }
        for (const [type, series] of node.byType) {
          series.dropThrough(olderThanMs);
          if (series.length === 0) node.byType.delete(type);
        }
        if (node.all.length === 0) byId.delete(id);
      }
    }
    return dropped;
  }

  // Plain functions returning settled promises, not `async` ones: they run on every typology window read.
  events(query: WindowQuery, limit = Number.MAX_SAFE_INTEGER): Promise<FeatureEntry[]> {
    try {
      return Promise.resolve(this.eventsSync(query, limit));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  eventsSync(query: WindowQuery, limit = Number.MAX_SAFE_INTEGER): FeatureEntry[] {
    const node = this.node(query.entity, query.id);
    if (!node) return [];
    // A query over every type reads the entity's all-types series: one binary search instead of one per type.
    if (coversAllTypes(query.types)) return windowOf(query, node.all, limit);
    if (query.types.length === 1) {
      const series = node.byType.get(query.types[0] as EventType);
      return series ? windowOf(query, series, limit) : [];
    }
    const out: FeatureEntry[] = [];
    for (const type of query.types)
      node.byType.get(type)?.windowInto(out, query.fromMs, query.toMs, query.knownAt);
    out.sort(compareEntries);
    return out.length > limit ? out.slice(out.length - limit) : out;
  }

  aggregate(query: WindowQuery, aggregate: Aggregate): Promise<number | null> {
    try {
      return Promise.resolve(this.aggregateSync(query, aggregate));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  readBatch(batch: WindowBatch): Promise<WindowBatchResult> {
    try {
      return Promise.resolve({
        aggregates: batch.aggregates.map((r) => this.aggregateSync(r.query, r.aggregate)),
        values: (batch.values ?? []).map((r) => [...this.distinctValuesSync(r.query, r.field)]),
      });
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Same values as aggregateEntries over eventsSync(query), from the series indexes (O(log n) in the live case). */
  aggregateSync(query: WindowQuery, aggregate: Aggregate): number | null {
    const node = this.node(query.entity, query.id);
    if (!node) return aggregateEntries(NO_ENTRIES, aggregate, query.toMs);
    if (coversAllTypes(query.types)) return aggregateSeries(node.all, query, aggregate);
    if (query.types.length === 1) {
      const series = node.byType.get(query.types[0] as EventType);
      return series
        ? aggregateSeries(series, query, aggregate)
        : aggregateEntries(NO_ENTRIES, aggregate, query.toMs);
    }
    const parts: EntrySeries[] = [];
    // Each listed type counts once per listing, as the merged window of eventsSync does.
    for (const type of query.types) {
      const series = node.byType.get(type);
      if (series) parts.push(series);
    }
    return this.aggregateParts(parts, query, aggregate);
  }

  distinctValuesSync(query: WindowQuery, field: DistinctField): Set<string> {
    const out = new Set<string>();
    const node = this.node(query.entity, query.id);
    if (!node) return out;
    if (coversAllTypes(query.types)) {
      node.all.distinctInto(out, field, query.fromMs, query.toMs, query.knownAt);
      return out;
    }
    for (const type of query.types)
      node.byType.get(type)?.distinctInto(out, field, query.fromMs, query.toMs, query.knownAt);
    return out;
  }

  has(eventId: string): boolean {
    return this.known.has(eventId);
  }

  get size(): number {
    return this.known.size;
  }

  async clear(): Promise<void> {
    for (const byId of this.series.values()) byId.clear();
    this.known.clear();
  }

  async close(): Promise<void> {}

  /** A window over several (not all) types: each part's aggregate, combined. */
  private aggregateParts(
    parts: readonly EntrySeries[],
    query: WindowQuery,
    aggregate: Aggregate,
  ): number | null {
    const { fromMs, toMs, knownAt } = query;
    switch (aggregate.kind) {
      case 'count':
        return parts.reduce((n, s) => n + s.count(fromMs, toMs, knownAt), 0);
      case 'sum': {
        // Adding the parts' sums is exact only while every partial sum is an exact integer; else sum the merged window.
        const exact =
          parts.every((s) => s.sumsExactly(knownAt)) &&
          parts.reduce((t, s) => t + s.total(), 0) <= Number.MAX_SAFE_INTEGER;
        if (!exact) return aggregateEntries(this.eventsSync(query), aggregate, toMs);
        return parts.reduce((n, s) => n + s.sum(fromMs, toMs, knownAt), 0);
      }
      case 'max':
        return parts.reduce((m, s) => Math.max(m, s.max(fromMs, toMs, knownAt)), 0);
      case 'distinct': {
        const seen = new Set<string>();
        for (const s of parts) s.distinctInto(seen, aggregate.of, fromMs, toMs, knownAt);
        return seen.size;
      }
      case 'sinceFirstSeenOn':
        return aggregateEntries(this.eventsSync(query), aggregate, toMs);
      case 'timeSince': {
        let latest: number | undefined;
        for (const s of parts) {
          const t = s.latest(fromMs, toMs, knownAt);
          if (t !== undefined && (latest === undefined || t > latest)) latest = t;
        }
        return latest === undefined ? null : toMs - latest;
      }
    }
  }

  private node(entity: EntityType, id: string): EntitySeries | undefined {
    return this.series.get(entity)?.get(id);
  }

  private index(entry: FeatureEntry, entity: EntityType, id: string): void {
    const byId = this.series.get(entity) as Map<string, EntitySeries>;
    let node = byId.get(id);
    if (!node) {
      node = { all: new EntrySeries(), byType: new Map() };
      byId.set(id, node);
    }
    let series = node.byType.get(entry.type);
    if (!series) {
      series = new EntrySeries();
      node.byType.set(entry.type, series);
    }
    series.insert(entry);
    node.all.insert(entry);
  }
}

const RESOLVED: Promise<void> = Promise.resolve();
const NO_ENTRIES: readonly FeatureEntry[] = [];

interface EntitySeries {
  /** Every event of the entity. */
  readonly all: EntrySeries;
  readonly byType: Map<EventType, EntrySeries>;
}

function coversAllTypes(types: readonly EventType[]): boolean {
  return (
    types === EVENT_TYPES ||
    (types.length === EVENT_TYPES.length && new Set(types).size === EVENT_TYPES.length)
  );
}

/** One series' window aggregate: the same values as aggregateEntries over the window's entries. */
function aggregateSeries(series: EntrySeries, query: WindowQuery, aggregate: Aggregate): number | null {
  const { fromMs, toMs, knownAt } = query;
  switch (aggregate.kind) {
    case 'count':
      return series.count(fromMs, toMs, knownAt);
    case 'sum':
      return series.sum(fromMs, toMs, knownAt);
    case 'max':
      return series.max(fromMs, toMs, knownAt);
    case 'distinct':
      return series.distinctCount(aggregate.of, fromMs, toMs, knownAt);
    case 'timeSince': {
      const latest = series.latest(fromMs, toMs, knownAt);
      return latest === undefined ? null : toMs - latest;
    }
    case 'sinceFirstSeenOn': {
      const first = series.firstSeenOn(aggregate.deviceId, fromMs, toMs, knownAt);
      return first === undefined ? null : toMs - first;
    }
  }
}

/** The window slice of one sorted series (fromMs < t <= toMs, received by knownAt), at most the last `limit`. */
function windowOf(query: WindowQuery, series: EntrySeries, limit: number): FeatureEntry[] {
  if (!series.seesAll(query.knownAt)) {
    const out: FeatureEntry[] = [];
    series.windowInto(out, query.fromMs, query.toMs, query.knownAt);
    return out.length > limit ? out.slice(out.length - limit) : out;
  }
  const end = series.start(query.toMs);
  const start = Math.max(series.start(query.fromMs), end - limit);
  return start < end ? series.entries.slice(start, end) : [];
}
