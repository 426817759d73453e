import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MS_PER_DAY, isoDate } from '../../src/domain/clock.js';
import { createCoreServices, type CoreServices } from '../../src/core/index.js';
import { createIsolatedPostgresSchema, openStore, type Store } from '../../src/store/db.js';
import { createCoreStore } from '../../src/store/core.js';
import { TEST_DATABASE_URL } from '../helpers/stores.js';
import { makeCore, openLine, residentId, type Harness } from './harness.js';

/**
 * Two runs of `jobs daily` for DIFFERENT days at the same moment (a backfill beside the night's run, two schedulers):
 * one run reads the book, the other ages it for its day and commits, then the first writes. Whichever day is later
 * must stand, for the loans (their aged_for is compared and set) and for the lines, whose days past due block draws:
 * an earlier day's view written last must not turn a line in arrears back to current.
 */
const STORES = [
  {
    name: 'sqlite',
    enabled: true,
    // One writer: the two runs' units interleave on it.
    open: async () => {
      const store = await openStore({ sqlitePath: ':memory:' });
      return { a: store, b: store, close: () => store.close() };
    },
  },
  {
    name: 'postgres',
    enabled: Boolean(TEST_DATABASE_URL),
    // Two pools on one schema, as two processes would hold.
    open: async () => {
      const url = await createIsolatedPostgresSchema(TEST_DATABASE_URL ?? '', 'daily_job_race');
      const a = await openStore({ postgresUrl: url });
      const b = await openStore({ postgresUrl: url, migrate: false });
      return { a, b, close: async () => (await b.close(), await a.close()) };
    },
  },
] as const;

const DRAW = { amountMinor: 300_000, currency: 'CNY', termMonths: 3, method: 'EQUAL_INSTALLMENT' } as const;

for (const kind of STORES) {
  describe.skipIf(!kind.enabled)(`two daily jobs for different days at once, on ${kind.name}`, () => {
    let stores: { a: Store; b: Store; close(): Promise<unknown> };
    let h: Harness;
    let due: string;
    const loans: { id: string; lineId: string }[] = [];

    beforeAll(async () => {
      stores = await kind.open();
      h = makeCore(stores.a);
      for (const seq of [101, 102]) {
        const lineId = await openLine(h, 5_000_000, {
          name: '李四',
          nationalId: residentId('19880512', seq),
          phone: `1390000${seq}0`,
        });
        const draw = await h.core.requestDraw(lineId, DRAW);
        loans.push({ id: draw.loan?.id ?? '', lineId });
        due = draw.loan?.schedule[0]?.dueDate ?? '';
      }
    });
    afterAll(async () => stores?.close());

    /**
     * The job on the second connection: once it has read its first page of loans, `meanwhile` runs to its end (the
     * other run, committed) before this one ages what it read.
     */
    function interleaved(meanwhile: () => Promise<unknown>): CoreServices {
      const coreStore = createCoreStore(stores.b);
      let waited = false;
      return createCoreServices({
        ...h.deps,
        store: stores.b,
        coreStore: {
          ...coreStore,
          activeLoansPage: async (afterId, pageSize) => {
            const page = await coreStore.activeLoansPage(afterId, pageSize);
            if (!waited && page.length > 0) {
              waited = true;
              await meanwhile();
            }
            return page;
          },
        },
      });
    }

    const ageOf = async (loan: { id: string; lineId: string }) => {
      const l = await stores.a.db
        .selectFrom('loans')
        .select(['dpd', 'bucket', 'aged_for'])
        .where('id', '=', loan.id)
        .executeTakeFirstOrThrow();
      const line = await stores.a.db
        .selectFrom('credit_lines')
        .select(['dpd', 'bucket'])
        .where('id', '=', loan.lineId)
        .executeTakeFirstOrThrow();
      return {
        loan: { dpd: Number(l.dpd), bucket: l.bucket, agedFor: l.aged_for },
        line: { dpd: Number(line.dpd), bucket: line.bucket },
      };
    };

    const day = (offset: number) => isoDate(Date.parse(`${due}T00:00:00Z`) + offset * MS_PER_DAY);

    it("an earlier day's run that read the book first and writes last leaves the later day's aging", async () => {
      // Today is the day after the first due date: on the due date the loans are current, the day after one day late.
      h.clock.set(Date.parse(`${day(1)}T08:00:00Z`));
      const earlier = interleaved(() => h.core.runDailyJob(day(1)));
      await earlier.runDailyJob(day(0));
      for (const loan of loans)
        expect(await ageOf(loan)).toEqual({
          loan: { dpd: 1, bucket: 'M1', agedFor: day(1) },
          line: { dpd: 1, bucket: 'M1' },
        });
    });

    it("a later day's run that read the book first and writes last ages it for the later day", async () => {
      h.clock.set(Date.parse(`${day(3)}T08:00:00Z`));
      const later = interleaved(() => h.core.runDailyJob(day(2)));
      await later.runDailyJob(day(3));
      for (const loan of loans)
        expect(await ageOf(loan)).toEqual({
          loan: { dpd: 3, bucket: 'M1', agedFor: day(3) },
          line: { dpd: 3, bucket: 'M1' },
        });
    });

    it('an earlier day whose aging would change the loans, read first, written last, changes nothing', async () => {
      // Both runs see a change from the age the loans were read with (3): 5 for the earlier day, 6 for the later.
      h.clock.set(Date.parse(`${day(6)}T08:00:00Z`));
      const earlier = interleaved(() => h.core.runDailyJob(day(6)));
      const result = await earlier.runDailyJob(day(5));
      expect(result.bucketChanges).toEqual([]);
      for (const loan of loans)
        expect(await ageOf(loan)).toEqual({
          loan: { dpd: 6, bucket: 'M1', agedFor: day(6) },
          line: { dpd: 6, bucket: 'M1' },
        });
    });
  });
}
