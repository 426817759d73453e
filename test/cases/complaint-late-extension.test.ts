import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestApp } from '../helpers/app.js';
import type { ManualClock } from '../../src/domain/clock.js';
import {
  APPEAL_CAST,
  applicants,
  CASE_STORES,
  client,
  lineWithToken,
  startCaseAppWith,
  type Person,
} from './helpers.js';

const DAY = 24 * 3_600_000;

/**
 * A complaint's deadline is extended before it passes, never after: an extension granted late would move the due
 * date past the day it was missed, and the breach (not yet swept) would never be recorded. A late extension is refused
 * (409 LG_CASE_TRANSITION_ILLEGAL, details.dueAt), and the sweep then records the breach.
 */
for (const store of CASE_STORES)
  describe.skipIf(!store.enabled)(`extending a complaint after its deadline (${store.name})`, () => {
    let t: TestApp;
    let clock: ManualClock;
    let analyst: Person;
    let service: Person;
    beforeAll(async () => {
      ({ t, clock, analyst, service } = await startCaseAppWith(await store.env(), APPEAL_CAST));
    });
    afterAll(async () => t?.close());
    const applicant = applicants({ name: '孙丽', born: '19920303', phone: '13900003333', after: 600 });

    async function complaintCase(): Promise<{ id: string; slaDueAt: string }> {
      const { token } = await lineWithToken(t, service.key, applicant());
      const filed = await client(t, token).post('/v1/me/complaints', {
        category: 'FEES_PRICING',
        text: '费用过高',
      });
      expect(filed.statusCode, filed.body).toBe(201);
      return (await client(t, analyst.key).get('/v1/cases?type=COMPLAINT&limit=500'))
        .json()
        .items.find((c: { subjectId: string }) => c.subjectId === filed.json().id);
    }

    it('refuses an extension once the deadline has passed; the breach is then recorded', async () => {
      const c = await complaintCase();
      clock.advance(16 * DAY); // past the 15-day deadline; the SLA sweep has not run yet
      const ext = await client(t, analyst.key).post(`/v1/cases/${c.id}/extend`, { reason: 'need more time' });
      expect(ext.statusCode, ext.body).toBe(409);
      expect(ext.json().error.code).toBe('LG_CASE_TRANSITION_ILLEGAL');
      expect(ext.json().error.details).toMatchObject({ caseId: c.id, dueAt: c.slaDueAt });
      const after = (await client(t, analyst.key).get(`/v1/cases/${c.id}`)).json();
      expect(after.slaDueAt).toBe(c.slaDueAt);
      await t.app.cases.service.sweepSla();
      expect((await client(t, analyst.key).get(`/v1/cases/${c.id}`)).json().slaBreached).toBe(true);
    });

    it('extends a complaint whose deadline has not passed', async () => {
      const c = await complaintCase();
      clock.advance(14 * DAY);
      const ext = await client(t, analyst.key).post(`/v1/cases/${c.id}/extend`, { reason: 'need more time' });
      expect(ext.statusCode, ext.body).toBe(200);
      const after = (await client(t, analyst.key).get(`/v1/cases/${c.id}`)).json();
      expect(Date.parse(after.slaDueAt)).toBe(Date.parse(c.slaDueAt) + 15 * DAY);
      expect(after.slaBreached).toBe(false);
    });
  });
