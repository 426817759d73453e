import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Store } from '../../src/store/db.js';
import { liftClearedDelinquency } from '../../src/core/index.js';
import { STORE_FACTORIES } from '../helpers/stores.js';
import { makeCore, openLine, type Harness } from './harness.js';

/**
 * A suspension can be applied on a line whose draws are already frozen (SUSPEND is legal from DRAW_FROZEN), so two
 * restrictions stand at once: the freeze beneath, the suspension over it. Lifting one must never lift the other. It
 * did: the review job's REINSTATE of a delinquency suspension took the line to ACTIVE, and a fraud freeze beneath it
 * was gone without anyone deciding it. Now REINSTATE lifts the suspension only (back to DRAW_FROZEN, the freeze again
 * the restriction in force, with its own reasons) and UNFREEZE lifts the freeze only (on a suspended line it leaves
 * the suspension standing).
 */
const DAY = 86_400_000;
const dateOf = (ms: number) => new Date(ms).toISOString().slice(0, 10);

for (const factory of STORE_FACTORIES)
  describe.skipIf(!factory.enabled)(`restrictions that stack (${factory.name})`, () => {
    let store: Store;
    let h: Harness;
    beforeEach(async () => {
      store = await factory.open('stacked');
      h = makeCore(store);
      // The line-review strategy as bundled: 30 days past due suspends an ACTIVE or DRAW_FROZEN line.
      h.engine.script['line-review'] = (ctx) =>
        Number(ctx.daysPastDue ?? 0) >= 30 && ['ACTIVE', 'DRAW_FROZEN'].includes(String(ctx.lineStatus))
          ? { outcome: 'DECLINE', reasons: ['R_DAYS_PAST_DUE'], actions: [{ type: 'SUSPEND', reasons: [] }] }
          : { outcome: 'APPROVE' };
    });
    afterEach(async () => store.close());

    const restriction = (lineId: string, status: string) =>
      h.deps.coreStore.restrictionOf({ id: lineId, status });

    /** A line with a 6-month loan, 65 days on: two instalments unpaid and the line aged past 30 days. */
    async function lineInArrears(): Promise<{ lineId: string; loanId: string; asOf: string }> {
      const lineId = await openLine(h);
      const drawn = await h.core.requestDraw(lineId, {
        amountMinor: 300_000,
        currency: 'CNY',
        termMonths: 6,
        method: 'EQUAL_INSTALLMENT',
      });
      const loanId = drawn.loan?.id ?? '';
      const late = h.clock.now() + 65 * DAY;
      h.clock.set(late);
      await h.core.runDailyJob(dateOf(late));
      return { lineId, loanId, asOf: dateOf(late) };
    }

    async function repayArrears(loanId: string, asOf: string): Promise<void> {
      const loan = await h.core.getLoan(loanId);
      const arrears = loan.schedule
        .filter((i) => i.dueDate < asOf)
        .reduce((sum, i) => sum + i.outstandingMinor, 0);
      await h.core.repay(loanId, { amountMinor: arrears, currency: 'CNY' });
      await h.core.runDailyJob(asOf);
    }

    it('the review job lifting a delinquency suspension leaves a scam freeze beneath it standing', async () => {
      const { lineId, loanId, asOf } = await lineInArrears();
      const freeze = await h.core.applyLineAction(lineId, {
        type: 'FREEZE_DRAW',
        reasons: ['R_SCAM_TRANSFER_PATTERN', 'R_CALL_IN_PROGRESS'],
        automated: true,
        actor: 'monitor',
      });
      // A collections officer suspends the frozen line for its arrears (the review job's own pass skips a line frozen
      // for fraud, but a person, or a review that read the line just before the monitor froze it, does not).
      const suspension = await h.core.applyLineAction(lineId, {
        type: 'SUSPEND',
        reasons: ['R_DAYS_PAST_DUE'],
        automated: false,
        actor: 'user:collections',
      });
      expect(suspension).toMatchObject({ prevStatus: 'DRAW_FROZEN', newStatus: 'SUSPENDED' });
      await repayArrears(loanId, asOf);

      const review = await h.core.runReviewJob(asOf);
      expect(review.restrictions?.errors).toEqual([]);
      expect(review.restrictions?.reinstated).toEqual([
        expect.objectContaining({ type: 'REINSTATE', prevStatus: 'SUSPENDED', newStatus: 'DRAW_FROZEN' }),
      ]);
      expect((await h.core.getLine(lineId)).status).toBe('DRAW_FROZEN');
      expect((await restriction(lineId, 'DRAW_FROZEN'))?.id).toBe(freeze.actionId);
      // The borrower is told why the line is still frozen: the freeze's own reasons, and it can be appealed.
      const told = await h.core.explainLine(lineId, 'en');
      expect(told.status).toBe('DRAW_FROZEN');
      expect(told.reasons.map((r) => r.code)).toEqual(['R_SCAM_TRANSFER_PATTERN', 'R_CALL_IN_PROGRESS']);
      expect(told.specifics.action).toMatchObject({ id: freeze.actionId, type: 'FREEZE_DRAW' });
      // The scam freeze is not the job's to lift: the next runs leave it.
      expect((await h.core.runReviewJob(asOf)).restrictions?.reinstated).toEqual([]);
      expect((await h.core.getLine(lineId)).status).toBe('DRAW_FROZEN');
    });

    it("the review job's own suspension over a person's freeze: lifted once repaid, back to the freeze", async () => {
      const { lineId, loanId, asOf } = await lineInArrears();
      const freeze = await h.core.applyLineAction(lineId, {
        type: 'FREEZE_DRAW',
        reasons: ['R_UTILISATION_HIGH'],
        automated: false,
        actor: 'user:risk-officer',
      });
      const review = await h.core.runReviewJob(asOf);
      expect(review.actions.find((a) => a.lineId === lineId)).toMatchObject({
        type: 'SUSPEND',
        prevStatus: 'DRAW_FROZEN',
        newStatus: 'SUSPENDED',
      });
      await repayArrears(loanId, asOf);
      const lifted = await h.core.runReviewJob(asOf);
      expect(lifted.restrictions?.reinstated.map((a) => [a.type, a.newStatus])).toEqual([
        ['REINSTATE', 'DRAW_FROZEN'],
      ]);
      expect((await h.core.getLine(lineId)).status).toBe('DRAW_FROZEN');
      expect((await restriction(lineId, 'DRAW_FROZEN'))?.id).toBe(freeze.actionId);
      expect((await h.core.explainLine(lineId, 'en')).reasons.map((r) => r.code)).toEqual([
        'R_UTILISATION_HIGH',
      ]);
    });

    it("a person's REINSTATE lifts the suspension only; UNFREEZE then lifts the freeze: one action per restriction", async () => {
      const lineId = await openLine(h);
      const freeze = await h.core.applyLineAction(lineId, {
        type: 'FREEZE_DRAW',
        reasons: ['R_ACCOUNT_TAKEOVER'],
        automated: true,
        actor: 'monitor',
      });
      await h.core.applyLineAction(lineId, {
        type: 'SUSPEND',
        reasons: ['R_UTILISATION_HIGH'],
        automated: false,
        actor: 'user:a',
      });
      const reinstated = await h.core.applyLineAction(lineId, {
        type: 'REINSTATE',
        reasons: ['R_RISK_RESOLVED'],
        automated: false,
        actor: 'user:a',
      });
      expect(reinstated).toMatchObject({ prevStatus: 'SUSPENDED', newStatus: 'DRAW_FROZEN' });
      expect((await restriction(lineId, 'DRAW_FROZEN'))?.id).toBe(freeze.actionId);
      const unfrozen = await h.core.applyLineAction(lineId, {
        type: 'UNFREEZE',
        reasons: ['R_RISK_RESOLVED'],
        automated: false,
        actor: 'user:a',
      });
      expect(unfrozen).toMatchObject({ prevStatus: 'DRAW_FROZEN', newStatus: 'ACTIVE' });
    });

    it('UNFREEZE on a suspended line lifts the freeze beneath and leaves the suspension in force', async () => {
      const lineId = await openLine(h);
      await h.core.applyLineAction(lineId, {
        type: 'FREEZE_DRAW',
        reasons: ['R_UTILISATION_HIGH'],
        automated: false,
        actor: 'user:a',
      });
      const suspension = await h.core.applyLineAction(lineId, {
        type: 'SUSPEND',
        reasons: ['R_DAYS_PAST_DUE'],
        automated: true,
        actor: 'job:review:2025-03-01',
      });
      const unfrozen = await h.core.applyLineAction(lineId, {
        type: 'UNFREEZE',
        reasons: ['R_RISK_RESOLVED'],
        automated: false,
        actor: 'user:a',
      });
      expect(unfrozen).toMatchObject({ type: 'UNFREEZE', prevStatus: 'SUSPENDED', newStatus: 'SUSPENDED' });
      expect((await restriction(lineId, 'SUSPENDED'))?.id).toBe(suspension.actionId);
      const told = await h.core.explainLine(lineId, 'en');
      expect(told.reasons.map((r) => r.code)).toEqual(['R_DAYS_PAST_DUE']);
      expect(told.specifics.action?.id).toBe(suspension.actionId);
      // Nothing is left beneath: a second UNFREEZE is refused, and lifting the suspension ends at ACTIVE.
      await expect(
        h.core.applyLineAction(lineId, {
          type: 'UNFREEZE',
          reasons: ['R_RISK_RESOLVED'],
          automated: false,
          actor: 'user:a',
        }),
      ).rejects.toMatchObject({ code: 'LG_ILLEGAL_TRANSITION' });
      const lifted = await liftClearedDelinquency(h.deps, '2025-03-01');
      expect(lifted.reinstated.map((a) => [a.type, a.newStatus])).toEqual([['REINSTATE', 'ACTIVE']]);
    });

    it('UNFREEZE on a suspension with no freeze beneath is refused (LG_ILLEGAL_TRANSITION)', async () => {
      const lineId = await openLine(h);
      await h.core.applyLineAction(lineId, {
        type: 'SUSPEND',
        reasons: ['R_UTILISATION_HIGH'],
        automated: false,
        actor: 'user:a',
      });
      await expect(
        h.core.applyLineAction(lineId, {
          type: 'UNFREEZE',
          reasons: ['R_RISK_RESOLVED'],
          automated: false,
          actor: 'user:a',
        }),
      ).rejects.toMatchObject({ code: 'LG_ILLEGAL_TRANSITION' });
      expect((await h.core.getLine(lineId)).status).toBe('SUSPENDED');
    });

    it('the other way round: a delinquency freeze beneath a fraud suspension is lifted by the job once repaid, the suspension stays', async () => {
      const lineId = await openLine(h);
      const dpdFreeze = await h.core.applyLineAction(lineId, {
        type: 'FREEZE_DRAW',
        reasons: ['R_DAYS_PAST_DUE'],
        automated: true,
        actor: 'job:review:2025-03-01',
      });
      const fraud = await h.core.applyLineAction(lineId, {
        type: 'SUSPEND',
        reasons: ['R_ACCOUNT_TAKEOVER'],
        automated: true,
        actor: 'monitor',
      });
      const lifted = await liftClearedDelinquency(h.deps, '2025-03-01');
      expect(lifted.errors).toEqual([]);
      expect(lifted.reinstated.map((a) => [a.type, a.prevStatus, a.newStatus])).toEqual([
        ['UNFREEZE', 'SUSPENDED', 'SUSPENDED'],
      ]);
      expect((await restriction(lineId, 'SUSPENDED'))?.id).toBe(fraud.actionId);
      // The fraud suspension, lifted later by a person, leaves nothing beneath: the line is ACTIVE.
      const reinstated = await h.core.applyLineAction(lineId, {
        type: 'REINSTATE',
        reasons: ['R_RISK_RESOLVED'],
        automated: false,
        actor: 'user:a',
      });
      expect(reinstated.newStatus).toBe('ACTIVE');
      expect(dpdFreeze.newStatus).toBe('DRAW_FROZEN');
    });
  });
