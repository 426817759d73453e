import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../../src/api/api-keys.js';
import { APPLICANT_ONLY, adminHeaders, startTestApp, type TestApp } from '../helpers/app.js';
import { residentId } from '../core/harness.js';

/**
 * The borrower's own evidence (issue 16): with a borrower token, the credit-report inquiries made about them and a
 * proof of their own decision that verifies offline; another borrower's decision answers 404, as a missing one does.
 */
describe('a borrower reads their own inquiries and decision proofs', () => {
  let t: TestApp;
  let n = 0;
  const post = (url: string, payload: unknown, headers = adminHeaders(`be-${++n}`)) =>
    t.server.inject({ method: 'POST', url, headers, payload: payload as object });
  const asBorrower = (token: string, url: string) =>
    t.server.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}` } });

  async function borrower(seq: number): Promise<{ decisionId: string; token: string }> {
    const nationalId = residentId('19800101', seq);
    expect(
      (
        await post('/v1/consents', {
          nationalId,
          purpose: 'LOAN_APPROVAL',
          textVersion: 'loan-approval/2026-01',
          channel: 'APP',
        })
      ).statusCode,
    ).toBe(201);
    const applied = await post('/v1/applications', {
      applicant: { name: '王五', nationalId, phone: '13900003333' },
      attributes: APPLICANT_ONLY,
    });
    expect(applied.statusCode, applied.body).toBe(201);
    const { borrowerId, decisionId } = applied.json() as { borrowerId: string; decisionId: string };
    const service = await createApiKey(t.app.store.db, t.app, 'service', `be-${seq}`);
    const minted = await post(
      `/v1/borrowers/${borrowerId}/tokens`,
      {},
      { authorization: `Bearer ${service.key}` },
    );
    return { decisionId, token: (minted.json() as { token: string }).token };
  }

  beforeAll(async () => {
    t = await startTestApp({ LINEGUARD_BUREAU: 'sandbox' });
  });
  afterAll(async () => t?.close());

  it('shows the pull made at application, and proves the decision only to its own borrower', async () => {
    const a = await borrower(301);
    const b = await borrower(302);
    const inquiries = (await asBorrower(a.token, '/v1/me/inquiries')).json() as {
      inquiries: { status: string; purpose: string }[];
    };
    expect(inquiries.inquiries.map((i) => `${i.status} ${i.purpose}`)).toEqual(['PULLED LOAN_APPROVAL']);
    const proof = await asBorrower(a.token, `/v1/me/decisions/${a.decisionId}/proof`);
    expect(proof.statusCode, proof.body).toBe(200);
    expect(proof.json().entry.entryId).toBe(a.decisionId);
    expect(proof.json().path).toBeInstanceOf(Array);
    const theirs = await asBorrower(b.token, `/v1/me/decisions/${a.decisionId}/proof`);
    expect(theirs.statusCode).toBe(404);
    expect(theirs.json().error.code).toBe('LG_NOT_FOUND');
    const staff = await t.server.inject({ method: 'GET', url: '/v1/me/inquiries', headers: adminHeaders() });
    expect(staff.statusCode).toBe(403);
  });
});
