import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestApp } from '../helpers/app.js';
import {
  APPEAL_CAST,
  applicants,
  CASE_STORES,
  client,
  frozenLineWithToken,
  lineWithToken,
  startCaseAppWith,
  type Person,
} from './helpers.js';

/**
 * The texts an appeal's or a complaint's outcome gives the borrower are what they read of it: one made of blanks in
 * either language tells the borrower nothing, and is refused (400 LG_VALIDATION) as a blank four-eyes reason is. The
 * case stays open for a resolution that says something.
 */
for (const store of CASE_STORES)
  describe.skipIf(!store.enabled)(`outcome texts with nothing in them (${store.name})`, () => {
    let t: TestApp;
    let analyst: Person;
    let service: Person;
    beforeAll(async () => {
      ({ t, analyst, service } = await startCaseAppWith(await store.env(), APPEAL_CAST));
    });
    afterAll(async () => t?.close());
    const applicant = applicants({ name: '孙丽', born: '19920303', phone: '13900003333', after: 500 });

    const caseOfSubject = async (type: string, subjectId: string) =>
      (await client(t, analyst.key).get(`/v1/cases?type=${type}&limit=500`))
        .json()
        .items.find((c: { subjectId: string }) => c.subjectId === subjectId) as { id: string; state: string };

    it('refuses an appeal decision whose Chinese text is blank', async () => {
      const { actionId, token } = await frozenLineWithToken(t, service.key, applicant());
      const filed = await client(t, token).post('/v1/me/appeals', { actionId, text: '请重新审核。' });
      expect(filed.statusCode, filed.body).toBe(201);
      const c = await caseOfSubject('APPEAL', filed.json().id);
      for (const textZh of ['   ', '\u3000\n\t']) {
        const res = await client(t, analyst.key).post(`/v1/cases/${c.id}/resolve`, {
          outcome: 'UPHELD',
          textZh,
          textEn: 'Your appeal is upheld.',
        });
        expect(res.statusCode, res.body).toBe(400);
        expect(res.json().error.code).toBe('LG_VALIDATION');
        expect(res.json().error.details).toMatchObject({ field: 'textZh' });
      }
      expect((await client(t, analyst.key).get(`/v1/cases/${c.id}`)).json().state).not.toBe('RESOLVED');
    });

    it('refuses a complaint resolution whose English text is blank', async () => {
      const { token } = await lineWithToken(t, service.key, applicant());
      const filed = await client(t, token).post('/v1/me/complaints', {
        category: 'SERVICE',
        text: '客服不回复',
      });
      expect(filed.statusCode, filed.body).toBe(201);
      const c = await caseOfSubject('COMPLAINT', filed.json().id);
      const res = await client(t, analyst.key).post(`/v1/cases/${c.id}/resolve`, {
        outcome: 'RESOLVED',
        textZh: '已处理。',
        textEn: ' ',
      });
      expect(res.statusCode, res.body).toBe(400);
      expect(res.json().error.code).toBe('LG_VALIDATION');
      expect(res.json().error.details).toMatchObject({ field: 'textEn' });
      const ok = await client(t, analyst.key).post(`/v1/cases/${c.id}/resolve`, {
        outcome: 'RESOLVED',
        textZh: '已处理。',
        textEn: 'Resolved.',
      });
      expect(ok.statusCode, ok.body).toBe(200);
    });
  });
