import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ManualClock } from '../../src/domain/clock.js';
import { seededRandom } from '../../src/domain/random.js';
import { registerJobsCommand } from '../../src/cli/commands/jobs.js';
import { computeSnapshot, windowOf } from '../../src/compliance/portfolio.js';
import type { PortfolioReads } from '../../src/compliance/ports.js';
import { STRONG_APPLICANT, startTestApp, type TestApp } from '../helpers/app.js';
import { appStores } from '../helpers/stores.js';
import { residentId } from '../core/harness.js';

/**
 * Portfolio snapshots, monthly reports and the daily job go by the lender's calendar (LINEGUARD_LENDER_UTC_OFFSET),
 * as a loan's dates do, not by the UTC day. The lender here is in Beijing (+08:00): 17:00 UTC on 7 December is 01:00
 * on 8 December there, so what happens then belongs to 8 December, and the night's job run then (without --as-of) is
 * for 8 December; 16:30 UTC on 30 November is already 00:30 on 1 December, in December's report.
 */
const BEIJING = { LINEGUARD_LENDER_UTC_OFFSET: '+08:00' };
/** 00:30 on 1 December in Beijing: line A opened, loan A drawn, the borrower's consent; A frozen at 01:00. */
const DEC_1_0030 = Date.UTC(2026, 10, 30, 16, 30);
const DEC_1_0100 = Date.UTC(2026, 10, 30, 17, 0);
/** 09:00 on 7 December in Beijing: line B, loan B. */
const DEC_7_0900 = Date.UTC(2026, 11, 7, 1, 0);
/** 23:30 on 7 December in Beijing: line C, loan C, and a temporary limit on C until 03:00 on the 8th. */
const DEC_7_2330 = Date.UTC(2026, 11, 7, 15, 30);
const DEC_8_0300 = Date.UTC(2026, 11, 7, 19, 0);
/** 01:00 on 8 December in Beijing (still 7 December in UTC): B partly repaid, line D and loan D; the night's job. */
const DEC_8_0100 = Date.UTC(2026, 11, 7, 17, 0);

for (const store of appStores('pflender'))
  describe.skipIf(!store.enabled)(`the portfolio on the lender's calendar (${store.name})`, () => {
    const clock = new ManualClock(DEC_1_0030);
    let t: TestApp;
    let repaidPrincipal = 0;
    let lineC = '';

    const open = async (seq: number, amountMinor: number) => {
      const nationalId = residentId('19860606', seq);
      const applied = await t.app.core.submitApplication({
        applicant: { name: '赵敏', nationalId, phone: '13900008888' },
        attributes: STRONG_APPLICANT,
      });
      expect(applied.outcome).toBe('APPROVE');
      const lineId = applied.line?.id ?? '';
      const drawn = await t.app.core.requestDraw(lineId, {
        amountMinor,
        currency: 'CNY',
        termMonths: 6,
        method: 'EQUAL_INSTALLMENT',
      });
      expect(drawn.loan?.id).toBeDefined();
      return { lineId, nationalId, loanId: drawn.loan?.id ?? '' };
    };

    beforeAll(async () => {
      t = await startTestApp({ ...(await store.env()), ...BEIJING }, { clock, random: seededRandom(48) });
      const a = await open(501, 100_000);
      await t.app.consents.recordConsent({
        nationalId: a.nationalId,
        purpose: 'LOAN_APPROVAL',
        textVersion: 'loan-approval/2026-01',
        channel: 'APP',
        recordedBy: 'test',
      });
      clock.set(DEC_1_0100);
      await t.app.core.applyLineAction(a.lineId, {
        type: 'FREEZE_DRAW',
        reasons: ['R_UTILISATION_HIGH'],
        automated: false,
        actor: 'test',
      });
      clock.set(DEC_7_0900);
      const b = await open(502, 200_000);
      clock.set(DEC_7_2330);
      const c = await open(503, 50_000);
      lineC = c.lineId;
      const { limitMinor } = await t.app.core.getLine(lineC);
      await t.app.core.applyLineAction(lineC, {
        type: 'TEMP_LIMIT',
        limitMinor: limitMinor + 10_000,
        tempUntil: DEC_8_0300,
        reasons: ['R_GOOD_REPAYMENT'],
        automated: false,
        actor: 'test',
      });
      clock.set(DEC_8_0100);
      const part = await t.app.core.repay(b.loanId, { amountMinor: 50_000, currency: 'CNY' });
      repaidPrincipal = part.allocated.principalMinor;
      expect(repaidPrincipal).toBeGreaterThan(0);
      await open(504, 300_000);
    });
    afterAll(async () => t?.close());

    it('a line opened at 00:30 on 1 December is not on the book of 30 November', async () => {
      const { snapshot } = await t.app.portfolio.snapshot('2026-11-30');
      expect(snapshot.lines).toEqual({});
      expect(snapshot).toMatchObject({ openLoans: 0, outstandingMinor: 0 });
      expect(snapshot.decisions.applications).toBe(0);
      expect(snapshot.restrictions.freezes).toBe(0);
    });

    it('the snapshot of 7 December is the book at midnight in Beijing: 23:30 counts, 01:00 on the 8th does not', async () => {
      const { snapshot } = await t.app.portfolio.snapshot('2026-12-07');
      // A (frozen), B and C (drawn at 23:30 on the 7th); not D, opened at 01:00 on the 8th.
      expect(snapshot.lines).toEqual({ ACTIVE: 2, DRAW_FROZEN: 1 });
      expect(snapshot.openLoans).toBe(3);
      // B's repayment at 01:00 on the 8th is not yet made.
      expect(snapshot.outstandingMinor).toBe(350_000);
      expect(snapshot.byBucket).toEqual({ M0: { loans: 3, outstandingMinor: 350_000 } });
      // The window's flows end at the same midnight: D's application is the 8th's.
      expect(snapshot.decisions.applications).toBe(3);
      expect(snapshot.restrictions.freezes).toBe(1);
    });

    it('the snapshot of 8 December has what happened from midnight there on', async () => {
      const { snapshot } = await t.app.portfolio.snapshot('2026-12-08');
      expect(snapshot.lines).toEqual({ ACTIVE: 3, DRAW_FROZEN: 1 });
      expect(snapshot.openLoans).toBe(4);
      expect(snapshot.outstandingMinor).toBe(650_000 - repaidPrincipal);
      expect(snapshot.decisions.applications).toBe(4);
    });

    it("a month's report runs from the lender's midnight to the lender's midnight", async () => {
      const november = await t.app.portfolio.monthlyReport('2026-11');
      expect(november.linesByStatus).toEqual([]);
      expect(november.loansByBucket).toEqual([]);
      expect(november.restrictions).toEqual([]);
      expect(november.consents).toEqual({ granted: 0, withdrawn: 0 });
      const december = await t.app.portfolio.monthlyReport('2026-12');
      expect(december.linesByStatus).toEqual([
        { status: 'ACTIVE', lines: 3 },
        { status: 'DRAW_FROZEN', lines: 1 },
      ]);
      expect(december.restrictions).toEqual([
        expect.objectContaining({ type: 'FREEZE_DRAW', reason: 'R_UTILISATION_HIGH', count: 1 }),
      ]);
      expect(december.consents).toEqual({ granted: 1, withdrawn: 0 });
    });

    it('the job for 7 December leaves a temporary limit that runs until 03:00 on the 8th in Beijing', async () => {
      const aged = await t.app.core.runDailyJob('2026-12-07');
      expect(aged.tempLimitsExpired).toBe(0);
      expect((await t.app.core.getLine(lineC)).tempLimitUntil).toBe(new Date(DEC_8_0300).toISOString());
    });

    it("`jobs daily` without --as-of runs for the lender's today, and its snapshot is that day's", async () => {
      const out: string[] = [];
      const write = vi
        .spyOn(process.stdout, 'write')
        .mockImplementation((chunk) => (out.push(String(chunk)), true));
      const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
      try {
        const program = new Command('lineguard').exitOverride();
        registerJobsCommand(program, async () => ({
          core: t.app.core,
          portfolio: t.app.portfolio,
          close: async () => undefined,
        }));
        await program.parseAsync(['node', 'lineguard', 'jobs', 'daily', '--json']);
        expect(process.exitCode).toBe(0);
      } finally {
        write.mockRestore();
        err.mockRestore();
        process.exitCode = undefined;
      }
      const result = JSON.parse(out.join('')) as {
        asOf: string;
        tempLimitsExpired: number;
        portfolio: { snapshot: { asOf: string; openLoans: number } };
      };
      expect(result.asOf).toBe('2026-12-08');
      // The 8th's job ends the temporary limit that ran out at 03:00 that day.
      expect(result.tempLimitsExpired).toBe(1);
      expect(result.portfolio.snapshot).toMatchObject({ asOf: '2026-12-08', openLoans: 4 });
      expect((await t.app.portfolio.latest())?.asOf).toBe('2026-12-08');
    });

    it("the latest snapshot's gauge is the instant its day began there", async () => {
      const gauge = t.app.metrics.getSingleMetric('lineguard_portfolio_snapshot_timestamp_seconds');
      const { values } = (await gauge?.get()) ?? { values: [] };
      expect(values.map((v) => v.value)).toEqual([Date.UTC(2026, 11, 7, 16) / 1000]);
    });
  });

describe("the instants a snapshot reads on the lender's calendar", () => {
  /** Reads that return nothing and record what they were asked for. */
  function recordingReads() {
    const asked: { read: string; args: unknown[] }[] = [];
    const reads = new Proxy({} as PortfolioReads, {
      get:
        (_target, read: string) =>
        async (...args: unknown[]) => {
          asked.push({ read, args });
          return [];
        },
    });
    return { reads, asked };
  }

  it('reads the book at the end of the day in Beijing, the cohorts at the window’s start, the flows in between', async () => {
    const { reads, asked } = recordingReads();
    await computeSnapshot(reads, '2026-12-08', { calendar: { lenderUtcOffsetMinutes: 480 } });
    const end = Date.UTC(2026, 11, 8, 16);
    const start = Date.UTC(2026, 10, 8, 16);
    expect(asked.filter((a) => a.read === 'loanFacts').map((a) => a.args[0])).toEqual([
      { date: '2026-12-08', at: end },
      // The roll rates' cohorts: the book when the window opened, at the end of 8 November there.
      { date: '2026-11-08', at: start },
    ]);
    expect(asked.find((a) => a.read === 'linesByStatusAt')?.args).toEqual([end]);
    expect(asked.find((a) => a.read === 'applicationOutcomes')?.args).toEqual([start, end]);
    expect(asked.find((a) => a.read === 'complaintVolumeRows')?.args).toEqual([start, end]);
    expect(windowOf('2026-12-08', { lenderUtcOffsetMinutes: 480 })).toEqual({ from: start, to: end });
  });

  it('without an offset the day is the UTC day, as before', async () => {
    const { reads, asked } = recordingReads();
    await computeSnapshot(reads, '2026-12-08');
    expect(asked.find((a) => a.read === 'linesByStatusAt')?.args).toEqual([Date.UTC(2026, 11, 9)]);
    expect(windowOf('2026-12-08', {})).toEqual({ from: Date.UTC(2026, 10, 9), to: Date.UTC(2026, 11, 9) });
  });
});
