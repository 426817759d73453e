import { Command } from 'commander';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MS_PER_DAY, isoDate } from '../../src/domain/clock.js';
import { registerJobsCommand } from '../../src/cli/commands/jobs.js';
import { openStore, type Store } from '../../src/store/db.js';
import { STORE_FACTORIES } from '../helpers/stores.js';
import { ADULT, makeCore, openLine, type Harness } from './harness.js';

/**
 * `jobs review --as-of` a day after the lender's today ran the review for that day: lines re-decided on a day not yet
 * begun, the actions recorded as `job:review:<that day>`, so when the day came its real review skipped what the early
 * run had taken (one action type per line and date), and the daily job had not aged the book for it. The daily job
 * refuses such a day (422 LG_AS_OF_IN_FUTURE); the review job now refuses it the same way, before it lifts, decides or
 * writes anything.
 */
const LIMIT = 1_000_000;
const RAISED = 1_200_000;

for (const factory of STORE_FACTORIES)
  describe.skipIf(!factory.enabled)(
    `the review job for a day after the lender's today (${factory.name})`,
    () => {
      let store: Store;
      let h: Harness;
      let lineId: string;
      beforeEach(async () => {
        store = await factory.open('review-as-of');
        h = makeCore(store);
        lineId = await openLine(h, LIMIT, ADULT);
        // A review that would act: every line of LIMIT is raised.
        h.engine.script['line-review'] = (ctx) =>
          ctx.limitMinor === LIMIT
            ? {
                outcome: 'APPROVE',
                actions: [{ type: 'LIMIT_INCREASE', limitMinor: RAISED, reasons: ['R_GOOD_REPAYMENT'] }],
              }
            : { outcome: 'APPROVE' };
      });
      afterEach(async () => store.close());

      /** What a review run writes: its decisions, its line actions, the ledger. */
      const written = async () => ({
        decisions: await store.db.selectFrom('decisions').select('id').where('kind', '=', 'review').execute(),
        actions: await store.db
          .selectFrom('line_actions')
          .select('id')
          .where('actor', 'like', 'job:review:%')
          .execute(),
        ledger: (await store.db.selectFrom('ledger_entries').select('seq').execute()).length,
      });

      it('is refused (422 LG_AS_OF_IN_FUTURE) and reviews, decides and writes nothing; today runs', async () => {
        const today = isoDate(h.clock.now());
        const tomorrow = isoDate(h.clock.now() + MS_PER_DAY);
        const before = await written();
        await expect(h.core.runReviewJob(tomorrow)).rejects.toMatchObject({
          code: 'LG_AS_OF_IN_FUTURE',
          status: 422,
          details: { asOf: tomorrow, today },
        });
        await expect(h.core.runReviewJob('9999-12-31')).rejects.toMatchObject({ code: 'LG_AS_OF_IN_FUTURE' });
        expect(h.engine.calls.filter((c) => c.strategyId === 'line-review')).toEqual([]);
        expect(await written()).toEqual(before);
        expect((await h.core.getLine(lineId)).limitMinor).toBe(LIMIT);
        // The day itself, and an earlier one, still run.
        const run = await h.core.runReviewJob(today);
        expect(run.errors).toEqual([]);
        expect(run.actions).toMatchObject([{ lineId, type: 'LIMIT_INCREASE', newLimitMinor: RAISED }]);
        expect((await h.core.runReviewJob(isoDate(h.clock.now() - MS_PER_DAY))).errors).toEqual([]);
      });

      it('`lineguard jobs review --as-of` tomorrow exits 2 naming LG_AS_OF_IN_FUTURE; without a date it runs today', async () => {
        const err: string[] = [];
        const out: string[] = [];
        vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => (err.push(String(chunk)), true));
        vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => (out.push(String(chunk)), true));
        try {
          const cli = () => {
            const program = new Command('lineguard').exitOverride();
            registerJobsCommand(program, async () => ({ core: h.core, close: async () => undefined }));
            return program;
          };
          const tomorrow = isoDate(h.clock.now() + MS_PER_DAY);
          await cli().parseAsync(['node', 'lineguard', 'jobs', 'review', '--as-of', tomorrow, '--json']);
          expect(process.exitCode).toBe(2);
          expect(err.join('')).toContain('error LG_AS_OF_IN_FUTURE');
          expect(out).toEqual([]);
          expect((await h.core.getLine(lineId)).limitMinor).toBe(LIMIT);
          await cli().parseAsync(['node', 'lineguard', 'jobs', 'review', '--json']);
          expect(process.exitCode).toBe(0);
          expect(JSON.parse(out.join(''))).toMatchObject({ asOf: isoDate(h.clock.now()), reviewed: 1 });
          expect((await h.core.getLine(lineId)).limitMinor).toBe(RAISED);
        } finally {
          vi.restoreAllMocks();
          process.exitCode = undefined;
        }
      });
    },
  );

describe("the review job's today is the lender's", () => {
  it('at 20:00 UTC in Shanghai (+08:00) the next UTC day has begun and runs; the one after is refused', async () => {
    const store = await openStore({ sqlitePath: ':memory:' });
    try {
      const h = makeCore(store, { lenderUtcOffsetMinutes: 480 });
      h.clock.set(Date.UTC(2025, 4, 12, 20));
      expect((await h.core.runReviewJob('2025-05-13')).asOf).toBe('2025-05-13');
      await expect(h.core.runReviewJob('2025-05-14')).rejects.toMatchObject({
        code: 'LG_AS_OF_IN_FUTURE',
        details: { asOf: '2025-05-14', today: '2025-05-13' },
      });
    } finally {
      await store.close();
    }
  });
});
