import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { EVENT_TYPES } from '../../src/monitor/events.js';
import { MemoryFeatureStore } from '../../src/monitor/features/memory-store.js';
import { RedisFeatureStore } from '../../src/monitor/features/redis-store.js';
import {
  aggregateEntries,
  type Aggregate,
  type FeatureEntry,
  type FeatureStore,
} from '../../src/monitor/features/store.js';
import { DAY, HOUR, T0 } from './helpers.js';

const REDIS_URL = process.env.LINEGUARD_TEST_REDIS_URL;
if (!REDIS_URL)
  console.warn(
    'LINEGUARD_TEST_REDIS_URL is not set: the Redis feature store conformance suite is skipped (CI sets it).',
  );

const FACTORIES: { name: string; enabled: boolean; open(): FeatureStore }[] = [
  { name: 'memory', enabled: true, open: () => new MemoryFeatureStore() },
  {
    name: 'redis',
    enabled: Boolean(REDIS_URL),
    open: () =>
      new RedisFeatureStore({ url: REDIS_URL ?? '', prefix: `lgtest:${process.pid}:${Date.now()}` }),
  },
];

const entry = (i: number, fields: Partial<FeatureEntry> = {}): FeatureEntry => ({
  eventId: `f${i}`,
  type: 'transfer_out',
  t: T0 + i * HOUR,
  r: T0 + i * HOUR,
  userId: 'u1',
  deviceId: 'd1',
  payeeId: `p${i % 3}`,
  amountMinor: 1000 * (i + 1),
  ...fields,
});

/** Every kind of aggregate, counting the distinct values of `of`. */
const everyAggregate = (of: 'payeeId' | 'deviceId'): Aggregate[] => [
  { kind: 'count' },
  { kind: 'sum' },
  { kind: 'max' },
  { kind: 'distinct', of },
  { kind: 'timeSince' },
  { kind: 'sinceFirstSeenOn', deviceId: 'd1' },
];

/** The reference semantics' input: the entries a window holds (known by knownAt when given), in time order. */
function windowSlice(
  entries: readonly FeatureEntry[],
  window: { fromMs: number; toMs: number; knownAt?: number },
): FeatureEntry[] {
  return entries
    .filter((e) => e.t > window.fromMs && e.t <= window.toMs)
    .filter((e) => window.knownAt === undefined || e.r <= window.knownAt)
    .sort((x, y) => x.t - y.t || (x.eventId < y.eventId ? -1 : 1));
}

for (const factory of FACTORIES) {
  describe.skipIf(!factory.enabled)(`FeatureStore conformance: ${factory.name}`, () => {
    let store: FeatureStore;
    beforeAll(() => {
      store = factory.open();
    });
    beforeEach(async () => store.clear());
    afterAll(async () => {
      await store.clear();
      await store.close();
    });

    const q = (
      fromMs: number,
      toMs: number,
      extra: Partial<{ knownAt: number; id: string; entity: 'user' | 'device' | 'payee' }> = {},
    ) => ({
      entity: extra.entity ?? ('user' as const),
      id: extra.id ?? 'u1',
      types: ['transfer_out'] as const,
      fromMs,
      toMs,
      ...(extra.knownAt === undefined ? {} : { knownAt: extra.knownAt }),
    });

    it('aggregates count, sum, max, distinct and time since over (from, to]', async () => {
      await store.append([0, 1, 2, 3, 4].map((i) => entry(i)));
      const w = q(T0, T0 + 3 * HOUR); // excludes i=0 (t = T0), includes i=3
      expect(await store.aggregate(w, { kind: 'count' })).toBe(3);
      expect(await store.aggregate(w, { kind: 'sum' })).toBe(2000 + 3000 + 4000);
      expect(await store.aggregate(w, { kind: 'max' })).toBe(4000);
      expect(await store.aggregate(w, { kind: 'distinct', of: 'payeeId' })).toBe(3);
      expect(await store.aggregate({ ...w, toMs: T0 + 3 * HOUR + 5 }, { kind: 'timeSince' })).toBe(5);
      expect(await store.aggregate(q(T0 + 10 * HOUR, T0 + 11 * HOUR), { kind: 'timeSince' })).toBeNull();
      expect(
        await store.aggregate(q(T0 - 1, T0 + 9 * HOUR, { entity: 'payee', id: 'p1' }), {
          kind: 'distinct',
          of: 'userId',
        }),
      ).toBe(1);
    });

    it('answers since when a borrower has been seen on a device: the earliest receipt of its events there', async () => {
      await store.append([
        entry(1, { deviceId: 'd2' }),
        entry(2, { r: T0 + 9 * HOUR }), // dated at 2 h, received at 9 h
        entry(4),
        entry(6, { deviceId: 'd2' }),
      ]);
      const borrower = q(T0, T0 + 10 * HOUR);
      expect(await store.aggregate(borrower, { kind: 'sinceFirstSeenOn', deviceId: 'd1' })).toBe(6 * HOUR);
      expect(await store.aggregate(borrower, { kind: 'sinceFirstSeenOn', deviceId: 'd2' })).toBe(9 * HOUR);
      expect(await store.aggregate(borrower, { kind: 'sinceFirstSeenOn', deviceId: 'd3' })).toBeNull();
      const knownEarlier = { ...borrower, knownAt: T0 + 5 * HOUR };
      expect(await store.aggregate(knownEarlier, { kind: 'sinceFirstSeenOn', deviceId: 'd1' })).toBe(
        6 * HOUR,
      );
    });

    it('is idempotent by eventId and places late events in time order', async () => {
      await store.append([entry(5), entry(1)]);
      await store.append([entry(3), entry(1), entry(5)]);
      const events = await store.events(q(0, T0 + DAY));
      expect(events.map((e) => e.eventId)).toEqual(['f1', 'f3', 'f5']);
      expect(await store.aggregate(q(0, T0 + DAY), { kind: 'count' })).toBe(3);
    });

    it('answers as known at an instant (late arrivals excluded)', async () => {
      await store.append([entry(1), entry(2, { r: T0 + 50 * HOUR })]);
      expect(await store.aggregate(q(0, T0 + DAY, { knownAt: T0 + 10 * HOUR }), { kind: 'count' })).toBe(1);
      expect(await store.aggregate(q(0, T0 + DAY), { kind: 'count' })).toBe(2);
    });

    it('removes entries (a rolled-back group)', async () => {
      const es = [entry(1), entry(2)];
      await store.append(es);
      await store.remove([es[0] as FeatureEntry]);
      expect((await store.events(q(0, T0 + DAY))).map((e) => e.eventId)).toEqual(['f2']);
      await store.append([es[0] as FeatureEntry]);
      expect(await store.aggregate(q(0, T0 + DAY), { kind: 'count' })).toBe(2);
    });

    it('prunes entries at or before a horizon from every series, and forgets their ids', async () => {
      // Two users sharing device d1; entries every hour from T0 to T0 + 9 h.
      await store.append([0, 1, 2, 3, 4].map((i) => entry(i)));
      await store.append([5, 6, 7, 8, 9].map((i) => entry(i, { userId: 'u2', type: 'login' })));
      const horizon = T0 + 2 * HOUR;
      expect(await store.prune?.(horizon)).toBe(3);
      expect((await store.events(q(0, T0 + DAY))).map((e) => e.eventId)).toEqual(['f3', 'f4']);
      const device = { ...q(0, T0 + DAY, { entity: 'device', id: 'd1' }), types: EVENT_TYPES };
      expect((await store.events(device)).map((e) => e.eventId)).toEqual([
        'f3',
        'f4',
        'f5',
        'f6',
        'f7',
        'f8',
        'f9',
      ]);
      expect(await store.aggregate(q(0, T0 + DAY, { entity: 'payee', id: 'p0' }), { kind: 'count' })).toBe(1);
      // A pruned id is forgotten: appended again, it counts again (the monitor keeps its own id memory).
      await store.append([entry(1)]);
      expect(await store.aggregate(q(0, T0 + DAY), { kind: 'count' })).toBe(3);
      // Everything pruned: nothing left anywhere, and a second prune drops nothing more.
      expect(await store.prune?.(T0 + DAY)).toBe(8);
      expect(await store.events(device)).toEqual([]);
      expect(await store.prune?.(T0 + DAY)).toBe(0);
    });

    it('reads several types and every type at once, in time order', async () => {
      await store.append([
        entry(2),
        entry(1, { type: 'login', amountMinor: undefined }),
        entry(3, { type: 'disbursement' }),
      ]);
      const all = await store.events({
        entity: 'device',
        id: 'd1',
        types: EVENT_TYPES,
        fromMs: 0,
        toMs: T0 + DAY,
      });
      expect(all.map((e) => e.eventId)).toEqual(['f1', 'f2', 'f3']);
      expect(
        await store.aggregate(
          { entity: 'user', id: 'u1', types: ['login', 'disbursement'], fromMs: 0, toMs: T0 + DAY },
          { kind: 'count' },
        ),
      ).toBe(2);
    });

    it('agrees with the reference semantics on random windows (property)', async () => {
      const entries = Array.from({ length: 60 }, (_, i) =>
        entry(i, { t: T0 + ((i * 7919) % 97) * 600_000, payeeId: `p${i % 5}`, amountMinor: (i * 31) % 500 }),
      );
      await store.append(entries);
      const aggregates = everyAggregate('payeeId');
      await fc.assert(
        fc.asyncProperty(
          fc.integer({ min: -10, max: 100 }),
          fc.integer({ min: 0, max: 100 }),
          fc.constantFrom(...aggregates),
          async (a, len, agg) => {
            const fromMs = T0 + a * 600_000;
            const toMs = fromMs + len * 600_000;
            const slice = windowSlice(entries, { fromMs, toMs });
            expect(await store.aggregate(q(fromMs, toMs), agg)).toBe(aggregateEntries(slice, agg, toMs));
          },
        ),
        { numRuns: 60 },
      );
    });

    it('keeps answering as the reference semantics do through appends, roll-backs and prunes (model, property)', async () => {
      // Windows over one device's every type, where a device farm's many accounts meet: the distinct-value reads of a
      // window as of now come from the Redis store's value index, which these operations must keep exact.
      const op = fc.oneof(
        fc.record({
          kind: fc.constant('append' as const),
          entries: fc.array(
            fc.record({
              slot: fc.integer({ min: 0, max: 60 }),
              late: fc.integer({ min: 0, max: 20 }),
              user: fc.constantFrom('u0', 'u1', 'u2', 'u3', ''),
              ip: fc.constantFrom('ip0', 'ip1', '', undefined),
              type: fc.constantFrom('login' as const, 'disbursement' as const, 'transfer_out' as const),
              amount: fc.integer({ min: 0, max: 900 }),
            }),
            { minLength: 1, maxLength: 6 },
          ),
        }),
        fc.record({ kind: fc.constant('remove' as const), pick: fc.integer({ min: 0, max: 1000 }) }),
        fc.record({ kind: fc.constant('prune' as const), slot: fc.integer({ min: -2, max: 30 }) }),
      );
      const read = fc.record({
        a: fc.integer({ min: -5, max: 70 }),
        len: fc.integer({ min: 0, max: 70 }),
        known: fc.option(fc.integer({ min: 0, max: 90 }), { nil: undefined, freq: 4 }),
        aggregate: fc.constantFrom<Aggregate>(
          { kind: 'distinct', of: 'userId' },
          { kind: 'distinct', of: 'ip' },
          { kind: 'timeSince' },
          { kind: 'count' },
          { kind: 'sum' },
        ),
      });
      let run = 0;
      await fc.assert(
        fc.asyncProperty(
          fc.array(op, { minLength: 1, maxLength: 12 }),
          fc.array(read, { maxLength: 8 }),
          async (ops, reads) => {
            await store.clear();
            run += 1;
            const held: FeatureEntry[] = [];
            let serial = 0;
            for (const o of ops) {
              if (o.kind === 'append') {
                const added = o.entries.map((e): FeatureEntry => {
                  const t = T0 + e.slot * 600_000;
                  return {
                    eventId: `m${run}-${serial++}`,
                    type: e.type,
                    t,
                    r: t + e.late * 600_000,
                    userId: e.user,
                    deviceId: 'd1',
                    ...(e.ip === undefined ? {} : { ip: e.ip }),
                    amountMinor: e.amount,
                  };
                });
                await store.append(added);
                held.push(...added);
              } else if (o.kind === 'remove') {
                const gone = held.splice(o.pick % Math.max(1, held.length), 1);
                await store.remove(gone);
              } else {
                const horizon = T0 + o.slot * 600_000;
                await store.prune?.(horizon);
                for (let i = held.length - 1; i >= 0; i--)
                  if ((held[i] as FeatureEntry).t <= horizon) held.splice(i, 1);
              }
            }
            const query = (w: { a: number; len: number; known: number | undefined }) => ({
              entity: 'device' as const,
              id: 'd1',
              types: EVENT_TYPES,
              fromMs: T0 + w.a * 600_000,
              toMs: T0 + (w.a + w.len) * 600_000,
              ...(w.known === undefined ? {} : { knownAt: T0 + w.known * 600_000 }),
            });
            const result = await store.readBatch({
              aggregates: reads.map((w) => ({ query: query(w), aggregate: w.aggregate })),
              values: reads.map((w) => ({ query: query(w), field: 'ip' as const })),
            });
            expect(result.aggregates).toEqual(
              reads.map((w) => aggregateEntries(windowSlice(held, query(w)), w.aggregate, query(w).toMs)),
            );
            expect(result.values.map((v) => [...v].sort())).toEqual(
              reads.map((w) =>
                [
                  ...new Set(windowSlice(held, query(w)).flatMap((e) => (e.ip === undefined ? [] : [e.ip]))),
                ].sort(),
              ),
            );
          },
        ),
        { numRuns: 60 },
      );
    });

    it('answers a batch of windows as the reference semantics do (property), known-at windows included', async () => {
      const entries = Array.from({ length: 40 }, (_, i) =>
        entry(i, {
          t: T0 + ((i * 7919) % 61) * 600_000,
          r: T0 + ((i * 104_729) % 67) * 600_000,
          deviceId: i % 4 === 0 ? undefined : `d${i % 6}`,
          payeeId: `p${i % 5}`,
          amountMinor: (i * 31) % 500,
        }),
      );
      await store.append(entries);
      const window = fc.record({
        a: fc.integer({ min: -5, max: 70 }),
        len: fc.integer({ min: 0, max: 70 }),
        knownAt: fc.option(fc.integer({ min: 0, max: 70 }), { nil: undefined }),
      });
      const toQuery = (w: { a: number; len: number; knownAt: number | undefined }) =>
        q(T0 + w.a * 600_000, T0 + (w.a + w.len) * 600_000, {
          ...(w.knownAt === undefined ? {} : { knownAt: T0 + w.knownAt * 600_000 }),
        });
      const aggregates = everyAggregate('deviceId');
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.tuple(window, fc.constantFrom(...aggregates)), { maxLength: 6 }),
          fc.array(window, { maxLength: 3 }),
          async (aggregateReads, valueReads) => {
            const batch = {
              aggregates: aggregateReads.map(([w, aggregate]) => ({ query: toQuery(w), aggregate })),
              values: valueReads.map((w) => ({ query: toQuery(w), field: 'deviceId' as const })),
            };
            const result = await store.readBatch(batch);
            // Against the reference semantics over the entries themselves (on Redis, aggregate() is a batch of one).
            const slice = (query: ReturnType<typeof toQuery>) => windowSlice(entries, query);
            expect(result.aggregates).toEqual(
              batch.aggregates.map((r) => aggregateEntries(slice(r.query), r.aggregate, r.query.toMs)),
            );
            const expected = batch.values.map((r) =>
              [...new Set(slice(r.query).flatMap((e) => (e.deviceId ? [e.deviceId] : [])))].sort(),
            );
            expect(result.values.map((v) => [...v].sort())).toEqual(expected);
          },
        ),
        { numRuns: 40 },
      );
    });
  });
}
