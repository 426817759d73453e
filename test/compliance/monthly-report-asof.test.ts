import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/domain/clock.js';
import { seededRandom } from '../../src/domain/random.js';
import { createIsolatedPostgresSchema } from '../../src/store/db.js';
import { STRONG_APPLICANT, startTestApp, type TestApp } from '../helpers/app.js';
import { TEST_DATABASE_URL } from '../helpers/stores.js';
import { residentId } from '../core/harness.js';

/**
 * The monthly report's book (lines by status, open loans by bucket) is the book at the end of the month's last day,
 * as a snapshot of that day shows it, whenever the report is run: a loan booked after the month is not in it, a loan
 * settled after the month is open in it, a line frozen after it is still active in it. Every report here is run on
 * 1 December, weeks after October ended.
 */
const STORES = [
  { name: 'sqlite', enabled: true, env: async () => ({}) },
  {
    name: 'postgres',
    enabled: Boolean(TEST_DATABASE_URL),
    env: async () => ({
      LINEGUARD_DATABASE_URL: await createIsolatedPostgresSchema(TEST_DATABASE_URL ?? '', 'monthasof'),
    }),
  },
];

/** 2026-`month`-`day` at 09:30 UTC. */
const on = (month: number, day: number) => Date.UTC(2026, month - 1, day, 9, 30, 0);

describe.each(STORES)('the monthly report of a past month ($name)', (store) => {
  const clock = new ManualClock(on(10, 10));
  let t: TestApp;

  beforeAll(async () => {
    if (!store.enabled) return;
    t = await startTestApp(await store.env(), { clock, random: seededRandom(41) });
    const core = t.app.core;
    const open = async (seq: number, amountMinor: number) => {
      const applied = await core.submitApplication({
        applicant: { name: '张无忌', nationalId: residentId('19850505', seq), phone: '13900006666' },
        attributes: STRONG_APPLICANT,
      });
      expect(applied.outcome).toBe('APPROVE');
      const lineId = applied.line?.id ?? '';
      const drawn = await core.requestDraw(lineId, {
        amountMinor,
        currency: 'CNY',
        termMonths: 6,
        method: 'EQUAL_INSTALLMENT',
      });
      return { lineId, loanId: drawn.loan?.id ?? '' };
    };
    // October: A (100,000) on the 10th, B (200,000) on the 20th.
    const a = await open(401, 100_000);
    clock.set(on(10, 20));
    const b = await open(402, 200_000);
    // November: A settled on the 5th, C (300,000) booked on the 8th, B's line frozen on the 12th.
    clock.set(on(11, 5));
    const payoff = (await core.getLoan(a.loanId)).payoffToday?.payoffMinor ?? 0;
    expect((await core.repay(a.loanId, { amountMinor: payoff, currency: 'CNY' })).loan.status).toBe(
      'SETTLED',
    );
    clock.set(on(11, 8));
    await open(403, 300_000);
    clock.set(on(11, 12));
    await core.applyLineAction(b.lineId, {
      type: 'FREEZE_DRAW',
      reasons: ['R_UTILISATION_HIGH'],
      automated: false,
      actor: 'test',
    });
    // B's first instalment (due 11-20) is unpaid: aged on 11-25, B is M1.
    clock.set(on(11, 25));
    expect((await core.runDailyJob('2026-11-25')).bucketChanges).toEqual([
      expect.objectContaining({ loanId: b.loanId, from: 'M0', to: 'M1' }),
    ]);
    clock.set(on(12, 1));
  });
  afterAll(async () => t?.close());

  it.skipIf(!store.enabled)('October: the book at the end of 31 October', async () => {
    const report = await t.app.portfolio.monthlyReport('2026-10');
    // C was booked and B's line frozen in November; A was settled in November, so it is open here, both in M0.
    expect(report.linesByStatus).toEqual([{ status: 'ACTIVE', lines: 2 }]);
    expect(report.loansByBucket).toEqual([{ bucket: 'M0', loans: 2, outstandingMinor: 300_000 }]);
  });

  it.skipIf(!store.enabled)('November: the book at the end of 30 November', async () => {
    const report = await t.app.portfolio.monthlyReport('2026-11');
    expect(report.linesByStatus).toEqual([
      { status: 'ACTIVE', lines: 2 },
      { status: 'DRAW_FROZEN', lines: 1 },
    ]);
    expect(report.loansByBucket).toEqual([
      { bucket: 'M0', loans: 1, outstandingMinor: 300_000 },
      { bucket: 'M1', loans: 1, outstandingMinor: 200_000 },
    ]);
  });

  it.skipIf(!store.enabled)('September, before the first line: an empty book', async () => {
    const report = await t.app.portfolio.monthlyReport('2026-09');
    expect(report.linesByStatus).toEqual([]);
    expect(report.loansByBucket).toEqual([]);
  });

  it.skipIf(!store.enabled)(
    'the current month: the book as it stands, the same as its snapshot',
    async () => {
      const report = await t.app.portfolio.monthlyReport('2026-12');
      const { snapshot } = await t.app.portfolio.snapshot('2026-12-01');
      const sorted = <T>(record: Record<string, T>) =>
        Object.entries(record).sort(([a], [b]) => (a < b ? -1 : 1));
      expect(report.linesByStatus).toEqual(
        sorted(snapshot.lines).map(([status, lines]) => ({ status, lines })),
      );
      expect(report.loansByBucket).toEqual(
        sorted(snapshot.byBucket).map(([bucket, s]) => ({
          bucket,
          loans: s.loans,
          outstandingMinor: s.outstandingMinor,
        })),
      );
      expect(report.loansByBucket).toHaveLength(2);
    },
  );
});
