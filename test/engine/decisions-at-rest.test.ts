import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalJson, sha256Hex } from '../../src/domain/index.js';
import { ManualClock } from '../../src/domain/clock.js';
import type { Env } from '../../src/app/config.js';
import { appendToLedger, fieldCryptoFromMasterKey, type FieldCrypto } from '../../src/compliance/index.js';
import { verifyAgainstCheckpoints } from '../../src/compliance/audit.js';
import { verifyLedger } from '../../src/compliance/ledger.js';
import {
  DECISION_INPUTS,
  DECISION_RESULT,
  TRACE_WITH_CONTEXT,
  openDecision,
  openDecisionResult,
} from '../../src/compliance/sealed-decisions.js';
import { resealDecisions, resealLineActionNotes } from '../../src/store/index.js';
import { sealPair } from '../../src/compliance/sealed-pair.js';
import { sealedPairRows } from '../../src/store/sealed-pairs.js';
import {
  LEGACY_RIDER_FLAG,
  legacyCommittedSeal,
  riderFlagOf,
  withRider,
  type PairSite,
} from '../helpers/committed-seals.js';
import { STRONG_APPLICANT, adminHeaders, startTestApp, type TestApp } from '../helpers/app.js';
import { appStores } from '../helpers/stores.js';
import { residentId } from '../core/harness.js';

/**
 * Personal data at rest in the decisions table: an application decision's context holds the applicant's bureau
 * figures (existing debt, delinquency, inquiries) and its trace repeats what the rules read; a draw decision's context
 * holds the borrower's account facts and monitor signals. Both are sealed (src/compliance/crypto.ts), bound to the
 * decision and the column, and every reader opens them: the decision API, case evidence, simulation, the ledger's
 * fact check. The ledger commits to the clear context with a keyed commitment, never an unkeyed hash a guessed bureau
 * figure could be confirmed by.
 */
const STORES = appStores('sealed_decisions');
const T0 = Date.UTC(2026, 10, 2, 9, 0, 0);
const DAY = '2026-11-02';

/** Figures that appear nowhere else in a row: found in a dump only if the context or trace is in clear. */
const EXISTING_DEBT = 7_654_321;
const DEVICE = 'dev-7f3a9c01';
const IP = '203.0.113.77';
const PAYEE = '6222020200998877665';

type DecisionRow = Awaited<ReturnType<typeof rawDecision>>;

async function rawDecision(t: TestApp, id: string) {
  return t.app.store.db.selectFrom('decisions').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
}

async function ledgerPayload(t: TestApp, entryId: string): Promise<Record<string, unknown>> {
  const row = await t.app.store.db
    .selectFrom('ledger_entries')
    .select('payload')
    .where('entry_id', '=', entryId)
    .executeTakeFirstOrThrow();
  return JSON.parse(row.payload) as Record<string, unknown>;
}

for (const store of STORES)
  describe.skipIf(!store.enabled)(`decision contexts and traces are sealed at rest (${store.name})`, () => {
    const clock = new ManualClock(T0);
    let env: Env;
    let t: TestApp;
    let n = 0;
    const post = (url: string, payload: object) =>
      t.server.inject({ method: 'POST', url, headers: adminHeaders(`rest-${++n}`), payload });
    const get = (url: string) => t.server.inject({ method: 'GET', url, headers: adminHeaders() });
    const cryptoOf = (app: TestApp): FieldCrypto =>
      fieldCryptoFromMasterKey(app.app.config.masterKey, app.app.config.retiredKeys);

    let application: { decisionId: string; lineId: string; borrowerId: string };
    let drawDecisionId: string;
    /** A referred application's decision and the case it opened (the second test makes them). */
    let referred: { decisionId: string; caseId: string };

    beforeAll(async () => {
      env = await store.env();
      t = await startTestApp(env, { clock });
      env = { ...env, LINEGUARD_DATA_DIR: t.dataDir };
      const applied = await post('/v1/applications', {
        applicant: { name: '欧阳娜娜', nationalId: residentId('19880808', 41), phone: '13911112222' },
        attributes: { ...STRONG_APPLICANT, existingDebtMinor: EXISTING_DEBT, inquiries30d: 1 },
      });
      expect(applied.statusCode, applied.body).toBe(201);
      const body = applied.json<{ decisionId: string; borrowerId: string; line: { id: string } }>();
      application = { decisionId: body.decisionId, lineId: body.line.id, borrowerId: body.borrowerId };
      const drawn = await post(`/v1/lines/${application.lineId}/draws`, {
        amountMinor: 50_000,
        currency: 'CNY',
        termMonths: 3,
        method: 'EQUAL_INSTALLMENT',
        deviceId: DEVICE,
        ip: IP,
        payeeId: PAYEE,
      });
      expect(drawn.statusCode, drawn.body).toBe(201);
      drawDecisionId = drawn.json<{ decisionId: string }>().decisionId;
    });
    afterAll(async () => t?.close());

    async function restart(extra: Env = {}): Promise<void> {
      await t.close();
      t = await startTestApp({ ...env, ...extra }, { clock });
    }

    async function verify(crypto?: FieldCrypto) {
      return verifyAgainstCheckpoints(t.app.store.db, {
        files: [],
        trustedKey: t.app.evidence.publicKey,
        facts: true,
        ...(crypto ? { crypto } : {}),
      });
    }

    it('the rows hold no bureau figure, account fact or draw identifier in clear; the ledger no unkeyed hash', async () => {
      const applicationRow = await rawDecision(t, application.decisionId);
      const drawRow = await rawDecision(t, drawDecisionId);
      // One token holds both (the trace column says so).
      for (const row of [applicationRow, drawRow]) {
        expect(row.context).toMatch(/^lg1\./);
        expect(row.trace).toBe(TRACE_WITH_CONTEXT);
        // The result, with the strategy's values (the score and PD), is its own token.
        expect(row.result).toMatch(/^lg1\./);
      }
      const dumped = JSON.stringify([applicationRow, drawRow]);
      for (const clear of [
        String(EXISTING_DEBT),
        'existingDebtMinor',
        'externalDelinquent',
        'inquiries30d',
        'monthlyIncomeMinor',
        'scamScore',
        'outstandingMinor',
        DEVICE,
        IP,
        PAYEE,
      ])
        expect(dumped).not.toContain(clear);

      // What each decision saw, as the API serves it (opened).
      const shown = (await get(`/v1/decisions/${application.decisionId}`)).json();
      const clearContext = canonicalJson(shown.context);
      const entry = await ledgerPayload(t, application.decisionId);
      expect(JSON.stringify(entry)).not.toContain(sha256Hex(clearContext));
      expect(entry.contextSha256).toBeUndefined();
      expect(entry.contextHmac).toMatch(/^[0-9a-f]{64}$/);
      expect(entry.resultHmac).toMatch(/^[0-9a-f]{64}$/);
      // The applicant's PD and score, as the API serves them, appear in neither the row nor the entry.
      const { pd, score } = shown.decision.values as { pd: number; score: number };
      expect([typeof pd, typeof score]).toEqual(['number', 'number']);
      for (const held of [dumped, JSON.stringify(entry)]) {
        expect(held).not.toContain(String(pd));
        expect(held).not.toContain('"score"');
      }
    });

    it('every reader opens them: the decision API, case evidence and simulation see the values as decided', async () => {
      const shown = (await get(`/v1/decisions/${application.decisionId}`)).json();
      expect(shown.context).toMatchObject({ existingDebtMinor: EXISTING_DEBT, inquiries30d: 1 });
      const eligibility = shown.decision.trace.find((s: { node: string }) => s.node === 'eligibility');
      expect(eligibility.inputs).toMatchObject({ existingDebtMinor: EXISTING_DEBT });
      const draw = (await get(`/v1/decisions/${drawDecisionId}`)).json();
      expect(draw.context).toMatchObject({ amountMinor: 50_000, lineStatus: 'ACTIVE' });
      expect(draw.decision.trace.length).toBeGreaterThan(0);

      // A referred application: the analyst's case shows the decision's context and trace.
      const applied = await post('/v1/applications', {
        applicant: { name: '李雷', nationalId: residentId('19810412', 42), phone: '13900001111' },
        attributes: { ...STRONG_APPLICANT, existingDebtMinor: EXISTING_DEBT, inquiries30d: 4 },
      });
      expect(applied.json().outcome).toBe('REVIEW');
      const cases = (await get('/v1/cases?type=REVIEW_APPLICATION&limit=100')).json().items;
      const opened = cases.find((c: { subjectId: string }) => c.subjectId === applied.json().applicationId);
      referred = { decisionId: applied.json().decisionId, caseId: opened.id };
      const detail = (await get(`/v1/cases/${opened.id}`)).json();
      expect(detail.evidence.decision.context).toMatchObject({
        existingDebtMinor: EXISTING_DEBT,
        inquiries30d: 4,
      });
      expect(detail.evidence.decision.trace[1].inputs).toMatchObject({ existingDebtMinor: EXISTING_DEBT });
      expect(JSON.stringify(await rawDecision(t, referred.decisionId))).not.toContain(String(EXISTING_DEBT));

      // A candidate that declines this debt replays the stored (sealed) contexts: the approval turns into a decline.
      const active = (await get('/v1/strategies/application/versions/1')).json().document;
      const candidate = structuredClone(active);
      const dti = candidate.nodes[0].rules.find((r: { id: string }) => r.id === 'DTI_MAX');
      dti.when = `existingDebtMinor > ${EXISTING_DEBT - 1}`;
      const simulated = await post('/v1/strategies/application/simulate', {
        from: DAY,
        to: DAY,
        document: candidate,
      });
      expect(simulated.statusCode, simulated.body).toBe(200);
      expect(simulated.json()).toMatchObject({ decisions: 2, contextErrors: 0 });
      expect(simulated.json().outcomeMatrix.APPROVE.DECLINE).toBe(1);
    });

    it('ledger verify proves each context against its commitment once opened; without the key it says so', async () => {
      expect((await verifyLedger(t.app.store.db)).ok).toBe(true);
      const proven = await verify(cryptoOf(t));
      expect(proven.facts?.mismatches).toEqual([]);
      expect(proven).toMatchObject({ ok: true, facts: { sealedUnchecked: 0 } });
      // An auditor without the data key: the chain and the other facts are checked, the sealed contexts counted.
      const keyless = await verify();
      expect(keyless.ok).toBe(true);
      expect(keyless.facts?.sealedUnchecked).toBeGreaterThanOrEqual(3);
      // An edited context is found: another decision's clear context in place of this one's sealed one.
      const other = (await get(`/v1/decisions/${drawDecisionId}`)).json();
      const row = await rawDecision(t, application.decisionId);
      await t.app.store.db
        .updateTable('decisions')
        .set({ context: canonicalJson(other.context) })
        .where('id', '=', application.decisionId)
        .execute();
      const edited = await verify(cryptoOf(t));
      expect(edited.ok).toBe(false);
      expect(edited.facts?.mismatches).toEqual([
        expect.objectContaining({ table: 'decisions', id: application.decisionId, field: 'context' }),
      ]);
      await restore(row);
    });

    it('ledger verify proves each result, the score and PD with it: an edited, forged or copied one is found', async () => {
      const row = await rawDecision(t, application.decisionId);
      const { resultHmac } = await ledgerPayload(t, application.decisionId);
      const decided = JSON.parse(clearResult(row)) as { values: { score: number } };
      // The score raised, everything the entry holds in clear (limit, rate, actions) left as it was.
      const raised = canonicalJson({
        ...decided,
        values: { ...decided.values, score: decided.values.score + 99 },
      });
      const setResult = (result: string) =>
        t.app.store.db.updateTable('decisions').set({ result }).where('id', '=', row.id).execute();
      const resultFound = async (row: string) => {
        const found = await verify(cryptoOf(t));
        expect(found.ok).toBe(false);
        expect(found.facts?.mismatches).toEqual([
          { table: 'decisions', id: application.decisionId, field: 'result', row, ledger: resultHmac },
        ]);
      };
      // Written in clear over the sealed one.
      await setResult(raised);
      await resultFound('(clear, the ledger committed to a sealed result)');
      // Sealed again for this decision by someone holding the data key: a fresh commitment key cannot match.
      await setResult(
        sealPair(cryptoOf(t), DECISION_RESULT, row.id, { committed: raised, rider: '' }).committed,
      );
      expect((await get(`/v1/decisions/${application.decisionId}`)).json().decision.values.score).toBe(
        decided.values.score + 99,
      );
      await resultFound(expect.stringMatching(/^[0-9a-f]{64}$/) as unknown as string);
      // Another decision's sealed result copied in: never served as this one's, and found.
      await setResult((await rawDecision(t, referred.decisionId)).result);
      const copied = await get(`/v1/decisions/${application.decisionId}`);
      expect([copied.statusCode, copied.json().error.code]).toEqual([500, 'LG_SEALED_DATA_UNREADABLE']);
      await resultFound('(sealed, cannot be opened)');

      // The portfolio's score distribution reads the sealed results; one no key opens is counted apart, not dropped.
      const scoresNow = async () => (await t.app.portfolio.snapshot(DAY)).snapshot.score;
      const withCopy = await scoresNow();
      await restore(row);
      const intact = await scoresNow();
      expect(intact.count).toBeGreaterThanOrEqual(2);
      expect(intact.unreadable).toBeUndefined();
      expect(withCopy).toMatchObject({ count: intact.count - 1, unreadable: 1 });
      expect((await verify(cryptoOf(t))).ok).toBe(true);
    });

    const siteOf = (rowId: string): PairSite => ({
      table: DECISION_INPUTS.table,
      committed: DECISION_INPUTS.committed,
      rowId,
    });

    /** The row's context token replaced through the store, as `keys rotate-data` writes one. */
    async function rewriteContext(row: DecisionRow, context: string): Promise<void> {
      const rows = sealedPairRows(t.app.store, DECISION_INPUTS);
      const read = { id: row.id, committed: row.context, rider: row.trace };
      expect(await rows.replace([{ read, sealed: { ...read, committed: context } }])).toBe(1);
    }

    it('a trace re-sealed beside the same context and commitment key is found by ledger verify', async () => {
      // Anyone holding the database and the data key: the draw's context kept, its commitment key kept, and the record
      // of why it was decided replaced by another decision's, sealed in the same token.
      const masterKey = t.app.config.masterKey;
      const row = await rawDecision(t, drawDecisionId);
      const otherTrace = openDecision(cryptoOf(t), await rawDecision(t, application.decisionId)).trace;
      const { contextHmac } = await ledgerPayload(t, drawDecisionId);
      // The same flag, and the flag of a seal written before riders were committed (passed off as an older one).
      for (const flag of [undefined, LEGACY_RIDER_FLAG]) {
        const forged = withRider(masterKey, row.context, { ...siteOf(row.id), rider: otherTrace, flag });
        await rewriteContext(row, forged);
        // The forgery is served as the decision's own: the context as decided, another decision's trace.
        const served = (await get(`/v1/decisions/${drawDecisionId}`)).json();
        expect(canonicalJson(served.decision.trace)).toBe(otherTrace);
        const found = await verify(cryptoOf(t));
        expect(found.ok, `flag ${String(flag)}`).toBe(false);
        expect(found.facts?.mismatches).toEqual([
          {
            table: 'decisions',
            id: drawDecisionId,
            field: 'context',
            row: expect.stringMatching(/^[0-9a-f]{64}$/),
            ledger: contextHmac,
          },
        ]);
        await rewriteContext({ ...row, context: forged }, row.context);
      }
      expect((await verify(cryptoOf(t))).ok).toBe(true);
    });

    /** A decision sealed by the code before riders were committed (the key rotation test re-seals it). */
    const committedBeforeRiders = '01900000-0000-7000-8000-00000000c1eb';

    it('a decision sealed before riders were committed still reads and verifies', async () => {
      const source = (await get(`/v1/decisions/${application.decisionId}`)).json();
      const row = await rawDecision(t, application.decisionId);
      // That code kept the result in clear, and its entry committed to none.
      const {
        contextHmac: _hmac,
        resultHmac: _result,
        ...entry
      } = await ledgerPayload(t, application.decisionId);
      const legacy = legacyCommittedSeal(t.app.config.masterKey, siteOf(committedBeforeRiders), {
        value: canonicalJson(source.context),
        rider: canonicalJson(source.decision.trace),
      });
      await t.app.store.transaction(async (tx) => {
        await tx
          .insertInto('decisions')
          .values({
            ...row,
            id: committedBeforeRiders,
            context: legacy.token,
            trace: TRACE_WITH_CONTEXT,
            result: clearResult(row),
          })
          .execute();
        await appendToLedger(tx, [
          {
            entryId: committedBeforeRiders,
            kind: 'decision',
            subjectId: committedBeforeRiders,
            recordedAt: Number(row.decided_at),
            payload: { ...entry, decisionId: committedBeforeRiders, contextHmac: legacy.commitment },
          },
        ]);
      });
      const read = (await get(`/v1/decisions/${committedBeforeRiders}`)).json();
      expect([read.context, read.decision.trace]).toEqual([source.context, source.decision.trace]);
      const proven = await verify(cryptoOf(t));
      expect(proven.facts?.mismatches).toEqual([]);
      expect(proven.ok).toBe(true);
    });

    /** A stored decision's result, opened: what the code before results were sealed kept in the column. */
    const clearResult = (row: DecisionRow): string =>
      openDecisionResult(cryptoOf(t), row.id, row.result).result;

    async function restore(row: DecisionRow): Promise<void> {
      await t.app.store.db
        .updateTable('decisions')
        .set({ context: row.context, trace: row.trace, result: row.result })
        .where('id', '=', row.id)
        .execute();
    }

    it('a decision stored in clear before sealing still reads and verifies; rotation seals it', async () => {
      // A decision as the code before sealing wrote it: clear context and trace, the ledger's unkeyed context hash.
      const source = (await get(`/v1/decisions/${application.decisionId}`)).json();
      const row = await rawDecision(t, application.decisionId);
      const legacyId = '01900000-0000-7000-8000-00000000c1ea';
      const contextJson = canonicalJson(source.context);
      const entry = await ledgerPayload(t, application.decisionId);
      const { contextHmac: _hmac, resultHmac: _result, ...legacyEntry } = entry;
      await t.app.store.transaction(async (tx) => {
        await tx
          .insertInto('decisions')
          .values({
            ...row,
            id: legacyId,
            context: contextJson,
            trace: canonicalJson(source.decision.trace),
            result: clearResult(row),
          })
          .execute();
        await appendToLedger(tx, [
          {
            entryId: legacyId,
            kind: 'decision',
            subjectId: legacyId,
            recordedAt: Number(row.decided_at),
            payload: { ...legacyEntry, decisionId: legacyId, contextSha256: sha256Hex(contextJson) },
          },
        ]);
      });
      const legacy = (await get(`/v1/decisions/${legacyId}`)).json();
      expect([legacy.context, legacy.decision.trace]).toEqual([source.context, source.decision.trace]);
      expect((await verify(cryptoOf(t))).facts?.mismatches).toEqual([]);

      const crypto = cryptoOf(t);
      const rotation = await resealDecisions(t.app.store, crypto, 2);
      expect(rotation).toMatchObject({
        keyId: crypto.currentKeyId,
        decisionsSealed: 1,
        decisionsUnopenable: 0,
        // This one's and the one sealed before riders were committed, whose result that code kept in clear too.
        decisionResultsSealed: 2,
        decisionResultsUnopenable: 0,
      });
      const sealed = await rawDecision(t, legacyId);
      expect([crypto.keyIdOf(sealed.context), sealed.trace, crypto.keyIdOf(sealed.result)]).toEqual([
        crypto.currentKeyId,
        TRACE_WITH_CONTEXT,
        crypto.currentKeyId,
      ]);
      expect(JSON.stringify(sealed)).not.toContain(String(EXISTING_DEBT));
      const reread = (await get(`/v1/decisions/${legacyId}`)).json();
      expect([reread.context, reread.decision.trace]).toEqual([source.context, source.decision.trace]);
      // The ledger's old entry still proves the context it hashed, now opened from its sealed form.
      const proven = await verify(crypto);
      expect(proven.facts?.mismatches).toEqual([]);
      expect(proven.ok).toBe(true);
    });

    it("a sealed context copied into another decision's row is never served as that decision's", async () => {
      const victim = await rawDecision(t, application.decisionId);
      const target = await rawDecision(t, drawDecisionId);
      await t.app.store.db
        .updateTable('decisions')
        .set({ context: victim.context })
        .where('id', '=', drawDecisionId)
        .execute();
      const read = await get(`/v1/decisions/${drawDecisionId}`);
      expect(read.body).not.toContain(String(EXISTING_DEBT));
      expect([read.statusCode, read.json().error.code]).toEqual([500, 'LG_SEALED_DATA_UNREADABLE']);
      const checked = await verify(cryptoOf(t));
      expect(checked.ok).toBe(false);
      expect(checked.facts?.mismatches).toEqual([
        expect.objectContaining({ table: 'decisions', id: drawDecisionId, field: 'context' }),
      ]);
      await restore(target);
      expect((await get(`/v1/decisions/${drawDecisionId}`)).statusCode).toBe(200);

      // The analyst's case stays readable: the decision's inputs are shown as unreadable, and why.
      const referredRow = await rawDecision(t, referred.decisionId);
      await t.app.store.db
        .updateTable('decisions')
        .set({ context: victim.context })
        .where('id', '=', referred.decisionId)
        .execute();
      const detail = await get(`/v1/cases/${referred.caseId}`);
      expect(detail.statusCode).toBe(200);
      expect(detail.json().evidence.decision).toMatchObject({
        decisionId: referred.decisionId,
        context: null,
        trace: null,
        unreadable: expect.stringMatching(/sealed context .* cannot be opened/),
      });
      await restore(referredRow);
    });

    it('key rotation: a retired key still opens every decision, rotate-data re-seals them, the old key can go', async () => {
      const before = (await get(`/v1/decisions/${application.decisionId}`)).json();
      const keyA = t.app.config.masterKey;
      const keyB = Buffer.alloc(32, 0xcd);
      const [oldKey, newKey] = [keyA.toString('hex'), keyB.toString('hex')];

      // The old key dropped too early: a clear error, never another decision's data or a crash.
      await restart({ LINEGUARD_KEY: newKey });
      const early = await get(`/v1/decisions/${application.decisionId}`);
      expect([early.statusCode, early.json().error.code]).toEqual([500, 'LG_SEALED_DATA_UNREADABLE']);
      // And `ledger verify` with only the new key: those contexts are unverifiable (no held key opens them), which
      // neither passes nor reads as tampering (nothing was found to disagree with the ledger).
      const unproven = await verify(cryptoOf(t));
      expect(unproven.ok).toBe(false);
      expect(unproven.facts?.mismatches).toEqual([]);
      expect(unproven.facts?.unverifiable).toContainEqual({
        table: 'decisions',
        id: application.decisionId,
        field: 'context',
        keyId: fieldCryptoFromMasterKey(keyA).currentKeyId,
      });

      await restart({ LINEGUARD_KEY: newKey, LINEGUARD_RETIRED_KEYS: oldKey });
      expect((await get(`/v1/decisions/${application.decisionId}`)).json()).toEqual(before);
      const crypto = fieldCryptoFromMasterKey(keyB, [keyA]);
      const rotation = await resealDecisions(t.app.store, crypto, 2);
      expect(rotation).toMatchObject({ keyId: crypto.currentKeyId, decisionsUnopenable: 0 });
      expect(rotation.decisionsSealed).toBeGreaterThanOrEqual(4);
      expect(await resealDecisions(t.app.store, crypto, 2)).toMatchObject({ decisionsSealed: 0 });
      const row = await rawDecision(t, application.decisionId);
      expect(crypto.keyIdOf(row.context)).toBe(crypto.currentKeyId);
      // A seal from before riders were committed is re-sealed as it is: its flag and commitment key kept, so the
      // commitment its ledger entry carries still proves it (checked below).
      const older = await rawDecision(t, committedBeforeRiders);
      expect(crypto.keyIdOf(older.context)).toBe(crypto.currentKeyId);
      expect(riderFlagOf(keyB, older.context, siteOf(committedBeforeRiders))).toBe(LEGACY_RIDER_FLAG);
      // rotate-data re-seals the grants' line-action notes too (the automated grant's adjustments), which the fact
      // check proves as well: without them the old key could not go.
      await resealLineActionNotes(t.app.store, crypto, 100);

      await restart({ LINEGUARD_KEY: newKey });
      expect((await get(`/v1/decisions/${application.decisionId}`)).json()).toEqual(before);
      const proven = await verify(cryptoOf(t));
      expect(proven.facts?.mismatches).toEqual([]);
      expect(proven.ok).toBe(true);
    });
  });
