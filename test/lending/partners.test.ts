import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { STORE_FACTORIES, rowCount } from '../helpers/stores.js';
import { partnerRoutes } from '../../src/api/routes/partners.js';
import { seededRandom } from '../../src/domain/random.js';
import { ADULT, residentId } from '../core/harness.js';
import { lendingEnv, type LendingEnv } from './helpers.js';

for (const factory of STORE_FACTORIES) {
  describe.skipIf(!factory.enabled)(`on ${factory.name}`, () => {
    let env: LendingEnv;
    let seq = 200;
    beforeEach(async () => {
      env = await lendingEnv((h) => [partnerRoutes({ core: h.core, random: seededRandom(11) })], factory);
    });
    afterEach(async () => env.close());

    async function post(url: string, payload: unknown, headers = env.headers()) {
      return env.app.inject({ method: 'POST', url, headers, payload: payload as object });
    }
    async function get(url: string, headers: Record<string, string> = env.headers(false)) {
      return env.app.inject({ method: 'GET', url, headers });
    }

    async function partner(type: string, over: Record<string, unknown> = {}): Promise<string> {
      const res = await post('/v1/partners', {
        name: `${type} ${seq}`,
        type,
        licenceNo: `LIC-${++seq}`,
        contractStart: '2025-01-01',
        contractEnd: '2027-12-31',
        ...over,
      });
      expect(res.statusCode, res.body).toBe(201);
      return res.json<{ id: string }>().id;
    }

    async function apply(channel?: Record<string, unknown>, rate = 0.18) {
      env.h.engine.script.application = () => ({
        outcome: 'APPROVE',
        limitMinor: 5_000_000,
        annualRate: rate,
      });
      return post('/v1/applications', {
        applicant: { ...ADULT, nationalId: residentId('19900307', ++seq) },
        attributes: {},
        ...(channel ? { channel } : {}),
      });
    }

    const count = (table: 'applications' | 'credit_lines') => rowCount(env.store, table);

    describe('助贷 partners and co-lending', () => {
      it('a co-lent line through a channel records funding and channel; the all-in cost over every party is capped', async () => {
        const platform = await partner('PLATFORM_OPERATOR', { feeRateBps: 300 });
        const funder = await partner('FUNDER');
        const enhancer = await partner('CREDIT_ENHANCER', { feeRateBps: 200 });
        const channel = {
          partnerId: platform,
          fundingMode: 'CO_LENDING',
          funders: [{ partnerId: funder, shareBps: 7_000 }],
        };
        const ok = await apply({ ...channel, creditEnhancerId: enhancer });
        expect(ok.statusCode, ok.body).toBe(201);
        const lineId = ok.json<{ line: { id: string } }>().line.id;
        const row = await env.store.db
          .selectFrom('credit_lines')
          .selectAll()
          .where('id', '=', lineId)
          .executeTakeFirstOrThrow();
        expect(row).toMatchObject({ channel_partner_id: platform, funding_mode: 'CO_LENDING' });
        expect(JSON.parse(row.funders ?? '[]')).toEqual([{ partnerId: funder, shareBps: 7_000 }]);
        const parties = await get(`/v1/lines/${lineId}/parties`);
        expect(parties.json()).toMatchObject({
          fundingMode: 'CO_LENDING',
          funders: [
            { partnerId: funder, shareBps: 7_000 },
            { partnerId: 'LENDER', shareBps: 3_000 },
          ],
          charging: [
            { partnerId: platform, feeRatePercent: 3 },
            { partnerId: enhancer, feeRatePercent: 2 },
          ],
        });
        expect(parties.json().text.zh).toContain('出资方：FUNDER');
        expect(parties.json().text.zh).toContain('CREDIT_ENHANCER');
        // 20% contract + 3% platform + 2% guarantee = 25% > 24%: refused with the breakdown, nothing written.
        const before = [await count('applications'), await count('credit_lines')];
        const over = await apply({ ...channel, creditEnhancerId: enhancer }, 0.2);
        expect(over.statusCode).toBe(422);
        const error = over.json().error;
        expect(error.code).toBe('LG_APR_CAP_EXCEEDED');
        expect(error.details.breakdown).toMatchObject({
          contractRatePercent: 20,
          totalPercent: 25,
          capPercent: 24,
        });
        expect(error.details.breakdown.partnerFees).toHaveLength(2);
        expect([await count('applications'), await count('credit_lines')]).toEqual(before);
        // Bad funding: co-lending where the funders take everything.
        const bad = await apply({ ...channel, funders: [{ partnerId: funder, shareBps: 10_000 }] });
        expect(bad.statusCode).toBe(400);
      });

      it('refuses contract dates that are no calendar day', async () => {
        for (const [contractStart, contractEnd] of [
          ['2026-00-00', '2099-99-99'],
          ['2026-02-30', '2026-13-45'],
          ['2025-01-01', '2025-02-29'],
        ]) {
          const res = await post('/v1/partners', {
            name: 'dated',
            type: 'PLATFORM_OPERATOR',
            licenceNo: `LIC-D-${++seq}`,
            contractStart,
            contractEnd,
          });
          expect(res.statusCode, res.body).toBe(400);
          expect(res.json().error.code).toBe('LG_VALIDATION');
          expect(res.json().error.message).toMatch(/contract(Start|End)/);
        }
        // The same partner with real days is taken.
        await partner('PLATFORM_OPERATOR', { contractStart: '2024-02-29', contractEnd: '2026-12-31' });
      });

      it("a platform operator's key sees only its own channel's lines and applications", async () => {
        const a = await partner('PLATFORM_OPERATOR');
        const b = await partner('PLATFORM_OPERATOR');
        const lineA = (await apply({ partnerId: a, fundingMode: 'FACILITATION', funders: [] })).json();
        expect(lineA.error?.code).toBe('LG_VALIDATION'); // facilitation needs funders for the whole loan
        const funder = await partner('FUNDER');
        const viaA = (
          await apply({
            partnerId: a,
            fundingMode: 'FACILITATION',
            funders: [{ partnerId: funder, shareBps: 10_000 }],
          })
        ).json<{ line: { id: string } }>();
        const viaB = (await apply({ partnerId: b, fundingMode: 'SELF_FUNDED' })).json<{
          line: { id: string };
        }>();
        const direct = (await apply()).json<{ line: { id: string } }>();
        const minted = await post(`/v1/partners/${a}/keys`, {}, env.headers(false));
        expect(minted.statusCode, minted.body).toBe(201);
        const keyA = { authorization: `Bearer ${minted.json<{ key: string }>().key}` };
        const lines = await get('/v1/partner/lines', keyA);
        expect(lines.json().map((l: { id: string }) => l.id)).toEqual([viaA.line.id]);
        expect((await get(`/v1/partner/lines/${viaA.line.id}`, keyA)).statusCode).toBe(200);
        for (const other of [viaB.line.id, direct.line.id]) {
          expect((await get(`/v1/partner/lines/${other}`, keyA)).statusCode).toBe(404);
        }
        // The general routes are closed to a partner key.
        expect((await get(`/v1/lines/${viaA.line.id}`, keyA)).statusCode).toBe(403);
        expect((await get('/v1/partners', keyA)).statusCode).toBe(403);
        const apps = await get('/v1/partner/applications', keyA);
        expect(apps.json()).toHaveLength(1);
        // Keys go to platform operators only.
        expect((await post(`/v1/partners/${funder}/keys`, {}, env.headers(false))).statusCode).toBe(409);
        // A terminated partnership's keys read nothing more (a suspended one's still serve its existing book).
        const ended = await post(`/v1/partners/${a}/status`, {
          status: 'TERMINATED',
          reason: 'contract ended',
        });
        expect(ended.statusCode, ended.body).toBe(200);
        for (const url of [
          '/v1/partner/lines',
          `/v1/partner/lines/${viaA.line.id}`,
          '/v1/partner/applications',
        ]) {
          const refused = await get(url, keyA);
          expect(refused.statusCode, url).toBe(403);
          expect(refused.json().error.code, url).toBe('LG_FORBIDDEN');
        }
      });

      it('a suspended partner stops new applications through its channel; reinstated, it resumes', async () => {
        const platform = await partner('PLATFORM_OPERATOR');
        const channel = { partnerId: platform, fundingMode: 'SELF_FUNDED' };
        const suspend = await post(`/v1/partners/${platform}/status`, {
          status: 'SUSPENDED',
          reason: 'complaints review',
        });
        expect(suspend.statusCode, suspend.body).toBe(200);
        const before = await count('applications');
        const refused = await apply(channel);
        expect(refused.statusCode).toBe(409);
        expect(refused.json().error.code).toBe('LG_PARTNER_SUSPENDED');
        expect(await count('applications')).toBe(before);
        await post(`/v1/partners/${platform}/status`, { status: 'ACTIVE', reason: 'review closed' });
        expect((await apply(channel)).statusCode).toBe(201);
        await post(`/v1/partners/${platform}/status`, { status: 'TERMINATED', reason: 'contract ended' });
        const back = await post(`/v1/partners/${platform}/status`, { status: 'ACTIVE', reason: 'x' });
        expect(back.json().error.code).toBe('LG_ILLEGAL_TRANSITION');
        const expired = await partner('PLATFORM_OPERATOR', { contractEnd: '2025-02-01' });
        expect((await apply({ partnerId: expired, fundingMode: 'SELF_FUNDED' })).json().error.code).toBe(
          'LG_PARTNER_SUSPENDED',
        );
      });

      it('jobs daily raises a channel-quality alert once a day when first payments default', async () => {
        Object.assign(env.h.deps, {
          config: {
            ...env.h.deps.config,
            channelThresholds: { minLoans: 1, fpdRateMax: 0.05, delinquentShareMax: 0.5, approvalRateMin: 0 },
          },
        });
        const platform = await partner('PLATFORM_OPERATOR');
        const lineId = (await apply({ partnerId: platform, fundingMode: 'SELF_FUNDED' })).json<{
          line: { id: string };
        }>().line.id;
        const drawn = await post(`/v1/lines/${lineId}/draws`, {
          amountMinor: 600_000,
          currency: 'CNY',
          termMonths: 12,
          method: 'EQUAL_INSTALLMENT',
        });
        expect(drawn.statusCode, drawn.body).toBe(201);
        env.h.clock.set(Date.parse('2025-03-20T08:00:00Z'));
        const healthy = await env.h.core.runDailyJob('2025-03-20');
        expect(healthy.channelAlerts).toEqual([]);
        env.h.clock.set(Date.parse('2025-05-15'));
        const late = await env.h.core.runDailyJob('2025-05-15');
        expect(late.channelAlerts).toHaveLength(1);
        expect(late.channelAlerts?.[0]?.breaches.map((b) => b.metric)).toEqual([
          'firstPaymentDefaultRate',
          'delinquentShare',
        ]);
        expect((await env.h.core.runDailyJob('2025-05-15')).channelAlerts).toEqual([]);
        const quality = await get(`/v1/partners/${platform}/quality`);
        expect(quality.json()).toMatchObject({
          firstPaymentDefaultRate: 1,
          alerts: [{ asOf: '2025-05-15' }],
        });
      });

      it("refuses a draw that would take a partner over its share of the book, and reports the channel's quality", async () => {
        Object.assign(env.h.deps, { config: { ...env.h.deps.config, concentrationFloorMinor: 0 } });
        const platform = await partner('PLATFORM_OPERATOR', { concentrationMax: 0.5 });
        const direct = (await apply()).json<{ line: { id: string } }>().line.id;
        const viaPlatform = (await apply({ partnerId: platform, fundingMode: 'SELF_FUNDED' })).json<{
          line: { id: string };
        }>().line.id;
        env.h.engine.script.application = () => ({ outcome: 'DECLINE', reasons: ['R_SCORE_LOW'] });
        await post('/v1/applications', {
          applicant: { ...ADULT, nationalId: residentId('19900307', ++seq) },
          attributes: {},
          channel: { partnerId: platform, fundingMode: 'SELF_FUNDED' },
        });
        const draw = (lineId: string, amountMinor: number) =>
          post(`/v1/lines/${lineId}/draws`, {
            amountMinor,
            currency: 'CNY',
            termMonths: 12,
            method: 'EQUAL_INSTALLMENT',
          });
        expect((await draw(direct, 1_000_000)).statusCode).toBe(201);
        const over = await draw(viaPlatform, 2_000_000);
        expect(over.statusCode).toBe(422);
        expect(over.json().error.code).toBe('LG_PARTNER_CONCENTRATION');
        expect((await draw(viaPlatform, 900_000)).statusCode).toBe(201);
        const quality = await get(`/v1/partners/${platform}/quality`);
        expect(quality.json()).toMatchObject({
          applications: 2,
          approved: 1,
          approvalRate: 0.5,
          loans: 1,
          firstPaymentDefaultRate: 0,
          loansByBucket: { M0: 1 },
          outstandingMinor: 900_000,
        });
      });
    });
  });
}
