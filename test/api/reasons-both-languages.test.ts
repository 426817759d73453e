import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STRONG_APPLICANT, adminHeaders, startTestApp, type TestApp } from '../helpers/app.js';
import { residentId } from '../core/harness.js';
import { getReason } from '../../src/domain/index.js';

/**
 * README, first paragraph: LineGuard acts "always with reasons a borrower can read, in Chinese and English". Over HTTP,
 * with the bundled strategies: every answer that gives a borrower reasons carries them in both languages
 * (`borrowerReasonsByLang`, declared in the response schema so the serialiser keeps it), beside the Chinese
 * `borrowerReasons` existing clients read.
 */
describe('borrower reasons over HTTP come in Chinese and English', () => {
  let t: TestApp;
  let n = 0;
  let seq = 300;
  const post = (url: string, payload: object) =>
    t.server.inject({ method: 'POST', url, headers: adminHeaders(`rbl-${++n}`), payload });

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => t?.close());

  const bothLanguages = (answer: {
    borrowerReasonsByLang?: Record<string, { code: string; text: string }[]>;
  }) =>
    Object.fromEntries(
      (['zh', 'en'] as const).map((lang) => [
        lang,
        (answer.borrowerReasonsByLang?.[lang] ?? []).map((r) => r.text),
      ]),
    );

  it("a declined draw's 422 LG_DRAW_DECLINED", async () => {
    const applied = await post('/v1/applications', {
      applicant: { name: '王二', nationalId: residentId('19850101', ++seq), phone: '13900001313' },
      attributes: STRONG_APPLICANT,
    });
    expect(applied.statusCode, applied.body).toBe(201);
    const line = applied.json().line as { id: string };
    const listed = await post('/v1/lists', {
      list: 'black',
      entityType: 'device',
      value: 'rbl-farm-device-1',
      reason: 'device farm',
      source: 'analyst',
    });
    expect(listed.statusCode, listed.body).toBe(201);
    const drawn = await post(`/v1/lines/${line.id}/draws`, {
      deviceId: 'rbl-farm-device-1',
      amountMinor: 100_000,
      currency: 'CNY',
      termMonths: 12,
      method: 'EQUAL_INSTALLMENT',
    });
    expect(drawn.statusCode, drawn.body).toBe(422);
    const details = drawn.json().error.details;
    expect(drawn.json().error.code).toBe('LG_DRAW_DECLINED');
    expect(details.reasons).toContain('R_BLACKLIST');
    const texts = bothLanguages(details);
    expect(texts.zh).toContain(getReason('R_BLACKLIST').zh);
    expect(texts.en).toContain(getReason('R_BLACKLIST').en);
    expect(details.borrowerReasons).toEqual(details.borrowerReasonsByLang.zh);
  });

  it('an application referred to review', async () => {
    const res = await post('/v1/applications', {
      applicant: { name: '张三', nationalId: residentId('19850101', ++seq), phone: '13900001414' },
      attributes: { ...STRONG_APPLICANT, inquiries30d: 4 },
    });
    expect(res.statusCode, res.body).toBe(201);
    const body = res.json();
    expect(body.outcome).toBe('REVIEW');
    expect(body.reasons).toContain('R_INQUIRY_VELOCITY');
    const texts = bothLanguages(body);
    expect(texts.zh).toContain(getReason('R_INQUIRY_VELOCITY').zh);
    expect(texts.en).toContain(getReason('R_INQUIRY_VELOCITY').en);
    expect(body.borrowerReasons).toEqual(body.borrowerReasonsByLang.zh);
  });

  it('an approved application and an approved draw carry the field too', async () => {
    const applied = await post('/v1/applications', {
      applicant: { name: '李四', nationalId: residentId('19850101', ++seq), phone: '13900001515' },
      attributes: STRONG_APPLICANT,
    });
    expect(applied.statusCode, applied.body).toBe(201);
    expect(applied.json().borrowerReasonsByLang).toEqual({
      zh: applied.json().borrowerReasons,
      en: expect.any(Array),
    });
    const drawn = await post(`/v1/lines/${applied.json().line.id}/draws`, {
      amountMinor: 100_000,
      currency: 'CNY',
      termMonths: 12,
      method: 'EQUAL_INSTALLMENT',
    });
    expect(drawn.statusCode, drawn.body).toBe(201);
    expect(drawn.json().borrowerReasonsByLang).toEqual({
      zh: drawn.json().borrowerReasons,
      en: expect.any(Array),
    });
  });
});
