import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Env } from '../../src/app/config.js';
import { type FieldCrypto } from '../../src/compliance/index.js';
import { describeRotation, rotateData } from '../../src/cli/commands/rotate-data.js';
import type { Database } from '../../src/store/schema.js';
import type { TestApp } from '../helpers/app.js';
import {
  applicants,
  CASE_STORES,
  client,
  lineWithToken,
  startCaseAppWith,
  type Person,
} from '../cases/helpers.js';
import { appCrypto, ledgerPayload } from '../helpers/ledger-verify.js';

/**
 * What a risk analyst writes beside a line action (why they froze a line, cut its limit) is free text about the
 * borrower (PIPL Art. 51): it names them, their phone, their debts. It was stored in clear in `line_actions.note`.
 * It is sealed at rest now, bound to its row; the line.action ledger entry carries a keyed commitment to it; the
 * line's view and the analyst's case show it as written; rows written in clear before are read as they are and
 * sealed by `keys rotate-data`; a row no key opens is marked, never fails a view, never shows another row's note.
 */
const PHONE = '13722228888';
const FREEZE_NOTE = `借款人张伟来电 ${PHONE} 称已失业，另欠网贷约 8 万元`;
const CUT_NOTE = `Borrower's employer confirmed by ${PHONE}: salary arrears, card debts elsewhere`;
/** Fragments of both notes: none may be found in clear in a table the flow writes. */
const CLEAR_FRAGMENTS = [PHONE, '张伟', '已失业', '8 万元', 'salary arrears', 'card debts'];
/** The tables a line action (and the appeal against it) writes. */
const WRITTEN: readonly (keyof Database)[] = ['line_actions', 'ledger_entries', 'outbox', 'idempotency_keys'];
const CAST = {
  risk: ['李强', 'risk_analyst'],
  analyst: ['Wang Fang', 'analyst'],
  service: ['lender-backend', 'service'],
} as const;

for (const store of CASE_STORES)
  describe.skipIf(!store.enabled)(`a line action's note is sealed at rest (${store.name})`, () => {
    let env: Env;
    let t: TestApp;
    let risk: Person;
    let analyst: Person;
    let service: Person;
    const applicant = applicants({ name: '张伟', born: '19880303', phone: PHONE, after: 610 });
    const cryptoOf = (): FieldCrypto => appCrypto(t);
    const db = () => t.app.store.db;

    beforeAll(async () => {
      env = await store.env();
      ({ t, risk, analyst, service } = await startCaseAppWith(env, CAST));
    });
    afterAll(async () => t?.close());

    const rawAction = (id: string) =>
      db().selectFrom('line_actions').selectAll().where('id', '=', id).executeTakeFirstOrThrow();

    /** A line cut then frozen by a risk analyst through the API, each with a note; the freeze appealed against. */
    async function acted() {
      const borrower = await lineWithToken(t, service.key, applicant());
      const act = async (body: Record<string, unknown>) => {
        const done = await client(t, risk.key).post(`/v1/lines/${borrower.lineId}/actions`, body);
        expect(done.statusCode, done.body).toBe(201);
        return done.json().actionId as string;
      };
      const cutId = await act({
        type: 'LIMIT_DECREASE',
        reasons: ['R_UTILISATION_HIGH'],
        limitMinor: Math.floor(borrower.limitMinor / 2),
        note: CUT_NOTE,
      });
      const freezeId = await act({ type: 'FREEZE_DRAW', reasons: ['R_UTILISATION_HIGH'], note: FREEZE_NOTE });
      const appeal = await client(t, borrower.token).post('/v1/me/appeals', {
        actionId: freezeId,
        text: '请复核',
      });
      expect(appeal.statusCode, appeal.body).toBe(201);
      const cases = (await client(t, analyst.key).get('/v1/cases?type=APPEAL&limit=200')).json().items as {
        id: string;
        subjectId: string;
      }[];
      const caseId = cases.find((c) => c.subjectId === appeal.json().id)?.id as string;
      return { ...borrower, cutId, freezeId, caseId };
    }
    type Acted = Awaited<ReturnType<typeof acted>>;

    const lineView = async (done: Acted) => {
      const shown = await client(t, risk.key).get(`/v1/lines/${done.lineId}`);
      expect(shown.statusCode, shown.body).toBe(200);
      return shown;
    };
    const shownAction = async (done: Acted, id: string) =>
      ((await lineView(done)).json().recentActions as Record<string, unknown>[]).find((a) => a.id === id);
    const appealedAction = async (done: Acted) => {
      const shown = await client(t, analyst.key).get(`/v1/cases/${done.caseId}`);
      expect(shown.statusCode, shown.body).toBe(200);
      return { body: shown.body, action: shown.json().evidence.appealedAction as Record<string, unknown> };
    };

    /** The line's view and the analyst's case show each note exactly as written. */
    async function expectReadersShowThem(done: Acted) {
      expect(await shownAction(done, done.freezeId)).toMatchObject({ note: FREEZE_NOTE });
      expect(await shownAction(done, done.cutId)).toMatchObject({ note: CUT_NOTE });
      expect((await appealedAction(done)).action).toMatchObject({ id: done.freezeId, note: FREEZE_NOTE });
    }

    async function dump(): Promise<string> {
      const tables = await Promise.all(WRITTEN.map((table) => db().selectFrom(table).selectAll().execute()));
      return JSON.stringify(tables);
    }

    it('no table holds the notes in clear; the line.action entry commits to them; every reader shows them', async () => {
      const done = await acted();
      for (const id of [done.freezeId, done.cutId]) expect((await rawAction(id)).note).toMatch(/^lg1\./);
      const everything = await dump();
      for (const clear of CLEAR_FRAGMENTS) expect(everything).not.toContain(clear);
      const hmac = /^[0-9a-f]{64}$/;
      for (const id of [done.freezeId, done.cutId]) {
        const entry = await ledgerPayload(t, id);
        expect(entry.note).toBeUndefined();
        expect(entry.noteHmac).toMatch(hmac);
      }
      // An action without a note commits to nothing.
      const lift = await client(t, risk.key).post(`/v1/lines/${done.lineId}/actions`, {
        type: 'UNFREEZE',
        reasons: ['R_MANUAL_REVIEW'],
      });
      expect(lift.statusCode, lift.body).toBe(201);
      // An action without a note says so in its entry: a note written onto its row later disagrees.
      expect((await rawAction(lift.json().actionId as string)).note).toBeNull();
      expect((await ledgerPayload(t, lift.json().actionId as string)).noteHmac).toBeNull();
      await expectReadersShowThem(done);
    });

    it('notes written in clear read as written; rotate-data seals them', async () => {
      const done = await acted();
      // As the code before sealing wrote them.
      await db()
        .updateTable('line_actions')
        .set({ note: FREEZE_NOTE })
        .where('id', '=', done.freezeId)
        .execute();
      await db().updateTable('line_actions').set({ note: CUT_NOTE }).where('id', '=', done.cutId).execute();
      await expectReadersShowThem(done);

      const crypto = cryptoOf();
      const rotation = await rotateData(t.app, 2);
      expect(rotation).toMatchObject({ lineActionNotesSealed: 2, lineActionNotesUnopenable: 0 });
      expect(describeRotation(rotation)).toMatch(/2 of \d+ line-action notes/);
      for (const id of [done.freezeId, done.cutId])
        expect(crypto.keyIdOf((await rawAction(id)).note ?? '')).toBe(crypto.currentKeyId);
      const everything = await dump();
      for (const clear of CLEAR_FRAGMENTS) expect(everything).not.toContain(clear);
      await expectReadersShowThem(done);
    });

    it("a note no key opens is marked unreadable, never fails a view, never shows another row's note", async () => {
      const first = await acted();
      const second = await acted();
      // The second freeze given the first's sealed note (bound to the first's row: it does not open here).
      await db()
        .updateTable('line_actions')
        .set({ note: (await rawAction(first.freezeId)).note })
        .where('id', '=', second.freezeId)
        .execute();
      const view = await lineView(second);
      const marked = (view.json().recentActions as Record<string, unknown>[]).find(
        (a) => a.id === second.freezeId,
      );
      expect(marked).toMatchObject({ note: null });
      expect(marked?.noteUnreadable).toContain('cannot be opened');
      expect(await shownAction(second, second.cutId)).toMatchObject({ note: CUT_NOTE });
      const evidence = await appealedAction(second);
      expect(evidence.action).toMatchObject({ id: second.freezeId, note: null });
      expect(evidence.action.noteUnreadable).toContain('cannot be opened');
      const explained = await client(t, second.token).get(
        `/v1/me/lines/${second.lineId}/explanation?lang=zh`,
      );
      expect(explained.statusCode, explained.body).toBe(200);
      // The first freeze's note is never shown as the second's (the second's own cut note is).
      for (const body of [view.body, evidence.body, explained.body]) expect(body).not.toContain('已失业');
      await expectReadersShowThem(first);
    });
  });
