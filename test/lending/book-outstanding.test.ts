import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../../src/store/db.js';
import { bookShareInTx } from '../../src/store/lending.js';
import { STORE_FACTORIES } from '../helpers/stores.js';
import { makeCore, residentId, type Harness } from '../core/harness.js';

/**
 * The partner-concentration check reads the book's and a channel's outstanding from book_outstanding, which triggers
 * on credit_lines keep (migration 126) instead of summing the book per draw. They must equal the sums over the lines
 * after every kind of write: lines granted, draws, repayments, a channel changed and a line deleted by hand.
 */
async function sumsOfLines(store: Store): Promise<Record<string, number>> {
  const rows = await sql<{ partner: string; total: number | string }>`
    select coalesce(channel_partner_id, '') as partner, sum(outstanding_minor) as total
    from credit_lines group by 1`.execute(store.db);
  return Object.fromEntries(rows.rows.map((r) => [r.partner, Number(r.total)]).filter(([, t]) => t !== 0));
}

async function keptSums(store: Store): Promise<Record<string, number>> {
  const rows = await sql<{ partner: string; total: number | string }>`
    select partner_id as partner, sum(outstanding_minor) as total from book_outstanding group by 1`.execute(
    store.db,
  );
  return Object.fromEntries(rows.rows.map((r) => [r.partner, Number(r.total)]).filter(([, t]) => t !== 0));
}

const DRAW = { currency: 'CNY', termMonths: 12, method: 'EQUAL_INSTALLMENT' as const };

for (const factory of STORE_FACTORIES) {
  describe.skipIf(!factory.enabled)(`book_outstanding on ${factory.name}`, () => {
    let store: Store;
    let h: Harness;
    beforeAll(async () => {
      store = await factory.open('book_outstanding');
      h = makeCore(store, { seed: 41 });
      h.engine.script.application = () => ({ outcome: 'APPROVE', limitMinor: 5_000_000, annualRate: 0.12 });
      h.engine.script.draw = () => ({ outcome: 'APPROVE' });
    });
    afterAll(async () => store.close());

    it('equals the sums over credit_lines after grants, draws, repayments, a channel change and a delete', async () => {
      const partner = await h.core.createPartner({
        name: '账本平台',
        type: 'PLATFORM_OPERATOR',
        licenceNo: 'BOOK-1',
        contractStart: '2025-01-01',
        contractEnd: '2027-12-31',
        concentrationMax: 0.9,
      });
      let seq = 700;
      const open = async (channel: boolean) => {
        const applied = await h.core.submitApplication({
          applicant: { name: '账本客户', nationalId: residentId('19920101', ++seq), phone: `1350002${seq}` },
          attributes: {},
          ...(channel ? { channel: { partnerId: partner.id, fundingMode: 'SELF_FUNDED' as const } } : {}),
        });
        if (!applied.line) throw new Error(`not approved: ${applied.outcome}`);
        return applied.line.id;
      };
      const direct = await open(false);
      const channelled = [await open(true), await open(true)];
      await h.core.requestDraw(direct, { ...DRAW, amountMinor: 1_000_000 });
      const drawn = await Promise.all(
        channelled.map((lineId, i) =>
          h.core.requestDraw(lineId, { ...DRAW, amountMinor: 100_000 * (i + 1) }),
        ),
      );
      expect(await keptSums(store)).toEqual(await sumsOfLines(store));
      expect(await keptSums(store)).toEqual({ '': 1_000_000, [partner.id]: 300_000 });

      const loanId = drawn[1]!.loan!.id;
      await h.core.repay(loanId, { amountMinor: 50_000, currency: 'CNY' });
      expect(await keptSums(store)).toEqual(await sumsOfLines(store));

      // Writers that are not the core's: a channel moved and a line deleted by hand.
      await sql`update credit_lines set channel_partner_id = null where id = ${channelled[0]}`.execute(
        store.db,
      );
      expect(await keptSums(store)).toEqual(await sumsOfLines(store));
      await sql`update credit_lines set outstanding_minor = outstanding_minor + 7, channel_partner_id = ${partner.id}
        where id = ${direct}`.execute(store.db);
      expect(await keptSums(store)).toEqual(await sumsOfLines(store));
      await sql`delete from loan_installments where loan_id in (select id from loans where line_id = ${channelled[1]})`.execute(
        store.db,
      );
      await sql`delete from credit_lines where id = ${channelled[1]}`.execute(store.db);
      expect(await keptSums(store)).toEqual(await sumsOfLines(store));

      const lines = await sumsOfLines(store);
      const share = await store.transaction((tx) => bookShareInTx(tx, store.kind, partner.id));
      expect(share).toEqual({
        totalMinor: Object.values(lines).reduce((a, b) => a + b, 0),
        partnerMinor: lines[partner.id] ?? 0,
      });
    });

    // Last: it empties the book. TRUNCATE fires no row triggers, so the sums need a statement trigger of their own.
    it.runIf(factory.name === 'postgres')('is emptied with the lines by a TRUNCATE', async () => {
      expect(Object.keys(await sumsOfLines(store)).length).toBeGreaterThan(0);
      await sql`truncate credit_lines cascade`.execute(store.db);
      expect(await keptSums(store)).toEqual({});
    });
  });
}
