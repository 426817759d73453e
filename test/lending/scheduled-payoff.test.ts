import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { STORE_FACTORIES } from '../helpers/stores.js';
import { ADULT } from '../core/harness.js';
import { lendingEnv, MS_DAY, type LendingEnv } from './helpers.js';

/**
 * Monthly-instalment loans on a line without a product (the 30/360 scheduled path, src/core/allocation.ts): repaying
 * early charges interest for the days the money was out, never for periods not begun. The worked example is ¥12,000
 * at 18% over 12 equal instalments, drawn on 2025-03-01: the schedule's interest is ¥1,201.95, the first period runs
 * 31 days to 2025-04-01 and bears ¥180.00, so repaid in full on day 10 the loan costs ¥180.00 × 10/31 = ¥58.06.
 */
interface Installment {
  period: number;
  dueDate: string;
  principalMinor: number;
  interestMinor: number;
  feeMinor: number;
  paidPrincipalMinor: number;
  outstandingMinor: number;
  settled: boolean;
}

interface Payoff {
  date: string;
  feeMinor: number;
  interestMinor: number;
  principalMinor: number;
  payoffMinor: number;
}

interface LoanBody {
  id: string;
  status: string;
  outstandingPrincipalMinor: number;
  disclosure: { totalInterestMinor: number };
  schedule: Installment[];
  payoffToday?: Payoff;
}

interface LineBody {
  availableMinor: number;
  outstandingPrincipalMinor: number;
}

const TWELVE_K = { amountMinor: 1_200_000, currency: 'CNY', termMonths: 12, method: 'EQUAL_INSTALLMENT' };

for (const factory of STORE_FACTORIES) {
  describe.skipIf(!factory.enabled)(`on ${factory.name}`, () => {
    let env: LendingEnv;
    let lineId: string;

    async function post(url: string, payload: unknown) {
      return env.app.inject({ method: 'POST', url, headers: env.headers(), payload: payload as object });
    }
    async function get<T>(url: string): Promise<T> {
      const res = await env.app.inject({ method: 'GET', url, headers: env.headers(false) });
      expect(res.statusCode, res.body).toBe(200);
      return res.json<T>();
    }
    async function drawLoan(extra: Record<string, unknown> = {}): Promise<LoanBody> {
      const res = await post(`/v1/lines/${lineId}/draws`, { ...TWELVE_K, ...extra });
      expect(res.statusCode, res.body).toBe(201);
      return res.json<{ loan: LoanBody }>().loan;
    }
    async function repay(loanId: string, amountMinor: number) {
      return post(`/v1/loans/${loanId}/repayments`, { amountMinor, currency: 'CNY' });
    }

    beforeEach(async () => {
      env = await lendingEnv(undefined, factory);
      env.h.engine.script.application = () => ({
        outcome: 'APPROVE',
        limitMinor: 5_000_000,
        annualRate: 0.18,
      });
      const app = await post('/v1/applications', { applicant: ADULT, attributes: {} });
      expect(app.statusCode, app.body).toBe(201);
      lineId = app.json<{ line: { id: string } }>().line.id;
    });
    afterEach(async () => env.close());

    it('a full payoff on day 10 charges 10/31 of the first period, none of the periods not begun, and settles the loan', async () => {
      const drawn = await drawLoan();
      expect(drawn.disclosure.totalInterestMinor).toBe(120_195);
      env.h.clock.advance(10 * MS_DAY);
      const paid = await repay(drawn.id, 1_205_806);
      expect(paid.statusCode, paid.body).toBe(201);
      expect(paid.json()).toMatchObject({
        allocated: { feeMinor: 0, interestMinor: 5_806, principalMinor: 1_200_000 },
        loan: { status: 'SETTLED', outstandingPrincipalMinor: 0 },
      });
      const after = await get<LoanBody>(`/v1/loans/${drawn.id}`);
      expect(after.status).toBe('SETTLED');
      expect(after.payoffToday).toBeUndefined();
      // No residue: every instalment is settled; the ones not begun owe (and charged) no interest.
      expect(after.schedule.every((i) => i.outstandingMinor === 0 && i.settled)).toBe(true);
      expect(after.schedule.slice(1).every((i) => i.interestMinor === 0)).toBe(true);
      expect(after.schedule.reduce((s, i) => s + i.interestMinor, 0)).toBe(5_806);
      const line = await get<LineBody>(`/v1/lines/${lineId}`);
      expect(line).toMatchObject({ outstandingPrincipalMinor: 0, availableMinor: 5_000_000 });
    });

    it("the loan's payoff today is what repaying in full charges; a fen more is refused", async () => {
      const drawn = await drawLoan();
      env.h.clock.advance(10 * MS_DAY);
      const loan = await get<LoanBody>(`/v1/loans/${drawn.id}`);
      expect(loan.payoffToday).toEqual({
        date: '2025-03-11',
        feeMinor: 0,
        interestMinor: 5_806,
        principalMinor: 1_200_000,
        payoffMinor: 1_205_806,
      });
      // A fen more than the payoff is money the lender would keep: refused, saying what is owed.
      const over = await repay(drawn.id, 1_205_807);
      expect(over.statusCode).toBe(422);
      expect(over.json()).toMatchObject({
        error: { code: 'LG_OVERPAYMENT', details: { owedMinor: 1_205_806 } },
      });
      const paid = await repay(drawn.id, loan.payoffToday!.payoffMinor);
      expect(paid.statusCode, paid.body).toBe(201);
      expect(paid.json()).toMatchObject({
        allocated: { interestMinor: 5_806, principalMinor: 1_200_000 },
        loan: { status: 'SETTLED' },
      });
    });

    it('the quote on a line without a product shows the early payoff, and the repayment charges exactly that', async () => {
      const res = await post(`/v1/lines/${lineId}/quotes`, TWELVE_K);
      expect(res.statusCode, res.body).toBe(201);
      const quote = res.json<{
        quoteId: string;
        totalInterestMinor: number;
        earlyRepayment:
          { afterDays: number; date: string; interestMinor: number; payoffMinor: number }[] | null;
        prepayment: string | null;
        keyFacts: { zh: string; en: string };
      }>();
      expect(quote.totalInterestMinor).toBe(120_195);
      expect(quote.earlyRepayment).toEqual([
        { afterDays: 0, date: '2025-03-01', interestMinor: 0, payoffMinor: 1_200_000 },
        { afterDays: 10, date: '2025-03-11', interestMinor: 5_806, payoffMinor: 1_205_806 },
        { afterDays: 30, date: '2025-03-31', interestMinor: 17_419, payoffMinor: 1_217_419 },
      ]);
      expect(quote.prepayment).toBe('SHORTEN');
      expect(quote.keyFacts.en).toContain('repaid in full after 10 days, the interest is 58.06 CNY');
      const drawn = await drawLoan({ quoteId: quote.quoteId });
      env.h.clock.advance(10 * MS_DAY);
      const paid = await repay(drawn.id, 1_205_806);
      expect(paid.statusCode, paid.body).toBe(201);
      expect(paid.json()).toMatchObject({
        allocated: { interestMinor: 5_806, principalMinor: 1_200_000 },
        loan: { status: 'SETTLED' },
      });
    });

    it('a partial prepayment pays principal from the last instalments, stops its interest from that day, and the next day the payoff is exact', async () => {
      const drawn = await drawLoan();
      const before = drawn.schedule;
      env.h.clock.advance(10 * MS_DAY);
      const part = await repay(drawn.id, 600_000);
      expect(part.statusCode, part.body).toBe(201);
      // Nothing is due yet: all of it is principal, none is interest paid in advance.
      expect(part.json()).toMatchObject({
        allocated: { feeMinor: 0, interestMinor: 0, principalMinor: 600_000 },
        loan: { status: 'ACTIVE', outstandingPrincipalMinor: 600_000 },
      });
      const loan = await get<LoanBody>(`/v1/loans/${drawn.id}`);
      const s = loan.schedule;
      // The principal came off the last instalments: the early ones keep their principal and dates.
      expect(s.map((i) => i.principalMinor)).toEqual(before.map((i) => i.principalMinor));
      expect(s.map((i) => i.dueDate)).toEqual(before.map((i) => i.dueDate));
      const prepaidFromBack = s.map((i) => i.paidPrincipalMinor);
      expect(prepaidFromBack.reduce((a, b) => a + b, 0)).toBe(600_000);
      const firstTouched = prepaidFromBack.findIndex((p) => p > 0);
      expect(
        prepaidFromBack
          .slice(firstTouched + 1)
          .every((p, k) => p === s[firstTouched + 1 + k]!.principalMinor),
      ).toBe(true);
      // Period 1 has begun: its interest loses the 21 unelapsed days on the ¥6,000 prepaid,
      // 600,000 × 1.5% × 21/31 = 6,096.77 → 6,097; 18,000 − 6,097 = 11,903.
      expect(s[0]!.interestMinor).toBe(11_903);
      // Period 2 has not begun: its interest is recomputed on its new opening balance,
      // 1,200,000 − 92,016 (period 1's principal) − 600,000 = 507,984 × 1.5% = 7,619.76 → 7,620.
      expect(s[0]!.principalMinor).toBe(92_016);
      expect(s[1]!.interestMinor).toBe(7_620);
      // Instalments whose principal is all prepaid are gone: no interest, no fee, settled.
      for (const i of s.filter((x) => x.paidPrincipalMinor === x.principalMinor && x.principalMinor > 0)) {
        expect(i).toMatchObject({ interestMinor: 0, feeMinor: 0, outstandingMinor: 0, settled: true });
      }
      expect(await get<LineBody>(`/v1/lines/${lineId}`)).toMatchObject({
        outstandingPrincipalMinor: 600_000,
        availableMinor: 4_400_000,
      });
      // A repayment dated before the prepayment would re-price days it already settled.
      const backdated = await post(`/v1/loans/${drawn.id}/repayments`, {
        amountMinor: 1_000,
        currency: 'CNY',
        paidAt: '2025-03-05',
      });
      expect(backdated.statusCode).toBe(422);
      expect(backdated.json()).toMatchObject({ error: { code: 'LG_REPAYMENT_DATE' } });
      // The next day: 10 days on ¥12,000 and 1 day on ¥6,000 — 5,806.45 + 290.32 = 6,096.77 → 6,097.
      env.h.clock.advance(MS_DAY);
      const next = await get<LoanBody>(`/v1/loans/${drawn.id}`);
      expect(next.payoffToday).toMatchObject({
        interestMinor: 6_097,
        principalMinor: 600_000,
        payoffMinor: 606_097,
      });
      const off = await repay(drawn.id, 606_097);
      expect(off.statusCode, off.body).toBe(201);
      expect(off.json()).toMatchObject({
        allocated: { interestMinor: 6_097, principalMinor: 600_000 },
        loan: { status: 'SETTLED', outstandingPrincipalMinor: 0 },
      });
      expect(await get<LineBody>(`/v1/lines/${lineId}`)).toMatchObject({
        outstandingPrincipalMinor: 0,
        availableMinor: 5_000_000,
      });
    });

    it('instalments already due are owed in full; the payoff adds the current period to the day', async () => {
      const drawn = await drawLoan();
      expect(drawn.schedule.slice(0, 2).map((i) => i.interestMinor)).toEqual([18_000, 16_620]);
      // Day 45 (2025-04-15): instalment 1 (due 04-01) is due and unpaid, ¥180.00 of interest in full; period 2 runs
      // 30 days to 05-01 on 1,107,984, 14 elapsed: 16,620 less 16 days on it, 1,107,984 × 1.5% × 16/30 = 8,863.87.
      env.h.clock.advance(45 * MS_DAY);
      const loan = await get<LoanBody>(`/v1/loans/${drawn.id}`);
      expect(loan.payoffToday).toEqual({
        date: '2025-04-15',
        feeMinor: 0,
        interestMinor: 18_000 + 7_756,
        principalMinor: 1_200_000,
        payoffMinor: 1_225_756,
      });
      const paid = await repay(drawn.id, loan.payoffToday!.payoffMinor);
      expect(paid.statusCode, paid.body).toBe(201);
      expect(paid.json()).toMatchObject({ loan: { status: 'SETTLED' } });
    });
  });
}
