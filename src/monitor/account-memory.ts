import { CORE_EVENT_TYPES, type MonitorEvent } from './events.js';
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
  /** Borrower → the lines the core's events named for them, the latest last. */
  private readonly userLines = new Map<string, string[]>();

  constructor(links: LinkOptions = DEFAULT_LINK_OPTIONS) {
    this.graph = new EntityGraph(links);
  }

  track(event: MonitorEvent): void {
    if (event.occurredAt > this.newest) this.newest = event.occurredAt;
    // A core event's lineId is the core's own record; an app event's is what the app (or the borrower's client) says.
    if (event.lineId && CORE_EVENT_TYPES.has(event.type)) this.noteLine(event.userId, event.lineId);
    this.graph.add(event);
  }

  /**
   * The borrower's credit line as the core's events told it: `named` (the line an event names) when the core named it
   * for this borrower, else the line the core named last. An app event naming another borrower's line never gets it.
   */
  lineOf(userId: string, named?: string): string | undefined {
    const lines = this.userLines.get(userId);
    if (!lines) return undefined;
    return named !== undefined && lines.includes(named) ? named : lines[lines.length - 1];
  }

  private noteLine(userId: string, lineId: string): void {
    const lines = this.userLines.get(userId);
    if (!lines) {
      this.userLines.set(userId, [lineId]);
      return;
    }
    if (lines[lines.length - 1] === lineId) return;
    const at = lines.indexOf(lineId);
    if (at >= 0) lines.splice(at, 1);
    lines.push(lineId);
  }

  /** A late event is judged from the borrower's latest known instant (within a day), so a pattern it completes is seen. */
  evaluationInstant(event: MonitorEvent): number {
    const latest = this.graph.lastSeen(event.userId);
    if (latest === undefined || latest <= event.occurredAt) return event.occurredAt;
    return latest - event.occurredAt <= LATE_EVENT_REACH_MS ? latest : event.occurredAt;
  }
}
