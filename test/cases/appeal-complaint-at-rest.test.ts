import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Env } from '../../src/app/config.js';
import { fieldCryptoFromMasterKey, type FieldCrypto } from '../../src/compliance/index.js';
import { describeRotation, rotateData } from '../../src/cli/commands/rotate-data.js';
import { resealCaseTexts } from '../../src/store/index.js';
import type { Database } from '../../src/store/schema.js';
import type { TestApp } from '../helpers/app.js';
import {
  APPEAL_CAST,
  applicants,
  CASE_STORES,
  client,
  lineWithToken,
  startCaseApp,
  startCaseAppWith,
  type Person,
} from './helpers.js';
import { appCrypto, ledgerPayload } from '../helpers/ledger-verify.js';

/**
 * What a borrower writes in an appeal or a complaint (their own words, the documents they cite) and what the lender
 * answers (the reviewer's outcome, a complaint's resolution, the reason its deadline was extended) is personal data
 * (PIPL Art. 51): it names the borrower, their phone, their debts. It was stored in clear in `appeals` and
 * `complaints`, and the complaint.extended ledger entry repeated the extension's reason. Each is sealed at rest now,
 * bound to its row and column; the ledger carries keyed commitments instead; every reader shows the texts as written;
 * rows written in clear before are read as they are and sealed by `keys rotate-data`; a row no key opens is marked in
 * a list and answers LG_SEALED_DATA_UNREADABLE alone.
 */
const PHONE = '13855554444';
const APPEAL_TEXT = `冻结有误，我从未逾期，请致电 ${PHONE} 核实`;
const DOCUMENTS = ['statement-bank-7731.pdf', 'payslip-2026-10.pdf'];
const OUTCOME = {
  textZh: `已致电 ${PHONE} 核实，申诉成立。`,
  textEn: `We called ${PHONE}: your appeal is upheld.`,
};
const COMPLAINT_TEXT = `催收员多次在夜间拨打 ${PHONE}，言语威胁`;
const EXTENSION_REASON = `需调取 ${PHONE} 的通话录音核查`;
const RESOLUTION = {
  textZh: `已核查 ${PHONE} 的录音并处理催收员。`,
  textEn: `We reviewed the recordings of ${PHONE} and acted on the collector.`,
};
/** Fragments of every text above: none may be found in clear in a table the flow writes. */
const CLEAR_FRAGMENTS = [
  PHONE,
  '冻结有误',
  'statement-bank',
  'payslip',
  '夜间拨打',
  '通话录音',
  'recordings',
  '申诉成立',
];
/** The tables an appeal, a complaint, their cases and their resolutions write. */
const WRITTEN: readonly (keyof Database)[] = [
  'appeals',
  'complaints',
  'cases',
  'case_notes',
  'ledger_entries',
  'idempotency_keys',
  'outbox',
];

for (const store of CASE_STORES)
  describe.skipIf(!store.enabled)(`appeal and complaint texts are sealed at rest (${store.name})`, () => {
    let env: Env;
    let t: TestApp;
    let analyst: Person;
    let service: Person;
    let seed = 20;
    const applicant = applicants({ name: '孙丽', born: '19910707', phone: '13900006666', after: 880 });
    const cryptoOf = (): FieldCrypto => appCrypto(t);
    const staff = () => client(t, analyst.key);
    /** The borrower's own client, on the app as it is now (a restart replaces it). */
    const meOf = (borrower: { readonly token: string }) => client(t, borrower.token);

    beforeAll(async () => {
      env = await store.env();
      ({ t, analyst, service } = await startCaseAppWith(env, APPEAL_CAST));
      env = { ...env, LINEGUARD_DATA_DIR: t.dataDir };
    });
    afterAll(async () => t?.close());

    /** A new app on the same database (another seed: its ids must not repeat the earlier ones'). */
    async function restart(extra: Env = {}): Promise<void> {
      await t.close();
      ({ t } = await startCaseApp({ ...env, ...extra }, ++seed));
    }

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
    const evidenceOf = async (caseId: string) => {
      const shown = await staff().get(`/v1/cases/${caseId}`);
      expect(shown.statusCode, shown.body).toBe(200);
      return shown.json().evidence as Record<string, Record<string, unknown>>;
    };

    /** A borrower with a line frozen by a person, the freeze appealed against, and a complaint; both with cases. */
    async function filed() {
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
        text: APPEAL_TEXT,
        documents: DOCUMENTS,
      });
      expect(appeal.statusCode, appeal.body).toBe(201);
      expect(appeal.json().documents).toEqual(DOCUMENTS);
      const complaint = await me.post('/v1/me/complaints', { category: 'COLLECTION', text: COMPLAINT_TEXT });
      expect(complaint.statusCode, complaint.body).toBe(201);
      const appealId = appeal.json().id as string;
      const complaintId = complaint.json().id as string;
      return {
        ...borrower,
        appealId,
        complaintId,
        appealCase: await caseOf('APPEAL', appealId),
        complaintCase: await caseOf('COMPLAINT', complaintId),
      };
    }

    /** The complaint extended, then both resolved by the analyst. */
    async function resolve(done: Awaited<ReturnType<typeof filed>>) {
      const extended = await staff().post(`/v1/cases/${done.complaintCase}/extend`, {
        reason: EXTENSION_REASON,
      });
      expect(extended.statusCode, extended.body).toBe(200);
      expect(extended.json().extensionReason).toBe(EXTENSION_REASON);
      const upheld = await staff().post(`/v1/cases/${done.appealCase}/resolve`, {
        outcome: 'UPHELD',
        ...OUTCOME,
      });
      expect(upheld.statusCode, upheld.body).toBe(200);
      const settled = await staff().post(`/v1/cases/${done.complaintCase}/resolve`, {
        outcome: 'RESOLVED',
        ...RESOLUTION,
      });
      expect(settled.statusCode, settled.body).toBe(200);
    }

    /** filed(), then resolve(). */
    async function resolved() {
      const done = await filed();
      await resolve(done);
      return done;
    }

    type Filed = Pick<Awaited<ReturnType<typeof filed>>, 'token' | 'appealId' | 'complaintId'>;

    /** The borrower's views, in Chinese and in English, show the texts exactly as written. */
    async function expectTheBorrowerSeesThem(done: Filed) {
      const outcome = { zh: OUTCOME.textZh, en: OUTCOME.textEn };
      const resolution = { zh: RESOLUTION.textZh, en: RESOLUTION.textEn };
      for (const lang of ['zh', 'en'] as const) {
        const appeals = await meOf(done).get(`/v1/me/appeals?lang=${lang}`);
        expect(appeals.statusCode, appeals.body).toBe(200);
        expect(appeals.json().items).toContainEqual(
          expect.objectContaining({
            id: done.appealId,
            documents: DOCUMENTS,
            outcome: { text: outcome[lang], ...outcome },
          }),
        );
        const appeal = await meOf(done).get(`/v1/me/appeals/${done.appealId}?lang=${lang}`);
        expect(appeal.json()).toMatchObject({
          documents: DOCUMENTS,
          outcome: { text: outcome[lang], ...outcome },
        });
        const complaints = await meOf(done).get(`/v1/me/complaints?lang=${lang}`);
        expect(complaints.statusCode, complaints.body).toBe(200);
        expect(complaints.json().items).toContainEqual(
          expect.objectContaining({
            id: done.complaintId,
            extensionReason: EXTENSION_REASON,
            resolution: { text: resolution[lang], ...resolution },
          }),
        );
        const complaint = await meOf(done).get(`/v1/me/complaints/${done.complaintId}?lang=${lang}`);
        expect(complaint.json()).toMatchObject({
          extensionReason: EXTENSION_REASON,
          resolution: { text: resolution[lang], ...resolution },
        });
      }
    }

    /** Every reader the product offers shows the texts exactly as written. */
    async function expectEveryReaderShowsThem(done: Awaited<ReturnType<typeof filed>>) {
      await expectTheBorrowerSeesThem(done);
      // The analyst's case view (the dashboard's case page shows its evidence).
      expect((await evidenceOf(done.appealCase)).appeal).toMatchObject({
        id: done.appealId,
        text: APPEAL_TEXT,
        documents: JSON.stringify(DOCUMENTS),
        outcome_zh: OUTCOME.textZh,
        outcome_en: OUTCOME.textEn,
      });
      expect((await evidenceOf(done.complaintCase)).complaint).toMatchObject({
        id: done.complaintId,
        text: COMPLAINT_TEXT,
        extension_reason: EXTENSION_REASON,
        resolution_zh: RESOLUTION.textZh,
        resolution_en: RESOLUTION.textEn,
      });
      // The queue lists both cases.
      expect(await caseOf('APPEAL', done.appealId)).toBe(done.appealCase);
      expect(await caseOf('COMPLAINT', done.complaintId)).toBe(done.complaintCase);
    }

    /** Every row of the tables the flow writes, as a dump shows it. */
    async function dump(): Promise<string> {
      const tables = await Promise.all(
        WRITTEN.map((table) => t.app.store.db.selectFrom(table).selectAll().execute()),
      );
      return JSON.stringify(tables);
    }

    it('no table holds the texts in clear; the ledger commits to them; every reader shows them', async () => {
      const done = await filed();
      // While the appeal is open, the line's explanation lists it.
      const explained = await meOf(done).get(`/v1/me/lines/${done.lineId}/explanation?lang=en`);
      expect(explained.statusCode, explained.body).toBe(200);
      expect(explained.json().openAppeals).toEqual([
        expect.objectContaining({ id: done.appealId, documents: DOCUMENTS }),
      ]);
      await resolve(done);

      const appeal = await rawAppeal(done.appealId);
      const complaint = await rawComplaint(done.complaintId);
      for (const sealed of [
        appeal.text,
        appeal.outcome_zh,
        complaint.text,
        complaint.extension_reason,
        complaint.resolution_zh,
      ])
        expect(sealed).toMatch(/^lg1\./);
      const everything = await dump();
      for (const clear of CLEAR_FRAGMENTS) expect(everything).not.toContain(clear);

      // The ledger commits to each sealed text (a keyed commitment, never the text or an unkeyed hash of it).
      const hmac = /^[0-9a-f]{64}$/;
      expect((await ledgerPayload(t, `${done.appealId}:filed`)).textHmac).toMatch(hmac);
      expect((await ledgerPayload(t, `${done.appealId}:decided`)).outcomeHmac).toMatch(hmac);
      expect((await ledgerPayload(t, `${done.complaintId}:filed`)).textHmac).toMatch(hmac);
      const extendedEntry = await ledgerPayload(t, `${done.complaintId}:extended`);
      expect(extendedEntry.reason).toBeUndefined();
      expect(extendedEntry.reasonHmac).toMatch(hmac);
      const complaintResolved = await t.app.store.db
        .selectFrom('ledger_entries')
        .select('payload')
        .where('subject_id', '=', done.complaintCase)
        .where('kind', '=', 'case.resolved')
        .executeTakeFirstOrThrow();
      expect(JSON.parse(complaintResolved.payload)).toMatchObject({
        resolutionHmac: expect.stringMatching(hmac),
      });

      await expectEveryReaderShowsThem(done);
    });

    /** Overwrites the sealed columns of an appeal and a complaint with the texts in clear, as the code before wrote them. */
    async function writtenInClear(done: Awaited<ReturnType<typeof filed>>) {
      await t.app.store.db
        .updateTable('appeals')
        .set({
          text: APPEAL_TEXT,
          documents: JSON.stringify(DOCUMENTS),
          outcome_zh: OUTCOME.textZh,
          outcome_en: OUTCOME.textEn,
        })
        .where('id', '=', done.appealId)
        .execute();
      await t.app.store.db
        .updateTable('complaints')
        .set({
          text: COMPLAINT_TEXT,
          extension_reason: EXTENSION_REASON,
          resolution_zh: RESOLUTION.textZh,
          resolution_en: RESOLUTION.textEn,
        })
        .where('id', '=', done.complaintId)
        .execute();
    }

    it('rows written in clear before sealing read as written; rotate-data seals them, then re-seals under a new key', async () => {
      const done = await resolved();
      await writtenInClear(done);
      // Rows inserted in clear by the code before sealing (their own ids), beside them.
      const legacyAppeal = '01900000-0000-7000-8000-00000a9ea101';
      const legacyComplaint = '01900000-0000-7000-8000-00000c0a1a01';
      await t.app.store.db
        .insertInto('appeals')
        .values({ ...(await rawAppeal(done.appealId)), id: legacyAppeal, target_id: legacyAppeal })
        .execute();
      await t.app.store.db
        .insertInto('complaints')
        .values({ ...(await rawComplaint(done.complaintId)), id: legacyComplaint })
        .execute();
      const legacy = { ...done, appealId: legacyAppeal, complaintId: legacyComplaint };
      await expectEveryReaderShowsThem(done);
      await expectTheBorrowerSeesThem(legacy);

      // `lineguard keys rotate-data` as the operator runs it.
      const crypto = cryptoOf();
      const rotation = await rotateData(t.app, 2);
      expect(rotation).toMatchObject({
        keyId: crypto.currentKeyId,
        appealsSealed: 2,
        appealOutcomesSealed: 2,
        complaintsSealed: 2,
        complaintExtensionsSealed: 2,
        complaintResolutionsSealed: 2,
        appealsUnopenable: 0,
        appealOutcomesUnopenable: 0,
        complaintsUnopenable: 0,
        complaintExtensionsUnopenable: 0,
        complaintResolutionsUnopenable: 0,
      });
      expect(describeRotation(rotation)).toMatch(/2 of \d+ appeals/);
      for (const id of [done.appealId, legacyAppeal])
        expect(crypto.keyIdOf((await rawAppeal(id)).text)).toBe(crypto.currentKeyId);
      for (const id of [done.complaintId, legacyComplaint])
        expect(crypto.keyIdOf((await rawComplaint(id)).resolution_zh ?? '')).toBe(crypto.currentKeyId);
      const everything = await dump();
      for (const clear of CLEAR_FRAGMENTS) expect(everything).not.toContain(clear);
      await expectEveryReaderShowsThem(done);
      await expectTheBorrowerSeesThem(legacy);
      expect(await resealCaseTexts(t.app.store, crypto, 2)).toMatchObject({
        appealsSealed: 0,
        appealOutcomesSealed: 0,
        complaintsSealed: 0,
        complaintExtensionsSealed: 0,
        complaintResolutionsSealed: 0,
      });

      // Rows given another row's sealed texts (bound to that row: no key opens them here).
      const copiedAppeal = '01900000-0000-7000-8000-00000a9ea102';
      const copiedComplaint = '01900000-0000-7000-8000-00000c0a1a02';
      await t.app.store.db
        .insertInto('appeals')
        .values({ ...(await rawAppeal(legacyAppeal)), id: copiedAppeal, target_id: copiedAppeal })
        .execute();
      await t.app.store.db
        .insertInto('complaints')
        .values({ ...(await rawComplaint(legacyComplaint)), id: copiedComplaint })
        .execute();

      // A new key: the retired one still opens them, rotation re-seals them, and the old key can go.
      const keyA = t.app.config.masterKey;
      const keyB = Buffer.alloc(32, 0x5e);
      await restart({ LINEGUARD_KEY: keyB.toString('hex'), LINEGUARD_RETIRED_KEYS: keyA.toString('hex') });
      await expectEveryReaderShowsThem(done);
      const underB = fieldCryptoFromMasterKey(keyB, [keyA]);
      const copied = [await rawAppeal(copiedAppeal), await rawComplaint(copiedComplaint)];
      const again = await rotateData(t.app, 2);
      // The copied rows are left as they are and counted; every other is re-sealed.
      expect(again).toMatchObject({
        keyId: underB.currentKeyId,
        appealsUnopenable: 1,
        appealOutcomesUnopenable: 1,
        complaintsUnopenable: 1,
        complaintExtensionsUnopenable: 1,
        complaintResolutionsUnopenable: 1,
      });
      expect(describeRotation(again)).toContain('left 1 appeals, 1 appeal outcomes, 1 complaints');
      expect([await rawAppeal(copiedAppeal), await rawComplaint(copiedComplaint)]).toEqual(copied);
      expect(again.appealsSealed).toBeGreaterThanOrEqual(2);
      expect(again.complaintExtensionsSealed).toBeGreaterThanOrEqual(2);
      for (const id of [done.appealId, legacyAppeal])
        expect(underB.keyIdOf((await rawAppeal(id)).outcome_zh ?? '')).toBe(underB.currentKeyId);
      for (const id of [done.complaintId, legacyComplaint])
        expect(underB.keyIdOf((await rawComplaint(id)).extension_reason ?? '')).toBe(underB.currentKeyId);
      await restart({ LINEGUARD_KEY: keyB.toString('hex') });
      await expectEveryReaderShowsThem(done);
      await expectTheBorrowerSeesThem(legacy);
      const listed = (await meOf(done).get('/v1/me/appeals')).json().items;
      expect(listed).toContainEqual(expect.objectContaining({ id: copiedAppeal, unreadable: true }));
    });

    it("a text copied from another row is never shown as this one's: marked in a list, LG_SEALED_DATA_UNREADABLE alone", async () => {
      const first = await resolved();
      const second = await filed();
      const db = t.app.store.db;
      // The second appeal's row given the first's sealed outcome, the second complaint's the first's sealed text.
      await db
        .updateTable('appeals')
        .set({ text: (await rawAppeal(first.appealId)).text })
        .where('id', '=', second.appealId)
        .execute();
      await db
        .updateTable('complaints')
        .set({ text: (await rawComplaint(first.complaintId)).text })
        .where('id', '=', second.complaintId)
        .execute();
      const alone = [
        await meOf(second).get(`/v1/me/appeals/${second.appealId}`),
        await meOf(second).get(`/v1/me/complaints/${second.complaintId}`),
      ];
      for (const read of alone) {
        expect([read.statusCode, read.json().error.code], read.body).toEqual([
          500,
          'LG_SEALED_DATA_UNREADABLE',
        ]);
        expect(read.body).not.toContain(PHONE);
      }
      // The lists and the line's explanation answer, the row marked, nothing of another row's shown.
      const appeals = await meOf(second).get('/v1/me/appeals?lang=zh');
      expect(appeals.statusCode, appeals.body).toBe(200);
      expect(appeals.json().items).toEqual([
        expect.objectContaining({ id: second.appealId, unreadable: true }),
      ]);
      const complaints = await meOf(second).get('/v1/me/complaints?lang=zh');
      expect(complaints.statusCode, complaints.body).toBe(200);
      expect(complaints.json().items).toEqual([
        expect.objectContaining({ id: second.complaintId, unreadable: true }),
      ]);
      const explained = await meOf(second).get(`/v1/me/lines/${second.lineId}/explanation?lang=zh`);
      expect(explained.statusCode, explained.body).toBe(200);
      expect(explained.json().openAppeals).toEqual([
        expect.objectContaining({ id: second.appealId, unreadable: true }),
      ]);
      for (const answer of [appeals, complaints, explained]) expect(answer.body).not.toContain(PHONE);
      // The analyst's case stays readable: the row is marked, and why.
      const appealShown = (await evidenceOf(second.appealCase)).appeal;
      expect(appealShown).toMatchObject({ id: second.appealId, text: null, documents: null });
      expect(appealShown?.unreadable).toContain('cannot be opened');
      expect((await evidenceOf(second.complaintCase)).complaint).toMatchObject({
        id: second.complaintId,
        text: null,
      });
      expect(JSON.stringify(await evidenceOf(second.appealCase))).not.toContain(PHONE);
      await expectEveryReaderShowsThem(first);
    });
  });
