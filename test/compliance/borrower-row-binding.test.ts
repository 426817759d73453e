import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { adminHeaders, startTestApp, STRONG_APPLICANT, type TestApp } from '../helpers/app.js';
import { residentId } from '../core/harness.js';

/**
 * README "Personal data at rest": each value is bound to its column and row, so a value copied to another row fails to
 * open (500 LG_SEALED_DATA_UNREADABLE) rather than showing as that row's. Borrowers' name, national ID and phone were
 * bound to their column only: copied onto another borrower's row, they showed as that borrower's.
 */
describe("a borrower's sealed personal data copied onto another borrower's row", () => {
  let t: TestApp;
  let n = 0;
  let seq = 10;
  const post = (url: string, payload: object) =>
    t.server.inject({ method: 'POST', url, headers: adminHeaders(`rb-${++n}`), payload });
  const get = (url: string) => t.server.inject({ method: 'GET', url, headers: adminHeaders() });
  const apply = async (name: string, phone: string) => {
    const res = await post('/v1/applications', {
      applicant: { name, nationalId: residentId('19800101', ++seq), phone },
      attributes: STRONG_APPLICANT,
    });
    expect(res.statusCode, res.body).toBe(201);
    return { borrowerId: res.json().borrowerId as string, lineId: res.json().line.id as string };
  };
  const rowOf = (borrowerId: string) =>
    t.app.store.db.selectFrom('borrowers').selectAll().where('id', '=', borrowerId).executeTakeFirstOrThrow();
  const copySealed = async (from: string, to: string) => {
    const row = await rowOf(from);
    await t.app.store.db
      .updateTable('borrowers')
      .set({ name_enc: row.name_enc, national_id_enc: row.national_id_enc, phone_enc: row.phone_enc })
      .where('id', '=', to)
      .execute();
  };

  beforeEach(async () => {
    t = await startTestApp();
  });
  afterEach(async () => t?.close());

  it("fails to open instead of showing the other borrower's name, ID and phone", async () => {
    const a = await apply('张伟', '13811112222');
    const b = await apply('李娜', '13933334444');
    await copySealed(a.borrowerId, b.borrowerId);
    const after = await get(`/v1/lines/${b.lineId}`);
    expect(after.statusCode).toBe(500);
    expect(after.json().error.code).toBe('LG_SEALED_DATA_UNREADABLE');
    expect((await get(`/v1/lines/${a.lineId}`)).statusCode).toBe(200);
  });

  it('a value sealed to its column alone (before row binding) still opens, and keys rotate-data binds it to its row', async () => {
    const a = await apply('王芳', '13755556666');
    const b = await apply('赵磊', '13677778888');
    const shown = (await get(`/v1/lines/${a.lineId}`)).json().borrower;
    // A's name as an earlier version sealed it: bound to the column alone.
    await t.app.store.db
      .updateTable('borrowers')
      .set({ name_enc: t.app.crypto.encrypt('王芳', 'borrower.name') })
      .where('id', '=', a.borrowerId)
      .execute();
    expect((await get(`/v1/lines/${a.lineId}`)).json().borrower.name).toBe(shown.name);

    await t.app.core.rekeyBorrowers();
    const rebound = await rowOf(a.borrowerId);
    expect(() => t.app.crypto.decrypt(rebound.name_enc, 'borrower.name')).toThrow();
    expect((await get(`/v1/lines/${a.lineId}`)).json().borrower).toEqual(shown);
    // Bound now: copied onto B's row it no longer opens there.
    await copySealed(a.borrowerId, b.borrowerId);
    expect((await get(`/v1/lines/${b.lineId}`)).json().error.code).toBe('LG_SEALED_DATA_UNREADABLE');
  });
});
