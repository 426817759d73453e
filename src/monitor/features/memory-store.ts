import { EVENT_TYPES, type EventType } from '../events.js';
import { aggregateEntries, entityKeys, type Aggregate, type FeatureEntry, type FeatureStore, type WindowQuery } from './store.js';

/**
 * The embedded feature store: per entity and event type, an array of entries sorted by (occurredAt, eventId).
 * Appends in time order are O(1); a late event is placed by binary search (events are placed by occurredAt, issue 5).
 * A window is two binary searches; aggregation is linear in the window (windows are per entity, so short).
 * State is rebuilt from the events table on start (MonitorService.start), so nothing is lost on restart.
 */
export class MemoryFeatureStore implements FeatureStore {
  readonly kind = 'memory' as const;
  private readonly series = new Map<string, FeatureEntry[]>();
  private readonly known = new Set<string>();

  async append(entries: readonly FeatureEntry[]): Promise<void> {
    this.appendSync(entries);
  }

  appendSync(entries: readonly FeatureEntry[]): void {
    for (const entry of entries) {
      if (this.known.has(entry.eventId)) continue;
      this.known.add(entry.eventId);
      for (const [entity, id] of entityKeys(entry)) {
        insertSorted(this.seriesFor(seriesKey(entity, id, entry.type)), entry);
        insertSorted(this.seriesFor(seriesKey(entity, id, ALL_TYPES)), entry);
      }
    }
  }

  async remove(entries: readonly FeatureEntry[]): Promise<void> {
    for (const entry of entries) {
      if (!this.known.delete(entry.eventId)) continue;
      for (const [entity, id] of entityKeys(entry)) {
        for (const type of [entry.type, ALL_TYPES]) {
          const list = this.series.get(seriesKey(entity, id, type));
          const at = list ? list.findIndex((e) => e.eventId === entry.eventId) : -1;
          if (list && at >= 0) list.splice(at, 1);
        }
      }
    }
  }

  async events(query: WindowQuery, limit = Number.MAX_SAFE_INTEGER): Promise<FeatureEntry[]> {
    return this.eventsSync(query, limit);
  }

  eventsSync(query: WindowQuery, limit = Number.MAX_SAFE_INTEGER): FeatureEntry[] {
    const out: FeatureEntry[] = [];
    // A query over every type reads the entity's all-types series: one binary search instead of one per type.
    if (query.types.length === EVENT_TYPES.length && new Set(query.types).size === EVENT_TYPES.length) {
      this.windowInto(out, query, ALL_TYPES);
      return out.length > limit ? out.slice(out.length - limit) : out;
    }
    for (const type of query.types) this.windowInto(out, query, type);
    if (query.types.length > 1) out.sort(compareEntries);
    return out.length > limit ? out.slice(out.length - limit) : out;
  }

  async aggregate(query: WindowQuery, aggregate: Aggregate): Promise<number | null> {
    return this.aggregateSync(query, aggregate);
  }

  aggregateSync(query: WindowQuery, aggregate: Aggregate): number | null {
    // Fast path: a count over one type without a knownAt filter is the distance between two binary searches.
    if (aggregate.kind === 'count' && query.knownAt === undefined) {
      let n = 0;
      for (const type of query.types) {
        const list = this.series.get(seriesKey(query.entity, query.id, type));
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
    this.series.clear();
    this.known.clear();
  }

  async close(): Promise<void> {}

  private windowInto(out: FeatureEntry[], query: WindowQuery, type: EventType | typeof ALL_TYPES): void {
    const list = this.series.get(seriesKey(query.entity, query.id, type));
    if (!list) return;
    const end = upperBound(list, query.toMs);
    for (let i = upperBound(list, query.fromMs); i < end; i++) {
      const entry = list[i] as FeatureEntry;
      if (query.knownAt === undefined || entry.r <= query.knownAt) out.push(entry);
    }
  }

  private seriesFor(key: string): FeatureEntry[] {
    let list = this.series.get(key);
    if (!list) {
      list = [];
      this.series.set(key, list);
    }
    return list;
  }
}

const ALL_TYPES = '*';

function seriesKey(entity: string, id: string, type: string): string {
  return `${entity}\u0000${id}\u0000${type}`;
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
