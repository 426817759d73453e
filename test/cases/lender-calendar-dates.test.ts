import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ManualClock } from '../../src/domain/clock.js';
import { STRONG_APPLICANT, type TestApp } from '../helpers/app.js';
import { residentId } from '../core/harness.js';
import { CASE_STORES, client, person, startCaseApp, type Person } from './helpers.js';

/**
 * The days a borrower is shown are the lender's calendar days (LINEGUARD_LENDER_UTC_OFFSET), as a loan's dates are.
 * 17:00 UTC on 1 March 2026 is 01:00 on 2 March in Beijing: a freeze then was explained as taken "On 2026-03-01", and
 * an appeal filed then (answered within 7 days, by 01:00 on 9 March in Beijing) was promised an answer "by 2026-03-08".
 */
const BEIJING_1AM_2_MARCH = Date.UTC(2026, 2, 1, 17, 0);

for (const store of CASE_STORES)
  describe.skipIf(!store.enabled)(`the borrower's days on the lender's calendar (${store.name})`, () => {
    let t: TestApp;
    let clock: ManualClock;
    let service: Person;

    beforeAll(async () => {
      ({ t, clock } = await startCaseApp({
        ...(await store.env()),
        LINEGUARD_LENDER_UTC_OFFSET: '+08:00',
      }));
      service = await person(t, 'lender-backend', 'service');
    });
    afterAll(async () => t?.close());

    it('explains a freeze by its day in Beijing, and an open appeal by the day it will be answered there', async () => {
      clock.set(BEIJING_1AM_2_MARCH);
      const applied = (
        await client(t, service.key).post('/v1/applications', {
          applicant: { name: '吴芳', nationalId: residentId('19900202', 902), phone: '13900002222' },
          attributes: STRONG_APPLICANT,
        })
      ).json();
      const lineId = applied.line.id as string;
      const freeze = await t.app.core.applyLineAction(lineId, {
        type: 'FREEZE_DRAW',
        reasons: ['R_UTILISATION_HIGH'],
        automated: false,
        actor: 'user:risk-officer',
      });
      const token = (
        await client(t, service.key).post(`/v1/borrowers/${applied.borrowerId}/tokens`, { ttlSeconds: 900 })
      ).json().token as string;
      const explain = async (lang: 'zh' | 'en') =>
        (await client(t, token).get(`/v1/me/lines/${lineId}/explanation?lang=${lang}`)).json();

      const en = await explain('en');
      expect(en.summary).toContain('On 2026-03-02,');
      expect(en.summary).not.toContain('2026-03-01');
      expect((await explain('zh')).summary).toMatch(/^2026-03-02，/);

      const filed = await client(t, token).post('/v1/me/appeals', {
        actionId: freeze.actionId,
        text: '请重新审核。',
      });
      expect(filed.statusCode, filed.body).toBe(201);
      // The instant stays an instant; the day the borrower reads is Beijing's.
      expect(filed.json().deadline).toBe('2026-03-08T17:00:00.000Z');
      const open = await explain('en');
      expect(open.appeal.how).toContain('by 2026-03-09.');
      expect((await explain('zh')).appeal.how).toContain('2026-03-09 前答复');
    });
  });
