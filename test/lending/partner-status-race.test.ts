import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { approveReviewInTx, createCoreServices, type CoreDeps } from '../../src/core/index.js';
import type { Store } from '../../src/store/db.js';
import { STORE_FACTORIES } from '../helpers/stores.js';
import { stallOnce } from '../helpers/stall.js';
import { makeCore, residentId, type Harness } from '../core/harness.js';

/**
 * A partner suspended while an application through its channel is on its way: the application read the partner as
 * ACTIVE before its transaction, and must not open a line once the suspension has been answered. The channel's
 * parties are read again inside the application's transaction, under a lock the suspension waits for.
 */
for (const factory of STORE_FACTORIES) {
  describe.skipIf(!factory.enabled)(`a partner's suspension racing an application on ${factory.name}`, () => {
    let store: Store;
    let h: Harness;
    beforeAll(async () => {
      store = await factory.open('partner_status_race');
      h = makeCore(store, { seed: 52 });
      h.engine.script.application = () => ({ outcome: 'APPROVE', limitMinor: 1_000_000, annualRate: 0.12 });
    });
    afterAll(async () => store?.close());

    it('refuses the application with LG_PARTNER_SUSPENDED and writes nothing for it', async () => {
      const partner = await h.core.createPartner({
        name: '暂停平台',
        type: 'PLATFORM_OPERATOR',
        licenceNo: 'RACE-1',
        contractStart: '2025-01-01',
        contractEnd: '2027-12-31',
        concentrationMax: 0.9,
      });
      // The application checks its channel, then stalls before its transaction (a GC pause, a busy CPU).
      const stall = stallOnce();
      const stalling = createCoreServices({
        ...h.deps,
        lending: {
          ...h.deps.lending,
          partner: async (id, tx, lock) => {
            const row = await h.deps.lending.partner(id, tx, lock);
            if (tx === undefined) await stall.pause();
            return row;
          },
        },
      });
      const applying = stalling.submitApplication({
        applicant: { name: '渠道客户', nationalId: residentId('19910101', 91), phone: '13500009191' },
        attributes: {},
        channel: { partnerId: partner.id, fundingMode: 'SELF_FUNDED' },
      });
      await stall.paused;
      const suspended = await h.core.setPartnerStatus(partner.id, {
        status: 'SUSPENDED',
        reason: 'licence review',
      });
      expect(suspended.status).toBe('SUSPENDED');
      stall.resume();
      await expect(applying).rejects.toMatchObject({ code: 'LG_PARTNER_SUSPENDED' });
      const lines = await store.db
        .selectFrom('credit_lines')
        .select('id')
        .where('channel_partner_id', '=', partner.id)
        .execute();
      expect(lines).toEqual([]);
    });

    it("a referred application's approval reads the channel under a lock a suspension waits for", async () => {
      const partner = await h.core.createPartner({
        name: '复核平台',
        type: 'PLATFORM_OPERATOR',
        licenceNo: 'RACE-2',
        contractStart: '2025-01-01',
        contractEnd: '2027-12-31',
        feeRateBps: 300,
      });
      h.engine.script.application = () => ({ outcome: 'REVIEW', reasons: ['R_MANUAL_REVIEW'] });
      const referred = await h.core.submitApplication({
        applicant: { name: '复核客户', nationalId: residentId('19920202', 92), phone: '13500009292' },
        attributes: {},
        channel: { partnerId: partner.id, fundingMode: 'SELF_FUNDED' },
      });
      expect(referred.outcome).toBe('REVIEW');
      // The approval stalls inside its transaction right after it read the channel (a GC pause, a busy CPU).
      const stall = stallOnce();
      const stalling: CoreDeps = {
        ...h.deps,
        lending: {
          ...h.deps.lending,
          partner: async (id, tx, lock) => {
            const row = await h.deps.lending.partner(id, tx, lock);
            if (tx !== undefined && id === partner.id) await stall.pause();
            return row;
          },
        },
      };
      const approving = store.transaction((tx) =>
        approveReviewInTx(stalling, tx, referred.applicationId, {
          actor: 'user:analyst',
          limitMinor: 1_000_000,
          annualRate: 0.12,
        }),
      );
      await Promise.race([
        stall.paused,
        approving.then(() => {
          throw new Error('the approval never read the channel in its transaction');
        }),
      ]);
      // The suspension is sent meanwhile: it waits for the approval's transaction, which opens the line before it.
      let answered = false;
      const suspending = h.core
        .setPartnerStatus(partner.id, { status: 'SUSPENDED', reason: 'licence review' })
        .then((view) => ((answered = true), view));
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(answered).toBe(false);
      stall.resume();
      const approved = await approving;
      expect((await suspending).status).toBe('SUSPENDED');
      const line = await store.db
        .selectFrom('credit_lines')
        .select(['channel_partner_id', 'partner_fees'])
        .where('id', '=', approved.lineId ?? '')
        .executeTakeFirstOrThrow();
      expect(line.channel_partner_id).toBe(partner.id);
      expect(JSON.parse(line.partner_fees ?? '[]')).toEqual([
        { partnerId: partner.id, type: 'PLATFORM_OPERATOR', feeRateBps: 300 },
      ]);
    });
  });
}
