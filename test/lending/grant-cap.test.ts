import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { approveReviewInTx, checkLineAction } from '../../src/core/index.js';
import { openLineActionNote } from '../../src/compliance/index.js';
import { partnerRoutes } from '../../src/api/routes/partners.js';
import { seededRandom } from '../../src/domain/random.js';
import { STORE_FACTORIES } from '../helpers/stores.js';
import { ADULT, residentId } from '../core/harness.js';
import { countRows, DAILY_PRODUCT, lendingEnv, registerPartner, type LendingEnv } from './helpers.js';

/**
 * A line granted under a product is priced within the all-in cap of the loans the product offers (PBoC [2021] No. 3),
 * as a rate change is (rate-change-cap.test.ts), not on its rate alone: under a product withholding 1% up front, a
 * line granted at 23% — under the product's 24% maximum — would have every draw refused (a one-month loan costs
 * 35.79% a year all-in, a 12-month one 25.08%). A strategy's grant is lowered to the highest rate within the cap, as
 * a rate over the nominal cap is, and the offer says so; a person's approval at such a rate is refused, as a person's
 * rate over the nominal cap is; a product whose lowest rate is over the cap grants no line at all. The 助贷 partners'
 * fees are part of the same all-in cost and take the same course: a rate they take over the cap is lowered too, not
 * refused by a simpler check of the rate plus the fees.
 */
const UPFRONT_PRODUCT = {
  ...DAILY_PRODUCT,
  id: 'upfront',
  rateMax: 0.24,
  termsMonths: [1, 12],
  methods: ['EQUAL_INSTALLMENT'],
  // 1% of the amount at disbursement, at most ¥100: charged in full up to ¥10,000.
  upfrontFee: { rateBps: 100, capMinor: 10_000 },
};
/** The same product without a fee of its own: what it costs over the rate is the partners' fees only. */
const PLAIN_PRODUCT = (({ upfrontFee: _fee, ...rest }) => ({ ...rest, id: 'plain' }))(UPFRONT_PRODUCT);
/** The dearest loan the product offers: the shortest term, at the largest amount the fee is charged in full on. */
const DEAREST = { amountMinor: 1_000_000, currency: 'CNY', termMonths: 1, method: 'EQUAL_INSTALLMENT' };

for (const factory of STORE_FACTORIES) {
  describe.skipIf(!factory.enabled)(
    `a grant under a product within the all-in cap on ${factory.name}`,
    () => {
      let env: LendingEnv;
      let seq = 900;
      beforeEach(async () => {
        env = await lendingEnv((h) => [partnerRoutes({ core: h.core, random: seededRandom(19) })], factory);
      });
      afterEach(async () => env.close());

      const post = (url: string, payload: unknown) =>
        env.app.inject({ method: 'POST', url, headers: env.headers(), payload: payload as object });
      const written = () =>
        Promise.all([
          countRows(env.store, 'credit_lines'),
          countRows(env.store, 'line_actions'),
          countRows(env.store, 'ledger_entries'),
        ]);

      async function createProduct(product: Record<string, unknown>): Promise<void> {
        const res = await post('/v1/products', product);
        expect(res.statusCode, res.body).toBe(201);
      }

      function apply(extra: Record<string, unknown>) {
        return post('/v1/applications', {
          applicant: { ...ADULT, nationalId: residentId('19900307', ++seq) },
          attributes: {},
          ...extra,
        });
      }

      const grantAt = (annualRate: number) => {
        env.h.engine.script.application = () => ({ outcome: 'APPROVE', limitMinor: 5_000_000, annualRate });
      };

      /** A channel through a platform charging feeRateBps a year on the amount drawn. */
      const platformChannel = async (feeRateBps: number) => ({
        channel: {
          partnerId: await registerPartner(env, 'PLATFORM_OPERATOR', feeRateBps),
          fundingMode: 'SELF_FUNDED',
        },
      });

      const overCapBy: [string, () => Promise<Record<string, unknown>>][] = [
        [
          "the product's up-front fee",
          async () => (await createProduct(UPFRONT_PRODUCT), { productId: 'upfront' }),
        ],
        [
          "the platform's yearly fee",
          async () => (
            await createProduct(PLAIN_PRODUCT),
            { productId: 'plain', ...(await platformChannel(300)) }
          ),
        ],
        [
          "the product's and the platform's fees together",
          async () => (
            await createProduct(UPFRONT_PRODUCT),
            { productId: 'upfront', ...(await platformChannel(100)) }
          ),
        ],
      ];
      for (const [by, applying] of overCapBy)
        it(`lowers a strategy's rate over the cap through ${by} to the highest within it, and says so`, async () => {
          const extra = await applying();
          grantAt(0.23);
          const res = await apply(extra);
          expect(res.statusCode, res.body).toBe(201);
          const body = res.json<{
            line: { id: string; annualRate: number };
            adjustments: string[];
            applicationId: string;
          }>();
          const rate = body.line.annualRate;
          expect(rate).toBeLessThan(0.23);
          expect(rate).toBeGreaterThanOrEqual(UPFRONT_PRODUCT.rateMin);
          // On the basis-point grid the product's rates are set on.
          expect(Math.round(rate * 10_000) / 10_000).toBe(rate);
          // The offer and the GRANT action state the rate the borrower got, and why; the application's ledger entry does
          // not hold it in clear (an adjustment may name the age derived from the resident ID): the GRANT's sealed note,
          // proven by its line.action entry's noteHmac, does.
          const adjustment = body.adjustments.find((a) => a.startsWith('rate 0.23 lowered to'));
          expect(adjustment).toMatch(
            new RegExp(
              `^rate 0\\.23 lowered to ${rate}: at 0\\.23 a \\d+-month EQUAL_INSTALLMENT loan .* costs [\\d.]+% a year all-in, above the 24% all-in cap`,
            ),
          );
          // The GRANT's note is sealed at rest like every line action's (compliance/sealed-line-actions.ts).
          const action = openLineActionNote(
            env.h.deps.crypto,
            await env.store.db
              .selectFrom('line_actions')
              .select(['id', 'new_rate', 'note'])
              .where('line_id', '=', body.line.id)
              .executeTakeFirstOrThrow(),
          );
          expect(Number(action.new_rate)).toBe(rate);
          expect(action.note).toContain(adjustment);
          const entry = await env.store.db
            .selectFrom('ledger_entries')
            .select('payload')
            .where('entry_id', '=', body.applicationId)
            .executeTakeFirstOrThrow();
          expect(JSON.parse(String(entry.payload))).not.toHaveProperty('adjustments');
          // The highest: a basis point more and the line's dearest loan is over the cap.
          const change = { type: 'RATE_CHANGE' as const, reasons: ['R_MANUAL_REVIEW'], automated: false };
          await expect(
            checkLineAction(env.h.deps, body.line.id, {
              ...change,
              annualRate: Math.round((rate + 0.0001) * 10_000) / 10_000,
            }),
          ).rejects.toMatchObject({ code: 'LG_APR_CAP_EXCEEDED' });
          // The dearest loan, and the 12-month one, are lent at the line's rate.
          for (const termMonths of [1, 12]) {
            const drawn = await post(`/v1/lines/${body.line.id}/draws`, { ...DEAREST, termMonths });
            expect(drawn.statusCode, drawn.body).toBe(201);
          }
        });

      it('leaves a rate within the cap as the strategy set it', async () => {
        await createProduct(UPFRONT_PRODUCT);
        grantAt(0.1);
        const res = await apply({ productId: 'upfront' });
        expect(res.statusCode, res.body).toBe(201);
        expect(res.json().line.annualRate).toBe(0.1);
        expect(res.json().adjustments).toEqual([]);
      });

      it("refuses the grant when even the product's lowest rate is over the cap all-in, and writes nothing", async () => {
        // 5% up front at most ¥500: a one-month loan costs far over 24% a year at any rate.
        await createProduct({
          ...UPFRONT_PRODUCT,
          id: 'steep',
          upfrontFee: { rateBps: 500, capMinor: 50_000 },
        });
        grantAt(0.2);
        const before = await written();
        const res = await apply({ productId: 'steep' });
        expect(res.statusCode, res.body).toBe(422);
        expect(res.json().error).toMatchObject({
          code: 'LG_APR_CAP_EXCEEDED',
          details: {
            annualRate: UPFRONT_PRODUCT.rateMin,
            capPercent: 24,
            loan: { termMonths: 1, method: 'EQUAL_INSTALLMENT' },
          },
        });
        expect(res.json().error.details.apr).toBeGreaterThan(24);
        expect(await written()).toEqual(before);
      });

      for (const feeRateBps of [2_200, 2_500])
        it(`refuses the grant when a platform's ${feeRateBps / 100}% takes the product's lowest rate over the cap, as a product's fee does`, async () => {
          await createProduct(PLAIN_PRODUCT);
          const channel = await platformChannel(feeRateBps);
          grantAt(0.2);
          const before = await written();
          const res = await apply({ productId: 'plain', ...channel });
          expect(res.statusCode, res.body).toBe(422);
          expect(res.json().error).toMatchObject({
            code: 'LG_APR_CAP_EXCEEDED',
            details: {
              annualRate: PLAIN_PRODUCT.rateMin,
              capPercent: 24,
              loan: { method: 'EQUAL_INSTALLMENT' },
              breakdown: { partnerFees: [{ type: 'PLATFORM_OPERATOR', feeRatePercent: feeRateBps / 100 }] },
            },
          });
          expect(res.json().error.details.apr).toBeGreaterThan(24);
          expect(await written()).toEqual(before);
        });

      const analystOverCapBy: [string, () => Promise<Record<string, unknown>>, number][] = [
        [
          "the product's up-front fee",
          async () => (await createProduct(UPFRONT_PRODUCT), { productId: 'upfront' }),
          1,
        ],
        [
          "the platform's yearly fee",
          async () => (
            await createProduct(PLAIN_PRODUCT),
            { productId: 'plain', ...(await platformChannel(300)) }
          ),
          12,
        ],
      ];
      for (const [by, applying, dearestTerm] of analystOverCapBy)
        it(`refuses an analyst's approval at a rate ${by} takes over the cap, and grants one within it`, async () => {
          const extra = await applying();
          env.h.engine.script.application = () => ({ outcome: 'REVIEW', reasons: ['R_MANUAL_REVIEW'] });
          const referred = await apply(extra);
          expect(referred.json().outcome, referred.body).toBe('REVIEW');
          const applicationId = referred.json<{ applicationId: string }>().applicationId;
          const approve = (annualRate: number) =>
            env.store.transaction((tx) =>
              approveReviewInTx(env.h.deps, tx, applicationId, {
                actor: 'user:analyst',
                limitMinor: 1_000_000,
                annualRate,
              }),
            );
          const before = await written();
          await expect(approve(0.23)).rejects.toMatchObject({
            code: 'LG_APR_CAP_EXCEEDED',
            details: { annualRate: 0.23, loan: { termMonths: dearestTerm, method: 'EQUAL_INSTALLMENT' } },
          });
          expect(await written()).toEqual(before);
          const approved = await approve(0.1);
          expect(approved).toMatchObject({ outcome: 'APPROVE', annualRate: 0.1 });
          const drawn = await post(`/v1/lines/${approved.lineId}/draws`, DEAREST);
          expect(drawn.statusCode, drawn.body).toBe(201);
        });

      it('keeps the simple check for a line without a product: its rate is granted as set', async () => {
        grantAt(0.23);
        const res = await apply({});
        expect(res.statusCode, res.body).toBe(201);
        expect(res.json().line.annualRate).toBe(0.23);
      });
    },
  );
}
