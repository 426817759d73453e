import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isoDate, type ManualClock } from '../../src/domain/clock.js';
import type { Env } from '../../src/app/config.js';
import { appendToLedger, fieldCryptoFromMasterKey, type FieldCrypto } from '../../src/compliance/index.js';
import { subjectHashes } from '../../src/compliance/consent.js';
import { putSandboxReport } from '../../src/compliance/bureau.js';
import { verifyLedger } from '../../src/compliance/ledger.js';
import type { BureauSubmissionRecord, CreditDisputeRecord } from '../../src/compliance/ports.js';
import type { SealedPairRow, SealedRows } from '../../src/compliance/reseal.js';
import type { SealedPair, StoredPair } from '../../src/compliance/sealed-pair.js';
import { DISPUTE_OUTCOME, DISPUTE_STATEMENT, sealOutcome } from '../../src/compliance/sealed-disputes.js';
import {
  BUREAU_SUBMISSION,
  openSubmissionRow,
  sealSubmissionRow,
} from '../../src/compliance/sealed-submissions.js';
import { createComplianceStore } from '../../src/store/compliance.js';
import { resealDecisions, resealLineActionNotes } from '../../src/store/index.js';
import { APPLICANT_ONLY, adminHeaders, type TestApp } from '../helpers/app.js';
import { appStores } from '../helpers/stores.js';
import { residentId } from '../core/harness.js';
import { client, person, startCaseApp, type Person } from '../cases/helpers.js';
import { LEGACY_RIDER_FLAG, withRider } from '../helpers/committed-seals.js';
import { appCrypto, ledgerPayload, verifyBook, verifyCommand } from '../helpers/ledger-verify.js';

/**
 * A borrower's dispute of an item of their credit report is personal data about their finances: the value they say
 * is right (the claim) and what they wrote (the text). Both are sealed in the disputes table, bound to the dispute
 * and the column; the dispute's ledger entry carries a keyed commitment to the claim instead of the claim, and the
 * ledger's fact check proves the opened claim against it (old entries, which carry the claim, against the claim).
 */
const STORES = appStores('sealed_disputes');

const CLAIMED = 424_242;
/** The dispute and the correction a test writes as the code before sealing did (clear rows, entries holding them). */
const LEGACY = {
  dispute: '01900000-0000-7000-8000-0000000d15a7',
  submission: '01900000-0000-7000-8000-0000000b5b01',
};
const PHONE = '13977776666';
const TEXT = `该笔负债已于上月结清，请致电 ${PHONE}`;

for (const store of STORES)
  describe.skipIf(!store.enabled)(`dispute claims and texts are sealed at rest (${store.name})`, () => {
    let env: Env;
    let t: TestApp;
    let clock: ManualClock;
    let analyst: Person;
    let n = 0;
    let seq = 0;
    const admin = () => client(t);
    const compliance = () => createComplianceStore(t.app.store);
    const cryptoOf = (): FieldCrypto => appCrypto(t);

    async function borrowerId(): Promise<{ borrowerId: string; hash: string }> {
      const nationalId = residentId('19850505', ++seq);
      const [hash] = subjectHashes(cryptoOf(), nationalId, isoDate(clock.now()));
      await putSandboxReport(
        compliance(),
        hash,
        { existingDebtMinor: 900_000, externalDelinquent: false, inquiries30d: 0 },
        clock.now(),
      );
      const post = (url: string, payload: unknown) =>
        t.server.inject({
          method: 'POST',
          url,
          headers: adminHeaders(`dr-${++n}`),
          payload: payload as object,
        });
      await post('/v1/consents', {
        nationalId,
        purpose: 'LOAN_APPROVAL',
        textVersion: 'loan-approval/2026-01',
        channel: 'APP',
      });
      const applied = await post('/v1/applications', {
        applicant: { name: '李雷', nationalId, phone: '13900005555' },
        attributes: APPLICANT_ONLY,
      });
      expect(applied.statusCode, applied.body).toBe(201);
      return { borrowerId: applied.json().borrowerId as string, hash };
    }

    async function raise(borrower: string, text = TEXT) {
      const raised = await admin().post('/v1/disputes', {
        borrowerId: borrower,
        target: { kind: 'REPORT_ITEM', id: 'existingDebtMinor', correctValue: CLAIMED },
        text,
      });
      expect(raised.statusCode, raised.body).toBe(201);
      return raised.json<{ id: string; caseId: string }>();
    }

    const rawDispute = (id: string) =>
      t.app.store.db.selectFrom('credit_disputes').selectAll().where('id', '=', id).executeTakeFirstOrThrow();

    beforeAll(async () => {
      env = { ...(await store.env()), LINEGUARD_BUREAU: 'sandbox' };
      ({ t, clock } = await startCaseApp(env));
      env = { ...env, LINEGUARD_DATA_DIR: t.dataDir };
      analyst = await person(t, '陈分析', 'analyst');
    });
    afterAll(async () => t?.close());

    async function restart(extra: Env = {}): Promise<void> {
      await t.close();
      ({ t, clock } = await startCaseApp({ ...env, ...extra }));
    }

    it('the row holds neither the claimed value nor the text; the ledger a commitment, not the claim', async () => {
      const { borrowerId: id } = await borrowerId();
      const dispute = await raise(id);
      const row = await rawDispute(dispute.id);
      // One token holds both (the text column says so).
      expect(row.claim).toMatch(/^lg1\./);
      expect(row.text).toBe(DISPUTE_STATEMENT.marker);
      for (const clear of [String(CLAIMED), PHONE, '结清', 'correctValue'])
        expect(JSON.stringify(row)).not.toContain(clear);
      const raised = await ledgerPayload(t, `${dispute.id}:raised`);
      expect(raised.claim).toBeUndefined();
      expect(raised.claimHmac).toMatch(/^[0-9a-f]{64}$/);
      expect(JSON.stringify(raised)).not.toContain(String(CLAIMED));

      // The operator and the borrower read them as written.
      const shown = (await admin().get(`/v1/disputes/${dispute.id}`)).json();
      expect(shown).toMatchObject({ claim: { correctValue: CLAIMED }, text: TEXT });
      const listed = (await admin().get(`/v1/borrowers/${id}/disputes`)).json().items;
      expect(listed[0]).toMatchObject({ claim: { correctValue: CLAIMED }, text: TEXT });
    });

    it('CORRECTED sends the claimed value to the bureau; the decided entry does not repeat it', async () => {
      const { borrowerId: id, hash } = await borrowerId();
      const dispute = await raise(id);
      const done = await client(t, analyst.key).post(`/v1/cases/${dispute.caseId}/resolve`, {
        outcome: 'CORRECTED',
        textZh: '已向征信机构报送更正。',
        textEn: 'We sent a correction to the credit bureau.',
      });
      expect(done.statusCode, done.body).toBe(200);
      expect(JSON.parse((await compliance().sandboxReport(hash)) ?? '{}')).toMatchObject({
        existingDebtMinor: CLAIMED,
      });
      const decided = await ledgerPayload(t, `${dispute.id}:decided`);
      expect(decided).toMatchObject({ outcome: 'CORRECTED', correction: { item: 'existingDebtMinor' } });
      expect(JSON.stringify(decided)).not.toContain(String(CLAIMED));
      expect((await verifyLedger(t.app.store.db)).ok).toBe(true);
      const proven = await verifyBook(t, cryptoOf());
      expect(proven.facts?.mismatches).toEqual([]);
      expect(proven.ok).toBe(true);
      expect(proven.facts?.checked.disputes).toBeGreaterThanOrEqual(2);
    });

    const OUTCOME = {
      textZh: `已致电 ${PHONE} 核实，已向征信机构报送更正。`,
      textEn: `Called ${PHONE}; a correction was sent.`,
    };
    const rawSubmission = (id: string) =>
      t.app.store.db
        .selectFrom('bureau_submissions')
        .selectAll()
        .where('id', '=', id)
        .executeTakeFirstOrThrow();

    /** A raised dispute of `borrower`'s, CORRECTED by the analyst: its correction is queued and sent. */
    async function corrected(borrower: { borrowerId: string }) {
      const dispute = await raise(borrower.borrowerId);
      const done = await client(t, analyst.key).post(`/v1/cases/${dispute.caseId}/resolve`, {
        outcome: 'CORRECTED',
        ...OUTCOME,
      });
      expect(done.statusCode, done.body).toBe(200);
      const { correctionId } = (await admin().get(`/v1/disputes/${dispute.id}`)).json();
      return { dispute, correctionId: correctionId as string };
    }

    it('the bureau submission keeps what is reported and about whom sealed; the sent entry a commitment', async () => {
      const borrower = await borrowerId();
      const { correctionId } = await corrected(borrower);
      const row = await rawSubmission(correctionId);
      expect(row.status).toBe('SENT');
      for (const clear of [String(CLAIMED), borrower.hash, 'existingDebtMinor'])
        expect(JSON.stringify(row)).not.toContain(clear);
      expect(row.payload).toMatch(/^lg1\./);
      const sent = await ledgerPayload(t, `${correctionId}:sent`);
      expect(JSON.stringify(sent)).not.toContain(String(CLAIMED));
      expect(sent.payloadHmac).toMatch(/^[0-9a-f]{64}$/);
      // What the bureau received is what was reported, under the subject's hash.
      const received = await compliance().sandboxSubmissions(borrower.hash);
      expect(received.map((s) => JSON.parse(s.payload) as unknown)).toEqual([
        expect.objectContaining({ item: 'existingDebtMinor', value: CLAIMED }),
      ]);
    });

    /** A correction queued (PENDING) for `subject`, sealed as the reporting code seals it, under the current key. */
    async function queued(subject: { borrowerId: string; hash: string }, id: string) {
      const row = sealSubmissionRow(cryptoOf(), {
        id,
        kind: 'CORRECTION',
        subject_hash: subject.hash,
        borrower_id: subject.borrowerId,
        bureau: 'SANDBOX',
        payload: JSON.stringify({ disputeId: id, item: 'existingDebtMinor', value: CLAIMED }),
        status: 'PENDING',
        created_at: clock.now(),
        sent_at: null,
      });
      await t.app.store.db.insertInto('bureau_submissions').values(row).execute();
      return row;
    }

    it("a submission no key opens is left pending and does not stop the others' sending", async () => {
      const first = await borrowerId();
      const second = await borrowerId();
      const sealed = await queued(first, '01900000-0000-7000-8000-0000000b5b02');
      // The second's row holds the first's sealed payload and subject (copied: its associated data names the first).
      const copied = { ...(await queued(second, '01900000-0000-7000-8000-0000000b5b03')) };
      await t.app.store.db
        .updateTable('bureau_submissions')
        .set({ payload: sealed.payload, subject_hash: sealed.subject_hash })
        .where('id', '=', copied.id)
        .execute();
      expect(await t.app.consents.reporting.flush()).toBe(1);
      expect((await rawSubmission(sealed.id)).status).toBe('SENT');
      expect((await rawSubmission(copied.id)).status).toBe('PENDING');
      expect(await compliance().sandboxSubmissions(first.hash)).toHaveLength(1);
      expect(await compliance().sandboxSubmissions(second.hash)).toEqual([]);
      // And the job that flushes runs on.
      expect(await t.app.consents.reporting.run()).toMatchObject({ submissionsSent: 0 });
      await t.app.store.db.deleteFrom('bureau_submissions').where('id', '=', copied.id).execute();
    });

    it('the outcome texts are sealed in the row and committed to in the ledger; both readers see them', async () => {
      const borrower = await borrowerId();
      const { dispute } = await corrected(borrower);
      const row = await rawDispute(dispute.id);
      expect(row.outcome_zh).toMatch(/^lg1\./);
      for (const clear of [PHONE, '核实', 'correction was sent'])
        expect(JSON.stringify(row)).not.toContain(clear);
      const decided = await ledgerPayload(t, `${dispute.id}:decided`);
      expect(JSON.stringify(decided)).not.toContain(PHONE);
      expect(decided.outcomeHmac).toMatch(/^[0-9a-f]{64}$/);
      const outcome = { zh: OUTCOME.textZh, en: OUTCOME.textEn };
      expect((await admin().get(`/v1/disputes/${dispute.id}`)).json()).toMatchObject({ outcome });
      const listed = (await admin().get(`/v1/borrowers/${borrower.borrowerId}/disputes`)).json().items;
      expect(listed[0]).toMatchObject({ id: dispute.id, outcome });
      expect((await verifyBook(t, cryptoOf())).ok).toBe(true);
    });

    it("an outcome copied from another dispute is never shown as this one's: marked in a list, 500 alone", async () => {
      const borrower = await borrowerId();
      const { dispute: first } = await corrected(await borrowerId());
      const { dispute: second } = await corrected(borrower);
      const original = await rawDispute(second.id);
      await t.app.store.db
        .updateTable('credit_disputes')
        .set({ outcome_zh: (await rawDispute(first.id)).outcome_zh })
        .where('id', '=', second.id)
        .execute();
      const read = await admin().get(`/v1/disputes/${second.id}`);
      expect([read.statusCode, read.json().error.code]).toEqual([500, 'LG_SEALED_DATA_UNREADABLE']);
      const listed = await admin().get(`/v1/borrowers/${borrower.borrowerId}/disputes`);
      expect(listed.statusCode).toBe(200);
      expect(listed.json().items[0]).toMatchObject({ id: second.id, unreadable: true });
      expect(listed.json().items[0].outcome).toBeUndefined();
      await t.app.store.db
        .updateTable('credit_disputes')
        .set({ outcome_zh: original.outcome_zh })
        .where('id', '=', second.id)
        .execute();
      expect((await admin().get(`/v1/disputes/${second.id}`)).json().outcome.zh).toBe(OUTCOME.textZh);
    });

    it('an edited claim is found by the fact check', async () => {
      const { borrowerId: id } = await borrowerId();
      const dispute = await raise(id);
      const row = await rawDispute(dispute.id);
      await t.app.store.db
        .updateTable('credit_disputes')
        .set({ claim: JSON.stringify({ correctValue: 1 }) })
        .where('id', '=', dispute.id)
        .execute();
      const edited = await verifyBook(t, cryptoOf());
      expect(edited.ok).toBe(false);
      expect(edited.facts?.mismatches).toEqual([
        expect.objectContaining({ table: 'credit_disputes', id: dispute.id, field: 'claim' }),
      ]);
      await t.app.store.db
        .updateTable('credit_disputes')
        .set({ claim: row.claim })
        .where('id', '=', dispute.id)
        .execute();
      expect((await verifyBook(t, cryptoOf())).ok).toBe(true);
    });

    it('a dispute recorded in clear before sealing still reads and verifies; rotation seals it', async () => {
      const { borrowerId: id, hash } = await borrowerId();
      const model = await rawDispute((await raise(id)).id);
      const { dispute: legacyId, submission: legacySubmission } = LEGACY;
      const claim = { correctValue: CLAIMED };
      await t.app.store.transaction(async (tx) => {
        await tx
          .insertInto('credit_disputes')
          .values({
            ...model,
            id: legacyId,
            claim: JSON.stringify(claim),
            text: TEXT,
            open_key: null,
            state: 'REJECTED',
            outcome_zh: OUTCOME.textZh,
            outcome_en: OUTCOME.textEn,
          })
          .execute();
        // A correction queued in clear by the code before sealing.
        await tx
          .insertInto('bureau_submissions')
          .values({
            id: legacySubmission,
            kind: 'CORRECTION',
            subject_hash: hash,
            borrower_id: id,
            bureau: 'SANDBOX',
            payload: JSON.stringify({ disputeId: legacyId, item: 'existingDebtMinor', value: CLAIMED }),
            status: 'PENDING',
            created_at: Number(model.created_at),
            sent_at: null,
          })
          .execute();
        // The raised entry as the code before sealing wrote it: the claim itself.
        await appendToLedger(tx, [
          {
            entryId: `${legacyId}:raised`,
            kind: 'credit_dispute.raised',
            subjectId: legacyId,
            recordedAt: Number(model.created_at),
            payload: {
              disputeId: legacyId,
              borrowerId: model.borrower_id,
              target: { kind: model.target_kind, id: model.target_id },
              claim,
              caseId: model.case_id,
              dueAt: Number(model.due_at),
              raisedBy: model.raised_by,
            },
          },
          // And its decided entry as that code wrote it: the outcome texts themselves.
          {
            entryId: `${legacyId}:decided`,
            kind: 'credit_dispute.decided',
            subjectId: legacyId,
            recordedAt: Number(model.created_at),
            payload: {
              disputeId: legacyId,
              outcome: 'REJECTED',
              by: analyst.userId,
              textZh: OUTCOME.textZh,
              textEn: OUTCOME.textEn,
              correctionId: null,
              correction: null,
              bureau: 'SANDBOX',
            },
          },
        ]);
      });
      const outcome = { zh: OUTCOME.textZh, en: OUTCOME.textEn };
      expect((await admin().get(`/v1/disputes/${legacyId}`)).json()).toMatchObject({
        claim,
        text: TEXT,
        outcome,
      });
      expect((await verifyBook(t, cryptoOf())).facts?.mismatches).toEqual([]);
      // The clear submission is sent as it is.
      expect(await t.app.consents.reporting.flush()).toBe(1);
      expect(
        (await compliance().sandboxSubmissions(hash)).map((s) => JSON.parse(s.payload) as unknown),
      ).toEqual([{ disputeId: legacyId, item: 'existingDebtMinor', value: CLAIMED }]);

      const crypto = cryptoOf();
      const rotation = await t.app.consents.disputes.reseal(2);
      expect(rotation).toMatchObject({
        keyId: crypto.currentKeyId,
        disputesSealed: 1,
        disputesUnopenable: 0,
      });
      expect(rotation).toMatchObject({ outcomesSealed: 1, outcomesUnopenable: 0 });
      const sealed = await rawDispute(legacyId);
      expect([crypto.keyIdOf(sealed.claim), sealed.text]).toEqual([
        crypto.currentKeyId,
        DISPUTE_STATEMENT.marker,
      ]);
      expect(crypto.keyIdOf(sealed.outcome_zh ?? '')).toBe(crypto.currentKeyId);
      expect(JSON.stringify(sealed)).not.toContain(PHONE);
      expect(JSON.stringify(sealed)).not.toContain('correction was sent');
      expect((await admin().get(`/v1/disputes/${legacyId}`)).json()).toMatchObject({
        claim,
        text: TEXT,
        outcome,
      });
      expect(await t.app.consents.reporting.reseal(2)).toMatchObject({
        keyId: crypto.currentKeyId,
        submissionsSealed: 1,
        submissionsUnopenable: 0,
      });
      const submission = await rawSubmission(legacySubmission);
      expect(crypto.keyIdOf(submission.payload)).toBe(crypto.currentKeyId);
      expect(JSON.stringify(submission)).not.toContain(String(CLAIMED));
      expect(JSON.stringify(submission)).not.toContain(hash);
      const proven = await verifyBook(t, crypto);
      expect(proven.facts?.mismatches).toEqual([]);
      expect(proven.ok).toBe(true);
    });

    it("a sealed claim and text copied into another dispute's row are never shown as that dispute's", async () => {
      const first = await raise((await borrowerId()).borrowerId, 'the first borrower wrote this');
      const second = await raise((await borrowerId()).borrowerId, 'the second borrower wrote this');
      const original = await rawDispute(second.id);
      await t.app.store.db
        .updateTable('credit_disputes')
        .set({ claim: (await rawDispute(first.id)).claim })
        .where('id', '=', second.id)
        .execute();
      const read = await admin().get(`/v1/disputes/${second.id}`);
      expect(read.body).not.toContain('first borrower');
      expect([read.statusCode, read.json().error.code]).toEqual([500, 'LG_SEALED_DATA_UNREADABLE']);
      await t.app.store.db
        .updateTable('credit_disputes')
        .set({ claim: original.claim })
        .where('id', '=', second.id)
        .execute();
      expect((await admin().get(`/v1/disputes/${second.id}`)).json().text).toBe(
        'the second borrower wrote this',
      );
    });

    /**
     * A sealed pair of a row rewritten through the store as `keys rotate-data` writes one: what anyone holding the
     * database and the data key can do. Answers the row as it was, to put back.
     */
    async function rewrite(
      rows: SealedRows<SealedPairRow>,
      read: SealedPairRow,
      sealed: StoredPair,
    ): Promise<SealedPairRow> {
      expect(await rows.replace([{ read, sealed: { id: read.id, ...sealed } }])).toBe(1);
      return read;
    }
    const submissionPair = (row: BureauSubmissionRecord): SealedPairRow => ({
      id: row.id,
      committed: row.payload,
      rider: row.subject_hash,
    });
    const outcomePair = (row: CreditDisputeRecord): SealedPairRow => ({
      id: row.id,
      committed: row.outcome_zh ?? '',
      rider: row.outcome_en ?? '',
    });

    describe('ledger verify proves the sent submissions and decided outcomes against their commitments', () => {
      it('a sent payload re-sealed with the same key is found: the row and the commitment that differs', async () => {
        const borrower = await borrowerId();
        const { correctionId } = await corrected(borrower);
        expect(await verifyCommand(t, cryptoOf())).toMatchObject({ exit: 0 });
        const clean = await verifyBook(t, cryptoOf());
        expect(clean.facts?.mismatches).toEqual([]);
        expect(clean.facts?.checked.submissions).toBeGreaterThanOrEqual(1);

        const stored = await rawSubmission(correctionId);
        const forged = sealSubmissionRow(cryptoOf(), {
          ...openSubmissionRow(cryptoOf(), stored).row,
          payload: JSON.stringify({ item: 'existingDebtMinor', value: 1 }),
        });
        const original = await rewrite(compliance().submissionPairs, submissionPair(stored), {
          committed: forged.payload,
          rider: forged.subject_hash,
        });
        const { payloadHmac } = await ledgerPayload(t, `${correctionId}:sent`);
        const found = await verifyBook(t, cryptoOf());
        expect(found.ok).toBe(false);
        expect(found.facts?.mismatches).toEqual([
          {
            table: 'bureau_submissions',
            id: correctionId,
            field: 'payload',
            row: expect.stringMatching(/^[0-9a-f]{64}$/),
            ledger: payloadHmac,
          },
        ]);
        const command = await verifyCommand(t, cryptoOf());
        expect(command.exit).toBe(3);
        expect(command.out).toContain(`FACT bureau_submissions ${correctionId} payload`);
        expect(command.out).not.toContain(String(CLAIMED));

        await rewrite(compliance().submissionPairs, submissionPair(forged), original);
        expect((await verifyBook(t, cryptoOf())).facts?.mismatches).toEqual([]);
      });

      it("a decided outcome re-sealed with the same key is found against the entry's commitment", async () => {
        const { dispute } = await corrected(await borrowerId());
        const stored = await rawDispute(dispute.id);
        const forged = sealOutcome(cryptoOf(), dispute.id, { zh: '维持原报送。', en: 'Upheld as reported.' });
        const original = await rewrite(compliance().outcomePairs, outcomePair(stored), {
          committed: forged.outcome_zh,
          rider: forged.outcome_en,
        });
        const { outcomeHmac } = await ledgerPayload(t, `${dispute.id}:decided`);
        const found = await verifyBook(t, cryptoOf());
        expect(found.ok).toBe(false);
        expect(found.facts?.mismatches).toEqual([
          {
            table: 'credit_disputes',
            id: dispute.id,
            field: 'outcome',
            row: forged.outcomeHmac,
            ledger: outcomeHmac,
          },
        ]);
        const command = await verifyCommand(t, cryptoOf());
        expect(command.exit).toBe(3);
        expect(command.out).toContain(`FACT credit_disputes ${dispute.id} outcome`);
        expect(command.out).not.toContain(PHONE);

        await rewrite(
          compliance().outcomePairs,
          { id: dispute.id, committed: forged.outcome_zh, rider: forged.outcome_en },
          original,
        );
        expect((await verifyBook(t, cryptoOf())).ok).toBe(true);
      });

      it('a rider re-sealed beside the same committed value and commitment key is found', async () => {
        // Anyone holding the database and the data key: each token opened, the committed value and its commitment key
        // kept, and what rides with it replaced — the English outcome the borrower reads, whose file the report was
        // about, the text the borrower wrote.
        const borrower = await borrowerId();
        const someoneElse = await borrowerId();
        const { dispute, correctionId } = await corrected(borrower);
        const decided = await rawDispute(dispute.id);
        const claimRow: SealedPairRow = { id: dispute.id, committed: decided.claim, rider: decided.text };
        const outcomeRow = outcomePair(decided);
        const submissionRow = submissionPair(await rawSubmission(correctionId));
        const { claimHmac } = await ledgerPayload(t, `${dispute.id}:raised`);
        const { outcomeHmac } = await ledgerPayload(t, `${dispute.id}:decided`);
        const { payloadHmac } = await ledgerPayload(t, `${correctionId}:sent`);
        /** The row's token sealed again with `rider` beside its committed value and commitment key. */
        const forge = (pair: SealedPair, row: SealedPairRow, rider: string, flag: number | undefined) =>
          withRider(t.app.config.masterKey, row.committed, {
            table: pair.table,
            committed: pair.committed,
            rowId: row.id,
            rider,
            flag,
          });
        const hex = expect.stringMatching(/^[0-9a-f]{64}$/);
        // The same flag, and the flag of a seal written before riders were committed (passed off as an older one).
        for (const flag of [undefined, LEGACY_RIDER_FLAG]) {
          const claim = forge(DISPUTE_STATEMENT, claimRow, 'I withdraw this dispute.', flag);
          const outcome = forge(DISPUTE_OUTCOME, outcomeRow, 'Upheld as reported.', flag);
          const payload = forge(BUREAU_SUBMISSION, submissionRow, someoneElse.hash, flag);
          // Written through the store as `keys rotate-data` writes a row; each rider's column keeps the pair's marker.
          await rewrite(compliance().disputePairs, claimRow, { committed: claim, rider: claimRow.rider });
          await rewrite(compliance().outcomePairs, outcomeRow, {
            committed: outcome,
            rider: outcomeRow.rider,
          });
          await rewrite(compliance().submissionPairs, submissionRow, {
            committed: payload,
            rider: submissionRow.rider,
          });
          // The forgeries are served as the dispute's own: the claim and the Chinese outcome as written, beside them
          // what was not.
          const served = (await admin().get(`/v1/disputes/${dispute.id}`)).json();
          expect(served).toMatchObject({
            claim: { correctValue: CLAIMED },
            text: 'I withdraw this dispute.',
            outcome: { zh: OUTCOME.textZh, en: 'Upheld as reported.' },
          });
          const found = await verifyBook(t, cryptoOf());
          expect(found.ok, `flag ${String(flag)}`).toBe(false);
          expect(found.facts?.mismatches).toEqual([
            { table: 'credit_disputes', id: dispute.id, field: 'claim', row: hex, ledger: claimHmac },
            { table: 'credit_disputes', id: dispute.id, field: 'outcome', row: hex, ledger: outcomeHmac },
            {
              table: 'bureau_submissions',
              id: correctionId,
              field: 'payload',
              row: hex,
              ledger: payloadHmac,
            },
          ]);
          const command = await verifyCommand(t, cryptoOf());
          expect(command.exit).toBe(3);
          expect(command.out).toContain(`FACT credit_disputes ${dispute.id} outcome`);
          expect(command.out).toContain(`FACT bureau_submissions ${correctionId} payload`);
          expect(command.out).not.toContain(PHONE);
          await rewrite(compliance().disputePairs, { ...claimRow, committed: claim }, claimRow);
          await rewrite(compliance().outcomePairs, { ...outcomeRow, committed: outcome }, outcomeRow);
          await rewrite(
            compliance().submissionPairs,
            { ...submissionRow, committed: payload },
            submissionRow,
          );
        }
        expect((await verifyBook(t, cryptoOf())).ok).toBe(true);
      });

      it('an entry whose row is gone, and a row marked sent or decided with no entry, are found', async () => {
        const { dispute, correctionId } = await corrected(await borrowerId());
        const submission = await rawSubmission(correctionId);
        const decided = await rawDispute(dispute.id);
        await t.app.store.db.deleteFrom('bureau_submissions').where('id', '=', correctionId).execute();
        await t.app.store.db.deleteFrom('credit_disputes').where('id', '=', dispute.id).execute();
        const gone = await verifyBook(t, cryptoOf());
        expect(gone.ok).toBe(false);
        expect(gone.facts?.mismatches).toEqual(
          expect.arrayContaining([
            {
              table: 'bureau_submissions',
              id: correctionId,
              field: '(row)',
              row: 'missing',
              ledger: 'present',
            },
            { table: 'credit_disputes', id: dispute.id, field: '(row)', row: 'missing', ledger: 'present' },
          ]),
        );
        expect(gone.facts?.mismatches).toHaveLength(2);
        await t.app.store.db.insertInto('bureau_submissions').values(submission).execute();
        await t.app.store.db.insertInto('credit_disputes').values(decided).execute();
        expect((await verifyBook(t, cryptoOf())).ok).toBe(true);

        // The other way: a queued correction marked sent, an open dispute marked decided, by an edit alone.
        const pending = await queued(await borrowerId(), '01900000-0000-7000-8000-0000000b5b05');
        const open = await raise((await borrowerId()).borrowerId);
        await t.app.store.db
          .updateTable('bureau_submissions')
          .set({ status: 'SENT', sent_at: clock.now() })
          .where('id', '=', pending.id)
          .execute();
        await t.app.store.db
          .updateTable('credit_disputes')
          .set({ state: 'REJECTED', open_key: null, resolved_at: clock.now() })
          .where('id', '=', open.id)
          .execute();
        const unrecorded = await verifyBook(t, cryptoOf());
        expect(unrecorded.facts?.mismatches).toEqual([
          { table: 'credit_disputes', id: open.id, field: 'state', row: 'REJECTED', ledger: 'OPEN' },
          { table: 'bureau_submissions', id: pending.id, field: 'status', row: 'SENT', ledger: 'PENDING' },
        ]);
        await t.app.store.db.deleteFrom('bureau_submissions').where('id', '=', pending.id).execute();
        await t.app.store.db
          .updateTable('credit_disputes')
          .set({ state: 'OPEN', open_key: decided.open_key, resolved_at: null })
          .where('id', '=', open.id)
          .execute();
      });

      it('entries written before the commitments are proven by what they carry (the payload, the texts)', async () => {
        // The legacy dispute and correction (the test above wrote them in clear; rotation sealed them since).
        const submission = await rawSubmission(LEGACY.submission);
        const dispute = await rawDispute(LEGACY.dispute);
        const sent = await ledgerPayload(t, `${LEGACY.submission}:sent`);
        expect([sent.payloadHmac, sent.payload]).toEqual([
          undefined,
          { disputeId: LEGACY.dispute, item: 'existingDebtMinor', value: CLAIMED },
        ]);
        expect((await verifyBook(t, cryptoOf())).facts?.mismatches).toEqual([]);

        const forgedPayload = sealSubmissionRow(cryptoOf(), {
          ...openSubmissionRow(cryptoOf(), submission).row,
          payload: JSON.stringify({ disputeId: LEGACY.dispute, item: 'existingDebtMinor', value: 1 }),
        });
        const payloadBefore = await rewrite(compliance().submissionPairs, submissionPair(submission), {
          committed: forgedPayload.payload,
          rider: forgedPayload.subject_hash,
        });
        const forgedOutcome = sealOutcome(cryptoOf(), LEGACY.dispute, { zh: '维持。', en: 'Upheld.' });
        const outcomeBefore = await rewrite(compliance().outcomePairs, outcomePair(dispute), {
          committed: forgedOutcome.outcome_zh,
          rider: forgedOutcome.outcome_en,
        });
        const found = await verifyBook(t, cryptoOf());
        expect(found.facts?.mismatches).toEqual([
          {
            table: 'credit_disputes',
            id: LEGACY.dispute,
            field: 'outcome',
            row: expect.any(String),
            ledger: expect.any(String),
          },
          {
            table: 'bureau_submissions',
            id: LEGACY.submission,
            field: 'payload',
            row: { disputeId: LEGACY.dispute, item: 'existingDebtMinor', value: 1 },
            ledger: sent.payload,
          },
        ]);
        // The reviewer's free text is not repeated in the report (it can name the borrower).
        expect(JSON.stringify(found.facts)).not.toContain(PHONE);
        await rewrite(
          compliance().submissionPairs,
          { id: LEGACY.submission, committed: forgedPayload.payload, rider: forgedPayload.subject_hash },
          payloadBefore,
        );
        await rewrite(
          compliance().outcomePairs,
          { id: LEGACY.dispute, committed: forgedOutcome.outcome_zh, rider: forgedOutcome.outcome_en },
          outcomeBefore,
        );
        expect((await verifyBook(t, cryptoOf())).ok).toBe(true);
      });

      it('a row sealed under a key no longer held is reported unverifiable, not as tampered nor as verified', async () => {
        const borrower = await borrowerId();
        const { dispute, correctionId } = await corrected(borrower);
        const stored = await rawSubmission(correctionId);
        const decided = await rawDispute(dispute.id);
        // Sealed under a data key this installation does not hold (a key retired and dropped from its configuration).
        const dropped = fieldCryptoFromMasterKey(Buffer.alloc(32, 0x5e));
        const underDropped = sealSubmissionRow(dropped, {
          ...stored,
          subject_hash: borrower.hash,
          payload: '{}',
        });
        const outcomeUnderDropped = sealOutcome(dropped, dispute.id, {
          zh: OUTCOME.textZh,
          en: OUTCOME.textEn,
        });
        await rewrite(compliance().submissionPairs, submissionPair(stored), {
          committed: underDropped.payload,
          rider: underDropped.subject_hash,
        });
        await rewrite(compliance().outcomePairs, outcomePair(decided), {
          committed: outcomeUnderDropped.outcome_zh,
          rider: outcomeUnderDropped.outcome_en,
        });
        const found = await verifyBook(t, cryptoOf());
        expect(found.ok).toBe(false);
        expect(found.facts?.mismatches).toEqual([]);
        expect(found.facts?.unverifiable).toEqual([
          { table: 'credit_disputes', id: dispute.id, field: 'outcome', keyId: dropped.currentKeyId },
          { table: 'bureau_submissions', id: correctionId, field: 'payload', keyId: dropped.currentKeyId },
        ]);
        const command = await verifyCommand(t, cryptoOf());
        expect(command.exit).toBe(4);
        expect(command.out).toContain(`UNVERIFIABLE bureau_submissions ${correctionId} payload`);
        expect(command.out).not.toContain('VERIFICATION FAILED');

        // A token of this installation's key copied from another row fails to open under a held key: tampering.
        const other = await rawSubmission(LEGACY.submission);
        await t.app.store.db
          .updateTable('bureau_submissions')
          .set({ payload: other.payload, subject_hash: other.subject_hash })
          .where('id', '=', correctionId)
          .execute();
        const copied = await verifyBook(t, cryptoOf());
        expect(copied.facts?.mismatches).toEqual([
          expect.objectContaining({ table: 'bureau_submissions', id: correctionId, field: 'payload' }),
        ]);
        expect((await verifyCommand(t, cryptoOf())).exit).toBe(3);
        await t.app.store.db
          .updateTable('bureau_submissions')
          .set({ payload: stored.payload, subject_hash: stored.subject_hash })
          .where('id', '=', correctionId)
          .execute();
        await t.app.store.db
          .updateTable('credit_disputes')
          .set({ outcome_zh: decided.outcome_zh, outcome_en: decided.outcome_en })
          .where('id', '=', dispute.id)
          .execute();
        expect((await verifyBook(t, cryptoOf())).ok).toBe(true);
      });
    });

    it('key rotation: a retired key still opens every dispute, rotation re-seals them, the old key can go', async () => {
      const dispute = await raise((await borrowerId()).borrowerId);
      const before = (await admin().get(`/v1/disputes/${dispute.id}`)).json();
      const decided = await corrected(await borrowerId());
      const decidedBefore = (await admin().get(`/v1/disputes/${decided.dispute.id}`)).json();
      const toSend = await queued(await borrowerId(), '01900000-0000-7000-8000-0000000b5b04');
      const keyA = t.app.config.masterKey;
      const keyB = Buffer.alloc(32, 0xcd);
      await restart({ LINEGUARD_KEY: keyB.toString('hex'), LINEGUARD_RETIRED_KEYS: keyA.toString('hex') });
      expect((await admin().get(`/v1/disputes/${dispute.id}`)).json()).toEqual(before);
      const crypto = fieldCryptoFromMasterKey(keyB, [keyA]);
      const rotation = await t.app.consents.disputes.reseal(2);
      expect(rotation).toMatchObject({ keyId: crypto.currentKeyId, disputesUnopenable: 0 });
      expect(rotation.disputesSealed).toBeGreaterThanOrEqual(6);
      expect(rotation).toMatchObject({ outcomesUnopenable: 0 });
      expect(rotation.outcomesSealed).toBeGreaterThanOrEqual(4);
      expect(await t.app.consents.disputes.reseal(2)).toMatchObject({ disputesSealed: 0, outcomesSealed: 0 });
      const submissions = await t.app.consents.reporting.reseal(2);
      expect(submissions).toMatchObject({ keyId: crypto.currentKeyId });
      expect(submissions.submissionsSealed).toBeGreaterThanOrEqual(4);
      expect(submissions.submissionsUnopenable).toBe(0);
      expect(await t.app.consents.reporting.reseal(2)).toMatchObject({ submissionsSealed: 0 });
      // What `keys rotate-data` re-seals besides: the decisions and the line actions' notes (a grant's adjustments),
      // both proven below too.
      await resealDecisions(t.app.store, crypto, 100);
      await resealLineActionNotes(t.app.store, crypto, 100);

      await restart({ LINEGUARD_KEY: keyB.toString('hex') });
      expect((await admin().get(`/v1/disputes/${dispute.id}`)).json()).toEqual(before);
      expect((await admin().get(`/v1/disputes/${decided.dispute.id}`)).json()).toEqual(decidedBefore);
      // A correction queued under the dropped key, re-sealed, still opens to be sent.
      expect(await t.app.consents.reporting.flush()).toBe(1);
      expect((await rawSubmission(toSend.id)).status).toBe('SENT');
      const proven = await verifyBook(t, cryptoOf());
      expect(proven.facts?.mismatches).toEqual([]);
      expect(proven.ok).toBe(true);
    });
  });
