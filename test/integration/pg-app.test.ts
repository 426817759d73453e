import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createIsolatedPostgresSchema } from '../../src/store/db.js';
import { STRONG_APPLICANT, adminHeaders, startTestApp, type TestApp } from '../helpers/app.js';
import { residentId } from '../core/harness.js';
import { TEST_DATABASE_URL } from '../helpers/stores.js';
import { verifyLedger } from '../../src/compliance/ledger.js';

/** The whole application on PostgreSQL, as `LINEGUARD_DATABASE_URL` selects it: migrations, bundled strategies, seed. */
describe.skipIf(!TEST_DATABASE_URL)('the app on PostgreSQL', () => {
  let t: TestApp;
  beforeAll(async () => {
    const url = await createIsolatedPostgresSchema(TEST_DATABASE_URL ?? '', 'app');
    t = await startTestApp({ LINEGUARD_DATABASE_URL: url });
  });
  afterAll(async () => t?.close());

  it('decides an application and a draw, and keeps the ledger intact', async () => {
    const applied = await t.server.inject({
      method: 'POST',
      url: '/v1/applications',
      headers: adminHeaders('pg-app-1'),
      payload: {
        applicant: { name: '韩梅梅', nationalId: residentId('19850606', 456), phone: '13700002222' },
        attributes: STRONG_APPLICANT,
      },
    });
    expect(applied.statusCode, applied.body).toBe(201);
    expect(t.app.store.kind).toBe('postgres');
    const body = applied.json();
    expect(body.outcome).toBe('APPROVE');
    const draw = await t.server.inject({
      method: 'POST',
      url: `/v1/lines/${body.line.id}/draws`,
      headers: adminHeaders('pg-draw-1'),
      payload: { amountMinor: 100_000, currency: 'CNY', termMonths: 6, method: 'EQUAL_PRINCIPAL' },
    });
    expect(draw.statusCode, draw.body).toBe(201);
    const decision = await t.server.inject({
      method: 'GET',
      url: `/v1/decisions/${body.decisionId}`,
      headers: adminHeaders(),
    });
    expect(decision.statusCode).toBe(200);
    expect((await verifyLedger(t.app.store.db)).ok).toBe(true);
  });
});
