import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MS_PER_DAY, isoDate } from '../../src/domain/clock.js';
import { verifyLedger } from '../../src/compliance/ledger.js';
import { seedDemo, type CoreServices } from '../../src/core/index.js';
import { openStore, type Store } from '../../src/store/db.js';
import { coreWithBundledEngine, type Harness } from './harness.js';

describe('the core with the real engine, bundled strategies and the bundled scorecard', () => {
  let store: Store;
  let h: Harness;
  let core: CoreServices;

  beforeAll(async () => {
    store = await openStore({ sqlitePath: ':memory:' });
    ({ h, core } = await coreWithBundledEngine(store));
  });
  afterAll(async () => {
    await store?.close();
  });

  it('seeds the demo book once, through the real application flow, deterministically', async () => {
    const first = await seedDemo(core);
    expect(first.seeded).toBe(true);
    expect(first.applications).toBe(20);
    expect(first.approved).toBeGreaterThan(3);
    expect(first.draws).toBeGreaterThan(0);
    expect((await seedDemo(core)).seeded).toBe(false);
    const decisions = await store.db.selectFrom('decisions').select('kind').execute();
    expect(decisions.filter((d) => d.kind === 'application')).toHaveLength(20);

    // The same seed, clock and id source give the same book.
    const other = await openStore({ sqlitePath: ':memory:' });
    try {
      const { core: core2 } = await coreWithBundledEngine(other);
      expect(await seedDemo(core2)).toEqual(first);
      const limits = async (s: Store) =>
        (
          await s.db
            .selectFrom('credit_lines')
            .select(['limit_minor', 'outstanding_minor'])
            .orderBy('id')
            .execute()
        ).map((r) => [Number(r.limit_minor), Number(r.outstanding_minor)]);
      expect(await limits(other)).toEqual(await limits(store));
    } finally {
      await other.close();
    }
  });

  it('ages a late loan and the review job suspends its line through line-review', async () => {
    const loan = await store.db
      .selectFrom('loans')
      .selectAll()
      .where('status', '=', 'ACTIVE')
      .orderBy('id')
      .executeTakeFirstOrThrow();
    const firstDue = await store.db
      .selectFrom('loan_installments')
      .select('due_date')
      .where('loan_id', '=', loan.id)
      .where('settled_at', 'is', null)
      .orderBy('period')
      .executeTakeFirstOrThrow();
    const asOf = isoDate(Date.parse(`${firstDue.due_date}T00:00:00Z`) + 40 * MS_PER_DAY);
    h.clock.set(Date.parse(`${asOf}T01:00:00Z`));
    const daily = await core.runDailyJob(asOf);
    expect(daily.bucketChanges.some((c) => c.loanId === loan.id && c.to === 'M2')).toBe(true);
    const review = await core.runReviewJob(asOf);
    expect(review.errors).toEqual([]);
    const action = review.actions.find((a) => a.lineId === loan.line_id);
    // No guard is configured here, so the automated suspension takes effect.
    expect(action).toMatchObject({ type: 'SUSPEND', outcome: 'APPLIED', reasons: ['R_DAYS_PAST_DUE'] });
    const line = await core.getLine(loan.line_id);
    expect(line.status).toBe('SUSPENDED');
    const explanation = await core.explainLine(loan.line_id, 'en');
    expect(explanation.reasons[0]?.code).toBe('R_DAYS_PAST_DUE');
    expect(explanation.automated).toBe(true);
    expect((await verifyLedger(store.db)).ok).toBe(true);
  });
});
