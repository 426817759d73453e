import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/db.js';
import { insertRows, runShaped } from '../../src/store/shaped.js';
import { STORE_FACTORIES } from '../helpers/stores.js';

describe('SQLite reader connection (store.readDb)', () => {
  it('answers while the writer holds an open batch, and sees only committed rows', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'lg-readdb-')), 'db.sqlite');
    const store = await openStore({ sqlitePath: path });
    expect(store.readDb).not.toBe(store.db);
    await store.transaction((tx) =>
      tx
        .insertInto('outbox')
        .values({ id: 'a', topic: 't', payload: '{}', created_at: 1, published_at: null })
        .execute(),
    );
    let release = (): void => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    const batch = store.transaction(async (tx) => {
      await tx
        .insertInto('outbox')
        .values({ id: 'b', topic: 't', payload: '{}', created_at: 2, published_at: null })
        .execute();
      await held;
    });
    // Give the batch time to start and write 'b'.
    await new Promise((resolve) => setTimeout(resolve, 20));
    const seen = await store.readDb.selectFrom('outbox').select('id').orderBy('id').execute();
    expect(seen.map((r) => r.id)).toEqual(['a']);
    release();
    await batch;
    const after = await store.readDb.selectFrom('outbox').select('id').orderBy('id').execute();
    expect(after.map((r) => r.id)).toEqual(['a', 'b']);
    await expect(
      store.readDb
        .insertInto('outbox')
        .values({ id: 'c', topic: 't', payload: '{}', created_at: 3, published_at: null })
        .execute(),
    ).rejects.toThrow(/readonly/i);
    await store.close();
  });

  it('is the writer itself for an in-memory database', async () => {
    const store = await openStore({ sqlitePath: ':memory:' });
    expect(store.readDb).toBe(store.db);
    await store.close();
  });
});

for (const factory of STORE_FACTORIES) {
  describe.skipIf(!factory.enabled)(`reused compiled statements (${factory.name})`, () => {
    it('bind each call its own values, multi-row and single-row', async () => {
      const store = await factory.open('shaped');
      const row = (id: string, at: number) => ({
        id,
        topic: 't',
        payload: `{"n":${at}}`,
        created_at: at,
        published_at: null,
      });
      for (let i = 0; i < 3; i += 1) {
        await store.transaction((tx) => insertRows(tx, 'outbox', [row(`x${i}`, i), row(`y${i}`, 10 + i)]));
        await store.transaction((tx) => insertRows(tx, 'outbox', [row(`z${i}`, 20 + i)]));
      }
      const rows = await store.db
        .selectFrom('outbox')
        .select(['id', 'payload', 'created_at'])
        .orderBy('id')
        .execute();
      expect(rows.map((r) => [r.id, r.payload, Number(r.created_at)])).toEqual([
        ['x0', '{"n":0}', 0],
        ['x1', '{"n":1}', 1],
        ['x2', '{"n":2}', 2],
        ['y0', '{"n":10}', 10],
        ['y1', '{"n":11}', 11],
        ['y2', '{"n":12}', 12],
        ['z0', '{"n":20}', 20],
        ['z1', '{"n":21}', 21],
        ['z2', '{"n":22}', 22],
      ]);
      const touched = await runShaped(
        store.db,
        'test publish one',
        () => store.db.updateTable('outbox').set({ published_at: 99 }).where('id', '=', 'x1'),
        [99, 'x1'],
      );
      expect(Number(touched.numAffectedRows)).toBe(1);
      const again = await runShaped(
        store.db,
        'test publish one',
        () => store.db.updateTable('outbox').set({ published_at: 98 }).where('id', '=', 'y2'),
        [98, 'y2'],
      );
      expect(Number(again.numAffectedRows)).toBe(1);
      const published = await store.db
        .selectFrom('outbox')
        .select(['id', 'published_at'])
        .where('published_at', 'is not', null)
        .orderBy('id')
        .execute();
      expect(published.map((r) => [r.id, Number(r.published_at)])).toEqual([
        ['x1', 99],
        ['y2', 98],
      ]);
      await store.close();
    });

    it('refuse a shape whose parameters are not the ones Kysely binds', async () => {
      const store = await factory.open('shaped_bad');
      await expect(
        runShaped(
          store.db,
          'test bad order',
          () => store.db.updateTable('outbox').set({ published_at: 1 }).where('id', '=', 'q'),
          ['q', 1],
        ),
      ).rejects.toThrow(/parameters/);
      await store.close();
    });
  });
}
