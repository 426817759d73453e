import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import type { Store } from '../../src/store/index.js';
import { APPLICANT_ONLY, adminHeaders, startTestApp, type TestApp } from '../helpers/app.js';
import { appStores } from '../helpers/stores.js';
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
 * Makes every transaction that claims the doomed key (a row without a response) fail at its COMMIT, and only there; a
 * row that stores a response is let through, so storing one cannot fail for the same reason.
 */
async function failCommitsOfDoomedKey(store: Store): Promise<void> {
  if (store.kind === 'postgres') {
    await sql`create function doom_at_commit() returns trigger language plpgsql as $$
      begin raise exception 'this key fails at commit in this test'; end $$`.execute(store.db);
    await sql`create constraint trigger doom_at_commit after insert on idempotency_keys
      deferrable initially deferred for each row when (new.idem_key = ${sql.lit(DOOMED_KEY)} and new.state = 'committed')
      execute function doom_at_commit()`.execute(store.db);
    return;
  }
  await sql`create table doom_at_commit (line_id text references credit_lines(id) deferrable initially deferred)`.execute(
    store.db,
  );
  await sql`create trigger doom_at_commit after insert on idempotency_keys
    when new.idem_key = ${sql.lit(DOOMED_KEY)} and new.state = 'committed'
    begin insert into doom_at_commit values ('no-such-line'); end`.execute(store.db);
}

async function stopFailingCommits(store: Store): Promise<void> {
  if (store.kind === 'postgres') {
    await sql`drop trigger doom_at_commit on idempotency_keys`.execute(store.db);
    return;
  }
  await sql`drop trigger doom_at_commit`.execute(store.db);
}

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

      await failCommitsOfDoomedKey(t.app.store);
      const failed = await post('/v1/bureau/inquiries', pull, DOOMED_KEY);
      expect(failed.statusCode).toBeGreaterThanOrEqual(500);
      expect(await pulls()).toBe(0);
      expect(await keyRows()).toEqual([]);

      await stopFailingCommits(t.app.store);
      const retried = await post('/v1/bureau/inquiries', pull, DOOMED_KEY);
      expect(retried.headers['idempotent-replayed']).toBeUndefined();
      expect(retried.statusCode).toBe(201);
      expect(retried.json().status).toBe('PULLED');
      expect(await pulls()).toBe(1);
      const replayed = await post('/v1/bureau/inquiries', pull, DOOMED_KEY);
      expect(replayed.headers['idempotent-replayed']).toBe('true');
      expect(replayed.body).toBe(retried.body);
    });
  });
