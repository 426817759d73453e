import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { STORE_FACTORIES } from '../helpers/stores.js';
import { checkHeldDrawReleaseInTx, releaseHeldDrawInTx } from '../../src/core/index.js';
import type { LgError } from '../../src/domain/index.js';
import type { UnitTx } from '../../src/core/deps.js';
import { partnerRoutes } from '../../src/api/routes/partners.js';
import { seededRandom } from '../../src/domain/random.js';
import { ADULT, residentId } from '../core/harness.js';
import { countRows, lendingEnv, registerPartner, type LendingEnv } from './helpers.js';

/**
 * The all-in cost (issue 15, 金规〔2025〕9号): what the platform operator and the credit enhancer charge is priced into
 * the loan — the quote's and the booked loan's APR — and held to the cap; over it, the quote and the draw are refused
 * with the breakdown and nothing is written.
 */
for (const factory of STORE_FACTORIES) {
  describe.skipIf(!factory.enabled)(`all-in cost with partner fees on ${factory.name}`, () => {
    let env: LendingEnv;
    let seq = 700;
    beforeEach(async () => {
      env = await lendingEnv((h) => [partnerRoutes({ core: h.core, random: seededRandom(13) })], factory);
    });
    afterEach(async () => env.close());

    const post = (url: string, payload: unknown) =>
      env.app.inject({ method: 'POST', url, headers: env.headers(), payload: payload as object });
    const get = (url: string) => env.app.inject({ method: 'GET', url, headers: env.headers(false) });

    const partner = (type: string, feeRateBps = 0) => registerPartner(env, type, feeRateBps);

    async function line(rate: number, channel?: Record<string, unknown>): Promise<string> {
      env.h.engine.script.application = () => ({
        outcome: 'APPROVE',
        limitMinor: 5_000_000,
        annualRate: rate,
      });
      const res = await post('/v1/applications', {
        applicant: { ...ADULT, nationalId: residentId('19900307', ++seq) },
        attributes: {},
        ...(channel ? { channel } : {}),
      });
      expect(res.statusCode, res.body).toBe(201);
      return res.json<{ line: { id: string } }>().line.id;
    }

    const terms = { amountMinor: 1_000_000, currency: 'CNY', termMonths: 12, method: 'EQUAL_INSTALLMENT' };

    it("the quote's and the booked loan's APR include the platform's and the enhancer's fees", async () => {
      const platform = await partner('PLATFORM_OPERATOR', 300);
      const enhancer = await partner('CREDIT_ENHANCER', 200);
      const channel = { partnerId: platform, fundingMode: 'SELF_FUNDED', creditEnhancerId: enhancer };
      const direct = await line(0.1);
      const viaChannel = await line(0.1, channel);
      const plain = (await post(`/v1/lines/${direct}/quotes`, terms)).json();
      const res = await post(`/v1/lines/${viaChannel}/quotes`, terms);
      expect(res.statusCode, res.body).toBe(201);
      const quote = res.json();
      // 3% + 2% a year on ¥10,000: ¥25.00 + ¥16.67 with each of 12 instalments.
      expect(quote.schedule[0].feeMinor - plain.schedule[0].feeMinor).toBe(2_500 + 1_667);
      expect(quote.totalFeesMinor - plain.totalFeesMinor).toBe(12 * (2_500 + 1_667));
      expect(quote.allIn.partnerFees).toEqual([
        { partnerId: platform, type: 'PLATFORM_OPERATOR', feeRatePercent: 3, totalMinor: 30_000 },
        { partnerId: enhancer, type: 'CREDIT_ENHANCER', feeRatePercent: 2, totalMinor: 20_004 },
      ]);
      // Flat fees on the amount drawn cost more than 5 points of IRR on an amortising loan.
      expect(quote.apr.CN_IRR - plain.apr.CN_IRR).toBeGreaterThan(5);
      expect(quote.allIn).toMatchObject({
        contractRatePercent: 10,
        aprPercent: quote.apr.CN_IRR,
        capPercent: 24,
      });
      expect(quote.keyFacts.zh).toContain('平台服务费');
      expect(quote.keyFacts.en).toContain('guarantee (credit enhancement) fee');
      const drawn = await post(`/v1/lines/${viaChannel}/draws`, { ...terms, quoteId: quote.quoteId });
      expect(drawn.statusCode, drawn.body).toBe(201);
      const loan = (await get(`/v1/loans/${drawn.json().loan.id}`)).json();
      expect(loan.disclosure.apr.CN_IRR).toBe(quote.apr.CN_IRR);
      expect(loan.disclosure.totalFeesMinor).toBe(quote.totalFeesMinor);
      // A partner raising its fee later never changes the line's price: the fees were fixed at grant.
      await env.store.db
        .updateTable('partners')
        .set({ fee_rate_bps: 900 })
        .where('id', '=', platform)
        .execute();
      const again = (await post(`/v1/lines/${viaChannel}/quotes`, terms)).json();
      expect(again.schedule[0].feeMinor).toBe(quote.schedule[0].feeMinor);
    });

    it('a quote and a draw whose partner fees take the all-in APR over the cap are refused with the breakdown', async () => {
      const platform = await partner('PLATFORM_OPERATOR', 300);
      const enhancer = await partner('CREDIT_ENHANCER', 200);
      // 18% + 3% + 2% = 23% in simple terms passes at the line; the IRR of the loan does not.
      const lineId = await line(0.18, {
        partnerId: platform,
        fundingMode: 'SELF_FUNDED',
        creditEnhancerId: enhancer,
      });
      const before = await Promise.all([countRows(env.store, 'quotes'), countRows(env.store, 'loans')]);
      const quoted = await post(`/v1/lines/${lineId}/quotes`, terms);
      expect(quoted.statusCode).toBe(422);
      const error = quoted.json().error;
      expect(error.code).toBe('LG_APR_CAP_EXCEEDED');
      expect(error.details.breakdown).toMatchObject({ contractRatePercent: 18, capPercent: 24 });
      expect(error.details.breakdown.aprPercent).toBeGreaterThan(24);
      expect(error.details.breakdown.partnerFees.map((f: { type: string }) => f.type)).toEqual([
        'PLATFORM_OPERATOR',
        'CREDIT_ENHANCER',
      ]);
      const drawn = await post(`/v1/lines/${lineId}/draws`, terms);
      expect(drawn.statusCode).toBe(422);
      expect(drawn.json().error.code).toBe('LG_APR_CAP_EXCEEDED');
      expect(drawn.json().error.details.breakdown.partnerFees).toHaveLength(2);
      expect(await Promise.all([countRows(env.store, 'quotes'), countRows(env.store, 'loans')])).toEqual(
        before,
      );
      // The same draw as a bullet at maturity costs 23%: within the cap, and booked.
      const bullet = await post(`/v1/lines/${lineId}/quotes`, { ...terms, method: 'INTEREST_ONLY' });
      expect(bullet.statusCode, bullet.body).toBe(201);
      expect(bullet.json().apr.CN_IRR).toBeLessThanOrEqual(24);
    });

    it("a held draw's release the fees take over the cap is refused with the draw's breakdown, and books nothing", async () => {
      const platform = await partner('PLATFORM_OPERATOR', 300);
      const enhancer = await partner('CREDIT_ENHANCER', 200);
      const lineId = await line(0.18, {
        partnerId: platform,
        fundingMode: 'SELF_FUNDED',
        creditEnhancerId: enhancer,
      });
      // Held, it is not priced; released, it is the same loan a draw would book now, and over the cap as that draw is.
      env.h.engine.script.draw = () => ({ outcome: 'HOLD' });
      const held = await env.h.core.requestDraw(lineId, { ...terms, method: 'EQUAL_INSTALLMENT' } as const);
      expect(held.status).toBe('HOLD');
      env.h.engine.script.draw = () => ({ outcome: 'APPROVE' });
      const drawn = await post(`/v1/lines/${lineId}/draws`, terms);
      expect(drawn.statusCode, drawn.body).toBe(422);
      const refusedDraw = drawn.json().error;
      const before = await countRows(env.store, 'loans');
      const release = async (tx: UnitTx): Promise<void> => {
        await releaseHeldDrawInTx(env.h.deps, tx, held.drawId, { actor: 'user:analyst' });
      };
      const proposal = (tx: UnitTx): Promise<void> => checkHeldDrawReleaseInTx(env.h.deps, tx, held.drawId);
      // The release, and the look before a second person is asked to approve it, as the draw was refused.
      for (const judge of [release, proposal]) {
        const error = await env.store.transaction(judge).then(
          () => undefined,
          (e: unknown) => e as LgError,
        );
        expect(error?.toBody().error).toEqual({
          code: 'LG_APR_CAP_EXCEEDED',
          message: refusedDraw.message,
          details: { ...refusedDraw.details, drawId: held.drawId, decisionId: held.decisionId },
        });
        expect(refusedDraw.details.breakdown).toMatchObject({ contractRatePercent: 18, capPercent: 24 });
      }
      expect(await countRows(env.store, 'loans')).toBe(before);
      expect((await get(`/v1/lines/${lineId}`)).json().outstandingPrincipalMinor).toBe(0);
    });
  });
}
