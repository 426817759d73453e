import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LightMyRequestResponse } from 'fastify';
import { canonicalJson, sha256Hex } from '../../src/domain/index.js';
import type { Env } from '../../src/app/config.js';
import { APPLICANT_ONLY, adminHeaders, startTestApp, type TestApp } from '../helpers/app.js';
import { appStores } from '../helpers/stores.js';
import { fieldCryptoFromMasterKey } from '../../src/compliance/index.js';
import { residentId } from '../core/harness.js';
import { buildServer, createMetricsRegistry, resealIdempotencyRecords } from '../../src/api/index.js';
import { ManualClock } from '../../src/domain/clock.js';
import { openStore } from '../../src/store/db.js';

/**
 * Personal data at rest in the idempotency table: a retryable write's answer is kept so that a retry gets it again,
 * and a write whose request or answer carries personal data (a credit report, a national ID, a name, a phone, a bank
 * account) must keep it as LineGuard keeps personal data everywhere else: sealed (src/compliance/crypto.ts), with no
 * unkeyed hash a dump could be searched by. The replay is unchanged: the same status and bytes, across a restart.
 */
const STORES = appStores('idempotent_pii');

const NAME = '欧阳娜娜';
const PHONE = '13911112222';
const PAYEE = '6222020200112233445';

/** A key row as a dump of the database shows it. */
async function rawRow(t: TestApp, key: string) {
  return t.app.store.db
    .selectFrom('idempotency_keys')
    .selectAll()
    .where('idem_key', '=', key)
    .executeTakeFirstOrThrow();
}

/**
 * What the idempotency layer hashed before it was keyed: SHA-256 over the method, the URL and the canonical body. A
 * dump holding it lets anyone confirm a guessed national ID by hashing candidate bodies (PCI DSS 3.5.1.1).
 */
function unkeyedHash(url: string, body: unknown): string {
  return sha256Hex(`POST ${url}\n${canonicalJson(body)}`);
}

for (const store of STORES)
  describe.skipIf(!store.enabled)(
    `idempotent answers with personal data are sealed at rest (${store.name})`,
    () => {
      let env: Env;
      let t: TestApp;
      const post = (url: string, payload: object, key: string) =>
        t.server.inject({ method: 'POST', url, headers: adminHeaders(key), payload });
      let n = 0;
      const person = () => residentId('19880808', ++n);

      beforeAll(async () => {
        env = { ...(await store.env()), LINEGUARD_BUREAU: 'sandbox' };
        t = await startTestApp(env);
        // The same database from here on: a restart is a new app on the first one's data.
        env = { ...env, LINEGUARD_DATA_DIR: t.dataDir };
      });
      afterAll(async () => t?.close());

      /** A new app instance on the same database, as after a restart (or on another process of the fleet). */
      async function restart(extra: Env = {}): Promise<void> {
        await t.close();
        t = await startTestApp({ ...env, ...extra });
      }

      async function borrowerWithPostLoanConsent(nationalId: string): Promise<string> {
        const consent = await post(
          '/v1/consents',
          { nationalId, purpose: 'POST_LOAN_MGMT', textVersion: 'post-loan/2026-01', channel: 'APP' },
          `consent-${nationalId}`,
        );
        expect(consent.statusCode, consent.body).toBe(201);
        const applied = await post(
          '/v1/applications',
          { applicant: { name: NAME, nationalId, phone: PHONE }, attributes: APPLICANT_ONLY },
          `apply-${nationalId}`,
        );
        expect(applied.statusCode, applied.body).toBe(201);
        return applied.json<{ borrowerId: string }>().borrowerId;
      }

      function expectReplayOf(first: LightMyRequestResponse, again: LightMyRequestResponse): void {
        expect(again.headers['idempotent-replayed']).toBe('true');
        expect([again.statusCode, again.body]).toEqual([first.statusCode, first.body]);
      }

      it('a credit-report pull: the row holds no report; the retry gets the same answer, after a restart too', async () => {
        const borrowerId = await borrowerWithPostLoanConsent(person());
        const pull = { borrowerId, purpose: 'POST_LOAN_MGMT', kind: 'soft', reason: 'quarterly review' };
        const first = await post('/v1/bureau/inquiries', pull, 'pull-1');
        expect(first.statusCode, first.body).toBe(201);
        const report = first.json<{ report: Record<string, unknown> }>().report;
        expect(report).toEqual(expect.objectContaining({ existingDebtMinor: expect.any(Number) }));

        const row = await rawRow(t, 'pull-1');
        const dumped = JSON.stringify(row);
        expect(dumped).not.toContain('existingDebtMinor');
        expect(dumped).not.toContain('externalDelinquent');
        expect(dumped).not.toContain(canonicalJson(report));
        expect(row.response_body).toMatch(/^lg1\./);

        expectReplayOf(first, await post('/v1/bureau/inquiries', pull, 'pull-1'));
        await restart();
        expectReplayOf(first, await post('/v1/bureau/inquiries', pull, 'pull-1'));
        const other = await post('/v1/bureau/inquiries', { ...pull, reason: 'another' }, 'pull-1');
        expect([other.statusCode, other.json().error.code]).toEqual([422, 'LG_IDEMPOTENCY_MISMATCH']);
      });

      it('an application: no name, ID or phone (clear or masked) and no unkeyed hash of them in the row', async () => {
        const nationalId = person();
        const body = { applicant: { name: NAME, nationalId, phone: PHONE }, attributes: APPLICANT_ONLY };
        const first = await post('/v1/applications', body, 'apply-1');
        expect(first.statusCode, first.body).toBe(201);
        const masked = first.json<{ borrower: { name: string; nationalId: string; phone: string } }>()
          .borrower;

        const row = await rawRow(t, 'apply-1');
        const dumped = JSON.stringify(row);
        for (const value of [NAME, nationalId, PHONE, masked.name, masked.nationalId, masked.phone])
          expect(dumped).not.toContain(value);
        expect(row.request_hash).not.toBe(unkeyedHash('/v1/applications', body));

        expectReplayOf(first, await post('/v1/applications', body, 'apply-1'));
        await restart();
        expectReplayOf(first, await post('/v1/applications', body, 'apply-1'));
        const other = await post('/v1/applications', { ...body, currency: 'CNY' }, 'apply-1');
        expect([other.statusCode, other.json().error.code]).toEqual([422, 'LG_IDEMPOTENCY_MISMATCH']);
      });

      it('a consent: the national ID it was given cannot be confirmed from the row by hashing a guess', async () => {
        const nationalId = person();
        const body = {
          nationalId,
          purpose: 'LOAN_APPROVAL',
          textVersion: 'loan-approval/2026-01',
          channel: 'APP',
        };
        const first = await post('/v1/consents', body, 'consent-1');
        expect(first.statusCode, first.body).toBe(201);

        const row = await rawRow(t, 'consent-1');
        expect(JSON.stringify(row)).not.toContain(nationalId);
        expect(row.request_hash).not.toBe(unkeyedHash('/v1/consents', body));

        await restart();
        expectReplayOf(first, await post('/v1/consents', body, 'consent-1'));
        const other = await post('/v1/consents', { ...body, nationalId: person() }, 'consent-1');
        expect([other.statusCode, other.json().error.code]).toEqual([422, 'LG_IDEMPOTENCY_MISMATCH']);
      });

      it('a list entry: neither a listed ID (hashed in the list) nor a payee account is left in the row', async () => {
        const nationalId = person();
        const idEntry = {
          list: 'black',
          entityType: 'nationalIdHash',
          value: nationalId,
          reason: 'confirmed identity fraud',
          source: 'fraud team',
        };
        const listedId = await post('/v1/lists', idEntry, 'list-id');
        expect(listedId.statusCode, listedId.body).toBe(201);
        const idRow = await rawRow(t, 'list-id');
        expect(JSON.stringify(idRow)).not.toContain(nationalId);
        expect(idRow.request_hash).not.toBe(unkeyedHash('/v1/lists', idEntry));

        const payeeEntry = {
          list: 'black',
          entityType: 'payee',
          value: PAYEE,
          reason: 'mule account',
          source: 'fraud team',
        };
        const listedPayee = await post('/v1/lists', payeeEntry, 'list-payee');
        expect(listedPayee.statusCode, listedPayee.body).toBe(201);
        expect(listedPayee.json().value).toBe(PAYEE);
        expect(JSON.stringify(await rawRow(t, 'list-payee'))).not.toContain(PAYEE);

        await restart();
        expectReplayOf(listedId, await post('/v1/lists', idEntry, 'list-id'));
        expectReplayOf(listedPayee, await post('/v1/lists', payeeEntry, 'list-payee'));
      });

      it("a dispute: the borrower's claim about their report and its text are not in the row", async () => {
        const borrowerId = await borrowerWithPostLoanConsent(person());
        const text = `my debt is paid off; call me on ${PHONE}`;
        const body = {
          borrowerId,
          target: { kind: 'REPORT_ITEM', id: 'existingDebtMinor', correctValue: 424_242 },
          text,
        };
        const first = await post('/v1/disputes', body, 'dispute-1');
        expect(first.statusCode, first.body).toBe(201);
        const dumped = JSON.stringify(await rawRow(t, 'dispute-1'));
        for (const value of [PHONE, '424242', 'existingDebtMinor']) expect(dumped).not.toContain(value);
        expectReplayOf(first, await post('/v1/disputes', body, 'dispute-1'));
      });

      it('a row written in clear before sealing (an unkeyed hash, the body as sent) still replays and still mismatches', async () => {
        const nationalId = person();
        const body = {
          nationalId,
          purpose: 'LOAN_APPROVAL',
          textVersion: 'loan-approval/2026-01',
          channel: 'APP',
        };
        const first = await post('/v1/consents', body, 'legacy-1');
        expect(first.statusCode, first.body).toBe(201);
        // The row as the code before sealing wrote it.
        await t.app.store.db
          .updateTable('idempotency_keys')
          .set({ request_hash: unkeyedHash('/v1/consents', body), response_body: first.body })
          .where('idem_key', '=', 'legacy-1')
          .execute();
        await restart();
        expectReplayOf(first, await post('/v1/consents', body, 'legacy-1'));
        const other = await post('/v1/consents', { ...body, channel: 'WEB' }, 'legacy-1');
        expect([other.statusCode, other.json().error.code]).toEqual([422, 'LG_IDEMPOTENCY_MISMATCH']);
      });

      it("a sealed answer copied into another key's row is never replayed to that key's client", async () => {
        const borrowerId = await borrowerWithPostLoanConsent(person());
        const pull = { borrowerId, purpose: 'POST_LOAN_MGMT', kind: 'soft', reason: 'first' };
        const victim = await post('/v1/bureau/inquiries', pull, 'victim');
        expect(victim.statusCode, victim.body).toBe(201);
        const other = await post('/v1/bureau/inquiries', { ...pull, reason: 'second' }, 'other');
        expect(other.statusCode, other.body).toBe(201);
        const { response_body } = await rawRow(t, 'victim');
        await t.app.store.db
          .updateTable('idempotency_keys')
          .set({ response_body })
          .where('idem_key', '=', 'other')
          .execute();
        const retried = await post('/v1/bureau/inquiries', { ...pull, reason: 'second' }, 'other');
        expect(retried.body).not.toContain(victim.json().inquiryId);
        expect([retried.statusCode, retried.json().error]).toEqual([
          409,
          expect.objectContaining({
            code: 'LG_IDEMPOTENCY_IN_FLIGHT',
            details: { idempotencyKey: 'other', committed: true },
          }),
        ]);
      });

      it('key rotation: a retired key still opens the record, rotate-data re-seals it, and the old key can go', async () => {
        const borrowerId = await borrowerWithPostLoanConsent(person());
        const pull = { borrowerId, purpose: 'POST_LOAN_MGMT', kind: 'soft', reason: 'rotation' };
        const first = await post('/v1/bureau/inquiries', pull, 'rotated');
        expect(first.statusCode, first.body).toBe(201);
        // A pull whose inquiry committed but whose answer was never stored (the server stopped in between): its key row
        // holds the sealed hash alone.
        const crashed = { ...pull, reason: 'crashed' };
        expect((await post('/v1/bureau/inquiries', crashed, 'crashed')).statusCode).toBe(201);
        await t.app.store.db
          .updateTable('idempotency_keys')
          .set({ state: 'committed', status_code: null, response_body: null })
          .where('idem_key', '=', 'crashed')
          .execute();
        const keyA = t.app.config.masterKey;
        const keyB = Buffer.alloc(32, 0xcd);
        const [oldKey, newKey] = [keyA.toString('hex'), keyB.toString('hex')];

        // The old key dropped too early: the record cannot be opened; the client hears the write committed (not a 500,
        // never the answer of something else), and the row is left as it was.
        await restart({ LINEGUARD_KEY: newKey });
        const unopenable = await post('/v1/bureau/inquiries', pull, 'rotated');
        expect([unopenable.statusCode, unopenable.json().error.details]).toEqual([
          409,
          { idempotencyKey: 'rotated', committed: true },
        ]);

        await restart({ LINEGUARD_KEY: newKey, LINEGUARD_RETIRED_KEYS: oldKey });
        expectReplayOf(first, await post('/v1/bureau/inquiries', pull, 'rotated'));
        const crypto = fieldCryptoFromMasterKey(keyB, [keyA]);
        const rotation = await resealIdempotencyRecords(t.app.store, crypto, 2);
        // Every sealed record but the one an earlier test altered (a sealed answer copied to another key's row).
        expect(rotation.recordsResealed).toBeGreaterThan(1);
        expect(rotation).toMatchObject({
          keyId: crypto.currentKeyId,
          recordsResealed: rotation.recordsChecked - 1,
          recordsUnopenable: 1,
        });
        const row = await rawRow(t, 'rotated');
        expect([crypto.keyIdOf(row.request_hash), crypto.keyIdOf(row.response_body ?? '')]).toEqual([
          crypto.currentKeyId,
          crypto.currentKeyId,
        ]);
        const crashedRow = await rawRow(t, 'crashed');
        expect([crypto.keyIdOf(crashedRow.request_hash), crashedRow.response_body]).toEqual([
          crypto.currentKeyId,
          null,
        ]);
        expect(await resealIdempotencyRecords(t.app.store, crypto, 2)).toMatchObject({
          recordsResealed: 0,
          recordsUnopenable: 1,
        });

        await restart({ LINEGUARD_KEY: newKey });
        expectReplayOf(first, await post('/v1/bureau/inquiries', pull, 'rotated'));
        const again = await post('/v1/bureau/inquiries', crashed, 'crashed');
        expect([again.statusCode, again.json().error.details]).toEqual([
          409,
          { idempotencyKey: 'crashed', committed: true },
        ]);
      });

      it('a write without personal data keeps its row as it was (the draw path pays nothing)', async () => {
        const first = await post(
          '/v1/partners',
          {
            name: '无个人信息平台',
            type: 'PLATFORM_OPERATOR',
            licenceNo: 'PII-0001',
            contractStart: '2026-01-01',
            contractEnd: '2030-12-31',
          },
          'partner-1',
        );
        expect(first.statusCode, first.body).toBe(201);
        const row = await rawRow(t, 'partner-1');
        expect(row.response_body).toBe(first.body);
        expect(row.request_hash).toMatch(/^[0-9a-f]{64}$/);
      });
    },
  );

describe('a server with a route whose idempotency record holds personal data', () => {
  it('refuses to start without the crypto that seals it', async () => {
    const store = await openStore({ sqlitePath: ':memory:' });
    try {
      const started = buildServer({
        store,
        clock: new ManualClock(0),
        metrics: createMetricsRegistry(),
        requestBytesMax: 1024,
        verifyKey: async () => null,
        routes: [
          async (app) => {
            app.post('/pii', { config: { idempotent: true, personalData: true } }, async () => ({}));
          },
        ],
      });
      await expect(started).rejects.toThrow(/\/pii keeps personal data in its idempotency record/);
    } finally {
      await store.close();
    }
  });
});
