import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createCoreServices, releaseHeldDrawInTx } from '../../src/core/index.js';
import { STORE_FACTORIES } from '../helpers/stores.js';
import { ADULT, residentId } from '../core/harness.js';
import { countRows, DAILY_PRODUCT, lendingEnv, MS_DAY, type LendingEnv } from './helpers.js';

for (const factory of STORE_FACTORIES) {
  describe.skipIf(!factory.enabled)(`on ${factory.name}`, () => {
    let env: LendingEnv;
    let lineId: string;

    async function post(url: string, payload: unknown) {
      return env.app.inject({ method: 'POST', url, headers: env.headers(), payload: payload as object });
    }

    beforeEach(async () => {
      env = await lendingEnv(undefined, factory);
      expect(
        (await post('/v1/products', { ...DAILY_PRODUCT, upfrontFee: { rateBps: 0, capMinor: 0 } }))
          .statusCode,
      ).toBe(201);
      env.h.engine.script.application = () => ({
        outcome: 'APPROVE',
        limitMinor: 5_000_000,
        annualRate: 0.1825,
      });
      const app = await post('/v1/applications', {
        applicant: ADULT,
        attributes: {},
        productId: 'daily-flex',
      });
      lineId = app.json<{ line: { id: string } }>().line.id;
    });
    afterEach(async () => env.close());

    const TEN_K = { amountMinor: 1_000_000, currency: 'CNY', termMonths: 12, method: 'DAILY_INTEREST' };

    interface Quote {
      quoteId: string;
      apr: { CN_IRR: number; US_REGZ: number; EU_CCD: number; simple: number };
      dailyRate: number;
      totalInterestMinor: number;
      totalRepayableMinor: number;
      schedule: { dueDate: string; interestMinor: number; principalMinor: number }[];
      earlyRepayment: { afterDays: number; interestMinor: number; payoffMinor: number }[];
      keyFacts: { zh: string; en: string };
      validUntil: string;
    }

    describe('quotes before the draw', () => {
      it('the worked example: the quote shows 10 days cost ¥50.00, the draw books exactly the quote, the repayment charges it', async () => {
        const res = await post(`/v1/lines/${lineId}/quotes`, TEN_K);
        expect(res.statusCode, res.body).toBe(201);
        const quote = res.json<Quote>();
        expect(quote.dailyRate).toBeCloseTo(0.0005, 12);
        expect(quote.apr.simple).toBe(18.25);
        expect(quote.apr.CN_IRR).toBeGreaterThan(0);
        expect(quote.earlyRepayment.find((e) => e.afterDays === 0)).toMatchObject({
          interestMinor: 0,
          payoffMinor: 1_000_000,
        });
        expect(quote.earlyRepayment.find((e) => e.afterDays === 10)).toMatchObject({
          interestMinor: 5_000,
          payoffMinor: 1_005_000,
        });
        expect(quote.keyFacts.zh).toContain('年化利率（IRR，复利）');
        expect(quote.keyFacts.zh).toContain('年化利率（单利）18.25%');
        expect(quote.keyFacts.zh).toContain('利息 50.00 CNY');
        expect(quote.keyFacts.en).toContain('annualised rate (simple) 18.25%');
        // Nothing booked by a quote.
        expect(await countRows(env.store, 'loans')).toBe(0);
        const drawn = await post(`/v1/lines/${lineId}/draws`, { ...TEN_K, quoteId: quote.quoteId });
        expect(drawn.statusCode, drawn.body).toBe(201);
        const loan = drawn.json<{
          loan: {
            id: string;
            disclosure: { totalRepayableMinor: number; apr: { CN_IRR: number } };
            schedule: unknown[];
          };
        }>().loan;
        expect(loan.disclosure.totalRepayableMinor).toBe(quote.totalRepayableMinor);
        expect(loan.disclosure.apr.CN_IRR).toBe(quote.apr.CN_IRR);
        env.h.clock.advance(10 * MS_DAY);
        const paid = await post(`/v1/loans/${loan.id}/repayments`, {
          amountMinor: 1_005_000,
          currency: 'CNY',
        });
        expect(paid.json().allocated).toMatchObject({ interestMinor: 5_000, principalMinor: 1_000_000 });
        const stored = await env.app.inject({
          method: 'GET',
          url: `/v1/quotes/${quote.quoteId}`,
          headers: env.headers(false),
        });
        expect(stored.json<Quote>().totalRepayableMinor).toBe(quote.totalRepayableMinor);
      });

      it('refuses a draw that differs from its quote, an expired quote, or a quote whose rate moved — writing nothing', async () => {
        const quote = (await post(`/v1/lines/${lineId}/quotes`, TEN_K)).json<Quote>();
        const other = await post(`/v1/lines/${lineId}/draws`, {
          ...TEN_K,
          amountMinor: 900_000,
          quoteId: quote.quoteId,
        });
        expect(other.statusCode).toBe(409);
        expect(other.json().error.code).toBe('LG_QUOTE_MISMATCH');
        // The stated use of the funds (资金用途) is part of the quoted loan: another one, or none, is another loan.
        const forEducation = (
          await post(`/v1/lines/${lineId}/quotes`, { ...TEN_K, purpose: 'EDUCATION' })
        ).json<Quote>();
        for (const purpose of ['TRAVEL', undefined]) {
          const otherUse = await post(`/v1/lines/${lineId}/draws`, {
            ...TEN_K,
            ...(purpose === undefined ? {} : { purpose }),
            quoteId: forEducation.quoteId,
          });
          expect(otherUse.statusCode, otherUse.body).toBe(409);
          expect(otherUse.json().error).toMatchObject({
            code: 'LG_QUOTE_MISMATCH',
            details: { quoted: { purpose: 'EDUCATION' }, asked: { purpose: purpose ?? null } },
          });
        }
        const unstated = await post(`/v1/lines/${lineId}/draws`, {
          ...TEN_K,
          purpose: 'EDUCATION',
          quoteId: quote.quoteId,
        });
        expect(unstated.json().error.code).toBe('LG_QUOTE_MISMATCH');
        // The line's rate changes after the quote: the loan would differ, so the draw is refused.
        const cut = await post(`/v1/lines/${lineId}/actions`, {
          type: 'RATE_CHANGE',
          reasons: ['R_MANUAL_REVIEW'],
          annualRate: 0.12,
        });
        expect(cut.statusCode, cut.body).toBe(201);
        const moved = await post(`/v1/lines/${lineId}/draws`, { ...TEN_K, quoteId: quote.quoteId });
        expect(moved.statusCode).toBe(409);
        expect(moved.json().error.code).toBe('LG_QUOTE_MISMATCH');
        const fresh = (await post(`/v1/lines/${lineId}/quotes`, TEN_K)).json<Quote>();
        env.h.clock.advance(31 * 60_000);
        const expired = await post(`/v1/lines/${lineId}/draws`, { ...TEN_K, quoteId: fresh.quoteId });
        expect(expired.statusCode).toBe(409);
        expect(expired.json().error.code).toBe('LG_QUOTE_EXPIRED');
        expect(await countRows(env.store, 'loans')).toBe(0);
        expect(await countRows(env.store, 'draws')).toBe(0);
      });

      it("judges the quote when the draw is decided under its line's lock, not when the request arrived", async () => {
        // A draw that waits WAIT_MS for its line's lock (another draw or action holding it), as the injected clock sees it.
        const WAIT_MS = 155;
        const coreStore = env.h.deps.coreStore;
        const waiting = createCoreServices({
          ...env.h.deps,
          coreStore: {
            ...coreStore,
            runDraw: (unit) => {
              env.h.clock.advance(WAIT_MS);
              return coreStore.runDraw(unit);
            },
          },
        });
        const input = { ...TEN_K, method: 'DAILY_INTEREST' as const };
        for (const outcome of ['APPROVE', 'COOLDOWN'] as const) {
          env.h.engine.script.draw = () => ({ outcome });
          const quote = (await post(`/v1/lines/${lineId}/quotes`, input)).json<Quote>();
          // Valid when the request arrives, 100 ms before its expiry; expired 55 ms by the time the draw is decided.
          env.h.clock.set(Date.parse(quote.validUntil) - 100);
          await expect(
            waiting.requestDraw(lineId, { ...input, quoteId: quote.quoteId }),
            outcome,
          ).rejects.toMatchObject({ code: 'LG_QUOTE_EXPIRED', status: 409 });
        }
        expect(await countRows(env.store, 'draws')).toBe(0);
        expect(await countRows(env.store, 'loans')).toBe(0);
        // The control: decided at the very instant the quote is valid until, the draw books the quote.
        env.h.engine.script.draw = () => ({ outcome: 'APPROVE' });
        const quote = (await post(`/v1/lines/${lineId}/quotes`, input)).json<Quote>();
        env.h.clock.set(Date.parse(quote.validUntil) - WAIT_MS);
        const booked = await waiting.requestDraw(lineId, { ...input, quoteId: quote.quoteId });
        expect(booked.status).toBe('APPROVED');
        expect(await countRows(env.store, 'loans')).toBe(1);
      });

      it('holds a quoted draw to its quote when it is held: a stale quote is refused, and a release never books other terms', async () => {
        const quote = (await post(`/v1/lines/${lineId}/quotes`, TEN_K)).json<Quote>();
        // Every draw goes into cooling-off (a second draw within the period, say).
        env.h.engine.script.draw = () => ({ outcome: 'COOLDOWN', reasons: ['R_COOLING_OFF'] });
        const held = await post(`/v1/lines/${lineId}/draws`, { ...TEN_K, quoteId: quote.quoteId });
        expect(held.statusCode, held.body).toBe(202);
        const cut = await post(`/v1/lines/${lineId}/actions`, {
          type: 'RATE_CHANGE',
          reasons: ['R_MANUAL_REVIEW'],
          annualRate: 0.12,
        });
        expect(cut.statusCode, cut.body).toBe(201);
        // The quote no longer matches what a draw would book: refused, even though the draw would only be held.
        const stale = await post(`/v1/lines/${lineId}/draws`, { ...TEN_K, quoteId: quote.quoteId });
        expect(stale.statusCode, stale.body).toBe(409);
        expect(stale.json().error.code).toBe('LG_QUOTE_MISMATCH');
        // Released after the rate moved, the held draw would book terms the borrower was never quoted: refused.
        const drawId = held.json<{ drawId: string }>().drawId;
        await expect(
          env.store.transaction((tx) => releaseHeldDrawInTx(env.h.deps, tx, drawId, { actor: 'analyst' })),
        ).rejects.toMatchObject({ code: 'LG_QUOTE_MISMATCH' });
        expect(await countRows(env.store, 'loans')).toBe(0);
      });

      it('shows the partial early-repayment options and their effect; the loan then does what the quote said', async () => {
        const body = { amountMinor: 1_200_000, currency: 'CNY', termMonths: 12, method: 'EQUAL_INSTALLMENT' };
        const quote = (await post(`/v1/lines/${lineId}/quotes`, body)).json<
          Quote & {
            prepaymentOptions: {
              mode: string;
              applies: boolean;
              date: string;
              prepayMinor: number;
              nextInstallmentMinor: number;
              remainingInstallments: number;
              interestSavedMinor: number;
            }[];
          }
        >();
        const [reamortise, shorten] = quote.prepaymentOptions;
        expect(reamortise).toMatchObject({ mode: 'REAMORTISE', applies: true, remainingInstallments: 11 });
        expect(shorten).toMatchObject({ mode: 'SHORTEN', applies: false });
        expect(shorten?.remainingInstallments).toBeLessThan(11);
        expect(reamortise?.interestSavedMinor).toBeGreaterThan(0);
        expect(shorten?.interestSavedMinor).toBeGreaterThan(reamortise?.interestSavedMinor ?? 0);
        const drawn = await post(`/v1/lines/${lineId}/draws`, { ...body, quoteId: quote.quoteId });
        const loan = drawn.json<{
          loan: { id: string; schedule: { totalMinor: number; dueDate: string }[] };
        }>().loan;
        const first = loan.schedule[0];
        env.h.clock.set(Date.parse(first?.dueDate ?? ''));
        const paid = await post(`/v1/loans/${loan.id}/repayments`, {
          amountMinor: (first?.totalMinor ?? 0) + (reamortise?.prepayMinor ?? 0),
          currency: 'CNY',
        });
        expect(paid.statusCode, paid.body).toBe(201);
        const after = paid.json<{ loan: { schedule: { dueDate: string; totalMinor: number }[] } }>().loan
          .schedule;
        const future = after.filter((i) => i.dueDate > (first?.dueDate ?? ''));
        expect(future).toHaveLength(reamortise?.remainingInstallments ?? -1);
        expect(future[0]?.totalMinor).toBe(reamortise?.nextInstallmentMinor);
      });

      it('refuses a quote and a draw whose fees take the all-in APR over the product cap, writing nothing', async () => {
        const costly = { ...DAILY_PRODUCT, id: 'costly', upfrontFee: { rateBps: 500, capMinor: 1_000_000 } };
        expect((await post('/v1/products', costly)).statusCode).toBe(201);
        // No line is granted under it any more: at its lowest rate its one-month loan costs far over 24% all-in
        // (test/lending/grant-cap.test.ts). A line granted under it before grants were so judged still lends, each of
        // its loans judged on its own: its line under another product, then moved onto this one's terms.
        const refused = await post('/v1/applications', {
          applicant: { ...ADULT, nationalId: residentId('19900307', 555) },
          attributes: {},
          productId: 'costly',
        });
        expect(refused.statusCode, refused.body).toBe(422);
        expect(refused.json().error.code).toBe('LG_APR_CAP_EXCEEDED');
        const app = await post('/v1/applications', {
          applicant: { ...ADULT, nationalId: residentId('19900307', 555) },
          attributes: {},
          productId: 'daily-flex',
        });
        const costlyLine = app.json<{ line: { id: string } }>().line.id;
        const { terms } = await env.store.db
          .selectFrom('products')
          .select('terms')
          .where('id', '=', 'costly')
          .executeTakeFirstOrThrow();
        await env.store.db
          .updateTable('credit_lines')
          .set({ product_id: 'costly', product_terms: terms })
          .where('id', '=', costlyLine)
          .execute();
        const body = { amountMinor: 1_000_000, currency: 'CNY', termMonths: 3, method: 'EQUAL_INSTALLMENT' };
        const quote = await post(`/v1/lines/${costlyLine}/quotes`, body);
        expect(quote.statusCode).toBe(422);
        expect(quote.json().error).toMatchObject({
          code: 'LG_APR_CAP_EXCEEDED',
          details: { capPercent: 24 },
        });
        const drawn = await post(`/v1/lines/${costlyLine}/draws`, body);
        expect(drawn.statusCode).toBe(422);
        expect(drawn.json().error.code).toBe('LG_APR_CAP_EXCEEDED');
        expect(await countRows(env.store, 'quotes')).toBe(0);
        expect(await countRows(env.store, 'loans')).toBe(0);
      });

      it("refuses a draw citing another line's quote", async () => {
        const quote = (await post(`/v1/lines/${lineId}/quotes`, TEN_K)).json<Quote>();
        const other = await post('/v1/applications', {
          applicant: { ...ADULT, nationalId: residentId('19900307', 321) },
          attributes: {},
          productId: 'daily-flex',
        });
        const otherLine = other.json<{ line: { id: string } }>().line.id;
        const res = await post(`/v1/lines/${otherLine}/draws`, { ...TEN_K, quoteId: quote.quoteId });
        expect(res.statusCode).toBe(409);
        expect(res.json().error.code).toBe('LG_QUOTE_MISMATCH');
        expect(await countRows(env.store, 'loans')).toBe(0);
      });

      it('refuses a quote the product or the line does not allow, storing nothing', async () => {
        const cases: [Record<string, unknown>, number, string][] = [
          [{ ...TEN_K, termMonths: 24 }, 422, 'LG_PRODUCT_TERMS'],
          [{ ...TEN_K, method: 'INTEREST_ONLY' }, 422, 'LG_PRODUCT_TERMS'],
          [{ ...TEN_K, amountMinor: 6_000_000 }, 422, 'LG_INSUFFICIENT_CREDIT'],
          [{ ...TEN_K, currency: 'USD' }, 400, 'LG_CURRENCY_MISMATCH'],
        ];
        for (const [body, status, code] of cases) {
          const res = await post(`/v1/lines/${lineId}/quotes`, body);
          expect(res.statusCode, res.body).toBe(status);
          expect(res.json().error.code).toBe(code);
        }
        expect(await countRows(env.store, 'quotes')).toBe(0);
      });

      it('the core refuses a quote for an amount that is not money, as it refuses the draw (a caller past the schema)', async () => {
        const input = { ...TEN_K, method: 'DAILY_INTEREST' as const };
        for (const amountMinor of [0, -100_000, 1_000.5, Number.NaN, Number.MAX_SAFE_INTEGER + 2]) {
          for (const ask of [
            () => env.h.core.createQuote(lineId, { ...input, amountMinor }),
            () => env.h.core.requestDraw(lineId, { ...input, amountMinor }),
          ]) {
            await expect(ask(), String(amountMinor)).rejects.toMatchObject({ code: 'LG_INVALID_MONEY' });
          }
        }
        expect(await countRows(env.store, 'quotes')).toBe(0);
        expect(await countRows(env.store, 'draws')).toBe(0);
      });
    });
  });
}
