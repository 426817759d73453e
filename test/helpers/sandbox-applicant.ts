import { expect } from 'vitest';
import { isoDate, type Clock } from '../../src/domain/clock.js';
import { fieldCryptoFromMasterKey } from '../../src/compliance/index.js';
import { subjectHashes } from '../../src/compliance/consent.js';
import { putSandboxReport } from '../../src/compliance/bureau.js';
import { createComplianceStore } from '../../src/store/compliance.js';
import { APPLICANT_ONLY, type TestApp } from './app.js';

type Post = (url: string, payload: object) => Promise<{ statusCode: number; body: string; json<T>(): T }>;

/**
 * An applicant with a file at the sandbox bureau (LINEGUARD_BUREAU=sandbox), a LOAN_APPROVAL consent and an
 * application through the API: the borrower and the decision a dispute or a sealed-value test starts from.
 */
export async function applicantWithSandboxFile(
  t: TestApp,
  at: { readonly clock: Clock; readonly post: Post },
  applicant: { readonly name: string; readonly nationalId: string; readonly phone: string },
  report: { existingDebtMinor: number; externalDelinquent: boolean; inquiries30d: number },
): Promise<{ borrowerId: string; decisionId: string }> {
  const crypto = fieldCryptoFromMasterKey(t.app.config.masterKey, t.app.config.retiredKeys);
  const [hash] = subjectHashes(crypto, applicant.nationalId, isoDate(at.clock.now()));
  await putSandboxReport(createComplianceStore(t.app.store), hash, report, at.clock.now());
  const consent = await at.post('/v1/consents', {
    nationalId: applicant.nationalId,
    purpose: 'LOAN_APPROVAL',
    textVersion: 'loan-approval/2026-01',
    channel: 'APP',
  });
  expect(consent.statusCode, consent.body).toBe(201);
  const applied = await at.post('/v1/applications', { applicant, attributes: APPLICANT_ONLY });
  expect(applied.statusCode, applied.body).toBe(201);
  return applied.json<{ borrowerId: string; decisionId: string }>();
}
