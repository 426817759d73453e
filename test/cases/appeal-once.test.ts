import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LightMyRequestResponse } from 'fastify';
import type { TestApp } from '../helpers/app.js';
import { caseRows } from '../../src/store/cases-rows.js';
import { actionsOfDecision } from '../../src/cases/decision-actions.js';
import {
  APPEAL_CAST,
  applicants,
  beforeNextKeyedTransaction,
  CASE_STORES,
  client,
  lineWithToken,
  startCaseAppWith,
  twoFilingsAtOnce,
  type Person,
} from './helpers.js';

/**
 * An action is appealed once. A borrower whose appeal against a freeze was rejected could file again against the same
 * freeze (or against the decision that took it), and each filing put a fresh APPEAL case with a new 7-day SLA in a
 * reviewer's queue, without end. Now a further appeal against what a decided appeal covered is 409
 * LG_APPEAL_ALREADY_DECIDED naming the earlier appeal and its decision, and pointing to the complaint route; an appeal
 * against a new action on the same line is accepted. Read in the filing's transaction, under the borrower's lock that
 * serialises the borrower's filings (and the line's, where the in-force check takes it).
 */
const REJECT = {
  outcome: 'REJECTED',
  textZh: '经复核，维持原决定。',
  textEn: 'On review, the action stands.',
};
const UPHOLD = { outcome: 'UPHELD', textZh: '申诉成立。', textEn: 'Your appeal is upheld.' };

for (const store of CASE_STORES)
  describe.skipIf(!store.enabled)(`an action is appealed once (${store.name})`, () => {
    let t: TestApp;
    let analyst: Person;
    let service: Person;
    beforeAll(async () => ({ t, analyst, service } = await startCaseAppWith(await store.env(), APPEAL_CAST)));
    afterAll(async () => t?.close());

    const applicant = applicants({ name: '孙丽', born: '19920303', phone: '13900003333', after: 300 });
    /** A new borrower's line, the decision that granted it, and a borrower token. */
    const openLine = () => lineWithToken(t, service.key, applicant());
    /** A person's restriction on the line; `traceId`: the decision it is taken on. */
    const restrict = async (lineId: string, type: 'FREEZE_DRAW' | 'SUSPEND', traceId?: string) =>
      (
        await t.app.core.applyLineAction(lineId, {
          type,
          reasons: ['R_UTILISATION_HIGH'],
          automated: false,
          actor: 'user:risk-officer',
          ...(traceId === undefined ? {} : { traceId }),
        })
      ).actionId;
    const appeal = (token: string, target: { actionId: string } | { decisionId: string }) =>
      client(t, token).post('/v1/me/appeals', { ...target, text: '请重新审核。' });
    const filed = async (token: string, target: { actionId: string } | { decisionId: string }) => {
      const res = await appeal(token, target);
      expect(res.statusCode, res.body).toBe(201);
      return res.json().id as string;
    };
    const caseOf = async (appealId: string) =>
      (await client(t, analyst.key).get('/v1/cases?type=APPEAL&limit=100'))
        .json()
        .items.find((c: { subjectId: string }) => c.subjectId === appealId).id as string;
    const decide = async (appealId: string, body: Record<string, unknown>) => {
      const res = await client(t, analyst.key).post(`/v1/cases/${await caseOf(appealId)}/resolve`, body);
      expect(res.statusCode, res.body).toBe(200);
    };
    const appealCases = async (lineId: string) =>
      (await client(t, analyst.key).get('/v1/cases?type=APPEAL&limit=100'))
        .json()
        .items.filter((c: { lineId: string }) => c.lineId === lineId);
    const myAppealIds = async (token: string) =>
      ((await client(t, token).get('/v1/me/appeals')).json().items as { id: string }[]).map((a) => a.id);
    const expectDecided = (res: LightMyRequestResponse, appealId: string, state: string) => {
      expect(res.statusCode, res.body).toBe(409);
      expect(res.json().error).toMatchObject({
        code: 'LG_APPEAL_ALREADY_DECIDED',
        details: { appealId, state, complaintPath: '/v1/me/complaints' },
      });
    };

    it('refuses a second appeal against a freeze whose appeal was rejected: 409, no appeal, no case', async () => {
      const { lineId, token } = await openLine();
      const freeze = await restrict(lineId, 'FREEZE_DRAW');
      const first = await filed(token, { actionId: freeze });
      await decide(first, REJECT);
      const again = await appeal(token, { actionId: freeze });
      expectDecided(again, first, 'REJECTED');
      expect(again.json().error.details).toMatchObject({
        target: { kind: 'line_action', id: freeze },
        decidedAt: expect.any(String),
      });
      expect(await myAppealIds(token)).toEqual([first]);
      expect(await appealCases(lineId)).toHaveLength(1);
    });

    it('refuses an appeal against the decision behind an action whose appeal was rejected, and the reverse', async () => {
      const one = await openLine();
      const freeze = await restrict(one.lineId, 'FREEZE_DRAW', one.decisionId);
      const onAction = await filed(one.token, { actionId: freeze });
      await decide(onAction, REJECT);
      expectDecided(await appeal(one.token, { decisionId: one.decisionId }), onAction, 'REJECTED');

      const two = await openLine();
      const suspension = await restrict(two.lineId, 'SUSPEND', two.decisionId);
      const onDecision = await filed(two.token, { decisionId: two.decisionId });
      await decide(onDecision, REJECT);
      expectDecided(await appeal(two.token, { actionId: suspension }), onDecision, 'REJECTED');
      expect(await appealCases(two.lineId)).toHaveLength(1);
    });

    it('refuses a second appeal against a decision whose appeal was upheld (a grant: nothing was lifted)', async () => {
      const { token, decisionId } = await openLine();
      const first = await filed(token, { decisionId });
      await decide(first, UPHOLD);
      expectDecided(await appeal(token, { decisionId }), first, 'UPHELD');
    });

    it('accepts an appeal against a new action on the same line after a rejected one', async () => {
      const { lineId, token } = await openLine();
      const freeze = await restrict(lineId, 'FREEZE_DRAW');
      const first = await filed(token, { actionId: freeze });
      await decide(first, REJECT);
      const suspension = await restrict(lineId, 'SUSPEND');
      const second = await filed(token, { actionId: suspension });
      expect(await myAppealIds(token)).toEqual([second, first]);
    });

    /**
     * The actions a decision took were read one page of 20 at most: an appeal against a decision with more covered only
     * the first 20, and one against a later action was not seen (two appeals, two cases, on one freeze).
     */
    it('an appeal against a decision covers all its actions, past the first 20', async () => {
      const { lineId, token, decisionId } = await openLine();
      // The grant, then 20 more actions on the same decision, then the freeze that stands: its 22nd.
      for (let i = 0; i < 10; i += 1) {
        await restrict(lineId, 'FREEZE_DRAW', decisionId);
        await t.app.core.applyLineAction(lineId, {
          type: 'UNFREEZE',
          reasons: ['R_RISK_RESOLVED'],
          automated: false,
          actor: 'user:risk-officer',
          traceId: decisionId,
        });
      }
      const freeze = await restrict(lineId, 'FREEZE_DRAW', decisionId);
      // Read 5 a page (every action at one instant of the test's clock: the id breaks the tie), as in one read.
      const db = t.app.store.db;
      const paged = await actionsOfDecision({ rows: caseRows }, db, { id: decisionId, lineId, pageSize: 5 });
      const whole = await caseRows.lineActionsOfDecision(db, lineId, decisionId, { limit: 1_000 });
      expect(paged.map((a) => a.id)).toEqual(whole.map((a) => a.id));
      expect(paged).toHaveLength(22);
      const onAction = await filed(token, { actionId: freeze });
      const res = await appeal(token, { decisionId });
      expect(res.statusCode, res.body).toBe(409);
      expect(res.json().error).toMatchObject({ code: 'LG_CONFLICT', details: { appealId: onAction } });
      await decide(onAction, REJECT);
      expectDecided(await appeal(token, { decisionId }), onAction, 'REJECTED');
      expect(await appealCases(lineId)).toHaveLength(1);
    });

    it('an open appeal against a decision stands for its actions: one against the action is LG_CONFLICT', async () => {
      const { lineId, token, decisionId } = await openLine();
      const freeze = await restrict(lineId, 'FREEZE_DRAW', decisionId);
      const open = await filed(token, { decisionId });
      const res = await appeal(token, { actionId: freeze });
      expect(res.statusCode, res.body).toBe(409);
      expect(res.json().error).toMatchObject({ code: 'LG_CONFLICT', details: { appealId: open } });
    });

    /**
     * An earlier appeal against the same thing answers first, whatever stands on the line now: the borrower is told of
     * the appeal they already have (decided: LG_APPEAL_ALREADY_DECIDED with its decision and the complaint route; open:
     * LG_CONFLICT naming it). Only what was never appealed is judged on whether it still stands (LG_APPEAL_NOT_IN_FORCE).
     * A re-appeal after an uphold that lifted the freeze used to be told "not in force", as if never appealed.
     */
    describe('an earlier appeal answers before what stands on the line', () => {
      const unfreeze = (lineId: string) =>
        t.app.core.applyLineAction(lineId, {
          type: 'UNFREEZE',
          reasons: ['R_RISK_RESOLVED'],
          automated: false,
          actor: 'user:risk-officer',
        });
      const lineStatus = async (lineId: string) =>
        (await client(t).get(`/v1/lines/${lineId}`)).json().status as string;

      it('decided and upheld, the uphold lifted the freeze: LG_APPEAL_ALREADY_DECIDED', async () => {
        const { lineId, token } = await openLine();
        const freeze = await restrict(lineId, 'FREEZE_DRAW');
        const first = await filed(token, { actionId: freeze });
        await decide(first, UPHOLD);
        expect(await lineStatus(lineId)).toBe('ACTIVE');
        const again = await appeal(token, { actionId: freeze });
        expectDecided(again, first, 'UPHELD');
        expect(again.json().error.details).toMatchObject({ target: { kind: 'line_action', id: freeze } });
        expect(await appealCases(lineId)).toHaveLength(1);
      });

      it('decided and rejected, lifted by a person since: LG_APPEAL_ALREADY_DECIDED', async () => {
        const { lineId, token } = await openLine();
        const freeze = await restrict(lineId, 'FREEZE_DRAW');
        const first = await filed(token, { actionId: freeze });
        await decide(first, REJECT);
        await unfreeze(lineId);
        expectDecided(await appeal(token, { actionId: freeze }), first, 'REJECTED');
        expect(await appealCases(lineId)).toHaveLength(1);
      });

      it('decided against the decision, whose freeze the uphold lifted: the freeze is LG_APPEAL_ALREADY_DECIDED', async () => {
        const { lineId, token, decisionId } = await openLine();
        const freeze = await restrict(lineId, 'FREEZE_DRAW', decisionId);
        const first = await filed(token, { decisionId });
        await decide(first, UPHOLD);
        expect(await lineStatus(lineId)).toBe('ACTIVE');
        expectDecided(await appeal(token, { actionId: freeze }), first, 'UPHELD');
        expectDecided(await appeal(token, { decisionId }), first, 'UPHELD');
      });

      it('open, still in force: LG_CONFLICT naming the open appeal', async () => {
        const { lineId, token } = await openLine();
        const freeze = await restrict(lineId, 'FREEZE_DRAW');
        const open = await filed(token, { actionId: freeze });
        const res = await appeal(token, { actionId: freeze });
        expect(res.statusCode, res.body).toBe(409);
        expect(res.json().error).toMatchObject({ code: 'LG_CONFLICT', details: { appealId: open } });
      });

      it('open, lifted by a person since the filing: LG_CONFLICT naming the open appeal', async () => {
        const { lineId, token } = await openLine();
        const freeze = await restrict(lineId, 'FREEZE_DRAW');
        const open = await filed(token, { actionId: freeze });
        await unfreeze(lineId);
        const res = await appeal(token, { actionId: freeze });
        expect(res.statusCode, res.body).toBe(409);
        expect(res.json().error).toMatchObject({ code: 'LG_CONFLICT', details: { appealId: open } });
        expect(await appealCases(lineId)).toHaveLength(1);
      });

      it('never appealed, lifted by a person: LG_APPEAL_NOT_IN_FORCE', async () => {
        const { lineId, token } = await openLine();
        const freeze = await restrict(lineId, 'FREEZE_DRAW');
        await unfreeze(lineId);
        const res = await appeal(token, { actionId: freeze });
        expect(res.statusCode, res.body).toBe(409);
        expect(res.json().error).toMatchObject({
          code: 'LG_APPEAL_NOT_IN_FORCE',
          details: { target: { kind: 'line_action', id: freeze }, restrictionInForce: null },
        });
        expect(await appealCases(lineId)).toEqual([]);
      });
    });

    it('sees a rejection that commits just before the filing transaction', async () => {
      const { lineId, token } = await openLine();
      const freeze = await restrict(lineId, 'FREEZE_DRAW');
      const first = await filed(token, { actionId: freeze });
      const caseId = await caseOf(first);
      // The filing's checks (ownership, window) have run with the first appeal OPEN; it is rejected before the
      // filing's transaction starts.
      const hook = beforeNextKeyedTransaction(t, async () => {
        const rejected = await client(t, analyst.key).post(`/v1/cases/${caseId}/resolve`, REJECT);
        expect(rejected.statusCode, rejected.body).toBe(200);
      });
      try {
        expectDecided(await appeal(token, { actionId: freeze }), first, 'REJECTED');
      } finally {
        hook.restore();
      }
      expect(hook.ran()).toBe(true);
      expect(await appealCases(lineId)).toHaveLength(1);
    });

    /**
     * Two filings of one borrower at once, one against the freeze and one against the decision that took it: the
     * first stops between its check and its insert while the second is sent. The borrower's lock makes the second
     * wait and then see the first; without it both were accepted, and the freeze had two appeals in two queues.
     */
    it('two filings at once against an action and its decision: one is accepted, the other LG_CONFLICT', async () => {
      const { lineId, token, decisionId } = await openLine();
      const freeze = await restrict(lineId, 'FREEZE_DRAW', decisionId);
      const answers = await twoFilingsAtOnce(
        () => appeal(token, { actionId: freeze }),
        () => appeal(token, { decisionId }),
      );
      expect(answers.map((a) => a.statusCode).sort()).toEqual([201, 409]);
      expect(answers.find((a) => a.statusCode === 409)?.json().error.code).toBe('LG_CONFLICT');
      expect(await appealCases(lineId)).toHaveLength(1);
    });
  });
