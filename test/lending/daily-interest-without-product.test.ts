import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ADULT } from '../core/harness.js';
import { STORE_FACTORIES } from '../helpers/stores.js';
import { lendingEnv, MS_DAY, type LendingEnv } from './helpers.js';

/**
 * A DAILY_INTEREST (随借随还) loan on a line without a product: one instalment at maturity whose interest is the
 * daily accrual (ACT/365) for the whole term. Repaid early it charges interest only for the days the money was out
 * (core/allocation.ts), like a product's daily loan: nothing on the day of the draw, ten days' accrual after ten days.
 * ¥10,000 at 18% a year: round(1,000,000 × 0.18 / 365) = 493 fen a day; on ¥5,000, round(246.58) = 247.
 */
const ASKED = { amountMinor: 1_000_000, currency: 'CNY', termMonths: 12, method: 'DAILY_INTEREST' };
const DAILY = 493;
const DAILY_ON_HALF = 247;

interface LoanBody {
  id: string;
  status: string;
  outstandingPrincipalMinor: number;
  payoffToday?: { interestMinor: number; principalMinor: number; payoffMinor: number };
}

for (const factory of STORE_FACTORIES) {
  describe.skipIf(!factory.enabled)(`on ${factory.name}`, () => {
    let env: LendingEnv;
    beforeEach(async () => {
      env = await lendingEnv(undefined, factory);
    });
    afterEach(async () => env.close());

    const post = (url: string, payload: unknown) =>
      env.app.inject({ method: 'POST', url, headers: env.headers(), payload: payload as object });
    async function loan(id: string): Promise<LoanBody> {
      const res = await env.app.inject({
        method: 'GET',
        url: `/v1/loans/${id}`,
        headers: env.headers(false),
      });
      expect(res.statusCode, res.body).toBe(200);
      return res.json<LoanBody>();
    }
    async function lineWithoutProduct(): Promise<string> {
      env.h.engine.script.application = () => ({
        outcome: 'APPROVE',
        limitMinor: 5_000_000,
        annualRate: 0.18,
      });
      const res = await post('/v1/applications', { applicant: ADULT, attributes: {} });
      expect(res.statusCode, res.body).toBe(201);
      return res.json().line.id as string;
    }
    async function drawn(): Promise<{ loanId: string; scheduledInterest: number }> {
      const res = await post(`/v1/lines/${await lineWithoutProduct()}/draws`, ASKED);
      expect(res.statusCode, res.body).toBe(201);
      const body = res.json().loan as { id: string; schedule: { interestMinor: number }[] };
      return { loanId: body.id, scheduledInterest: body.schedule[0]?.interestMinor ?? 0 };
    }

    it('the quote: repaid on the day of the draw it costs nothing, after 10 days 10 days of interest', async () => {
      const quote = await post(`/v1/lines/${await lineWithoutProduct()}/quotes`, ASKED);
      expect(quote.statusCode, quote.body).toBe(201);
      const early = quote.json().earlyRepayment as { afterDays: number; interestMinor: number }[];
      expect(early.map((e) => [e.afterDays, e.interestMinor])).toEqual([
        [0, 0],
        [10, 10 * DAILY],
        [30, 30 * DAILY],
        [90, 90 * DAILY],
      ]);
    });

    it('the booked schedule is unchanged: one instalment at maturity bearing the whole term’s accrual', async () => {
      const { scheduledInterest } = await drawn();
      // Drawn on 2025-03-01 (the harness's clock), due 2026-03-01: 365 days of 493 fen.
      expect(scheduledInterest).toBe(365 * DAILY);
    });

    it('the loan: its payoff after 10 days is 10 days of interest, and paying it settles the loan', async () => {
      const { loanId } = await drawn();
      env.h.clock.advance(10 * MS_DAY);
      expect((await loan(loanId)).payoffToday).toMatchObject({
        interestMinor: 10 * DAILY,
        principalMinor: 1_000_000,
        payoffMinor: 1_000_000 + 10 * DAILY,
      });
      const paid = await post(`/v1/loans/${loanId}/repayments`, {
        amountMinor: 1_000_000 + 10 * DAILY,
        currency: 'CNY',
      });
      expect(paid.statusCode, paid.body).toBe(201);
      expect(paid.json().allocated).toMatchObject({ interestMinor: 10 * DAILY, principalMinor: 1_000_000 });
      expect(paid.json().loan.status).toBe('SETTLED');
    });

    it('repaid on the day of the draw, the principal alone settles it', async () => {
      const { loanId } = await drawn();
      expect((await loan(loanId)).payoffToday?.interestMinor).toBe(0);
      const paid = await post(`/v1/loans/${loanId}/repayments`, { amountMinor: 1_000_000, currency: 'CNY' });
      expect(paid.statusCode, paid.body).toBe(201);
      expect(paid.json().loan.status).toBe('SETTLED');
    });

    it('half repaid after 10 days: the rest bears the daily accrual on what is left', async () => {
      const { loanId } = await drawn();
      env.h.clock.advance(10 * MS_DAY);
      const half = await post(`/v1/loans/${loanId}/repayments`, { amountMinor: 500_000, currency: 'CNY' });
      expect(half.statusCode, half.body).toBe(201);
      expect(half.json().allocated).toMatchObject({ interestMinor: 0, principalMinor: 500_000 });
      env.h.clock.advance(20 * MS_DAY);
      const owed = 10 * DAILY + 20 * DAILY_ON_HALF;
      expect((await loan(loanId)).payoffToday).toMatchObject({
        interestMinor: owed,
        payoffMinor: 500_000 + owed,
      });
      const rest = await post(`/v1/loans/${loanId}/repayments`, {
        amountMinor: 500_000 + owed,
        currency: 'CNY',
      });
      expect(rest.statusCode, rest.body).toBe(201);
      expect(rest.json().loan.status).toBe('SETTLED');
    });
  });
}
