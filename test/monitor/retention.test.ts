import { describe, expect, it } from 'vitest';
import { MemoryFeatureStore } from '../../src/monitor/features/memory-store.js';
import { toEntry } from '../../src/monitor/features/store.js';
import { STORE_FACTORIES } from '../helpers/stores.js';
import { DAY, T0, ev, openTestMonitor } from './helpers.js';

describe('retention (bounded memory)', () => {
  it('the memory store prunes entries at or before the horizon, and forgets their ids', async () => {
    const store = new MemoryFeatureStore();
    const old = ev('login', T0 - 100 * DAY, { userId: 'u1', deviceId: 'd1' });
    const recent = ev('login', T0, { userId: 'u1', deviceId: 'd1' });
    await store.append([toEntry(old, old.occurredAt), toEntry(recent, recent.occurredAt)]);
    expect(await store.prune(T0 - 90 * DAY)).toBe(1);
    expect(store.has(old.eventId)).toBe(false);
    expect(store.has(recent.eventId)).toBe(true);
    const all = await store.events({
      entity: 'device',
      id: 'd1',
      types: ['login'],
      fromMs: T0 - 200 * DAY,
      toMs: T0,
    });
    expect(all.map((e) => e.eventId)).toEqual([recent.eventId]);
  });

  it('after ids are forgotten, a repeat of an old event is still answered with its first result (from the table)', async () => {
    const t = await openTestMonitor();
    try {
      const old = ev('login', T0 - 120 * DAY, { userId: 'u2', deviceId: 'd2' });
      const [first] = await t.monitor.ingest([old]);
      expect(first?.status).toBe('accepted');
      // 120 days of later traffic move the horizon past the first event.
      const later = Array.from({ length: 120 }, (_, d) =>
        ev('login', T0 - (119 - d) * DAY, { userId: 'u2', deviceId: 'd2' }),
      );
      await t.monitor.ingest(later);
      const retained = t.monitor.eventCount;
      expect(retained).toBeLessThan(121);
      const [again] = await t.monitor.ingest([old]);
      expect(again).toMatchObject({
        eventId: old.eventId,
        status: 'duplicate',
        typologies: first?.typologies,
      });
      const [conflict] = await t.monitor.ingest([{ ...old, ip: '10.9.9.9' }]).then(
        () => ['no conflict'],
        (e: { code?: string }) => [e.code],
      );
      expect(conflict).toBe('LG_EVENT_CONFLICT');
    } finally {
      await t.close();
    }
  });
});

/** The precompiled multi-row event INSERT, on every store (placeholders differ: ? on SQLite, $n on PostgreSQL). */
for (const factory of STORE_FACTORIES) {
  describe.skipIf(!factory.enabled)(`batch inserts on ${factory.name}`, () => {
    it('stores a batch larger than one INSERT chunk, every row once', async () => {
      const t = await openTestMonitor({ store: await factory.open('monitor_chunks') });
      try {
        const batch = Array.from({ length: 1_234 }, (_, i) =>
          ev('login', T0 + i, { userId: `b${i % 50}`, deviceId: `d${i % 50}`, attributes: { n: i } }),
        );
        const outcomes = await t.monitor.ingest(batch);
        expect(outcomes.every((o) => o.status === 'accepted')).toBe(true);
        const ids = batch.map((e) => e.eventId);
        const n = await t.store.db
          .selectFrom('monitor_events')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .where('event_id', 'in', ids)
          .executeTakeFirstOrThrow();
        expect(Number(n.n)).toBe(1_234);
        const row = await t.store.db
          .selectFrom('monitor_events')
          .selectAll()
          .where('event_id', '=', ids[1_233] ?? '')
          .executeTakeFirstOrThrow();
        expect(row).toMatchObject({ user_id: 'b33', attributes: '{"n":1233}' });
        expect(Number(row.occurred_at)).toBe(T0 + 1_233);
      } finally {
        await t.close();
      }
    });
  });
}
