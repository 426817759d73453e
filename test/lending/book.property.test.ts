import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { dailyInterestMinor } from '../../src/domain/accrual.js';
import { isoDate } from '../../src/domain/clock.js';
import { openStore } from '../../src/store/db.js';
import { ADULT, makeCore } from '../core/harness.js';
import { MS_DAY } from './helpers.js';

const RATE = 0.1825;

type Op =
  | { kind: 'draw'; afterDays: number; amountMinor: number; method: 'DAILY_INTEREST' | 'EQUAL_INSTALLMENT' }
  | { kind: 'repay'; afterDays: number; loan: number; share: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    kind: fc.constant('draw' as const),
    afterDays: fc.integer({ min: 0, max: 20 }),
    amountMinor: fc.integer({ min: 10_000, max: 1_500_000 }),
    method: fc.constantFrom('DAILY_INTEREST' as const, 'EQUAL_INSTALLMENT' as const),
  }),
  fc.record({
    kind: fc.constant('repay' as const),
    afterDays: fc.integer({ min: 0, max: 20 }),
    loan: fc.nat(),
    share: fc.double({ min: 0.01, max: 1, noNaN: true }),
  }),
);

interface Tracked {
  id: string;
  drawn: number;
  /** Reference model: balance and the date interest was last settled to. */
  balance: number;
  since: string;
  interestExpected: number;
  interestPaid: number;
  principalPaid: number;
}

describe('property: a book of draws and repayments on random dates (SQLite, through the core)', () => {
  it('conserves principal on every loan and the line, and charges exactly the daily accruals', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 12 }), async (ops) => {
        const store = await openStore({ sqlitePath: ':memory:' });
        try {
          const h = makeCore(store);
          h.engine.script.draw = () => ({ outcome: 'APPROVE' });
          h.engine.script.application = () => ({
            outcome: 'APPROVE',
            limitMinor: 5_000_000,
            annualRate: RATE,
          });
          await h.core.createProduct({
            id: 'daily',
            terms: {
              name: 'daily',
              currency: 'CNY',
              rateMin: 0.01,
              rateMax: RATE,
              dayCount: 'ACT_365',
              termsMonths: [12],
              methods: ['DAILY_INTEREST', 'EQUAL_INSTALLMENT'],
              amountMinMinor: 1,
              amountMaxMinor: 5_000_000,
              upfrontFee: { rateBps: 0, capMinor: 0 },
              periodicFee: { rateBps: 0, capMinor: 0 },
              lateFee: { amountMinor: 0, capMinor: 0 },
              penaltyMultiplier: 1.5,
              graceDays: 3,
              aprCapPercent: 24,
              prepayment: 'REAMORTISE',
              forbidLoanRepayment: true,
            },
          });
          const app = await h.core.submitApplication({
            applicant: ADULT,
            attributes: {},
            productId: 'daily',
          });
          const lineId = app.line?.id ?? '';
          const loans: Tracked[] = [];
          for (const op of ops) {
            h.clock.advance(op.afterDays * MS_DAY);
            const today = isoDate(h.clock.now());
            if (op.kind === 'draw') {
              const line = await h.core.getLine(lineId);
              if (op.amountMinor > line.availableMinor) continue;
              const r = await h.core.requestDraw(lineId, {
                amountMinor: op.amountMinor,
                currency: 'CNY',
                termMonths: 12,
                method: op.method,
              });
              const id = r.loan?.id ?? '';
              loans.push({
                id,
                drawn: op.amountMinor,
                balance: op.amountMinor,
                since: today,
                interestExpected: 0,
                interestPaid: 0,
                principalPaid: 0,
              });
              continue;
            }
            const open = loans.filter((l) => l.balance > 0);
            const loan = open[op.loan % Math.max(1, open.length)];
            if (!loan) continue;
            const view = await h.core.getLoan(loan.id);
            const payoff = view.accrual?.owedToday.payoffMinor ?? 0;
            if (payoff === 0) continue;
            // The reference: every day since the last settlement accrued on the balance at its start.
            const days = (Date.parse(today) - Date.parse(loan.since)) / MS_DAY;
            const accrued = days * dailyInterestMinor(loan.balance, RATE, 'ACT_365');
            const amount = Math.max(1, Math.min(payoff, Math.floor(payoff * op.share)));
            const paid = await h.core.repay(loan.id, { amountMinor: amount, currency: 'CNY' });
            loan.interestExpected += accrued;
            loan.interestPaid += paid.allocated.interestMinor;
            loan.principalPaid += paid.allocated.principalMinor;
            loan.balance -= paid.allocated.principalMinor;
            loan.since = today;
            const after = await h.core.getLoan(loan.id);
            expect(after.outstandingPrincipalMinor).toBe(loan.balance);
            expect(loan.principalPaid + after.outstandingPrincipalMinor).toBe(loan.drawn);
            const unpaid = after.accrual?.owedToday.interestMinor ?? 0;
            expect(loan.interestPaid + unpaid).toBe(loan.interestExpected);
          }
          const line = await h.core.getLine(lineId);
          const outstanding = loans.reduce((s, l) => s + l.balance, 0);
          expect(line.outstandingPrincipalMinor).toBe(outstanding);
          expect(line.availableMinor).toBe(5_000_000 - outstanding);
        } finally {
          await store.close();
        }
      }),
      { numRuns: 25 },
    );
  });
});
