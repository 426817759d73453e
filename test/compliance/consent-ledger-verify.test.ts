import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Env } from '../../src/app/config.js';
import type { AppServices } from '../../src/app/app.js';
import { verifyAgainstCheckpoints } from '../../src/compliance/audit.js';
import { fieldCryptoFromMasterKey } from '../../src/compliance/index.js';
import { rotateData } from '../../src/cli/commands/rotate-data.js';
import { APPLICANT_ONLY } from '../helpers/app.js';
import { appStores } from '../helpers/stores.js';
import { consentFor, KEY_A, KEY_B, openBookWith } from '../helpers/key-rotation.js';
import { residentId } from '../core/harness.js';

/**
 * `ledger verify` proves the credit-report gate's records against their entries: a consent nobody gave (a row with no
 * entry), a withdrawn consent made valid again, a pull deleted from the history (which the hard-inquiry throttle
 * counts) or turned into a refusal, a consent moved onto another person's hash — each is an edit the hash chain alone
 * does not show, and each let a report be pulled, or hid that one was. A `keys rotate-data` re-keying is followed.
 */

const openWith = openBookWith;

async function verify(app: AppServices, key: string, retired: string[] = []) {
  const result = await verifyAgainstCheckpoints(app.store.db, {
    files: [],
    trustedKey: app.evidence.publicKey,
    facts: true,
    crypto: fieldCryptoFromMasterKey(
      Buffer.from(key, 'hex'),
      retired.map((k) => Buffer.from(k, 'hex')),
    ),
  });
  return result.facts;
}

for (const store of appStores('consent-verify'))
  describe.skipIf(!store.enabled)(`ledger verify over consents and inquiries on ${store.name}`, () => {
    const open: AppServices[] = [];
    afterEach(async () => {
      for (const app of open.splice(0)) await app.close();
    });
    const newBook = async (): Promise<Env> => ({
      ...(await store.env()),
      LINEGUARD_DATA_DIR: mkdtempSync(join(tmpdir(), 'lg-consent-verify-')),
    });

    /** A borrower with both consents, one hard pull at application and one post-loan pull. */
    async function borrower(app: AppServices, seq: number) {
      const nationalId = residentId('19800101', seq);
      const approval = await consentFor(app, nationalId, 'LOAN_APPROVAL');
      const postLoan = await consentFor(app, nationalId, 'POST_LOAN_MGMT');
      const applied = await app.core.submitApplication({
        applicant: { name: '王芳', nationalId, phone: '13900003333' },
        attributes: APPLICANT_ONLY,
      });
      const pulled = await app.consents.pullForBorrower({
        borrowerId: applied.borrowerId,
        purpose: 'POST_LOAN_MGMT',
        kind: 'soft',
        requestedBy: 'test',
        reason: 'account review',
      });
      expect(pulled.status).toBe('PULLED');
      return { nationalId, borrowerId: applied.borrowerId, approval, postLoan, pullId: pulled.inquiryId };
    }

    const hashOf = async (app: AppServices, consentId: string) =>
      (
        await app.store.db
          .selectFrom('consents')
          .select('subject_hash')
          .where('id', '=', consentId)
          .executeTakeFirstOrThrow()
      ).subject_hash;

    it('checks every consent and inquiry, and finds a forged consent, a revived one and edited pulls', async () => {
      const app = await openWith(await newBook(), KEY_A);
      open.push(app);
      const a = await borrower(app, 601);
      const b = await borrower(app, 602);
      await app.consents.withdrawConsent({ consentId: b.postLoan.id, reason: 'borrower asked', by: 'test' });
      const clean = await verify(app, KEY_A);
      expect(clean?.mismatches).toEqual([]);
      expect(clean?.checked).toMatchObject({ consents: 4, inquiries: 4 });

      const db = app.store.db;
      // A consent row nobody gave: what a report would be pulled on.
      const forged = {
        ...(await db
          .selectFrom('consents')
          .selectAll()
          .where('id', '=', a.postLoan.id)
          .executeTakeFirstOrThrow()),
      };
      await db
        .insertInto('consents')
        .values({ ...forged, id: `${forged.id}-forged`, granted_at: Number(forged.granted_at) + 1 })
        .execute();
      // The withdrawn consent made valid again.
      await db
        .updateTable('consents')
        .set({ withdrawn_at: null, withdrawn_reason: null })
        .where('id', '=', b.postLoan.id)
        .execute();
      // A's consent moved onto B's hash, B's post-loan pull deleted, A's turned into a refusal.
      await db
        .updateTable('consents')
        .set({ subject_hash: await hashOf(app, b.postLoan.id) })
        .where('id', '=', a.approval.id)
        .execute();
      await db.deleteFrom('bureau_inquiries').where('id', '=', b.pullId).execute();
      await db
        .updateTable('bureau_inquiries')
        .set({ status: 'REFUSED' })
        .where('id', '=', a.pullId)
        .execute();

      const found = await verify(app, KEY_A);
      const named = (found?.mismatches ?? []).map((m) => `${m.table} ${m.id} ${m.field}`).sort();
      expect(named).toEqual(
        [
          `consents ${a.postLoan.id}-forged (ledger entry)`,
          `consents ${b.postLoan.id} withdrawn_at`,
          `consents ${b.postLoan.id} withdrawn_reason`,
          `consents ${a.approval.id} subject_hash`,
          `bureau_inquiries ${b.pullId} (row)`,
          `bureau_inquiries ${a.pullId} status`,
        ].sort(),
      );
      expect(found?.ok).toBe(false);
    });

    it('follows `keys rotate-data` from the hash each entry names to the one its row holds now', async () => {
      const book = await newBook();
      const before = await openWith(book, KEY_A);
      const a = await borrower(before, 611);
      // A consent given before its person applied, re-keyed with them.
      const early = await consentFor(before, residentId('19800101', 612), 'LOAN_APPROVAL');
      const earlyHash = await hashOf(before, early.id);
      await before.close();
      const during = await openWith(book, KEY_B, [KEY_A]);
      open.push(during);
      await during.core.submitApplication({
        applicant: { name: '李雷', nationalId: residentId('19800101', 612), phone: '13900004444' },
        attributes: APPLICANT_ONLY,
      });
      const rotated = await rotateData(during, 100);
      expect(rotated).toMatchObject({ consentsRekeyed: 3, inquiriesRekeyed: 2 });
      const moved = await during.store.db
        .selectFrom('consents')
        .select('subject_hash')
        .where('id', '=', early.id)
        .executeTakeFirstOrThrow();
      expect(moved.subject_hash).not.toBe(earlyHash);
      const facts = await verify(during, KEY_B, [KEY_A]);
      expect(facts?.mismatches).toEqual([]);
      expect(facts?.withoutCommitment).toBe(0);
      expect(facts?.checked).toMatchObject({ consents: 3, inquiries: 3 });
      // A re-keyed row moved again, by hand, onto the other person's current hash is still found.
      await during.store.db
        .updateTable('consents')
        .set({ subject_hash: moved.subject_hash })
        .where('id', '=', a.approval.id)
        .execute();
      const found = await verify(during, KEY_B, [KEY_A]);
      expect(found?.mismatches.map((m) => `${m.table} ${m.id} ${m.field}`)).toEqual([
        `consents ${a.approval.id} subject_hash`,
      ]);
    });
  });
