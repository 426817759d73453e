import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, sql } from '../../src/store/db.js';
import { readLedgerRows } from '../../src/compliance/evidence.js';
import { verifyFacts } from '../../src/compliance/facts.js';
import { STRONG_APPLICANT, type TestApp } from '../helpers/app.js';
import { appStores } from '../helpers/stores.js';
import { client, person, startCaseApp, type Person } from '../cases/helpers.js';
import { ADULT, makeCore, openLine, residentId } from './harness.js';

/**
 * "Available" is what the borrower may draw now (src/domain/line.ts availableMinor): the limit's room on an ACTIVE
 * line and 0 on a line that lends nothing — frozen, suspended, closed or revoked — while the limit stays as it is and
 * the status says why. Every view agrees: the line, its explanation, the borrower's own lines and explanation, the
 * console's list, and the ledger's check of the stored facts.
 */
for (const store of appStores('line-available'))
  describe.skipIf(!store.enabled)(`available credit follows the line's status (${store.name})`, () => {
    let t: TestApp;
    let service: Person;
    let lineId: string;
    let loanId: string;
    let limit: number;
    let me: ReturnType<typeof client>;

    beforeAll(async () => {
      ({ t } = await startCaseApp(await store.env()));
      service = await person(t, 'lender-backend', 'service');
      const applied = (
        await client(t, service.key).post('/v1/applications', {
          applicant: { name: '周九', nationalId: residentId('19850505', 55), phone: '13900005555' },
          attributes: STRONG_APPLICANT,
        })
      ).json();
      lineId = applied.line.id;
      limit = applied.line.limitMinor;
      const drawn = await client(t, service.key).post(`/v1/lines/${lineId}/draws`, {
        amountMinor: 100_000,
        currency: 'CNY',
        termMonths: 6,
        method: 'EQUAL_INSTALLMENT',
      });
      expect(drawn.statusCode, drawn.body).toBe(201);
      loanId = drawn.json().loan.id;
      const token = (await client(t, service.key).post(`/v1/borrowers/${applied.borrowerId}/tokens`)).json()
        .token;
      me = client(t, token);
    });
    afterAll(async () => t?.close());

    /** What every view says the line has available, by view. */
    async function availableEverywhere(): Promise<Record<string, number>> {
      const admin = client(t);
      const line = (await admin.get(`/v1/lines/${lineId}`)).json();
      const explained = (await admin.get(`/v1/lines/${lineId}/explanation?lang=en`)).json();
      const mine = (await me.get('/v1/me/lines')).json().items.find((l: { id: string }) => l.id === lineId);
      const myExplanation = (await me.get(`/v1/me/lines/${lineId}/explanation?lang=en`)).json();
      const listed = (await admin.get('/v1/console/lines'))
        .json()
        .items.find((l: { id: string }) => l.id === lineId);
      return {
        line: line.availableMinor,
        explanation: explained.availableMinor,
        me: mine.availableMinor,
        myExplanation: myExplanation.availableMinor,
        console: listed.availableMinor,
      };
    }

    const all = (value: number) => ({
      line: value,
      explanation: value,
      me: value,
      myExplanation: value,
      console: value,
    });

    async function act(type: string, reasons: string[]) {
      const res = await client(t).post(`/v1/lines/${lineId}/actions`, { type, reasons });
      expect(res.statusCode, res.body).toBe(201);
      expect(res.json().outcome).toBe('APPLIED');
    }

    async function repay(amountMinor: number) {
      const res = await client(t, service.key).post(`/v1/loans/${loanId}/repayments`, {
        amountMinor,
        currency: 'CNY',
      });
      expect(res.statusCode, res.body).toBe(201);
    }

    it('an active line shows the limit less what is owed', async () => {
      expect(await availableEverywhere()).toEqual(all(limit - 100_000));
    });

    it('a frozen line shows 0 available, keeps its limit, and gives the room back when unfrozen', async () => {
      await act('FREEZE_DRAW', ['R_ACCOUNT_TAKEOVER']);
      expect(await availableEverywhere()).toEqual(all(0));
      // Principal repaid while frozen does not make anything drawable.
      await repay(20_000);
      expect(await availableEverywhere()).toEqual(all(0));
      const line = (await client(t).get(`/v1/lines/${lineId}`)).json();
      expect(line).toMatchObject({
        status: 'DRAW_FROZEN',
        limitMinor: limit,
        outstandingPrincipalMinor: 80_000,
      });
      await act('UNFREEZE', ['R_RISK_RESOLVED']);
      expect(await availableEverywhere()).toEqual(all(limit - 80_000));
    });

    it('a suspended line shows 0 available until it is reinstated', async () => {
      await act('SUSPEND', ['R_MANUAL_REVIEW']);
      expect(await availableEverywhere()).toEqual(all(0));
      await act('REINSTATE', ['R_RISK_RESOLVED']);
      expect(await availableEverywhere()).toEqual(all(limit - 80_000));
    });

    it('a closed line shows 0 available, also after a repayment, and the stored facts agree with the ledger', async () => {
      await act('CLOSE', ['R_BORROWER_REQUEST']);
      expect(await availableEverywhere()).toEqual(all(0));
      await repay(30_000);
      expect(await availableEverywhere()).toEqual(all(0));
      const line = (await client(t).get(`/v1/lines/${lineId}`)).json();
      expect(line).toMatchObject({ status: 'CLOSED', limitMinor: limit, outstandingPrincipalMinor: 50_000 });
      const facts = await verifyFacts(t.app.store.db, await readLedgerRows(t.app.store.db));
      expect(facts.mismatches).toEqual([]);
    });
  });

describe('a database from before: closed lines that still showed their room', () => {
  it('migration 133 sets available to 0 on lines that do not lend, and leaves active lines as they were', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'lg-available-')), 'db.sqlite');
    const made = await openStore({ sqlitePath: path });
    const h = makeCore(made);
    const open = await openLine(h, 500_000);
    const closed = await openLine(h, 300_000, { ...ADULT, nationalId: residentId('19800101', 77) });
    await h.core.applyLineAction(closed, {
      type: 'CLOSE',
      reasons: ['R_BORROWER_REQUEST'],
      automated: false,
    });
    // As the store left it before: the closed line kept its limit's room, and the migration had not run.
    await sql`update credit_lines set available_minor = limit_minor where id = ${closed}`.execute(made.db);
    await sql`delete from kysely_migration where name = '133_line_available_when_lending'`.execute(made.db);
    await made.close();

    const reopened = await openStore({ sqlitePath: path });
    const rows = await reopened.db
      .selectFrom('credit_lines')
      .select(['id', 'status', 'available_minor'])
      .orderBy('id')
      .execute();
    expect(Object.fromEntries(rows.map((r) => [r.id, [r.status, Number(r.available_minor)]]))).toEqual({
      [open]: ['ACTIVE', 500_000],
      [closed]: ['CLOSED', 0],
    });
    await reopened.close();
  });
});
