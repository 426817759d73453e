import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedDemo, type CoreServices } from '../../src/core/index.js';
import { openStore, type Store } from '../../src/store/db.js';
import { coreWithBundledEngine } from '../core/harness.js';

describe('the demo book: two products, a partner channel and a co-lent line', () => {
  let store: Store;
  let core: CoreServices;

  beforeAll(async () => {
    store = await openStore({ sqlitePath: ':memory:' });
    ({ core } = await coreWithBundledEngine(store));
  });
  afterAll(async () => store?.close());

  it('seeds through the real flows; the co-lent loan is the quoted one', async () => {
    const seeded = await seedDemo(core, { borrowers: 2, lending: true });
    expect(seeded.lending).toMatchObject({ products: 2, partners: 3 });
    expect(seeded.lending?.coLentLineId).toBeTruthy();
    expect(seeded.lending?.quotedLoanId).toBeTruthy();
    expect((await core.listProducts()).map((p) => p.id)).toEqual(['daily-flex', 'instalment-12']);
    const line = await store.db
      .selectFrom('credit_lines')
      .selectAll()
      .where('id', '=', seeded.lending?.coLentLineId ?? '')
      .executeTakeFirstOrThrow();
    expect(line).toMatchObject({ funding_mode: 'CO_LENDING', product_id: 'daily-flex' });
    const loan = await core.getLoan(seeded.lending?.quotedLoanId ?? '');
    expect(loan).toMatchObject({
      principalMinor: 1_000_000,
      method: 'DAILY_INTEREST',
      purpose: 'HOME_APPLIANCES',
    });
    expect(loan.accrual?.dailyRate).toBeGreaterThan(0);
  });
});
