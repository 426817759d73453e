import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openStore, sql } from '../../src/store/db.js';
import { appendToLedger, appendToLedgerSync, verifyLedger } from '../../src/compliance/ledger.js';

describe('SQLite group commit', () => {
  it('commits concurrent units together, rolls back only the unit that failed, and survives reopening', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'lg-gc-')), 'db.sqlite');
    const store = await openStore({ sqlitePath: path });
    const results = await Promise.allSettled(
      Array.from({ length: 300 }, (_, i) =>
        store.transaction(async (tx) => {
          await appendToLedger(tx, [
            { entryId: `u${i}`, kind: 'test', subjectId: 's', payload: { i }, recordedAt: i },
          ]);
          await tx
            .insertInto('outbox')
            .values({ id: `o${i}`, topic: 't', payload: '{}', created_at: i, published_at: null })
            .execute();
          if (i % 7 === 0) throw new Error(`unit ${i} refuses`);
          return i;
        }),
      ),
    );
    const failed = results.filter((r) => r.status === 'rejected').length;
    expect(failed).toBe(43);
    expect(results[1]).toEqual({ status: 'fulfilled', value: 1 });
    await store.close();

    const reopened = await openStore({ sqlitePath: path });
    const outbox = await reopened.db
      .selectFrom('outbox')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    expect(Number(outbox.n)).toBe(257);
    expect(await verifyLedger(reopened.db)).toEqual({ ok: true, entriesChecked: 257 });
    await reopened.close();
  });
});

describe('synchronous units', () => {
  it('share batches with async units: a failing unit rolls back alone and the ledger chain stays whole', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'lg-gc-sync-')), 'db.sqlite');
    const store = await openStore({ sqlitePath: path });
    const sync = store.sync;
    if (!sync) throw new Error('an embedded store offers synchronous units');
    const outbox = (id: string, at: number) => ({
      id,
      topic: 't',
      payload: '{}',
      created_at: at,
      published_at: null,
    });
    // Interleaved kinds in one turn, so batches mix them; every 5th unit of each kind fails after writing.
    const results = await Promise.allSettled(
      Array.from({ length: 200 }, (_, i) =>
        i % 2 === 0
          ? sync.transaction((syncSql) => {
              appendToLedgerSync(syncSql, [
                { entryId: `s${i}`, kind: 'test', subjectId: 's', payload: { i }, recordedAt: i },
              ]);
              syncSql.insert('outbox', [outbox(`s${i}`, i)]);
              if (i % 10 === 0) throw new Error(`sync unit ${i} refuses`);
              return i;
            })
          : store.transaction(async (tx) => {
              await appendToLedger(tx, [
                { entryId: `a${i}`, kind: 'test', subjectId: 'a', payload: { i }, recordedAt: i },
              ]);
              await tx
                .insertInto('outbox')
                .values(outbox(`a${i}`, i))
                .execute();
              if (i % 10 === 1) throw new Error(`async unit ${i} refuses`);
              return i;
            }),
      ),
    );
    expect(results.filter((r) => r.status === 'rejected')).toHaveLength(40);
    expect(results[2]).toEqual({ status: 'fulfilled', value: 2 });
    // A batch of synchronous units alone (no Kysely), with failures in the middle and at the end.
    const alone = await Promise.allSettled(
      Array.from({ length: 30 }, (_, i) =>
        sync.transaction((syncSql) => {
          appendToLedgerSync(syncSql, [
            { entryId: `b${i}`, kind: 'test', subjectId: 'b', payload: { i }, recordedAt: i },
          ]);
          if (i % 3 === 2) throw new Error('refused');
          return i;
        }),
      ),
    );
    expect(alone.filter((r) => r.status === 'rejected')).toHaveLength(10);
    // Synchronous batches commit with synchronous=NORMAL and flush the WAL themselves; every other write keeps FULL.
    expect(
      await sync.transaction((syncSql) => syncSql.get<{ synchronous: number }>('pragma synchronous', [])),
    ).toEqual({ synchronous: 1 });
    expect((await sql<{ synchronous: number }>`pragma synchronous`.execute(store.db)).rows).toEqual([
      { synchronous: 2 },
    ]);
    await expect(sync.durable()).resolves.toBeUndefined();
    await store.close();

    const reopened = await openStore({ sqlitePath: path });
    const rows = await reopened.db.selectFrom('outbox').select('id').execute();
    expect(rows).toHaveLength(160);
    expect(await verifyLedger(reopened.db)).toEqual({ ok: true, entriesChecked: 180 });
    await reopened.close();
  });

  it('refuse to run under a guard that only knows async hooks', async () => {
    const store = await openStore({ sqlitePath: ':memory:' });
    const { unitContext } = await import('../../src/store/unit-context.js');
    await expect(
      unitContext.run({ afterWork: async () => undefined }, () => store.sync?.transaction(() => 1)),
    ).rejects.toThrow(/async-only hook/);
    await store.close();
  });
});

describe('nested transactions', () => {
  it('are refused instead of deadlocking', async () => {
    const store = await openStore({ sqlitePath: ':memory:' });
    await expect(store.transaction(() => store.transaction(async () => 1))).rejects.toThrow(
      /inside another transaction/,
    );
    await expect(store.sync?.transaction(() => store.sync?.transaction(() => 1))).rejects.toThrow(
      /inside another transaction/,
    );
    await store.close();
  });
});
