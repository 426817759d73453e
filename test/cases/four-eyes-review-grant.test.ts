import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STRONG_APPLICANT, type TestApp } from '../helpers/app.js';
import { residentId } from '../core/harness.js';
import { CASE_STORES, client, person, startCaseApp, type Person } from './helpers.js';

/**
 * A manual limit at or past the four-eyes threshold waits for a second person (README "Four eyes"): a raise does, and
 * so must the line a reviewer grants on a REVIEW application, or one analyst's word opens a line of any size (up to
 * the per-borrower cap) that a raise to the same limit could not. Below the threshold the grant applies at once.
 */
for (const store of CASE_STORES)
  describe.skipIf(!store.enabled)(`a reviewer's grant under four eyes (${store.name})`, () => {
    let t: TestApp;
    let analyst: Person;
    let supervisor: Person;
    let seq = 700;

    beforeAll(async () => {
      ({ t } = await startCaseApp({ ...(await store.env()) }));
      analyst = await person(t, 'Li Lei', 'analyst');
      supervisor = await person(t, 'Han Meimei', 'supervisor');
    });
    afterAll(async () => t?.close());

    /** A referred application's case, assigned to the analyst. */
    async function referredCase() {
      seq += 1;
      const applied = await client(t).post('/v1/applications', {
        applicant: { name: '测试', nationalId: residentId('19850101', seq), phone: '13900001111' },
        attributes: { ...STRONG_APPLICANT, inquiries30d: 4 },
      });
      expect(applied.json().outcome).toBe('REVIEW');
      const list = (await client(t, analyst.key).get('/v1/cases?type=REVIEW_APPLICATION&limit=100')).json();
      const opened = list.items.find(
        (c: { subjectId: string }) => c.subjectId === applied.json().applicationId,
      ) as { id: string };
      await client(t, analyst.key).post(`/v1/cases/${opened.id}/assign`, {});
      return { caseId: opened.id, applicationId: applied.json().applicationId as string };
    }
    const approve = (caseId: string, limitMinor: number) =>
      client(t, analyst.key).post(`/v1/cases/${caseId}/resolve`, {
        outcome: 'APPROVE',
        limitMinor,
        annualRate: 0.15,
      });

    it('a grant at the threshold is proposed, opens no line, and applies once a second person approves it', async () => {
      const threshold = t.app.config.cases.fourEyes.limitIncreaseThresholdMinor;
      const { caseId, applicationId } = await referredCase();
      const proposed = await approve(caseId, threshold);
      expect(proposed.statusCode, proposed.body).toBe(202);
      expect(proposed.json()).toMatchObject({
        state: 'ESCALATED',
        pendingChange: { operation: 'line.limit_increase', state: 'PENDING' },
      });
      expect(proposed.json().pendingChange.diff).toMatchObject({ outcome: 'APPROVE', limitMinor: threshold });
      const application = await t.app.store.db
        .selectFrom('applications')
        .select(['outcome', 'line_id'])
        .where('id', '=', applicationId)
        .executeTakeFirstOrThrow();
      expect(application).toEqual({ outcome: 'REVIEW', line_id: null });
      const own = await client(t, analyst.key).post(
        `/v1/changes/${proposed.json().pendingChange.id}/approve`,
        {},
      );
      expect(own.statusCode).toBe(403);
      const approved = await client(t, supervisor.key).post(
        `/v1/changes/${proposed.json().pendingChange.id}/approve`,
        {},
      );
      expect(approved.statusCode, approved.body).toBe(200);
      const done = (await client(t, analyst.key).get(`/v1/cases/${caseId}`)).json();
      expect(done).toMatchObject({ state: 'RESOLVED', outcome: 'APPROVE' });
      const line = (await client(t).get(`/v1/lines/${done.outcomeDetail.lineId}`)).json();
      expect(line).toMatchObject({ status: 'ACTIVE', limitMinor: threshold, annualRate: 0.15 });
      expect(line.recentActions[0]).toMatchObject({ type: 'GRANT', actor: `user:${analyst.userId}` });
    });

    it('a grant below the threshold applies at once', async () => {
      const threshold = t.app.config.cases.fourEyes.limitIncreaseThresholdMinor;
      const { caseId } = await referredCase();
      const granted = await approve(caseId, threshold - 1);
      expect(granted.statusCode, granted.body).toBe(200);
      expect(granted.json().case).toMatchObject({ state: 'RESOLVED', outcome: 'APPROVE' });
    });
  });
