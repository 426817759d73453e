import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminHeaders, startTestApp, STRONG_APPLICANT, type TestApp } from '../helpers/app.js';
import { residentId } from '../core/harness.js';

/**
 * README "Personal data at rest": a sealed value that fails to open answers `500 LG_SEALED_DATA_UNREADABLE`; the
 * borrower's name, national ID and phone are sealed values. A borrower's altered name must answer that stable code,
 * not the generic LG_INTERNAL.
 */
describe('a borrower whose sealed name no key opens', () => {
  let t: TestApp;
  let n = 0;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => t?.close());

  it('GET /v1/lines/:id answers LG_SEALED_DATA_UNREADABLE', async () => {
    const applied = await t.server.inject({
      method: 'POST',
      url: '/v1/applications',
      headers: adminHeaders(`bu-${++n}`),
      payload: {
        applicant: { name: '张伟', nationalId: residentId('19800101', 31), phone: '13811112222' },
        attributes: STRONG_APPLICANT,
      },
    });
    expect(applied.statusCode, applied.body).toBe(201);
    const row = await t.app.store.db
      .selectFrom('borrowers')
      .select('name_enc')
      .where('id', '=', applied.json().borrowerId)
      .executeTakeFirstOrThrow();
    // One character of the ciphertext changed.
    const tampered =
      row.name_enc.slice(0, -3) + (row.name_enc.at(-3) === 'A' ? 'B' : 'A') + row.name_enc.slice(-2);
    await t.app.store.db
      .updateTable('borrowers')
      .set({ name_enc: tampered })
      .where('id', '=', applied.json().borrowerId)
      .execute();
    const line = await t.server.inject({
      method: 'GET',
      url: `/v1/lines/${applied.json().line.id}`,
      headers: adminHeaders(),
    });
    expect(line.statusCode).toBe(500);
    expect(line.json().error.code).toBe('LG_SEALED_DATA_UNREADABLE');
  });
});
