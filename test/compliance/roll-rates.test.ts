import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/domain/clock.js';
import { seededRandom } from '../../src/domain/random.js';
import { createIsolatedPostgresSchema } from '../../src/store/db.js';
import { STRONG_APPLICANT, startTestApp, type TestApp } from '../helpers/app.js';
import { TEST_DATABASE_URL } from '../helpers/stores.js';
import { residentId } from '../core/harness.js';

/**
 * A snapshot's roll rate X→Y is a cohort's: of the loans open in X at the start of its 30-day window, the share open
 * in Y at its end (the flow rate of the lending reference, 迁徙率). A loan booked inside the window was in no bucket at
 * its start and counts in neither part, even when it falls behind within the window; a loan in X at the start that
 * is settled by the end stays in the denominator.
 *
 * The window of 2027-03-02 is 1 February to 2 March (February 2027 has 28 days), so a loan booked on its first day
 * can fall due on 1 March and be M1 on 2 March, inside it.
 */
const STORES = [
  { name: 'sqlite', enabled: true, env: async () => ({}) },
  {
    name: 'postgres',
    enabled: Boolean(TEST_DATABASE_URL),
    env: async () => ({
      LINEGUARD_DATABASE_URL: await createIsolatedPostgresSchema(TEST_DATABASE_URL ?? '', 'rollrates'),
    }),
  },
];

/** 2027-`month`-`day` at 09:30 UTC. */
const on = (month: number, day: number) => Date.UTC(2027, month - 1, day, 9, 30, 0);

describe.each(STORES)('roll rates over a snapshot window ($name)', (store) => {
  const clock = new ManualClock(on(1, 5));
  let t: TestApp;

  beforeAll(async () => {
    if (!store.enabled) return;
    t = await startTestApp(await store.env(), { clock, random: seededRandom(43) });
    const core = t.app.core;
    const book = async (seq: number) => {
      const applied = await core.submitApplication({
        applicant: { name: '黄蓉', nationalId: residentId('19860606', seq), phone: '13900007777' },
        attributes: STRONG_APPLICANT,
      });
      expect(applied.outcome).toBe('APPROVE');
      const drawn = await core.requestDraw(applied.line?.id ?? '', {
        amountMinor: 100_000,
        currency: 'CNY',
        termMonths: 6,
        method: 'EQUAL_INSTALLMENT',
      });
      return drawn.loan ?? expect.fail('no loan');
    };
    const settle = async (loanId: string) => {
      const payoff = (await core.getLoan(loanId)).payoffToday?.payoffMinor ?? 0;
      expect((await core.repay(loanId, { amountMinor: payoff, currency: 'CNY' })).loan.status).toBe(
        'SETTLED',
      );
    };
    // Before the window of 03-02: P pays its first instalment and is settled on 03-10, S is settled on 02-09 before
    // its first instalment falls due, R misses its first instalment (due 02-12).
    const p = await book(501);
    clock.set(on(1, 10));
    const s = await book(502);
    clock.set(on(1, 12));
    const r = await book(503);
    // On the window's first day: Q, which misses its first instalment (due 03-01).
    clock.set(on(2, 1));
    const q = await book(504);
    clock.set(on(2, 5));
    await core.repay(p.id, { amountMinor: p.schedule[0]?.totalMinor ?? 0, currency: 'CNY' });
    clock.set(on(2, 9));
    await settle(s.id);
    clock.set(on(2, 13));
    expect((await core.runDailyJob('2027-02-13')).bucketChanges).toEqual([
      expect.objectContaining({ loanId: r.id, from: 'M0', to: 'M1' }),
    ]);
    clock.set(on(3, 2));
    expect((await core.runDailyJob('2027-03-02')).bucketChanges).toEqual([
      expect.objectContaining({ loanId: q.id, from: 'M0', to: 'M1' }),
    ]);
    clock.set(on(3, 10));
    await settle(p.id);
    clock.set(on(3, 14));
  });
  afterAll(async () => t?.close());

  it.skipIf(!store.enabled)(
    'M0→M1 on 03-02: of P, S and R in M0 at the start, R is in M1 at the end; Q counts nowhere',
    async () => {
      const { snapshot } = await t.app.portfolio.snapshot('2027-03-02');
      expect(snapshot.byBucket).toMatchObject({ M0: { loans: 1 }, M1: { loans: 2 } });
      // S, settled inside the window, stays in the denominator; Q, booked inside it, is in neither part.
      expect(snapshot.rollRates['M0->M1']).toBe(1 / 3);
      // Nothing was in M1 when the window opened (R fell behind on 02-13): no M1→M2 roll, and no division by zero.
      expect(snapshot.rollRates['M1->M2']).toBe(0);
    },
  );

  it.skipIf(!store.enabled)(
    'M0→M1 on 03-14: of P, R and Q in M0 at the start, R and Q are in M1 at the end, P was settled',
    async () => {
      // The window opens on 02-13: at the end of 02-12 R (aged M1 for 02-13) and Q were in M0, S was settled.
      const { snapshot } = await t.app.portfolio.snapshot('2027-03-14');
      expect(snapshot.byBucket).toEqual({ M1: { loans: 2, outstandingMinor: 200_000 } });
      expect(snapshot.rollRates['M0->M1']).toBe(2 / 3);
      expect(snapshot.rollRates['M1->M2']).toBe(0);
    },
  );
});
