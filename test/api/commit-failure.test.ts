import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import type { Store } from '../../src/store/index.js';
import {
  APPLICANT_ONLY,
  STRONG_APPLICANT,
  adminHeaders,
  startTestApp,
  type TestApp,
} from '../helpers/app.js';
import { appStores, rowCount } from '../helpers/stores.js';
import { residentId } from '../core/harness.js';

/**
 * A write whose transaction fails at COMMIT, after its unit inserted the Idempotency-Key: nothing committed, so the
 * key must leave no trace and a retry with it must run the write again. The unit hears that its claim was inserted
 * before the COMMIT; an answer stored on that word alone (a 500 stored over the key) would be replayed to every retry
 * of a write that never happened. The failure is a constraint checked only at COMMIT, set off by the key's own row:
 * on PostgreSQL a deferred constraint trigger, on SQLite a deferred foreign key.
 */
const DOOMED_KEY = 'doomed-at-commit';

const STORES = appStores('commit_failure');

/**
 * Makes every transaction that inserts a row of `table` matching `when` (SQL over `new`) fail at its COMMIT, and only
 * there.
 */
async function failCommitsOn(store: Store, table: DoomedTable, when: string): Promise<void> {
  if (store.kind === 'postgres') {
    await sql`create or replace function doom_at_commit() returns trigger language plpgsql as $$
      begin raise exception 'this row fails at commit in this test'; end $$`.execute(store.db);
    await sql
      .raw(
        `create constraint trigger doom_at_commit_${table} after insert on ${table}
        deferrable initially deferred for each row when (${when}) execute function doom_at_commit()`,
      )
      .execute(store.db);
    return;
  }
  await sql`create table if not exists doom_at_commit (line_id text references credit_lines(id) deferrable initially deferred)`.execute(
    store.db,
  );
  await sql
    .raw(
      `create trigger doom_at_commit_${table} after insert on ${table} when ${when}
      begin insert into doom_at_commit values ('no-such-line'); end`,
    )
    .execute(store.db);
}

type DoomedTable = 'idempotency_keys' | 'draws';

async function stopFailingCommits(store: Store, table: DoomedTable): Promise<void> {
  await sql
    .raw(
      store.kind === 'postgres'
        ? `drop trigger doom_at_commit_${table} on ${table}`
        : `drop trigger doom_at_commit_${table}`,
    )
    .execute(store.db);
}

/**
 * The doomed key's claim without a response; a row that stores a response is let through, so storing one cannot fail
 * for the same reason.
 */
const DOOMED_CLAIM = `new.idem_key = '${DOOMED_KEY}' and new.state = 'committed'`;
/** A draw of this amount fails at COMMIT. */
const DOOMED_AMOUNT = 123_457;

for (const store of STORES)
  describe.skipIf(!store.enabled)(`a write that fails at COMMIT leaves its key free (${store.name})`, () => {
    let t: TestApp;
    let n = 0;
    const post = (url: string, payload: object, key = `cf-${++n}`) =>
      t.server.inject({ method: 'POST', url, headers: adminHeaders(key), payload });

    beforeAll(async () => {
      t = await startTestApp(await store.env());
    });
    afterAll(async () => {
      await t?.close();
    });

    it('answers 5xx, stores nothing under the key, and a retry with the key makes the write', async () => {
      const nationalId = residentId('19800101', 41);
      const consent = (purpose: string, textVersion: string) =>
        post('/v1/consents', { nationalId, purpose, textVersion, channel: 'APP' });
      expect((await consent('LOAN_APPROVAL', 'loan-approval/2026-01')).statusCode).toBe(201);
      const applied = await post('/v1/applications', {
        applicant: { name: '王芳', nationalId, phone: '13900003333' },
        attributes: APPLICANT_ONLY,
      });
      const borrowerId = applied.json().borrowerId as string;
      expect((await consent('POST_LOAN_MGMT', 'post-loan/2026-01')).statusCode).toBe(201);
      const pull = { borrowerId, purpose: 'POST_LOAN_MGMT', kind: 'soft', reason: 'quarterly review' };
      const pulls = async () =>
        Number(
          (
            await t.app.store.db
              .selectFrom('bureau_inquiries')
              .select((eb) => eb.fn.countAll<number>().as('n'))
              .where('purpose', '=', 'POST_LOAN_MGMT')
              .where('status', '=', 'PULLED')
              .executeTakeFirstOrThrow()
          ).n,
        );
      const keyRows = async () =>
        t.app.store.db
          .selectFrom('idempotency_keys')
          .selectAll()
          .where('idem_key', '=', DOOMED_KEY)
          .execute();

      await failCommitsOn(t.app.store, 'idempotency_keys', DOOMED_CLAIM);
      const failed = await post('/v1/bureau/inquiries', pull, DOOMED_KEY);
      expect(failed.statusCode).toBeGreaterThanOrEqual(500);
      expect(await pulls()).toBe(0);
      expect(await keyRows()).toEqual([]);

      await stopFailingCommits(t.app.store, 'idempotency_keys');
      const retried = await post('/v1/bureau/inquiries', pull, DOOMED_KEY);
      expect(retried.headers['idempotent-replayed']).toBeUndefined();
      expect(retried.statusCode).toBe(201);
      expect(retried.json().status).toBe('PULLED');
      expect(await pulls()).toBe(1);
      const replayed = await post('/v1/bureau/inquiries', pull, DOOMED_KEY);
      expect(replayed.headers['idempotent-replayed']).toBe('true');
      expect(replayed.body).toBe(retried.body);
    });

    // On PostgreSQL a draw's unit statement is sent with its COMMIT behind it (src/store/prepared.ts): a COMMIT that
    // fails must fail the draw, not acknowledge it.
    it('a draw that fails at COMMIT: 5xx, nothing written, its key free; a retry with the key draws', async () => {
      const applied = await post('/v1/applications', {
        applicant: { name: '李雷', nationalId: residentId('19800202', 43), phone: '13900005555' },
        attributes: STRONG_APPLICANT,
      });
      expect(applied.statusCode, applied.body).toBe(201);
      const lineId = applied.json<{ line: { id: string } }>().line.id;
      const draw = {
        amountMinor: DOOMED_AMOUNT,
        currency: 'CNY',
        termMonths: 3,
        method: 'EQUAL_INSTALLMENT',
      };
      const key = 'doomed-draw';
      const line = async () =>
        (await t.server.inject({ method: 'GET', url: `/v1/lines/${lineId}`, headers: adminHeaders() })).json<{
          availableMinor: number;
        }>();
      const count = (table: 'draws' | 'loans' | 'decisions') => rowCount(t.app.store, table);
      const before = {
        line: await line(),
        draws: await count('draws'),
        loans: await count('loans'),
        decisions: await count('decisions'),
      };

      await failCommitsOn(t.app.store, 'draws', `new.amount_minor = ${DOOMED_AMOUNT}`);
      const failed = await post(`/v1/lines/${lineId}/draws`, draw, key);
      expect(failed.statusCode, failed.body).toBeGreaterThanOrEqual(500);
      expect(await line()).toEqual(before.line);
      expect({
        draws: await count('draws'),
        loans: await count('loans'),
        decisions: await count('decisions'),
      }).toEqual({
        draws: before.draws,
        loans: before.loans,
        decisions: before.decisions,
      });
      const keyRows = await t.app.store.db
        .selectFrom('idempotency_keys')
        .selectAll()
        .where('idem_key', '=', key)
        .execute();
      expect(keyRows).toEqual([]);

      await stopFailingCommits(t.app.store, 'draws');
      const retried = await post(`/v1/lines/${lineId}/draws`, draw, key);
      expect(retried.statusCode, retried.body).toBe(201);
      expect(retried.headers['idempotent-replayed']).toBeUndefined();
      expect((await line()).availableMinor).toBe(before.line.availableMinor - DOOMED_AMOUNT);
      const replayed = await post(`/v1/lines/${lineId}/draws`, draw, key);
      expect(replayed.headers['idempotent-replayed']).toBe('true');
      expect(replayed.body).toBe(retried.body);
    });
  });
