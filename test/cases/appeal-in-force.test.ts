import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LightMyRequestResponse } from 'fastify';
import type { ManualClock } from '../../src/domain/clock.js';
import type { TestApp } from '../helpers/app.js';
import {
  APPEAL_CAST,
  applicants,
  beforeNextKeyedTransaction,
  CASE_STORES,
  client,
  frozenLineWithToken,
  lineWithToken,
  stallFilingAfterItsCheck,
  startCaseAppWith,
  type Person,
  UPHELD_TEXTS,
} from './helpers.js';

/**
 * An appeal is against something still done to the borrower. An action already reversed — the freeze lifted by a
 * person, the suspension lifted by the review job once the risk cleared, the restriction lifted by an earlier upheld
 * appeal, the cut limit raised back — used to be accepted: an APPEAL case with a 7-day SLA went into a reviewer's
 * queue, and upholding it changed nothing. Now the filing is refused with 409 LG_APPEAL_NOT_IN_FORCE, read in the
 * filing's transaction under the line's lock, and nothing is written. What an earlier appeal covered (a restriction
 * an upheld appeal lifted) is answered by that appeal instead (appeal-once.test.ts).
 */
const DAY_MS = 86_400_000;

for (const store of CASE_STORES)
  describe.skipIf(!store.enabled)(`an appeal against an action no longer in force (${store.name})`, () => {
    let t: TestApp;
    let clock: ManualClock;
    let analyst: Person;
    let service: Person;
    beforeAll(
      async () => ({ t, clock, analyst, service } = await startCaseAppWith(await store.env(), APPEAL_CAST)),
    );
    afterAll(async () => t?.close());

    const applicant = applicants({ name: '钱伟', born: '19910909', phone: '13900009999', after: 900 });
    const frozen = () => frozenLineWithToken(t, service.key, applicant());
    const act = (
      lineId: string,
      type: 'UNFREEZE' | 'REINSTATE' | 'SUSPEND' | 'FREEZE_DRAW',
      actor = 'test',
    ) =>
      t.app.core.applyLineAction(lineId, {
        type,
        reasons: type === 'UNFREEZE' || type === 'REINSTATE' ? ['R_RISK_RESOLVED'] : ['R_UTILISATION_HIGH'],
        automated: actor.startsWith('job:'),
        actor,
      });
    const appealOf = (token: string, target: { actionId: string } | { decisionId: string }) =>
      client(t, token).post('/v1/me/appeals', { ...target, text: '请重新审核。' });
    const appealCases = async (lineId: string) =>
      (await client(t, analyst.key).get('/v1/cases?type=APPEAL&limit=100'))
        .json()
        .items.filter((c: { lineId: string }) => c.lineId === lineId);
    const myAppeals = async (token: string) => (await client(t, token).get('/v1/me/appeals')).json().items;
    const expectNotInForce = async (
      res: LightMyRequestResponse,
      token: string,
      lineId: string,
      details: Record<string, unknown>,
    ) => {
      expect(res.statusCode, res.body).toBe(409);
      expect(res.json().error).toMatchObject({ code: 'LG_APPEAL_NOT_IN_FORCE', details });
      expect(await myAppeals(token)).toEqual([]);
      expect(await appealCases(lineId)).toEqual([]);
    };
    /** A borrower token (a new one for a borrower whose earlier token may have expired). */
    const tokenOf = async (borrowerId: string) =>
      (await client(t, service.key).post(`/v1/borrowers/${borrowerId}/tokens`, { ttlSeconds: 900 })).json()
        .token as string;
    /** A new borrower's line, the decision that granted it, and a borrower token. */
    const openLine = () => lineWithToken(t, service.key, applicant());
    const cut = (lineId: string, limitMinor: number, traceId?: string) =>
      t.app.core.applyLineAction(lineId, {
        type: 'LIMIT_DECREASE',
        reasons: ['R_UTILISATION_HIGH'],
        automated: false,
        actor: 'user:risk-officer',
        limitMinor,
        ...(traceId === undefined ? {} : { traceId }),
      });
    const raise = (lineId: string, limitMinor: number) =>
      t.app.core.applyLineAction(lineId, {
        type: 'LIMIT_INCREASE',
        reasons: ['R_GOOD_REPAYMENT'],
        automated: false,
        actor: 'test',
        limitMinor,
      });

    it('refuses an appeal against a freeze a person already lifted: 409, no appeal, no case', async () => {
      const { lineId, actionId, token } = await frozen();
      await act(lineId, 'UNFREEZE');
      const res = await appealOf(token, { actionId });
      await expectNotInForce(res, token, lineId, { target: { kind: 'line_action', id: actionId } });
      expect((await client(t).get(`/v1/lines/${lineId}`)).json().status).toBe('ACTIVE');
    });

    it('refuses an appeal against a suspension the review job reinstated', async () => {
      const { lineId, token } = await frozen();
      await act(lineId, 'UNFREEZE');
      const suspended = await act(lineId, 'SUSPEND');
      await act(lineId, 'REINSTATE', 'job:review:2026-11-02');
      await expectNotInForce(await appealOf(token, { actionId: suspended.actionId }), token, lineId, {
        restrictionInForce: null,
      });
    });

    it('refuses an appeal against a freeze lifted before a suspension was taken, naming the restriction in force', async () => {
      const { lineId, actionId, token } = await frozen();
      await act(lineId, 'UNFREEZE');
      const suspended = await act(lineId, 'SUSPEND');
      await expectNotInForce(await appealOf(token, { actionId }), token, lineId, {
        restrictionInForce: suspended.actionId,
      });
      // The suspension itself can be appealed.
      const filed = await appealOf(token, { actionId: suspended.actionId });
      expect(filed.statusCode, filed.body).toBe(201);
    });

    it('accepts an appeal against a freeze a suspension was taken over: the freeze still stands beneath it', async () => {
      const { lineId, actionId, token } = await frozen();
      const suspended = await act(lineId, 'SUSPEND');
      const filed = await appealOf(token, { actionId });
      expect(filed.statusCode, filed.body).toBe(201);
      // Both stand, and each can be appealed on its own.
      const other = await appealOf(token, { actionId: suspended.actionId });
      expect(other.statusCode, other.body).toBe(201);
      expect(await appealCases(lineId)).toHaveLength(2);
    });

    it('refuses an appeal against a limit cut already raised back; accepts one against the cut in force', async () => {
      const { lineId, token, limitMinor } = await openLine();
      const undone = await cut(lineId, limitMinor - 100_000);
      const back = await raise(lineId, limitMinor);
      await expectNotInForce(await appealOf(token, { actionId: undone.actionId }), token, lineId, {
        limitChangeInForce: back.actionId,
      });
      const standing = await cut(lineId, limitMinor - 200_000);
      const filed = await appealOf(token, { actionId: standing.actionId });
      expect(filed.statusCode, filed.body).toBe(201);
    });

    it('a decision appealed as a whole is in force while any of its actions is: a cut standing, or the grant', async () => {
      const { lineId, token, decisionId, limitMinor } = await openLine();
      await cut(lineId, limitMinor - 100_000, decisionId);
      const freeze = await t.app.core.applyLineAction(lineId, {
        type: 'FREEZE_DRAW',
        reasons: ['R_UTILISATION_HIGH'],
        automated: false,
        actor: 'user:risk-officer',
        traceId: decisionId,
      });
      expect(freeze.outcome).toBe('APPLIED');
      await act(lineId, 'UNFREEZE');
      await raise(lineId, limitMinor);
      // The freeze is lifted and the cut raised back, but the decision also granted the line: that stands.
      const filed = await appealOf(token, { decisionId });
      expect(filed.statusCode, filed.body).toBe(201);
    });

    /**
     * The actions a decision took were read one page of 20 at most: a decision whose 21st cut is the one that stands
     * was judged on its first 20, all superseded, and refused as no longer in force.
     */
    it('judges a decision on all its actions: the cut that stands is its 21st', async () => {
      const { lineId, token, limitMinor } = await openLine();
      const drawn = await client(t).post(`/v1/lines/${lineId}/draws`, {
        amountMinor: 100_000,
        currency: 'CNY',
        termMonths: 6,
        method: 'EQUAL_INSTALLMENT',
      });
      expect(drawn.statusCode, drawn.body).toBe(201);
      const decisionId = drawn.json().decisionId as string;
      for (let i = 1; i <= 21; i += 1) await cut(lineId, limitMinor - i * 10_000, decisionId);
      const filed = await appealOf(token, { decisionId });
      expect(filed.statusCode, filed.body).toBe(201);
      expect(await appealCases(lineId)).toHaveLength(1);
    });

    it('still accepts an appeal against a decision that took no restriction or cut (the grant)', async () => {
      const { token, decisionId } = await openLine();
      const filed = await appealOf(token, { decisionId });
      expect(filed.statusCode, filed.body).toBe(201);
    });

    it('sees a reversal that commits just before the filing transaction', async () => {
      const { lineId, actionId, token } = await frozen();
      // The filing's checks (ownership, window) have run; the unfreeze commits before its transaction starts.
      const hook = beforeNextKeyedTransaction(t, () => act(lineId, 'UNFREEZE'));
      try {
        await expectNotInForce(await appealOf(token, { actionId }), token, lineId, {
          restrictionInForce: null,
        });
      } finally {
        hook.restore();
      }
      expect(hook.ran()).toBe(true);
    });

    it("holds the line's lock from the check to the commit: a reversal sent meanwhile waits for the filing", async () => {
      const { lineId, actionId, token } = await frozen();
      const { stall, restore } = stallFilingAfterItsCheck();
      let reversedWhileStalled = false;
      let resumed = false;
      try {
        const filing = appealOf(token, { actionId });
        await stall.paused;
        const reversal = act(lineId, 'UNFREEZE').then(() => {
          reversedWhileStalled = !resumed;
        });
        await new Promise((resolve) => setTimeout(resolve, 300));
        resumed = true;
        stall.resume();
        const [filed] = await Promise.all([filing, reversal]);
        expect(filed.statusCode, filed.body).toBe(201);
      } finally {
        restore();
      }
      // Filed while the freeze was in force; the unfreeze waited for the filing's commit (and then lifted it).
      expect(reversedWhileStalled).toBe(false);
      expect((await client(t).get(`/v1/lines/${lineId}`)).json().status).toBe('ACTIVE');
    });

    /**
     * Filed while in force, reversed before the review: the appeal stays open (it was filed against what was done
     * then), and the reviewer's uphold has nothing to lift; the case, the ledger entry and the line say so.
     */
    it('an appeal filed in force and reversed before the review is upheld without acting on the line', async () => {
      const { lineId, actionId, token } = await frozen();
      const filed = await appealOf(token, { actionId });
      expect(filed.statusCode, filed.body).toBe(201);
      const lifted = await act(lineId, 'UNFREEZE');
      const [appealCase] = await appealCases(lineId);
      const upheld = await client(t, analyst.key).post(`/v1/cases/${appealCase.id}/resolve`, {
        outcome: 'UPHELD',
        ...UPHELD_TEXTS,
      });
      expect(upheld.statusCode, upheld.body).toBe(200);
      expect(upheld.json().case.state).toBe('RESOLVED');
      const line = (await client(t).get(`/v1/lines/${lineId}`)).json();
      expect(line.status).toBe('ACTIVE');
      expect(line.recentActions[0].id).toBe(lifted.actionId);
    });

    /** Last: it moves the clock 65 days on (later tests' actions and appeals are dated then). */
    it('refuses an appeal against a review-job suspension (the action or its decision) the job lifted once repaid', async () => {
      const { lineId, borrowerId } = await openLine();
      const loan = (
        await client(t).post(`/v1/lines/${lineId}/draws`, {
          amountMinor: 300_000,
          currency: 'CNY',
          termMonths: 6,
          method: 'EQUAL_INSTALLMENT',
        })
      ).json().loan;
      const late = clock.now() + 65 * DAY_MS;
      clock.set(late);
      const asOf = new Date(late).toISOString().slice(0, 10);
      await t.app.core.runDailyJob(asOf);
      const review = await t.app.core.runReviewJob(asOf);
      const suspension = review.actions.find((a) => a.lineId === lineId);
      expect(suspension).toMatchObject({ type: 'SUSPEND', outcome: 'APPLIED' });
      const line = (await client(t).get(`/v1/lines/${lineId}`)).json();
      const decisionId = line.recentActions[0].traceId as string;
      expect(line.recentActions[0].id).toBe(suspension?.actionId);
      const schedule = (await client(t).get(`/v1/loans/${loan.id}`)).json().schedule;
      const arrears = schedule
        .filter((i: { dueDate: string }) => i.dueDate < asOf)
        .reduce((sum: number, i: { outstandingMinor: number }) => sum + i.outstandingMinor, 0);
      const paid = await client(t).post(`/v1/loans/${loan.id}/repayments`, {
        amountMinor: arrears,
        currency: 'CNY',
      });
      expect(paid.statusCode, paid.body).toBe(201);
      await t.app.core.runDailyJob(asOf);
      const lifted = await t.app.core.runReviewJob(asOf);
      expect(lifted.restrictions?.reinstated.map((a) => a.lineId)).toContain(lineId);
      const token = await tokenOf(borrowerId);
      await expectNotInForce(
        await appealOf(token, { actionId: suspension?.actionId as string }),
        token,
        lineId,
        { restrictionInForce: null },
      );
      await expectNotInForce(await appealOf(token, { decisionId }), token, lineId, {
        target: { kind: 'decision', id: decisionId },
        restrictionInForce: null,
      });
    });
  });
