import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ADULT, residentId } from '../core/harness.js';
import { countRows, DAILY_PRODUCT, lendingEnv, type LendingEnv } from './helpers.js';

let env: LendingEnv;
beforeEach(async () => {
  env = await lendingEnv();
});
afterEach(async () => env.close());

async function post(url: string, payload: unknown) {
  return env.app.inject({ method: 'POST', url, headers: env.headers(), payload: payload as object });
}

async function line(productId?: string, seq = 123): Promise<string> {
  env.h.engine.script.application = () => ({
    outcome: 'APPROVE',
    limitMinor: 10_000_000,
    annualRate: 0.1825,
  });
  const res = await post('/v1/applications', {
    applicant: { ...ADULT, nationalId: residentId('19900307', seq) },
    attributes: {},
    ...(productId ? { productId } : {}),
  });
  return res.json<{ line: { id: string } }>().line.id;
}

const DRAW = { amountMinor: 5_000_000, currency: 'CNY', termMonths: 12, method: 'EQUAL_INSTALLMENT' };

describe('资金用途 at the draw', () => {
  it('declines the issue\'s "STOCK_INVESTMENT_买房首付" with a reason the borrower reads, writing nothing', async () => {
    const lineId = await line();
    const res = await post(`/v1/lines/${lineId}/draws`, { ...DRAW, purpose: 'STOCK_INVESTMENT_买房首付' });
    expect(res.statusCode).toBe(422);
    const error = res.json().error;
    expect(error.code).toBe('LG_PURPOSE_FORBIDDEN');
    expect(error.details.borrowerReason.zh).toContain('消费贷款不得用于');
    expect(error.details.borrowerReason.en).toContain('may not be used for');
    expect(await countRows(env.store, 'draws')).toBe(0);
    expect(await countRows(env.store, 'loans')).toBe(0);
  });

  it('on a product line: a catalogue purpose is kept on the loan; repaying other loans and unknown codes are refused', async () => {
    expect((await post('/v1/products', DAILY_PRODUCT)).statusCode).toBe(201);
    const lineId = await line('daily-flex');
    const repayOthers = await post(`/v1/lines/${lineId}/draws`, { ...DRAW, purpose: 'LOAN_REPAYMENT' });
    expect(repayOthers.json().error.code).toBe('LG_PURPOSE_FORBIDDEN');
    const unknown = await post(`/v1/lines/${lineId}/draws`, { ...DRAW, purpose: 'SOMETHING' });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json().error.code).toBe('LG_PURPOSE_UNKNOWN');
    const quote = await post(`/v1/lines/${lineId}/quotes`, { ...DRAW, purpose: 'GAMBLING' });
    expect(quote.json().error.code).toBe('LG_PURPOSE_FORBIDDEN');
    expect(await countRows(env.store, 'draws')).toBe(0);
    const ok = await post(`/v1/lines/${lineId}/draws`, { ...DRAW, purpose: 'HOME_RENOVATION' });
    expect(ok.statusCode, ok.body).toBe(201);
    expect(ok.json().loan.purpose).toBe('HOME_RENOVATION');
    const catalogue = await env.app.inject({
      method: 'GET',
      url: '/v1/purposes',
      headers: env.headers(false),
    });
    expect(
      catalogue.json().purposes.find((p: { code: string }) => p.code === 'HOUSE_DOWN_PAYMENT'),
    ).toMatchObject({
      allowed: false,
    });
  });
});
