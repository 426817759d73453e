import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createIsolatedPostgresSchema, openStore, type Store } from '../../src/store/db.js';
import type { MonitorEvent } from '../../src/monitor/events.js';
import { TEST_DATABASE_URL } from '../helpers/stores.js';
import { ManualClock } from '../../src/domain/clock.js';
import { uuidv7Generator } from '../../src/domain/ids.js';
import { seededRandom } from '../../src/domain/random.js';
import { T0, openTestMonitor, type TestMonitor } from '../monitor/helpers.js';
import { LOGIN_ALERT } from './fixtures.js';

/**
 * Per-process memory read as shared truth (issue 13): what one process ingested must reach the memory of another
 * process on the same database — the link graph a draw's `componentUsers` reads, the borrower → line map, the alert
 * dedupe window — within one follow interval. The timer is off here (a very long interval); the test calls follow()
 * where the timer would have.
 */

const login = (eventId: string, userId: string, fields: Partial<MonitorEvent> = {}): MonitorEvent =>
  ({ eventId, type: 'login', occurredAt: T0 + 1_000, userId, ...fields }) as MonitorEvent;

const NEVER_MS = 3_600_000;

describe.skipIf(!TEST_DATABASE_URL)('a process follows what the others ingested (PostgreSQL)', () => {
  let stores: Store[] = [];
  let monitors: TestMonitor[] = [];

  beforeAll(async () => {
    const url = await createIsolatedPostgresSchema(TEST_DATABASE_URL ?? '', 'follow');
    stores = [await openStore({ postgresUrl: url }), await openStore({ postgresUrl: url, migrate: false })];
    monitors = await Promise.all(
      stores.map((store, i) =>
        openTestMonitor({
          store,
          deps: {
            typologies: [LOGIN_ALERT],
            ids: uuidv7Generator(new ManualClock(T0), seededRandom(300 + i)),
            followEveryMs: NEVER_MS,
          },
        }),
      ),
    );
  });
  afterAll(async () => {
    for (const m of monitors) await m.close();
  });

  it('joins borrowers another process linked through a shared device into one group, and learns their lines', async () => {
    const [a, b] = monitors as [TestMonitor, TestMonitor];
    await a.monitor.ingest([
      // The line comes from the core's own event (an app event's lineId is not the borrower's line).
      login('f-1', 'farm-1', { type: 'application', deviceId: 'farm-device', lineId: 'line-farm-1' }),
      login('f-2', 'farm-2', { deviceId: 'farm-device' }),
      login('f-3', 'farm-3', { deviceId: 'farm-device' }),
    ]);
    expect(a.monitor.graph.componentUsers('user:farm-1')).toBe(3);
    // Before following, the other process has never heard of them: this is the gap the follower closes.
    expect(b.monitor.graph.componentUsers('user:farm-1')).toBeLessThanOrEqual(1);
    expect(b.monitor.lineOf('farm-1')).toBeUndefined();
    await b.monitor.follow();
    expect(b.monitor.graph.componentUsers('user:farm-1')).toBe(3);
    expect(b.monitor.lineOf('farm-1')).toBe('line-farm-1');
    // Its own ingest after that links into the same group.
    await b.monitor.ingest([login('f-4', 'farm-4', { deviceId: 'farm-device' })]);
    await a.monitor.follow();
    expect(a.monitor.graph.componentUsers('user:farm-4')).toBe(4);
    expect(b.monitor.graph.componentUsers('user:farm-4')).toBe(4);
  });

  it('pages through more events than one read holds, several stamped with the same instant', async () => {
    const [a, b] = monitors as [TestMonitor, TestMonitor];
    // One group: every event of it carries the same received_at, so the follower must page within one instant.
    const many = Array.from({ length: 2_500 }, (_, i) =>
      login(`p-${String(i).padStart(5, '0')}`, `pager-${i}`, { deviceId: 'pager-device' }),
    );
    await a.monitor.ingest(many);
    await b.monitor.follow();
    expect(b.monitor.graph.componentUsers('user:pager-0')).toBe(2_500);
  });

  it('keeps the alert dedupe window across processes once it has followed', async () => {
    const [a, b] = monitors as [TestMonitor, TestMonitor];
    const first = await a.monitor.ingest([login('d-1', 'dedupe-user')]);
    expect(first[0]?.alerts).toHaveLength(1);
    await b.monitor.follow();
    const second = await b.monitor.ingest([login('d-2', 'dedupe-user')]);
    // Joined the alert the other process raised, rather than raising a second one within the hour.
    expect(second[0]?.alerts.map((x) => [x.alertId, x.new])).toEqual([[first[0]?.alerts[0]?.alertId, false]]);
    const rows = await (stores[0] as Store).db
      .selectFrom('monitor_alerts')
      .select('alert_id')
      .where('user_id', '=', 'dedupe-user')
      .execute();
    expect(rows).toHaveLength(1);
  });

  it('learns an alert another process closed: the next firing is a new alert there too', async () => {
    const [a, b] = monitors as [TestMonitor, TestMonitor];
    const first = await a.monitor.ingest([login('c-1', 'closed-user')]);
    const alertId = first[0]?.alerts[0]?.alertId ?? '';
    await b.monitor.follow();
    await b.monitor.setAlertStatus(alertId, 'CLOSED');
    // Process a learns the closure from the table within one follow interval.
    await a.monitor.follow();
    const second = await a.monitor.ingest([login('c-2', 'closed-user')]);
    expect(second[0]?.alerts).toHaveLength(1);
    expect(second[0]?.alerts[0]?.new).toBe(true);
    expect(second[0]?.alerts[0]?.alertId).not.toBe(alertId);
  });
});
