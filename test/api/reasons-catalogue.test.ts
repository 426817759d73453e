import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REASON_CODES } from '../../src/domain/reason-codes.js';
import { adminHeaders, startTestApp, type TestApp } from '../helpers/app.js';

/**
 * GET /v1/reasons: the reason catalogue the API checks a person's reasons against, for the console to offer and check
 * them from the API (not from a copy bundled into the web).
 */
describe('GET /v1/reasons', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => t?.close());

  it('lists every code with both texts and the rules a person follows', async () => {
    const res = await t.server.inject({ method: 'GET', url: '/v1/reasons', headers: adminHeaders() });
    expect(res.statusCode, res.body).toBe(200);
    const items = res.json().items as {
      code: string;
      zh: string;
      en: string;
      personMayGive: boolean;
      saysWhy: boolean;
    }[];
    expect(items.map((i) => i.code).sort()).toEqual(Object.keys(REASON_CODES).sort());
    const byCode = new Map(items.map((i) => [i.code, i]));
    expect(byCode.get('R_SCORE_LOW')).toMatchObject({ personMayGive: true, saysWhy: true });
    expect(byCode.get('R_ENGINE_ERROR')).toMatchObject({ personMayGive: false });
    expect(byCode.get('R_GOOD_REPAYMENT')).toMatchObject({ personMayGive: true, saysWhy: false });
    for (const item of items) expect(item.zh.length * item.en.length, item.code).toBeGreaterThan(0);
  });

  it('is for staff: no key, 401', async () => {
    expect((await t.server.inject({ method: 'GET', url: '/v1/reasons' })).statusCode).toBe(401);
  });
});
