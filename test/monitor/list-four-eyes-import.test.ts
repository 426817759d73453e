import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LightMyRequestResponse } from 'fastify';
import { keyFingerprint, sharedHmac } from '../../src/monitor/lists.js';
import type { ListEntityType, ListKind } from '../../src/monitor/lists.js';
import type { Database } from '../../src/store/schema.js';
import { TEST_ADMIN_KEY, type TestApp } from '../helpers/app.js';
import { appStores } from '../helpers/stores.js';
import { client, person, startCaseApp, type Person } from '../cases/helpers.js';

/**
 * Four eyes over the lists' exchange with partners (README "Four eyes", `list.add`, `list.remove`). An admin person
 * could otherwise black- or white-list any device, borrower or payee alone: agree a key of their choosing with a
 * made-up partner, HMAC the value under it and import it; or unhook every entry a partner shared by re-setting the
 * partner's key. An import by a person waits as a `list.add` change, a replacement of a partner's key as a
 * `list.remove` change, for a different supervisor or admin; the key never shows in clear in the change or the ledger.
 */

/** Sharing keys as the tests agree them with partners: 32 bytes, sent in hex. */
const KEY_1 = Buffer.alloc(32, 0x11);
const KEY_2 = Buffer.alloc(32, 0x22);
const KEY_3 = Buffer.alloc(32, 0x33);

/** Every clear spelling of a key a record could hold: hex (either case), base64 and base64url. */
function spellings(key: Buffer): string[] {
  return [
    key.toString('hex'),
    key.toString('hex').toUpperCase(),
    key.toString('base64'),
    key.toString('base64url'),
    // Without padding, a base64 text inside a longer one.
    key.toString('base64').replace(/=+$/, ''),
  ];
}

let keyCounter = 0;

type Entry = { list: ListKind; entityType: ListEntityType; value: string };

/** A partner's shared list as it would send it: each value's HMAC under the key, and the key's fingerprint. */
function sharedList(partnerId: string, key: Buffer, entries: readonly Entry[]) {
  return {
    partnerId,
    algorithm: 'HMAC-SHA256',
    keyFingerprint: keyFingerprint(key),
    entries: entries.map((e) => ({
      list: e.list,
      entityType: e.entityType,
      hmac: sharedHmac(key, e.entityType, e.value),
      reason: `shared ${e.list}`,
      source: 'partner-feed',
    })),
  };
}

for (const store of appStores('list-four-eyes'))
  describe.skipIf(!store.enabled)(
    `four eyes over partner list imports and sharing keys (${store.name})`,
    () => {
      let t: TestApp;
      let adminA: Person;
      let adminB: Person;
      let supervisor: Person;

      beforeAll(async () => {
        ({ t } = await startCaseApp(await store.env()));
        adminA = await person(t, 'admin A', 'admin');
        adminB = await person(t, 'admin B', 'admin');
        supervisor = await person(t, 'supervisor', 'supervisor');
      });
      afterAll(async () => t?.close());

      const putKey = (partnerId: string, key: Buffer, as: string = TEST_ADMIN_KEY) =>
        t.server.inject({
          method: 'PUT',
          url: `/v1/lists/partners/${partnerId}/key`,
          headers: { authorization: `Bearer ${as}` },
          payload: { key: key.toString('hex') },
        });
      const importList = (payload: object, as: string = TEST_ADMIN_KEY, idempotencyKey?: string) =>
        t.server.inject({
          method: 'POST',
          url: '/v1/lists/import',
          headers: {
            authorization: `Bearer ${as}`,
            'idempotency-key': idempotencyKey ?? `import-${++keyCounter}`,
          },
          payload,
        });
      const hits = async (entityType: ListEntityType, value: string) => {
        const res = await client(t).get(
          `/v1/lists/check?entityType=${entityType}&value=${encodeURIComponent(value)}`,
        );
        expect(res.statusCode, res.body).toBe(200);
        return res.json().hits as { list: string; entryId: string; source: string }[];
      };
      const pendingIds = async (): Promise<string[]> => {
        const res = await client(t).get('/v1/changes?state=PENDING&limit=500');
        expect(res.statusCode, res.body).toBe(200);
        return (res.json().items as { id: string }[]).map((c) => c.id).sort();
      };
      const approve = (id: string, as: Person) => client(t, as.key).post(`/v1/changes/${id}/approve`, {});
      const ledgerKinds = async (kind: string) =>
        t.app.store.db.selectFrom('ledger_entries').selectAll().where('kind', '=', kind).execute();
      const dump = async (tables: readonly (keyof Database)[]) =>
        JSON.stringify(
          await Promise.all(tables.map((table) => t.app.store.db.selectFrom(table).selectAll().execute())),
        );
      const pendingOf = (res: LightMyRequestResponse) => {
        expect(res.statusCode, res.body).toBe(202);
        return res.json().pendingChange as {
          id: string;
          operation: string;
          state: string;
          maker: string;
          payload: unknown;
          diff: Record<string, unknown>;
        };
      };

      it("agrees a partner's first key at once, whoever asks: it unhooks nothing", async () => {
        const agreed = await putKey('bank-first', KEY_1, adminA.key);
        expect(agreed.statusCode, agreed.body).toBe(200);
        expect(agreed.json()).toEqual({ partnerId: 'bank-first', keyFingerprint: keyFingerprint(KEY_1) });
      });

      it("holds an admin person's import for a second person; nothing matches until it is approved", async () => {
        expect((await putKey('bank-imp', KEY_1, adminA.key)).statusCode).toBe(200);
        const entries: Entry[] = [
          { list: 'black', entityType: 'device', value: 'farm-device-1' },
          { list: 'black', entityType: 'device', value: 'farm-device-2' },
          { list: 'white', entityType: 'user', value: 'borrower-whitelisted-1' },
        ];
        const shared = sharedList('bank-imp', KEY_1, entries);
        const before = await pendingIds();
        const idempotencyKey = `import-held-${store.name}`;
        const asked = await importList(shared, adminA.key, idempotencyKey);
        const change = pendingOf(asked);
        expect(change).toMatchObject({
          operation: 'list.add',
          state: 'PENDING',
          maker: `user:${adminA.userId}`,
        });
        // The diff is a summary a checker can read, not the HMACs.
        expect(change.diff).toMatchObject({
          import: {
            partnerId: 'bank-imp',
            keyFingerprint: keyFingerprint(KEY_1),
            entries: 3,
            byList: { black: { device: 2 }, white: { user: 1 } },
          },
        });
        const diffText = JSON.stringify(change.diff);
        for (const e of shared.entries) expect(diffText).not.toContain(e.hmac);
        // A retry with the same key answers the same change; no second one.
        const retried = await importList(shared, adminA.key, idempotencyKey);
        expect(pendingOf(retried).id).toBe(change.id);
        expect(await pendingIds()).toEqual([...before, change.id].sort());

        expect(await hits('device', 'farm-device-1')).toEqual([]);
        expect(await hits('user', 'borrower-whitelisted-1')).toEqual([]);
        expect((await ledgerKinds('list.imported')).filter((r) => r.subject_id === 'bank-imp')).toEqual([]);

        const own = await approve(change.id, adminA);
        expect(own.statusCode, own.body).toBe(403);
        expect(own.json().error.code).toBe('LG_SELF_APPROVAL');
        expect(await hits('device', 'farm-device-1')).toEqual([]);

        const approved = await approve(change.id, supervisor);
        expect(approved.statusCode, approved.body).toBe(200);
        expect(approved.json()).toMatchObject({
          state: 'APPROVED',
          checker: `user:${supervisor.userId}`,
          result: { imported: 3, skipped: 0 },
        });
        expect((await hits('device', 'farm-device-1')).map((h) => h.list)).toEqual(['black']);
        expect((await hits('device', 'farm-device-2')).map((h) => h.list)).toEqual(['black']);
        expect((await hits('user', 'borrower-whitelisted-1')).map((h) => h.list)).toEqual(['white']);
        // The entries are the maker's, as an entry a checker approved is.
        const [imported] = (await ledgerKinds('list.imported')).filter((r) => r.subject_id === 'bank-imp');
        expect(JSON.parse(imported?.payload ?? '{}')).toMatchObject({
          partnerId: 'bank-imp',
          addedBy: `user:${adminA.userId}`,
          imported: 3,
        });
      });

      it('refuses before proposing an import that cannot apply: wrong key fingerprint, no key agreed', async () => {
        expect((await putKey('bank-fp', KEY_1, adminA.key)).statusCode).toBe(200);
        const before = await pendingIds();
        const wrong = sharedList('bank-fp', KEY_2, [
          { list: 'black', entityType: 'device', value: 'dev-fp' },
        ]);
        const refused = await importList(wrong, adminA.key);
        expect(refused.statusCode, refused.body).toBe(400);
        expect(refused.json().error.code).toBe('LG_VALIDATION');
        const unknown = sharedList('bank-never-agreed', KEY_1, [
          { list: 'black', entityType: 'device', value: 'dev-fp' },
        ]);
        const notFound = await importList(unknown, adminA.key);
        expect(notFound.statusCode, notFound.body).toBe(404);
        expect(notFound.json().error.code).toBe('LG_NOT_FOUND');
        expect(await pendingIds()).toEqual(before);
      });

      it("holds the replacement of a partner's key for a second person; the key never shows in clear", async () => {
        expect((await putKey('bank-rep', KEY_1, adminA.key)).statusCode).toBe(200);
        // An entry the partner shared under the first key (imported with the installation's key: at once).
        const shared = sharedList('bank-rep', KEY_1, [
          { list: 'black', entityType: 'device', value: 'shared-device' },
        ]);
        const imported = await importList(shared);
        expect(imported.statusCode, imported.body).toBe(200);
        expect(imported.json()).toEqual({ imported: 1, skipped: 0 });
        expect((await hits('device', 'shared-device')).map((h) => h.list)).toEqual(['black']);
        const partnerKeyEntries = (await ledgerKinds('list.partner_key')).length;

        const asked = await putKey('bank-rep', KEY_2, adminA.key);
        const change = pendingOf(asked);
        expect(change).toMatchObject({
          operation: 'list.remove',
          state: 'PENDING',
          maker: `user:${adminA.userId}`,
        });
        expect(change.diff).toMatchObject({
          partnerKey: {
            partnerId: 'bank-rep',
            from: keyFingerprint(KEY_1),
            to: keyFingerprint(KEY_2),
            entriesUnhooked: 1,
          },
        });
        // Nothing changed yet: the shared entry still matches, the key stored is the first.
        expect((await hits('device', 'shared-device')).map((h) => h.list)).toEqual(['black']);
        expect((await ledgerKinds('list.partner_key')).length).toBe(partnerKeyEntries);

        // What every staff role reads of the change, its rows and the ledger: never the key in clear.
        const read = await client(t, supervisor.key).get(`/v1/changes/${change.id}`);
        expect(read.statusCode, read.body).toBe(200);
        const listed = await client(t, supervisor.key).get('/v1/changes?limit=500');
        const records = [
          asked.body,
          read.body,
          listed.body,
          await dump(['pending_changes', 'ledger_entries', 'idempotency_keys', 'monitor_sharing_keys']),
        ].join('\n');
        for (const key of [KEY_1, KEY_2])
          for (const spelling of spellings(key)) expect(records).not.toContain(spelling);

        const own = await approve(change.id, adminA);
        expect(own.statusCode, own.body).toBe(403);
        expect(own.json().error.code).toBe('LG_SELF_APPROVAL');
        expect((await hits('device', 'shared-device')).map((h) => h.list)).toEqual(['black']);

        const approved = await approve(change.id, adminB);
        expect(approved.statusCode, approved.body).toBe(200);
        expect(approved.json()).toMatchObject({
          state: 'APPROVED',
          result: { partnerId: 'bank-rep', keyFingerprint: keyFingerprint(KEY_2) },
        });
        // Replaced: the entry shared under the first key no longer matches; an export is under the new key.
        expect(await hits('device', 'shared-device')).toEqual([]);
        const exported = await client(t).post('/v1/lists/export', { partnerId: 'bank-rep' });
        expect(exported.json().keyFingerprint).toBe(keyFingerprint(KEY_2));
        const keyEntries = await ledgerKinds('list.partner_key');
        expect(keyEntries.length).toBe(partnerKeyEntries + 1);
        expect(JSON.parse(keyEntries.at(-1)?.payload ?? '{}')).toMatchObject({
          partnerId: 'bank-rep',
          keyFingerprint: keyFingerprint(KEY_2),
        });
        const after = [
          (await client(t, supervisor.key).get(`/v1/changes/${change.id}`)).body,
          approved.body,
          await dump(['pending_changes', 'ledger_entries', 'idempotency_keys', 'monitor_sharing_keys']),
        ].join('\n');
        for (const key of [KEY_1, KEY_2])
          for (const spelling of spellings(key)) expect(after).not.toContain(spelling);
      });

      it('re-setting the key a partner already has is a no-op: 200, nothing proposed or written', async () => {
        expect((await putKey('bank-same', KEY_1, adminA.key)).statusCode).toBe(200);
        const before = await pendingIds();
        const entries = (await ledgerKinds('list.partner_key')).length;
        const again = await putKey('bank-same', KEY_1, adminA.key);
        expect(again.statusCode, again.body).toBe(200);
        expect(again.json()).toEqual({ partnerId: 'bank-same', keyFingerprint: keyFingerprint(KEY_1) });
        expect(await pendingIds()).toEqual(before);
        expect((await ledgerKinds('list.partner_key')).length).toBe(entries);
      });

      it('an approved replacement of a key that was replaced meanwhile fails (409), the key in force stands', async () => {
        expect((await putKey('bank-race', KEY_1, adminA.key)).statusCode).toBe(200);
        const toTwo = pendingOf(await putKey('bank-race', KEY_2, adminA.key));
        const toThree = pendingOf(await putKey('bank-race', KEY_3, adminA.key));
        expect((await approve(toTwo.id, adminB)).statusCode).toBe(200);
        const stale = await approve(toThree.id, adminB);
        expect(stale.statusCode, stale.body).toBe(409);
        expect(stale.json().error.code).toBe('LG_CONFLICT');
        expect((await client(t).get(`/v1/changes/${toThree.id}`)).json().state).toBe('FAILED');
        const exported = await client(t).post('/v1/lists/export', { partnerId: 'bank-race' });
        expect(exported.json().keyFingerprint).toBe(keyFingerprint(KEY_2));
      });

      it('an approved import whose partner key was replaced meanwhile fails, and imports nothing', async () => {
        expect((await putKey('bank-stale', KEY_1, adminA.key)).statusCode).toBe(200);
        const held = pendingOf(
          await importList(
            sharedList('bank-stale', KEY_1, [{ list: 'black', entityType: 'device', value: 'stale-device' }]),
            adminA.key,
          ),
        );
        expect((await putKey('bank-stale', KEY_2)).statusCode).toBe(200);
        const stale = await approve(held.id, adminB);
        expect(stale.statusCode, stale.body).toBe(400);
        expect(stale.json().error.code).toBe('LG_VALIDATION');
        expect((await client(t).get(`/v1/changes/${held.id}`)).json().state).toBe('FAILED');
        expect((await ledgerKinds('list.imported')).filter((r) => r.subject_id === 'bank-stale')).toEqual([]);
      });

      it("imports and replaces at once with the installation's own key (outside four eyes)", async () => {
        expect((await putKey('bank-inst', KEY_1)).statusCode).toBe(200);
        const before = await pendingIds();
        const imported = await importList(
          sharedList('bank-inst', KEY_1, [{ list: 'black', entityType: 'device', value: 'inst-device' }]),
        );
        expect(imported.statusCode, imported.body).toBe(200);
        expect(imported.json()).toEqual({ imported: 1, skipped: 0 });
        expect((await hits('device', 'inst-device')).map((h) => h.list)).toEqual(['black']);
        const replaced = await putKey('bank-inst', KEY_2);
        expect(replaced.statusCode, replaced.body).toBe(200);
        expect(replaced.json()).toEqual({ partnerId: 'bank-inst', keyFingerprint: keyFingerprint(KEY_2) });
        expect(await hits('device', 'inst-device')).toEqual([]);
        expect(await pendingIds()).toEqual(before);
      });
    },
  );

describe('partner list imports and sharing keys with four eyes off', () => {
  let t: TestApp;
  let admin: Person;

  beforeAll(async () => {
    ({ t } = await startCaseApp({ LINEGUARD_FOUR_EYES: 'none' }));
    admin = await person(t, 'admin', 'admin');
  });
  afterAll(async () => t?.close());

  it("imports and replaces a partner's key at once for an admin person", async () => {
    const put = (key: Buffer) =>
      t.server.inject({
        method: 'PUT',
        url: '/v1/lists/partners/bank-off/key',
        headers: { authorization: `Bearer ${admin.key}` },
        payload: { key: key.toString('hex') },
      });
    expect((await put(KEY_1)).statusCode).toBe(200);
    const imported = await client(t, admin.key).post(
      '/v1/lists/import',
      sharedList('bank-off', KEY_1, [{ list: 'black', entityType: 'device', value: 'off-device' }]),
    );
    expect(imported.statusCode, imported.body).toBe(200);
    expect(imported.json()).toEqual({ imported: 1, skipped: 0 });
    const check = () => client(t).get('/v1/lists/check?entityType=device&value=off-device');
    expect((await check()).json().hits).toHaveLength(1);
    const replaced = await put(KEY_2);
    expect(replaced.statusCode, replaced.body).toBe(200);
    expect(replaced.json().keyFingerprint).toBe(keyFingerprint(KEY_2));
    expect((await check()).json().hits).toEqual([]);
    expect((await client(t).get('/v1/changes?state=PENDING')).json().items).toEqual([]);
  });
});
