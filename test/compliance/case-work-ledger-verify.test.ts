import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Env } from '../../src/app/config.js';
import {
  CASE_NOTE,
  CHANGE_DECISION_NOTE,
  CHANGE_PROPOSAL,
  CHANGE_REASON,
  appendToLedger,
  fieldCryptoFromMasterKey,
  sealCaseNote,
  sealChangeProposal,
  sealDecisionNote,
  type FieldCrypto,
} from '../../src/compliance/index.js';
import type { ManualClock } from '../../src/domain/clock.js';
import { sealedPairRows, type TablePair } from '../../src/store/sealed-pairs.js';
import type { TestApp } from '../helpers/app.js';
import { appStores } from '../helpers/stores.js';
import {
  APPEAL_CAST,
  MAKER_CHECKER_CAST,
  applicants,
  client,
  lineWithToken,
  startCaseAppWith,
  type Person,
} from '../cases/helpers.js';
import {
  appCrypto,
  ledgerEntryOf,
  verifyBook,
  verifyCommand,
  expectFindings,
  expectCleanBook,
  rewriteSealedRows,
} from '../helpers/ledger-verify.js';

/**
 * `ledger verify` proves case notes and four-eyes pending changes against their ledger entries, as it does decisions,
 * disputes, bureau submissions, appeals and complaints: a note's text against its case.note (or case.moved) entry's
 * commitment; a change's payload (with its diff) and reason against change.proposed, its checker's note against
 * change.approved or change.rejected, and its state against which of the settling entries exist. Before, it checked
 * neither table: a text re-sealed with the installation's key, a deleted row or a state edited by SQL verified.
 */
const STORES = appStores('casework_verify');

const PHONE = '13755554444';
const TEXTS = {
  note: `借款人称 ${PHONE} 是其本人号码`,
  moved: `升级：${PHONE} 无人接听`,
  approval: `checked the payslip, called ${PHONE}`,
  rejection: `no income proof; ${PHONE} unreachable`,
  raise: `raise agreed on ${PHONE}`,
};
/** A note and an approved change written, with their entries, as the code before sealing did (texts in clear). */
const LEGACY = {
  note: '01900000-0000-7000-8000-0000000e07e1',
  change: '01900000-0000-7000-8000-0000c4a96e01',
};

for (const store of STORES)
  describe.skipIf(!store.enabled)(
    `ledger verify proves case notes and pending changes (${store.name})`,
    () => {
      let t: TestApp;
      let clock: ManualClock;
      let analyst: Person;
      let supervisor: Person;
      let risk: Person;
      let service: Person;
      const applicant = applicants({ name: '孙丽', born: '19900909', phone: '13900006666', after: 930 });
      const cryptoOf = (): FieldCrypto => appCrypto(t);
      /** The book: a case with a note and a note written by a move; changes approved, rejected, pending, expired. */
      const book = { caseId: '', note: '', moved: '', approved: '', rejected: '', pending: '', expired: '' };

      const db = () => t.app.store.db;
      const rawNote = (id: string) =>
        db().selectFrom('case_notes').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
      const rawChange = (id: string) =>
        db().selectFrom('pending_changes').selectAll().where('id', '=', id).executeTakeFirstOrThrow();

      /** A limit raise past the threshold, proposed by the risk analyst: its pending change's id. */
      async function raise(lineId: string, limitMinor: number): Promise<string> {
        const proposed = await client(t, risk.key).post(`/v1/lines/${lineId}/actions`, {
          type: 'LIMIT_INCREASE',
          reasons: ['R_GOOD_REPAYMENT'],
          limitMinor,
          note: TEXTS.raise,
        });
        expect(proposed.statusCode, proposed.body).toBe(202);
        return proposed.json().pendingChange.id as string;
      }

      /** A case, from a borrower's complaint, with a note and a move that writes one. */
      async function notedCase(token: string): Promise<void> {
        const filed = await client(t, token).post('/v1/me/complaints', {
          category: 'COLLECTION',
          text: '催收电话太多',
        });
        expect(filed.statusCode, filed.body).toBe(201);
        const cases = (await client(t, analyst.key).get('/v1/cases?type=COMPLAINT&limit=200')).json()
          .items as {
          id: string;
          subjectId: string;
        }[];
        book.caseId = cases.find((c) => c.subjectId === filed.json().id)?.id as string;
        const noted = await client(t, analyst.key).post(`/v1/cases/${book.caseId}/notes`, {
          text: TEXTS.note,
        });
        expect(noted.statusCode, noted.body).toBe(201);
        book.note = noted.json().id as string;
        const moved = await client(t, analyst.key).post(`/v1/cases/${book.caseId}/state`, {
          to: 'ESCALATED',
          note: TEXTS.moved,
        });
        expect(moved.statusCode, moved.body).toBe(200);
        book.moved = (await ledgerEntryOf(t, book.caseId, 'case.moved')).noteId as string;
      }

      /** Changes in each state: one expired (its time passed), then one approved, one rejected, one left pending. */
      async function changes(lineId: string, limitMinor: number): Promise<void> {
        const threshold = t.app.config.cases.fourEyes.limitIncreaseThresholdMinor;
        const above = (n: number) => Math.max(limitMinor + n * 1_000_000, threshold + n * 1_000_000);
        book.expired = await raise(lineId, above(4));
        clock.advance(t.app.config.cases.fourEyes.ttlMs + 1);
        expect(await t.app.cases.service.fourEyes.expireDue()).toBe(1);
        book.approved = await raise(lineId, above(1));
        book.pending = await raise(lineId, above(2));
        book.rejected = await raise(lineId, above(3));
        const approved = await client(t, supervisor.key).post(`/v1/changes/${book.approved}/approve`, {
          note: TEXTS.approval,
        });
        expect(approved.statusCode, approved.body).toBe(200);
        const rejected = await client(t, supervisor.key).post(`/v1/changes/${book.rejected}/reject`, {
          note: TEXTS.rejection,
        });
        expect(rejected.statusCode, rejected.body).toBe(200);
      }

      /** The legacy note and change: rows in clear, entries holding the texts (no commitments), as written before. */
      async function writeLegacy(): Promise<void> {
        const note = await rawNote(book.note);
        const model = await rawChange(book.approved);
        const opened = await t.app.cases.service.fourEyes.get(book.approved);
        const at = Number(model.created_at);
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
        await t.app.store.transaction(async (tx) => {
          await tx
            .insertInto('case_notes')
            .values({ ...note, id: LEGACY.note, text: TEXTS.note })
            .execute();
          await tx
            .insertInto('pending_changes')
            .values({
              ...model,
              id: LEGACY.change,
              payload: JSON.stringify(opened.payload),
              diff: JSON.stringify(opened.diff),
              reason: TEXTS.raise,
              decision_note: TEXTS.approval,
            })
            .execute();
          await appendToLedger(tx, [
            entry(`${LEGACY.note}:note`, 'case.note', book.caseId, {
              caseId: book.caseId,
              type: 'COMPLAINT',
              from: 'ESCALATED',
              to: 'ESCALATED',
              by: note.author,
              noteId: LEGACY.note,
              text: TEXTS.note,
            }),
            entry(`${LEGACY.change}:proposed`, 'change.proposed', LEGACY.change, {
              changeId: LEGACY.change,
              operation: model.operation,
              subjectId: model.subject_id,
              diff: opened.diff,
              reason: TEXTS.raise,
              maker: model.maker,
            }),
            entry(`${LEGACY.change}:approved`, 'change.approved', LEGACY.change, {
              changeId: LEGACY.change,
              operation: model.operation,
              maker: model.maker,
              checker: model.checker,
              note: TEXTS.approval,
            }),
          ]);
        });
      }

      beforeAll(async () => {
        const env: Env = { ...(await store.env()), LINEGUARD_FOUR_EYES: 'line.limit_increase' };
        ({ t, clock, analyst, supervisor, risk, service } = await startCaseAppWith(env, {
          ...MAKER_CHECKER_CAST,
          risk: ['李强', 'risk_analyst'],
          service: APPEAL_CAST.service,
        }));
        const borrower = await lineWithToken(t, service.key, applicant());
        await notedCase(borrower.token);
        await changes(borrower.lineId, borrower.limitMinor);
        await writeLegacy();
      });
      afterAll(async () => t?.close());

      const rowsOf = <T extends 'case_notes' | 'pending_changes'>(pair: TablePair<T>) =>
        sealedPairRows(t.app.store, pair);

      /** The six sealed texts: both notes, the approved change's payload, reason and note, the rejection's note. */
      async function sealedTexts() {
        const [note, moved, approved, rejected] = await Promise.all([
          rawNote(book.note),
          rawNote(book.moved),
          rawChange(book.approved),
          rawChange(book.rejected),
        ]);
        const alone = (id: string, committed: string | null) => ({
          id,
          committed: committed ?? '',
          rider: '',
        });
        return {
          note: alone(note.id, note.text),
          moved: alone(moved.id, moved.text),
          proposal: { id: approved.id, committed: approved.payload, rider: approved.diff },
          reason: alone(approved.id, approved.reason),
          approval: alone(approved.id, approved.decision_note),
          rejection: alone(rejected.id, rejected.decision_note),
        };
      }

      /** Each of the six replaced by other words sealed with `crypto`: their commitments, and how to put them back. */
      async function resealAll(crypto: FieldCrypto) {
        const before = await sealedTexts();
        const note = sealCaseNote(crypto, book.note, '无');
        const moved = sealCaseNote(crypto, book.moved, '无');
        const proposal = sealChangeProposal(crypto, book.approved, {
          payload: JSON.stringify({ lineId: 'another', action: {} }),
          diff: 'null',
          reason: 'another reason',
        });
        const approval = sealDecisionNote(crypto, book.approved, 'fine');
        const rejection = sealDecisionNote(crypto, book.rejected, 'no');
        const one = (committed: string) => ({ committed, rider: '' });
        const putBack = await rewriteSealedRows([
          { rows: rowsOf(CASE_NOTE), read: before.note, sealed: one(note.sealed) },
          { rows: rowsOf(CASE_NOTE), read: before.moved, sealed: one(moved.sealed) },
          {
            rows: rowsOf(CHANGE_PROPOSAL),
            read: before.proposal,
            sealed: { committed: proposal.payload, rider: proposal.diff },
          },
          { rows: rowsOf(CHANGE_REASON), read: before.reason, sealed: one(proposal.reason) },
          { rows: rowsOf(CHANGE_DECISION_NOTE), read: before.approval, sealed: one(approval.sealed) },
          { rows: rowsOf(CHANGE_DECISION_NOTE), read: before.rejection, sealed: one(rejection.sealed) },
        ]);
        const commitments = {
          note: note.hmac,
          moved: moved.hmac,
          payload: proposal.payloadHmac,
          reason: proposal.reasonHmac,
          approval: approval.hmac,
          rejection: rejection.hmac,
        };
        return { commitments, putBack };
      }

      it('a clean book verifies: every note and change checked, the legacy proposal counted without a commitment', async () => {
        await expectCleanBook(t, {
          facts: {
            checked: { notes: 3, changes: 5 },
            // The legacy change's payload: its proposed entry committed to nothing of it (its diff and reason it
            // holds).
            withoutCommitment: 1,
          },
          says: ['3 case notes, 5 pending changes, 0 consents'],
          secret: PHONE,
        });
      });

      it('each text re-sealed with other words under the same key is a mismatch naming the table, the row and the field', async () => {
        const { commitments, putBack } = await resealAll(cryptoOf());
        const found = await verifyBook(t, cryptoOf());
        expect(found.ok).toBe(false);
        const proposed = await ledgerEntryOf(t, book.approved, 'change.proposed');
        expectFindings(found.facts?.mismatches, [
          {
            table: 'case_notes',
            id: book.note,
            field: 'text',
            row: commitments.note,
            ledger: (await ledgerEntryOf(t, book.caseId, 'case.note')).textHmac,
          },
          {
            table: 'case_notes',
            id: book.moved,
            field: 'text',
            row: commitments.moved,
            ledger: (await ledgerEntryOf(t, book.caseId, 'case.moved')).noteHmac,
          },
          {
            table: 'pending_changes',
            id: book.approved,
            field: 'payload',
            row: commitments.payload,
            ledger: proposed.payloadHmac,
          },
          {
            table: 'pending_changes',
            id: book.approved,
            field: 'reason',
            row: commitments.reason,
            ledger: proposed.reasonHmac,
          },
          {
            table: 'pending_changes',
            id: book.approved,
            field: 'decision_note',
            row: commitments.approval,
            ledger: (await ledgerEntryOf(t, book.approved, 'change.approved')).noteHmac,
          },
          {
            table: 'pending_changes',
            id: book.rejected,
            field: 'decision_note',
            row: commitments.rejection,
            ledger: (await ledgerEntryOf(t, book.rejected, 'change.rejected')).noteHmac,
          },
        ]);
        const command = await verifyCommand(t, cryptoOf());
        expect(command.exit).toBe(3);
        for (const id of [book.note, book.moved]) expect(command.out).toContain(`FACT case_notes ${id} text`);
        for (const field of ['payload', 'reason', 'decision_note'])
          expect(command.out).toContain(`FACT pending_changes ${book.approved} ${field}`);
        expect(command.out).not.toContain(PHONE);

        await putBack();
        expect((await verifyBook(t, cryptoOf())).ok).toBe(true);
      });

      it('a deleted row, a row no entry records, and states edited by SQL disagree with the ledger', async () => {
        const moved = await rawNote(book.moved);
        const rejected = await rawChange(book.rejected);
        const pending = await rawChange(book.pending);
        const forged = '01900000-0000-7000-8000-00000f0a6ed1';
        await db().deleteFrom('case_notes').where('id', '=', book.moved).execute();
        await db().deleteFrom('pending_changes').where('id', '=', book.rejected).execute();
        // A change no one proposed, put in the table by SQL (its texts in clear, as an older row's).
        await db()
          .insertInto('pending_changes')
          .values({ ...pending, id: forged, payload: 'null', diff: 'null', reason: 'forged' })
          .execute();
        // An approval undone, a pending change marked approved, an expired one revived: by an edit alone.
        await db()
          .updateTable('pending_changes')
          .set({ state: 'PENDING' })
          .where('id', '=', book.approved)
          .execute();
        await db()
          .updateTable('pending_changes')
          .set({ state: 'APPROVED' })
          .where('id', '=', book.pending)
          .execute();
        await db()
          .updateTable('pending_changes')
          .set({ state: 'PENDING' })
          .where('id', '=', book.expired)
          .execute();
        const found = await verifyBook(t, cryptoOf());
        expect(found.ok).toBe(false);
        expectFindings(found.facts?.mismatches, [
          { table: 'case_notes', id: book.moved, field: '(row)', row: 'missing', ledger: 'present' },
          { table: 'pending_changes', id: book.rejected, field: '(row)', row: 'missing', ledger: 'present' },
          {
            table: 'pending_changes',
            id: forged,
            field: '(ledger entry)',
            row: 'present',
            ledger: 'missing',
          },
          { table: 'pending_changes', id: book.approved, field: 'state', row: 'PENDING', ledger: 'APPROVED' },
          { table: 'pending_changes', id: book.pending, field: 'state', row: 'APPROVED', ledger: 'PENDING' },
          { table: 'pending_changes', id: book.expired, field: 'state', row: 'PENDING', ledger: 'EXPIRED' },
        ]);
        expect((await verifyCommand(t, cryptoOf())).exit).toBe(3);

        await db().deleteFrom('pending_changes').where('id', '=', forged).execute();
        await db().insertInto('case_notes').values(moved).execute();
        await db().insertInto('pending_changes').values(rejected).execute();
        await db()
          .updateTable('pending_changes')
          .set({ state: 'APPROVED' })
          .where('id', '=', book.approved)
          .execute();
        await db()
          .updateTable('pending_changes')
          .set({ state: 'PENDING' })
          .where('id', '=', book.pending)
          .execute();
        await db()
          .updateTable('pending_changes')
          .set({ state: 'EXPIRED' })
          .where('id', '=', book.expired)
          .execute();
        expect((await verifyBook(t, cryptoOf())).ok).toBe(true);
      });

      it('texts sealed under a key no longer held are unverifiable (exit 4), not tampered nor verified', async () => {
        const dropped = fieldCryptoFromMasterKey(Buffer.alloc(32, 0x4b));
        const { putBack } = await resealAll(dropped);
        const found = await verifyBook(t, cryptoOf());
        expect(found.ok).toBe(false);
        expect(found.facts?.mismatches).toEqual([]);
        const keyId = dropped.currentKeyId;
        expectFindings(found.facts?.unverifiable, [
          { table: 'case_notes', id: book.note, field: 'text', keyId },
          { table: 'case_notes', id: book.moved, field: 'text', keyId },
          { table: 'pending_changes', id: book.approved, field: 'payload', keyId },
          { table: 'pending_changes', id: book.approved, field: 'reason', keyId },
          { table: 'pending_changes', id: book.approved, field: 'decision_note', keyId },
          { table: 'pending_changes', id: book.rejected, field: 'decision_note', keyId },
        ]);
        const command = await verifyCommand(t, cryptoOf());
        expect(command.exit).toBe(4);
        expect(command.out).toContain(`UNVERIFIABLE case_notes ${book.note} text`);
        expect(command.out).toContain(`UNVERIFIABLE pending_changes ${book.approved} payload`);
        expect(command.out).not.toContain('VERIFICATION FAILED');

        await putBack();
        expect((await verifyBook(t, cryptoOf())).ok).toBe(true);
      });

      it('a clear text where the entry committed to a sealed one disagrees; an older entry proves the texts it holds', async () => {
        const note = await rawNote(book.note);
        const legacyNote = await rawNote(LEGACY.note);
        const legacyChange = await rawChange(LEGACY.change);
        // The note written back in clear, where its entry committed to a sealed text.
        await db().updateTable('case_notes').set({ text: TEXTS.note }).where('id', '=', book.note).execute();
        // The legacy note sealed with other words (its entry holds the text itself); the legacy change's diff, reason
        // and checker's note edited in clear.
        const other = sealCaseNote(cryptoOf(), LEGACY.note, '借款人已还清');
        await rewriteSealedRows([
          {
            rows: rowsOf(CASE_NOTE),
            read: { id: LEGACY.note, committed: legacyNote.text, rider: '' },
            sealed: { committed: other.sealed, rider: '' },
          },
        ]);
        await db()
          .updateTable('pending_changes')
          .set({
            diff: JSON.stringify({ limitMinor: 1 }),
            reason: 'another reason',
            decision_note: 'another note',
          })
          .where('id', '=', LEGACY.change)
          .execute();
        const found = await verifyBook(t, cryptoOf());
        expectFindings(found.facts?.mismatches, [
          {
            table: 'case_notes',
            id: book.note,
            field: 'text',
            row: '(clear, the ledger committed to a sealed text)',
            ledger: (await ledgerEntryOf(t, book.caseId, 'case.note')).textHmac,
          },
          {
            table: 'case_notes',
            id: LEGACY.note,
            field: 'text',
            row: '(another text)',
            ledger: '(the text the note entry holds)',
          },
          {
            table: 'pending_changes',
            id: LEGACY.change,
            field: 'diff',
            row: '(another diff)',
            ledger: '(the diff the proposed entry holds)',
          },
          {
            table: 'pending_changes',
            id: LEGACY.change,
            field: 'reason',
            row: '(another reason)',
            ledger: '(the reason the proposed entry holds)',
          },
          {
            table: 'pending_changes',
            id: LEGACY.change,
            field: 'decision_note',
            row: '(another note)',
            ledger: '(the note the decided entry holds)',
          },
        ]);
        // The report does not repeat the texts the older entries hold (free text can name the borrower).
        expect(JSON.stringify(found.facts)).not.toContain(PHONE);
        await db().deleteFrom('case_notes').where('id', 'in', [book.note, LEGACY.note]).execute();
        await db().deleteFrom('pending_changes').where('id', '=', LEGACY.change).execute();
        await db().insertInto('case_notes').values([note, legacyNote]).execute();
        await db().insertInto('pending_changes').values(legacyChange).execute();
        expect((await verifyBook(t, cryptoOf())).ok).toBe(true);
      });
    },
  );
