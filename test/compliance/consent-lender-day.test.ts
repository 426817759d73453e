import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/domain/clock.js';
import { adminHeaders, startTestApp, type TestApp } from '../helpers/app.js';
import { residentId } from '../core/harness.js';

/**
 * A consent checks the resident ID it is given (GB 11643-1999: its birth date is a past or present day) on the
 * lender's calendar day (LINEGUARD_LENDER_UTC_OFFSET), the day the core checks the same ID on when the person applies
 * (src/core/borrowers.ts verifyApplicant), never the UTC day. At 23:30 UTC on 1 November 2026 it is already 07:30 on
 * 2 November in Beijing; at 00:30 UTC on 2 November it is still 19:30 on 1 November in New York (-05:00).
 */
const BEFORE_UTC_MIDNIGHT = Date.UTC(2026, 10, 1, 23, 30);
const AFTER_UTC_MIDNIGHT = Date.UTC(2026, 10, 2, 0, 30);

const CALENDARS = [
  { offset: '+08:00', at: BEFORE_UTC_MIDNIGHT, lenderToday: '20261102', utcToday: '20261101' },
  { offset: '-05:00', at: AFTER_UTC_MIDNIGHT, lenderToday: '20261101', utcToday: '20261102' },
] as const;

for (const calendar of CALENDARS)
  describe(`a consent's resident ID is checked on the lender's day (${calendar.offset})`, () => {
    const clock = new ManualClock(calendar.at);
    let t: TestApp;
    let n = 0;
    const consent = (nationalId: string) =>
      t.server.inject({
        method: 'POST',
        url: '/v1/consents',
        headers: adminHeaders(`lender-day-${calendar.offset.replace(/[^0-9]/g, '')}-${++n}`),
        payload: {
          nationalId,
          purpose: 'LOAN_APPROVAL',
          textVersion: 'loan-approval/2026-01',
          channel: 'APP',
        },
      });

    beforeAll(async () => {
      t = await startTestApp({ LINEGUARD_LENDER_UTC_OFFSET: calendar.offset }, { clock });
    });
    afterAll(async () => t?.close());

    it('accepts a birth date of the lender’s today and refuses one of its tomorrow, whatever day UTC says', async () => {
      const bornToday = await consent(residentId(calendar.lenderToday, 301));
      expect(bornToday.statusCode, bornToday.body).toBe(201);
      if (calendar.utcToday > calendar.lenderToday) {
        // UTC's today is the lender's tomorrow: a birth date still in the future where the lender is.
        const bornTomorrow = await consent(residentId(calendar.utcToday, 302));
        expect(bornTomorrow.statusCode, bornTomorrow.body).toBe(400);
        expect(bornTomorrow.json().error).toMatchObject({
          code: 'LG_INVALID_NATIONAL_ID',
          details: { reason: 'date' },
        });
      }
    });
  });
