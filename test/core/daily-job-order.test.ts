import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MS_PER_DAY, isoDate } from '../../src/domain/clock.js';
import { seedDemo, type CoreServices } from '../../src/core/index.js';
import { openStore, type Store } from '../../src/store/db.js';
import { coreWithBundledEngine, makeCore, type Harness } from './harness.js';

/**
 * `jobs daily --as-of` an earlier day than the book was last aged for (a backfill, a re-run, an operator's slip) must
 * not turn the book back: a loan in M2 read as M0 again lifts the arrears that block its line's draws.
 */
describe('the daily job for a day before the one the book was aged for', () => {
  let store: Store;
  let h: Harness;
  let core: CoreServices;
  let loanId: string;
  let lineId: string;
  let lateDay: string;
  let earlierDay: string;

  beforeAll(async () => {
    store = await openStore({ sqlitePath: ':memory:' });
    ({ h, core } = await coreWithBundledEngine(store));
    await seedDemo(core);
    const loan = await store.db
      .selectFrom('loans')
      .selectAll()
      .where('status', '=', 'ACTIVE')
      .orderBy('id')
      .executeTakeFirstOrThrow();
    loanId = loan.id;
    lineId = loan.line_id;
    const firstDue = await store.db
      .selectFrom('loan_installments')
      .select('due_date')
      .where('loan_id', '=', loan.id)
      .orderBy('period')
      .executeTakeFirstOrThrow();
    const due = Date.parse(`${firstDue.due_date}T00:00:00Z`);
    lateDay = isoDate(due + 40 * MS_PER_DAY);
    earlierDay = isoDate(due + 5 * MS_PER_DAY);
    h.clock.set(Date.parse(`${lateDay}T01:00:00Z`));
    await core.runDailyJob(lateDay);
  });
  afterAll(async () => {
    await store?.close();
  });

  const ageOf = async () => {
    const loan = await store.db
      .selectFrom('loans')
      .select(['dpd', 'bucket'])
      .where('id', '=', loanId)
      .executeTakeFirstOrThrow();
    const line = await store.db
      .selectFrom('credit_lines')
      .select(['dpd', 'bucket'])
      .where('id', '=', lineId)
      .executeTakeFirstOrThrow();
    return {
      loan: { dpd: Number(loan.dpd), bucket: loan.bucket },
      line: { dpd: Number(line.dpd), bucket: line.bucket },
    };
  };

  it('leaves loans and lines as the later day aged them, and records no bucket change', async () => {
    const aged = await ageOf();
    expect(aged.loan.bucket).toBe('M2');
    const changesBefore = await store.db.selectFrom('delinquency_changes').select('id').execute();
    h.clock.set(Date.parse(`${lateDay}T02:00:00Z`));
    const result = await core.runDailyJob(earlierDay);
    expect(await ageOf()).toEqual(aged);
    expect(result.bucketChanges).toEqual([]);
    expect(result.loansAgedLater).toBeGreaterThan(0);
    const changesAfter = await store.db.selectFrom('delinquency_changes').select('id').execute();
    expect(changesAfter).toHaveLength(changesBefore.length);
  });

  it('still ages the book forward, and a re-run of the same day changes nothing', async () => {
    const nextDay = isoDate(Date.parse(`${lateDay}T00:00:00Z`) + MS_PER_DAY);
    h.clock.set(Date.parse(`${nextDay}T01:00:00Z`));
    await core.runDailyJob(nextDay);
    const aged = await ageOf();
    expect(aged.loan.dpd).toBeGreaterThan(40);
    const again = await core.runDailyJob(nextDay);
    expect(again.bucketChanges).toEqual([]);
    expect(again.loansAgedLater).toBe(0);
    expect(await ageOf()).toEqual(aged);
  });

  it("a run for a day after the lender's today is refused, and changes nothing", async () => {
    // A scheduler ahead of the clock, or a typo: aging for that day would make the instalments due on it (and every
    // day between) late before the borrower's day to pay them has ended.
    const today = isoDate(h.clock.now());
    const tomorrow = isoDate(h.clock.now() + MS_PER_DAY);
    const before = await ageOf();
    const entries = await store.db.selectFrom('ledger_entries').select('seq').execute();
    await expect(core.runDailyJob(tomorrow)).rejects.toMatchObject({
      code: 'LG_AS_OF_IN_FUTURE',
      details: { asOf: tomorrow, today },
    });
    await expect(core.runDailyJob(isoDate(h.clock.now() + 30 * MS_PER_DAY))).rejects.toMatchObject({
      code: 'LG_AS_OF_IN_FUTURE',
    });
    expect(await ageOf()).toEqual(before);
    expect(await store.db.selectFrom('ledger_entries').select('seq').execute()).toEqual(entries);
    // Today itself runs.
    expect((await core.runDailyJob(today)).asOf).toBe(today);
  });
});

describe("the daily job's today is the lender's", () => {
  it('at 20:00 UTC in Shanghai (+08:00) the next UTC day has begun and runs; the one after is refused', async () => {
    const store = await openStore({ sqlitePath: ':memory:' });
    try {
      const h = makeCore(store, { lenderUtcOffsetMinutes: 480 });
      h.clock.set(Date.UTC(2025, 4, 12, 20));
      expect((await h.core.runDailyJob('2025-05-13')).asOf).toBe('2025-05-13');
      await expect(h.core.runDailyJob('2025-05-14')).rejects.toMatchObject({
        code: 'LG_AS_OF_IN_FUTURE',
        details: { asOf: '2025-05-14', today: '2025-05-13' },
      });
    } finally {
      await store.close();
    }
  });
});
