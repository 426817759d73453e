import type { MonitorEvent } from './events.js';
import { DEFAULT_LINK_OPTIONS, EntityGraph, type LinkOptions } from './links.js';

/** A late event is judged from the borrower's latest known instant when that is at most this much later. */
const LATE_EVENT_REACH_MS = 86_400_000;

/**
 * What the monitor remembers of accounts from their events, beside the feature windows: entity links, each borrower's
 * credit line, and the newest instant seen (the retention horizon follows it).
 */
export class AccountMemory {
  readonly graph: EntityGraph;
  /** Newest occurredAt seen. */
  newest = Number.NEGATIVE_INFINITY;
  private readonly userLine = new Map<string, string>();

  constructor(links: LinkOptions = DEFAULT_LINK_OPTIONS) {
    this.graph = new EntityGraph(links);
  }

  track(event: MonitorEvent): void {
    if (event.occurredAt > this.newest) this.newest = event.occurredAt;
    if (event.lineId) this.userLine.set(event.userId, event.lineId);
    this.graph.add(event);
  }

  lineOf(userId: string): string | undefined {
    return this.userLine.get(userId);
  }

  /** A late event is judged from the borrower's latest known instant (within a day), so a pattern it completes is seen. */
  evaluationInstant(event: MonitorEvent): number {
    const latest = this.graph.lastSeen(event.userId);
    if (latest === undefined || latest <= event.occurredAt) return event.occurredAt;
    return latest - event.occurredAt <= LATE_EVENT_REACH_MS ? latest : event.occurredAt;
  }
}
