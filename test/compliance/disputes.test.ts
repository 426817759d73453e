import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MS_PER_DAY, isoDate } from '../../src/domain/clock.js';
import { fieldCryptoFromMasterKey } from '../../src/compliance/crypto.js';
import { subjectHashes } from '../../src/compliance/consent.js';
import { putSandboxReport } from '../../src/compliance/bureau.js';
import { createComplianceStore } from '../../src/store/compliance.js';
import { APPLICANT_ONLY, adminHeaders, type TestApp } from '../helpers/app.js';
import { residentId } from '../core/harness.js';
import { CASE_STORES, client, person, startCaseApp, type Person } from '../cases/helpers.js';
import type { ManualClock } from '../../src/domain/clock.js';
import type { TSchema } from '@sinclair/typebox';
import * as R from '../../src/api/routes/responses.js';
import { closedSchema, contractAjv, describeErrors } from '../api/response-contract.js';

/**
 * The borrower's side of the credit report (issue 16): disputes (异议) open a CREDIT_REPORT_DISPUTE case with a
 * 20-day SLA and end CORRECTED (a correction sent to the SANDBOX bureau) or REJECTED (the reason recorded); a
 * delinquency is reported to the bureau only after the borrower was told and the notice period passed. Each control
 * with the request that tries to get around it.
 */
const NOTICE_DAYS = 5;

interface Borrower {
  readonly borrowerId: string;
  readonly lineId: string;
  readonly inquiryId: string;
  readonly hash: string;
  readonly token: string;
}

describe.each(CASE_STORES)('credit-report disputes and delinquency notices ($name)', (store) => {
  let t: TestApp;
  let clock: ManualClock;
  let service: Person;
  let analyst: Person;
  let a: Borrower;
  let b: Borrower;
  let n = 0;
  const admin = () => client(t);
  /** A POST with a chosen Idempotency-Key (the shared client gives each write a fresh one). */
  const postWithKey = (token: string, url: string, key: string, payload: unknown) =>
    t.server.inject({
      method: 'POST',
      url,
      headers: { authorization: `Bearer ${token}`, 'idempotency-key': key },
      payload: payload as object,
    });
  const compliance = () => createComplianceStore(t.app.store);
  const ledgerKinds = async (subjectId: string) =>
    (
      await t.app.store.db
        .selectFrom('ledger_entries')
        .select(['kind', 'seq'])
        .where('subject_id', '=', subjectId)
        .orderBy('seq')
        .execute()
    ).map((r) => r.kind);

  async function borrower(seq: number, externalDelinquent = false): Promise<Borrower> {
    const nationalId = residentId('19850505', seq);
    const crypto = fieldCryptoFromMasterKey(t.app.config.masterKey, []);
    const [hash] = subjectHashes(crypto, nationalId, isoDate(clock.now()));
    await putSandboxReport(
      compliance(),
      hash,
      { existingDebtMinor: 0, externalDelinquent, inquiries30d: 0 },
      clock.now(),
    );
    const post = (url: string, payload: unknown) =>
      t.server.inject({ method: 'POST', url, headers: adminHeaders(`d-${++n}`), payload: payload as object });
    await post('/v1/consents', {
      nationalId,
      purpose: 'LOAN_APPROVAL',
      textVersion: 'loan-approval/2026-01',
      channel: 'APP',
    });
    const applied = (
      await post('/v1/applications', {
        applicant: { name: '李雷', nationalId, phone: '13900005555' },
        attributes: APPLICANT_ONLY,
      })
    ).json();
    expect(applied.outcome).toBe('APPROVE');
    const inquiries = (await admin().get(`/v1/borrowers/${applied.borrowerId}/inquiries`)).json().inquiries;
    const token = await tokenOf(applied.borrowerId);
    return {
      borrowerId: applied.borrowerId,
      lineId: applied.line.id,
      inquiryId: inquiries[0].id,
      hash,
      token,
    };
  }

  /** A fresh borrower token (a token is short-lived, and these tests move the clock by weeks). */
  async function tokenOf(borrowerId: string): Promise<string> {
    return (await client(t, service.key).post(`/v1/borrowers/${borrowerId}/tokens`)).json().token;
  }

  beforeAll(async () => {
    if (!store.enabled) return;
    ({ t, clock } = await startCaseApp({
      ...(await store.env()),
      LINEGUARD_BUREAU: 'sandbox',
      LINEGUARD_BUREAU_NOTICE_DAYS: String(NOTICE_DAYS),
    }));
    service = await person(t, 'service app', 'service');
    analyst = await person(t, '陈分析', 'analyst');
    a = await borrower(1);
    b = await borrower(2);
  });
  afterAll(async () => t?.close());

  it.skipIf(!store.enabled)(
    'a borrower disputes their inquiry: one case with a 20-day SLA, once per Idempotency-Key, once per target',
    async () => {
      const body = { target: { kind: 'INQUIRY', id: a.inquiryId }, text: '这次查询不是我授权的' };
      const first = await postWithKey(a.token, '/v1/me/disputes', 'dispute-a-1', body);
      expect(first.statusCode).toBe(201);
      const dispute = first.json();
      expect(dispute).toMatchObject({
        state: 'OPEN',
        target: { kind: 'INQUIRY', id: a.inquiryId },
        raisedBy: 'borrower',
        dueAt: new Date(clock.now() + 20 * MS_PER_DAY).toISOString(),
      });
      // The same key and body: the first answer again, byte for byte, and still one case.
      const again = await postWithKey(a.token, '/v1/me/disputes', 'dispute-a-1', body);
      expect(again.statusCode).toBe(201);
      expect(again.body).toBe(first.body);
      // The same key with another body is refused; a new key for the same target meets the open dispute.
      const otherBody = await postWithKey(a.token, '/v1/me/disputes', 'dispute-a-1', { ...body, text: 'x' });
      expect(otherBody.json().error.code).toBe('LG_IDEMPOTENCY_MISMATCH');
      const second = await postWithKey(a.token, '/v1/me/disputes', 'dispute-a-2', body);
      expect(second.statusCode).toBe(409);
      expect(second.json().error.code).toBe('LG_CONFLICT');
      const queue = (
        await client(t, analyst.key).get(`/v1/cases?type=CREDIT_REPORT_DISPUTE&borrowerId=${a.borrowerId}`)
      ).json().items;
      expect(queue).toHaveLength(1);
      expect(queue[0]).toMatchObject({
        id: dispute.caseId,
        subjectId: dispute.id,
        state: 'OPEN',
        slaDueAt: dispute.dueAt,
        slaBreached: false,
      });
      expect(await ledgerKinds(dispute.id)).toEqual(['credit_dispute.raised']);
      expect(await ledgerKinds(dispute.caseId)).toEqual(['case.opened']);
      const mine = (await client(t, a.token).get('/v1/me/disputes')).json().items;
      expect(mine.map((d: { id: string }) => d.id)).toEqual([dispute.id]);
    },
  );

  it.skipIf(!store.enabled)(
    "someone else's inquiry, dispute or notice is 404 to a borrower; nothing is recorded",
    async () => {
      const before = await t.app.store.db.selectFrom('credit_disputes').select('id').execute();
      const me = client(t, a.token);
      const cases = [
        { target: { kind: 'INQUIRY', id: b.inquiryId }, text: 'not mine' },
        { target: { kind: 'INQUIRY', id: '0190a0a0-0000-7000-8000-000000000000' }, text: 'unknown' },
        { target: { kind: 'DELINQUENCY_REPORT', id: b.inquiryId }, text: 'wrong kind' },
        { target: { kind: 'REPORT_ITEM', id: 'creditScore', correctValue: 1 }, text: 'no such item' },
      ];
      for (const payload of cases) {
        const res = await me.post('/v1/me/disputes', payload);
        expect(res.statusCode).toBe(404);
        expect(res.json().error.code).toBe('LG_NOT_FOUND');
      }
      const noValue = await me.post('/v1/me/disputes', {
        target: { kind: 'REPORT_ITEM', id: 'externalDelinquent' },
        text: 'says nothing',
      });
      expect(noValue.json().error.code).toBe('LG_VALIDATION');
      // The borrower token cannot name another borrower: the body has no borrowerId, and the operator route is closed.
      const smuggled = await me.post('/v1/me/disputes', {
        borrowerId: b.borrowerId,
        target: { kind: 'INQUIRY', id: b.inquiryId },
        text: 'x',
      });
      expect(smuggled.statusCode).toBe(400);
      const operatorRoute = await me.post('/v1/disputes', {
        borrowerId: b.borrowerId,
        target: { kind: 'INQUIRY', id: b.inquiryId },
        text: 'x',
      });
      expect(operatorRoute.statusCode).toBe(403);
      const aDispute = (await me.get('/v1/me/disputes')).json().items[0];
      expect((await client(t, b.token).get(`/v1/me/disputes/${aDispute.id}`)).statusCode).toBe(404);
      expect(await t.app.store.db.selectFrom('credit_disputes').select('id').execute()).toHaveLength(
        before.length,
      );
    },
  );

  it.skipIf(!store.enabled)(
    'REJECTED needs the reason in both languages and records it; no correction is sent',
    async () => {
      const dispute = (await client(t, a.token).get('/v1/me/disputes')).json().items[0];
      const resolver = client(t, analyst.key);
      const bare = await resolver.post(`/v1/cases/${dispute.caseId}/resolve`, { outcome: 'REJECTED' });
      expect(bare.statusCode).toBe(400);
      expect(bare.json().error.code).toBe('LG_VALIDATION');
      const wrong = await resolver.post(`/v1/cases/${dispute.caseId}/resolve`, { outcome: 'UPHELD' });
      expect(wrong.json().error.code).toBe('LG_CASE_OUTCOME_INVALID');
      const done = await resolver.post(`/v1/cases/${dispute.caseId}/resolve`, {
        outcome: 'REJECTED',
        textZh: '该查询发生在您授权的贷款审批期间。',
        textEn: 'The inquiry was made under your consent, while your application was approved.',
      });
      expect(done.statusCode).toBe(200);
      const after = (await client(t, a.token).get(`/v1/me/disputes/${dispute.id}`)).json();
      expect(after).toMatchObject({
        state: 'REJECTED',
        correctionId: null,
        outcome: { zh: '该查询发生在您授权的贷款审批期间。' },
      });
      expect(await ledgerKinds(dispute.id)).toEqual(['credit_dispute.raised', 'credit_dispute.decided']);
      expect(await compliance().sandboxSubmissions(a.hash)).toEqual([]);
      // Decided once: resolving again is refused.
      const twice = await resolver.post(`/v1/cases/${dispute.caseId}/resolve`, {
        outcome: 'CORRECTED',
        textZh: '更正',
        textEn: 'corrected',
      });
      expect(twice.statusCode).toBe(409);
    },
  );

  it.skipIf(!store.enabled)(
    'an operator records a dispute of a report item; CORRECTED sends the correction and the next pull sees it',
    async () => {
      const c = await borrower(3);
      await putSandboxReport(
        compliance(),
        c.hash,
        { existingDebtMinor: 0, externalDelinquent: true, inquiries30d: 0 },
        clock.now(),
      );
      const raised = await client(t, analyst.key).post('/v1/disputes', {
        borrowerId: c.borrowerId,
        target: { kind: 'REPORT_ITEM', id: 'externalDelinquent', correctValue: false },
        text: '客户来电：该笔逾期已于上月结清',
      });
      expect(raised.statusCode).toBe(201);
      const dispute = raised.json();
      expect(dispute.raisedBy).toBe(`user:${analyst.userId}`);
      const done = await client(t, analyst.key).post(`/v1/cases/${dispute.caseId}/resolve`, {
        outcome: 'CORRECTED',
        textZh: '已向征信机构报送更正。',
        textEn: 'We sent a correction to the credit bureau.',
      });
      expect(done.statusCode).toBe(200);
      const after = (await client(t, c.token).get(`/v1/me/disputes/${dispute.id}`)).json();
      expect(after.state).toBe('CORRECTED');
      expect(after.correctionId).toBeTruthy();
      const received = await compliance().sandboxSubmissions(c.hash);
      expect(received).toHaveLength(1);
      expect(received[0]).toMatchObject({ id: after.correctionId, kind: 'CORRECTION' });
      expect(JSON.parse(received[0]?.payload ?? '{}')).toMatchObject({
        disputeId: dispute.id,
        item: 'externalDelinquent',
        value: false,
      });
      expect(JSON.parse((await compliance().sandboxReport(c.hash)) ?? '{}')).toMatchObject({
        externalDelinquent: false,
      });
      const decided = await t.app.store.db
        .selectFrom('ledger_entries')
        .select('payload')
        .where('entry_id', '=', `${dispute.id}:decided`)
        .executeTakeFirstOrThrow();
      expect(await ledgerKinds(c.borrowerId)).toContain('bureau.submission_sent');
      expect(JSON.parse(decided.payload)).toMatchObject({
        outcome: 'CORRECTED',
        correctionId: after.correctionId,
      });
    },
  );

  it.skipIf(!store.enabled)('two raises at once on one target: one dispute, one 409', async () => {
    const d = await borrower(4);
    const body = { target: { kind: 'INQUIRY', id: d.inquiryId }, text: '重复提交' };
    const answers = await Promise.all([
      postWithKey(d.token, '/v1/me/disputes', 'race-1', body),
      postWithKey(d.token, '/v1/me/disputes', 'race-2', body),
    ]);
    expect(answers.map((r) => r.statusCode).sort()).toEqual([201, 409]);
    const cases = (
      await client(t, analyst.key).get(`/v1/cases?type=CREDIT_REPORT_DISPUTE&borrowerId=${d.borrowerId}`)
    ).json().items;
    expect(cases).toHaveLength(1);
  });

  it.skipIf(!store.enabled)('a dispute unanswered after 20 calendar days shows as breached', async () => {
    const raised = (
      await client(t, b.token).post('/v1/me/disputes', {
        target: { kind: 'INQUIRY', id: b.inquiryId },
        text: '我不认识这家机构',
      })
    ).json();
    clock.advance(20 * MS_PER_DAY - 60_000);
    await t.app.cases.runJobs();
    const early = (await client(t, analyst.key).get(`/v1/cases/${raised.caseId}`)).json();
    expect(early.slaBreached).toBe(false);
    clock.advance(2 * 60_000);
    await t.app.cases.runJobs();
    const late = (await client(t, analyst.key).get(`/v1/cases/${raised.caseId}`)).json();
    expect(late).toMatchObject({ slaBreached: true, state: 'ESCALATED' });
  });

  it.skipIf(!store.enabled)(
    'a delinquency is reported only after the borrower was told and the notice period passed',
    async () => {
      const draw = await client(t, service.key).post(`/v1/lines/${a.lineId}/draws`, {
        amountMinor: 300_000,
        currency: 'CNY',
        termMonths: 6,
        method: 'EQUAL_INSTALLMENT',
      });
      expect(draw.statusCode).toBe(201);
      // Nobody pays: 45 days on the first instalment is past due.
      clock.advance(45 * MS_PER_DAY);
      await t.app.core.runDailyJob(isoDate(clock.now()));
      // Two runs at once (two processes): one notice.
      const runs = await Promise.all([t.app.consents.reporting.run(), t.app.consents.reporting.run()]);
      const first = {
        noticesSent: runs[0].noticesSent + runs[1].noticesSent,
        reported: runs[0].reported + runs[1].reported,
      };
      a = { ...a, token: await tokenOf(a.borrowerId) };
      b = { ...b, token: await tokenOf(b.borrowerId) };
      expect(first).toMatchObject({ noticesSent: 1, reported: 0 });
      const notices = (await client(t, a.token).get('/v1/me/bureau-notices')).json().items;
      expect(notices).toHaveLength(1);
      expect(notices[0]).toMatchObject({
        status: 'NOTIFIED',
        reportAfter: new Date(clock.now() + NOTICE_DAYS * MS_PER_DAY).toISOString(),
      });
      expect(notices[0].text.zh).toMatch(/逾期.*征信|金融信用信息基础数据库/);
      expect(notices[0].text.en).toMatch(/past due.*credit bureau/);
      expect((await client(t, b.token).get('/v1/me/bureau-notices')).json().items).toEqual([]);
      const delinquencies = async () =>
        (await compliance().sandboxSubmissions(a.hash)).filter((s) => s.kind === 'DELINQUENCY');
      expect(await delinquencies()).toEqual([]);

      // A day short of the period: still nothing reported, and no second notice.
      clock.advance((NOTICE_DAYS - 1) * MS_PER_DAY);
      await t.app.core.runDailyJob(isoDate(clock.now()));
      expect(await t.app.consents.reporting.run()).toMatchObject({ noticesSent: 0, reported: 0 });
      expect(await delinquencies()).toEqual([]);

      clock.advance(MS_PER_DAY);
      expect(await t.app.consents.reporting.run()).toMatchObject({ noticesSent: 0, reported: 1 });
      const sent = await delinquencies();
      expect(sent).toHaveLength(1);
      expect(JSON.parse(sent[0]?.payload ?? '{}')).toMatchObject({ noticeId: notices[0].id });
      a = { ...a, token: await tokenOf(a.borrowerId) };
      b = { ...b, token: await tokenOf(b.borrowerId) };
      const reported = (await client(t, a.token).get('/v1/me/bureau-notices')).json().items[0];
      expect(reported.status).toBe('REPORTED');
      // In the ledger, the notice precedes the report.
      const kinds = await ledgerKinds(a.borrowerId);
      const noticeAt = kinds.indexOf('bureau.delinquency_notice');
      expect(noticeAt).toBeGreaterThanOrEqual(0);
      expect(kinds.indexOf('bureau.delinquency_reported')).toBeGreaterThan(noticeAt);
      expect(kinds.indexOf('bureau.submission_sent')).toBeGreaterThan(
        kinds.indexOf('bureau.delinquency_reported'),
      );
      // A rerun reports nothing twice.
      expect(await t.app.consents.reporting.run()).toMatchObject({ noticesSent: 0, reported: 0 });
      expect(await delinquencies()).toHaveLength(1);

      // The borrower may dispute the reported delinquency; another borrower may not.
      const target = { kind: 'DELINQUENCY_REPORT', id: notices[0].id };
      expect((await client(t, b.token).post('/v1/me/disputes', { target, text: 'x' })).statusCode).toBe(404);
      const disputed = await client(t, a.token).post('/v1/me/disputes', { target, text: '我已按时还款' });
      expect(disputed.statusCode).toBe(201);
      expect(disputed.json().target).toEqual(target);

      // What the routes hand the serializer fits their declared answers exactly, on this store too: a member the
      // schema does not name would be dropped silently, a number read back as a string coerced.
      const notice = await t.app.consents.reporting.noticesOf(a.borrowerId);
      expect(notice.map((v) => misfits(R.BureauNoticeView, v))).toEqual([[]]);
      const decidedAndOpen = await t.app.consents.disputes.ofBorrower(a.borrowerId);
      expect(decidedAndOpen.map((v) => v.state).sort()).toEqual(['OPEN', 'REJECTED']);
      expect(decidedAndOpen.map((v) => misfits(R.DisputeView, v))).toEqual([[], []]);
    },
  );
});

function misfits(schema: TSchema, value: unknown): string[] {
  const validate = contractAjv().compile(closedSchema(schema));
  return validate(JSON.parse(JSON.stringify(value))) ? [] : describeErrors(validate.errors);
}
