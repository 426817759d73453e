import { contentHash, type MonitorEvent } from './events.js';

/** How often (in event time) retention runs, and the bucket of the id index. */
export const PRUNE_EVERY_MS = 86_400_000;

export type Classified =
  | { readonly fresh: boolean[]; readonly hashes: string[] }
  | { readonly conflicts: { index: number; eventId: string }[] };

/**
 * The event ids intake has stored, with their content hashes: a repeated id with the same content is a duplicate
 * (answered with its first result), with other content a conflict. Bucketed by occurredAt day, so ids beyond the
 * retention horizon can be forgotten (bounded memory).
 */
export class EventIds {
  private readonly known = new Map<string, string>();
  private readonly byDay = new Map<number, string[]>();
  /** Set once ids have been forgotten: from then on unknown ids are checked against the store before insert. */
  forgotten = false;

  get size(): number {
    return this.known.size;
  }

  has(eventId: string): boolean {
    return this.known.has(eventId);
  }

  remember(eventId: string, hash: string, occurredAt: number): void {
    this.known.set(eventId, hash);
    const day = Math.floor(occurredAt / PRUNE_EVERY_MS);
    const ids = this.byDay.get(day);
    if (ids) ids.push(eventId);
    else this.byDay.set(day, [eventId]);
  }

  /** True when some remembered id is older than the horizon (so windows and links have something to prune). */
  anyBefore(horizon: number): boolean {
    const lastDay = Math.floor(horizon / PRUNE_EVERY_MS);
    for (const day of this.byDay.keys()) if (day < lastDay) return true;
    return false;
  }

  /** The earliest occurredAt whose id forgetBefore(horizon) keeps: the start of the horizon's day (ids go by day). */
  static keptFrom(horizon: number): number {
    return Math.floor(horizon / PRUNE_EVERY_MS) * PRUNE_EVERY_MS;
  }

  forgetBefore(horizon: number): void {
    const lastDay = Math.floor(horizon / PRUNE_EVERY_MS);
    for (const [day, ids] of this.byDay) {
      if (day >= lastDay) continue;
      for (const id of ids) this.known.delete(id);
      this.byDay.delete(day);
      this.forgotten = true;
    }
  }

  /** Which of a request's events are new (first occurrence), or the conflicting ones; `groupNew` holds the group's. */
  classify(events: readonly MonitorEvent[], groupNew: ReadonlyMap<string, string>): Classified {
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
}
