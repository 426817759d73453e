import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createIsolatedPostgresSchema, openStore, type Store } from '../../src/store/db.js';
import type { AlertFollowUp } from '../../src/store/monitor.js';
import type { MonitorEvent } from '../../src/monitor/events.js';
import { ManualClock } from '../../src/domain/clock.js';
import { uuidv7Generator } from '../../src/domain/ids.js';
import { seededRandom } from '../../src/domain/random.js';
import { TEST_DATABASE_URL } from '../helpers/stores.js';
import { HOUR, MIN, T0, openTestMonitor, type TestMonitor } from '../monitor/helpers.js';
import { LOGIN_ALERT } from './fixtures.js';

/**
 * The alert dedupe window across processes whose clocks disagree, or whose units commit late: a process learns the
 * alerts the others raised or closed in the order their units committed, not by the instant the writer stamped on
 * them. Process b's clock runs an hour behind a's (far beyond any re-read overlap by time). The timer is off (a very
 * long interval); the test calls follow() where the timer would have.
 */

const login = (eventId: string, userId: string): MonitorEvent =>
  ({ eventId, type: 'login', occurredAt: T0 + 1_000, userId }) as MonitorEvent;

const NEVER_MS = 3_600_000;
/** Where each process's clock reads: b's lags a's by an hour. */
const A_NOW = T0 + HOUR;
const B_NOW = T0 + 2_000;

/** A unit of work held open after its alerts are written, until the test lets it commit (a slow or stalled writer). */
class HeldUnits implements AlertFollowUp {
  private gate: Promise<void> | undefined;
  private release: () => void = () => undefined;
  private reached: () => void = () => undefined;
  /** Settles once the next unit with alerts has written them and is waiting to commit. */
  reachedHold: Promise<void> = Promise.resolve();

  holdNext(): void {
    this.gate = new Promise((resolve) => {
      this.release = resolve;
    });
    this.reachedHold = new Promise((resolve) => {
      this.reached = resolve;
    });
  }

  letCommit(): void {
    this.gate = undefined;
    this.release();
  }

  async inTx(): Promise<void> {
    if (!this.gate) return;
    this.reached();
    await this.gate;
  }

  inSync(): void {}
}

describe.skipIf(!TEST_DATABASE_URL)('the alert dedupe window across processes (PostgreSQL)', () => {
  let stores: Store[] = [];
  let a: TestMonitor;
  let b: TestMonitor;
  const heldAtB = new HeldUnits();

  beforeAll(async () => {
    const url = await createIsolatedPostgresSchema(TEST_DATABASE_URL ?? '', 'alert_follow');
    stores = [await openStore({ postgresUrl: url }), await openStore({ postgresUrl: url, migrate: false })];
    [a, b] = (await Promise.all(
      stores.map((store, i) =>
        openTestMonitor({
          store,
          deps: {
            typologies: [LOGIN_ALERT],
            ids: uuidv7Generator(new ManualClock(T0), seededRandom(500 + i)),
            followEveryMs: NEVER_MS,
          },
          alertFollowUp: i === 1 ? heldAtB : undefined,
        }),
      ),
    )) as [TestMonitor, TestMonitor];
    a.clock.set(A_NOW);
    b.clock.set(B_NOW);
    // Process a has read an alert of its own (stamped by its clock), so its view of the others is past b's clock.
    const own = await a.monitor.ingest([login('a-own-1', 'a-own')]);
    expect(own[0]?.alerts[0]?.new).toBe(true);
    await a.monitor.follow();
  });
  afterAll(async () => {
    for (const m of [a, b]) await m?.close();
  });

  async function alertsOf(userId: string): Promise<{ alert_id: string; status: string }[]> {
    return (stores[0] as Store).db
      .selectFrom('monitor_alerts')
      .select(['alert_id', 'status'])
      .where('user_id', '=', userId)
      .execute();
  }

  it('joins the alert a process whose clock lags raised, rather than raising a second one', async () => {
    const raised = await b.monitor.ingest([login('lag-1', 'lag-user')]);
    const alertId = raised[0]?.alerts[0]?.alertId;
    expect(raised[0]?.alerts[0]?.new).toBe(true);
    await a.monitor.follow();
    const joined = await a.monitor.ingest([login('lag-2', 'lag-user')]);
    expect(joined[0]?.alerts.map((x) => [x.alertId, x.new])).toEqual([[alertId, false]]);
    expect(await alertsOf('lag-user')).toHaveLength(1);
  });

  it('learns an alert the lagging process closed: the next firing is a new alert', async () => {
    a.clock.set(A_NOW + 5 * MIN);
    const first = await a.monitor.ingest([login('close-1', 'close-user')]);
    const alertId = first[0]?.alerts[0]?.alertId ?? '';
    // Minutes later process a has read a later alert: the first one's creation is well behind where it reads from.
    a.clock.set(A_NOW + 10 * MIN);
    await a.monitor.ingest([login('close-other-1', 'close-other')]);
    await a.monitor.follow();
    await b.monitor.setAlertStatus(alertId, 'CLOSED');
    await a.monitor.follow();
    const second = await a.monitor.ingest([login('close-2', 'close-user')]);
    expect(second[0]?.alerts).toHaveLength(1);
    expect(second[0]?.alerts[0]?.new).toBe(true);
    expect(second[0]?.alerts[0]?.alertId).not.toBe(alertId);
  });

  it('pages through more alerts than one read holds, all of one unit', async () => {
    // One group at b: one unit, one transaction id, more alerts than a follow page (FOLLOW_PAGE_ALERTS, 1,000).
    const users = Array.from({ length: 1_050 }, (_, i) => `many-${String(i).padStart(4, '0')}`);
    const raised = await b.monitor.ingest(users.map((u) => login(`${u}-1`, u)));
    expect(raised.every((o) => o.alerts[0]?.new === true)).toBe(true);
    await a.monitor.follow();
    const joined = await a.monitor.ingest(users.map((u) => login(`${u}-2`, u)));
    expect(joined.filter((o) => o.alerts[0]?.new !== false).map((o) => o.eventId)).toEqual([]);
  });

  it('joins an alert whose unit committed after a later-stamped one was read', async () => {
    // The clocks agree here. Process b's unit writes its alert and stays open (the cases hook of a slow commit, a
    // stalled process)…
    a.clock.set(A_NOW + 20 * MIN);
    b.clock.set(A_NOW + 20 * MIN);
    heldAtB.holdNext();
    const slow = b.monitor.ingest([login('slow-1', 'slow-user')]);
    await heldAtB.reachedHold;
    // …while a minute later a raises and commits one of its own, and reads past it.
    a.clock.set(A_NOW + 21 * MIN);
    await a.monitor.ingest([login('fast-1', 'fast-user')]);
    await a.monitor.follow();
    heldAtB.letCommit();
    const raised = await slow;
    const alertId = raised[0]?.alerts[0]?.alertId;
    expect(raised[0]?.alerts[0]?.new).toBe(true);
    await a.monitor.follow();
    const joined = await a.monitor.ingest([login('slow-2', 'slow-user')]);
    expect(joined[0]?.alerts.map((x) => [x.alertId, x.new])).toEqual([[alertId, false]]);
    expect(await alertsOf('slow-user')).toHaveLength(1);
  });
});
