import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AlertBook, type AlertStore } from '../../src/cases/index.js';
import { ManualClock } from '../../src/domain/clock.js';
import { BEFORE_ANY_COMMIT, firstCommitPage } from '../../src/domain/commit-order.js';
import { uuidv7Generator } from '../../src/domain/ids.js';
import { seededRandom } from '../../src/domain/random.js';
import type { MonitorEvent } from '../../src/monitor/events.js';
import type { MonitorIntakeStore } from '../../src/monitor/index.js';
import { createIsolatedPostgresSchema, openStore } from '../../src/store/db.js';
import { createCaseIntakeReads } from '../../src/store/cases-intake.js';
import { alertStore, monitorIntakeStore } from '../../src/store/index.js';
import { TEST_DATABASE_URL } from '../helpers/stores.js';
import { T0, openTestMonitor, type TestMonitor } from '../monitor/helpers.js';
import { LOGIN_ALERT, openFeedUnit } from './fixtures.js';

/**
 * One transaction left open anywhere on the cluster (an operator's session, another application's long write, a
 * stuck job) holds back the oldest running transaction id, PostgreSQL's xmin. A follower of the other processes that
 * stood at xmin read everything committed since on every read, for as long as that transaction stayed open: every
 * second on the follow timer and before every group of events, so an hour's open transaction meant re-reading an hour
 * of the fleet's events each time. A follower stands at a snapshot instead (src/domain/commit-order.ts): each
 * committed row is read once, and a row of a transaction that was still open is read once it commits.
 */

const NEVER_MS = 3_600_000;

let logins = 0;
const login = (userId: string): MonitorEvent =>
  ({ eventId: `stall-login-${++logins}`, type: 'login', occurredAt: T0 + logins, userId }) as MonitorEvent;

/** A session elsewhere on the cluster with a transaction that has written (so holds an xid), left open. */
async function openStall(url: string): Promise<{ end(): Promise<void> }> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query('begin');
  await client.query('select pg_current_xact_id()');
  return {
    async end() {
      await client.query('commit');
      await client.end();
    },
  };
}

describe.skipIf(!TEST_DATABASE_URL)(
  'a transaction left open elsewhere does not make followers read again (PostgreSQL)',
  () => {
    let url = '';
    let a: TestMonitor;
    const others: TestMonitor[] = [];
    const stalls: { end(): Promise<void> }[] = [];

    beforeAll(async () => {
      url = await createIsolatedPostgresSchema(TEST_DATABASE_URL ?? '', 'follow_stall');
      a = await openTestMonitor({
        store: await openStore({ postgresUrl: url }),
        deps: {
          typologies: [LOGIN_ALERT],
          ids: uuidv7Generator(new ManualClock(T0), seededRandom(71)),
          followEveryMs: NEVER_MS,
        },
      });
    });
    afterEach(async () => {
      for (const s of stalls.splice(0)) await s.end();
    });
    afterAll(async () => {
      for (const m of [a, ...others]) await m?.close();
    });

    /** Another process whose intake reads (events returned by each read) are counted. */
    async function countingProcess(seed: number): Promise<{ process: TestMonitor; eventsRead: number[] }> {
      const store = await openStore({ postgresUrl: url, migrate: false });
      const intakeStore = monitorIntakeStore(store);
      const eventsRead: number[] = [];
      const counted: MonitorIntakeStore = {
        ...intakeStore,
        async eventsCommittedSince(from, limit) {
          const page = await intakeStore.eventsCommittedSince(from, limit);
          eventsRead.push(page.events.length);
          return page;
        },
      };
      const process = await openTestMonitor({
        store,
        deps: {
          typologies: [LOGIN_ALERT],
          intakeStore: counted,
          ids: uuidv7Generator(new ManualClock(T0), seededRandom(seed)),
          followEveryMs: NEVER_MS,
        },
      });
      others.push(process);
      return { process, eventsRead };
    }

    const total = (counts: number[]) => counts.splice(0).reduce((sum, n) => sum + n, 0);

    it("reads each of the other processes' events once", async () => {
      const { process: b, eventsRead } = await countingProcess(72);
      stalls.push(await openStall(url));
      await a.monitor.ingest(Array.from({ length: 30 }, (_, i) => login(`stall-user-${i % 6}`)));
      total(eventsRead);

      await b.monitor.follow();
      expect(total(eventsRead)).toBe(30);
      await b.monitor.follow();
      await b.monitor.follow();
      expect(total(eventsRead)).toBe(0);

      await a.monitor.ingest([login('stall-user-1'), login('stall-user-2')]);
      await b.monitor.follow();
      expect(total(eventsRead)).toBe(2);
    });

    it('reads the events of a unit that was open at its last read once it commits, and only those', async () => {
      const { process: b, eventsRead } = await countingProcess(73);
      const late = await openFeedUnit(a.store, login('stall-late'));
      await a.monitor.ingest([login('stall-user-3')]);
      await b.monitor.follow();
      expect(total(eventsRead)).toBe(1);

      await late.commit();
      await b.monitor.follow();
      expect(total(eventsRead)).toBe(1);
      await b.monitor.follow();
      expect(total(eventsRead)).toBe(0);
    });

    it('reads each alert change once (the dedupe window), and the case intake each new alert once', async () => {
      const store = await openStore({ postgresUrl: url, migrate: false });
      const alerts = alertStore(store);
      const alertsRead: number[] = [];
      const counted: AlertStore = {
        ...alerts,
        async alertsChangedSince(from, limit) {
          const page = await alerts.alertsChangedSince(from, limit);
          alertsRead.push(page.alerts.length);
          return page;
        },
      };
      const book = new AlertBook(counted, {
        clock: new ManualClock(T0),
        ids: uuidv7Generator(new ManualClock(T0), seededRandom(74)),
      });
      try {
        await book.load();
        const intake = createCaseIntakeReads(store).committed;
        if (!intake) throw new Error('a PostgreSQL store follows what committed');
        let intakeAt = await intake.followFrom();
        const newAlerts = async () => {
          const page = await intake.openAlerts(firstCommitPage(intakeAt), 100);
          intakeAt = page.snapshot;
          return page.items.map((item) => item.user_id).sort();
        };

        stalls.push(await openStall(url));
        await a.monitor.ingest([login('alerted-1'), login('alerted-2'), login('alerted-3')]);
        await book.follow();
        expect(total(alertsRead)).toBe(3);
        expect(await newAlerts()).toEqual(['alerted-1', 'alerted-2', 'alerted-3']);
        await book.follow();
        expect(total(alertsRead)).toBe(0);
        expect(await newAlerts()).toEqual([]);

        await a.monitor.ingest([login('alerted-4')]);
        await book.follow();
        expect(total(alertsRead)).toBe(1);
        expect(await newAlerts()).toEqual(['alerted-4']);
      } finally {
        await store.close();
      }
    });

    it('a follower with no place yet (before its start) reads every row, not an error', async () => {
      await a.monitor.ingest([login('from-the-start')]);
      const store = await openStore({ postgresUrl: url, migrate: false });
      try {
        const page = await alertStore(store).alertsChangedSince(firstCommitPage(BEFORE_ANY_COMMIT), 10_000);
        const stored = await store.db.selectFrom('monitor_alerts').select('alert_id').execute();
        expect(page.alerts.map((alert) => alert.alertId).sort()).toEqual(
          stored.map((r) => r.alert_id).sort(),
        );
        expect(page.alerts.length).toBeGreaterThan(0);
      } finally {
        await store.close();
      }
    });
  },
);
