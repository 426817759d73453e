import { afterAll, describe, expect, it } from 'vitest';
import type { Bus, BusMessage } from '../../src/bus/bus.js';
import { InProcessBus } from '../../src/bus/in-process.js';
import { NatsBus } from '../../src/bus/nats.js';
import { OutboxRelay } from '../../src/bus/outbox-relay.js';
import { createOutboxSource } from '../../src/store/index.js';
import { subscribeCoreEvents } from '../../src/app/monitor.js';
import { NATS_URL, T0, openTestMonitor } from './helpers.js';

if (!NATS_URL)
  console.warn('LINEGUARD_TEST_NATS_URL is not set: the NATS JetStream bus suite is skipped (CI sets it).');

const FACTORIES: { name: string; enabled: boolean; open(): Promise<Bus> }[] = [
  { name: 'in-process', enabled: true, open: async () => new InProcessBus() },
  {
    name: 'nats',
    enabled: Boolean(NATS_URL),
    open: () => {
      const tag = `${process.pid}_${Date.now() % 1e6}_${Math.floor(Math.random() * 1e6)}`;
      return NatsBus.connect({
        url: NATS_URL ?? '',
        stream: `LGTEST_${tag}`,
        subjectPrefix: `lgtest${tag}`,
        ackWaitMs: 2_000,
      });
    },
  },
];

async function until(check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const start = Date.now();
  while (!(await check())) {
    if (Date.now() - start > timeoutMs) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
}

for (const factory of FACTORIES) {
  describe.skipIf(!factory.enabled)(`Bus conformance: ${factory.name}`, () => {
    const buses: Bus[] = [];
    const open = async () => {
      const bus = await factory.open();
      buses.push(bus);
      return bus;
    };
    afterAll(async () => {
      for (const bus of buses) {
        if (bus instanceof NatsBus) await bus.destroy();
        await bus.close();
      }
    });

    it('delivers each message once per group, shares work across workers, drops a re-published id', async () => {
      const bus = await open();
      const a: string[] = [];
      const b: string[] = [];
      const audit: string[] = [];
      await bus.subscribe('t.one', 'workers', async (m) => void a.push(m.id));
      await bus.subscribe('t.one', 'workers', async (m) => void b.push(m.id));
      await bus.subscribe('t.one', 'audit', async (m) => void audit.push(m.id));
      for (let i = 0; i < 40; i++) await bus.publish({ id: `m${i}`, topic: 't.one', payload: { i } });
      await bus.publish({ id: 'm3', topic: 't.one', payload: { i: 3 } });
      await until(() => a.length + b.length === 40 && audit.length === 40);
      await new Promise((r) => setTimeout(r, 200));
      expect(new Set([...a, ...b]).size).toBe(40);
      expect(a.length + b.length).toBe(40);
      expect(audit.length).toBe(40);
      if (bus.kind === 'in-process') expect(a.length).toBe(20);
      else expect(a.length + b.length).toBe(40);
    });

    it('redelivers when a handler fails (at least once)', async () => {
      const bus = await open();
      let attempts = 0;
      const done: BusMessage[] = [];
      await bus.subscribe('t.retry', 'g', async (m) => {
        attempts += 1;
        if (attempts === 1) throw new Error('transient');
        done.push(m);
      });
      const published = bus.publish({ id: 'r1', topic: 't.retry', payload: { x: 1 } });
      if (bus.kind === 'in-process') {
        await expect(published).rejects.toThrow('transient'); // the relay sees the failure and retries
        await bus.publish({ id: 'r1', topic: 't.retry', payload: { x: 1 } });
      } else await published;
      await until(() => done.length === 1);
      expect(done[0]?.payload).toEqual({ x: 1 });
    });

    it('outbox relay → bus → monitor: every core event ingested once, rows marked published', async () => {
      const bus = await open();
      const t = await openTestMonitor();
      await subscribeCoreEvents(bus, t.monitor);
      const rows = Array.from({ length: 30 }, (_, i) => ({
        id: `ob${i}`,
        topic: 'core.events',
        payload: JSON.stringify({
          eventId: `core-${i}`,
          type: i % 3 === 0 ? 'application' : 'disbursement',
          occurredAt: new Date(T0 + i).toISOString(),
          userId: `cu${i % 4}`,
          lineId: `l${i % 4}`,
          amount: 100_000,
          currency: 'CNY',
        }),
        created_at: T0 + i,
        published_at: null,
      }));
      await t.store.db.insertInto('outbox').values(rows).execute();
      const relay = new OutboxRelay(createOutboxSource(t.store), bus, t.clock, { batchSize: 7, pollMs: 10 });
      relay.start();
      await until(async () => {
        const n = await t.store.db
          .selectFrom('monitor_events')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .executeTakeFirstOrThrow();
        return Number(n.n) === 30;
      });
      await until(
        async () =>
          (await t.store.db.selectFrom('outbox').select('id').where('published_at', 'is', null).execute())
            .length === 0,
      );
      await relay.stop();
      // A crash between publish and mark re-publishes: de-duplicated by eventId, nothing ingested twice.
      await t.store.db.updateTable('outbox').set({ published_at: null }).execute();
      expect(await relay.runOnce()).toBe(7);
      await new Promise((r) => setTimeout(r, 300));
      const n = await t.store.db
        .selectFrom('monitor_events')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow();
      expect(Number(n.n)).toBe(30);
      expect(await t.monitor.reader.value('userDisbursedSum24h', 'cu1', T0 + 1000)).toBeGreaterThan(0);
      await t.close();
    });
  });
}
