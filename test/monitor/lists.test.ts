import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { ManualClock } from '../../src/domain/clock.js';
import { uuidv7Generator } from '../../src/domain/ids.js';
import { seededRandom } from '../../src/domain/random.js';
import { openStore, type Store } from '../../src/store/db.js';
import { ListService } from '../../src/monitor/lists.js';
import { DAY, MASTER_KEY, T0 } from './helpers.js';

describe('black/grey/white lists', () => {
  let store: Store;
  let clock: ManualClock;
  let lists: ListService;
  beforeEach(async () => {
    store = await openStore({ sqlitePath: ':memory:' });
    clock = new ManualClock(T0);
    lists = new ListService(store, {
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
    await lists.remove(e.entryId);
    await expect(lists.remove(e.entryId)).rejects.toMatchObject({ code: 'LG_NOT_FOUND' });
    const reloaded = new ListService(store, {
      clock,
      ids: uuidv7Generator(clock, seededRandom(6)),
      masterKey: MASTER_KEY,
    });
    await reloaded.load();
    expect(reloaded.check('ip', '203.0.113.7', T0)).toHaveLength(1);
    expect(reloaded.check('device', 'dev-9', T0)).toEqual([]);
  });

  it('exchanges entries with a partner by HMAC: no raw identifier leaves, and matches on the other side', async () => {
    const shared = randomBytes(32);
    await lists.add({
      list: 'black',
      entityType: 'nationalIdHash',
      value: 'ABCDEF0123',
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
    expect(text).not.toMatch(/abcdef0123/i);
    expect(exported.entries).toHaveLength(2);

    // The partner's side: its own store, the same agreed key, under its own name for us.
    const theirStore = await openStore({ sqlitePath: ':memory:' });
    const theirs = new ListService(theirStore, {
      clock,
      ids: uuidv7Generator(clock, seededRandom(8)),
      masterKey: randomBytes(32),
    });
    await theirs.load();
    await theirs.setPartnerKey('bank-a', shared);
    const result = await theirs.importFrom({ ...exported, partnerId: 'bank-a' }, 'k2');
    expect(result).toEqual({ imported: 2, skipped: 0 });
    expect(await theirs.importFrom({ ...exported, partnerId: 'bank-a' }, 'k2')).toEqual({
      imported: 0,
      skipped: 2,
    });
    expect(theirs.check('payee', 'mule-acct-77', T0)).toMatchObject([{ list: 'black', reason: 'mule' }]);
    expect(theirs.check('nationalIdHash', 'abcdef0123', T0)).toHaveLength(1);
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
    const restarted = new ListService(theirStore, {
      clock,
      ids: uuidv7Generator(clock, seededRandom(9)),
      masterKey: Buffer.alloc(32, 1),
    });
    await expect(restarted.load()).rejects.toThrow(); // a different master key cannot unseal the partner keys
    await theirStore.close();
  });
});
