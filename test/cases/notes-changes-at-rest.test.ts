import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Env } from '../../src/app/config.js';
import type { ManualClock } from '../../src/domain/clock.js';
import { fieldCryptoFromMasterKey, type FieldCrypto } from '../../src/compliance/index.js';
import { describeRotation, rotateData } from '../../src/cli/commands/rotate-data.js';
import type { Database } from '../../src/store/schema.js';
import type { TestApp } from '../helpers/app.js';
import {
  APPEAL_CAST,
  applicants,
  CASE_STORES,
  client,
  lineWithToken,
  MAKER_CHECKER_CAST,
  startCaseApp,
  startCaseAppWith,
  type Person,
} from './helpers.js';
import { appCrypto, ledgerPayload } from '../helpers/ledger-verify.js';

/**
 * An analyst's case notes and what a four-eyes pending change proposes (an appeal uphold's outcome texts to the
 * borrower and the maker's note, a line action's note; the maker's reason, the checker's decision note) are free text
 * that names borrowers, phones, debts: personal data (PIPL Art. 51). They were stored in clear in `case_notes` and
 * `pending_changes`, and the case.note, change.proposed, change.approved and change.rejected ledger entries repeated
 * them. Each is sealed at rest now, bound to its row and column; the ledger carries keyed commitments instead; every
 * reader shows them as written and the approval applies exactly what was proposed; rows written in clear before are
 * read as they are and sealed by `keys rotate-data`; a row no key opens is marked in a list and never breaks it.
 */
const PHONE = '13766662222';
const NOTE = `借款人称 ${PHONE} 是其本人号码，欠款已结清`;
const OUTCOME = { textZh: `已致电 ${PHONE} 核实，申诉成立。`, textEn: `We called ${PHONE}: upheld.` };
const UPHOLD_NOTE = `called ${PHONE}, the transfer was the borrower's own`;
const RAISE_NOTE = `raise agreed on ${PHONE} after payslip check`;
const APPROVAL_NOTE = `checked the recording of ${PHONE}`;
const CLEAR_FRAGMENTS = [PHONE, '欠款已结清', '申诉成立', 'payslip', 'recording of'];
/** The tables a note, a proposal and its approval write. */
const WRITTEN: readonly (keyof Database)[] = [
  'case_notes',
  'pending_changes',
  'cases',
  'ledger_entries',
  'idempotency_keys',
  'outbox',
];

for (const store of CASE_STORES)
  describe.skipIf(!store.enabled)(`case notes and pending changes are sealed at rest (${store.name})`, () => {
    let env: Env;
    let t: TestApp;
    let clock: ManualClock;
    let analyst: Person;
    let supervisor: Person;
    let risk: Person;
    let service: Person;
    let seed = 40;
    const applicant = applicants({ name: '钱多', born: '19880808', phone: '13900005555', after: 610 });
    const cryptoOf = (): FieldCrypto => appCrypto(t);

    beforeAll(async () => {
      env = {
        ...(await store.env()),
        LINEGUARD_FOUR_EYES: 'line.limit_increase,line.lift_fraud_restriction',
      };
      ({ t, clock, analyst, supervisor, risk, service } = await startCaseAppWith(env, {
        ...MAKER_CHECKER_CAST,
        risk: ['李强', 'risk_analyst'],
        service: APPEAL_CAST.service,
      }));
      env = { ...env, LINEGUARD_DATA_DIR: t.dataDir };
    });
    afterAll(async () => t?.close());

    async function restart(extra: Env = {}): Promise<void> {
      await t.close();
      ({ t, clock } = await startCaseApp({ ...env, ...extra }, ++seed));
    }

    const db = () => t.app.store.db;
    const dump = async () =>
      JSON.stringify(await Promise.all(WRITTEN.map((table) => db().selectFrom(table).selectAll().execute())));
    const rawChange = (id: string) =>
      db().selectFrom('pending_changes').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    const rawNote = (id: string) =>
      db().selectFrom('case_notes').selectAll().where('id', '=', id).executeTakeFirstOrThrow();

    /**
     * A line frozen for a scam pattern, the borrower's appeal, a note on its case, the uphold proposed for a second
     * person (lifting a fraud restriction), and a limit raise past the threshold with a note, proposed too.
     */
    async function proposed() {
      const borrower = await lineWithToken(t, service.key, applicant());
      const freeze = await t.app.core.applyLineAction(borrower.lineId, {
        type: 'FREEZE_DRAW',
        reasons: ['R_SCAM_TRANSFER_PATTERN'],
        automated: false,
        actor: 'test',
      });
      const filed = await client(t, borrower.token).post('/v1/me/appeals', {
        actionId: freeze.actionId,
        text: '转账是我本人操作的。',
      });
      expect(filed.statusCode, filed.body).toBe(201);
      const caseId = (
        await client(t, analyst.key).get(`/v1/cases?type=APPEAL&lineId=${borrower.lineId}`)
      ).json().items[0].id as string;
      const noted = await client(t, analyst.key).post(`/v1/cases/${caseId}/notes`, { text: NOTE });
      expect(noted.statusCode, noted.body).toBe(201);
      expect(noted.json().text).toBe(NOTE);
      const uphold = await client(t, analyst.key).post(`/v1/cases/${caseId}/resolve`, {
        outcome: 'UPHELD',
        ...OUTCOME,
        note: UPHOLD_NOTE,
      });
      expect(uphold.statusCode, uphold.body).toBe(202);
      const raise = await client(t, risk.key).post(`/v1/lines/${borrower.lineId}/actions`, {
        type: 'LIMIT_INCREASE',
        reasons: ['R_GOOD_REPAYMENT'],
        limitMinor: Math.max(
          borrower.limitMinor + 1_000_000,
          t.app.config.cases.fourEyes.limitIncreaseThresholdMinor,
        ),
        note: RAISE_NOTE,
      });
      expect(raise.statusCode, raise.body).toBe(202);
      return {
        ...borrower,
        caseId,
        noteId: noted.json().id as string,
        upholdId: uphold.json().pendingChange.id as string,
        raiseId: raise.json().pendingChange.id as string,
      };
    }
    type Proposed = Awaited<ReturnType<typeof proposed>>;

    /** The case view (its notes) and the checker's list and detail show the texts exactly as written. */
    async function expectReadersShowThem(p: Proposed) {
      const shown = await client(t, analyst.key).get(`/v1/cases/${p.caseId}`);
      expect(shown.statusCode, shown.body).toBe(200);
      expect(shown.json().notes).toContainEqual(expect.objectContaining({ id: p.noteId, text: NOTE }));
      const listed = await client(t, supervisor.key).get('/v1/changes?limit=200');
      expect(listed.statusCode, listed.body).toBe(200);
      const items = listed.json().items as Record<string, unknown>[];
      const uphold = {
        id: p.upholdId,
        reason: UPHOLD_NOTE,
        payload: expect.objectContaining({
          input: expect.objectContaining({ ...OUTCOME, note: UPHOLD_NOTE }),
        }),
      };
      const raise = {
        id: p.raiseId,
        reason: RAISE_NOTE,
        payload: expect.objectContaining({ action: expect.objectContaining({ note: RAISE_NOTE }) }),
        diff: expect.objectContaining({ note: RAISE_NOTE }),
      };
      expect(items).toContainEqual(expect.objectContaining(uphold));
      expect(items).toContainEqual(expect.objectContaining(raise));
      expect((await client(t, supervisor.key).get(`/v1/changes/${p.upholdId}`)).json()).toMatchObject(uphold);
      expect((await client(t, supervisor.key).get(`/v1/changes/${p.raiseId}`)).json()).toMatchObject(raise);
    }

    /** The uphold approved: the borrower is shown exactly the proposed outcome text. */
    async function approveUphold(p: Proposed) {
      const approved = await client(t, supervisor.key).post(`/v1/changes/${p.upholdId}/approve`, {
        note: APPROVAL_NOTE,
      });
      expect(approved.statusCode, approved.body).toBe(200);
      expect(approved.json()).toMatchObject({ state: 'APPROVED', decisionNote: APPROVAL_NOTE });
      for (const lang of ['zh', 'en'] as const) {
        const appeals = (await client(t, p.token).get(`/v1/me/appeals?lang=${lang}`)).json().items;
        expect(appeals[0]).toMatchObject({
          state: 'UPHELD',
          outcome: { text: lang === 'zh' ? OUTCOME.textZh : OUTCOME.textEn },
        });
      }
      expect((await client(t).get(`/v1/lines/${p.lineId}`)).json().status).toBe('ACTIVE');
    }

    it('no table holds the texts in clear; the ledger commits to them; readers and the approval use them', async () => {
      const p = await proposed();
      for (const id of [p.upholdId, p.raiseId]) {
        const raw = await rawChange(id);
        for (const sealed of [raw.payload, raw.reason]) expect(sealed).toMatch(/^lg1\./);
      }
      expect((await rawNote(p.noteId)).text).toMatch(/^lg1\./);
      await expectReadersShowThem(p);
      await approveUphold(p);
      const rejected = await client(t, supervisor.key).post(`/v1/changes/${p.raiseId}/reject`, {
        note: APPROVAL_NOTE,
      });
      expect(rejected.statusCode, rejected.body).toBe(200);
      expect(rejected.json().decisionNote).toBe(APPROVAL_NOTE);
      expect((await rawChange(p.upholdId)).decision_note).toMatch(/^lg1\./);
      const everything = await dump();
      for (const clear of CLEAR_FRAGMENTS) expect(everything).not.toContain(clear);
      // The ledger commits to each sealed text (a keyed commitment, never the text).
      const hmac = /^[0-9a-f]{64}$/;
      expect(await ledgerPayload(t, `${p.upholdId}:proposed`)).toMatchObject({
        payloadHmac: expect.stringMatching(hmac),
        reasonHmac: expect.stringMatching(hmac),
      });
      expect((await ledgerPayload(t, `${p.upholdId}:approved`)).noteHmac).toMatch(hmac);
      expect((await ledgerPayload(t, `${p.raiseId}:rejected`)).noteHmac).toMatch(hmac);
      const noteEntry = await db()
        .selectFrom('ledger_entries')
        .select('payload')
        .where('subject_id', '=', p.caseId)
        .where('kind', '=', 'case.note')
        .executeTakeFirstOrThrow();
      expect(JSON.parse(noteEntry.payload)).toMatchObject({
        noteId: p.noteId,
        textHmac: expect.stringMatching(hmac),
      });
    });

    it('rows written in clear read as written and approve as proposed; rotate-data seals them, then re-seals under a new key', async () => {
      const p = await proposed();
      // As the code before sealing wrote them.
      const payloadOf = (id: string) => t.app.cases.service.fourEyes.get(id);
      for (const id of [p.upholdId, p.raiseId]) {
        const view = await payloadOf(id);
        await db()
          .updateTable('pending_changes')
          .set({
            payload: JSON.stringify(view.payload),
            diff: JSON.stringify(view.diff),
            reason: view.reason ?? '',
          })
          .where('id', '=', id)
          .execute();
      }
      await db().updateTable('case_notes').set({ text: NOTE }).where('id', '=', p.noteId).execute();
      await expectReadersShowThem(p);

      const crypto = cryptoOf();
      const rotation = await rotateData(t.app, 2);
      expect(rotation).toMatchObject({
        caseNotesSealed: 1,
        changeProposalsSealed: 2,
        changeReasonsSealed: 2,
        caseNotesUnopenable: 0,
        changeProposalsUnopenable: 0,
      });
      expect(describeRotation(rotation)).toMatch(/1 of \d+ case notes/);
      expect(crypto.keyIdOf((await rawNote(p.noteId)).text)).toBe(crypto.currentKeyId);
      expect(crypto.keyIdOf((await rawChange(p.upholdId)).payload)).toBe(crypto.currentKeyId);
      for (const clear of CLEAR_FRAGMENTS) expect(await dump()).not.toContain(clear);
      await expectReadersShowThem(p);

      // A new key: the retired one still opens them, rotation re-seals them.
      const keyA = t.app.config.masterKey;
      const keyB = Buffer.alloc(32, 0x6d);
      await restart({ LINEGUARD_KEY: keyB.toString('hex'), LINEGUARD_RETIRED_KEYS: keyA.toString('hex') });
      const underB = fieldCryptoFromMasterKey(keyB, [keyA]);
      const again = await rotateData(t.app, 2);
      expect(again).toMatchObject({ keyId: underB.currentKeyId, caseNotesUnopenable: 0 });
      expect(again.caseNotesSealed).toBeGreaterThanOrEqual(1);
      expect(again.changeProposalsSealed).toBeGreaterThanOrEqual(2);
      for (const id of [p.upholdId, p.raiseId])
        expect(underB.keyIdOf((await rawChange(id)).reason)).toBe(underB.currentKeyId);
      await restart({ LINEGUARD_KEY: keyB.toString('hex') });
      await expectReadersShowThem(p);
      await approveUphold(p);
    });

    /** Two proposals; the second's change given the first's sealed texts (bound to the first's row: they do not open). */
    async function secondUnreadable() {
      const first = await proposed();
      const second = await proposed();
      const copied = await rawChange(first.upholdId);
      await db()
        .updateTable('pending_changes')
        .set({ payload: copied.payload, diff: copied.diff, reason: copied.reason })
        .where('id', '=', second.upholdId)
        .execute();
      return { first, second };
    }

    it('a row no key opens is marked unreadable in a list, answers LG_SEALED_DATA_UNREADABLE alone, is never approved but may be rejected', async () => {
      const { first, second } = await secondUnreadable();
      await db()
        .updateTable('case_notes')
        .set({ text: (await rawNote(first.noteId)).text })
        .where('id', '=', second.noteId)
        .execute();

      const listed = await client(t, supervisor.key).get('/v1/changes?limit=200');
      expect(listed.statusCode, listed.body).toBe(200);
      const marked = (listed.json().items as Record<string, unknown>[]).find((c) => c.id === second.upholdId);
      expect(marked).toMatchObject({ payload: null, diff: null, reason: null });
      expect(marked?.unreadable).toContain('cannot be opened');
      const alone = await client(t, supervisor.key).get(`/v1/changes/${second.upholdId}`);
      expect([alone.statusCode, alone.json().error.code]).toEqual([500, 'LG_SEALED_DATA_UNREADABLE']);
      const approve = await client(t, supervisor.key).post(`/v1/changes/${second.upholdId}/approve`, {});
      expect(approve.json().error.code).toBe('LG_SEALED_DATA_UNREADABLE');
      expect((await rawChange(second.upholdId)).state).toBe('PENDING');

      const shown = await client(t, analyst.key).get(`/v1/cases/${second.caseId}`);
      expect(shown.statusCode, shown.body).toBe(200);
      const note = (shown.json().notes as Record<string, unknown>[]).find((n) => n.id === second.noteId);
      expect(note).toMatchObject({ text: null });
      expect(note?.unreadable).toContain('cannot be opened');
      // Nothing of the first's texts is shown as the second's (the list shows the first's own rows, readable).
      for (const body of [JSON.stringify(marked), alone.body, approve.body, shown.body])
        expect(body).not.toContain(PHONE);
      await expectReadersShowThem(first);

      // Nobody can read it, so nobody can approve it; a checker may still refuse it (a rejection applies nothing),
      // and the case that proposed it goes back to its maker.
      const rejected = await client(t, supervisor.key).post(`/v1/changes/${second.upholdId}/reject`, {
        note: 'cannot be read here: propose it again',
      });
      expect(rejected.statusCode, rejected.body).toBe(200);
      expect(rejected.json()).toMatchObject({ state: 'REJECTED', payload: null, reason: null });
      expect(rejected.json().unreadable).toContain('cannot be opened');
      expect(rejected.body).not.toContain(PHONE);
      const back = (await client(t, analyst.key).get(`/v1/cases/${second.caseId}`)).json();
      expect(back).toMatchObject({ state: 'ASSIGNED', assignee: analyst.userId });
      const texts = (back.notes as { text: string | null }[]).map((n) => n.text ?? '');
      expect(texts.some((text) => text.startsWith('The proposed outcome'))).toBe(true);
    });

    it('a change whose proposal no key opens still expires, and the case that proposed it goes back to a person', async () => {
      const { first, second } = await secondUnreadable();
      clock.advance(t.app.config.cases.fourEyes.ttlMs + 1);
      const expireDue = () => t.app.cases.service.fourEyes.expireDue();
      expect(await expireDue()).toBeGreaterThanOrEqual(2);
      // It stayed PENDING for ever (the expiry told its operation the payload, which does not open), its case waiting
      // on it, and the job tried it again on every run.
      expect((await rawChange(second.upholdId)).state).toBe('EXPIRED');
      expect((await rawChange(first.upholdId)).state).toBe('EXPIRED');
      expect(await expireDue()).toBe(0);
      const shown = await client(t, analyst.key).get(`/v1/cases/${second.caseId}`);
      expect(shown.statusCode, shown.body).toBe(200);
      expect(shown.json()).toMatchObject({ state: 'ASSIGNED', assignee: analyst.userId });
      const notes = (shown.json().notes as { text: string | null }[]).map((n) => n.text ?? '');
      expect(notes.some((text) => text.includes('its proposal cannot be opened'))).toBe(true);
      // The readable one went back as it always has, its outcome named.
      const other = (await client(t, analyst.key).get(`/v1/cases/${first.caseId}`)).json();
      expect(other.state).toBe('ASSIGNED');
      expect((other.notes as { text: string | null }[]).some((n) => n.text?.startsWith('UPHELD'))).toBe(true);
      const entries = await db()
        .selectFrom('ledger_entries')
        .select(['kind', 'payload'])
        .where('subject_id', 'in', [second.upholdId, second.caseId])
        .execute();
      expect(entries.map((e) => e.kind)).toEqual(
        expect.arrayContaining(['change.expired', 'case.change_expired']),
      );
      const expired = entries.find((e) => e.kind === 'case.change_expired');
      expect(JSON.parse(expired?.payload ?? '{}')).toMatchObject({
        changeId: second.upholdId,
        proposedOutcome: null,
        proposalUnreadable: true,
      });
    });
  });
