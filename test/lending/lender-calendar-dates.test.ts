import { afterEach, describe, expect, it } from 'vitest';
import { STORE_FACTORIES } from '../helpers/stores.js';
import { partnerRoutes } from '../../src/api/routes/partners.js';
import { seededRandom } from '../../src/domain/random.js';
import { channelQuality } from '../../src/core/partners.js';
import type { CoreDeps } from '../../src/core/deps.js';
import { residentId } from '../core/harness.js';
import { lendingEnv, type LendingEnv } from './helpers.js';

/**
 * The dates the core judges besides money — an applicant's age, a 助贷 partner's contract days, the channel's
 * first-payment-default window — are the lender's calendar days (LINEGUARD_LENDER_UTC_OFFSET), as a loan's dates are.
 * 07:00 on 2 March 2026 in Beijing is 23:00 UTC on 1 March: on a UTC calendar it is still 1 March.
 */
const BEIJING = 480;
const BEIJING_MORNING_OF_2_MARCH = Date.UTC(2026, 2, 1, 23, 0);

for (const factory of STORE_FACTORIES) {
  describe.skipIf(!factory.enabled)(`the lender's calendar beyond money, on ${factory.name}`, () => {
    let env: LendingEnv | undefined;
    let seq = 400;
    afterEach(async () => {
      await env?.close();
      env = undefined;
    });

    async function open(offsetMinutes: number): Promise<LendingEnv> {
      env = await lendingEnv((h) => [partnerRoutes({ core: h.core, random: seededRandom(3) })], factory, {
        lenderUtcOffsetMinutes: offsetMinutes,
      });
      env.h.clock.set(BEIJING_MORNING_OF_2_MARCH);
      env.h.engine.script.application = () => ({
        outcome: 'APPROVE',
        limitMinor: 1_000_000,
        annualRate: 0.18,
      });
      return env;
    }

    async function apply(e: LendingEnv, birth: string, channel?: Record<string, unknown>) {
      return e.app.inject({
        method: 'POST',
        url: '/v1/applications',
        headers: e.headers(),
        payload: {
          applicant: { name: '韩梅梅', nationalId: residentId(birth, ++seq), phone: '13900000000' },
          attributes: {},
          ...(channel ? { channel } : {}),
        },
      });
    }

    async function platform(e: LendingEnv, contractStart: string, contractEnd: string): Promise<string> {
      const res = await e.app.inject({
        method: 'POST',
        url: '/v1/partners',
        headers: e.headers(),
        payload: {
          name: `平台 ${++seq}`,
          type: 'PLATFORM_OPERATOR',
          licenceNo: `LIC-CAL-${seq}`,
          contractStart,
          contractEnd,
        },
      });
      expect(res.statusCode, res.body).toBe(201);
      return res.json<{ id: string }>().id;
    }

    it('an applicant who turns 18 today in Beijing is of age at 07:00 Beijing time', async () => {
      const beijing = await open(BEIJING);
      const adult = await apply(beijing, '20080302');
      expect(adult.statusCode, adult.body).toBe(201);
      // The day before the birthday is still under age, on the lender's calendar too.
      const minor = await apply(beijing, '20080303');
      expect(minor.statusCode).toBe(422);
      expect(minor.json().error.code).toBe('LG_BORROWER_UNDERAGE');
    });

    it('on a UTC calendar the same instant is still the day before the birthday', async () => {
      const utc = await open(0);
      const res = await apply(utc, '20080302');
      expect(res.json().error.code).toBe('LG_BORROWER_UNDERAGE');
    });

    it("a partner's contract ends and starts on the lender's calendar days", async () => {
      const beijing = await open(BEIJING);
      const ended = await platform(beijing, '2025-01-01', '2026-03-01');
      const refused = await apply(beijing, '19900307', { partnerId: ended, fundingMode: 'SELF_FUNDED' });
      expect(refused.statusCode, refused.body).toBe(409);
      expect(refused.json().error.code).toBe('LG_PARTNER_SUSPENDED');
      const starting = await platform(beijing, '2026-03-02', '2027-03-01');
      const through = await apply(beijing, '19900307', { partnerId: starting, fundingMode: 'SELF_FUNDED' });
      expect(through.statusCode, through.body).toBe(201);
    });

    it("the channel's first-payment-default window counts back 30 of the lender's days", async () => {
      const beijing = await open(BEIJING);
      const partnerId = await platform(beijing, '2025-01-01', '2027-12-31');
      let asked: { fpdDueBefore: string } | undefined;
      const deps: CoreDeps = {
        ...beijing.h.deps,
        lending: {
          ...beijing.h.deps.lending,
          channelCounts: async (id, window) => {
            asked = window;
            return beijing.h.deps.lending.channelCounts(id, window);
          },
        },
      };
      await channelQuality(deps, partnerId);
      // 2 March in Beijing, less 30 days: loans first due before 31 January count.
      expect(asked?.fpdDueBefore).toBe('2026-01-31');
    });
  });
}
