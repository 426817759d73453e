import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LgError } from '../../src/domain/errors.js';
import { verifyLedger } from '../../src/compliance/ledger.js';
import type { Store } from '../../src/store/db.js';
import { rowCount, STORE_FACTORIES } from '../helpers/stores.js';
import { makeCore, openLine, residentId, type Harness } from './harness.js';

const DRAWS = 60;
const LIMIT = 1_000_000;

for (const factory of STORE_FACTORIES) {
  describe.skipIf(!factory.enabled)(`concurrent draws on ${factory.name}`, () => {
    let store: Store;
    let h: Harness;
    beforeAll(async () => {
      store = await factory.open('core_concurrency');
      h = makeCore(store, { seed: 11 });
    });
    afterAll(async () => {
      await store?.close();
    });

    it(`${DRAWS} simultaneous draws never over-draw one line`, async () => {
      const lineId = await openLine(h, LIMIT, {
        name: '赵六',
        nationalId: residentId('19800808', 77),
        phone: '13700000000',
      });
      // Amounts sum to well over the limit, so many draws must lose the race for the last of the credit.
      const amounts = Array.from({ length: DRAWS }, (_, i) => 20_000 + ((i * 7919) % 40_000));
      expect(amounts.reduce((a, b) => a + b, 0)).toBeGreaterThan(2 * LIMIT);
      const results = await Promise.allSettled(
        amounts.map((amountMinor, i) =>
          h.core.requestDraw(lineId, {
            amountMinor,
            currency: 'CNY',
            termMonths: 3,
            method: i % 2 ? 'EQUAL_PRINCIPAL' : 'EQUAL_INSTALLMENT',
          }),
        ),
      );
      const approved = results.flatMap((r, i) =>
        r.status === 'fulfilled' && r.value.status === 'APPROVED' ? [amounts[i] ?? 0] : [],
      );
      const refused = results.filter((r) => r.status === 'rejected');
      for (const r of refused) {
        expect((r as PromiseRejectedResult).reason).toBeInstanceOf(LgError);
        expect(((r as PromiseRejectedResult).reason as LgError).code).toBe('LG_INSUFFICIENT_CREDIT');
      }
      expect(approved.length).toBeGreaterThan(10);
      expect(refused.length).toBeGreaterThan(0);
      const line = await h.core.getLine(lineId);
      const sum = approved.reduce((a, b) => a + b, 0);
      expect(line.availableMinor).toBeGreaterThanOrEqual(0);
      expect(line.outstandingPrincipalMinor).toBeLessThanOrEqual(line.limitMinor);
      expect(sum).toBe(LIMIT - line.availableMinor);
      expect(line.outstandingPrincipalMinor).toBe(sum);
      const loans = await store.db
        .selectFrom('loans')
        .select('principal_minor')
        .where('line_id', '=', lineId)
        .execute();
      expect(loans.reduce((a, l) => a + Number(l.principal_minor), 0)).toBe(sum);
      expect((await verifyLedger(store.db)).ok).toBe(true);
    });

    it("repayments racing draws on one line: outstanding is the loans' principal, available the limit less it", async () => {
      const lineId = await openLine(h, LIMIT, {
        name: '孙八',
        nationalId: residentId('19820202', 99),
        phone: '13700000002',
      });
      const draw = (amountMinor: number) =>
        h.core.requestDraw(lineId, {
          amountMinor,
          currency: 'CNY',
          termMonths: 3,
          method: 'EQUAL_PRINCIPAL',
        });
      const first = await Promise.all(Array.from({ length: 10 }, () => draw(90_000)));
      // Every loan repaid in full (principal back to the line) while draws worth more than the line race for it.
      const repayments = first.map(async (r) => {
        const loan = r.loan;
        if (!loan) throw new Error('draw not booked');
        // Repaid in full the day it was drawn: the principal, no interest (core/allocation.ts).
        const owed = loan.payoffToday?.payoffMinor ?? 0;
        expect(owed).toBe(90_000);
        return h.core.repay(loan.id, { amountMinor: owed, currency: 'CNY' });
      });
      const draws = Array.from({ length: 30 }, (_, i) => draw(40_000 + ((i * 7919) % 20_000)));
      const results = await Promise.allSettled([...repayments, ...draws]);
      for (const r of results.slice(0, 10)) expect(r.status).toBe('fulfilled');
      for (const r of results.slice(10)) {
        if (r.status === 'rejected') expect((r.reason as LgError).code).toBe('LG_INSUFFICIENT_CREDIT');
      }
      const line = await h.core.getLine(lineId);
      const loans = await store.db
        .selectFrom('loans')
        .select(['principal_minor', 'outstanding_principal_minor'])
        .where('line_id', '=', lineId)
        .execute();
      const outstanding = loans.reduce((a, l) => a + Number(l.outstanding_principal_minor), 0);
      expect(loans.length).toBeGreaterThan(10);
      expect(line.outstandingPrincipalMinor).toBe(outstanding);
      expect(line.availableMinor).toBe(LIMIT - outstanding);
      expect(outstanding).toBeLessThanOrEqual(LIMIT);
      const repaid = await store.db
        .selectFrom('repayments')
        .select((eb) => eb.fn.sum<number>('principal_minor').as('p'))
        .where('line_id', '=', lineId)
        .executeTakeFirstOrThrow();
      expect(Number(repaid.p)).toBe(900_000);
      expect(loans.reduce((a, l) => a + Number(l.principal_minor), 0) - Number(repaid.p)).toBe(outstanding);
    });

    it('simultaneous first applications of one person make one borrower, whom every application names', async () => {
      const applicant = { name: '钱七', nationalId: residentId('19850505', 88), phone: '13700000001' };
      const borrowers = () => rowCount(store, 'borrowers');
      const before = await borrowers();
      // Every application looks the person up before its transaction and finds nobody: each tries the insert.
      const results = await Promise.allSettled(
        Array.from({ length: 8 }, () =>
          h.core.submitApplication({ applicant, attributes: { monthlyIncomeMinor: 1_000_000 } }),
        ),
      );
      expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
      const named = new Set(results.flatMap((r) => (r.status === 'fulfilled' ? [r.value.borrowerId] : [])));
      expect(named.size).toBe(1);
      expect(await borrowers()).toBe(before + 1);
      const applications = await store.db
        .selectFrom('applications')
        .select('borrower_id')
        .where('borrower_id', 'in', [...named])
        .execute();
      expect(applications).toHaveLength(8);
    });
  });
}
