import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/db.js';
import { ADULT, makeCore } from '../core/harness.js';
import { MS_DAY } from './helpers.js';

/**
 * Monthly loans on a line without a product (the scheduled path, src/core/allocation.ts), drawn and repaid on random
 * dates through the core: every repayment is a share of the payoff the loan view quotes that day, a share of 1 being
 * the payoff itself.
 */
type Op =
  | {
      kind: 'draw';
      afterDays: number;
      amountMinor: number;
      method: 'EQUAL_INSTALLMENT' | 'EQUAL_PRINCIPAL' | 'INTEREST_ONLY';
    }
  | { kind: 'repay'; afterDays: number; loan: number; share: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    kind: fc.constant('draw' as const),
    afterDays: fc.integer({ min: 0, max: 40 }),
    amountMinor: fc.integer({ min: 10_000, max: 1_500_000 }),
    method: fc.constantFrom(
      'EQUAL_INSTALLMENT' as const,
      'EQUAL_PRINCIPAL' as const,
      'INTEREST_ONLY' as const,
    ),
  }),
  fc.record({
    kind: fc.constant('repay' as const),
    afterDays: fc.integer({ min: 0, max: 40 }),
    loan: fc.nat(),
    share: fc.oneof(fc.constant(1), fc.double({ min: 0.01, max: 1, noNaN: true })),
  }),
);

interface Tracked {
  id: string;
  drawn: number;
  scheduledInterest: number;
  principalPaid: number;
  interestPaid: number;
  settled: boolean;
}

const LIMIT = 5_000_000;

describe('property: a book of monthly loans without a product, repaid early on random dates (SQLite, through the core)', () => {
  it('conserves principal on every loan and the line, charges no more interest than scheduled, and the quoted payoff settles to the fen', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 12 }), async (ops) => {
        const store = await openStore({ sqlitePath: ':memory:' });
        try {
          const h = makeCore(store);
          h.engine.script.draw = () => ({ outcome: 'APPROVE' });
          h.engine.script.application = () => ({ outcome: 'APPROVE', limitMinor: LIMIT, annualRate: 0.18 });
          const app = await h.core.submitApplication({ applicant: ADULT, attributes: {} });
          const lineId = app.line?.id ?? '';
          const loans: Tracked[] = [];
          for (const op of ops) {
            h.clock.advance(op.afterDays * MS_DAY);
            if (op.kind === 'draw') {
              const line = await h.core.getLine(lineId);
              if (op.amountMinor > line.availableMinor) continue;
              const r = await h.core.requestDraw(lineId, {
                amountMinor: op.amountMinor,
                currency: 'CNY',
                termMonths: 6,
                method: op.method,
              });
              loans.push({
                id: r.loan?.id ?? '',
                drawn: op.amountMinor,
                scheduledInterest: r.loan?.disclosure.totalInterestMinor ?? 0,
                principalPaid: 0,
                interestPaid: 0,
                settled: false,
              });
              continue;
            }
            const open = loans.filter((l) => !l.settled);
            const loan = open[op.loan % Math.max(1, open.length)];
            if (!loan) continue;
            const payoff = (await h.core.getLoan(loan.id)).payoffToday;
            expect(payoff).toBeDefined();
            const owed = payoff?.payoffMinor ?? 0;
            const amount = Math.max(1, Math.min(owed, Math.floor(owed * op.share)));
            const paid = await h.core.repay(loan.id, { amountMinor: amount, currency: 'CNY' });
            loan.principalPaid += paid.allocated.principalMinor;
            loan.interestPaid += paid.allocated.interestMinor;
            const after = paid.loan;
            expect(loan.principalPaid + after.outstandingPrincipalMinor).toBe(loan.drawn);
            expect(loan.interestPaid).toBeLessThanOrEqual(loan.scheduledInterest);
            if (amount === owed) {
              // The quoted payoff is exactly what the repayment charged, and nothing is left: no stray fen.
              expect(paid.allocated).toMatchObject({
                interestMinor: payoff?.interestMinor,
                principalMinor: payoff?.principalMinor,
              });
              expect(after.status).toBe('SETTLED');
              expect(after.schedule.every((i) => i.outstandingMinor === 0)).toBe(true);
            }
            loan.settled = after.status === 'SETTLED';
            if (!loan.settled)
              expect((await h.core.getLoan(loan.id)).payoffToday?.payoffMinor).toBeGreaterThan(0);
          }
          const line = await h.core.getLine(lineId);
          const outstanding = loans.reduce((s, l) => s + l.drawn - l.principalPaid, 0);
          expect(line.outstandingPrincipalMinor).toBe(outstanding);
          expect(line.availableMinor).toBe(LIMIT - outstanding);
        } finally {
          await store.close();
        }
      }),
      { numRuns: 25 },
    );
  });
});
