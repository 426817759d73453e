import { EVENT_TYPES, type EventType } from '../events.js';
import { aggregateEntries, ENTITY_TYPES, entityKeys, type Aggregate, type EntityType, type FeatureEntry, type FeatureStore, type WindowQuery } from './store.js';

/**
 * The embedded feature store: per entity and event type, an array of entries sorted by (occurredAt, eventId).
 * Appends in time order are O(1); a late event is placed by binary search (events are placed by occurredAt, issue 5).
 * A window is two binary searches; aggregation is linear in the window (windows are per entity, so short).
 * State is rebuilt from the events table on start (MonitorService.start), so nothing is lost on restart.
 */
export class MemoryFeatureStore implements FeatureStore {
  readonly kind = 'memory' as const;
  /** entity type → id → its series: the id string itself is the key (no key concatenation on the hot path). */
  private readonly series = new Map<EntityType, Map<string, EntitySeries>>(ENTITY_TYPES.map((t) => [t, new Map()]));
  private readonly known = new Set<string>();

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
      this.known.add(entry.eventId);
      this.index(entry, 'user', entry.userId);
      if (entry.deviceId) this.index(entry, 'device', entry.deviceId);
      if (entry.ip) this.index(entry, 'ip', entry.ip);
      if (entry.payeeId) this.index(entry, 'payee', entry.payeeId);
      if (entry.merchantId) this.index(entry, 'merchant', entry.merchantId);
      if (entry.channel) this.index(entry, 'channel', entry.channel);
    }
  }

  async remove(entries: readonly FeatureEntry[]): Promise<void> {
    for (const entry of entries) {
      if (!this.known.delete(entry.eventId)) continue;
      for (const [entity, id] of entityKeys(entry)) {
        const node = this.node(entity, id);
        if (!node) continue;
        for (const list of [node.byType.get(entry.type), node.all]) {
          const at = list ? list.findIndex((e) => e.eventId === entry.eventId) : -1;
          if (list && at >= 0) list.splice(at, 1);
        }
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
        const cut = upperBound(node.all, olderThanMs);
        if (cut === 0) continue;
        // Every entry sits in exactly one user series: forget its id there.
        if (entity === 'user') {
          for (let i = 0; i < cut; i++) this.known.delete((node.all[i] as FeatureEntry).eventId);
          dropped += cut;
        }
        node.all.splice(0, cut);
        for (const [type, list] of node.byType) {
          const n = upperBound(list, olderThanMs);
          if (n > 0) list.splice(0, n);
          if (list.length === 0) node.byType.delete(type);
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
    if (query.types === EVENT_TYPES || (query.types.length === EVENT_TYPES.length && new Set(query.types).size === EVENT_TYPES.length)) {
      return windowOf(query, node.all, limit);
    }
    if (query.types.length === 1) {
      const list = node.byType.get(query.types[0] as EventType);
      return list ? windowOf(query, list, limit) : [];
    }
    const out: FeatureEntry[] = [];
    for (const type of query.types) {
      const list = node.byType.get(type);
      if (list) windowInto(out, query, list);
    }
    if (query.types.length > 1) out.sort(compareEntries);
    return out.length > limit ? out.slice(out.length - limit) : out;
  }

  aggregate(query: WindowQuery, aggregate: Aggregate): Promise<number | null> {
    try {
      return Promise.resolve(this.aggregateSync(query, aggregate));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  aggregateSync(query: WindowQuery, aggregate: Aggregate): number | null {
    // Fast path: a count without a knownAt filter is the distance between two binary searches per type.
    if (aggregate.kind === 'count' && query.knownAt === undefined) {
      const node = this.node(query.entity, query.id);
      if (!node) return 0;
      let n = 0;
      for (const type of query.types) {
        const list = node.byType.get(type);
        if (list) n += upperBound(list, query.toMs) - upperBound(list, query.fromMs);
      }
      return n;
    }
    return aggregateEntries(this.eventsSync(query), aggregate, query.toMs);
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

  private node(entity: EntityType, id: string): EntitySeries | undefined {
    return this.series.get(entity)?.get(id);
  }

  private index(entry: FeatureEntry, entity: EntityType, id: string): void {
    const byId = this.series.get(entity) as Map<string, EntitySeries>;
    let node = byId.get(id);
    if (!node) {
      node = { all: [], byType: new Map() };
      byId.set(id, node);
    }
    let list = node.byType.get(entry.type);
    if (!list) {
      list = [];
      node.byType.set(entry.type, list);
    }
    insertSorted(list, entry);
    insertSorted(node.all, entry);
  }
}

const RESOLVED: Promise<void> = Promise.resolve();

interface EntitySeries {
  /** Every event of the entity, sorted by (occurredAt, eventId). */
  readonly all: FeatureEntry[];
  readonly byType: Map<EventType, FeatureEntry[]>;
}

/** The window slice of one sorted series (fromMs < t <= toMs, received by knownAt), at most the last `limit`. */
function windowOf(query: WindowQuery, list: readonly FeatureEntry[], limit: number): FeatureEntry[] {
  if (query.knownAt !== undefined) {
    const out: FeatureEntry[] = [];
    windowInto(out, query, list);
    return out.length > limit ? out.slice(out.length - limit) : out;
  }
  const end = upperBound(list, query.toMs);
  const start = Math.max(upperBound(list, query.fromMs), end - limit);
  return start < end ? list.slice(start, end) : [];
}

function windowInto(out: FeatureEntry[], query: WindowQuery, list: readonly FeatureEntry[]): void {
  const end = upperBound(list, query.toMs);
  for (let i = upperBound(list, query.fromMs); i < end; i++) {
    const entry = list[i] as FeatureEntry;
    if (query.knownAt === undefined || entry.r <= query.knownAt) out.push(entry);
  }
}

export function compareEntries(a: FeatureEntry, b: FeatureEntry): number {
  return a.t - b.t || (a.eventId < b.eventId ? -1 : a.eventId > b.eventId ? 1 : 0);
}

/** First index whose t > ms. */
function upperBound(list: readonly FeatureEntry[], ms: number): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((list[mid] as FeatureEntry).t <= ms) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function insertSorted(list: FeatureEntry[], entry: FeatureEntry): void {
  const last = list[list.length - 1];
  if (!last || compareEntries(last, entry) <= 0) {
    list.push(entry);
    return;
  }
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareEntries(list[mid] as FeatureEntry, entry) <= 0) lo = mid + 1;
    else hi = mid;
  }
  list.splice(lo, 0, entry);
}
