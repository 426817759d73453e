import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { monitorIntakeStore } from '../../src/store/monitor.js';
import type { MonitorIntakeStore } from '../../src/monitor/ports.js';
import { createIsolatedPostgresSchema, openStore, type Store } from '../../src/store/db.js';
import { ManualClock } from '../../src/domain/clock.js';
import { uuidv7Generator } from '../../src/domain/ids.js';
import { seededRandom } from '../../src/domain/random.js';
import { TEST_DATABASE_URL } from '../helpers/stores.js';
import {
  DAY,
  MIN,
  T0,
  ev,
  history,
  money,
  openTestMonitor,
  receiveLive,
  type TestMonitor,
} from '../monitor/helpers.js';
import { openFeedUnit } from './fixtures.js';

/**
 * Fleet mode on PostgreSQL without Redis: each process keeps its feature windows and link graph in memory, so what
 * one process ingested must be there when another evaluates an event or a draw (the fleet issue: every fact a
 * decision reads comes from the shared stores). Here the timer that follows the others is off (a very long interval)
 * and no test calls follow() before it ingests: an event must be judged with everything committed before it arrived.
 */
const NEVER_MS = 3_600_000;

describe.skipIf(!TEST_DATABASE_URL)(
  'facts read across events, two processes on one PostgreSQL without Redis',
  () => {
    let url = '';
    let stores: Store[] = [];
    let monitors: TestMonitor[] = [];

    beforeAll(async () => {
      url = await createIsolatedPostgresSchema(TEST_DATABASE_URL ?? '', 'shared_facts');
      stores = [await openStore({ postgresUrl: url }), await openStore({ postgresUrl: url, migrate: false })];
      monitors = await Promise.all(
        stores.map((store, i) =>
          openTestMonitor({
            store,
            deps: {
              ids: uuidv7Generator(new ManualClock(T0), seededRandom(700 + i)),
              followEveryMs: NEVER_MS,
            },
          }),
        ),
      );
    });
    afterAll(async () => {
      for (const m of monitors) await m.close();
    });

    it('reports the safe-account scam when the other process handled the disbursement', async () => {
      const [a, b] = monitors as [TestMonitor, TestMonitor];
      const u = { userId: 'victim', deviceId: 'dev-victim' };
      // The borrower's history, the coached call and the draw's disbursement reach process a (the core's outbox there).
      await receiveLive(a, history('victim'));
      await a.monitor.ingest([
        ev('call_in_progress', T0 - 20 * MIN, u),
        ev('disbursement', T0, { ...u, lineId: 'line-victim', ...money(30_000) }),
      ]);
      // The app's report of the transfer reaches process b.
      b.clock.set(T0 + 10 * MIN);
      const outcomes = await b.monitor.ingest([
        ev('payee_added', T0 + 5 * MIN, { ...u, payeeId: 'safe-victim' }),
        ev('transfer_out', T0 + 10 * MIN, {
          ...u,
          payeeId: 'safe-victim',
          payeeCreatedAt: T0 + 5 * MIN,
          ...money(28_000),
        }),
      ]);
      expect(outcomes[1]?.typologies.map((f) => f.id)).toEqual(['SCAM_SAFE_ACCOUNT_TRANSFER']);
      // The line it freezes is the one the other process learnt from the core's event.
      expect(outcomes[1]?.actions.find((x) => x.type === 'FREEZE_DRAW')?.lineId).toBe('line-victim');
    });

    it('decides a draw with the call the other process was told of a moment before', async () => {
      const [a, b] = monitors as [TestMonitor, TestMonitor];
      const u = { userId: 'caller', deviceId: 'dev-caller' };
      await receiveLive(a, history('caller'));
      a.clock.set(T0 + DAY);
      await a.monitor.ingest([ev('call_in_progress', T0 + DAY - MIN, u)]);
      b.clock.set(T0 + DAY);
      const signals = await b.monitor.drawSignals({
        borrowerId: 'caller',
        deviceId: 'dev-caller',
        at: T0 + DAY,
      });
      expect(signals.callInProgress).toBe(true);
      expect(signals.userSinceDisbursement90d).not.toBe(-1);
    });

    it('lets concurrent draws share one read of the others, never one begun before they asked', async () => {
      const [a] = monitors as [TestMonitor, TestMonitor];
      const [store] = stores as [Store];
      const intakeStore = monitorIntakeStore(store);
      let reads = 0;
      const counted: MonitorIntakeStore = {
        ...intakeStore,
        eventsCommittedSince: (from, limit) => {
          reads += 1;
          return intakeStore.eventsCommittedSince(from, limit);
        },
      };
      const c = await openTestMonitor({
        store: await openStore({ postgresUrl: url, migrate: false }),
        deps: { intakeStore: counted, followEveryMs: NEVER_MS },
      });
      try {
        reads = 0;
        const at = T0 + 2 * DAY;
        const first = c.monitor.drawSignals({ borrowerId: 'shared-read', at });
        // Told to process a after the first draw's read began: only a read begun later may answer the draws after it.
        a.clock.set(at);
        await a.monitor.ingest([ev('call_in_progress', at - MIN, { userId: 'shared-read' })]);
        const later = await Promise.all(
          Array.from({ length: 20 }, () => c.monitor.drawSignals({ borrowerId: 'shared-read', at })),
        );
        await first;
        expect(later.every((signals) => signals.callInProgress === true)).toBe(true);
        expect(reads).toBe(2);
      } finally {
        await c.close();
      }
    });

    it('finds the ring another process linked when an application arrives here', async () => {
      const [a, b] = monitors as [TestMonitor, TestMonitor];
      // Five borrowers chained two by two through shared phones (no phone has more than two), told to process a.
      const chain = [1, 2, 3, 4].flatMap((i) => [
        ev('login', T0 + i * MIN, { userId: `ring-${i}`, deviceId: `ring-dev-${i}`, ip: `10.1.0.${i}` }),
        ev('login', T0 + i * MIN, { userId: `ring-${i + 1}`, deviceId: `ring-dev-${i}`, ip: `10.1.1.${i}` }),
      ]);
      a.clock.set(T0 + 10 * MIN);
      await a.monitor.ingest(chain);
      // A sixth applies from the fifth's phone at process b: the group is six borrowers.
      b.clock.set(T0 + 11 * MIN);
      const [outcome] = await b.monitor.ingest([
        ev('application', T0 + 11 * MIN, { userId: 'ring-6', deviceId: 'ring-dev-4', ip: '10.1.2.1' }),
      ]);
      const farm = outcome?.typologies.find((f) => f.id === 'DEVICE_FARM');
      expect(farm?.rules).toEqual(['farm.ring']);
    });

    it('learns an event whose unit committed after later ones were read, whatever its receipt time', async () => {
      const [a, b] = monitors as [TestMonitor, TestMonitor];
      const [store] = stores as [Store];
      // A unit of another writer stores an event stamped long before and stays open (a slow commit).
      const slow = await openFeedUnit(
        store,
        ev('login', T0 + 20 * MIN, { eventId: 'late-1', userId: 'late-1', deviceId: 'late-device' }),
      );
      // Meanwhile process a stores and commits an event, and b reads past it.
      a.clock.set(T0 + 21 * MIN);
      await a.monitor.ingest([ev('login', T0 + 21 * MIN, { userId: 'late-2', deviceId: 'late-device' })]);
      await b.monitor.follow();
      expect(b.monitor.graph.componentUsers('user:late-2')).toBe(1);
      await slow.commit();
      await b.monitor.follow();
      expect(b.monitor.graph.componentUsers('user:late-2')).toBe(2);
    });

    it('learns events another process stored with a receipt time in the past (the demo seed)', async () => {
      const [a, b] = monitors as [TestMonitor, TestMonitor];
      // b started (and rebuilt) before the seed ran at process a with its clock set weeks back, as the demo's is.
      a.clock.set(T0 - 30 * DAY);
      await a.monitor.ingest([
        ev('login', T0 - 30 * DAY, { eventId: 'seed-1', userId: 'seed-1', deviceId: 'seed-device' }),
        ev('login', T0 - 30 * DAY, { eventId: 'seed-2', userId: 'seed-2', deviceId: 'seed-device' }),
        ev('login', T0 - 30 * DAY, { eventId: 'seed-3', userId: 'seed-3', deviceId: 'seed-device' }),
      ]);
      a.clock.set(T0 + DAY);
      await b.monitor.follow();
      expect(b.monitor.graph.componentUsers('user:seed-1')).toBe(3);
      const logins = await b.monitor.features.aggregate(
        { entity: 'device', id: 'seed-device', types: ['login'], fromMs: T0 - 31 * DAY, toMs: T0 },
        { kind: 'distinct', of: 'userId' },
      );
      expect(logins).toBe(3);
    });
  },
);
