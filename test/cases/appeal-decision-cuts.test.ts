import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LightMyRequestResponse } from 'fastify';
import { caseRows } from '../../src/store/cases-rows.js';
import type { TestApp } from '../helpers/app.js';
import {
  APPEAL_CAST,
  applicants,
  CASE_STORES,
  client,
  lineWithToken,
  MAKER_CHECKER_CAST,
  startCaseAppWith,
  type Person,
  UPHELD_TEXTS,
} from './helpers.js';

/**
 * An appeal may be against a decision, and a decision may have cut its line more than once (cuts recorded under one
 * decision id, as the review job wrote them before it applied one cut per decision). Upheld, such an appeal restored
 * only the decision's latest cut (the core read "the cut of this decision" as its latest one): the line stayed below
 * where it was before the decision, and a restore that crossed the four-eyes threshold went through on one person's
 * word as a smaller one. Now every cut of the decision that still stands is undone, newest first, each by its own
 * LIMIT_INCREASE with its own ledger entry and a reason the borrower reads; what other decisions did since stays, and
 * nothing is restored above a limit a later change set.
 *
 * The review job itself now applies one cut per decision: a line-review rule that asks for two cuts of a line (the
 * strictest listed first) had the job apply the first and fail the line's review on the second; the strictest alone
 * is applied, and an appeal against the decision restores it.
 */
/** The line-review rule this suite adds: two cuts asked for in one decision, on lines of this one limit only. */
const TWO_CUTS_LIMIT = 1_230_000;

/** A line action as GET /v1/lines/{id} shows it. */
interface ActionSeen {
  readonly id: string;
  readonly type: string;
  readonly note: string | null;
  readonly prevLimitMinor: number;
  readonly newLimitMinor: number;
}

for (const store of CASE_STORES)
  describe.skipIf(!store.enabled)(
    `an upheld appeal against a decision that cut a limit twice (${store.name})`,
    () => {
      let t: TestApp;
      let analyst: Person;
      let supervisor: Person;
      let service: Person;
      beforeAll(async () => {
        ({ t, analyst, supervisor, service } = await startCaseAppWith(
          {
            ...(await store.env()),
            // The review job's cuts are automated restrictions: the guard's small-book floor would hold them.
            LINEGUARD_GUARD_MIN_PER_WINDOW: '1000',
            // Activating the suite's strategy is not what is tested; a restore past the threshold still needs two.
            LINEGUARD_FOUR_EYES: 'line.limit_increase,line.lift_fraud_restriction',
          },
          { ...MAKER_CHECKER_CAST, service: APPEAL_CAST.service },
        ));
        await activateTwoCutReview(t);
      });
      afterAll(async () => t?.close());

      const applicant = applicants({ name: '孙丽', born: '19920202', phone: '13900002222', after: 300 });
      const openLine = () => lineWithToken(t, service.key, applicant());
      const line = async (lineId: string) => (await client(t).get(`/v1/lines/${lineId}`)).json();
      const act = (lineId: string, type: 'LIMIT_INCREASE' | 'LIMIT_DECREASE' | 'FREEZE_DRAW', extra = {}) =>
        t.app.core.applyLineAction(lineId, {
          type,
          reasons: type === 'LIMIT_INCREASE' ? ['R_GOOD_REPAYMENT'] : ['R_UTILISATION_HIGH'],
          automated: false,
          actor: 'user:risk-officer',
          ...extra,
        });
      const setLimit = async (lineId: string, limitMinor: number) => {
        const now = (await line(lineId)).limitMinor as number;
        if (now !== limitMinor)
          await act(lineId, now < limitMinor ? 'LIMIT_INCREASE' : 'LIMIT_DECREASE', { limitMinor });
      };
      /** Files an appeal against the decision and returns it with its case. */
      const appealDecision = async (token: string, decisionId: string) => {
        const filed = await client(t, token).post('/v1/me/appeals', { decisionId, text: '请重新审核额度。' });
        expect(filed.statusCode, filed.body).toBe(201);
        const appealId = filed.json().id as string;
        const caseId = (await client(t, analyst.key).get('/v1/cases?type=APPEAL&limit=100'))
          .json()
          .items.find((c: { subjectId: string }) => c.subjectId === appealId).id as string;
        return { appealId, caseId };
      };
      const resolve = (caseId: string, body: Record<string, unknown> = {}): Promise<LightMyRequestResponse> =>
        client(t, analyst.key).post(`/v1/cases/${caseId}/resolve`, {
          outcome: 'UPHELD',
          ...UPHELD_TEXTS,
          ...body,
        });
      const ledgerOf = async (subjectId: string, kind: string) =>
        (await caseRows.ledgerOf(t.app.store.db, subjectId))
          .filter((e) => e.kind === kind)
          .map((e) => JSON.parse(e.payload) as Record<string, unknown>);
      /** The line actions after `afterId` (exclusive), oldest first. */
      const actionsSince = async (lineId: string, afterId: string): Promise<ActionSeen[]> => {
        const recent = (await line(lineId)).recentActions as ActionSeen[];
        return recent
          .slice(
            0,
            recent.findIndex((a) => a.id === afterId),
          )
          .reverse();
      };

      /** A fresh line at TWO_CUTS_LIMIT cut twice under one decision (to 980,000, then to 610,000). */
      async function twoCutDecision() {
        const opened = await openLine();
        await setLimit(opened.lineId, TWO_CUTS_LIMIT);
        const extra = { traceId: opened.decisionId };
        const first = await act(opened.lineId, 'LIMIT_DECREASE', { limitMinor: 980_000, ...extra });
        const second = await act(opened.lineId, 'LIMIT_DECREASE', { limitMinor: 610_000, ...extra });
        return { ...opened, cuts: [first.actionId, second.actionId] };
      }

      it('the review job applies the strictest of the cuts its rule asks for, and an uphold restores it', async () => {
        const opened = await openLine();
        await setLimit(opened.lineId, TWO_CUTS_LIMIT);
        const asOf = new Date(t.app.clock.now()).toISOString().slice(0, 10);
        const review = await t.app.core.runReviewJob(asOf);
        expect(review.errors.filter((e) => e.lineId === opened.lineId)).toEqual([]);
        const cuts = review.actions.filter((a) => a.lineId === opened.lineId);
        expect(cuts.map((c) => [c.type, c.outcome, c.prevLimitMinor, c.newLimitMinor])).toEqual([
          ['LIMIT_DECREASE', 'APPLIED', TWO_CUTS_LIMIT, 610_000],
        ]);
        const decisionId = ((await line(opened.lineId)).recentActions as { traceId: string }[])[0]
          ?.traceId as string;
        const { caseId } = await appealDecision(opened.token, decisionId);
        const upheld = await resolve(caseId);
        expect(upheld.statusCode, upheld.body).toBe(200);
        expect(upheld.json().case.outcomeDetail.restored).toEqual({
          fromLimitMinor: 610_000,
          toLimitMinor: TWO_CUTS_LIMIT,
          cuts: [expect.objectContaining({ cutActionId: cuts[0]?.actionId, toLimitMinor: TWO_CUTS_LIMIT })],
        });
        expect((await line(opened.lineId)).limitMinor).toBe(TWO_CUTS_LIMIT);
      });

      it('undoes both cuts newest first, each by its own action and ledger entry, and leaves a later freeze', async () => {
        const d = await twoCutDecision();
        const [first, second] = d.cuts as [string, string];
        // Another decision since: a person freezes the line. The appeal is not against it, and it stays.
        const freeze = await act(d.lineId, 'FREEZE_DRAW');
        const { appealId, caseId } = await appealDecision(d.token, d.decisionId);
        const upheld = await resolve(caseId);
        expect(upheld.statusCode, upheld.body).toBe(200);
        const after = await line(d.lineId);
        expect(after).toMatchObject({ status: 'DRAW_FROZEN', limitMinor: TWO_CUTS_LIMIT });
        const restores = await actionsSince(d.lineId, freeze.actionId);
        expect(restores).toHaveLength(2);
        expect(restores).toMatchObject([
          {
            type: 'LIMIT_INCREASE',
            prevLimitMinor: 610_000,
            newLimitMinor: 980_000,
            reasons: ['R_RISK_RESOLVED'],
          },
          {
            type: 'LIMIT_INCREASE',
            prevLimitMinor: 980_000,
            newLimitMinor: 1_230_000,
            reasons: ['R_RISK_RESOLVED'],
          },
        ]);
        // Each restore names the appeal and the cut it undoes.
        expect(restores.map((r) => r.note)).toEqual([
          expect.stringMatching(new RegExp(`${appealId}.*${second}`)),
          expect.stringMatching(new RegExp(`${appealId}.*${first}`)),
        ]);
        for (const restore of restores) {
          const entries = (await caseRows.ledgerOf(t.app.store.db, d.lineId)).filter(
            (e) => e.kind === 'line.action' && JSON.parse(e.payload).actionId === restore.id,
          );
          expect(entries).toHaveLength(1);
        }
        const detail = upheld.json().case.outcomeDetail;
        expect(detail.restored).toEqual({
          fromLimitMinor: 610_000,
          toLimitMinor: TWO_CUTS_LIMIT,
          cuts: [
            {
              cutActionId: second,
              actionId: restores[0]?.id,
              fromLimitMinor: 610_000,
              toLimitMinor: 980_000,
            },
            {
              cutActionId: first,
              actionId: restores[1]?.id,
              fromLimitMinor: 980_000,
              toLimitMinor: 1_230_000,
            },
          ],
        });
        expect(detail.restrictionInForce).toBe(freeze.actionId);
        const [decided] = await ledgerOf(appealId, 'appeal.decided');
        expect(decided).toMatchObject({ restored: detail.restored, restrictionInForce: freeze.actionId });
        // The borrower reads why and to what: the reason's words, and the limit before the decision.
        const mine = (await client(t, d.token).get(`/v1/me/appeals/${appealId}?lang=en`)).json();
        expect(mine).toMatchObject({ state: 'UPHELD' });
        expect(mine.outcome.en).toContain('12300.00 CNY');
        expect(mine.outcome.zh).toContain('12300.00 CNY');
      });

      it('a restore back past the four-eyes threshold waits for a second person, then undoes both cuts', async () => {
        const threshold = t.app.config.cases.fourEyes.limitIncreaseThresholdMinor;
        const { lineId, token, decisionId } = await openLine();
        await setLimit(lineId, threshold + 1_000_000);
        const first = await act(lineId, 'LIMIT_DECREASE', {
          limitMinor: threshold - 500_000,
          traceId: decisionId,
        });
        const second = await act(lineId, 'LIMIT_DECREASE', {
          limitMinor: threshold - 1_000_000,
          traceId: decisionId,
        });
        const { caseId } = await appealDecision(token, decisionId);
        // Its latest cut alone restored stays under the threshold: the whole restore does not.
        const proposed = await resolve(caseId);
        expect(proposed.statusCode, proposed.body).toBe(202);
        expect(proposed.json().pendingChange).toMatchObject({
          operation: 'line.limit_increase',
          diff: {
            restore: {
              cutActionIds: [second.actionId, first.actionId],
              fromLimitMinor: threshold - 1_000_000,
              toLimitMinor: threshold + 1_000_000,
            },
          },
        });
        expect((await line(lineId)).limitMinor).toBe(threshold - 1_000_000);
        const approved = await client(t, supervisor.key).post(
          `/v1/changes/${proposed.json().pendingChange.id}/approve`,
          {},
        );
        expect(approved.statusCode, approved.body).toBe(200);
        expect((await line(lineId)).limitMinor).toBe(threshold + 1_000_000);
        const restores = await actionsSince(lineId, second.actionId);
        expect(restores.map((r) => r.newLimitMinor)).toEqual([threshold - 500_000, threshold + 1_000_000]);
      });

      it('a limit change between the decision cuts stands: only the cut above it is undone, and that is recorded', async () => {
        const { lineId, token, decisionId } = await openLine();
        await setLimit(lineId, 1_000_000);
        const first = await act(lineId, 'LIMIT_DECREASE', { limitMinor: 800_000, traceId: decisionId });
        // A person's cut, between the decision's two (not appealed): the decision's first cut lies beneath it.
        const between = await act(lineId, 'LIMIT_DECREASE', { limitMinor: 700_000 });
        const second = await act(lineId, 'LIMIT_DECREASE', { limitMinor: 500_000, traceId: decisionId });
        const { appealId, caseId } = await appealDecision(token, decisionId);
        const upheld = await resolve(caseId);
        expect(upheld.statusCode, upheld.body).toBe(200);
        expect((await line(lineId)).limitMinor).toBe(700_000);
        const restores = await actionsSince(lineId, second.actionId);
        expect(restores).toMatchObject([
          { type: 'LIMIT_INCREASE', prevLimitMinor: 500_000, newLimitMinor: 700_000 },
        ]);
        const detail = upheld.json().case.outcomeDetail;
        expect(detail).toMatchObject({
          restored: {
            fromLimitMinor: 500_000,
            toLimitMinor: 700_000,
            cuts: [{ cutActionId: second.actionId, actionId: restores[0]?.id }],
          },
          limitChangeInForce: between.actionId,
          cutsBeneath: [first.actionId],
        });
        const [decided] = await ledgerOf(appealId, 'appeal.decided');
        expect(decided).toMatchObject({
          limitChangeInForce: between.actionId,
          cutsBeneath: [first.actionId],
        });
        const mine = (await client(t, token).get(`/v1/me/appeals/${appealId}?lang=en`)).json();
        expect(mine.outcome.en).toContain('7000.00 CNY');
      });

      it('a later cut by another decision stands over both: nothing is restored above it', async () => {
        const { lineId, token, decisionId } = await openLine();
        await setLimit(lineId, 1_000_000);
        await act(lineId, 'LIMIT_DECREASE', { limitMinor: 800_000, traceId: decisionId });
        await act(lineId, 'LIMIT_DECREASE', { limitMinor: 600_000, traceId: decisionId });
        const { caseId } = await appealDecision(token, decisionId);
        const later = await act(lineId, 'LIMIT_DECREASE', { limitMinor: 500_000 });
        const upheld = await resolve(caseId);
        expect(upheld.statusCode, upheld.body).toBe(200);
        expect(upheld.json().case.outcomeDetail).toMatchObject({ limitChangeInForce: later.actionId });
        expect(upheld.json().case.outcomeDetail.restored).toBeUndefined();
        expect((await line(lineId)).limitMinor).toBe(500_000);
      });

      it("a reviewer's limitMinor stops the undoing part-way, and is bounded by the limit before the first cut", async () => {
        const { lineId, token, decisionId } = await openLine();
        await setLimit(lineId, 1_000_000);
        const first = await act(lineId, 'LIMIT_DECREASE', { limitMinor: 800_000, traceId: decisionId });
        const second = await act(lineId, 'LIMIT_DECREASE', { limitMinor: 600_000, traceId: decisionId });
        const { caseId } = await appealDecision(token, decisionId);
        const above = await resolve(caseId, { limitMinor: 1_000_001 });
        expect(above.statusCode, above.body).toBe(400);
        expect(above.json().error).toMatchObject({
          code: 'LG_VALIDATION',
          details: { minExclusive: 600_000, max: 1_000_000 },
        });
        const partly = await resolve(caseId, { limitMinor: 900_000 });
        expect(partly.statusCode, partly.body).toBe(200);
        expect((await line(lineId)).limitMinor).toBe(900_000);
        const restores = await actionsSince(lineId, second.actionId);
        expect(partly.json().case.outcomeDetail.restored).toEqual({
          fromLimitMinor: 600_000,
          toLimitMinor: 900_000,
          cuts: [
            {
              cutActionId: second.actionId,
              actionId: restores[0]?.id,
              fromLimitMinor: 600_000,
              toLimitMinor: 800_000,
            },
            {
              cutActionId: first.actionId,
              actionId: restores[1]?.id,
              fromLimitMinor: 800_000,
              toLimitMinor: 900_000,
            },
          ],
        });
      });
    },
  );

/**
 * A line-review version whose first rule asks for two cuts of a line of TWO_CUTS_LIMIT in one decision, the strictest
 * first (the order that failed the line's review), saved and activated through the API.
 */
async function activateTwoCutReview(t: TestApp): Promise<void> {
  const versions = (await client(t).get('/v1/strategies/line-review/versions')).json().versions as {
    version: number;
  }[];
  const latest = Math.max(...versions.map((v) => v.version));
  const document = (await client(t).get(`/v1/strategies/line-review/versions/${latest}`)).json().document;
  const [behaviour] = document.nodes;
  behaviour.rules.unshift({
    id: 'TWO_CUTS',
    when: `limitMinor == ${TWO_CUTS_LIMIT} and lineStatus == 'ACTIVE'`,
    reasons: ['R_INQUIRY_VELOCITY'],
    actions: [
      { type: 'LIMIT_DECREASE', limit: 'floor(limitMinor * 0.5 / 10000) * 10000' },
      { type: 'LIMIT_DECREASE', limit: 'floor(limitMinor * 0.8 / 10000) * 10000' },
    ],
  });
  const saved = await client(t).post('/v1/strategies', document);
  expect(saved.statusCode, saved.body).toBe(201);
  const activated = await client(t).post(
    `/v1/strategies/line-review/versions/${saved.json().version}/activate`,
  );
  expect(activated.statusCode, activated.body).toBe(200);
}
