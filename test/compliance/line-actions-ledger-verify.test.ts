import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestApp } from '../helpers/app.js';
import { appStores } from '../helpers/stores.js';
import {
  APPEAL_CAST,
  applicants,
  client,
  lineWithToken,
  startCaseAppWith,
  type Person,
} from '../cases/helpers.js';
import {
  appCrypto,
  expectCleanBook,
  expectFindings,
  verifyBook,
  verifyCommand,
} from '../helpers/ledger-verify.js';

/**
 * `ledger verify` proves what a line action did and why against its line.action entry, not only its note: the reasons
 * a borrower is shown for a freeze or a cut, the limits, statuses and rate before and after, who did it. Before, only
 * the note was checked: reasons rewritten by SQL, a GRANT's limit raised in its row, an action inserted with no entry
 * or one deleted all verified.
 */
const STORES = appStores('line_actions_verify');

const PHONE = '13900008888';
const FORGED_ACTION = '01900000-0000-7000-8000-0000f0a6ed01';

for (const store of STORES)
  describe.skipIf(!store.enabled)(`ledger verify proves line actions (${store.name})`, () => {
    let t: TestApp;
    let risk: Person;
    let service: Person;
    const applicant = applicants({ name: '陈静', born: '19900303', phone: PHONE, after: 950 });
    /** The line, its GRANT (from opening it) and a freeze a risk analyst applied. */
    const book = { lineId: '', grantId: '', freezeId: '' };
    const db = () => t.app.store.db;
    const rawAction = (id: string) =>
      db().selectFrom('line_actions').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    const verify = () => verifyBook(t, appCrypto(t));

    beforeAll(async () => {
      ({ t, risk, service } = await startCaseAppWith(await store.env(), {
        risk: ['王磊', 'risk_analyst'],
        analyst: APPEAL_CAST.analyst,
        service: APPEAL_CAST.service,
      }));
      const borrower = await lineWithToken(t, service.key, applicant());
      book.lineId = borrower.lineId;
      const frozen = await client(t, risk.key).post(`/v1/lines/${borrower.lineId}/actions`, {
        type: 'FREEZE_DRAW',
        reasons: ['R_UTILISATION_HIGH'],
      });
      expect(frozen.statusCode, frozen.body).toBe(201);
      book.freezeId = frozen.json().actionId as string;
      book.grantId = (
        await db()
          .selectFrom('line_actions')
          .select('id')
          .where('line_id', '=', book.lineId)
          .where('type', '=', 'GRANT')
          .executeTakeFirstOrThrow()
      ).id;
    });
    afterAll(async () => t?.close());

    it('a clean book verifies every line action', async () => {
      await expectCleanBook(t, { facts: {}, secret: PHONE });
      expect((await verify()).facts?.checked.lineActions).toBeGreaterThanOrEqual(2);
    });

    it("a freeze's reasons and outcome, and a GRANT's limit and rate, rewritten in their rows disagree", async () => {
      const freeze = await rawAction(book.freezeId);
      const grant = await rawAction(book.grantId);
      await db()
        .updateTable('line_actions')
        .set({ reasons: JSON.stringify(['R_FRAUD_SUSPECTED']), actor: 'someone-else', automated: 1 })
        .where('id', '=', book.freezeId)
        .execute();
      await db()
        .updateTable('line_actions')
        .set({ new_limit_minor: Number(grant.new_limit_minor) * 10, new_rate: 0.01 })
        .where('id', '=', book.grantId)
        .execute();
      const found = await verify();
      await db().updateTable('line_actions').set(freeze).where('id', '=', book.freezeId).execute();
      await db().updateTable('line_actions').set(grant).where('id', '=', book.grantId).execute();
      const at = (id: string, field: string, row: unknown, ledger: unknown) => ({
        table: 'line_actions',
        id,
        field,
        row,
        ledger,
      });
      expectFindings(found.facts?.mismatches, [
        at(book.freezeId, 'reasons', ['R_FRAUD_SUSPECTED'], ['R_UTILISATION_HIGH']),
        at(book.freezeId, 'actor', 'someone-else', freeze.actor),
        at(book.freezeId, 'automated', true, false),
        at(book.grantId, 'limitMinor', Number(grant.new_limit_minor) * 10, Number(grant.new_limit_minor)),
        at(book.grantId, 'annualRate', 0.01, Number(grant.new_rate)),
      ]);
      expect((await verify()).ok).toBe(true);
    });

    it('an action inserted with no entry, and one deleted from its line, disagree (exit 3)', async () => {
      const freeze = await rawAction(book.freezeId);
      await db()
        .insertInto('line_actions')
        .values({ ...freeze, id: FORGED_ACTION, reasons: JSON.stringify(['R_DELINQUENT']) })
        .execute();
      await db().deleteFrom('line_actions').where('id', '=', book.freezeId).execute();
      const found = await verify();
      const command = await verifyCommand(t, appCrypto(t));
      await db().deleteFrom('line_actions').where('id', '=', FORGED_ACTION).execute();
      await db().insertInto('line_actions').values(freeze).execute();
      expectFindings(found.facts?.mismatches, [
        {
          table: 'line_actions',
          id: FORGED_ACTION,
          field: '(ledger entry)',
          row: 'present',
          ledger: 'missing',
        },
        { table: 'line_actions', id: book.freezeId, field: '(row)', row: 'missing', ledger: 'present' },
      ]);
      expect(command.exit).toBe(3);
      expect(command.out).toContain(`FACT line_actions ${FORGED_ACTION} (ledger entry)`);
      expect((await verify()).ok).toBe(true);
    });
  });
