import { ManualClock } from '../../src/domain/clock.js';
import { uuidv7Generator } from '../../src/domain/ids.js';
import { seededRandom } from '../../src/domain/random.js';
import { openStore, type Store } from '../../src/store/db.js';
import type { MonitorEvent } from '../../src/monitor/events.js';
import type { FeatureStore } from '../../src/monitor/features/store.js';
import { MemoryFeatureStore } from '../../src/monitor/features/memory-store.js';
import { RedisFeatureStore } from '../../src/monitor/features/redis-store.js';
import { ListService } from '../../src/monitor/lists.js';
import { monitorListStore } from '../../src/store/monitor-lists.js';
import type { AlertFollowUp } from '../../src/store/monitor.js';
import { monitorPorts } from '../../src/app/monitor.js';
import { MonitorService, type EventOutcome, type MonitorServiceDeps } from '../../src/monitor/service.js';

export const T0 = Date.parse('2025-03-03T02:00:00Z');
export const MIN = 60_000;
export const HOUR = 60 * MIN;
export const DAY = 24 * HOUR;
export const MASTER_KEY = Buffer.alloc(32, 9);

export interface TestMonitor {
  readonly store: Store;
  readonly clock: ManualClock;
  readonly monitor: MonitorService;
  readonly lists: ListService;
  close(): Promise<void>;
}

export async function openTestMonitor(
  options: {
    store?: Store;
    features?: FeatureStore;
    deps?: Partial<MonitorServiceDeps>;
    /** Commits with every group's new alerts (as the cases hook does). */
    alertFollowUp?: AlertFollowUp;
  } = {},
): Promise<TestMonitor> {
  const store = options.store ?? (await openStore({ sqlitePath: ':memory:' }));
  const clock = new ManualClock(T0);
  const ids = uuidv7Generator(clock, seededRandom(42));
  const lists = new ListService(monitorListStore(store), { clock, ids, masterKey: MASTER_KEY });
  const monitor = new MonitorService({
    // The alert book draws ids from the same generator as the monitor (a test may give each process its own).
    ...monitorPorts(store, { clock, ids: options.deps?.ids ?? ids, alertFollowUp: options.alertFollowUp }),
    clock,
    ids,
    lists,
    features: options.features,
    groupCommit: { delayMs: 0 },
    ...options.deps,
  });
  await monitor.start();
  return {
    store,
    clock,
    monitor,
    lists,
    async close() {
      await monitor.close();
      await store.close();
    },
  };
}

let counter = 0;
/** An event with defaults: a borrower on their usual device. */
export function ev(type: MonitorEvent['type'], at: number, fields: Partial<MonitorEvent> = {}): MonitorEvent {
  counter += 1;
  return {
    eventId: `e${counter}`,
    type,
    occurredAt: at,
    userId: 'alice',
    deviceId: 'dev-alice',
    ip: '10.0.0.1',
    ...fields,
  } as MonitorEvent;
}

/** Thirty days of ordinary history for a borrower (logins on their device, a draw paid to a long-standing payee). */
export function history(userId: string, device = `dev-${userId}`, until = T0): MonitorEvent[] {
  const out: MonitorEvent[] = [];
  for (let d = 30; d >= 2; d -= 2) out.push(ev('login', until - d * DAY, { userId, deviceId: device }));
  out.push(
    ev('disbursement', until - 20 * DAY, {
      userId,
      deviceId: device,
      lineId: `line-${userId}`,
      amountMinor: 300_000,
      currency: 'CNY',
    }),
  );
  out.push(
    ev('transfer_out', until - 20 * DAY + HOUR, {
      userId,
      deviceId: device,
      payeeId: `landlord-${userId}`,
      payeeCreatedAt: until - 400 * DAY,
      amountMinor: 250_000,
      currency: 'CNY',
    }),
  );
  return out;
}

/**
 * Ingests events as a live monitor receives them: each when it happens (the clock set to its occurredAt), one after
 * another in the order given; the clock is left at the later of where it was and the last event. What the monitor knew
 * of a borrower before (a device "seen in the last 30 days") counts what it had received by then, so history meant to
 * be known must be received in its own time, not all at once at the test's "now".
 */
export async function receiveLive(t: TestMonitor, events: readonly MonitorEvent[]): Promise<EventOutcome[]> {
  const before = t.clock.now();
  const outcomes: EventOutcome[] = [];
  for (const event of events) {
    t.clock.set(event.occurredAt);
    outcomes.push(...(await t.monitor.ingest([event])));
  }
  t.clock.set(Math.max(before, t.clock.now()));
  return outcomes;
}

export const money = (yuan: number) => ({ amountMinor: yuan * 100, currency: 'CNY' });

export const REDIS_URL = process.env.LINEGUARD_TEST_REDIS_URL;
export const NATS_URL = process.env.LINEGUARD_TEST_NATS_URL;

/** The feature stores the monitor suites run over (Redis when LINEGUARD_TEST_REDIS_URL is set). */
export const FEATURE_STORES: readonly { name: string; enabled: boolean; open(): FeatureStore }[] = [
  { name: 'memory', enabled: true, open: () => new MemoryFeatureStore() },
  {
    name: 'redis',
    enabled: Boolean(REDIS_URL),
    open: () =>
      new RedisFeatureStore({
        url: REDIS_URL ?? '',
        prefix: `lgtest:${process.pid}:${Math.random().toString(36).slice(2)}`,
      }),
  },
];
