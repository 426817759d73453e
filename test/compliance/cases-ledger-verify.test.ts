import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Env } from '../../src/app/config.js';
import {
  APPEAL_OUTCOME,
  APPEAL_STATEMENT,
  COMPLAINT_EXTENSION,
  COMPLAINT_RESOLUTION,
  COMPLAINT_STATEMENT,
  appendToLedger,
  fieldCryptoFromMasterKey,
  sealAppealOutcome,
  sealAppealStatement,
  sealComplaintResolution,
  sealComplaintText,
  sealExtensionReason,
  type FieldCrypto,
} from '../../src/compliance/index.js';
import { sealedPairRows, type TablePair } from '../../src/store/sealed-pairs.js';
import type { TestApp } from '../helpers/app.js';
import { appStores } from '../helpers/stores.js';
import {
  APPEAL_CAST,
  applicants,
  client,
  lineWithToken,
  startCaseAppWith,
  type Person,
} from '../cases/helpers.js';
import {
  appCrypto,
  ledgerPayload,
  ledgerEntryOf,
  verifyBook,
  verifyCommand,
  expectFindings,
  expectCleanBook,
  rewriteSealedRows,
} from '../helpers/ledger-verify.js';

/**
 * `ledger verify` proves the appeals and complaints tables against their ledger entries, as it does decisions,
 * disputes and bureau submissions: each sealed text (an appeal's text and outcome, a complaint's text, extension reason
 * and resolution) against the keyed commitment its entry carries, and the states the entries record (decided or open,
 * extended or not, resolved or open). Before, it checked neither table: a text re-sealed with the installation's key,
 * a deleted row or a state edited by SQL verified.
 */
const STORES = appStores('cases_verify');

const PHONE = '13766665555';
const TEXTS = {
  appeal: `冻结有误，请致电 ${PHONE} 核实`,
  documents: JSON.stringify(['statement-7731.pdf']),
  upheld: { textZh: `已致电 ${PHONE}，申诉成立。`, textEn: `We called ${PHONE}: upheld.` },
  rejected: { textZh: '经核实，冻结依据充分。', textEn: 'The freeze stands.' },
  complaint: `催收员夜间拨打 ${PHONE}`,
  extension: `需调取 ${PHONE} 的通话录音`,
  resolution: { textZh: `已核查 ${PHONE} 的录音。`, textEn: `We reviewed the calls to ${PHONE}.` },
};
/** An appeal and a complaint written, with their entries, as the code before the ledger committed to texts did. */
const LEGACY = {
  appeal: '01900000-0000-7000-8000-00000a9ea1e1',
  complaint: '01900000-0000-7000-8000-00000c0a1ae1',
  complaintCase: '01900000-0000-7000-8000-00000ca5ee01',
};

for (const store of STORES)
  describe.skipIf(!store.enabled)(`ledger verify proves appeals and complaints (${store.name})`, () => {
    let t: TestApp;
    let analyst: Person;
    let service: Person;
    const applicant = applicants({ name: '周敏', born: '19880808', phone: '13900007777', after: 910 });
    const cryptoOf = (): FieldCrypto => appCrypto(t);
    const staff = () => client(t, analyst.key);
    /** The book: a decided appeal with an extended, resolved complaint; an open pair; a rejected appeal. */
    const book = { decided: '', open: '', rejected: '', complaint: '', openComplaint: '' };

    const rawAppeal = (id: string) =>
      t.app.store.db.selectFrom('appeals').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    const rawComplaint = (id: string) =>
      t.app.store.db.selectFrom('complaints').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    const caseOf = async (type: string, subjectId: string) =>
      (
        (await staff().get(`/v1/cases?type=${type}&limit=200`)).json().items as {
          id: string;
          subjectId: string;
        }[]
      ).find((c) => c.subjectId === subjectId)?.id as string;

    /** A borrower with a line frozen by a person, who appeals the freeze and (with `complaint`) files a complaint. */
    async function appealed(complaint: boolean) {
      const borrower = await lineWithToken(t, service.key, applicant());
      const me = client(t, borrower.token);
      const freeze = await t.app.core.applyLineAction(borrower.lineId, {
        type: 'FREEZE_DRAW',
        reasons: ['R_UTILISATION_HIGH'],
        automated: false,
        actor: 'test',
      });
      const appeal = await me.post('/v1/me/appeals', {
        actionId: freeze.actionId,
        text: TEXTS.appeal,
        documents: JSON.parse(TEXTS.documents) as string[],
      });
      expect(appeal.statusCode, appeal.body).toBe(201);
      const appealId = appeal.json().id as string;
      if (!complaint) return { appealId, complaintId: '' };
      const filed = await me.post('/v1/me/complaints', { category: 'COLLECTION', text: TEXTS.complaint });
      expect(filed.statusCode, filed.body).toBe(201);
      return { appealId, complaintId: filed.json().id as string };
    }

    async function resolveCase(caseId: string, body: Record<string, unknown>) {
      const resolved = await staff().post(`/v1/cases/${caseId}/resolve`, body);
      expect(resolved.statusCode, resolved.body).toBe(200);
    }

    /** The legacy appeal and complaint: rows in clear, entries with no commitment (the extension's reason in clear). */
    async function writeLegacy(): Promise<void> {
      const appealModel = await rawAppeal(book.rejected);
      const complaintModel = await rawComplaint(book.complaint);
      const at = Number(appealModel.created_at);
      await t.app.store.transaction(async (tx) => {
        await tx
          .insertInto('appeals')
          .values({
            ...appealModel,
            id: LEGACY.appeal,
            target_id: LEGACY.appeal,
            text: TEXTS.appeal,
            documents: TEXTS.documents,
            state: 'REJECTED',
            outcome_zh: TEXTS.rejected.textZh,
            outcome_en: TEXTS.rejected.textEn,
          })
          .execute();
        await tx
          .insertInto('complaints')
          .values({
            ...complaintModel,
            id: LEGACY.complaint,
            case_id: LEGACY.complaintCase,
            text: TEXTS.complaint,
            extension_reason: TEXTS.extension,
            resolution_zh: TEXTS.resolution.textZh,
            resolution_en: TEXTS.resolution.textEn,
          })
          .execute();
        const target = { kind: appealModel.target_kind, id: LEGACY.appeal, lineId: appealModel.line_id };
        const entry = (
          entryId: string,
          kind: string,
          subjectId: string,
          payload: Record<string, unknown>,
        ) => ({
          entryId,
          kind,
          subjectId,
          recordedAt: at,
          payload,
        });
        await appendToLedger(tx, [
          entry(`${LEGACY.appeal}:filed`, 'appeal.filed', LEGACY.appeal, {
            appealId: LEGACY.appeal,
            borrowerId: appealModel.borrower_id,
            target,
            caseId: appealModel.case_id,
            deadlineAt: Number(appealModel.deadline_at),
          }),
          entry(`${LEGACY.appeal}:decided`, 'appeal.decided', LEGACY.appeal, {
            appealId: LEGACY.appeal,
            state: 'REJECTED',
          }),
          entry(`${LEGACY.complaint}:filed`, 'complaint.filed', LEGACY.complaint, {
            complaintId: LEGACY.complaint,
            borrowerId: complaintModel.borrower_id,
            category: complaintModel.category,
            caseId: LEGACY.complaintCase,
            dueAt: Number(complaintModel.due_at) - 15 * 86_400_000,
          }),
          entry(`${LEGACY.complaint}:extended`, 'complaint.extended', LEGACY.complaint, {
            complaintId: LEGACY.complaint,
            caseId: LEGACY.complaintCase,
            dueAt: Number(complaintModel.due_at),
            reason: TEXTS.extension,
            by: analyst.userId,
          }),
          entry(`${LEGACY.complaintCase}:resolved`, 'case.resolved', LEGACY.complaintCase, {
            caseId: LEGACY.complaintCase,
            type: 'COMPLAINT',
            from: 'ASSIGNED',
            to: 'RESOLVED',
            by: analyst.userId,
            outcome: 'RESOLVED',
            complaintId: LEGACY.complaint,
          }),
        ]);
      });
    }

    beforeAll(async () => {
      const env: Env = await store.env();
      ({ t, analyst, service } = await startCaseAppWith(env, APPEAL_CAST));
      const first = await appealed(true);
      const second = await appealed(true);
      const third = await appealed(false);
      Object.assign(book, {
        decided: first.appealId,
        complaint: first.complaintId,
        open: second.appealId,
        openComplaint: second.complaintId,
        rejected: third.appealId,
      });
      const complaintCase = await caseOf('COMPLAINT', book.complaint);
      const extended = await staff().post(`/v1/cases/${complaintCase}/extend`, { reason: TEXTS.extension });
      expect(extended.statusCode, extended.body).toBe(200);
      await resolveCase(await caseOf('APPEAL', book.decided), { outcome: 'UPHELD', ...TEXTS.upheld });
      await resolveCase(await caseOf('APPEAL', book.rejected), { outcome: 'REJECTED', ...TEXTS.rejected });
      await resolveCase(complaintCase, { outcome: 'RESOLVED', ...TEXTS.resolution });
      await writeLegacy();
    });
    afterAll(async () => t?.close());

    /** The five sealed texts of the decided appeal and the resolved complaint, as the store's re-sealer reads them. */
    async function sealedTexts() {
      const appeal = await rawAppeal(book.decided);
      const complaint = await rawComplaint(book.complaint);
      return {
        appeal: { id: appeal.id, committed: appeal.text, rider: appeal.documents },
        outcome: { id: appeal.id, committed: appeal.outcome_zh ?? '', rider: appeal.outcome_en ?? '' },
        complaint: { id: complaint.id, committed: complaint.text, rider: '' },
        extension: { id: complaint.id, committed: complaint.extension_reason ?? '', rider: '' },
        resolution: {
          id: complaint.id,
          committed: complaint.resolution_zh ?? '',
          rider: complaint.resolution_en ?? '',
        },
      };
    }

    const rowsOf = <T extends 'appeals' | 'complaints'>(pair: TablePair<T>) =>
      sealedPairRows(t.app.store, pair);

    /** Each of the five texts replaced by what `seal` makes with `crypto`; answers how to put them back. */
    async function resealAll(crypto: FieldCrypto) {
      const before = await sealedTexts();
      const appeal = sealAppealStatement(crypto, book.decided, { text: '我撤回申诉', documents: '[]' });
      const outcome = sealAppealOutcome(crypto, book.decided, { zh: '申诉不成立。', en: 'Rejected.' });
      const complaint = sealComplaintText(crypto, book.complaint, '没有问题');
      const extension = sealExtensionReason(crypto, book.complaint, '无需延期');
      const resolution = sealComplaintResolution(crypto, book.complaint, { zh: '无。', en: 'None.' });
      const written = {
        appeal: { committed: appeal.text, rider: appeal.documents },
        outcome: { committed: outcome.outcome_zh, rider: outcome.outcome_en },
        complaint: { committed: complaint.text, rider: '' },
        extension: { committed: extension.extension_reason, rider: '' },
        resolution: { committed: resolution.resolution_zh, rider: resolution.resolution_en },
      };
      const putBack = await rewriteSealedRows([
        { rows: rowsOf(APPEAL_STATEMENT), read: before.appeal, sealed: written.appeal },
        { rows: rowsOf(APPEAL_OUTCOME), read: before.outcome, sealed: written.outcome },
        { rows: rowsOf(COMPLAINT_STATEMENT), read: before.complaint, sealed: written.complaint },
        { rows: rowsOf(COMPLAINT_EXTENSION), read: before.extension, sealed: written.extension },
        { rows: rowsOf(COMPLAINT_RESOLUTION), read: before.resolution, sealed: written.resolution },
      ]);
      const commitments = {
        appeal: appeal.textHmac,
        outcome: outcome.outcomeHmac,
        complaint: complaint.textHmac,
        extension: extension.reasonHmac,
        resolution: resolution.resolutionHmac,
      };
      return { commitments, putBack };
    }

    it('a clean book verifies: every appeal and complaint checked, the ones written before commitments counted', async () => {
      await expectCleanBook(t, {
        facts: {
          checked: { appeals: 4, complaints: 3 },
          // The legacy appeal's text and outcome, the legacy complaint's text and resolution: their entries commit to
          // nothing (the legacy extension's entry holds the reason, and is compared).
          withoutCommitment: 4,
        },
        says: ['4 appeals, 3 complaints, ', '4 appeal, complaint, pending change and line action texts'],
        secret: PHONE,
      });
    });

    it('each text re-sealed with other words under the same key is a mismatch naming the table, the row and the field', async () => {
      const { commitments, putBack } = await resealAll(cryptoOf());
      const found = await verifyBook(t, cryptoOf());
      expect(found.ok).toBe(false);
      expect(found.facts?.mismatches).toEqual([
        {
          table: 'appeals',
          id: book.decided,
          field: 'text',
          row: commitments.appeal,
          ledger: (await ledgerPayload(t, `${book.decided}:filed`)).textHmac,
        },
        {
          table: 'appeals',
          id: book.decided,
          field: 'outcome',
          row: commitments.outcome,
          ledger: (await ledgerPayload(t, `${book.decided}:decided`)).outcomeHmac,
        },
        {
          table: 'complaints',
          id: book.complaint,
          field: 'text',
          row: commitments.complaint,
          ledger: (await ledgerPayload(t, `${book.complaint}:filed`)).textHmac,
        },
        {
          table: 'complaints',
          id: book.complaint,
          field: 'extension_reason',
          row: commitments.extension,
          ledger: (await ledgerPayload(t, `${book.complaint}:extended`)).reasonHmac,
        },
        {
          table: 'complaints',
          id: book.complaint,
          field: 'resolution',
          row: commitments.resolution,
          ledger: (await ledgerEntryOf(t, (await rawComplaint(book.complaint)).case_id, 'case.resolved'))
            .resolutionHmac,
        },
      ]);
      const command = await verifyCommand(t, cryptoOf());
      expect(command.exit).toBe(3);
      for (const field of ['text', 'outcome'])
        expect(command.out).toContain(`FACT appeals ${book.decided} ${field}`);
      for (const field of ['text', 'extension_reason', 'resolution'])
        expect(command.out).toContain(`FACT complaints ${book.complaint} ${field}`);
      expect(command.out).not.toContain(PHONE);

      await putBack();
      expect((await verifyBook(t, cryptoOf())).ok).toBe(true);
    });

    it('a deleted row, and states edited by SQL, disagree with the ledger', async () => {
      const appeal = await rawAppeal(book.decided);
      const complaint = await rawComplaint(book.complaint);
      const db = t.app.store.db;
      await db.deleteFrom('appeals').where('id', '=', book.decided).execute();
      await db.deleteFrom('complaints').where('id', '=', book.complaint).execute();
      const gone = await verifyBook(t, cryptoOf());
      expect(gone.ok).toBe(false);
      expect(gone.facts?.mismatches).toEqual([
        { table: 'appeals', id: book.decided, field: '(row)', row: 'missing', ledger: 'present' },
        { table: 'complaints', id: book.complaint, field: '(row)', row: 'missing', ledger: 'present' },
      ]);

      // Put back as decided appeals and resolved complaints no longer: the decision undone, the extension erased.
      const filedDue = Number((await ledgerPayload(t, `${book.complaint}:filed`)).dueAt);
      await db
        .insertInto('appeals')
        .values({ ...appeal, state: 'OPEN', outcome_zh: null, outcome_en: null, resolved_at: null })
        .execute();
      await db
        .insertInto('complaints')
        .values({ ...complaint, due_at: filedDue, extended_at: null, extension_reason: null })
        .execute();
      // And the other way: an open appeal marked upheld, an open complaint marked resolved, by an edit alone.
      await db.updateTable('appeals').set({ state: 'UPHELD' }).where('id', '=', book.open).execute();
      await db
        .updateTable('complaints')
        .set({ state: 'RESOLVED' })
        .where('id', '=', book.openComplaint)
        .execute();
      const edited = await verifyBook(t, cryptoOf());
      expectFindings(edited.facts?.mismatches, [
        { table: 'appeals', id: book.decided, field: 'state', row: 'OPEN', ledger: 'UPHELD' },
        {
          table: 'appeals',
          id: book.decided,
          field: 'outcome',
          row: null,
          ledger: (await ledgerPayload(t, `${book.decided}:decided`)).outcomeHmac,
        },
        { table: 'appeals', id: book.open, field: 'state', row: 'UPHELD', ledger: 'OPEN' },
        {
          table: 'complaints',
          id: book.complaint,
          field: 'due_at',
          row: filedDue,
          ledger: (await ledgerPayload(t, `${book.complaint}:extended`)).dueAt,
        },
        { table: 'complaints', id: book.complaint, field: 'extended_at', row: null, ledger: '(extended)' },
        {
          table: 'complaints',
          id: book.complaint,
          field: 'extension_reason',
          row: null,
          ledger: (await ledgerPayload(t, `${book.complaint}:extended`)).reasonHmac,
        },
        { table: 'complaints', id: book.openComplaint, field: 'state', row: 'RESOLVED', ledger: 'OPEN' },
      ]);
      expect((await verifyCommand(t, cryptoOf())).exit).toBe(3);

      await db.deleteFrom('appeals').where('id', '=', book.decided).execute();
      await db.deleteFrom('complaints').where('id', '=', book.complaint).execute();
      await db.insertInto('appeals').values(appeal).execute();
      await db.insertInto('complaints').values(complaint).execute();
      await db.updateTable('appeals').set({ state: 'OPEN' }).where('id', '=', book.open).execute();
      await db
        .updateTable('complaints')
        .set({ state: 'OPEN' })
        .where('id', '=', book.openComplaint)
        .execute();
      expect((await verifyBook(t, cryptoOf())).ok).toBe(true);
    });

    it('what an appeal is against and its deadline, whose a complaint is and its category: an edit is found', async () => {
      const appeal = await rawAppeal(book.open);
      const complaint = await rawComplaint(book.openComplaint);
      const other = await rawAppeal(book.decided);
      const db = t.app.store.db;
      const later = Number(appeal.deadline_at) + 86_400_000;
      await db
        .updateTable('appeals')
        .set({ target_id: other.target_id, deadline_at: later })
        .where('id', '=', book.open)
        .execute();
      await db
        .updateTable('complaints')
        .set({ borrower_id: other.borrower_id, category: 'SERVICE' })
        .where('id', '=', book.openComplaint)
        .execute();
      const filed = await ledgerPayload(t, `${book.open}:filed`);
      const complaintFiled = await ledgerPayload(t, `${book.openComplaint}:filed`);
      expect((await verifyBook(t, cryptoOf())).facts?.mismatches).toEqual([
        {
          table: 'appeals',
          id: book.open,
          field: 'target',
          row: { ...(filed.target as object), id: other.target_id },
          ledger: filed.target,
        },
        { table: 'appeals', id: book.open, field: 'deadline_at', row: later, ledger: filed.deadlineAt },
        {
          table: 'complaints',
          id: book.openComplaint,
          field: 'borrower_id',
          row: other.borrower_id,
          ledger: complaintFiled.borrowerId,
        },
        {
          table: 'complaints',
          id: book.openComplaint,
          field: 'category',
          row: 'SERVICE',
          ledger: complaintFiled.category,
        },
      ]);
      await db.deleteFrom('appeals').where('id', '=', book.open).execute();
      await db.deleteFrom('complaints').where('id', '=', book.openComplaint).execute();
      await db.insertInto('appeals').values(appeal).execute();
      await db.insertInto('complaints').values(complaint).execute();
      expect((await verifyBook(t, cryptoOf())).ok).toBe(true);
    });

    it('texts sealed under a key no longer held are unverifiable (exit 4), not tampered nor verified', async () => {
      const dropped = fieldCryptoFromMasterKey(Buffer.alloc(32, 0x5e));
      const { putBack } = await resealAll(dropped);
      const found = await verifyBook(t, cryptoOf());
      expect(found.ok).toBe(false);
      expect(found.facts?.mismatches).toEqual([]);
      const keyId = dropped.currentKeyId;
      expect(found.facts?.unverifiable).toEqual([
        { table: 'appeals', id: book.decided, field: 'text', keyId },
        { table: 'appeals', id: book.decided, field: 'outcome', keyId },
        { table: 'complaints', id: book.complaint, field: 'text', keyId },
        { table: 'complaints', id: book.complaint, field: 'extension_reason', keyId },
        { table: 'complaints', id: book.complaint, field: 'resolution', keyId },
      ]);
      const command = await verifyCommand(t, cryptoOf());
      expect(command.exit).toBe(4);
      expect(command.out).toContain(`UNVERIFIABLE appeals ${book.decided} text`);
      expect(command.out).toContain(`UNVERIFIABLE complaints ${book.complaint} resolution`);
      expect(command.out).not.toContain('VERIFICATION FAILED');

      await putBack();
      expect((await verifyBook(t, cryptoOf())).ok).toBe(true);
    });

    it('a clear text where the entry committed to a sealed one disagrees; an older entry proves what it holds', async () => {
      const appeal = await rawAppeal(book.decided);
      const complaint = await rawComplaint(book.complaint);
      const legacy = await rawComplaint(LEGACY.complaint);
      const db = t.app.store.db;
      // The decided appeal's text and the resolved complaint's resolution written back in clear.
      await db
        .updateTable('appeals')
        .set({ text: TEXTS.appeal, documents: TEXTS.documents })
        .where('id', '=', book.decided)
        .execute();
      await db
        .updateTable('complaints')
        .set({ resolution_zh: TEXTS.resolution.textZh, resolution_en: TEXTS.resolution.textEn })
        .where('id', '=', book.complaint)
        .execute();
      // The legacy complaint's reason sealed with other words: its entry holds the reason itself.
      const otherReason = sealExtensionReason(cryptoOf(), LEGACY.complaint, '客户要求延期');
      await rewriteSealedRows([
        {
          rows: rowsOf(COMPLAINT_EXTENSION),
          read: { id: LEGACY.complaint, committed: legacy.extension_reason ?? '', rider: '' },
          sealed: { committed: otherReason.extension_reason, rider: '' },
        },
      ]);
      const found = await verifyBook(t, cryptoOf());
      expectFindings(found.facts?.mismatches, [
        {
          table: 'appeals',
          id: book.decided,
          field: 'text',
          row: '(clear, the ledger committed to a sealed text)',
          ledger: (await ledgerPayload(t, `${book.decided}:filed`)).textHmac,
        },
        {
          table: 'complaints',
          id: book.complaint,
          field: 'resolution',
          row: '(clear, the ledger committed to a sealed resolution)',
          ledger: (await ledgerEntryOf(t, complaint.case_id, 'case.resolved')).resolutionHmac,
        },
        {
          table: 'complaints',
          id: LEGACY.complaint,
          field: 'extension_reason',
          row: '(another reason)',
          ledger: '(the reason the extended entry holds)',
        },
      ]);
      // The report does not repeat the reason the older entry holds (free text can name the borrower).
      expect(JSON.stringify(found.facts)).not.toContain(PHONE);
      await db.deleteFrom('appeals').where('id', '=', book.decided).execute();
      await db.deleteFrom('complaints').where('id', 'in', [book.complaint, LEGACY.complaint]).execute();
      await db.insertInto('appeals').values(appeal).execute();
      await db.insertInto('complaints').values([complaint, legacy]).execute();
      expect((await verifyBook(t, cryptoOf())).ok).toBe(true);
    });
  });
