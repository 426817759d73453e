import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isoDate, ManualClock } from '../../src/domain/clock.js';
import { seededRandom } from '../../src/domain/random.js';
import { fieldCryptoFromMasterKey } from '../../src/compliance/index.js';
import { subjectHashes } from '../../src/compliance/consent.js';
import { putSandboxReport } from '../../src/compliance/bureau.js';
import { createComplianceStore } from '../../src/store/compliance.js';
import { APPLICANT_ONLY, adminHeaders, startTestApp, type TestApp } from '../helpers/app.js';
import { appStores } from '../helpers/stores.js';
import { residentId } from '../core/harness.js';

/**
 * A client that sends one keyed write twice at once (a double tap, a retry on timeout) gets it done once. An
 * application's hard credit pull commits in its own unit before the application's unit takes the key, and a hard
 * inquiry counts against the applicant (the 30-day throttle): the second request must meet the key in flight (409)
 * before it does anything, not after both have read the key table and found nothing.
 */
for (const store of appStores('idem-in-flight'))
  describe.skipIf(!store.enabled)(`one keyed request twice at once (${store.name})`, () => {
    const clock = new ManualClock(Date.UTC(2026, 10, 2, 9));
    let t: TestApp;
    beforeAll(async () => {
      t = await startTestApp(
        { ...(await store.env()), LINEGUARD_BUREAU: 'sandbox' },
        { clock, random: seededRandom(3) },
      );
    });
    afterAll(async () => t?.close());

    it('makes one application and one hard inquiry', async () => {
      for (let round = 0; round < 3; round++) {
        const nationalId = residentId('19880101', 300 + round);
        const crypto = fieldCryptoFromMasterKey(t.app.config.masterKey, t.app.config.retiredKeys);
        const [hash] = subjectHashes(crypto, nationalId, isoDate(clock.now()));
        await putSandboxReport(
          createComplianceStore(t.app.store),
          hash,
          { existingDebtMinor: 0, externalDelinquent: false, inquiries30d: 0 },
          clock.now(),
        );
        const consent = await t.server.inject({
          method: 'POST',
          url: '/v1/consents',
          headers: adminHeaders(`consent-${round}`),
          payload: {
            nationalId,
            purpose: 'LOAN_APPROVAL',
            textVersion: 'loan-approval/2026-01',
            channel: 'APP',
          },
        });
        expect(consent.statusCode, consent.body).toBe(201);
        const send = () =>
          t.server.inject({
            method: 'POST',
            url: '/v1/applications',
            headers: adminHeaders(`double-tap-${round}`),
            payload: {
              applicant: { name: '周一', nationalId, phone: '13900001234' },
              attributes: APPLICANT_ONLY,
            },
          });
        const answers = await Promise.all([send(), send()]);
        expect(answers.map((r) => r.statusCode).sort()).toEqual([201, 409]);
        const loser = answers.find((r) => r.statusCode === 409);
        expect(loser?.json().error.code).toBe('LG_IDEMPOTENCY_IN_FLIGHT');
        const pulls = await t.app.store.db
          .selectFrom('bureau_inquiries')
          .select('id')
          .where('subject_hash', '=', hash)
          .execute();
        expect(pulls).toHaveLength(1);
      }
    });
  });
