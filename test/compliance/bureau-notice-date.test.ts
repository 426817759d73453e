import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dateAtOffset, type ManualClock } from '../../src/domain/clock.js';
import { STRONG_APPLICANT, type TestApp } from '../helpers/app.js';
import { residentId } from '../core/harness.js';
import { CASE_STORES, client, startCaseApp } from '../cases/helpers.js';

/**
 * A delinquency notice tells the borrower the day after which the delinquency may be reported (征信业管理条例 Art. 15).
 * That day is the lender's (LINEGUARD_LENDER_UTC_OFFSET), as the loan's due dates are: a notice given at 01:00 on 23
 * February in Beijing (17:00 UTC on the 22nd) with 7 days' notice may be reported after 01:00 on 2 March there, and
 * said "by 2026-03-01", the UTC day, a day short.
 */
const BEIJING = 480;
const NOTICE_AT = Date.UTC(2026, 1, 22, 17, 0);
const REPORT_AFTER = Date.UTC(2026, 2, 1, 17, 0);

for (const store of CASE_STORES)
  describe.skipIf(!store.enabled)(
    `the delinquency notice's day on the lender's calendar (${store.name})`,
    () => {
      let t: TestApp;
      let clock: ManualClock;

      beforeAll(async () => {
        ({ t, clock } = await startCaseApp({
          ...(await store.env()),
          LINEGUARD_LENDER_UTC_OFFSET: '+08:00',
          LINEGUARD_BUREAU_NOTICE_DAYS: '7',
        }));
      });
      afterAll(async () => t?.close());

      it('names the day after which the report may be made as that day in Beijing', async () => {
        clock.set(Date.UTC(2025, 11, 1, 2, 0));
        const applied = (
          await client(t).post('/v1/applications', {
            applicant: { name: '郑强', nationalId: residentId('19870707', 917), phone: '13900007777' },
            attributes: STRONG_APPLICANT,
          })
        ).json();
        const drawn = await client(t).post(`/v1/lines/${applied.line.id}/draws`, {
          amountMinor: 300_000,
          currency: 'CNY',
          termMonths: 6,
          method: 'EQUAL_INSTALLMENT',
        });
        expect(drawn.statusCode, drawn.body).toBe(201);
        // Nobody pays: weeks past the first due date, the loan is delinquent.
        clock.set(NOTICE_AT);
        await t.app.core.runDailyJob(dateAtOffset(NOTICE_AT, BEIJING));
        expect((await t.app.consents.reporting.run()).noticesSent).toBe(1);
        const [notice] = await t.app.consents.reporting.noticesOf(applied.borrowerId as string);
        expect(notice?.reportAfter).toBe(new Date(REPORT_AFTER).toISOString());
        expect(notice?.text.en).toContain('by 2026-03-02,');
        expect(notice?.text.zh).toContain('如在 2026-03-02 前');
        expect(`${notice?.text.en} ${notice?.text.zh}`).not.toContain('2026-03-01');
      });
    },
  );
