import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { STORE_FACTORIES } from '../helpers/stores.js';
import { ADULT, residentId } from '../core/harness.js';
import { countRows, DAILY_PRODUCT, lendingEnv, MS_DAY, type LendingEnv } from './helpers.js';

interface LoanBody {
  id: string;
  status: string;
  annualRate: number;
  outstandingPrincipalMinor: number;
  accrual?: {
    dailyRate: number;
    productVersion: number;
    owedToday: { interestMinor: number; penaltyMinor: number; payoffMinor: number; feeMinor: number };
  };
  schedule: {
    dueDate: string;
    principalMinor: number;
    interestMinor: number;
    feeMinor: number;
    totalMinor: number;
  }[];
}

for (const factory of STORE_FACTORIES) {
  describe.skipIf(!factory.enabled)(`on ${factory.name}`, () => {
    let env: LendingEnv;
    beforeEach(async () => {
      env = await lendingEnv(undefined, factory);
    });
    afterEach(async () => env.close());

    async function post(url: string, payload: unknown) {
      return env.app.inject({ method: 'POST', url, headers: env.headers(), payload: payload as object });
    }

    async function createProduct(over: Record<string, unknown> = {}) {
      const res = await post('/v1/products', { ...DAILY_PRODUCT, ...over });
      expect(res.statusCode, res.body).toBe(201);
      return res.json<{ id: string; version: number }>();
    }

    async function lineUnder(productId: string, seq = 123, rate = 0.1825): Promise<string> {
      env.h.engine.script.application = () => ({
        outcome: 'APPROVE',
        limitMinor: 5_000_000,
        annualRate: rate,
      });
      const res = await post('/v1/applications', {
        applicant: { ...ADULT, nationalId: residentId('19900307', seq) },
        attributes: {},
        productId,
      });
      expect(res.statusCode, res.body).toBe(201);
      return res.json<{ line: { id: string } }>().line.id;
    }

    async function draw(lineId: string, body: Record<string, unknown>) {
      return post(`/v1/lines/${lineId}/draws`, { currency: 'CNY', ...body });
    }

    async function loan(id: string): Promise<LoanBody> {
      const res = await env.app.inject({
        method: 'GET',
        url: `/v1/loans/${id}`,
        headers: env.headers(false),
      });
      return res.json<LoanBody>();
    }

    describe('products', () => {
      it('creates, lists and versions a product; a bad product is a 400 and writes nothing', async () => {
        const created = await createProduct();
        expect(created).toMatchObject({ id: 'daily-flex', version: 1, status: 'ACTIVE' });
        const bad = await post('/v1/products', {
          ...DAILY_PRODUCT,
          id: 'bad-one',
          rateMin: 0.2,
          rateMax: 0.1,
        });
        expect(bad.statusCode).toBe(400);
        expect(bad.json().error.code).toBe('LG_PRODUCT_INVALID');
        const overCap = await post('/v1/products', { ...DAILY_PRODUCT, id: 'over-cap', rateMax: 0.3 });
        expect(overCap.json().error.code).toBe('LG_PRODUCT_INVALID');
        const penalty = await post('/v1/products', { ...DAILY_PRODUCT, id: 'harsh', penaltyMultiplier: 2 });
        expect(penalty.statusCode).toBe(400);
        const dup = await post('/v1/products', DAILY_PRODUCT);
        expect(dup.statusCode).toBe(409);
        expect(await countRows(env.store, 'products')).toBe(1);
        const v2 = await post('/v1/products/daily-flex/versions', {
          ...DAILY_PRODUCT,
          id: undefined,
          rateMax: 0.12,
          expectedVersion: 1,
        });
        expect(v2.statusCode, v2.body).toBe(201);
        expect(v2.json()).toMatchObject({ version: 2 });
        const stale = await post('/v1/products/daily-flex/versions', {
          ...DAILY_PRODUCT,
          id: undefined,
          expectedVersion: 1,
        });
        expect(stale.json().error.code).toBe('LG_VERSION_CONFLICT');
        const currency = await post('/v1/products/daily-flex/versions', {
          ...DAILY_PRODUCT,
          id: undefined,
          currency: 'USD',
        });
        expect(currency.statusCode).toBe(422);
        expect(currency.json().error.code).toBe('LG_PRODUCT_TERMS');
        const list = await env.app.inject({
          method: 'GET',
          url: '/v1/products',
          headers: env.headers(false),
        });
        expect(list.json().products).toHaveLength(1);
        expect(list.json().products[0]).toMatchObject({ version: 2, terms: { rateMax: 0.12 } });
        const one = await env.app.inject({
          method: 'GET',
          url: '/v1/products/daily-flex',
          headers: env.headers(false),
        });
        expect(
          one.json().versions.map((v: { version: number; status: string }) => [v.version, v.status]),
        ).toEqual([
          [2, 'ACTIVE'],
          [1, 'RETIRED'],
        ]);
      });

      it('a retired product grants no new lines; its existing lines still draw on their terms', async () => {
        await createProduct();
        const lineId = await lineUnder('daily-flex');
        const retired = await post('/v1/products/daily-flex/retire', {});
        expect(retired.statusCode, retired.body).toBe(200);
        const refused = await post('/v1/applications', {
          applicant: { ...ADULT, nationalId: residentId('19900307', 777) },
          attributes: {},
          productId: 'daily-flex',
        });
        expect(refused.statusCode).toBe(409);
        expect(refused.json().error.code).toBe('LG_PRODUCT_NOT_ACTIVE');
        const drawn = await draw(lineId, { amountMinor: 100_000, termMonths: 3, method: 'DAILY_INTEREST' });
        expect(drawn.statusCode, drawn.body).toBe(201);
      });

      it('a draw outside the product (term, method, amount) is a 422 and writes nothing', async () => {
        await createProduct();
        const lineId = await lineUnder('daily-flex');
        const cases = [
          { amountMinor: 100_000, termMonths: 24, method: 'DAILY_INTEREST' },
          { amountMinor: 100_000, termMonths: 12, method: 'INTEREST_ONLY' },
          { amountMinor: 9_999, termMonths: 12, method: 'DAILY_INTEREST' },
        ];
        for (const body of cases) {
          const res = await draw(lineId, body);
          expect(res.statusCode, res.body).toBe(422);
          expect(res.json().error.code).toBe('LG_PRODUCT_TERMS');
        }
        expect(await countRows(env.store, 'draws')).toBe(0);
        expect(await countRows(env.store, 'loans')).toBe(0);
      });

      it('a line takes the rate into the product range; changing the product never changes a booked loan', async () => {
        await createProduct();
        const lineId = await lineUnder('daily-flex', 123, 0.3); // the strategy asked 30%: clamped to 18.25%
        const res = await draw(lineId, { amountMinor: 1_000_000, termMonths: 12, method: 'DAILY_INTEREST' });
        expect(res.statusCode, res.body).toBe(201);
        const booked = res.json<{ loan: LoanBody }>().loan;
        expect(booked.annualRate).toBe(0.1825);
        const v2 = await post('/v1/products/daily-flex/versions', {
          ...DAILY_PRODUCT,
          id: undefined,
          rateMax: 0.0365,
          graceDays: 0,
        });
        expect(v2.statusCode, v2.body).toBe(201);
        env.h.clock.advance(10 * MS_DAY);
        const after = await loan(booked.id);
        expect(after.annualRate).toBe(0.1825);
        expect(after.accrual).toMatchObject({ productVersion: 1, owedToday: { interestMinor: 5_000 } });
        // A new line is granted under version 2.
        const newLine = await lineUnder('daily-flex', 124, 0.3);
        const second = await draw(newLine, {
          amountMinor: 1_000_000,
          termMonths: 12,
          method: 'DAILY_INTEREST',
        });
        expect(second.json<{ loan: LoanBody }>().loan.annualRate).toBe(0.0365);
      });
    });

    describe('repayments on dates (随借随还)', () => {
      it('the worked example: ¥10,000 repaid after 10 days costs exactly 10 days of interest, ¥50.00', async () => {
        await createProduct();
        const lineId = await lineUnder('daily-flex');
        const drawn = await draw(lineId, {
          amountMinor: 1_000_000,
          termMonths: 12,
          method: 'DAILY_INTEREST',
        });
        const booked = drawn.json<{ loan: LoanBody }>().loan;
        expect(booked.accrual?.dailyRate).toBeCloseTo(0.0005, 12);
        expect(booked.schedule).toHaveLength(1);
        env.h.clock.advance(30 * MS_DAY);
        const day10 = new Date(env.h.clock.now() - 20 * MS_DAY).toISOString().slice(0, 10);
        const paid = await post(`/v1/loans/${booked.id}/repayments`, {
          amountMinor: 1_005_000,
          currency: 'CNY',
          paidAt: day10,
        });
        expect(paid.statusCode, paid.body).toBe(201);
        expect(paid.json().allocated).toEqual({
          feeMinor: 0,
          penaltyMinor: 0,
          interestMinor: 5_000,
          principalMinor: 1_000_000,
        });
        expect(paid.json().loan.status).toBe('SETTLED');
        const line = await env.app.inject({
          method: 'GET',
          url: `/v1/lines/${lineId}`,
          headers: env.headers(false),
        });
        expect(line.json()).toMatchObject({ availableMinor: 5_000_000, outstandingPrincipalMinor: 0 });
      });

      it('repaying on the day of the draw costs no interest, even on a 12-month instalment loan', async () => {
        await createProduct();
        const lineId = await lineUnder('daily-flex');
        const drawn = await draw(lineId, {
          amountMinor: 1_200_000,
          termMonths: 12,
          method: 'EQUAL_INSTALLMENT',
        });
        const booked = drawn.json<{ loan: LoanBody }>().loan;
        expect(booked.accrual?.owedToday.payoffMinor).toBe(1_200_000);
        const paid = await post(`/v1/loans/${booked.id}/repayments`, {
          amountMinor: 1_200_000,
          currency: 'CNY',
        });
        expect(paid.json().allocated).toMatchObject({ interestMinor: 0, principalMinor: 1_200_000 });
        expect(paid.json().loan.status).toBe('SETTLED');
      });

      it("dates are the lender's calendar days (Asia/Shanghai, UTC+8): a draw at 07:30 repaid that evening costs nothing", async () => {
        await env.close();
        env = await lendingEnv(undefined, factory, { lenderUtcOffsetMinutes: 480 });
        // 2026-03-02 07:30 in Beijing is still 1 March in UTC.
        env.h.clock.set(Date.parse('2026-03-02T07:30:00+08:00'));
        await createProduct();
        const lineId = await lineUnder('daily-flex');
        const asked = { amountMinor: 1_000_000, termMonths: 1, method: 'DAILY_INTEREST', currency: 'CNY' };
        const quote = await post(`/v1/lines/${lineId}/quotes`, asked);
        expect(quote.statusCode, quote.body).toBe(201);
        expect(quote.json().schedule[0].dueDate).toBe('2026-04-02');
        const drawn = await draw(lineId, { ...asked, quoteId: quote.json().quoteId });
        expect(drawn.statusCode, drawn.body).toBe(201);
        const booked = drawn.json<{ loan: LoanBody & { startDate: string } }>().loan;
        expect([booked.startDate, booked.schedule[0]?.dueDate]).toEqual(['2026-03-02', '2026-04-02']);
        // 01:00 on 3 March in Beijing (17:00 on 2 March in UTC): one day has passed.
        env.h.clock.set(Date.parse('2026-03-03T01:00:00+08:00'));
        expect((await loan(booked.id)).accrual?.owedToday.interestMinor).toBe(500);
        const repay = (amountMinor: number, paidAt: string) =>
          post(`/v1/loans/${booked.id}/repayments`, { amountMinor, currency: 'CNY', paidAt });
        // 23:59:59 on the day of the draw: no day has passed yet.
        const sameDay = await repay(100_000, '2026-03-02T23:59:59+08:00');
        expect(sameDay.statusCode, sameDay.body).toBe(201);
        expect(sameDay.json().allocated).toMatchObject({ interestMinor: 0, principalMinor: 100_000 });
        // A second later it is 3 March: one day on ¥9,000 at 0.05%.
        const nextDay = await repay(100_000, '2026-03-03T00:00:00+08:00');
        expect(nextDay.statusCode, nextDay.body).toBe(201);
        expect(nextDay.json().allocated).toMatchObject({ interestMinor: 450, principalMinor: 99_550 });
        // A date without a time is the lender's date: 3 March is today in Beijing, not a day in the future.
        const today = await repay(800_450, '2026-03-03');
        expect(today.statusCode, today.body).toBe(201);
        expect(today.json().allocated).toMatchObject({ interestMinor: 0, principalMinor: 800_450 });
        expect(today.json().loan.status).toBe('SETTLED');
        // 4 March has not begun in Beijing.
        const tomorrow = await repay(1, '2026-03-04');
        expect(tomorrow.json().error.code).toBe('LG_REPAYMENT_DATE');
      });

      it('two concurrent payoffs of one loan: one settles it, the other is refused, the line is credited once', async () => {
        await createProduct();
        const lineId = await lineUnder('daily-flex');
        const booked = (
          await draw(lineId, { amountMinor: 1_000_000, termMonths: 12, method: 'DAILY_INTEREST' })
        ).json<{ loan: LoanBody }>().loan;
        env.h.clock.advance(3 * MS_DAY);
        const pay = () =>
          post(`/v1/loans/${booked.id}/repayments`, { amountMinor: 1_001_500, currency: 'CNY' });
        const results = await Promise.all([pay(), pay()]);
        expect(results.map((r) => r.statusCode).sort()).toEqual([201, 409]);
        expect(results.find((r) => r.statusCode === 409)?.json().error.code).toBe('LG_LOAN_SETTLED');
        expect(await countRows(env.store, 'repayments')).toBe(1);
        const line = await env.app.inject({
          method: 'GET',
          url: `/v1/lines/${lineId}`,
          headers: env.headers(false),
        });
        expect(line.json()).toMatchObject({ availableMinor: 5_000_000, outstandingPrincipalMinor: 0 });
      });

      it('refuses a date before the loan, in the future, or more than the payoff, and writes nothing', async () => {
        await createProduct();
        const lineId = await lineUnder('daily-flex');
        env.h.clock.advance(2 * MS_DAY);
        const booked = (
          await draw(lineId, { amountMinor: 1_000_000, termMonths: 12, method: 'DAILY_INTEREST' })
        ).json<{ loan: LoanBody }>().loan;
        const today = new Date(env.h.clock.now()).toISOString().slice(0, 10);
        const before = new Date(env.h.clock.now() - MS_DAY).toISOString().slice(0, 10);
        const future = new Date(env.h.clock.now() + MS_DAY).toISOString().slice(0, 10);
        for (const [paidAt, code] of [
          [before, 'LG_REPAYMENT_DATE'],
          [future, 'LG_REPAYMENT_DATE'],
          [today, 'LG_OVERPAYMENT'],
        ] as const) {
          const res = await post(`/v1/loans/${booked.id}/repayments`, {
            amountMinor: code === 'LG_OVERPAYMENT' ? 1_000_001 : 1_000,
            currency: 'CNY',
            paidAt,
          });
          expect(res.statusCode, res.body).toBe(422);
          expect(res.json().error.code).toBe(code);
        }
        expect(await countRows(env.store, 'repayments')).toBe(0);
        expect((await loan(booked.id)).outstandingPrincipalMinor).toBe(1_000_000);
      });

      /** A ¥12,000 daily-interest loan, and the date `days` after its first due date (penalty and fees from then). */
      const overdueFromFirstDue = async () => {
        await createProduct();
        const lineId = await lineUnder('daily-flex');
        const booked = (
          await draw(lineId, { amountMinor: 1_200_000, termMonths: 3, method: 'EQUAL_PRINCIPAL' })
        ).json<{ loan: LoanBody }>().loan;
        const firstDue = booked.schedule[0]?.dueDate ?? '';
        const plus = (days: number) =>
          new Date(Date.parse(firstDue) + days * MS_DAY).toISOString().slice(0, 10);
        return { booked, plus };
      };

      it('jobs daily for a date not yet reached is refused, charges nothing, and never blocks a repayment today', async () => {
        const { booked, plus } = await overdueFromFirstDue();
        // Today is the last day of grace; the job is asked for the day after (a scheduler a day ahead, or another
        // time zone's date): penalty and the late fee would start that day, which has not begun.
        env.h.clock.set(Date.parse(plus(3)) + 12 * 3_600_000);
        await expect(env.h.core.runDailyJob(plus(4))).rejects.toMatchObject({ code: 'LG_AS_OF_IN_FUTURE' });
        expect((await env.h.core.runDailyJob(plus(3))).overdueAccrual).toEqual({
          loansAccrued: 0,
          penaltyAccruedMinor: 0,
          lateFeesChargedMinor: 0,
        });
        const owed = (await loan(booked.id)).accrual?.owedToday;
        expect(owed).toMatchObject({ penaltyMinor: 0, feeMinor: 0 });
        expect(owed?.payoffMinor).toBeGreaterThan(1_200_000);
        const paid = await post(`/v1/loans/${booked.id}/repayments`, {
          amountMinor: owed?.payoffMinor,
          currency: 'CNY',
        });
        expect(paid.statusCode, paid.body).toBe(201);
        expect(paid.json().allocated).toMatchObject({
          penaltyMinor: 0,
          feeMinor: 0,
          principalMinor: 1_200_000,
        });
        expect(paid.json().loan.status).toBe('SETTLED');
      });

      it('jobs daily accrues penalty interest after grace and a late fee; the repayment pays them first', async () => {
        const { booked, plus } = await overdueFromFirstDue();
        env.h.clock.set(Date.parse(plus(3)));
        const inGrace = await env.h.core.runDailyJob(plus(3));
        expect(inGrace.overdueAccrual).toEqual({
          loansAccrued: 0,
          penaltyAccruedMinor: 0,
          lateFeesChargedMinor: 0,
        });
        env.h.clock.set(Date.parse(plus(6)));
        const lapsed = await env.h.core.runDailyJob(plus(6));
        // 400,000 overdue: 3 days (grace ended on day 3) × the 24%-cap-limited surcharge 5.75% / 365 = 3 × 63.
        expect(lapsed.overdueAccrual).toEqual({
          loansAccrued: 1,
          penaltyAccruedMinor: 189,
          lateFeesChargedMinor: 2_000,
        });
        const again = await env.h.core.runDailyJob(plus(6));
        expect(again.overdueAccrual?.penaltyAccruedMinor).toBe(0);
        const view = await loan(booked.id);
        expect(view.accrual?.owedToday).toMatchObject({ penaltyMinor: 189, feeMinor: 2_000 });
        const owed = view.accrual?.owedToday;
        const paid = await post(`/v1/loans/${booked.id}/repayments`, {
          amountMinor: 2_000 + 189 + (owed?.interestMinor ?? 0),
          currency: 'CNY',
        });
        expect(paid.statusCode, paid.body).toBe(201);
        expect(paid.json().allocated).toEqual({
          feeMinor: 2_000,
          penaltyMinor: 189,
          interestMinor: owed?.interestMinor,
          principalMinor: 0,
        });
      });
    });
  });
}
