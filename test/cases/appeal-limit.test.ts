import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyLedger } from '../../src/compliance/ledger.js';
import { STRONG_APPLICANT, type TestApp } from '../helpers/app.js';
import { residentId } from '../core/harness.js';
import { CASE_STORES, client, person, startCaseApp, type Person, UPHELD_TEXTS } from './helpers.js';

/**
 * An upheld appeal remedies what was appealed. Against a restriction it lifts the restriction still in force; against
 * a limit cut it used to change nothing (the line is ACTIVE, nothing is "in force"), and the limit stayed cut. Upheld,
 * an appeal against a cut restores the limit the cut took away (or the reviewer's lower `limitMinor`, never more) with
 * a LIMIT_INCREASE through the core's raise path (borrower cap under the borrower's lock, four eyes past the
 * threshold), if the cut is still the line's latest limit change; otherwise the newer change stands and is recorded.
 */

for (const store of CASE_STORES)
  describe.skipIf(!store.enabled)(`an upheld appeal against a limit cut (${store.name})`, () => {
    let t: TestApp;
    let analyst: Person;
    let supervisor: Person;
    let service: Person;
    let seq = 800;

    beforeAll(async () => {
      ({ t } = await startCaseApp(await store.env()));
      analyst = await person(t, 'Wang Fang', 'analyst');
      supervisor = await person(t, 'Zhao Min', 'supervisor');
      service = await person(t, 'lender-backend', 'service');
    });
    afterAll(async () => t?.close());

    const line = async (lineId: string) => (await client(t).get(`/v1/lines/${lineId}`)).json();
    const setLimit = async (lineId: string, limitMinor: number) => {
      const now = (await line(lineId)).limitMinor as number;
      if (now === limitMinor) return;
      await t.app.core.applyLineAction(lineId, {
        type: now < limitMinor ? 'LIMIT_INCREASE' : 'LIMIT_DECREASE',
        reasons: now < limitMinor ? ['R_GOOD_REPAYMENT'] : ['R_UTILISATION_HIGH'],
        automated: false,
        actor: 'test',
        limitMinor,
      });
    };

    /**
     * A line at `fromMinor`, cut to `toMinor` by automation or by a person (automated cuts draw on the blast-radius
     * guard's budget, which this suite's handful of lines soon spends); the borrower appeals the cut.
     */
    async function appealedCut(fromMinor: number, toMinor: number, automated = false) {
      const applicant = { name: '李娜', nationalId: residentId('19900303', ++seq), phone: '13900003333' };
      const applied = await client(t, service.key).post('/v1/applications', {
        applicant,
        attributes: STRONG_APPLICANT,
      });
      expect(applied.statusCode, applied.body).toBe(201);
      const lineId = applied.json().line.id as string;
      const borrowerId = applied.json().borrowerId as string;
      await setLimit(lineId, fromMinor);
      const cut = await t.app.core.applyLineAction(lineId, {
        type: 'LIMIT_DECREASE',
        reasons: ['R_UTILISATION_HIGH'],
        automated,
        actor: automated ? 'job:review' : 'user:risk-officer',
        limitMinor: toMinor,
      });
      expect(cut).toMatchObject({ outcome: 'APPLIED', newLimitMinor: toMinor });
      const token = (
        await client(t, service.key).post(`/v1/borrowers/${borrowerId}/tokens`, { ttlSeconds: 900 })
      ).json().token as string;
      const filed = await client(t, token).post('/v1/me/appeals', {
        actionId: cut.actionId,
        text: '我的使用率是暂时的，请恢复额度。',
      });
      expect(filed.statusCode, filed.body).toBe(201);
      const appealId = filed.json().id as string;
      const caseId = (await client(t, analyst.key).get('/v1/cases?type=APPEAL&limit=100'))
        .json()
        .items.find((c: { subjectId: string }) => c.subjectId === appealId).id as string;
      return { lineId, borrowerId, applicant, cutId: cut.actionId, token, appealId, caseId };
    }

    const resolve = (caseId: string, body: Record<string, unknown>, key = analyst.key) =>
      client(t, key).post(`/v1/cases/${caseId}/resolve`, { ...UPHELD_TEXTS, ...body });

    const decidedEntry = async (appealId: string) => {
      const row = await t.app.store.db
        .selectFrom('ledger_entries')
        .select(['payload'])
        .where('kind', '=', 'appeal.decided')
        .where('subject_id', '=', appealId)
        .executeTakeFirstOrThrow();
      return JSON.parse(row.payload) as Record<string, unknown>;
    };

    it('(a) restores the limit the cut took away: available grows by the cut, caused by the appeal', async () => {
      const a = await appealedCut(1_000_000, 600_000, true);
      const before = await line(a.lineId);
      expect(before).toMatchObject({ status: 'ACTIVE', limitMinor: 600_000 });
      const upheld = await resolve(a.caseId, { outcome: 'UPHELD' });
      expect(upheld.statusCode, upheld.body).toBe(200);
      const detail = upheld.json().case.outcomeDetail;
      expect(upheld.json().case.state).toBe('RESOLVED');
      expect(detail).toMatchObject({
        appealId: a.appealId,
        restored: {
          fromLimitMinor: 600_000,
          toLimitMinor: 1_000_000,
          cuts: [{ cutActionId: a.cutId, fromLimitMinor: 600_000, toLimitMinor: 1_000_000 }],
        },
      });
      const restore = detail.restored.cuts[0];
      const after = await line(a.lineId);
      expect(after).toMatchObject({ status: 'ACTIVE', limitMinor: 1_000_000 });
      expect(after.availableMinor - before.availableMinor).toBe(400_000);
      expect(after.recentActions[0]).toMatchObject({
        id: restore.actionId,
        type: 'LIMIT_INCREASE',
        reasons: ['R_RISK_RESOLVED'],
        automated: false,
        actor: `user:${analyst.userId}`,
        prevLimitMinor: 600_000,
        newLimitMinor: 1_000_000,
      });
      expect(after.recentActions[0].note).toContain(a.appealId);
      expect(await decidedEntry(a.appealId)).toMatchObject({
        state: 'UPHELD',
        restored: { toLimitMinor: 1_000_000, cuts: [{ actionId: restore.actionId, cutActionId: a.cutId }] },
      });
      // The borrower's view of the appeal says what was restored.
      const mine = (await client(t, a.token).get(`/v1/me/appeals/${a.appealId}?lang=en`)).json();
      expect(mine.state).toBe('UPHELD');
      expect(mine.outcome.en).toContain('10000.00 CNY');
      expect(mine.outcome.zh).toContain('10000.00 CNY');
      expect((await verifyLedger(t.app.store.db)).ok).toBe(true);
    });

    it('(b) restores to the reviewer limitMinor, never above the limit before the cut', async () => {
      const a = await appealedCut(1_000_000, 600_000);
      const above = await resolve(a.caseId, { outcome: 'UPHELD', limitMinor: 1_200_000 });
      expect(above.statusCode, above.body).toBe(400);
      expect(above.json().error.code).toBe('LG_VALIDATION');
      expect((await line(a.lineId)).limitMinor).toBe(600_000);
      const partly = await resolve(a.caseId, { outcome: 'UPHELD', limitMinor: 800_000 });
      expect(partly.statusCode, partly.body).toBe(200);
      expect(partly.json().case.outcomeDetail.restored).toMatchObject({ toLimitMinor: 800_000 });
      expect(await line(a.lineId)).toMatchObject({ status: 'ACTIVE', limitMinor: 800_000 });
    });

    it('(c) leaves a newer limit change standing and records it', async () => {
      const a = await appealedCut(1_000_000, 600_000);
      const newer = await t.app.core.applyLineAction(a.lineId, {
        type: 'LIMIT_DECREASE',
        reasons: ['R_UTILISATION_HIGH'],
        automated: false,
        actor: 'test',
        limitMinor: 500_000,
      });
      const upheld = await resolve(a.caseId, { outcome: 'UPHELD' });
      expect(upheld.statusCode, upheld.body).toBe(200);
      const detail = upheld.json().case.outcomeDetail;
      expect(detail).toMatchObject({ limitChangeInForce: newer.actionId });
      expect(detail.restored).toBeUndefined();
      const after = await line(a.lineId);
      expect(after.limitMinor).toBe(500_000);
      expect(after.recentActions[0].id).toBe(newer.actionId);
      expect(await decidedEntry(a.appealId)).toMatchObject({ limitChangeInForce: newer.actionId });
    });

    it('(d) refuses a restore past the borrower cap: LG_BORROWER_CAP_EXCEEDED, the case stays open', async () => {
      const a = await appealedCut(1_000_000, 600_000);
      // Meanwhile the borrower took another line, leaving room for 800,000 on this one under the cap.
      const other = await client(t, service.key).post('/v1/applications', {
        applicant: a.applicant,
        attributes: STRONG_APPLICANT,
      });
      expect(other.statusCode, other.body).toBe(201);
      const otherLineId = other.json().line.id as string;
      expect(other.json().borrowerId).toBe(a.borrowerId);
      const cap = t.app.config.borrowerCapMinor;
      await setLimit(otherLineId, cap - 800_000);
      const refused = await resolve(a.caseId, { outcome: 'UPHELD' });
      expect(refused.statusCode, refused.body).toBe(422);
      expect(refused.json().error.code).toBe('LG_BORROWER_CAP_EXCEEDED');
      expect((await line(a.lineId)).limitMinor).toBe(600_000);
      const open = (await client(t, analyst.key).get(`/v1/cases/${a.caseId}`)).json();
      expect(open.state).not.toBe('RESOLVED');
      expect(open.outcomeDetail).toMatchObject({ failed: { code: 'LG_BORROWER_CAP_EXCEEDED' } });
      expect((await client(t, a.token).get(`/v1/me/appeals/${a.appealId}`)).json().state).toBe('OPEN');
      // Within the room the reviewer can restore part of it.
      const partly = await resolve(a.caseId, { outcome: 'UPHELD', limitMinor: 800_000 });
      expect(partly.statusCode, partly.body).toBe(200);
      expect((await line(a.lineId)).limitMinor).toBe(800_000);
    });

    it('(e) a rejected appeal against a cut changes nothing', async () => {
      const a = await appealedCut(1_000_000, 600_000);
      const rejected = await resolve(a.caseId, { outcome: 'REJECTED' });
      expect(rejected.statusCode, rejected.body).toBe(200);
      const after = await line(a.lineId);
      expect(after.limitMinor).toBe(600_000);
      expect(after.recentActions[0].id).toBe(a.cutId);
      expect((await client(t, a.token).get(`/v1/me/appeals/${a.appealId}`)).json().state).toBe('REJECTED');
    });

    it('lifts the freeze and restores the cut of one decision appealed as a whole', async () => {
      const applicant = { name: '周强', nationalId: residentId('19900303', ++seq), phone: '13900003333' };
      const applied = (
        await client(t, service.key).post('/v1/applications', { applicant, attributes: STRONG_APPLICANT })
      ).json();
      const lineId = applied.line.id as string;
      const decisionId = applied.decisionId as string;
      await setLimit(lineId, 1_000_000);
      // Two actions taken on one decision (as a review decision that freezes and cuts writes them).
      for (const action of [
        { type: 'LIMIT_DECREASE' as const, limitMinor: 600_000 },
        { type: 'FREEZE_DRAW' as const },
      ])
        await t.app.core.applyLineAction(lineId, {
          ...action,
          reasons: ['R_UTILISATION_HIGH'],
          automated: false,
          actor: 'user:risk-officer',
          traceId: decisionId,
        });
      const token = (
        await client(t, service.key).post(`/v1/borrowers/${applied.borrowerId}/tokens`, { ttlSeconds: 900 })
      ).json().token as string;
      const filed = await client(t, token).post('/v1/me/appeals', { decisionId, text: '请重新审核' });
      expect(filed.statusCode, filed.body).toBe(201);
      const caseId = (await client(t, analyst.key).get('/v1/cases?type=APPEAL&limit=100'))
        .json()
        .items.find((c: { subjectId: string }) => c.subjectId === filed.json().id).id as string;
      const upheld = await resolve(caseId, { outcome: 'UPHELD' });
      expect(upheld.statusCode, upheld.body).toBe(200);
      expect(upheld.json().case.outcomeDetail.restored).toMatchObject({ toLimitMinor: 1_000_000 });
      expect(await line(lineId)).toMatchObject({ status: 'ACTIVE', limitMinor: 1_000_000 });
    });

    it('(f) a restore at or past the four-eyes limit threshold waits for a second person', async () => {
      const threshold = t.app.config.cases.fourEyes.limitIncreaseThresholdMinor;
      const a = await appealedCut(threshold + 1_000_000, threshold - 1_000_000);
      const proposed = await resolve(a.caseId, { outcome: 'UPHELD' });
      expect(proposed.statusCode, proposed.body).toBe(202);
      expect(proposed.json()).toMatchObject({
        state: 'ESCALATED',
        pendingChange: { operation: 'line.limit_increase', state: 'PENDING' },
      });
      expect((await line(a.lineId)).limitMinor).toBe(threshold - 1_000_000);
      const approved = await client(t, supervisor.key).post(
        `/v1/changes/${proposed.json().pendingChange.id}/approve`,
        {},
      );
      expect(approved.statusCode, approved.body).toBe(200);
      expect(await line(a.lineId)).toMatchObject({ limitMinor: threshold + 1_000_000 });
      const done = (await client(t, analyst.key).get(`/v1/cases/${a.caseId}`)).json();
      expect(done).toMatchObject({ state: 'RESOLVED', outcome: 'UPHELD' });
      expect(done.outcomeDetail.restored).toMatchObject({ toLimitMinor: threshold + 1_000_000 });
    });
  });
