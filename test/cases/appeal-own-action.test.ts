import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestApp } from '../helpers/app.js';
import {
  applicants,
  CASE_STORES,
  client,
  lineWithToken,
  startCaseAppWith,
  UPHELD_TEXTS,
  type Person,
} from './helpers.js';

/**
 * An appeal asks for a second look (PIPL Art. 24): the person who took the action appealed against cannot decide the
 * appeal, neither reject it nor uphold it (403 LG_SELF_APPROVAL); anyone else who decides appeals can.
 */
for (const store of CASE_STORES)
  describe.skipIf(!store.enabled)(`deciding an appeal against one's own action (${store.name})`, () => {
    let t: TestApp;
    let analyst: Person;
    let service: Person;
    let risk: Person;
    beforeAll(async () => {
      ({ t, analyst, service, risk } = await startCaseAppWith(await store.env(), {
        analyst: ['Wang Fang', 'analyst'],
        service: ['lender-backend', 'service'],
        risk: ['Li Lei', 'risk_analyst'],
      }));
    });
    afterAll(async () => t?.close());
    const applicant = applicants({ name: '孙丽', born: '19920303', phone: '13900003333', after: 700 });

    /** An appeal case against a freeze `risk` took on a fresh line. */
    async function appealOfRiskFreeze(): Promise<string> {
      const { lineId, token } = await lineWithToken(t, service.key, applicant());
      const frozen = await client(t, risk.key).post(`/v1/lines/${lineId}/actions`, {
        type: 'FREEZE_DRAW',
        reasons: ['R_UTILISATION_HIGH'],
      });
      expect(frozen.statusCode, frozen.body).toBe(201);
      const filed = await client(t, token).post('/v1/me/appeals', {
        actionId: frozen.json().actionId,
        text: '请重新审核。',
      });
      expect(filed.statusCode, filed.body).toBe(201);
      const listed = (await client(t, analyst.key).get('/v1/cases?type=APPEAL&limit=500')).json();
      return listed.items.find((c: { subjectId: string }) => c.subjectId === filed.json().id).id as string;
    }

    it('refuses the person who froze the line the decision on the appeal against their freeze', async () => {
      const caseId = await appealOfRiskFreeze();
      const rejected = await client(t, risk.key).post(`/v1/cases/${caseId}/resolve`, {
        outcome: 'REJECTED',
        textZh: '维持原决定。',
        textEn: 'The action stands.',
      });
      expect(rejected.statusCode, rejected.body).toBe(403);
      expect(rejected.json().error.code).toBe('LG_SELF_APPROVAL');
      const upheld = await client(t, risk.key).post(`/v1/cases/${caseId}/resolve`, {
        outcome: 'UPHELD',
        ...UPHELD_TEXTS,
      });
      expect(upheld.statusCode, upheld.body).toBe(403);
      expect(upheld.json().error.code).toBe('LG_SELF_APPROVAL');
      expect((await client(t, analyst.key).get(`/v1/cases/${caseId}`)).json().state).not.toBe('RESOLVED');

      const byAnother = await client(t, analyst.key).post(`/v1/cases/${caseId}/resolve`, {
        outcome: 'REJECTED',
        textZh: '维持原决定。',
        textEn: 'The action stands.',
      });
      expect(byAnother.statusCode, byAnother.body).toBe(200);
    });
  });
