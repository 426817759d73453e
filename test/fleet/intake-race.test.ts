import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createIsolatedPostgresSchema, openStore, type Store } from '../../src/store/db.js';
import { RedisFeatureStore } from '../../src/monitor/features/redis-store.js';
import type { FeatureEntry } from '../../src/monitor/features/store.js';
import type { EventOutcome } from '../../src/monitor/service.js';
import type { MonitorEvent } from '../../src/monitor/events.js';
import type { TypologyPack } from '../../src/monitor/typologies/index.js';
import { TEST_DATABASE_URL } from '../helpers/stores.js';
import { ManualClock } from '../../src/domain/clock.js';
import { uuidv7Generator } from '../../src/domain/ids.js';
import { seededRandom } from '../../src/domain/random.js';
import { T0, openTestMonitor, type TestMonitor } from '../monitor/helpers.js';

const REDIS_URL = process.env.LINEGUARD_TEST_REDIS_URL;
const SERVICES = Boolean(TEST_DATABASE_URL && REDIS_URL);
if (!SERVICES)
  console.warn(
    'LINEGUARD_TEST_DATABASE_URL or LINEGUARD_TEST_REDIS_URL is not set: the cross-process intake suite is skipped (CI sets them).',
  );

/** Fires on every login, so each accepted event has its own alert (with an id only the winner knows). */
const EVERY_LOGIN: TypologyPack = {
  id: 'TEST_EVERY_LOGIN',
  version: 1,
  title: 'every login',
  description: 'test pack: an alert per login',
  triggers: ['login'],
  parameters: { alertDedupWindowMs: { default: 0, description: 'no dedup' } },
  rules: [{ id: 'login', description: 'any login' }],
  reasons: ['R_ACCOUNT_TAKEOVER'],
  severity: 'low',
  actions: [],
  evaluate: async (ctx) => ({ rules: ['login'], eventIds: [ctx.event.eventId], features: {} }),
};

const login = (id: string, i: number): MonitorEvent =>
  ({
    eventId: id,
    type: 'login',
    occurredAt: T0 + i * 1000,
    userId: `race-user-${i % 7}`,
    deviceId: 'd1',
  }) as MonitorEvent;

describe.skipIf(!SERVICES)('the same eventId at two processes at once (PostgreSQL + Redis)', () => {
  const prefix = `lgtest:race:${process.pid}:${Date.now()}`;
  let stores: Store[] = [];
  let monitors: TestMonitor[] = [];

  beforeAll(async () => {
    const url = await createIsolatedPostgresSchema(TEST_DATABASE_URL ?? '', 'intake_race');
    // Two pools and two monitors over one schema and one Redis prefix: two processes in all but the pid.
    stores = [await openStore({ postgresUrl: url }), await openStore({ postgresUrl: url, migrate: false })];
    monitors = await Promise.all(
      stores.map((store, i) =>
        openTestMonitor({
          store,
          features: new RedisFeatureStore({ url: REDIS_URL ?? '', prefix }),
          // Each process draws its own ids, as two real processes would.
          deps: {
            typologies: [EVERY_LOGIN],
            ids: uuidv7Generator(new ManualClock(T0), seededRandom(100 + i)),
          },
        }),
      ),
    );
  });
  afterAll(async () => {
    await (monitors[0]?.monitor.features as RedisFeatureStore | undefined)?.clear();
    for (const m of monitors) await m.close();
  });

  it('stores each event once, answers both sides with the winner’s result, and fails no unrelated event', async () => {
    const [a, b] = monitors as [TestMonitor, TestMonitor];
    for (let round = 0; round < 5; round++) {
      const shared = Array.from({ length: 40 }, (_, i) => login(`shared-${round}-${i}`, round * 100 + i));
      const own = (side: string) =>
        Array.from({ length: 10 }, (_, i) => login(`own-${side}-${round}-${i}`, round * 100 + 50 + i));
      // Both batches carry the shared events and unrelated ones of their own.
      const [fromA, fromB] = await Promise.all([
        a.monitor.ingest([...shared, ...own('a')]),
        b.monitor.ingest([...own('b'), ...shared]),
      ]);
      const byId = (outcomes: EventOutcome[]) => new Map(outcomes.map((o) => [o.eventId, o]));
      const mapA = byId(fromA);
      const mapB = byId(fromB);
      for (const e of shared) {
        const [oa, ob] = [mapA.get(e.eventId), mapB.get(e.eventId)];
        // Exactly one side stored it; the other answers with the same findings (the winner's alert id).
        expect(
          [oa?.status, ob?.status].filter((s) => s === 'accepted'),
          e.eventId,
        ).toHaveLength(1);
        expect(oa?.alerts, e.eventId).toEqual(ob?.alerts);
        expect(oa?.alerts).toHaveLength(1);
      }
      for (const o of [...fromA, ...fromB])
        if (o.eventId.startsWith('own-')) expect(o.status).toBe('accepted');
    }
    const db = (stores[0] as Store).db;
    const events = await db.selectFrom('monitor_events').select('event_id').execute();
    expect(events).toHaveLength(5 * (40 + 20));
    const alerts = await db.selectFrom('monitor_alerts').select(['event_id', 'alert_id']).execute();
    // One alert per stored event: the loser's alerts were never written.
    expect(alerts).toHaveLength(events.length);
    expect(new Set(alerts.map((r) => r.event_id)).size).toBe(events.length);
    // Every process reads each shared event exactly once from the shared windows.
    const window = {
      entity: 'user' as const,
      id: 'race-user-0',
      types: ['login' as const],
      fromMs: T0 - 1,
      toMs: T0 + 1e7,
    };
    const perUser = await db
      .selectFrom('monitor_events')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('user_id', '=', 'race-user-0')
      .executeTakeFirstOrThrow();
    expect(await a.monitor.features.aggregate(window, { kind: 'count' })).toBe(Number(perUser.n));
    expect(await b.monitor.features.aggregate(window, { kind: 'count' })).toBe(Number(perUser.n));
  });

  it('answers the loser of a race over one eventId with other content 409, and keeps only the stored content', async () => {
    const [a, b] = monitors as [TestMonitor, TestMonitor];
    const transfer = (id: string, i: number, amountMinor: number): MonitorEvent =>
      ({
        eventId: id,
        type: 'transfer_out',
        occurredAt: T0 + 20_000_000 + i * 1000,
        userId: `conflict-user-${i}`,
        amountMinor,
        currency: 'CNY',
        payeeId: `payee-${i}`,
      }) as MonitorEvent;
    const code = (r: PromiseSettledResult<unknown>) =>
      r.status === 'rejected' ? (r.reason as { code?: string }).code : 'fulfilled';
    for (let i = 0; i < 10; i++) {
      const [small, large] = [transfer(`conflict-${i}`, i, 100), transfer(`conflict-${i}`, i, 999_999)];
      const [fromA, fromB] = await Promise.allSettled([a.monitor.ingest([small]), b.monitor.ingest([large])]);
      // One content was stored and accepted; the other is a conflict whichever process took it and whenever.
      expect([code(fromA), code(fromB)].sort(), `round ${i}`).toEqual(['LG_EVENT_CONFLICT', 'fulfilled']);
      const row = await (stores[0] as Store).db
        .selectFrom('monitor_events')
        .select('amount_minor')
        .where('event_id', '=', `conflict-${i}`)
        .executeTakeFirstOrThrow();
      const storedAmount = Number(row.amount_minor);
      const [kept, other] = storedAmount === 100 ? [small, large] : [large, small];
      // Both processes now agree on which content the id holds.
      for (const m of [a, b]) {
        expect((await m.monitor.ingest([kept]))[0]?.status).toBe('duplicate');
        await expect(m.monitor.ingest([other])).rejects.toMatchObject({ code: 'LG_EVENT_CONFLICT' });
      }
      // The shared window holds the stored event once, never the content that lost.
      const window = {
        entity: 'user' as const,
        id: `conflict-user-${i}`,
        types: ['transfer_out' as const],
        fromMs: T0,
        toMs: T0 + 1e9,
      };
      for (const m of [a, b]) {
        expect(await m.monitor.features.aggregate(window, { kind: 'count' }), `round ${i}`).toBe(1);
        expect(await m.monitor.features.aggregate(window, { kind: 'sum' }), `round ${i}`).toBe(storedAmount);
      }
    }
  });

  it('reads the open-alert count a draw sees from the shared store, not from the process that raised it', async () => {
    const [a, b] = monitors as [TestMonitor, TestMonitor];
    const outcome = (await a.monitor.ingest([login(`alert-only-a`, 9_000)]))[0];
    expect(outcome?.alerts).toHaveLength(1);
    const user = 'race-user-' + String(9_000 % 7);
    const open = Number(
      (
        await (stores[0] as Store).db
          .selectFrom('monitor_alerts')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .where('user_id', '=', user)
          .where('status', '=', 'OPEN')
          .executeTakeFirstOrThrow()
      ).n,
    );
    expect(await b.monitor.openAlertCount(user)).toBe(open);
    const signals = await b.monitor.drawSignals({ borrowerId: user, at: T0 + 10_000_000 });
    expect(signals.alertsOpen).toBe(open);
    // Closing it on A is seen by B's next draw.
    await a.monitor.setAlertStatus(outcome?.alerts[0]?.alertId ?? '', 'CLOSED');
    expect(await b.monitor.openAlertCount(user)).toBe(open - 1);
  });
  it("sees another process's list entries after its periodic reload, and never an empty list during one", async () => {
    const [a, b] = monitors as [TestMonitor, TestMonitor];
    await a.lists.add({
      list: 'black',
      entityType: 'user',
      value: 'listed-user',
      reason: 'fraud confirmed',
      source: 'test',
      addedBy: 'analyst',
    });
    expect(b.lists.check('user', 'listed-user', T0).some((h) => h.list === 'black')).toBe(false);
    await b.lists.load();
    expect(b.lists.check('user', 'listed-user', T0).some((h) => h.list === 'black')).toBe(true);
    const reloading = b.lists.load();
    // While the reload reads the table, checks still answer from the previous index.
    expect(b.lists.check('user', 'listed-user', T0).some((h) => h.list === 'black')).toBe(true);
    await reloading;
  });
});

describe.skipIf(!REDIS_URL)('Redis feature writes are idempotent by event id across processes', () => {
  const prefix = `lgtest:idem:${process.pid}:${Date.now()}`;
  let winner: RedisFeatureStore;
  let loser: RedisFeatureStore;
  const entry = (eventId: string, r: number): FeatureEntry => ({
    eventId,
    type: 'screen_share_detected',
    t: T0,
    r,
    userId: 'call-user',
  });
  const window = {
    entity: 'user' as const,
    id: 'call-user',
    types: ['screen_share_detected' as const],
    fromMs: T0 - 1,
    toMs: T0 + 1,
  };

  beforeAll(() => {
    winner = new RedisFeatureStore({ url: REDIS_URL ?? '', prefix });
    loser = new RedisFeatureStore({ url: REDIS_URL ?? '', prefix });
  });
  afterAll(async () => {
    await winner.clear();
    await winner.close();
    await loser.close();
  });

  it("a loser's rollback after the winner's commit leaves the winner's entry", async () => {
    await loser.append([entry('call-1', T0 + 1)]);
    await winner.append([entry('call-1', T0 + 2)]);
    await winner.commit([entry('call-1', T0 + 2)]);
    await loser.remove([entry('call-1', T0 + 1)]);
    expect(await winner.aggregate(window, { kind: 'count' })).toBe(1);
  });

  it("a loser's rollback before the winner's commit is undone by the commit", async () => {
    await loser.append([entry('call-2', T0 + 1)]);
    await winner.append([entry('call-2', T0 + 2)]);
    await loser.remove([entry('call-2', T0 + 1)]);
    await winner.commit([entry('call-2', T0 + 2)]);
    expect(await loser.aggregate(window, { kind: 'count' })).toBe(2);
    // Committing again (a restart re-marking stored events) adds nothing.
    await loser.commit([entry('call-2', T0 + 3)]);
    expect(await loser.aggregate(window, { kind: 'count' })).toBe(2);
  });

  it("the winner's commit replaces a loser's entry with other content, and the loser's rollback takes its own out", async () => {
    // A user of its own, so the window the other tests count is left as they expect it.
    const amount = (id: string, r: number, amountMinor: number) => ({
      ...entry(id, r),
      userId: 'transfer-user',
      amountMinor,
    });
    const sum = () => winner.aggregate({ ...window, id: 'transfer-user' }, { kind: 'sum' });
    const before = (await sum()) ?? 0;
    // The loser appends first (its entry is the one Redis holds), the winner stores its content in the database.
    await loser.append([amount('call-4', T0 + 1, 7)]);
    await winner.append([amount('call-4', T0 + 2, 5)]);
    await winner.commit([amount('call-4', T0 + 2, 5)]);
    await loser.remove([amount('call-4', T0 + 1, 7)]);
    expect(await sum()).toBe(before + 5);
    // The other order: the loser takes its entry out before the winner's commit.
    await loser.append([amount('call-5', T0 + 1, 70)]);
    await winner.append([amount('call-5', T0 + 2, 50)]);
    await loser.remove([amount('call-5', T0 + 1, 70)]);
    await winner.commit([amount('call-5', T0 + 2, 50)]);
    expect(await sum()).toBe(before + 55);
  });

  it('an uncommitted entry is still rolled back', async () => {
    await loser.append([entry('call-3', T0 + 1)]);
    await loser.remove([entry('call-3', T0 + 1)]);
    expect(await loser.aggregate(window, { kind: 'count' })).toBe(2);
  });
});
