import { CORE_EVENT_TYPES, type EventType, type MonitorEvent } from './events.js';
import { DEFAULT_LINK_OPTIONS, EntityGraph, type LinkOptions } from './links.js';
import type { LineMention } from './ports.js';

/** A late event is judged from the borrower's latest known instant when that is at most this much later. */
const LATE_EVENT_REACH_MS = 86_400_000;

/**
 * The events whose lineId the borrower → line map learns: the core's own (a core event's lineId is the core's record;
 * an app event's is what the app, or the borrower's client, says).
 */
export const LINE_SOURCE_TYPES: readonly EventType[] = [...CORE_EVENT_TYPES];
const LINE_SOURCES: ReadonlySet<EventType> = new Set(LINE_SOURCE_TYPES);

/**
 * What the monitor remembers of accounts from their events, beside the feature windows: entity links, each borrower's
 * credit line, and the newest instant seen (the retention horizon follows it). Retention prunes the links; the line
 * map is kept whole (a borrower's line does not expire), so it is the one fact events past the horizon still feed.
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
    if (event.lineId && LINE_SOURCES.has(event.type)) this.noteLine(event.userId, event.lineId);
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

  /**
   * Learns the lines of events not tracked (the rebuild leaves events past the retention horizon unread), from the
   * last mention of each borrower and line (LINE_SOURCE_TYPES): tracking every mention in order leaves each
   * borrower's lines in the order of their last mentions, so noting only those, in that order, leaves the same map.
   * Called before the later events are tracked.
   */
  learnLines(mentions: LineMention[]): void {
    mentions.sort(byOccurrence);
    for (const m of mentions) this.noteLine(m.userId, m.lineId);
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

/** Stored events' order: (occurredAt, eventId). */
function byOccurrence(a: LineMention, b: LineMention): number {
  if (a.occurredAt !== b.occurredAt) return a.occurredAt - b.occurredAt;
  return a.eventId < b.eventId ? -1 : a.eventId > b.eventId ? 1 : 0;
}
