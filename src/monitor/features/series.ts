import type { DistinctField, FeatureEntry } from './store.js';

/**
 * One sorted series of the memory store (an entity's events of one type, or of every type) with the indexes that make
 * a window aggregate cost O(log n) instead of O(window): a draw reads ~20 windows of a borrower who may have drawn
 * thousands of times today.
 *
 * - count: two binary searches over `times`.
 * - sum: prefix sums (difference of two; exact while amounts are non-negative safe integers with a safe total, else
 *   the scan), max: per-block maxima; both built on the first such query and caught up lazily after an insert, so an
 *   append in time order costs O(1) and a late one O(distance from the end).
 * - timeSince: the last entry of the window.
 * - distinct: per field, value → its sorted times; a window holds a value iff one of its times falls inside, so a
 *   count is O(values). Built once a scan showed values repeating (a borrower's few devices over thousands of draws),
 *   used while there are fewer values than entries in the window; otherwise the plain scan.
 *
 * Every fast path returns exactly what the scan of the window returns (the reference: `aggregateEntries`). They apply
 * when the query sees every entry (no knownAt, or knownAt >= every entry's receivedAt: the live case); a
 * point-in-time query with late arrivals takes the exact scan. Counts and distinct values take it only for the entries
 * that may have been received after knownAt: those dated within the series' largest lateness (receivedAt − occurredAt)
 * of it. The rest were received by then, so the fast paths answer them (a draw asks which devices the borrower was
 * known by a day ago, and every entry received in its time is one of those).
 */
export class EntrySeries {
  /** Sorted by (occurredAt, eventId). */
  readonly entries: FeatureEntry[] = [];
  /** entries[i].t, kept alongside: binary searches read a packed number array, not objects of many shapes. */
  private readonly times: number[] = [];
  /**
   * Highest receivedAt indexed here. Never lowered on removal: a stale high value only sends more knownAt queries to
   * the exact scan, never fewer.
   */
  private maxReceived = Number.NEGATIVE_INFINITY;
  /**
   * Largest receivedAt − occurredAt indexed here, never lowered: every entry with occurredAt <= knownAt − maxLag was
   * received by knownAt (seenThrough).
   */
  private maxLag = Number.NEGATIVE_INFINITY;
  /**
   * Largest occurredAt − receivedAt indexed here (an event dated ahead of its receipt), never lowered: every entry with
   * occurredAt > x + maxLead was received after x (firstSeenOn stops there).
   */
  private maxLead = Number.NEGATIVE_INFINITY;
  /** Entries with an amount that is not a non-negative safe integer: while any is here, sums take the scan. */
  private irregularAmounts = 0;
  private amounts: AmountIndex | undefined;
  /** Per distinct field, built lazily (see noteScan): most series never need one. */
  private valueTimes: Map<DistinctField, Map<string, number[]>> | undefined;

  get length(): number {
    return this.entries.length;
  }

  /** Places the entry by (occurredAt, eventId): O(1) in time order, a binary search and a splice when late. */
  insert(entry: FeatureEntry): void {
    const at = this.insertionPoint(entry);
    if (at === this.entries.length) {
      this.entries.push(entry);
      this.times.push(entry.t);
    } else {
      this.entries.splice(at, 0, entry);
      this.times.splice(at, 0, entry.t);
    }
    if (entry.r > this.maxReceived) this.maxReceived = entry.r;
    if (entry.r - entry.t > this.maxLag) this.maxLag = entry.r - entry.t;
    if (entry.t - entry.r > this.maxLead) this.maxLead = entry.t - entry.r;
    if (!isRegularAmount(entry.amountMinor)) this.irregularAmounts += 1;
    if (this.amounts) this.amounts.validUpTo = Math.min(this.amounts.validUpTo, at);
    if (!this.valueTimes) return;
    for (const [field, byValue] of this.valueTimes) {
      const value = entry[field];
      if (value !== undefined) addTime(byValue, value, entry.t);
    }
  }

  /** Takes out the entry with this eventId and occurredAt; false when it is not here. */
  remove(entry: FeatureEntry): boolean {
    const at = this.indexOf(entry);
    if (at < 0) return false;
    const [removed] = this.entries.splice(at, 1) as [FeatureEntry];
    this.times.splice(at, 1);
    if (!isRegularAmount(removed.amountMinor)) this.irregularAmounts -= 1;
    if (this.amounts) this.amounts.validUpTo = Math.min(this.amounts.validUpTo, at);
    for (const [field, byValue] of this.valueTimes ?? NO_VALUE_TIMES) {
      const value = removed[field];
      if (value !== undefined) removeTime(byValue, value, removed.t);
    }
    return true;
  }

  /** Drops entries with occurredAt <= olderThanMs (retention) and returns them. */
  dropThrough(olderThanMs: number): FeatureEntry[] {
    const cut = upperBound(this.times, olderThanMs);
    if (cut === 0) return [];
    const dropped = this.entries.splice(0, cut);
    this.times.splice(0, cut);
    for (const e of dropped) if (!isRegularAmount(e.amountMinor)) this.irregularAmounts -= 1;
    if (this.amounts) this.amounts.validUpTo = 0;
    for (const byValue of this.valueTimes?.values() ?? []) {
      for (const [value, times] of byValue) {
        const n = upperBound(times, olderThanMs);
        if (n === times.length) byValue.delete(value);
        else if (n > 0) times.splice(0, n);
      }
    }
    return dropped;
  }

  /** Index of the first entry with occurredAt > fromMs: the window (fromMs, toMs] is [start(fromMs), start(toMs)). */
  start(ms: number): number {
    return upperBound(this.times, ms);
  }

  /** True when a knownAt filter cannot exclude anything here, so the indexes answer. */
  seesAll(knownAt: number | undefined): boolean {
    return knownAt === undefined || knownAt >= this.maxReceived;
  }

  /**
   * The latest occurredAt through which every entry here was received by knownAt: all of them without knownAt, else
   * those dated at least the largest lateness before it.
   */
  seenThrough(knownAt: number | undefined): number {
    return this.seesAll(knownAt) ? Number.POSITIVE_INFINITY : (knownAt as number) - this.maxLag;
  }

  count(fromMs: number, toMs: number, knownAt: number | undefined): number {
    const from = this.start(fromMs);
    const to = this.start(toMs);
    if (to <= from) return 0;
    // Entries [from, seen) were all received by knownAt; only the later ones are checked.
    const seen = Math.max(from, Math.min(to, this.start(this.seenThrough(knownAt))));
    let n = seen - from;
    for (let i = seen; i < to; i++) if ((this.entries[i] as FeatureEntry).r <= (knownAt as number)) n += 1;
    return n;
  }

  /** True when the prefix sums give the scan's exact result (every partial sum an exact integer double). */
  sumsExactly(knownAt: number | undefined): boolean {
    return this.seesAll(knownAt) && this.irregularAmounts === 0 && this.total() <= Number.MAX_SAFE_INTEGER;
  }

  /** Sum of every amount here (prefix sums caught up); meaningful for sumsExactly. */
  total(): number {
    const amounts = this.amountIndex();
    return amounts.prefix[this.entries.length] as number;
  }

  sum(fromMs: number, toMs: number, knownAt: number | undefined): number {
    const from = this.start(fromMs);
    const to = this.start(toMs);
    if (to <= from) return 0;
    if (this.sumsExactly(knownAt)) {
      const prefix = (this.amounts as AmountIndex).prefix;
      return (prefix[to] as number) - (prefix[from] as number);
    }
    let s = 0;
    for (let i = from; i < to; i++) {
      const e = this.entries[i] as FeatureEntry;
      if (knownAt === undefined || e.r <= knownAt) s += e.amountMinor ?? 0;
    }
    return s;
  }

  /** Largest amount in the window, at least 0 (absent amounts count as 0), as the scan computes it. */
  max(fromMs: number, toMs: number, knownAt: number | undefined): number {
    const from = this.start(fromMs);
    const to = this.start(toMs);
    if (to <= from) return 0;
    if (!this.seesAll(knownAt)) {
      let m = 0;
      for (let i = from; i < to; i++) {
        const e = this.entries[i] as FeatureEntry;
        if (e.r <= (knownAt as number)) m = Math.max(m, e.amountMinor ?? 0);
      }
      return m;
    }
    const { blockMax } = this.amountIndex();
    // Partial blocks at both ends entry by entry, whole blocks in between by their maxima (Math.max is order-free).
    const firstWhole = Math.ceil(from / BLOCK);
    const lastWhole = Math.floor(to / BLOCK);
    let m = 0;
    if (firstWhole >= lastWhole) return this.maxOfEntries(m, from, to);
    m = this.maxOfEntries(m, from, firstWhole * BLOCK);
    for (let b = firstWhole; b < lastWhole; b++) m = Math.max(m, blockMax[b] as number);
    return this.maxOfEntries(m, lastWhole * BLOCK, to);
  }

  /** occurredAt of the window's last entry (received by knownAt), or undefined when there is none. */
  /**
   * When an entry on `deviceId` in the window (received by knownAt) was first received; undefined when none is. Reads
   * in time order and stops once every later entry was received after the earliest found (maxLead): on a borrower's
   * series the first of their events on a device is near the window's start, not the whole window away.
   */
  firstSeenOn(
    deviceId: string,
    fromMs: number,
    toMs: number,
    knownAt: number | undefined,
  ): number | undefined {
    let first: number | undefined;
    const lead = Math.max(0, this.maxLead);
    const end = this.start(toMs);
    let minReceived: number[] | undefined;
    for (let i = this.start(fromMs); i < end; i++) {
      if (first !== undefined && i % BLOCK === 0 && i + BLOCK <= end) {
        // A whole block received no earlier than the earliest found cannot lower it: a line drawing faster than one
        // draw a millisecond dates its draws ahead of their receipt (instantAfter), which widens the lead.
        minReceived ??= this.amountIndex().blockMinReceived;
        if ((minReceived[i / BLOCK] as number) >= first) {
          i += BLOCK - 1;
          continue;
        }
      }
      const e = this.entries[i] as FeatureEntry;
      if (first !== undefined && e.t > first + lead) break;
      if (e.deviceId !== deviceId || (knownAt !== undefined && e.r > knownAt)) continue;
      if (first === undefined || e.r < first) first = e.r;
    }
    return first;
  }

  latest(fromMs: number, toMs: number, knownAt: number | undefined): number | undefined {
    const from = this.start(fromMs);
    for (let i = this.start(toMs) - 1; i >= from; i--) {
      const e = this.entries[i] as FeatureEntry;
      if (knownAt === undefined || e.r <= knownAt) return e.t;
    }
    return undefined;
  }

  /** How many distinct values of `field` the window holds (entries without the field do not count). */
  distinctCount(field: DistinctField, fromMs: number, toMs: number, knownAt: number | undefined): number {
    if (this.seenThrough(knownAt) < toMs) {
      const values = new Set<string>();
      this.distinctInto(values, field, fromMs, toMs, knownAt);
      return values.size;
    }
    const from = this.start(fromMs);
    const to = this.start(toMs);
    if (to <= from) return 0;
    const byValue = this.valueIndexFor(field, to - from);
    if (!byValue) {
      const seen = new Set<string>();
      this.scanValuesInto(seen, field, from, to, undefined);
      this.noteScan(field, to - from, seen.size);
      return seen.size;
    }
    let n = 0;
    for (const times of byValue.values()) if (hasTimeIn(times, fromMs, toMs)) n += 1;
    return n;
  }

  /**
   * Adds the distinct values of `field` in the window to `out`: those of the entries received by knownAt for sure
   * (seenThrough) as a live query would, then the later ones each checked.
   */
  distinctInto(
    out: Set<string>,
    field: DistinctField,
    fromMs: number,
    toMs: number,
    knownAt: number | undefined,
  ): void {
    const seenTo = Math.min(toMs, this.seenThrough(knownAt));
    if (seenTo > fromMs) this.distinctSeenInto(out, field, fromMs, seenTo);
    if (seenTo >= toMs) return;
    this.scanValuesInto(out, field, this.start(Math.max(fromMs, seenTo)), this.start(toMs), knownAt);
  }

  /** distinctInto for a window every entry of which is seen (received by the query's knownAt, if any). */
  private distinctSeenInto(out: Set<string>, field: DistinctField, fromMs: number, toMs: number): void {
    const from = this.start(fromMs);
    const to = this.start(toMs);
    if (to <= from) return;
    const byValue = this.valueIndexFor(field, to - from);
    if (!byValue) {
      // Counted on their own: values `out` already held would make this series look more repetitive than it is.
      const seen = out.size === 0 ? out : new Set<string>();
      this.scanValuesInto(seen, field, from, to, undefined);
      this.noteScan(field, to - from, seen.size);
      if (seen !== out) for (const value of seen) out.add(value);
      return;
    }
    for (const [value, times] of byValue) if (hasTimeIn(times, fromMs, toMs)) out.add(value);
  }

  /** Entries of the window in order (received by knownAt), appended to `out`. */
  windowInto(out: FeatureEntry[], fromMs: number, toMs: number, knownAt: number | undefined): void {
    const to = this.start(toMs);
    for (let i = this.start(fromMs); i < to; i++) {
      const e = this.entries[i] as FeatureEntry;
      if (knownAt === undefined || e.r <= knownAt) out.push(e);
    }
  }

  private maxOfEntries(m: number, from: number, to: number): number {
    for (let i = from; i < to; i++) m = Math.max(m, (this.entries[i] as FeatureEntry).amountMinor ?? 0);
    return m;
  }

  private minReceivedOf(from: number, to: number): number {
    let m = Number.POSITIVE_INFINITY;
    for (let i = from; i < to; i++) m = Math.min(m, (this.entries[i] as FeatureEntry).r);
    return m;
  }

  private scanValuesInto(
    out: Set<string>,
    field: DistinctField,
    from: number,
    to: number,
    knownAt: number | undefined,
  ): void {
    for (let i = from; i < to; i++) {
      const e = this.entries[i] as FeatureEntry;
      if (knownAt !== undefined && e.r > knownAt) continue;
      const value = e[field];
      if (value !== undefined) out.add(value);
    }
  }

  /**
   * The value index of `field`, when it exists and is the cheaper way to answer a window of `windowSize` entries (all
   * seen: the callers split off what a knownAt may exclude): it costs one check per value, the scan one Set insertion
   * per entry.
   */
  private valueIndexFor(field: DistinctField, windowSize: number): Map<string, number[]> | undefined {
    if (windowSize <= SCAN_WINDOW_MAX) return undefined;
    const byValue = this.valueTimes?.get(field);
    return byValue && byValue.size < windowSize ? byValue : undefined;
  }

  /**
   * Builds the value index of `field` once a scan of a seen window showed values repeating (a borrower's few devices
   * over thousands of draws): series whose windows are small or whose values are mostly unique never pay its memory.
   */
  private noteScan(field: DistinctField, windowSize: number, distinct: number): void {
    if (windowSize <= SCAN_WINDOW_MAX || distinct * VALUE_REPEAT_MIN > windowSize) return;
    this.valueTimes ??= new Map();
    if (this.valueTimes.has(field)) return;
    const byValue = new Map<string, number[]>();
    for (const e of this.entries) {
      const value = e[field];
      if (value !== undefined) addTime(byValue, value, e.t);
    }
    this.valueTimes.set(field, byValue);
  }

  /** Prefix sums and block maxima, caught up from the first position an insert or removal invalidated. */
  private amountIndex(): AmountIndex {
    const amounts = (this.amounts ??= { prefix: [0], blockMax: [], blockMinReceived: [], validUpTo: 0 });
    const n = this.entries.length;
    if (amounts.validUpTo === n && amounts.prefix.length === n + 1) return amounts;
    const from = amounts.validUpTo;
    amounts.prefix.length = n + 1;
    for (let i = from; i < n; i++) {
      amounts.prefix[i + 1] =
        (amounts.prefix[i] as number) + ((this.entries[i] as FeatureEntry).amountMinor ?? 0);
    }
    const blocks = Math.ceil(n / BLOCK);
    amounts.blockMax.length = blocks;
    amounts.blockMinReceived.length = blocks;
    for (let b = Math.floor(from / BLOCK); b < blocks; b++) {
      amounts.blockMax[b] = this.maxOfEntries(0, b * BLOCK, Math.min(n, (b + 1) * BLOCK));
      amounts.blockMinReceived[b] = this.minReceivedOf(b * BLOCK, Math.min(n, (b + 1) * BLOCK));
    }
    amounts.validUpTo = n;
    return amounts;
  }

  private insertionPoint(entry: FeatureEntry): number {
    const n = this.entries.length;
    const last = this.entries[n - 1];
    if (!last || compareEntries(last, entry) <= 0) return n;
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareEntries(this.entries[mid] as FeatureEntry, entry) <= 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private indexOf(entry: FeatureEntry): number {
    for (let i = lowerBound(this.times, entry.t); i < this.times.length && this.times[i] === entry.t; i++) {
      if ((this.entries[i] as FeatureEntry).eventId === entry.eventId) return i;
    }
    return -1;
  }
}

/** Windows up to this many entries are scanned for distinct values without building the value index. */
const SCAN_WINDOW_MAX = 16;
/** A value index is built for a field once a scanned window had at least this many entries per distinct value. */
const VALUE_REPEAT_MIN = 4;
const NO_VALUE_TIMES: ReadonlyMap<DistinctField, Map<string, number[]>> = new Map();
/** Entries per block of the max index: a max reads at most 2 partial blocks plus n/BLOCK block maxima. */
const BLOCK = 32;

interface AmountIndex {
  /** prefix[i] = sum of the amounts of entries[0..i). */
  readonly prefix: number[];
  /** blockMax[b] = max(0, amounts of entries[b*BLOCK..(b+1)*BLOCK)). */
  readonly blockMax: number[];
  /** blockMinReceived[b] = the earliest receivedAt of entries[b*BLOCK..(b+1)*BLOCK) (firstSeenOn skips blocks by it). */
  readonly blockMinReceived: number[];
  /** prefix[0..validUpTo] and the blocks before validUpTo's are current. */
  validUpTo: number;
}

/** Sums of such amounts are exact in any order while the total stays a safe integer. */
function isRegularAmount(amount: number | undefined): boolean {
  return amount === undefined || (Number.isSafeInteger(amount) && amount >= 0);
}

export function compareEntries(a: FeatureEntry, b: FeatureEntry): number {
  return a.t - b.t || (a.eventId < b.eventId ? -1 : a.eventId > b.eventId ? 1 : 0);
}

/** First index whose value > ms. */
function upperBound(sorted: readonly number[], ms: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((sorted[mid] as number) <= ms) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** First index whose value >= ms. */
function lowerBound(sorted: readonly number[], ms: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((sorted[mid] as number) < ms) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** True when some time t of the sorted list has fromMs < t <= toMs. */
function hasTimeIn(times: readonly number[], fromMs: number, toMs: number): boolean {
  const last = times[times.length - 1] as number;
  if (last <= fromMs) return false;
  const first = times[0] as number;
  if (first > fromMs) return first <= toMs;
  return (times[upperBound(times, fromMs)] as number) <= toMs;
}

function addTime(byValue: Map<string, number[]>, value: string, t: number): void {
  const times = byValue.get(value);
  if (!times) byValue.set(value, [t]);
  else if ((times[times.length - 1] as number) <= t) times.push(t);
  else times.splice(upperBound(times, t), 0, t);
}

function removeTime(byValue: Map<string, number[]>, value: string, t: number): void {
  const times = byValue.get(value);
  if (!times) return;
  const at = lowerBound(times, t);
  if (times[at] !== t) return;
  if (times.length === 1) byValue.delete(value);
  else times.splice(at, 1);
}
