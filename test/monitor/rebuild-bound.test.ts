import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MonitorEvent } from '../../src/monitor/events.js';
import type { EventOutcome } from '../../src/monitor/service.js';
import { RETENTION_MS } from '../../src/monitor/intake.js';
import type { LineMention, MonitorIntakeStore, StoredEvent } from '../../src/monitor/ports.js';
import { lineMentionPages, monitorIntakeStore, storedEventPages } from '../../src/store/monitor.js';
import type { Store } from '../../src/store/db.js';
import { STORE_FACTORIES } from '../helpers/stores.js';
import { DAY, HOUR, T0, ev, money, openTestMonitor, receiveLive, type TestMonitor } from './helpers.js';

/**
 * The start-up rebuild reads only what retention keeps (EventIntake.rebuild): the events from the first day the id
 * index keeps, and, of the older ones, each borrower's lines as the core last named them (the line map is never
 * pruned). A restarted monitor must then decide exactly as one that never stopped.
 */

/** The book's newest instant is T0 (the test clock's start): the horizon prune() draws from it. */
const HORIZON = T0 - RETENTION_MS;
/** The id index forgets whole days before the horizon's day (EventIds.forgetBefore): its first kept instant. */
const ID_DAY_START = Math.floor(HORIZON / DAY) * DAY;

/** A book with a long past far behind the horizon, events at the edges of what retention keeps, and recent days. */
function book(): MonitorEvent[] {
  const own = (userId: string) => ({ userId, deviceId: `dev-${userId}` });
  const old: MonitorEvent[] = [
    // A ring of eight borrowers on one phone, a year ago: its links and windows are long gone.
    ...Array.from({ length: 40 }, (_, i) =>
      ev('login', T0 - 400 * DAY + i * DAY, { userId: `old-${i % 8}`, deviceId: 'dev-old-ring' }),
    ),
    ev('application', T0 - 365 * DAY, { ...own('stale'), lineId: 'line-stale' }),
    ev('disbursement', T0 - 300 * DAY, { ...own('mover'), lineId: 'line-m1', ...money(1_000) }),
    ev('disbursement', T0 - 250 * DAY, { ...own('mover'), lineId: 'line-m2', ...money(1_000) }),
    ev('repayment', T0 - 200 * DAY, { ...own('mover'), lineId: 'line-m1', ...money(1_000) }),
    // The app's word names a line, not the core's: it is no line of the borrower's.
    ev('transfer_out', T0 - 190 * DAY, {
      ...own('mover'),
      lineId: 'line-app',
      payeeId: 'p-mover',
      ...money(10),
    }),
    // Two lines named in one millisecond: the order is the events' (occurredAt, eventId), not the lines' names.
    ev('disbursement', T0 - 220 * DAY, { ...own('tie'), eventId: 'tie-a', lineId: 'line-t2', ...money(5) }),
    ev('disbursement', T0 - 220 * DAY, { ...own('tie'), eventId: 'tie-b', lineId: 'line-t1', ...money(5) }),
    ev('disbursement', T0 - 300 * DAY, { ...own('returner'), lineId: 'line-r1', ...money(1_000) }),
    ev('login', T0 - 300 * DAY, { ...own('dupper'), eventId: 'old-dup' }),
  ];
  const edges = [
    ev('login', ID_DAY_START - 1, { userId: 'edge-before-day', deviceId: 'dev-edge' }),
    // The last event the rebuild leaves unread names the only line of its borrower.
    ev('disbursement', ID_DAY_START - 1, { ...own('liner'), lineId: 'line-edge', ...money(100) }),
    ev('login', ID_DAY_START, { eventId: 'at-id-day', userId: 'edge-day', deviceId: 'dev-edge' }),
    ev('login', HORIZON, { userId: 'edge-h', deviceId: 'dev-edge' }),
    ev('login', HORIZON + 1, { userId: 'edge-h1', deviceId: 'dev-edge' }),
  ];
  const recent = [
    ...Array.from({ length: 8 }, (_, i) => ev('login', T0 - (80 - 10 * i) * DAY, own('regular'))),
    ...['stale', 'mover', 'tie', 'returner', 'dupper'].map((u) => ev('login', T0 - 10 * DAY, own(u))),
    ev('disbursement', T0 - 10 * DAY + HOUR, { ...own('returner'), lineId: 'line-r2', ...money(1_000) }),
    // More than a day before the last event, which then prunes at T0 (as a restart does).
    ev('login', T0 - DAY - HOUR, own('regular')),
    ev('login', T0, own('regular')),
  ];
  return [...old, ...edges, ...recent].sort((a, b) => a.occurredAt - b.occurredAt);
}

/** An account takeover of the borrower: a reset and a new payee from a phone never seen, the payee naming `lineId`. */
function takeover(userId: string, lineId?: string): MonitorEvent[] {
  const thief = { userId, deviceId: `dev-thief-${userId}` };
  return [
    ev('password_reset', T0 + HOUR, thief),
    ev('payee_added', T0 + 2 * HOUR, { ...thief, payeeId: `mule-${userId}`, ...(lineId ? { lineId } : {}) }),
  ];
}

/** What an outcome decided, without the ids each process draws for its alerts and actions. */
function decided(outcomes: readonly EventOutcome[]) {
  return outcomes.map((o) => ({
    eventId: o.eventId,
    status: o.status,
    typologies: o.typologies.map((f) => ({ id: f.id, rules: f.rules })),
    actions: o.actions.map((a) => ({ type: a.type, status: a.status, lineId: a.lineId })),
  }));
}

async function outcomeOrCode(t: TestMonitor, events: readonly MonitorEvent[]) {
  return receiveLive(t, events).then(decided, (e: { code?: string }) => e.code);
}

/** The intake port, counting what the rebuild's reads return. */
function counted(port: MonitorIntakeStore) {
  const read = { events: 0, lineMentions: 0 };
  async function* counting<T>(pages: AsyncIterable<readonly T[]>, add: (n: number) => void) {
    for await (const page of pages) {
      add(page.length);
      yield page;
    }
  }
  const wrapped: MonitorIntakeStore = {
    ...port,
    storedEvents: (fromMs) =>
      counting(port.storedEvents(fromMs), (n) => {
        read.events += n;
      }),
    lineMentions: (query) =>
      counting(port.lineMentions(query), (n) => {
        read.lineMentions += n;
      }),
  };
  return { read, port: wrapped };
}

for (const factory of STORE_FACTORIES) {
  describe.skipIf(!factory.enabled)(
    `the start-up rebuild reads what retention keeps, on ${factory.name}`,
    () => {
      /** A monitor that never stops, and the store of one that restarts (two stores: each is sent the same book). */
      let never: TestMonitor;
      let storeR: Store;
      beforeAll(async () => {
        never = await openTestMonitor({ store: await factory.open('rebuild_never') });
        storeR = await factory.open('rebuild_restart');
      });
      afterAll(async () => {
        await never?.close();
        await storeR?.close();
      });

      it('decides after a restart exactly as a monitor that never stopped, reading only the retained events', async () => {
        const events = book();
        const before = await openTestMonitor({ store: storeR });
        await receiveLive(never, events);
        await receiveLive(before, events);
        await before.monitor.close();
        // The book's year went by in a second: on PostgreSQL its feed rows are still there, and a transaction open
        // anywhere on the server (another suite's) holds the new follower's cursor (the snapshot's xmin) before them, so
        // its first follow() would be handed the whole book again and put the events before the horizon back into its
        // windows and links (until the next prune), which the monitor that never stopped does not do: the follower's
        // overlap, not the rebuild. In a real book those rows went long ago (`jobs daily`, pruneFeed).
        if (storeR.kind === 'postgres') await sql`delete from monitor_event_feed`.execute(storeR.db);
        const { read, port } = counted(monitorIntakeStore(storeR));
        const restarted = await openTestMonitor({ store: storeR, deps: { intakeStore: port } });
        try {
          // The same known ids (the event at the id index's first instant is one of them: a repeat of it is answered
          // from memory, as by the monitor that never stopped, not from the store)…
          expect(restarted.monitor.eventCount).toBe(never.monitor.eventCount);
          // …the same line map…
          for (const userId of ['stale', 'mover', 'tie', 'returner', 'dupper', 'regular', 'liner'])
            expect(restarted.monitor.lineOf(userId), userId).toBe(never.monitor.lineOf(userId));
          expect(restarted.monitor.lineOf('stale')).toBe('line-stale');
          expect(restarted.monitor.lineOf('tie')).toBe('line-t1');
          expect(restarted.monitor.lineOf('mover')).toBe('line-m1');
          expect(restarted.monitor.lineOf('liner')).toBe('line-edge');
          // …the same links…
          for (const node of [
            'device:dev-edge',
            'device:dev-old-ring',
            'user:edge-h',
            'user:edge-h1',
            'user:edge-day',
            'user:old-1',
            'user:regular',
            'payee:p-mover',
          ])
            expect(restarted.monitor.graph.componentUsers(node), node).toBe(
              never.monitor.graph.componentUsers(node),
            );
          expect(restarted.monitor.graph.componentUsers('device:dev-edge')).toBe(1);
          // …and the same windows: the event just after the horizon counts, the one at it does not.
          const draws = [
            { borrowerId: 'edge-h1', deviceId: 'dev-edge', at: HORIZON + HOUR },
            { borrowerId: 'edge-day', deviceId: 'dev-edge', at: HORIZON },
            { borrowerId: 'regular', deviceId: 'dev-regular', at: T0 },
            { borrowerId: 'returner', deviceId: 'dev-returner', at: T0 },
            { borrowerId: 'mover', deviceId: 'dev-mover', at: T0 - 5 * DAY },
          ];
          for (const draw of draws)
            expect(await restarted.monitor.drawSignals(draw), draw.borrowerId).toEqual(
              await never.monitor.drawSignals(draw),
            );
          expect(
            (await restarted.monitor.drawSignals(draws[0] as (typeof draws)[number])).deviceDistinctUsers24h,
          ).toBe(1);

          // The same answers to what comes next: repeats of old ids, a conflict, takeovers acted on the map's lines.
          const oldDup = events.find((e) => e.eventId === 'old-dup') as MonitorEvent;
          const atIdDay = events.find((e) => e.eventId === 'at-id-day') as MonitorEvent;
          const probes: MonitorEvent[][] = [
            [oldDup],
            [atIdDay],
            [{ ...oldDup, deviceId: 'dev-other' }],
            takeover('stale'),
            takeover('tie'),
            takeover('mover', 'line-m2'),
            takeover('returner', 'line-r1'),
            [ev('login', T0 + 3 * HOUR, { userId: 'edge-h1', deviceId: 'dev-edge' })],
          ];
          const answers: unknown[] = [];
          for (const probe of probes) {
            const mine = await outcomeOrCode(restarted, probe);
            expect(mine, probe[0]?.eventId).toEqual(await outcomeOrCode(never, probe));
            answers.push(mine);
          }
          const lineOfFreeze = (answer: unknown) =>
            (answer as ReturnType<typeof decided>)[1]?.actions.find((a) => a.type === 'FREEZE_DRAW')?.lineId;
          expect(answers.slice(0, 3)).toEqual([
            [expect.objectContaining({ status: 'duplicate' })],
            [expect.objectContaining({ status: 'duplicate' })],
            'LG_EVENT_CONFLICT',
          ]);
          expect(answers.slice(3, 7).map(lineOfFreeze)).toEqual([
            'line-stale',
            'line-t1',
            'line-m2',
            'line-r1',
          ]);

          // And only the bounded set was read: the events from the id index's first day, and one line mention per
          // borrower and line of the older core events.
          const retained = events.filter((e) => e.occurredAt >= ID_DAY_START);
          expect(read.events).toBe(retained.length);
          expect(read.events).toBeLessThan(events.length / 2);
          expect(read.lineMentions).toBe(7);
          expect(restarted.monitor.eventCount).toBe(never.monitor.eventCount);
        } finally {
          await restarted.monitor.close();
        }
      });

      it('pages the rebuild reads without losing or repeating a row at a page boundary', async () => {
        const { store } = never;
        const base = T0 - 200 * DAY;
        const later = T0 + 30 * DAY;
        const events = [
          // Three events in each millisecond: a page may end inside one.
          ...Array.from({ length: 9 }, (_, i) =>
            ev('login', later + Math.floor(i / 3), { userId: `pg-${i % 4}`, eventId: `page-${i}` }),
          ),
          // Borrowers and lines named again and again, several in one millisecond (and twice in one for one pair).
          ...Array.from({ length: 9 }, (_, i) =>
            ev('disbursement', base + Math.floor(i / 2), {
              userId: `pl-${i % 3}`,
              lineId: `line-${i % 2}`,
              eventId: `d-${i}`,
              ...money(1),
            }),
          ),
          ev('repayment', base + 3, { userId: 'pl-0', lineId: 'line-0', eventId: 'd-x', ...money(1) }),
          ev('login', base, { userId: 'pl-0', lineId: 'line-9', eventId: 'app-line' }),
        ];
        await never.monitor.ingest(events);
        const inOrder = [...events].sort(
          (a, b) => a.occurredAt - b.occurredAt || (a.eventId < b.eventId ? -1 : 1),
        );

        const from = later + 1;
        const read: StoredEvent[] = [];
        for await (const page of storedEventPages(store.db, { fromMs: from, pageRows: 2 }))
          read.push(...page);
        expect(read.map((p) => p.event.eventId)).toEqual(
          inOrder.filter((e) => e.occurredAt >= from).map((e) => e.eventId),
        );

        const query = { beforeMs: base + 4, types: ['disbursement', 'repayment'] as const };
        const mentions: LineMention[] = [];
        for await (const page of lineMentionPages(store.db, { ...query, pageRows: 2 }))
          mentions.push(...page);
        const key = (m: LineMention) => `${m.userId}/${m.lineId}`;
        expect(new Set(mentions.map(key)).size).toBe(mentions.length);
        const last = new Map<string, LineMention>();
        for (const e of inOrder)
          if (
            (query.types as readonly string[]).includes(e.type) &&
            e.occurredAt < query.beforeMs &&
            e.lineId
          )
            last.set(`${e.userId}/${e.lineId}`, {
              userId: e.userId,
              lineId: e.lineId,
              occurredAt: e.occurredAt,
              eventId: e.eventId,
            });
        const byKey = (a: LineMention, b: LineMention) => (key(a) < key(b) ? -1 : 1);
        // The book's own lines are there too; every pair of it and of these is there once, with its last mention.
        expect(mentions.filter((m) => m.userId.startsWith('pl-')).sort(byKey)).toEqual(
          [...last.values()].filter((m) => m.userId.startsWith('pl-')).sort(byKey),
        );
        expect(mentions.find((m) => m.userId === 'pl-0' && m.lineId === 'line-0')?.eventId).toBe('d-x');
      });
    },
  );
}
