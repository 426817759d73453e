import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { firstCommitPage, nextCommitPage } from '../../src/domain/commit-order.js';
import { seededRandom } from '../../src/domain/random.js';
import { createIsolatedPostgresSchema, openStore, type Store } from '../../src/store/db.js';
import { eventToRow, monitorIntakeStore } from '../../src/store/monitor.js';
import { TEST_DATABASE_URL } from '../helpers/stores.js';
import { T0, ev } from '../monitor/helpers.js';

/**
 * The commit-order read (src/store/commit-order.ts) against writers that commit in any order: three writers, each
 * storing events in transactions held open for a random while (some rolled back), and a follower reading pages of two
 * rows as fast as it can meanwhile, so that its reads span snapshots that change between its pages. Afterwards it must
 * have read every committed event exactly once, and no rolled-back one. Whatever the interleaving, that must hold.
 */
const WRITERS = 3;
const UNITS_PER_WRITER = 60;
const PAGE = 2;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.skipIf(!TEST_DATABASE_URL)(
  'reading in commit order while writers commit out of order (PostgreSQL)',
  () => {
    let stores: Store[] = [];

    beforeAll(async () => {
      const url = await createIsolatedPostgresSchema(TEST_DATABASE_URL ?? '', 'commit_order_read');
      stores = [await openStore({ postgresUrl: url })];
      for (let i = 0; i < WRITERS; i++) stores.push(await openStore({ postgresUrl: url, migrate: false }));
    });
    afterAll(async () => {
      for (const store of stores) await store.close();
    });

    /** One writer's units: each stores two events and their feed rows, waits, then commits or (one in five) rolls back. */
    async function write(store: Store, writer: number, committed: Set<string>, rolledBack: Set<string>) {
      const random = seededRandom(1_000 + writer);
      for (let unit = 0; unit < UNITS_PER_WRITER; unit++) {
        const ids = [0, 1].map((k) => `w${writer}-u${unit}-e${k}`);
        const abort = random.next() < 0.2;
        await store.db
          .transaction()
          .execute(async (tx) => {
            for (const eventId of ids) {
              const event = ev('login', T0, { eventId, userId: `user-${writer}` });
              await tx
                .insertInto('monitor_events')
                .values(eventToRow({ event, receivedAt: T0, hash: eventId, resultJson: '{}' }))
                .execute();
              await sql`insert into monitor_event_feed (event_id, writer) values (${eventId}, ${`writer-${writer}`})`.execute(
                tx,
              );
            }
            await sleep(Math.floor(random.next() * 15));
            if (abort) throw new Error('rolled back on purpose');
          })
          .then(
            () => ids.forEach((id) => committed.add(id)),
            () => ids.forEach((id) => rolledBack.add(id)),
          );
      }
    }

    it('reads every committed event once, and no rolled-back one, in pages across changing snapshots', async () => {
      const [followerStore, ...writerStores] = stores as [Store, ...Store[]];
      const follower = monitorIntakeStore(followerStore);
      let place = await follower.followFrom();
      const reads = new Map<string, number>();
      /** One read from the follower's place, page by page; returns how many events it read. */
      const readOnce = async (): Promise<number> => {
        let page = firstCommitPage(place);
        let read = 0;
        for (;;) {
          const answer = await follower.eventsCommittedSince(page, PAGE);
          for (const { event } of answer.events)
            reads.set(event.eventId, (reads.get(event.eventId) ?? 0) + 1);
          read += answer.events.length;
          const last = answer.events[answer.events.length - 1];
          if (!last || answer.events.length < PAGE) {
            place = answer.snapshot;
            return read;
          }
          page = nextCommitPage(page, answer.snapshot, { xid: last.xid, id: last.event.eventId });
        }
      };

      const committed = new Set<string>();
      const rolledBack = new Set<string>();
      let writing = true;
      const writers = Promise.all(
        writerStores.map((store, i) => write(store, i, committed, rolledBack)),
      ).finally(() => {
        writing = false;
      });
      let readsWhileWriting = 0;
      while (writing) {
        await readOnce();
        readsWhileWriting += 1;
      }
      await writers;
      // Every writer's transaction has ended: one more read takes in whatever the last ones committed.
      await readOnce();

      expect(readsWhileWriting).toBeGreaterThan(2);
      expect(committed.size + rolledBack.size).toBe(WRITERS * UNITS_PER_WRITER * 2);
      expect(rolledBack.size).toBeGreaterThan(0);
      expect([...reads.keys()].sort()).toEqual([...committed].sort());
      expect([...reads.values()].every((n) => n === 1)).toBe(true);
      // Nothing more to read.
      expect(await readOnce()).toBe(0);
    });
  },
);
