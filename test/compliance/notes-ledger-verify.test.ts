import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CASE_NOTE,
  LINE_ACTION_NOTE,
  appendToLedger,
  fieldCryptoFromMasterKey,
  sealCaseNote,
  sealLineActionNote,
  type FieldCrypto,
} from '../../src/compliance/index.js';
import { sealedPairRows } from '../../src/store/sealed-pairs.js';
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
  expectFindings,
  ledgerEntryOf,
  ledgerPayload,
  verifyBook,
  verifyCommand,
  expectCleanBook,
  rewriteSealedRows,
} from '../helpers/ledger-verify.js';

/**
 * `ledger verify` proves the notes sealed at rest that it did not: a line action's note against its line.action
 * entry's `noteHmac`, and the note a case's resolution writes against the case.resolved entry that now names it
 * (`noteId`, `noteHmac`). Before, a line action's note re-sealed or nulled by SQL verified, and a resolution's note
 * was named by no entry: counted, so re-sealing, deleting or forging one by SQL verified too.
 */
const STORES = appStores('notes_verify');

const PHONE = '13766661111';
const TEXTS = {
  freeze: `借款人称 ${PHONE} 已停机，疑似失联`,
  resolution: `called ${PHONE}: the collector apologised`,
};
/** A case note written before resolutions named their notes: its case's resolved entry has no `noteId`. */
const LEGACY_NOTE = '01900000-0000-7000-8000-00000e0a0001';
const FORGED_NOTE = '01900000-0000-7000-8000-00000f0a6ed2';

for (const store of STORES)
  describe.skipIf(!store.enabled)(
    `ledger verify proves line-action and resolution notes (${store.name})`,
    () => {
      let t: TestApp;
      let risk: Person;
      let analyst: Person;
      let service: Person;
      const applicant = applicants({ name: '周敏', born: '19920202', phone: '13900007777', after: 940 });
      const cryptoOf = (): FieldCrypto => appCrypto(t);
      /** A frozen line's action with a note; a complaint case resolved with a note; an older case with a note. */
      const book = { lineId: '', freezeId: '', caseId: '', resolutionNote: '', legacyCase: '' };
      const db = () => t.app.store.db;
      const rawNote = (id: string) =>
        db().selectFrom('case_notes').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
      const rawAction = (id: string) =>
        db().selectFrom('line_actions').selectAll().where('id', '=', id).executeTakeFirstOrThrow();

      async function complaintCase(token: string): Promise<string> {
        const filed = await client(t, token).post('/v1/me/complaints', {
          category: 'COLLECTION',
          text: '电话太多',
        });
        expect(filed.statusCode, filed.body).toBe(201);
        const cases = (await client(t, analyst.key).get('/v1/cases?type=COMPLAINT&limit=200')).json()
          .items as {
          id: string;
          subjectId: string;
        }[];
        return cases.find((c) => c.subjectId === filed.json().id)?.id as string;
      }

      /** A case resolved before resolutions named their notes: an entry without `noteId`, a note no entry names. */
      async function writeLegacy(): Promise<void> {
        const model = await rawNote(book.resolutionNote);
        await t.app.store.transaction(async (tx) => {
          await tx
            .insertInto('case_notes')
            .values({ ...model, id: LEGACY_NOTE, case_id: book.legacyCase, text: 'resolved by phone' })
            .execute();
          await appendToLedger(tx, [
            {
              entryId: `${LEGACY_NOTE}:resolved`,
              kind: 'case.resolved',
              subjectId: book.legacyCase,
              recordedAt: Number(model.created_at),
              payload: {
                caseId: book.legacyCase,
                type: 'COMPLAINT',
                from: 'ASSIGNED',
                to: 'RESOLVED',
                by: model.author,
                outcome: 'RESOLVED',
              },
            },
          ]);
        });
      }

      beforeAll(async () => {
        ({ t, risk, analyst, service } = await startCaseAppWith(await store.env(), {
          risk: ['李强', 'risk_analyst'],
          analyst: APPEAL_CAST.analyst,
          service: APPEAL_CAST.service,
        }));
        const borrower = await lineWithToken(t, service.key, applicant());
        const frozen = await client(t, risk.key).post(`/v1/lines/${borrower.lineId}/actions`, {
          type: 'FREEZE_DRAW',
          reasons: ['R_UTILISATION_HIGH'],
          note: TEXTS.freeze,
        });
        expect(frozen.statusCode, frozen.body).toBe(201);
        book.freezeId = frozen.json().actionId as string;
        book.lineId = borrower.lineId;
        book.caseId = await complaintCase(borrower.token);
        const resolved = await client(t, analyst.key).post(`/v1/cases/${book.caseId}/resolve`, {
          outcome: 'RESOLVED',
          textZh: '已处理。',
          textEn: 'Handled.',
          note: TEXTS.resolution,
        });
        expect(resolved.statusCode, resolved.body).toBe(200);
        // The case's one note: the resolution's.
        book.resolutionNote = (
          await db()
            .selectFrom('case_notes')
            .select('id')
            .where('case_id', '=', book.caseId)
            .executeTakeFirstOrThrow()
        ).id;
        book.legacyCase = await complaintCase(borrower.token);
        await writeLegacy();
      });
      afterAll(async () => t?.close());

      /** Both notes replaced by other words sealed with `crypto`: their commitments, and how to put them back. */
      async function resealBoth(crypto: FieldCrypto) {
        const action = await rawAction(book.freezeId);
        const note = await rawNote(book.resolutionNote);
        const before = {
          action: { id: action.id, committed: action.note ?? '', rider: '' },
          note: { id: note.id, committed: note.text, rider: '' },
        };
        const other = {
          action: sealLineActionNote(crypto, book.freezeId, '无') as { sealed: string; hmac: string },
          note: sealCaseNote(crypto, book.resolutionNote, '无'),
        };
        const putBack = await rewriteSealedRows([
          {
            rows: sealedPairRows(t.app.store, LINE_ACTION_NOTE),
            read: before.action,
            sealed: { committed: other.action.sealed, rider: '' },
          },
          {
            rows: sealedPairRows(t.app.store, CASE_NOTE),
            read: before.note,
            sealed: { committed: other.note.sealed, rider: '' },
          },
        ]);
        return { commitments: { action: other.action.hmac, note: other.note.hmac }, putBack };
      }

      it('a clean book verifies: both notes proven, the older resolution note counted', async () => {
        expect((await ledgerEntryOf(t, book.caseId, 'case.resolved')).noteId).toBe(book.resolutionNote);
        await expectCleanBook(t, { facts: { unrecordedNotes: 1 }, secret: PHONE });
      });

      it('both notes re-sealed with other words under the same key are mismatches', async () => {
        const { commitments, putBack } = await resealBoth(cryptoOf());
        const found = await verifyBook(t, cryptoOf());
        expect(found.ok).toBe(false);
        expectFindings(found.facts?.mismatches, [
          {
            table: 'line_actions',
            id: book.freezeId,
            field: 'note',
            row: commitments.action,
            ledger: (await ledgerPayload(t, book.freezeId)).noteHmac,
          },
          {
            table: 'case_notes',
            id: book.resolutionNote,
            field: 'text',
            row: commitments.note,
            ledger: (await ledgerEntryOf(t, book.caseId, 'case.resolved')).noteHmac,
          },
        ]);
        const command = await verifyCommand(t, cryptoOf());
        expect(command.exit).toBe(3);
        expect(command.out).toContain(`FACT line_actions ${book.freezeId} note`);
        expect(command.out).not.toContain(PHONE);
        await putBack();
        expect((await verifyBook(t, cryptoOf())).ok).toBe(true);
      });

      it('a note nulled, a resolution note deleted, a note forged into a current case disagree; an older case only counts', async () => {
        const action = await rawAction(book.freezeId);
        const note = await rawNote(book.resolutionNote);
        await db().updateTable('line_actions').set({ note: null }).where('id', '=', book.freezeId).execute();
        await db().deleteFrom('case_notes').where('id', '=', book.resolutionNote).execute();
        await db()
          .insertInto('case_notes')
          .values({ ...note, id: FORGED_NOTE })
          .execute();
        const found = await verifyBook(t, cryptoOf());
        expectFindings(found.facts?.mismatches, [
          {
            table: 'line_actions',
            id: book.freezeId,
            field: 'note',
            row: null,
            ledger: (await ledgerPayload(t, book.freezeId)).noteHmac,
          },
          { table: 'case_notes', id: book.resolutionNote, field: '(row)', row: 'missing', ledger: 'present' },
          {
            table: 'case_notes',
            id: FORGED_NOTE,
            field: '(ledger entry)',
            row: 'present',
            ledger: 'missing',
          },
        ]);
        // The older case's note (its resolution named none) is counted, not flagged.
        expect(found.facts?.unrecordedNotes).toBe(1);
        expect((await verifyCommand(t, cryptoOf())).exit).toBe(3);
        await db().deleteFrom('case_notes').where('id', '=', FORGED_NOTE).execute();
        await db().insertInto('case_notes').values(note).execute();
        await db()
          .updateTable('line_actions')
          .set({ note: action.note })
          .where('id', '=', book.freezeId)
          .execute();
        expect((await verifyBook(t, cryptoOf())).ok).toBe(true);
      });

      it('a note forged onto an action recorded without one disagrees (its entry says "no note": noteHmac null)', async () => {
        const quiet = await client(t, risk.key).post(`/v1/lines/${book.lineId}/actions`, {
          type: 'UNFREEZE',
          reasons: ['R_UTILISATION_HIGH'],
        });
        expect(quiet.statusCode, quiet.body).toBe(201);
        const id = quiet.json().actionId as string;
        expect(await ledgerPayload(t, id)).toMatchObject({ noteHmac: null });
        expect((await verifyBook(t, cryptoOf())).facts).toMatchObject({ ok: true, mismatches: [] });
        const forged = sealLineActionNote(cryptoOf(), id, '借款人已同意') as { sealed: string };
        await db().updateTable('line_actions').set({ note: forged.sealed }).where('id', '=', id).execute();
        const found = await verifyBook(t, cryptoOf());
        await db().updateTable('line_actions').set({ note: null }).where('id', '=', id).execute();
        expectFindings(found.facts?.mismatches, [
          { table: 'line_actions', id, field: 'note', row: '(a text)', ledger: null },
        ]);
      });

      it('an older case holding more unnamed notes than its entries could have written is a mismatch', async () => {
        const note = await rawNote(LEGACY_NOTE);
        await db()
          .insertInto('case_notes')
          .values({ ...note, id: FORGED_NOTE })
          .execute();
        const found = await verifyBook(t, cryptoOf());
        // Which of the two is forged the ledger cannot say: both are reported.
        expectFindings(found.facts?.mismatches, [
          {
            table: 'case_notes',
            id: LEGACY_NOTE,
            field: '(ledger entry)',
            row: 'present',
            ledger: 'missing',
          },
          {
            table: 'case_notes',
            id: FORGED_NOTE,
            field: '(ledger entry)',
            row: 'present',
            ledger: 'missing',
          },
        ]);
        await db().deleteFrom('case_notes').where('id', '=', FORGED_NOTE).execute();
        expect((await verifyBook(t, cryptoOf())).ok).toBe(true);
      });

      it('notes sealed under a key no longer held are unverifiable (exit 4)', async () => {
        const dropped = fieldCryptoFromMasterKey(Buffer.alloc(32, 0x5c));
        const { putBack } = await resealBoth(dropped);
        const found = await verifyBook(t, cryptoOf());
        expect(found.ok).toBe(false);
        expect(found.facts?.mismatches).toEqual([]);
        const keyId = dropped.currentKeyId;
        expectFindings(found.facts?.unverifiable, [
          { table: 'line_actions', id: book.freezeId, field: 'note', keyId },
          { table: 'case_notes', id: book.resolutionNote, field: 'text', keyId },
        ]);
        expect((await verifyCommand(t, cryptoOf())).exit).toBe(4);
        await putBack();
        expect((await verifyBook(t, cryptoOf())).ok).toBe(true);
      });
    },
  );
