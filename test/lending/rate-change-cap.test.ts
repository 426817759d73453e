import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { checkLineAction } from '../../src/core/index.js';
import { partnerRoutes } from '../../src/api/routes/partners.js';
import { seededRandom } from '../../src/domain/random.js';
import { STORE_FACTORIES } from '../helpers/stores.js';
import { ADULT, residentId } from '../core/harness.js';
import { countRows, DAILY_PRODUCT, lendingEnv, registerPartner, type LendingEnv } from './helpers.js';

/**
 * A line's rate change is judged on the all-in cost of the loans the line can make (PBoC [2021] No. 3; the 24%
 * judicial cap on the all-in annualised cost), not on the rate alone: through a 助贷 channel whose platform charges 1% a
 * year, a line repriced to 24% — the cap's own figure — would have every draw refused at the draw, and a rate a little
 * under it still makes some loans cost more than 24%. Such a change is refused with the all-in APR and the loan that
 * costs it, and nothing is written; a rate whose dearest loan stays within the cap is applied.
 */
for (const factory of STORE_FACTORIES) {
  describe.skipIf(!factory.enabled)(`a rate change within the all-in cap on ${factory.name}`, () => {
    let env: LendingEnv;
    let seq = 800;
    beforeEach(async () => {
      env = await lendingEnv((h) => [partnerRoutes({ core: h.core, random: seededRandom(17) })], factory);
    });
    afterEach(async () => env.close());

    const post = (url: string, payload: unknown) =>
      env.app.inject({ method: 'POST', url, headers: env.headers(), payload: payload as object });
    const get = (url: string) => env.app.inject({ method: 'GET', url, headers: env.headers(false) });
    const reprice = (lineId: string, annualRate: number) =>
      post(`/v1/lines/${lineId}/actions`, { type: 'RATE_CHANGE', reasons: ['R_MANUAL_REVIEW'], annualRate });
    /** What a refused change must leave as it was: the line's actions, the ledger, the outbox. */
    const written = () =>
      Promise.all([
        countRows(env.store, 'line_actions'),
        countRows(env.store, 'ledger_entries'),
        countRows(env.store, 'outbox'),
      ]);

    const platform = (feeRateBps: number) => registerPartner(env, 'PLATFORM_OPERATOR', feeRateBps);

    async function line(rate: number, extra: Record<string, unknown>): Promise<string> {
      env.h.engine.script.application = () => ({
        outcome: 'APPROVE',
        limitMinor: 5_000_000,
        annualRate: rate,
      });
      const res = await post('/v1/applications', {
        applicant: { ...ADULT, nationalId: residentId('19900307', ++seq) },
        attributes: {},
        ...extra,
      });
      expect(res.statusCode, res.body).toBe(201);
      return res.json<{ line: { id: string } }>().line.id;
    }

    const rateOf = async (lineId: string) =>
      (await get(`/v1/lines/${lineId}`)).json<{ annualRate: number }>().annualRate;

    it("refuses a rate the platform's fee takes over the cap all-in, names the all-in APR and writes nothing", async () => {
      const partnerId = await platform(100);
      const lineId = await line(0.18, { channel: { partnerId, fundingMode: 'SELF_FUNDED' } });
      const before = await written();
      for (const annualRate of [0.24, 0.223]) {
        const res = await reprice(lineId, annualRate);
        expect(res.statusCode, res.body).toBe(422);
        const error = res.json().error;
        expect(error.code).toBe('LG_APR_CAP_EXCEEDED');
        expect(error.message).toMatch(/all-in APR [\d.]+% is above the 24% cap/);
        expect(error.details.apr).toBeGreaterThan(24);
        expect(error.details.capPercent).toBe(24);
        expect(error.details.annualRate).toBe(annualRate);
        // The loan that costs it, and what it costs party by party.
        expect(error.details.loan).toMatchObject({ currency: 'CNY' });
        expect(error.details.breakdown).toMatchObject({
          contractRatePercent: annualRate * 100,
          aprPercent: error.details.apr,
          partnerFees: [{ partnerId, type: 'PLATFORM_OPERATOR', feeRatePercent: 1 }],
        });
        expect(await rateOf(lineId)).toBe(0.18);
        expect(await written()).toEqual(before);
      }
      // 22.3% a year plus the platform's 1% costs 24.09% on a 13-month 等额本金 loan, where the flat fee on the amount
      // drawn weighs most against the falling balance: refused above. 22.2% costs at most 23.99%: applied.
      const refused = (await reprice(lineId, 0.223)).json().error.details;
      expect(refused).toMatchObject({ apr: 24.09, loan: { termMonths: 13, method: 'EQUAL_PRINCIPAL' } });
      const applied = await reprice(lineId, 0.222);
      expect(applied.statusCode, applied.body).toBe(201);
      expect(await rateOf(lineId)).toBe(0.222);
      // The dearest loan on the line at its new rate is quoted and booked within the cap.
      const dearest = { ...refused.loan, amountMinor: 1_000_000 };
      const quote = await post(`/v1/lines/${lineId}/quotes`, dearest);
      expect(quote.statusCode, quote.body).toBe(201);
      expect(quote.json().apr.CN_IRR).toBe(23.99);
      const drawn = await post(`/v1/lines/${lineId}/draws`, { ...dearest, quoteId: quote.json().quoteId });
      expect(drawn.statusCode, drawn.body).toBe(201);
    });

    it('judges a rate the same way when an action is only looked at (checkLineAction, the look before a proposal)', async () => {
      const partnerId = await platform(100);
      const lineId = await line(0.18, { channel: { partnerId, fundingMode: 'SELF_FUNDED' } });
      const change = { type: 'RATE_CHANGE' as const, reasons: ['R_MANUAL_REVIEW'], automated: false };
      await expect(
        checkLineAction(env.h.deps, lineId, { ...change, annualRate: 0.24 }),
      ).rejects.toMatchObject({
        code: 'LG_APR_CAP_EXCEEDED',
        details: { apr: 25.79 },
      });
      await expect(
        checkLineAction(env.h.deps, lineId, { ...change, annualRate: 0.222 }),
      ).resolves.toBeUndefined();
      // A line without fees is judged the same way: over the cap on the rate alone at once, and at the cap's own 24%
      // on its dearest loan — a one-month daily-interest loan drawn on 1 March, whose 31 days of interest cost 24.48%
      // a year in the monthly IRR (a draw of it would be refused).
      const plain = await line(0.18, {});
      await expect(checkLineAction(env.h.deps, plain, { ...change, annualRate: 0.25 })).rejects.toMatchObject(
        {
          code: 'LG_APR_CAP_EXCEEDED',
          message: 'the annual rate 25.00% alone is above the 24% cap',
        },
      );
      await expect(checkLineAction(env.h.deps, plain, { ...change, annualRate: 0.24 })).rejects.toMatchObject(
        {
          code: 'LG_APR_CAP_EXCEEDED',
          details: { apr: 24.48, loan: { termMonths: 1, method: 'DAILY_INTEREST' } },
        },
      );
    });

    it("refuses the line-review job's repricing over the cap all-in: the line is reported, not repriced", async () => {
      const partnerId = await platform(100);
      const lineId = await line(0.18, { channel: { partnerId, fundingMode: 'SELF_FUNDED' } });
      env.h.engine.script['line-review'] = () => ({
        outcome: 'APPROVE',
        actions: [{ type: 'RATE_CHANGE', annualRate: 0.235, reasons: ['R_LIMIT_REVIEW'] }],
      });
      const before = await written();
      const run = await env.h.core.runReviewJob('2025-03-01');
      expect(run.errors).toEqual([expect.objectContaining({ lineId, code: 'LG_APR_CAP_EXCEEDED' })]);
      expect(await rateOf(lineId)).toBe(0.18);
      expect(await written()).toEqual(before);
    });

    it("judges a product line on the product's fees: an up-front fee makes the shortest term the dearest", async () => {
      const product = {
        ...DAILY_PRODUCT,
        id: 'upfront',
        rateMax: 0.24,
        termsMonths: [1, 12],
        methods: ['EQUAL_INSTALLMENT'],
        // 1% of the amount at disbursement, at most ¥100: charged in full up to ¥10,000.
        upfrontFee: { rateBps: 100, capMinor: 10_000 },
      };
      expect((await post('/v1/products', product)).statusCode).toBe(201);
      const lineId = await line(0.05, { productId: 'upfront' });
      const before = await written();
      // 20% a year is within the product's range and its cap on the rate alone; a one-month loan of ¥10,000 that
      // withholds ¥100 costs far more than 24% a year all-in.
      const res = await reprice(lineId, 0.2);
      expect(res.statusCode, res.body).toBe(422);
      expect(res.json().error).toMatchObject({
        code: 'LG_APR_CAP_EXCEEDED',
        details: { loan: { termMonths: 1, method: 'EQUAL_INSTALLMENT', amountMinor: 1_000_000 } },
      });
      expect(res.json().error.details.breakdown.productFeesMinor).toBe(10_000);
      // A rate outside the product's range is not what its loans would be priced at: refused, not fitted silently.
      const outside = await reprice(lineId, 0.01);
      expect(outside.statusCode, outside.body).toBe(422);
      expect(outside.json().error).toMatchObject({
        code: 'LG_PRODUCT_TERMS',
        details: { field: 'annualRate', rateMin: 0.0365, rateMax: 0.24 },
      });
      expect(await rateOf(lineId)).toBe(0.05);
      expect(await written()).toEqual(before);
      // 10%: the one-month loan costs 22.22% all-in.
      const applied = await reprice(lineId, 0.1);
      expect(applied.statusCode, applied.body).toBe(201);
    });
  });
}
