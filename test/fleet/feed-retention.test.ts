import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/domain/clock.js';
import { uuidv7Generator } from '../../src/domain/ids.js';
import { seededRandom } from '../../src/domain/random.js';
import { createIsolatedPostgresSchema, openStore, type Store } from '../../src/store/db.js';
import { pruneMonitorEventFeed } from '../../src/store/monitor.js';
import { TEST_DATABASE_URL } from '../helpers/stores.js';
import { MIN, T0, ev, history, openTestMonitor, receiveLive, type TestMonitor } from '../monitor/helpers.js';
import { openFeedUnit } from './fixtures.js';

/**
 * monitor_event_feed (migration 142) is how the processes on one PostgreSQL follow each other's events. It must not
 * grow without bound, yet a row a live follower has not read yet must survive every prune, and a process started
 * after a prune must still know every event (it rebuilds from monitor_events). The follow timer is off here; the tests
 * call follow() where it would have (which also tells the store how far the process has read).
 */
const NEVER_MS = 3_600_000;

describe.skipIf(!TEST_DATABASE_URL)(
  'the monitor event feed is pruned behind its live followers (PostgreSQL)',
  () => {
    let url = '';
    let processes: TestMonitor[] = [];
    /** Units a test left open: committed before the processes close, whether the test passed or not. */
    let units: { commit(): Promise<void> }[] = [];

    beforeEach(async () => {
      url = await createIsolatedPostgresSchema(TEST_DATABASE_URL ?? '', 'feed_retention');
      processes = [];
      units = [];
    });
    afterEach(async () => {
      for (const u of units) await u.commit();
      for (const p of processes) await p.close();
    });

    /** A process of the fleet: it registers as a follower when it starts (its rebuild). The first one migrates. */
    async function start(seed: number): Promise<TestMonitor> {
      const store = await openStore({ postgresUrl: url, migrate: processes.length === 0 });
      const p = await openTestMonitor({
        store,
        deps: { ids: uuidv7Generator(new ManualClock(T0), seededRandom(seed)), followEveryMs: NEVER_MS },
      });
      processes.push(p);
      return p;
    }

    const draw = (userId: string) => ({ borrowerId: userId, deviceId: `dev-${userId}`, at: T0 });

    it('deletes the rows every follower has read; a process started afterwards still sees every event', async () => {
      const a = await start(1);
      const b = await start(2);
      await receiveLive(a, history('p1'));
      await a.monitor.ingest([ev('call_in_progress', T0 - MIN, { userId: 'p1', deviceId: 'dev-p1' })]);
      await untilEveryTransactionEnded(a.store);
      await a.monitor.follow();
      await b.monitor.follow();
      const expected = await b.monitor.drawSignals(draw('p1'));
      expect(expected.callInProgress).toBe(true);
      const stored = await feedEventIds(a.store);
      expect(stored).toHaveLength(18);

      // In batches of 4 rows (each its own short statement): 18 rows take five.
      expect(await pruneMonitorEventFeed(a.store, { batchRowsMax: 4 })).toBe(stored.length);
      expect(await feedEventIds(a.store)).toEqual([]);

      const c = await start(3);
      expect(await c.monitor.drawSignals(draw('p1'))).toEqual(expected);
    });

    it('keeps what a lagging follower has not read, and a unit that commits late, through every prune', async () => {
      const a = await start(11);
      const b = await start(12);
      const past = history('p2');
      const read = await receiveLive(a, past.slice(0, 5));
      await untilEveryTransactionEnded(a.store);
      await a.monitor.follow();
      await b.monitor.follow();

      // b follows no more. Another writer's unit stores a call on the borrower's phone and stays open (a slow commit);
      // a stores and commits transactions after it.
      const slow = await openFeedUnit(
        a.store,
        ev('call_in_progress', T0 - 5 * MIN, { eventId: 'late-call', userId: 'p2', deviceId: 'dev-p2' }),
      );
      units.push(slow);
      const later = await receiveLive(a, past.slice(5));
      await a.monitor.follow();
      await a.monitor.pruneFeed();
      // What both had read is gone; what b has not read is kept (the open unit's row is not visible yet).
      const unread = later.map((o) => o.eventId).sort();
      expect(await feedEventIds(a.store)).toEqual(unread);
      expect(read).toHaveLength(5);

      await slow.commit();
      const last = await a.monitor.ingest([ev('login', T0 - MIN, { userId: 'p2', deviceId: 'dev-p2' })]);
      await untilEveryTransactionEnded(a.store);
      await a.monitor.follow();
      await a.monitor.pruneFeed();
      expect(await feedEventIds(a.store)).toEqual(
        [...unread, 'late-call', ...last.map((o) => o.eventId)].sort(),
      );

      // b catches up with nothing missing: the same signals as a process that rebuilt from the events table.
      const caughtUp = await b.monitor.drawSignals(draw('p2'));
      expect(caughtUp.callInProgress).toBe(true);
      expect(caughtUp).toEqual(await (await start(13)).monitor.drawSignals(draw('p2')));

      // Once every follower has read them and said so, they go.
      await untilEveryTransactionEnded(a.store);
      for (const p of processes) await p.monitor.follow();
      await a.monitor.pruneFeed();
      expect(await feedEventIds(a.store)).toEqual([]);
    });

    it('a follower taken for gone (silent past its lease) re-reads the events table and misses nothing', async () => {
      const a = await start(21);
      const b = await start(22);
      await receiveLive(a, history('p3'));
      await untilEveryTransactionEnded(a.store);
      await b.monitor.follow();
      await a.monitor.ingest([ev('call_in_progress', T0 - MIN, { userId: 'p3', deviceId: 'dev-p3' })]);
      // b stalls (a pause, a cut network) past its lease: by the database's clock, it was last heard of a day ago.
      await sql`update monitor_feed_followers set seen_at = seen_at - interval '1 day'`.execute(a.store.db);
      await untilEveryTransactionEnded(a.store);
      await a.monitor.follow();
      await a.monitor.pruneFeed();
      // The call b never read is pruned with the rest.
      expect(await feedEventIds(a.store)).toEqual([]);

      const signals = await b.monitor.drawSignals(draw('p3'));
      expect(signals.callInProgress).toBe(true);
      expect(signals).toEqual(await (await start(23)).monitor.drawSignals(draw('p3')));
    });
  },
);

/** The event ids in the feed, sorted. */
async function feedEventIds(store: Store): Promise<string[]> {
  const { rows } = await sql<{ event_id: string }>`select event_id from monitor_event_feed`.execute(store.db);
  return rows.map((r) => r.event_id).sort();
}

/**
 * Waits until every transaction that wrote a feed row has ended everywhere in the cluster, so a follower's next read
 * puts its place's xmin past all of them, and the prune may go that far (it keeps every row from the lowest place's
 * xmin on, which an unrelated suite's open transaction holds back).
 */
async function untilEveryTransactionEnded(store: Store): Promise<void> {
  for (let attempt = 0; attempt < 1_000; attempt++) {
    const { rows } = await sql<{ ended: boolean }>`select coalesce(
        (select xid from monitor_event_feed order by xid desc limit 1) < pg_snapshot_xmin(pg_current_snapshot()),
        true) as ended`.execute(store.db);
    if (rows[0]?.ended) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error('some transaction of the cluster stayed open');
}
