import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/domain/clock.js';
import { seededRandom } from '../../src/domain/random.js';
import { adminHeaders, startTestApp, STRONG_APPLICANT, type TestApp } from '../helpers/app.js';
import { residentId } from '../core/harness.js';
import { appCrypto, verifyBook, verifyCommand } from '../helpers/ledger-verify.js';

/**
 * README (ledger): `ledger verify --against` catches "fact rows (decisions, lines …, loans, …) that disagree with the
 * ledger or are missing from it, rows the ledger records that are gone". A loan (a disbursement the ledger records as
 * `loan.disbursed`) or a credit line (its GRANT `line.action`) deleted from its table is such a row.
 */
describe('a loan or a line the ledger records, deleted from its table', () => {
  const clock = new ManualClock(Date.UTC(2026, 5, 1, 9));
  let t: TestApp;
  let n = 0;
  const post = (url: string, payload: object) =>
    t.server.inject({ method: 'POST', url, headers: adminHeaders(`lm-${++n}`), payload });

  beforeAll(async () => {
    t = await startTestApp({}, { clock, random: seededRandom(5) });
  });
  afterAll(async () => {
    await sql`PRAGMA foreign_keys = ON`.execute(t.app.store.db);
    await t?.close();
  });

  async function lineWithLoan(seq: number) {
    const applied = await post('/v1/applications', {
      applicant: { name: '赵敏', nationalId: residentId('19800101', seq), phone: '13811112222' },
      attributes: STRONG_APPLICANT,
    });
    expect(applied.statusCode, applied.body).toBe(201);
    const lineId = applied.json().line.id as string;
    const draw = await post(`/v1/lines/${lineId}/draws`, {
      amountMinor: 300_000,
      currency: 'CNY',
      termMonths: 6,
      method: 'EQUAL_INSTALLMENT',
    });
    expect(draw.statusCode, draw.body).toBe(201);
    return { lineId, loanId: draw.json().loan.id as string };
  }

  /** Deletes rows as someone with the database file would (foreign keys off for the statement). */
  async function deleteRows(table: 'loans' | 'credit_lines', id: string) {
    await sql`PRAGMA foreign_keys = OFF`.execute(t.app.store.db);
    await t.app.store.db.deleteFrom(table).where('id', '=', id).execute();
    await sql`PRAGMA foreign_keys = ON`.execute(t.app.store.db);
  }

  it('a deleted loan is found', async () => {
    const { loanId } = await lineWithLoan(61);
    expect((await verifyBook(t, appCrypto(t))).ok).toBe(true);
    const row = await t.app.store.db
      .selectFrom('loans')
      .selectAll()
      .where('id', '=', loanId)
      .executeTakeFirstOrThrow();
    await deleteRows('loans', loanId);
    try {
      const served = await t.server.inject({
        method: 'GET',
        url: `/v1/loans/${loanId}`,
        headers: adminHeaders(),
      });
      expect(served.statusCode).toBe(404);
      const found = await verifyBook(t, appCrypto(t));
      const command = await verifyCommand(t, appCrypto(t));
      // The disbursed loan vanished from what the API serves: verify names it and exits 3.
      expect(found.facts?.mismatches).toEqual(
        expect.arrayContaining([expect.objectContaining({ table: 'loans', id: loanId })]),
      );
      expect(found.ok).toBe(false);
      expect(command.exit).toBe(3);
    } finally {
      await sql`PRAGMA foreign_keys = OFF`.execute(t.app.store.db);
      await t.app.store.db.insertInto('loans').values(row).execute();
      await sql`PRAGMA foreign_keys = ON`.execute(t.app.store.db);
    }
  });

  it('a deleted credit line is found', async () => {
    const applied = await post('/v1/applications', {
      applicant: { name: '周芷', nationalId: residentId('19800101', 62), phone: '13811113333' },
      attributes: STRONG_APPLICANT,
    });
    const lineId = applied.json().line.id as string;
    expect((await verifyBook(t, appCrypto(t))).ok).toBe(true);
    const row = await t.app.store.db
      .selectFrom('credit_lines')
      .selectAll()
      .where('id', '=', lineId)
      .executeTakeFirstOrThrow();
    await deleteRows('credit_lines', lineId);
    try {
      const served = await t.server.inject({
        method: 'GET',
        url: `/v1/lines/${lineId}`,
        headers: adminHeaders(),
      });
      expect(served.statusCode).toBe(404);
      const found = await verifyBook(t, appCrypto(t));
      expect(found.facts?.mismatches).toEqual(
        expect.arrayContaining([expect.objectContaining({ table: 'credit_lines', id: lineId })]),
      );
      expect(found.ok).toBe(false);
    } finally {
      await sql`PRAGMA foreign_keys = OFF`.execute(t.app.store.db);
      await t.app.store.db.insertInto('credit_lines').values(row).execute();
      await sql`PRAGMA foreign_keys = ON`.execute(t.app.store.db);
    }
  });
});
