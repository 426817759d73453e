import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock, MS_PER_DAY, isoDate } from '../../src/domain/clock.js';
import { seededRandom } from '../../src/domain/random.js';
import { computeSnapshot, type PortfolioSnapshot } from '../../src/compliance/portfolio.js';
import type { PortfolioReads } from '../../src/compliance/ports.js';
import { createComplianceStore } from '../../src/store/compliance.js';
import { createIsolatedPostgresSchema } from '../../src/store/db.js';
import { STRONG_APPLICANT, startTestApp, type TestApp } from '../helpers/app.js';
import { TEST_DATABASE_URL } from '../helpers/stores.js';
import { residentId } from '../core/harness.js';

/**
 * A snapshot of a past day shows the book as it stood at the end of that day, reconstructed from the book's history
 * (loans booked, repayments with their principal part, settlements, bucket changes, line actions, consents), not the
 * book as it stands when the snapshot is taken. Every snapshot here is taken at the end, weeks after its day.
 */
const STORES = [
  { name: 'sqlite', enabled: true, env: async () => ({}) },
  {
    name: 'postgres',
    enabled: Boolean(TEST_DATABASE_URL),
    env: async () => ({
      LINEGUARD_DATABASE_URL: await createIsolatedPostgresSchema(TEST_DATABASE_URL ?? '', 'pfasof'),
    }),
  },
];

const D0 = Date.UTC(2026, 9, 1, 9, 0, 0);
const day = (n: number) => isoDate(D0 + n * MS_PER_DAY);

describe.each(STORES)('portfolio snapshots of past days ($name)', (store) => {
  const clock = new ManualClock(D0);
  let t: TestApp;
  /** L1 (line A, 10-01): 200,000, partly repaid on 10-04, M1 on 11-10, M2 on 12-05. */
  let l1: { id: string; repaidPrincipal: number };
  /** L2 (line B, 10-06): 100,000, settled on 10-21; line B frozen on 10-11. */
  let l2: { id: string };
  const at = (n: number, hours = 9) => clock.set(Date.UTC(2026, 9, 1 + n, hours, 30, 0));
  const snap = async (asOf: string): Promise<PortfolioSnapshot> =>
    (await t.app.portfolio.snapshot(asOf)).snapshot;

  beforeAll(async () => {
    if (!store.enabled) return;
    t = await startTestApp(await store.env(), { clock, random: seededRandom(33) });
    const core = t.app.core;
    const open = async (seq: number) => {
      const nationalId = residentId('19840404', seq);
      const app = await core.submitApplication({
        applicant: { name: '周芷若', nationalId, phone: '13900005555' },
        attributes: STRONG_APPLICANT,
      });
      expect(app.outcome).toBe('APPROVE');
      return { lineId: app.line?.id ?? '', nationalId };
    };
    const lineA = await open(301);
    const drawn1 = await core.requestDraw(lineA.lineId, {
      amountMinor: 200_000,
      currency: 'CNY',
      termMonths: 6,
      method: 'EQUAL_INSTALLMENT',
    });
    at(3);
    const part = await core.repay(drawn1.loan?.id ?? '', { amountMinor: 50_000, currency: 'CNY' });
    expect(part.allocated.principalMinor).toBeGreaterThan(0);
    l1 = { id: drawn1.loan?.id ?? '', repaidPrincipal: part.allocated.principalMinor };
    at(5);
    const lineB = await open(302);
    const drawn2 = await core.requestDraw(lineB.lineId, {
      amountMinor: 100_000,
      currency: 'CNY',
      termMonths: 3,
      method: 'EQUAL_PRINCIPAL',
    });
    l2 = { id: drawn2.loan?.id ?? '' };
    at(10);
    await core.applyLineAction(lineB.lineId, {
      type: 'FREEZE_DRAW',
      reasons: ['R_UTILISATION_HIGH'],
      automated: false,
      actor: 'test',
    });
    at(20);
    const payoff = (await core.getLoan(l2.id)).payoffToday?.payoffMinor ?? 0;
    expect((await core.repay(l2.id, { amountMinor: payoff, currency: 'CNY' })).loan.status).toBe('SETTLED');
    at(30);
    // Borrower A's loan-approval consent, given through the web on 10-31: its channel from that day on.
    await t.app.consents.recordConsent({
      nationalId: lineA.nationalId,
      purpose: 'LOAN_APPROVAL',
      textVersion: 'loan-approval/2026-01',
      channel: 'WEB',
      recordedBy: 'test',
    });
    // The first instalment (due 11-01) is unpaid: aged on 11-10, L1 is M1.
    at(40);
    expect((await core.runDailyJob(day(40))).bucketChanges).toEqual([
      expect.objectContaining({ loanId: l1.id, from: 'M0', to: 'M1' }),
    ]);
    // The run for 12-05 happens after midnight (at 00:30 on 12-06), as a nightly batch does: L1 is M2 on 12-05.
    at(66, 0);
    expect((await core.runDailyJob(day(65))).bucketChanges).toEqual([
      expect.objectContaining({ loanId: l1.id, from: 'M1', to: 'M2' }),
    ]);
    at(70);
  });
  afterAll(async () => t?.close());

  it.skipIf(!store.enabled)(
    'the day before the first loan: no line, no loan, nothing outstanding',
    async () => {
      const s = await snap(day(-1));
      expect(s).toMatchObject({ lines: {}, openLoans: 0, outstandingMinor: 0, byBucket: {}, vintages: [] });
      expect(s.byProduct).toEqual({});
      expect(s.byChannel).toEqual({});
    },
  );

  it.skipIf(!store.enabled)(
    'a loan is on the book from its day, at full principal until repaid',
    async () => {
      for (const n of [0, 1, 2]) {
        const s = await snap(day(n));
        expect(s.lines, day(n)).toEqual({ ACTIVE: 1 });
        expect(s.openLoans).toBe(1);
        expect(s.outstandingMinor).toBe(200_000);
        expect(s.byBucket).toEqual({ M0: { loans: 1, outstandingMinor: 200_000 } });
        expect(s.byProduct).toEqual({ EQUAL_INSTALLMENT: { loans: 1, outstandingMinor: 200_000 } });
        expect(s.vintages).toEqual([
          expect.objectContaining({
            month: '2026-10',
            loans: 1,
            principalMinor: 200_000,
            outstandingMinor: 200_000,
          }),
        ]);
      }
    },
  );

  it.skipIf(!store.enabled)(
    'a repayment lowers the balance by its principal part from its day on',
    async () => {
      const left = 200_000 - l1.repaidPrincipal;
      for (const n of [3, 4]) {
        const s = await snap(day(n));
        expect(s.outstandingMinor, day(n)).toBe(left);
        expect(s.byBucket).toEqual({ M0: { loans: 1, outstandingMinor: left } });
      }
    },
  );

  it.skipIf(!store.enabled)(
    'a line opened later is not on the book before it; its status follows its actions',
    async () => {
      expect((await snap(day(4))).lines).toEqual({ ACTIVE: 1 });
      const opened = await snap(day(5));
      expect(opened.lines).toEqual({ ACTIVE: 2 });
      expect(opened.openLoans).toBe(2);
      expect(opened.outstandingMinor).toBe(300_000 - l1.repaidPrincipal);
      expect((await snap(day(9))).lines).toEqual({ ACTIVE: 2 });
      const frozen = await snap(day(10));
      expect(frozen.lines).toEqual({ ACTIVE: 1, DRAW_FROZEN: 1 });
      // The freeze is a flow of the window, over the lines on the book that day.
      expect(frozen.restrictions).toMatchObject({ freezes: 1, freezeRate: 0.5 });
    },
  );

  it.skipIf(!store.enabled)('a settled loan is open before its settlement day and not after', async () => {
    const before = await snap(day(19));
    expect(before.openLoans).toBe(2);
    expect(before.byProduct).toEqual({
      EQUAL_INSTALLMENT: { loans: 1, outstandingMinor: 200_000 - l1.repaidPrincipal },
      EQUAL_PRINCIPAL: { loans: 1, outstandingMinor: 100_000 },
    });
    for (const n of [20, 25]) {
      const s = await snap(day(n));
      expect(s.openLoans, day(n)).toBe(1);
      expect(s.outstandingMinor).toBe(200_000 - l1.repaidPrincipal);
      expect(s.byProduct).toEqual({
        EQUAL_INSTALLMENT: { loans: 1, outstandingMinor: 200_000 - l1.repaidPrincipal },
      });
      // The vintage keeps the settled loan's principal, with nothing of it outstanding.
      expect(s.vintages).toEqual([
        expect.objectContaining({
          month: '2026-10',
          loans: 2,
          principalMinor: 300_000,
          outstandingMinor: 200_000 - l1.repaidPrincipal,
        }),
      ]);
    }
  });

  it.skipIf(!store.enabled)('a loan is in the channel of the consent given by that day', async () => {
    const left = 200_000 - l1.repaidPrincipal;
    expect((await snap(day(29))).byChannel).toEqual({ UNKNOWN: { loans: 1, outstandingMinor: left } });
    expect((await snap(day(30))).byChannel).toEqual({ WEB: { loans: 1, outstandingMinor: left } });
  });

  it.skipIf(!store.enabled)('a loan is in the bucket its latest aging up to that day gave it', async () => {
    const left = 200_000 - l1.repaidPrincipal;
    const current = await snap(day(39));
    expect(current.byBucket).toEqual({ M0: { loans: 1, outstandingMinor: left } });
    expect(current.m1PlusRate).toBe(0);
    for (const n of [40, 50, 64]) {
      const s = await snap(day(n));
      expect(s.byBucket, day(n)).toEqual({ M1: { loans: 1, outstandingMinor: left } });
      expect(s.m1PlusRate).toBe(1);
      expect(s.m2PlusRate).toBe(0);
    }
    // Of L1 and L2, both M0 when the window of 11-10 opened (end of 10-11), L1 is M1 at its end; L2, settled inside
    // it, stays in the denominator.
    expect((await snap(day(40))).rollRates['M0->M1']).toBe(1 / 2);
    // Aged for 12-05 at 00:30 on 12-06: the snapshot of 12-05 (the one that nightly run takes) shows it.
    const m2 = await snap(day(65));
    expect(m2.byBucket).toEqual({ M2: { loans: 1, outstandingMinor: left } });
    expect(m2.m2PlusRate).toBe(1);
    expect(m2.vintages).toEqual([
      expect.objectContaining({ month: '2026-10', monthsOnBook: 2, m1PlusRate: left / 300_000 }),
    ]);
  });

  it.skipIf(!store.enabled)(
    "today's snapshot equals the one computed from the book as it stands (no later events)",
    async () => {
      const today = isoDate(clock.now());
      const db = t.app.store.db;
      const reads = createComplianceStore(t.app.store);
      // What the snapshot read before it was computed as of its day: the rows as they stand now.
      const asItStands: PortfolioReads = {
        ...reads,
        async linesByStatusAt() {
          const rows = await db
            .selectFrom('credit_lines')
            .select(['status', (eb) => eb.fn.countAll<number>().as('n')])
            .groupBy('status')
            .orderBy('status')
            .execute();
          return rows.map((r) => ({ status: r.status, n: Number(r.n) }));
        },
        async loanFacts(asOf) {
          // The roll rates' cohorts are the book when the window opened, a past day: read as of it.
          if (asOf.date !== today) return reads.loanFacts(asOf);
          const rows = await db.selectFrom('loans').selectAll().execute();
          return rows.map((r) => ({
            loanId: r.id,
            borrowerId: r.borrower_id,
            method: r.method,
            bucket: r.bucket,
            startDate: r.start_date,
            principalMinor: Number(r.principal_minor),
            outstandingMinor: Number(r.outstanding_principal_minor),
            settledAt: r.settled_at === null ? null : Number(r.settled_at),
          }));
        },
        loanApprovalChannels: () =>
          db
            .selectFrom('borrowers')
            .innerJoin('consents', 'consents.subject_hash', 'borrowers.national_id_hash')
            .select(['borrowers.id as borrowerId', 'consents.channel'])
            .where('consents.purpose', '=', 'LOAN_APPROVAL')
            .orderBy('consents.granted_at')
            .execute(),
      };
      const asOfToday = (await computeSnapshot(reads, today)).snapshot;
      expect(asOfToday).toEqual((await computeSnapshot(asItStands, today)).snapshot);
      expect(asOfToday).toMatchObject({
        lines: { ACTIVE: 1, DRAW_FROZEN: 1 },
        openLoans: 1,
        outstandingMinor: 200_000 - l1.repaidPrincipal,
      });
      // And the loans' own balances are what their repayments' principal parts leave.
      const loan = await db.selectFrom('loans').selectAll().where('id', '=', l1.id).executeTakeFirstOrThrow();
      expect(Number(loan.outstanding_principal_minor)).toBe(200_000 - l1.repaidPrincipal);
    },
  );
});
