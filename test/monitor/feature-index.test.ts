import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { EVENT_TYPES, type EventType } from '../../src/monitor/events.js';
import { compareEntries, MemoryFeatureStore } from '../../src/monitor/features/memory-store.js';
import {
  aggregateEntries,
  DISTINCT_FIELDS,
  entityKeys,
  syncReadsOf,
  type Aggregate,
  type EntityType,
  type FeatureEntry,
  type FeatureStore,
  type WindowQuery,
} from '../../src/monitor/features/store.js';
import { computeDrawSignals } from '../../src/monitor/signals.js';
import { DAY, HOUR, MIN, T0, openTestMonitor } from './helpers.js';

/**
 * The memory store's window indexes (prefix sums, block maxima, per-value times) against the plain scan: every answer
 * must equal aggregateEntries over the window's entries, through out-of-order arrival, removal, retention and
 * point-in-time (knownAt) queries, including after the lazily built indexes have had to follow changes.
 */

const TYPES = ['login', 'transfer_out', 'disbursement'] as const satisfies readonly EventType[];
const USERS = ['u1', 'u2', 'u3'];
const DEVICES = ['d1', 'd2', 'd3'];
const IPS = ['i1', 'i2', 'i3', 'i4', 'i5', 'i6', 'i7', 'i8'];
const PAYEES = ['p1', 'p2', 'p3', 'p4', 'p5', 'p6'];
/** Mostly ordinary minor units; a few values that make the prefix-sum path unsafe (fractions, negatives, > 2^53 totals). */
const amountArb = fc.oneof(
  { weight: 12, arbitrary: fc.integer({ min: 0, max: 100_000 }) },
  { weight: 3, arbitrary: fc.constant(undefined) },
  { weight: 1, arbitrary: fc.constantFrom(0.1, 0.2, 0.7, -5, 2 ** 52 + 1, Number.MAX_SAFE_INTEGER) },
);

const entryArb = fc.record({
  type: fc.constantFrom(...TYPES),
  // A narrow time range, so equal occurredAt (ordered by eventId) is common.
  slot: fc.integer({ min: 0, max: 30 }),
  // Received when it happened, late, or a little before its occurredAt (a device clock ahead, within the tolerance).
  lateBy: fc.oneof(
    { weight: 4, arbitrary: fc.constant(0) },
    { weight: 1, arbitrary: fc.integer({ min: 1, max: 30 }) },
    { weight: 1, arbitrary: fc.integer({ min: -3, max: -1 }) },
  ),
  userId: fc.constantFrom(...USERS),
  deviceId: fc.option(fc.constantFrom(...DEVICES), { nil: undefined, freq: 5 }),
  ip: fc.option(fc.constantFrom(...IPS), { nil: undefined, freq: 5 }),
  payeeId: fc.option(fc.constantFrom(...PAYEES), { nil: undefined, freq: 2 }),
  amountMinor: amountArb,
});
type EntrySpec = typeof entryArb extends fc.Arbitrary<infer T> ? T : never;

const queryArb = fc.record({
  entity: fc.constantFrom<EntityType>('user', 'device', 'ip', 'payee'),
  pick: fc.nat(),
  types: fc.oneof(
    fc.constant<readonly EventType[]>(EVENT_TYPES),
    fc.constantFrom(...TYPES).map((t) => [t] as readonly EventType[]),
    fc.uniqueArray(fc.constantFrom(...TYPES), { minLength: 0, maxLength: 3 }) as fc.Arbitrary<
      readonly EventType[]
    >,
  ),
  from: fc.integer({ min: -2, max: 32 }),
  length: fc.integer({ min: -3, max: 35 }),
  knownAt: fc.option(fc.integer({ min: 0, max: 65 }), { nil: undefined, freq: 2 }),
});
type QuerySpec = typeof queryArb extends fc.Arbitrary<infer T> ? T : never;

const opArb = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      op: fc.constant('append' as const),
      entries: fc.array(entryArb, { minLength: 1, maxLength: 60 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant('remove' as const),
      picks: fc.array(fc.nat(), { minLength: 1, maxLength: 12 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ op: fc.constant('prune' as const), slot: fc.integer({ min: -1, max: 30 }) }),
  },
  {
    weight: 5,
    arbitrary: fc.record({
      op: fc.constant('query' as const),
      queries: fc.array(queryArb, { minLength: 1, maxLength: 6 }),
    }),
  },
);

const AGGREGATES: readonly Aggregate[] = [
  { kind: 'count' },
  { kind: 'sum' },
  { kind: 'max' },
  { kind: 'timeSince' },
  ...DISTINCT_FIELDS.map((of) => ({ kind: 'distinct', of }) as const),
  ...DEVICES.map((deviceId) => ({ kind: 'sinceFirstSeenOn', deviceId }) as const),
];

const at = (slot: number) => T0 + slot * MIN;

/** The reference: a plain list of what the store should hold, and the window by filtering and sorting it. */
class Model {
  readonly entries = new Map<string, FeatureEntry>();

  window(q: WindowQuery): FeatureEntry[] {
    const all = q.types === EVENT_TYPES || new Set(q.types).size === EVENT_TYPES.length;
    return [...this.entries.values()]
      .filter((e) => entityKeys(e).some(([entity, id]) => entity === q.entity && id === q.id))
      .filter(
        (e) =>
          (all || q.types.includes(e.type)) &&
          e.t > q.fromMs &&
          e.t <= q.toMs &&
          (q.knownAt === undefined || e.r <= q.knownAt),
      )
      .sort(compareEntries);
  }
}

function toQuery(spec: QuerySpec): WindowQuery {
  const ids = { user: USERS, device: DEVICES, ip: IPS, payee: PAYEES }[
    spec.entity as 'user' | 'device' | 'ip' | 'payee'
  ];
  const fromMs = at(spec.from);
  return {
    entity: spec.entity,
    id: ids[spec.pick % ids.length] as string,
    types: spec.types,
    fromMs,
    toMs: fromMs + spec.length * MIN,
    ...(spec.knownAt === undefined ? {} : { knownAt: at(spec.knownAt) }),
  };
}

function expectSameAsScan(store: MemoryFeatureStore, model: Model, q: WindowQuery): void {
  const window = model.window(q);
  for (const aggregate of AGGREGATES) {
    expect({ q, aggregate, value: store.aggregateSync(q, aggregate) }).toEqual({
      q,
      aggregate,
      value: aggregateEntries(window, aggregate, q.toMs),
    });
  }
  expect(store.eventsSync(q).map((e) => e.eventId)).toEqual(window.map((e) => e.eventId));
  expect(store.eventsSync(q, 3).map((e) => e.eventId)).toEqual(window.slice(-3).map((e) => e.eventId));
  for (const field of DISTINCT_FIELDS) {
    const expected = new Set(window.flatMap((e) => (e[field] === undefined ? [] : [e[field] as string])));
    expect([...store.distinctValuesSync(q, field)].sort()).toEqual([...expected].sort());
  }
}

let nextId = 0;
function toEntry(spec: EntrySpec): FeatureEntry {
  nextId += 1;
  const t = at(spec.slot);
  const entry: Record<string, unknown> = {
    eventId: `x${String(nextId).padStart(6, '0')}`,
    type: spec.type,
    t,
    r: t + spec.lateBy * MIN,
    userId: spec.userId,
  };
  if (spec.deviceId !== undefined) entry.deviceId = spec.deviceId;
  if (spec.ip !== undefined) entry.ip = spec.ip;
  if (spec.payeeId !== undefined) entry.payeeId = spec.payeeId;
  if (spec.amountMinor !== undefined) entry.amountMinor = spec.amountMinor;
  return entry as unknown as FeatureEntry;
}

describe('memory feature store window indexes', () => {
  it('answer every aggregate exactly as the scan, through out-of-order appends, removals, retention and knownAt (property)', () => {
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 1, maxLength: 25 }), (ops) => {
        const store = new MemoryFeatureStore();
        const model = new Model();
        for (const op of ops) {
          if (op.op === 'append') {
            const entries = op.entries.map(toEntry);
            store.appendSync(entries);
            for (const e of entries) model.entries.set(e.eventId, e);
          } else if (op.op === 'remove') {
            const ids = [...model.entries.keys()];
            if (ids.length === 0) continue;
            const gone = [...new Set(op.picks.map((p) => ids[p % ids.length] as string))].map(
              (id) => model.entries.get(id) as FeatureEntry,
            );
            void store.remove(gone);
            for (const e of gone) model.entries.delete(e.eventId);
          } else if (op.op === 'prune') {
            const horizon = at(op.slot);
            const expected = [...model.entries.values()].filter((e) => e.t <= horizon);
            void store.prune(horizon);
            for (const e of expected) model.entries.delete(e.eventId);
            expect(store.size).toBe(model.entries.size);
          } else {
            for (const spec of op.queries) expectSameAsScan(store, model, toQuery(spec));
          }
        }
        // Finally every entity and window shape once more, over whatever the operations left.
        for (const entity of ['user', 'device', 'ip', 'payee'] as const) {
          for (const pick of [0, 1, 2, 3])
            expectSameAsScan(
              store,
              model,
              toQuery({ entity, pick, types: EVENT_TYPES, from: -1, length: 35, knownAt: undefined }),
            );
        }
      }),
      { numRuns: 150 },
    );
  });

  it('keeps large windows exact (the indexes, not the small-window scan): one borrower, thousands of draws', () => {
    const store = new MemoryFeatureStore();
    const model = new Model();
    const entries: FeatureEntry[] = [];
    for (let i = 0; i < 3000; i++) {
      const t = T0 + ((i * 7919) % 3000) * 20_000; // a permutation of the slots: heavily out of order
      entries.push({
        eventId: `h${i}`,
        type: i % 5 === 0 ? 'login' : 'disbursement',
        t,
        r: i % 13 === 0 ? t + HOUR : t,
        userId: 'u1',
        deviceId: `d${i % 4}`,
        ip: `ip${i % 9}`,
        amountMinor: 100 + (i % 977),
      });
    }
    store.appendSync(entries);
    for (const e of entries) model.entries.set(e.eventId, e);
    const windows = [
      { fromMs: T0 - 1, toMs: T0 + DAY },
      { fromMs: T0 + 1234, toMs: T0 + 40_000_000 },
      { fromMs: T0 + 10 * 20_000, toMs: T0 + 2000 * 20_000 },
    ];
    for (const w of windows) {
      for (const types of [EVENT_TYPES, ['disbursement'], ['login', 'disbursement']] as const) {
        for (const knownAt of [undefined, T0 + DAY * 2, T0 + 30_000_000])
          expectSameAsScan(store, model, {
            entity: 'user',
            id: 'u1',
            types,
            ...w,
            ...(knownAt === undefined ? {} : { knownAt }),
          });
      }
    }
    const removed = entries.filter((_, i) => i % 7 === 0);
    void store.remove(removed);
    for (const e of removed) model.entries.delete(e.eventId);
    void store.prune(T0 + 500 * 20_000);
    for (const e of [...model.entries.values()])
      if (e.t <= T0 + 500 * 20_000) model.entries.delete(e.eventId);
    for (const w of windows)
      expectSameAsScan(store, model, { entity: 'user', id: 'u1', types: EVENT_TYPES, ...w });
    expectSameAsScan(store, model, {
      entity: 'device',
      id: 'd1',
      types: ['disbursement'],
      fromMs: T0,
      toMs: T0 + DAY,
    });
  });

  it('follow removals, late arrivals and retention after the indexes are built (window edges on entry times)', async () => {
    const store = new MemoryFeatureStore();
    const model = new Model();
    const add = (entries: FeatureEntry[]) => {
      store.appendSync(entries);
      for (const e of entries) model.entries.set(e.eventId, e);
    };
    const drop = async (entries: FeatureEntry[]) => {
      await store.remove(entries);
      for (const e of entries) model.entries.delete(e.eventId);
    };
    const draw = (eventId: string, slot: number, fields: Partial<FeatureEntry> = {}): FeatureEntry => ({
      eventId,
      type: 'disbursement',
      t: at(slot),
      r: at(slot),
      userId: 'u1',
      deviceId: 'd1',
      ip: 'i1',
      amountMinor: ((slot * 37) % 101) * 100,
      ...fields,
    });
    const check = () => {
      const windows = [
        [49, 50],
        [4, 5],
        [-1, 200],
      ];
      for (const from of [-1, 4, 10, 31, 40, 50])
        for (const to of [50, 63, 64, 70, 90, 97]) windows.push([from, to]);
      for (const [from, to] of windows as [number, number][]) {
        for (const types of [EVENT_TYPES, ['disbursement']] as const) {
          for (const knownAt of [undefined, at(100), at(130)]) {
            expectSameAsScan(store, model, {
              entity: 'user',
              id: 'u1',
              types,
              fromMs: at(from),
              toMs: at(to),
              ...(knownAt === undefined ? {} : { knownAt }),
            });
          }
        }
      }
    };
    // d2 seen before and at a window edge, d4 first seen exactly at one, d5 on both sides of the retention horizon.
    const rare = [
      draw('rare-a', 5, { deviceId: 'd2', ip: 'i2' }),
      draw('rare-b', 50, { deviceId: 'd2', ip: 'i2', amountMinor: 7 }),
      draw('rare-c', 90, { deviceId: 'd4', ip: 'i4' }),
      draw('rare-d', 10, { deviceId: 'd5', ip: 'i5' }),
      draw('rare-e', 95, { deviceId: 'd5', ip: 'i5' }),
    ];
    add([...Array.from({ length: 100 }, (_, i) => draw(`b${String(i).padStart(3, '0')}`, i)), ...rare]);
    check();
    await drop([rare[1] as FeatureEntry]);
    check();
    add([draw('late-a', 50, { deviceId: 'd2', amountMinor: 999_999 })]);
    check();
    add([draw('late-b', 20, { r: at(120), deviceId: 'd3', amountMinor: 1 })]);
    check();
    await drop([draw('b030', 30)]);
    check();
    await store.prune(at(50));
    for (const e of [...model.entries.values()]) if (e.t <= at(50)) model.entries.delete(e.eventId);
    check();
  });

  it('find when a device was first received when draws are dated ahead of their receipt (block skips stay exact)', () => {
    const store = new MemoryFeatureStore();
    const model = new Model();
    const entry = (i: number, fields: Partial<FeatureEntry>): FeatureEntry => ({
      eventId: `a${String(i).padStart(4, '0')}`,
      type: 'disbursement',
      t: T0 + i * 100,
      r: T0 + i * 100,
      userId: 'u1',
      ...fields,
    });
    const entries = [
      // d1 first in time, received a minute late; a line drawing faster than one a millisecond dates d3's draws ten
      // minutes ahead of their receipt, which makes the lead too wide for the early stop.
      entry(0, { deviceId: 'd1', r: T0 + MIN }),
      ...Array.from({ length: 300 }, (_, k) =>
        k < 100
          ? entry(k + 1, { deviceId: 'd3', r: T0 + (k + 1) * 100 - 10 * MIN })
          : entry(k + 1, { deviceId: 'd2', r: T0 + (k + 1) * 100 + 2 * MIN }),
      ),
      // d1 again far into the series, received a millisecond before its first entry: the answer.
      entry(400, { deviceId: 'd1', r: T0 + MIN - 1 }),
      ...Array.from({ length: 100 }, (_, k) => entry(401 + k, { deviceId: 'd2', r: T0 + 3 * MIN + k })),
    ];
    store.appendSync(entries);
    for (const e of entries) model.entries.set(e.eventId, e);
    for (const knownAt of [undefined, T0 + MIN - 1, T0 + MIN, T0 + HOUR])
      expectSameAsScan(store, model, {
        entity: 'user',
        id: 'u1',
        types: EVENT_TYPES,
        fromMs: T0 - 1,
        toMs: T0 + DAY,
        ...(knownAt === undefined ? {} : { knownAt }),
      });
    expect(
      store.aggregateSync(
        { entity: 'user', id: 'u1', types: EVENT_TYPES, fromMs: T0 - 1, toMs: T0 + DAY },
        { kind: 'sinceFirstSeenOn', deviceId: 'd1' },
      ),
    ).toBe(DAY - MIN + 1);
  });

  it('a window whose end precedes its start is empty (count 0, as the scan and Redis answer)', async () => {
    const store = new MemoryFeatureStore();
    await store.append([{ eventId: 'a', type: 'login', t: T0, r: T0, userId: 'u1' }]);
    expect(
      store.aggregateSync(
        { entity: 'user', id: 'u1', types: ['login'], fromMs: T0 + 1, toMs: T0 - 1 },
        { kind: 'count' },
      ),
    ).toBe(0);
  });

  it('offers synchronous reads on the memory store only', () => {
    expect(syncReadsOf(new MemoryFeatureStore())).toBeDefined();
    expect(syncReadsOf(asyncOnly(new MemoryFeatureStore()))).toBeUndefined();
  });
});

/** The same store seen only through the FeatureStore interface (as Redis is): exercises the async draw path. */
function asyncOnly(inner: FeatureStore): FeatureStore {
  return {
    kind: 'redis',
    append: (entries) => inner.append(entries),
    remove: (entries) => inner.remove(entries),
    events: (query, limit) => inner.events(query, limit),
    aggregate: (query, aggregate) => inner.aggregate(query, aggregate),
    readBatch: (batch) => inner.readBatch(batch),
    clear: () => inner.clear(),
    close: () => inner.close(),
  };
}

describe('draw signals', () => {
  it('are the same through the synchronous path as through the async reads (property)', async () => {
    const memory = new MemoryFeatureStore();
    const sync = await openTestMonitor({ features: memory });
    const async = await openTestMonitor({ features: asyncOnly(memory) });
    try {
      expect(sync.monitor.reader.syncReads).toBeDefined();
      expect(async.monitor.reader.syncReads).toBeUndefined();
      const types: EventType[] = [
        'login',
        'disbursement',
        'transfer_out',
        'payee_added',
        'call_in_progress',
        'password_reset',
        'bureau_inquiry',
        'repayment',
      ];
      const entries: FeatureEntry[] = [];
      for (let i = 0; i < 1500; i++) {
        const t = T0 - 40 * DAY + ((i * 104_729) % 1500) * 40 * MIN;
        const type = types[i % types.length] as EventType;
        entries.push({
          eventId: `s${i}`,
          type,
          t,
          r: t,
          userId: i % 3 === 0 ? 'b2' : 'b1',
          deviceId: `dev${(i * 31) % 5}`,
          ip: `ip${i % 7}`,
          amountMinor: 1000 + i,
          ...(type === 'bureau_inquiry' ? { channel: `ch${i % 4}` } : {}),
        });
      }
      // Devices each seen once, every other day: new when the draw falls within a day after one.
      for (let d = 0; d < 22; d++)
        entries.push({
          eventId: `f${d}`,
          type: 'login',
          t: T0 - 40 * DAY + d * 2 * DAY,
          r: T0 - 40 * DAY + d * 2 * DAY,
          userId: 'b1',
          deviceId: `fresh${d}`,
        });
      await memory.append(entries);
      await fc.assert(
        fc.asyncProperty(
          fc.integer({ min: -41 * 24, max: 24 }),
          fc.constantFrom('b1', 'b2', 'nobody'),
          fc.option(fc.constantFrom('dev0', 'dev3', 'dev-new'), { nil: undefined, freq: 2 }),
          fc.option(fc.constantFrom('ip1', 'ip-new'), { nil: undefined }),
          async (hours, borrowerId, deviceId, ip) => {
            const req = { borrowerId, deviceId, ip, at: T0 + hours * HOUR };
            expect(await computeDrawSignals(sync.monitor, req)).toEqual(
              await computeDrawSignals(async.monitor, req),
            );
          },
        ),
        { numRuns: 150 },
      );
    } finally {
      await sync.close();
      await async.close();
    }
  });
});
