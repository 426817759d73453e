import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestApp } from '../helpers/app.js';
import { residentId } from '../core/harness.js';
import {
  CASE_STORES,
  client,
  frozenLineWithToken,
  person,
  startCaseApp,
  twoFilingsAtOnce,
  type Person,
} from './helpers.js';

/**
 * One open appeal per target. Two filings against the same restriction at once (two processes, or two connections of
 * one) each found no open appeal and each inserted one: the borrower held two open appeals and two APPEAL cases, which
 * two analysts then resolved UPHELD and REJECTED. Here the first filing stops between its check and its insert while
 * the second is sent.
 */
for (const store of CASE_STORES)
  describe.skipIf(!store.enabled)(`two appeals against one restriction at once (${store.name})`, () => {
    let t: TestApp;
    let service: Person;
    beforeAll(async () => {
      ({ t } = await startCaseApp(await store.env()));
      service = await person(t, 'lender-backend', 'service');
    });
    afterAll(async () => t?.close());

    it('opens one appeal and one case; the other filing is refused with LG_CONFLICT', async () => {
      const { lineId, actionId, token } = await frozenLineWithToken(t, service.key, {
        name: '郑洁',
        nationalId: residentId('19850505', 555),
        phone: '13900005555',
      });
      const file = () =>
        client(t, token).post('/v1/me/appeals', {
          actionId,
          text: '我的额度使用率已经降低了。',
        });

      // The second filing runs as far as it can while the first holds still (on PostgreSQL it used to commit).
      const answers = await twoFilingsAtOnce(file, file);
      expect(answers.map((a) => a.statusCode).sort()).toEqual([201, 409]);
      expect(answers.find((a) => a.statusCode === 409)?.json().error.code).toBe('LG_CONFLICT');
      const appeals = (await client(t, token).get('/v1/me/appeals')).json().items;
      expect(appeals.filter((a: { state: string }) => a.state === 'OPEN')).toHaveLength(1);
      const cases = (await client(t).get('/v1/cases?type=APPEAL')).json().items;
      expect(cases.filter((c: { lineId: string }) => c.lineId === lineId)).toHaveLength(1);
    });

    /**
     * An appeal is against one action. Upheld after a newer restriction was taken over the one appealed (a suspension
     * for days past due, which the borrower did not appeal and the review job lifts once repaid), it used to lift that
     * newer restriction too: the uphold reinstated whatever the line's status was. It lifts the appealed freeze alone,
     * beneath the suspension, which stays.
     */
    it('an upheld appeal lifts only the restriction it was about, not a newer one', async () => {
      const { lineId, actionId, token } = await frozenLineWithToken(t, service.key, {
        name: '陈静',
        nationalId: residentId('19870707', 777),
        phone: '13900007777',
      });
      const filed = await client(t, token).post('/v1/me/appeals', { actionId, text: '使用率已降低。' });
      expect(filed.statusCode, filed.body).toBe(201);
      const suspended = await t.app.core.applyLineAction(lineId, {
        type: 'SUSPEND',
        reasons: ['R_DAYS_PAST_DUE'],
        automated: true,
        actor: 'job:dpd',
      });
      const caseId = (await client(t).get('/v1/cases?type=APPEAL'))
        .json()
        .items.find((c: { subjectId: string }) => c.subjectId === filed.json().id).id;
      const resolved = await t.app.cases.service.resolve(
        caseId,
        { outcome: 'UPHELD', textZh: '冻结已撤销。', textEn: 'The freeze is withdrawn.' },
        { actor: 'user:analyst', keyId: null },
      );
      expect(resolved.state).toBe('RESOLVED');
      // The freeze it was about is lifted where it stands, beneath the suspension; the suspension stays in force.
      const line = (await client(t).get(`/v1/lines/${lineId}`)).json();
      expect(line.status).toBe('SUSPENDED');
      expect(line.recentActions[0]).toMatchObject({ type: 'UNFREEZE', newStatus: 'SUSPENDED' });
      expect(line.recentActions[1].id).toBe(suspended.actionId);
      expect(resolved.case.outcomeDetail).toMatchObject({ restrictionInForce: suspended.actionId });
      expect((await client(t, token).get(`/v1/me/appeals/${filed.json().id}`)).json().state).toBe('UPHELD');
    });
  });
