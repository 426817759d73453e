import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LightMyRequestResponse } from 'fastify';
import type { ManualClock } from '../../src/domain/clock.js';
import { STRONG_APPLICANT, TEST_ADMIN_KEY, type TestApp } from '../helpers/app.js';
import { residentId } from '../core/harness.js';
import { CASE_STORES, client, person, startCaseApp, type Person } from './helpers.js';
import { keyRow, refuseKeyRowUpdates } from '../helpers/stores.js';
import { fieldCryptoFromMasterKey } from '../../src/compliance/crypto.js';

/**
 * Issue 13, "idempotent responses stored after the reply", on the case side: working a case (assign, move, note,
 * resolve, extend), deciding a four-eyes change applied in the approval's own transaction, a step-up result, stopping
 * a cooling-off draw and raising a credit-report dispute each commit their response with their key. With every later
 * write of a key row refused (a trigger), each is still acknowledged with its usual status, its key row holds that
 * answer, and a retry replays it byte for byte.
 */
const COOLING_OFF_MS = 10 * 60_000;
/** At or above the four-eyes release threshold (2,000,000 by default): releasing it needs a second person. */
const LARGE_DRAW_MINOR = 2_500_000;

interface Borrower {
  readonly borrowerId: string;
  readonly lineId: string;
}

/** What the writes under test act on, set up before key rows become write-once. */
interface Fixtures {
  readonly reviewCaseId: string;
  readonly largeHeldCaseIds: readonly [string, string];
  readonly challengedDrawIds: readonly [string, string];
  readonly coolingDrawId: string;
  readonly complaintCaseId: string;
  readonly borrower: Borrower;
  readonly borrowerToken: string;
}

for (const store of CASE_STORES)
  describe.skipIf(!store.enabled)(`case writes store their responses with their keys (${store.name})`, () => {
    let t: TestApp;
    let clock: ManualClock;
    let analyst: Person;
    let supervisor: Person;
    let fixtures: Fixtures;
    let seq = 0;

    const apply = async (attributes: Record<string, unknown> = STRONG_APPLICANT) => {
      seq += 1;
      const res = await client(t).post('/v1/applications', {
        applicant: { name: '测试', nationalId: residentId('19870303', seq), phone: '13900003333' },
        attributes,
      });
      expect(res.statusCode, res.body).toBe(201);
      return res.json<{ applicationId: string; borrowerId: string; line?: { id: string } }>();
    };
    const borrower = async (): Promise<Borrower> => {
      const applied = await apply();
      if (!applied.line) throw new Error('a strong applicant is granted a line');
      return { borrowerId: applied.borrowerId, lineId: applied.line.id };
    };
    const draw = async (lineId: string, amountMinor: number) => {
      const res = await client(t).post(`/v1/lines/${lineId}/draws`, {
        amountMinor,
        currency: 'CNY',
        termMonths: 6,
        method: 'EQUAL_INSTALLMENT',
      });
      expect(res.statusCode, res.body).toBeLessThan(300);
      return res.json<{ drawId: string; status: string }>();
    };
    /** A call in progress: the borrower's next draw is challenged (small) or held (large). */
    const onTheCall = async (b: Borrower) => {
      const res = await client(t).post('/v1/events', {
        eventId: `call-${b.borrowerId}`,
        type: 'call_in_progress',
        occurredAt: new Date(clock.now()).toISOString(),
        userId: b.borrowerId,
      });
      expect(res.statusCode, res.body).toBe(200);
    };
    const caseFor = async (type: string, subjectId: string): Promise<string> => {
      const list = (await client(t, analyst.key).get(`/v1/cases?type=${type}&limit=500`)).json<{
        items: { id: string; subjectId: string }[];
      }>();
      const found = list.items.find((c) => c.subjectId === subjectId);
      if (!found) throw new Error(`no ${type} case for ${subjectId}`);
      return found.id;
    };
    const largeHeldCase = async () => {
      const b = await borrower();
      await onTheCall(b);
      const held = await draw(b.lineId, LARGE_DRAW_MINOR);
      expect(held.status).toBe('HOLD');
      return caseFor('HELD_DRAW', held.drawId);
    };
    const challengedDraw = async () => {
      const b = await borrower();
      await onTheCall(b);
      const challenged = await draw(b.lineId, 100_000);
      expect(challenged.status).toBe('CHALLENGE');
      return challenged.drawId;
    };

    async function setUp(): Promise<Fixtures> {
      const referred = await apply({ ...STRONG_APPLICANT, inquiries30d: 4 });
      const reviewCaseId = await caseFor('REVIEW_APPLICATION', referred.applicationId);
      const largeHeldCaseIds = [await largeHeldCase(), await largeHeldCase()] as const;
      const challengedDrawIds = [await challengedDraw(), await challengedDraw()] as const;
      const b = await borrower();
      await draw(b.lineId, 100_000);
      const cooling = await draw(b.lineId, 100_000);
      expect(cooling.status).toBe('COOLDOWN');
      const service = await person(t, 'lender backend', 'service');
      const borrowerToken = (await client(t, service.key).post(`/v1/borrowers/${b.borrowerId}/tokens`)).json<{
        token: string;
      }>().token;
      const complaint = await client(t, borrowerToken).post('/v1/me/complaints', {
        category: 'SERVICE',
        text: '客服没有回电话',
      });
      expect(complaint.statusCode, complaint.body).toBe(201);
      const complaintCaseId = await caseFor('COMPLAINT', complaint.json<{ id: string }>().id);
      return {
        reviewCaseId,
        largeHeldCaseIds,
        challengedDrawIds,
        coolingDrawId: cooling.drawId,
        complaintCaseId,
        borrower: b,
        borrowerToken,
      };
    }

    /**
     * Posts once and again with the same key: acknowledged with `status`, its key row holding exactly that answer
     * (the after-commit store is refused), and the retry replaying it byte for byte.
     */
    async function storedWithKey(
      bearer: string,
      write: { url: string; key: string; payload: object; status: number },
    ): Promise<LightMyRequestResponse> {
      const post = () =>
        t.server.inject({
          method: 'POST',
          url: write.url,
          headers: { authorization: `Bearer ${bearer}`, 'idempotency-key': write.key },
          payload: write.payload,
        });
      const first = await post();
      expect(first.statusCode, `${write.url}: ${first.body}`).toBe(write.status);
      // Opened: disputes keep theirs sealed (personal data), the rest as they are.
      expect(await keyRow(t.app.store, write.key, fieldCryptoFromMasterKey(t.app.config.masterKey))).toEqual({
        state: 'done',
        status_code: write.status,
        response_body: first.body,
      });
      const replay = await post();
      expect(replay.headers['idempotent-replayed'], `${write.url}: ${replay.body}`).toBe('true');
      expect([replay.statusCode, replay.body]).toEqual([write.status, first.body]);
      return first;
    }

    beforeAll(async () => {
      ({ t, clock } = await startCaseApp({
        LINEGUARD_COOLING_OFF_MS: String(COOLING_OFF_MS),
        ...(await store.env()),
      }));
      analyst = await person(t, '王芳', 'analyst');
      supervisor = await person(t, '赵敏', 'supervisor');
      fixtures = await setUp();
      await refuseKeyRowUpdates(t.app.store);
    });
    afterAll(async () => t?.close());

    it('works a case: assign, move, note, and resolve it (200)', async () => {
      const url = (action: string) => `/v1/cases/${fixtures.reviewCaseId}/${action}`;
      const assigned = await storedWithKey(analyst.key, {
        url: url('assign'),
        key: 'assign-1',
        payload: {},
        status: 200,
      });
      expect(assigned.json()).toMatchObject({ state: 'ASSIGNED', assignee: analyst.userId });
      const moved = await storedWithKey(analyst.key, {
        url: url('state'),
        key: 'move-1',
        payload: { to: 'PENDING_CUSTOMER', note: 'asked for payslips' },
        status: 200,
      });
      expect(moved.json()).toMatchObject({ state: 'PENDING_CUSTOMER' });
      const noted = await storedWithKey(analyst.key, {
        url: url('notes'),
        key: 'note-1',
        payload: { text: 'payslips received' },
        status: 201,
      });
      expect(noted.json()).toMatchObject({ author: `user:${analyst.userId}`, text: 'payslips received' });
      const resolved = await storedWithKey(analyst.key, {
        url: url('resolve'),
        key: 'resolve-1',
        payload: { outcome: 'APPROVE', limitMinor: 3_000_000, annualRate: 0.15, note: 'income verified' },
        status: 200,
      });
      expect(resolved.json()).toMatchObject({
        state: 'RESOLVED',
        case: { state: 'RESOLVED', outcome: 'APPROVE' },
      });
    });

    it('escalates a large release for a second person (202), who approves one and rejects another', async () => {
      const [approvedCase, rejectedCase] = fixtures.largeHeldCaseIds;
      const escalate = async (caseId: string, key: string) => {
        const asked = await storedWithKey(analyst.key, {
          url: `/v1/cases/${caseId}/resolve`,
          key,
          payload: { outcome: 'RELEASE', note: 'customer called back' },
          status: 202,
        });
        const answer = asked.json<{ state: string; pendingChange: { id: string; operation: string } }>();
        expect(answer).toMatchObject({ state: 'ESCALATED', pendingChange: { operation: 'draw.release' } });
        return answer.pendingChange.id;
      };
      const toApprove = await escalate(approvedCase, 'escalate-1');
      const toReject = await escalate(rejectedCase, 'escalate-2');
      const approved = await storedWithKey(supervisor.key, {
        url: `/v1/changes/${toApprove}/approve`,
        key: 'approve-1',
        payload: { note: 'verified with the borrower' },
        status: 200,
      });
      expect(approved.json()).toMatchObject({ state: 'APPROVED', checker: `user:${supervisor.userId}` });
      const rejected = await storedWithKey(supervisor.key, {
        url: `/v1/changes/${toReject}/reject`,
        key: 'reject-1',
        payload: { note: 'could not reach the borrower' },
        status: 200,
      });
      expect(rejected.json()).toMatchObject({
        state: 'REJECTED',
        decisionNote: 'could not reach the borrower',
      });
    });

    it('extends a complaint deadline', async () => {
      const extended = await storedWithKey(supervisor.key, {
        url: `/v1/cases/${fixtures.complaintCaseId}/extend`,
        key: 'extend-1',
        payload: { reason: 'waiting for the partner lender' },
        status: 200,
      });
      expect(extended.json()).toMatchObject({
        extended: true,
        extensionReason: 'waiting for the partner lender',
      });
    });

    it('takes step-up results (PASSED, FAILED) and stops a cooling-off draw', async () => {
      const [passedDraw, failedDraw] = fixtures.challengedDrawIds;
      const passed = await storedWithKey(TEST_ADMIN_KEY, {
        url: `/v1/draws/${passedDraw}/challenge`,
        key: 'challenge-1',
        payload: { result: 'PASSED' },
        status: 200,
      });
      expect(passed.json()).toMatchObject({ drawId: passedDraw, status: 'APPROVED' });
      const failed = await storedWithKey(TEST_ADMIN_KEY, {
        url: `/v1/draws/${failedDraw}/challenge`,
        key: 'challenge-2',
        payload: { result: 'FAILED' },
        status: 200,
      });
      expect(failed.json()).toMatchObject({ drawId: failedDraw, status: 'CANCELLED' });
      expect(failed.json<{ caseId?: string }>().caseId).toBe(await caseFor('HELD_DRAW', failedDraw));
      const stopped = await storedWithKey(analyst.key, {
        url: `/v1/draws/${fixtures.coolingDrawId}/stop`,
        key: 'stop-1',
        payload: { why: 'the borrower sounded coached on the phone' },
        status: 200,
      });
      expect(stopped.json()).toEqual({ drawId: fixtures.coolingDrawId, status: 'HOLD' });
    });

    it("raises credit-report disputes: the borrower's own and an operator's", async () => {
      const mine = await storedWithKey(fixtures.borrowerToken, {
        url: '/v1/me/disputes',
        key: 'dispute-1',
        payload: {
          target: { kind: 'REPORT_ITEM', id: 'existingDebtMinor', correctValue: 0 },
          text: '我没有这笔负债',
        },
        status: 201,
      });
      expect(mine.json()).toMatchObject({ state: 'OPEN', raisedBy: 'borrower' });
      const recorded = await storedWithKey(analyst.key, {
        url: '/v1/disputes',
        key: 'dispute-2',
        payload: {
          borrowerId: fixtures.borrower.borrowerId,
          target: { kind: 'REPORT_ITEM', id: 'inquiries30d', correctValue: 0 },
          text: 'the borrower says these inquiries were not theirs',
        },
        status: 201,
      });
      expect(recorded.json()).toMatchObject({ state: 'OPEN', raisedBy: `user:${analyst.userId}` });
      // The answer stored with the key is the dispute as a read finds it.
      const read = await client(t).get(`/v1/disputes/${recorded.json<{ id: string }>().id}`);
      expect(read.body).toBe(recorded.body);
    });
  });
