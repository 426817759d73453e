import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { ManualClock } from '../../src/domain/clock.js';
import { uuidv7Generator } from '../../src/domain/ids.js';
import { seededRandom } from '../../src/domain/random.js';
import { openStore, type Store } from '../../src/store/db.js';
import { ListService, sharedHmac } from '../../src/monitor/lists.js';
import { monitorListStore } from '../../src/store/monitor-lists.js';
import { fieldCryptoFromMasterKey } from '../../src/compliance/crypto.js';
import { verifyLedger } from '../../src/compliance/ledger.js';
import { DAY, MASTER_KEY, T0 } from './helpers.js';
import { STORE_FACTORIES } from '../helpers/stores.js';

/** A black-list entry as an earlier version stored it, written straight into the table. */
function legacyEntry(
  store: Store,
  entry: { id: string; entityType: string; value: string; reason?: string },
) {
  return store.db
    .insertInto('monitor_list_entries')
    .values({
      entry_id: entry.id,
      list_kind: 'black',
      entity_type: entry.entityType,
      match_key: `raw:${entry.value}`,
      reason: entry.reason ?? 'r',
      source: 'import',
      added_by: 'k',
      added_at: T0,
      expires_at: null,
      removed_at: null,
    })
    .execute();
}

describe('black/grey/white lists', () => {
  let store: Store;
  let clock: ManualClock;
  let lists: ListService;
  beforeEach(async () => {
    store = await openStore({ sqlitePath: ':memory:' });
    clock = new ManualClock(T0);
    lists = new ListService(monitorListStore(store), {
      clock,
      ids: uuidv7Generator(clock, seededRandom(5)),
      masterKey: MASTER_KEY,
    });
    await lists.load();
  });
  afterEach(async () => store.close());

  it('matches live entries per entity type, with reason, source and who added them; honours expiry and removal', async () => {
    const e = await lists.add({
      list: 'black',
      entityType: 'device',
      value: 'dev-9',
      reason: 'confirmed fraud',
      source: 'case-17',
      addedBy: 'key-1',
      expiresAt: T0 + DAY,
    });
    await lists.add({
      list: 'grey',
      entityType: 'ip',
      value: '203.0.113.7',
      reason: 'proxy',
      source: 'vendor',
      addedBy: 'key-1',
    });
    expect(lists.check('device', 'dev-9', T0)).toEqual([
      {
        list: 'black',
        entityType: 'device',
        entryId: e.entryId,
        reason: 'confirmed fraud',
        source: 'case-17',
      },
    ]);
    expect(lists.check('user', 'dev-9', T0)).toEqual([]);
    expect(lists.check('device', 'dev-9', T0 + DAY)).toEqual([]);
    expect(lists.check('ip', '203.0.113.7', T0)[0]?.list).toBe('grey');
    clock.set(T0 + 2 * DAY);
    expect((await lists.query({})).map((x) => x.value)).toEqual(['203.0.113.7']);
    expect(await lists.query({ includeExpired: true })).toHaveLength(2);
    await lists.remove(e.entryId, 'k');
    await expect(lists.remove(e.entryId, 'k')).rejects.toMatchObject({ code: 'LG_NOT_FOUND' });
    const reloaded = new ListService(monitorListStore(store), {
      clock,
      ids: uuidv7Generator(clock, seededRandom(6)),
      masterKey: MASTER_KEY,
    });
    await reloaded.load();
    expect(reloaded.check('ip', '203.0.113.7', T0)).toHaveLength(1);
    expect(reloaded.check('device', 'dev-9', T0)).toEqual([]);
  });

  it('refuses an entry that is no valid value of its type (400 LG_VALIDATION naming the field); stores nothing', async () => {
    for (const [entityType, value] of [
      ['ip', 'not-an-ip'],
      ['ip', '10.0.0.256'],
      ['phoneHash', '12345'],
      ['phoneHash', '+86 (23) 1234.5678'],
      ['nationalIdHash', 'ABCDEF0123'],
      ['nationalIdHash', '110105194912310021'],
      ['payee', ' - '],
    ] as const) {
      await expect(
        lists.add({ list: 'black', entityType, value, reason: 'r', source: 's', addedBy: 'k' }),
      ).rejects.toMatchObject({ code: 'LG_VALIDATION', details: { field: 'value', entityType } });
    }
    expect(await store.db.selectFrom('monitor_list_entries').selectAll().execute()).toEqual([]);
    expect(await store.db.selectFrom('ledger_entries').selectAll().execute()).toEqual([]);
  });

  it('stores the canonical form and matches every spelling of an IP, payee, phone and national ID', async () => {
    const add = (entityType: 'ip' | 'payee' | 'phoneHash' | 'nationalIdHash', value: string) =>
      lists.add({ list: 'black', entityType, value, reason: 'r', source: 's', addedBy: 'k' });
    expect((await add('ip', '::FFFF:A11:E2C0')).value).toBe('10.17.226.192');
    expect((await add('ip', '2001:0DB8:3DA6:0000:0000:0000:0000:0001')).value).toBe('2001:db8:3da6::1');
    expect((await add('payee', '6222 7173 0943 7786')).value).toBe('6222717309437786');
    await add('phoneHash', '+86 (137) 1234.5678');
    await add('nationalIdHash', '110105-19491231-002x');
    for (const [entityType, spelling] of [
      ['ip', '10.17.226.192'],
      ['ip', '::ffff:10.17.226.192'],
      ['ip', '2001:db8:3da6:0:0:0:0:1'],
      ['ip', '2001:db8:3da6::1'],
      ['payee', '6222-7173-0943-7786'],
      ['payee', '6222717309437786'],
      ['phoneHash', '13712345678'],
      ['phoneHash', '+86013712345678'],
      ['phoneHash', '013712345678'],
      ['nationalIdHash', '11010519491231002X'],
    ] as const) {
      expect(lists.check(entityType, spelling, T0), `${entityType} ${spelling}`).toHaveLength(1);
      expect(
        await lists.lookup([{ entityType, value: spelling }], T0),
        `${entityType} ${spelling}`,
      ).toHaveLength(1);
    }
  });

  it('rewrites own entries an earlier version stored in another spelling into the canonical form at load', async () => {
    await legacyEntry(store, { id: 'legacy-ip', entityType: 'ip', value: '::ffff:10.17.226.192' });
    await legacyEntry(store, { id: 'legacy-payee', entityType: 'payee', value: '6222 7173 0943 7786' });
    await legacyEntry(store, { id: 'legacy-odd', entityType: 'ip', value: 'not-an-ip' });
    const restarted = new ListService(monitorListStore(store), {
      clock,
      ids: uuidv7Generator(clock, seededRandom(9)),
      masterKey: MASTER_KEY,
    });
    await restarted.load();
    const keys = await store.db
      .selectFrom('monitor_list_entries')
      .select(['entry_id', 'match_key'])
      .orderBy('entry_id')
      .execute();
    expect(keys).toEqual([
      { entry_id: 'legacy-ip', match_key: 'raw:10.17.226.192' },
      // A value that is no IP at all is left as it was (it still matches that same spelling).
      { entry_id: 'legacy-odd', match_key: 'raw:not-an-ip' },
      { entry_id: 'legacy-payee', match_key: 'raw:6222717309437786' },
    ]);
    expect(restarted.check('ip', '::ffff:a11:e2c0', T0)).toHaveLength(1);
    expect(await restarted.lookup([{ entityType: 'payee', value: '6222-7173-0943-7786' }], T0)).toHaveLength(
      1,
    );
    expect(restarted.check('ip', 'not-an-ip', T0)).toHaveLength(1);
    const kinds = (await store.db.selectFrom('ledger_entries').select('kind').execute()).map((e) => e.kind);
    expect(kinds).toEqual(['list.renormalised', 'list.renormalised']);
    expect((await verifyLedger(store.db)).ok).toBe(true);
    // Another start finds nothing left to rewrite.
    await restarted.load();
    expect(await store.db.selectFrom('ledger_entries').select('kind').execute()).toHaveLength(2);
  });

  it('exchanges entries with a partner by HMAC: no raw identifier leaves, and matches on the other side', async () => {
    const shared = randomBytes(32);
    await lists.add({
      list: 'black',
      entityType: 'nationalIdHash',
      value: '11010519491231002X',
      reason: 'fraud ring',
      source: 'case-1',
      addedBy: 'k',
    });
    await lists.add({
      list: 'black',
      entityType: 'payee',
      value: 'mule-acct-77',
      reason: 'mule',
      source: 'case-2',
      addedBy: 'k',
    });
    await lists.setPartnerKey('bank-b', shared);
    const exported = await lists.exportFor('bank-b');
    const text = JSON.stringify(exported);
    expect(text).not.toContain('mule-acct-77');
    expect(text).not.toMatch(/11010519491231002x/i);
    // A person identifier is held only as our keyed hash, which a partner cannot match: it is withheld, and counted.
    expect(exported.entries.map((e) => e.entityType)).toEqual(['payee']);
    expect(exported.withheld).toBe(1);

    // The partner's side: its own store, the same agreed key, under its own name for us.
    const theirStore = await openStore({ sqlitePath: ':memory:' });
    const theirs = new ListService(monitorListStore(theirStore), {
      clock,
      ids: uuidv7Generator(clock, seededRandom(8)),
      masterKey: randomBytes(32),
    });
    await theirs.load();
    await theirs.setPartnerKey('bank-a', shared);
    const result = await theirs.importFrom({ ...exported, partnerId: 'bank-a' }, 'k2');
    expect(result).toEqual({ imported: 1, skipped: 0 });
    expect(await theirs.importFrom({ ...exported, partnerId: 'bank-a' }, 'k2')).toEqual({
      imported: 0,
      skipped: 1,
    });
    expect(theirs.check('payee', 'mule-acct-77', T0)).toMatchObject([{ list: 'black', reason: 'mule' }]);
    expect(theirs.check('payee', 'someone-else', T0)).toEqual([]);
    // Imported entries keep no value and are never re-shared.
    const imported = await theirs.query({});
    expect(imported.every((e) => e.value === undefined && e.partnerId === 'bank-a')).toBe(true);
    await theirs.setPartnerKey('bank-c', randomBytes(32));
    expect((await theirs.exportFor('bank-c')).entries).toEqual([]);
    // A wrong key is refused by fingerprint; the sealed key survives a restart.
    await theirs.setPartnerKey('bank-a', randomBytes(32));
    await expect(theirs.importFrom({ ...exported, partnerId: 'bank-a' }, 'k2')).rejects.toMatchObject({
      code: 'LG_VALIDATION',
    });
    await theirs.setPartnerKey('bank-a', shared);
    const restarted = new ListService(monitorListStore(theirStore), {
      clock,
      ids: uuidv7Generator(clock, seededRandom(9)),
      masterKey: Buffer.alloc(32, 1),
    });
    await expect(restarted.load()).rejects.toThrow(); // a different master key cannot unseal the partner keys
    await theirStore.close();
  });
});

/** Issue 12, "lists hold identifiers in clear": person identifiers are held only as keyed hashes. */
describe('person identifiers on lists', () => {
  const NATIONAL_ID = '11010519491231002X';
  const PHONE = '13812345678';
  let store: Store;
  let clock: ManualClock;
  let lists: ListService;
  const newService = (seed: number) =>
    new ListService(monitorListStore(store), {
      clock,
      ids: uuidv7Generator(clock, seededRandom(seed)),
      masterKey: MASTER_KEY,
    });
  /** Everything the store holds about lists and the ledger, as text: no clear identifier may appear in it. */
  const stored = async () =>
    JSON.stringify([
      await store.db.selectFrom('monitor_list_entries').selectAll().execute(),
      await store.db.selectFrom('ledger_entries').selectAll().execute(),
    ]);
  beforeEach(async () => {
    store = await openStore({ sqlitePath: ':memory:' });
    clock = new ManualClock(T0);
    lists = newService(5);
    await lists.load();
  });
  afterEach(async () => store.close());

  it('hashes a national ID or phone in clear on entry (the borrower lookup hash), and matches it in any spelling', async () => {
    const id = await lists.add({
      list: 'black',
      entityType: 'nationalIdHash',
      value: ` ${NATIONAL_ID.toLowerCase()} `,
      reason: 'court enforcement',
      source: 'case-3',
      addedBy: 'k',
    });
    const phone = await lists.add({
      list: 'black',
      entityType: 'phoneHash',
      value: '+86 138-1234-5678',
      reason: 'mule',
      source: 'case-4',
      addedBy: 'k',
    });
    const crypto = fieldCryptoFromMasterKey(MASTER_KEY);
    // The same keyed hash the core stores for a borrower's ID (core/borrowers.ts), so an entry can name a borrower.
    expect(id.value).toBe(crypto.lookupHash(NATIONAL_ID, 'national_id'));
    expect(phone.value).toBe(crypto.lookupHash(PHONE, 'phone'));
    expect(lists.check('nationalIdHash', NATIONAL_ID, T0)).toHaveLength(1);
    expect(lists.check('nationalIdHash', id.value ?? '', T0)).toHaveLength(1);
    expect(lists.check('phoneHash', PHONE, T0)).toHaveLength(1);
    expect(lists.check('nationalIdHash', '110105194912310038', T0)).toEqual([]);
    const text = await stored();
    expect(text).not.toMatch(/11010519491231002x/i);
    expect(text).not.toContain(PHONE);
    expect(JSON.stringify(await lists.query({}))).not.toMatch(/11010519491231002x|13812345678/i);
  });

  it('rewrites entries a former version stored in clear into keyed hashes when it loads, in the ledger', async () => {
    await legacyEntry(store, {
      id: 'legacy-1',
      entityType: 'nationalIdHash',
      value: NATIONAL_ID,
      reason: 'court enforcement',
    });
    const restarted = newService(6);
    await restarted.load();
    expect(await stored()).not.toMatch(/11010519491231002x/i);
    expect(restarted.check('nationalIdHash', NATIONAL_ID, T0)).toHaveLength(1);
    const ledger = await store.db.selectFrom('ledger_entries').select('kind').execute();
    expect(ledger.map((e) => e.kind)).toContain('list.rehashed');
    expect((await verifyLedger(store.db)).ok).toBe(true);
  });

  it('records every list change (add, remove, import) in the ledger, in the same transaction', async () => {
    const added = await lists.add({
      list: 'black',
      entityType: 'device',
      value: 'dev-1',
      reason: 'farm',
      source: 'case-5',
      addedBy: 'k',
    });
    await lists.remove(added.entryId, 'k');
    const shared = randomBytes(32);
    await lists.setPartnerKey('bank-b', shared);
    await lists.importFrom(
      {
        partnerId: 'bank-b',
        algorithm: 'HMAC-SHA256',
        keyFingerprint: (await lists.exportFor('bank-b')).keyFingerprint,
        entries: [
          {
            list: 'black',
            entityType: 'device',
            hmac: sharedHmac(shared, 'device', 'dev-2'),
            reason: 'r',
            source: 's',
          },
        ],
      },
      'k',
    );
    const kinds = (await store.db.selectFrom('ledger_entries').select('kind').orderBy('seq').execute()).map(
      (e) => e.kind,
    );
    expect(kinds).toEqual(['list.added', 'list.removed', 'list.partner_key', 'list.imported']);
    expect(JSON.stringify(await store.db.selectFrom('ledger_entries').selectAll().execute())).not.toContain(
      shared.toString('hex'),
    );
    expect((await verifyLedger(store.db)).ok).toBe(true);
    // A failed write leaves neither the entry nor its ledger entry (one transaction).
    await expect(lists.remove(added.entryId, 'k')).rejects.toMatchObject({ code: 'LG_NOT_FOUND' });
    expect(await store.db.selectFrom('ledger_entries').select('kind').execute()).toHaveLength(4);
  });

  it('another instance sharing the store sees an entry at once (lookup reads the shared store)', async () => {
    const other = newService(7);
    await other.load();
    await lists.add({
      list: 'black',
      entityType: 'nationalIdHash',
      value: NATIONAL_ID,
      reason: 'fraud',
      source: 'case-6',
      addedBy: 'k',
    });
    const hits = await other.lookup(
      [
        { entityType: 'nationalIdHash', value: NATIONAL_ID },
        { entityType: 'device', value: 'dev-x' },
      ],
      T0,
    );
    expect(hits).toMatchObject([{ list: 'black', entityType: 'nationalIdHash' }]);
    expect(await other.lookup([{ entityType: 'nationalIdHash', value: NATIONAL_ID }], T0 - 1)).toHaveLength(
      1,
    );
  });
});

for (const factory of STORE_FACTORIES) {
  describe.skipIf(!factory.enabled)(`list lookups from the shared store on ${factory.name}`, () => {
    it('finds own entries by keyed hash and value, honours expiry and removal', async () => {
      const store = await factory.open('monitor_list_lookup');
      try {
        const clock = new ManualClock(T0);
        const writer = new ListService(monitorListStore(store), {
          clock,
          ids: uuidv7Generator(clock, seededRandom(1)),
          masterKey: MASTER_KEY,
        });
        const reader = new ListService(monitorListStore(store), {
          clock,
          ids: uuidv7Generator(clock, seededRandom(2)),
          masterKey: MASTER_KEY,
        });
        await writer.load();
        await reader.load();
        const person = await writer.add({
          list: 'black',
          entityType: 'nationalIdHash',
          value: '11010519491231002X',
          reason: 'fraud',
          source: 'case-7',
          addedBy: 'k',
        });
        await writer.add({
          list: 'grey',
          entityType: 'device',
          value: 'dev-7',
          reason: 'farm',
          source: 'case-8',
          addedBy: 'k',
          expiresAt: T0 + DAY,
        });
        const probes = [
          { entityType: 'nationalIdHash' as const, value: '11010519491231002x' },
          { entityType: 'device' as const, value: 'dev-7' },
          { entityType: 'ip' as const, value: 'dev-7' },
        ];
        expect((await reader.lookup(probes, T0)).map((h) => `${h.list}:${h.entityType}`).sort()).toEqual([
          'black:nationalIdHash',
          'grey:device',
        ]);
        expect(await reader.lookup(probes, T0 + DAY)).toHaveLength(1);
        await writer.remove(person.entryId, 'k');
        expect(await reader.lookup(probes, T0 + DAY)).toEqual([]);
        expect((await verifyLedger(store.db)).ok).toBe(true);
      } finally {
        await store.close();
      }
    });
  });
}
