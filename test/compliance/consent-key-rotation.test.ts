import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Env } from '../../src/app/config.js';
import type { AppServices } from '../../src/app/app.js';
import { rotateData } from '../../src/cli/commands/rotate-data.js';
import { APPLICANT_ONLY } from '../helpers/app.js';
import { appStores } from '../helpers/stores.js';
import { consentFor, KEY_A, KEY_B, openBookWith } from '../helpers/key-rotation.js';
import { residentId } from '../core/harness.js';

/**
 * README "Rotating the data key": start with the new key and the old one retired, run `keys rotate-data`, then restart
 * without the retired key. A borrower's consents and credit-report inquiries are keyed by the national ID's lookup
 * hash under the key current when each was written: the gates, the history and the throttle read by the ID's hash under
 * every key held, and `rotate-data` re-keys them with the borrower.
 */
const openWith = (book: Env, key: string, retired: string[] = []) =>
  openBookWith(book, key, retired, { LINEGUARD_HARD_INQUIRIES_MAX_30D: '2' });

for (const store of appStores('consent-rotation'))
  describe.skipIf(!store.enabled)(
    `consents and inquiries across a data-key rotation on ${store.name}`,
    () => {
      const newBook = async (): Promise<Env> => ({
        ...(await store.env()),
        LINEGUARD_DATA_DIR: mkdtempSync(join(tmpdir(), 'lg-consent-rot-')),
      });
      const open: AppServices[] = [];
      afterEach(async () => {
        for (const app of open.splice(0)) await app.close();
      });

      /** A borrower who consented (both purposes) and applied under KEY_A; one POST_LOAN_MGMT pull made. */
      async function borrowerUnderKeyA(book: Env, nationalId: string) {
        const a = await openWith(book, KEY_A);
        await consentFor(a, nationalId, 'LOAN_APPROVAL');
        await consentFor(a, nationalId, 'POST_LOAN_MGMT');
        const applied = await a.core.submitApplication({
          applicant: { name: '王芳', nationalId, phone: '13900003333' },
          attributes: APPLICANT_ONLY,
        });
        const pulled = await a.consents.pullForBorrower({
          borrowerId: applied.borrowerId,
          purpose: 'POST_LOAN_MGMT',
          kind: 'hard',
          requestedBy: 'test',
          reason: 'before rotation',
        });
        expect(pulled.status).toBe('PULLED');
        const inquiries = await a.consents.inquiriesOfBorrower(applied.borrowerId);
        expect(inquiries).toHaveLength(2);
        await a.close();
        return { borrowerId: applied.borrowerId, inquiries };
      }

      it('a valid consent still permits a post-loan pull after `keys rotate-data`', async () => {
        const book = await newBook();
        const { borrowerId } = await borrowerUnderKeyA(book, residentId('19800101', 501));
        const during = await openWith(book, KEY_B, [KEY_A]);
        open.push(during);
        await rotateData(during, 100);
        const pull = await during.consents.pullForBorrower({
          borrowerId,
          purpose: 'POST_LOAN_MGMT',
          kind: 'soft',
          requestedBy: 'test',
          reason: 'after rotation',
        });
        // The consent is VALID (granted, not withdrawn, not expired); its subject hash is the old key's.
        expect(pull).toMatchObject({ status: 'PULLED' });
      });

      it("the borrower's consents and inquiry history stay visible after `keys rotate-data` (data-subject access)", async () => {
        const book = await newBook();
        const { borrowerId, inquiries } = await borrowerUnderKeyA(book, residentId('19800101', 502));
        const during = await openWith(book, KEY_B, [KEY_A]);
        open.push(during);
        await rotateData(during, 100);
        await during.close();
        open.pop();
        const after = await openWith(book, KEY_B);
        open.push(after);
        // Every consent and every pull made before the rotation stays on the borrower's file once the old key is gone.
        expect((await after.consents.consentsOfBorrower(borrowerId)).map((c) => c.purpose).sort()).toEqual([
          'LOAN_APPROVAL',
          'POST_LOAN_MGMT',
        ]);
        expect((await after.consents.inquiriesOfBorrower(borrowerId)).map((i) => i.id)).toEqual(
          inquiries.map((i) => i.id),
        );
      });

      it('the hard-inquiry throttle still counts the pulls made before `keys rotate-data`', async () => {
        const book = await newBook();
        const { borrowerId } = await borrowerUnderKeyA(book, residentId('19800101', 503));
        // Two hard pulls already (application + post-loan): the limit (2 per 30 days) is reached.
        const during = await openWith(book, KEY_B, [KEY_A]);
        open.push(during);
        await rotateData(during, 100);
        await consentFor(during, residentId('19800101', 503), 'POST_LOAN_MGMT');
        const third = await during.consents.pullForBorrower({
          borrowerId,
          purpose: 'POST_LOAN_MGMT',
          kind: 'hard',
          requestedBy: 'test',
          reason: 'third hard pull in 30 days',
        });
        // The pulls under the old key's hash still count: a third hard inquiry within 30 days is refused.
        expect(third).toMatchObject({ status: 'REFUSED', code: 'LG_INQUIRY_THROTTLED' });
      });

      it('a consent recorded while the old key is still retired (before rotate-data) permits a post-loan pull', async () => {
        const book = await newBook();
        const id = residentId('19800101', 504);
        const a = await openWith(book, KEY_A);
        await consentFor(a, id, 'LOAN_APPROVAL');
        const applied = await a.core.submitApplication({
          applicant: { name: '王芳', nationalId: id, phone: '13900003333' },
          attributes: APPLICANT_ONLY,
        });
        await a.close();
        const during = await openWith(book, KEY_B, [KEY_A]);
        open.push(during);
        const granted = await consentFor(during, id, 'POST_LOAN_MGMT');
        expect(granted.borrowerId).toBe(applied.borrowerId);
        expect(
          (await during.consents.consentsOfBorrower(applied.borrowerId)).map((c) => c.purpose),
        ).toContain('POST_LOAN_MGMT');
        const pull = await during.consents.pullForBorrower({
          borrowerId: applied.borrowerId,
          purpose: 'POST_LOAN_MGMT',
          kind: 'soft',
          requestedBy: 'test',
          reason: 'during rotation',
        });
        expect(pull).toMatchObject({ status: 'PULLED' });
      });

      it('a consent given under the old key before a borrower applied under the new one follows them through rotate-data', async () => {
        const book = await newBook();
        const id = residentId('19800101', 505);
        const a = await openWith(book, KEY_A);
        await consentFor(a, id, 'LOAN_APPROVAL');
        await consentFor(a, id, 'POST_LOAN_MGMT');
        await a.close();
        const during = await openWith(book, KEY_B, [KEY_A]);
        open.push(during);
        // The borrower row is written under the new key: nothing of theirs needs re-sealing, yet their consents do.
        const applied = await during.core.submitApplication({
          applicant: { name: '王芳', nationalId: id, phone: '13900003333' },
          attributes: APPLICANT_ONLY,
        });
        const first = await rotateData(during, 100);
        expect(first).toMatchObject({ borrowersRekeyed: 0, consentsRekeyed: 2, subjectsUnopenable: 0 });
        // Run again: nothing left under the old key's hash.
        expect(await rotateData(during, 100)).toMatchObject({ consentsRekeyed: 0, inquiriesRekeyed: 0 });
        const entries = await during.store.db
          .selectFrom('ledger_entries')
          .select('payload')
          .where('kind', '=', 'subject.rekeyed')
          .execute();
        expect(entries.map((e) => JSON.parse(e.payload) as unknown)).toEqual([
          expect.objectContaining({ borrowerIds: [applied.borrowerId], consents: 2 }),
        ]);
        await during.close();
        open.pop();
        const after = await openWith(book, KEY_B);
        open.push(after);
        expect(
          (await after.consents.consentsOfBorrower(applied.borrowerId)).map((c) => c.purpose).sort(),
        ).toEqual(['LOAN_APPROVAL', 'POST_LOAN_MGMT']);
        const pull = await after.consents.pullForBorrower({
          borrowerId: applied.borrowerId,
          purpose: 'POST_LOAN_MGMT',
          kind: 'soft',
          requestedBy: 'test',
          reason: 'after the old key is gone',
        });
        expect(pull).toMatchObject({ status: 'PULLED' });
      });
    },
  );
