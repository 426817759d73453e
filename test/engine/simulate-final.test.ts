import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isoDate } from '../../src/domain/clock.js';
import { fieldCryptoFromMasterKey } from '../../src/compliance/crypto.js';
import { subjectHashes } from '../../src/compliance/consent.js';
import { putSandboxReport } from '../../src/compliance/bureau.js';
import { createComplianceStore } from '../../src/store/compliance.js';
import { APPLICANT_ONLY, adminHeaders, startTestApp, type TestApp } from '../helpers/app.js';
import { residentId } from '../core/harness.js';

/**
 * Simulation is what activation will do (findings round 6, F5): the core's rules after the engine — the consent gate
 * that refers an application without a recorded bureau consent, the age rule — apply to the replayed outcome too, so
 * the simulated approval rate and the newly declined are those of the applications' answers, not the engine's.
 */
describe('simulation reports the final outcomes, after the core’s rules', () => {
  let t: TestApp;
  let n = 0;
  const post = (url: string, payload: object) =>
    t.server.inject({ method: 'POST', url, headers: adminHeaders(`sf-${++n}`), payload });
  const apply = (nationalId: string) =>
    post('/v1/applications', {
      applicant: { name: '周八', nationalId, phone: '13900004444' },
      attributes: APPLICANT_ONLY,
    });

  beforeAll(async () => {
    t = await startTestApp({ LINEGUARD_BUREAU: 'sandbox' });
  });
  afterAll(async () => t?.close());

  it('consent-missing referrals and an age decline count as answered, for the live version and a stricter one', async () => {
    const from = new Date(Date.now() - 1).toISOString();
    const answers: { decisionId: string; outcome: string; reasons: string[]; limit: number | null }[] = [];
    const record = async (res: Awaited<ReturnType<typeof apply>>) => {
      expect(res.statusCode, res.body).toBe(201);
      const b = res.json();
      answers.push({
        decisionId: b.decisionId,
        outcome: b.outcome,
        reasons: b.reasons,
        limit: b.line?.limitMinor ?? null,
      });
    };
    // Three applicants without a consent: referred by the core's consent gate, no line.
    for (let i = 0; i < 3; i++) await record(await apply(residentId('19850101', 700 + i)));
    // One applicant over the maximum age: declined by the core's hard rule.
    await record(await apply(residentId('19400101', 710)));
    // One with a consent and a clean bureau file: approved with a line.
    const id = residentId('19850101', 720);
    const crypto = fieldCryptoFromMasterKey(t.app.config.masterKey, []);
    const [hash] = subjectHashes(crypto, id, isoDate(Date.now()));
    await putSandboxReport(
      createComplianceStore(t.app.store),
      hash,
      { existingDebtMinor: 0, externalDelinquent: false, inquiries30d: 0 },
      Date.now(),
    );
    const consent = await post('/v1/consents', {
      nationalId: id,
      purpose: 'LOAN_APPROVAL',
      textVersion: 'loan-approval/2026-01',
      channel: 'APP',
    });
    expect(consent.statusCode, consent.body).toBe(201);
    await record(await apply(id));
    const to = new Date(Date.now() + 1000).toISOString();

    expect(answers.map((a) => a.outcome)).toEqual(['REVIEW', 'REVIEW', 'REVIEW', 'DECLINE', 'APPROVE']);
    for (const a of answers.slice(0, 3)) expect(a.reasons[0]).toBe('R_CONSENT_MISSING');
    expect(answers[3]?.reasons).toContain('R_AGE_ABOVE_MAX');
    const approved = answers[4]!;
    expect(approved.limit).toBeGreaterThan(0);

    const live = await post('/v1/strategies/application/simulate', { from, to, version: 1 });
    expect(live.statusCode, live.body).toBe(200);
    const same = live.json();
    expect(same.decisions).toBe(5);
    expect(same.approvalRate).toEqual({ before: 0.2, after: 0.2 });
    expect(same.limitTotalMinor).toEqual({ before: approved.limit, after: approved.limit });
    expect(same.outcomeMatrix.REVIEW.REVIEW).toBe(3);
    expect(same.outcomeMatrix.DECLINE.DECLINE).toBe(1);
    expect(same.outcomeMatrix.APPROVE.APPROVE).toBe(1);
    expect(same.changed).toBe(0);
    expect(same.newlyDeclined).toEqual([]);
    // The strategy's own figures are there too: it approved people the core then referred.
    expect(same.strategy.approvalRate.before).toBeGreaterThan(0.2);
    expect(same.strategy.approvalRate.after).toBe(same.strategy.approvalRate.before);
    expect(same.coreRules.before).toBeGreaterThanOrEqual(4);
    expect(same.coreRules.unrecorded).toBe(0);
    expect(same.coreRules.notReplayable).toBe(0);

    const doc = (
      await t.server.inject({
        method: 'GET',
        url: '/v1/strategies/application/versions/1',
        headers: adminHeaders(),
      })
    ).json().document as { params: Record<string, { default: number }>; version?: number };
    const { version: _v, ...candidate } = {
      ...doc,
      params: { ...doc.params, cutoffScore: { ...doc.params.cutoffScore, default: 900 } },
    };
    const strict = await post('/v1/strategies/application/simulate', { from, to, document: candidate });
    expect(strict.statusCode, strict.body).toBe(200);
    const report = strict.json();
    expect(report.approvalRate).toEqual({ before: 0.2, after: 0 });
    expect(report.limitTotalMinor).toEqual({ before: approved.limit, after: 0 });
    // The newly declined are seen from what each applicant was answered: one approval declined, and the three the
    // consent gate referred, declined by the stricter strategy (the gate keeps a decline: R_CONSENT_MISSING first).
    // The applicant declined for age was declined already. The strategy's own figures had all five approved.
    const declined = report.newlyDeclined as { decisionId: string; before: string; reasonsAfter: string[] }[];
    expect(declined.filter((s) => s.before === 'APPROVE').map((s) => s.decisionId)).toEqual([
      approved.decisionId,
    ]);
    const referred = declined.filter((s) => s.before === 'REVIEW');
    expect(referred.map((s) => s.decisionId).sort()).toEqual(
      answers
        .slice(0, 3)
        .map((a) => a.decisionId)
        .sort(),
    );
    for (const s of referred) expect(s.reasonsAfter[0]).toBe('R_CONSENT_MISSING');
    expect(declined.map((s) => s.decisionId)).not.toContain(answers[3]?.decisionId);
    expect(report.outcomeMatrix.REVIEW.DECLINE).toBe(3);
    expect(report.outcomeMatrix.DECLINE.DECLINE).toBe(1);
    expect(report.outcomeMatrix.APPROVE.DECLINE).toBe(1);
    expect(report.strategy.outcomeMatrix.APPROVE.DECLINE).toBe(5);
    expect(report.strategy.approvalRate).toEqual({ before: 1, after: 0 });

    // Decisions stored before the core recorded its rules: the answer comes from the application's row, and the
    // hard rule and the consent referral are inferred from its reasons.
    await t.app.store.db.updateTable('decisions').set({ core_rules: null }).execute();
    const older = (await post('/v1/strategies/application/simulate', { from, to, version: 1 })).json();
    expect(older.coreRules.unrecorded).toBe(5);
    expect(older.approvalRate).toEqual({ before: 0.2, after: 0.2 });
    expect(older.outcomeMatrix.REVIEW.REVIEW).toBe(3);
    expect(older.outcomeMatrix.DECLINE.DECLINE).toBe(1);
    expect(older.changed).toBe(0);
  });
});
