import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../src/store/db.js';
import { getReason, LgError } from '../../src/domain/index.js';
import { ADULT, makeCore, openLine, residentId, type Harness } from './harness.js';

/**
 * README: LineGuard acts "always with reasons a borrower can read, in Chinese and English". Every answer that gives a
 * borrower the reasons of a decision gives them in both languages (`borrowerReasonsByLang: {zh, en}`, the shape of a
 * declined application's `explanation`), beside `borrowerReasons` (Chinese, kept for existing clients).
 */
const DRAW = { amountMinor: 100_000, currency: 'CNY', termMonths: 12, method: 'EQUAL_INSTALLMENT' } as const;

function expectBoth(
  answer: { borrowerReasons: unknown; borrowerReasonsByLang?: unknown },
  codes: readonly string[],
) {
  const byLang = answer.borrowerReasonsByLang as
    Record<'zh' | 'en', { code: string; text: string; action: string; appealable: boolean }[]> | undefined;
  expect(byLang, JSON.stringify(answer)).toBeDefined();
  for (const lang of ['zh', 'en'] as const) {
    expect(byLang?.[lang].map((r) => r.code)).toEqual(codes);
    expect(byLang?.[lang].map((r) => r.text)).toEqual(codes.map((c) => getReason(c)[lang]));
    expect(byLang?.[lang].map((r) => r.action)).toEqual(
      codes.map((c) => (lang === 'zh' ? getReason(c).borrowerActionZh : getReason(c).borrowerActionEn)),
    );
  }
  // The field existing clients read stays as it was: the Chinese.
  expect(answer.borrowerReasons).toEqual(byLang?.zh);
}

describe('the reasons a decision gives the borrower come in Chinese and English', () => {
  let store: Store;
  let h: Harness;
  let seq = 500;
  const applicant = () => ({ ...ADULT, nationalId: residentId('19850101', ++seq) });
  beforeEach(async () => {
    store = await openStore({ sqlitePath: ':memory:' });
    h = makeCore(store);
  });
  afterEach(async () => store.close());

  it('an application referred to review', async () => {
    h.engine.script.application = () => ({ outcome: 'REVIEW', reasons: ['R_INQUIRY_VELOCITY'] });
    const result = await h.core.submitApplication({ applicant: applicant(), attributes: {} });
    expect(result.outcome).toBe('REVIEW');
    expectBoth(result, ['R_INQUIRY_VELOCITY']);
  });

  it('an approved application and a declined one (whose explanation keeps its zh/en shape)', async () => {
    h.engine.script.application = () => ({
      outcome: 'APPROVE',
      limitMinor: 1_000_000,
      annualRate: 0.18,
      reasons: ['R_GOOD_REPAYMENT'],
    });
    expectBoth(await h.core.submitApplication({ applicant: applicant(), attributes: {} }), [
      'R_GOOD_REPAYMENT',
    ]);
    h.engine.script.application = () => ({ outcome: 'DECLINE', reasons: ['R_SCORE_LOW', 'R_THIN_FILE'] });
    const declined = await h.core.submitApplication({ applicant: applicant(), attributes: {} });
    expectBoth(declined, ['R_SCORE_LOW', 'R_THIN_FILE']);
    expect(declined.explanation?.en.reasons).toEqual(
      (declined as { borrowerReasonsByLang?: { en: unknown } }).borrowerReasonsByLang?.en,
    );
  });

  it("a declined draw's LG_DRAW_DECLINED", async () => {
    const lineId = await openLine(h, 5_000_000, applicant());
    h.engine.script.draw = () => ({ outcome: 'DECLINE', reasons: ['R_DRAW_VELOCITY', 'R_NEW_DEVICE'] });
    const refused = await h.core.requestDraw(lineId, DRAW).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(refused).toBeInstanceOf(LgError);
    const error = refused as LgError;
    expect(error.code).toBe('LG_DRAW_DECLINED');
    const details = error.details as { borrowerReasons: unknown; borrowerReasonsByLang?: unknown };
    expectBoth(details, ['R_DRAW_VELOCITY', 'R_NEW_DEVICE']);
  });

  it('a draw held, referred or approved', async () => {
    const lineId = await openLine(h, 5_000_000, applicant());
    h.engine.script.draw = () => ({ outcome: 'REVIEW', reasons: ['R_NEW_DEVICE'] });
    const held = await h.core.requestDraw(lineId, DRAW);
    expect(held.status).toBe('REVIEW');
    expectBoth(held, ['R_NEW_DEVICE']);
    h.engine.script.draw = () => ({ outcome: 'APPROVE', reasons: [] });
    const approved = await h.core.requestDraw(lineId, DRAW);
    expect(approved.status).toBe('APPROVED');
    expectBoth(approved, []);
  });
});
