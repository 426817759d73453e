import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { openStore, sql, type Store } from '../../src/store/db.js';
import type { IdempotencyClaim } from '../../src/domain/index.js';
import { createGroupCommitter } from '../../src/store/group-commit.js';
import { createSyncSql } from '../../src/store/sync.js';
import type { WalSyncer } from '../../src/store/wal-sync.js';
import type { Database } from '../../src/store/schema.js';
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
});

describe('a unit guarded by an idempotency key', () => {
  function claimOf(key: string) {
    const state = { committed: false, lost: false };
    const claim: IdempotencyClaim = {
      scope: 'key-1 /v1/test',
      key,
      requestHash: 'h',
      at: 1,
      pending: () => !state.committed,
      claimed: (inserted) => {
        if (!inserted) {
          state.lost = true;
          throw new Error('claimed elsewhere');
        }
        state.committed = true;
      },
    };
    return { claim, state };
  }
  const keys = (store: Store) =>
    store.db.selectFrom('idempotency_keys').select(['idem_key', 'state']).orderBy('idem_key').execute();

  it('writes the key with the unit, once per request, on both kinds of unit', async () => {
    const store = await openStore({ sqlitePath: ':memory:' });
    const first = claimOf('a');
    await store.transaction(async () => 1, { idempotency: first.claim });
    // A second unit of the same request does not write the key again.
    await store.transaction(async () => 2, { idempotency: first.claim });
    const second = claimOf('b');
    await store.sync?.transaction(() => 3, { guard: { idempotency: second.claim } });
    expect(await keys(store)).toEqual([
      { idem_key: 'a', state: 'committed' },
      { idem_key: 'b', state: 'committed' },
    ]);
    expect([first.state.committed, second.state.committed]).toEqual([true, true]);
    await store.close();
  });

  it('rolls the unit back when another request already holds the key', async () => {
    const store = await openStore({ sqlitePath: ':memory:' });
    await store.transaction(async () => 1, { idempotency: claimOf('k').claim });
    const loser = claimOf('k');
    await expect(
      store.transaction(
        async (tx) => {
          await tx
            .insertInto('outbox')
            .values({ id: 'lost-async', topic: 't', payload: '{}', created_at: 1, published_at: null })
            .execute();
        },
        { idempotency: loser.claim },
      ),
    ).rejects.toThrow(/claimed elsewhere/);
    const syncLoser = claimOf('k');
    await expect(
      store.sync?.transaction(
        (syncSql) =>
          syncSql.run('insert into outbox (id, topic, payload, created_at) values (?, ?, ?, ?)', [
            'lost-sync',
            't',
            '{}',
            1,
          ]),
        { guard: { idempotency: syncLoser.claim } },
      ),
    ).rejects.toThrow(/claimed elsewhere/);
    expect(await store.db.selectFrom('outbox').select('id').execute()).toEqual([]);
    expect([loser.state.lost, syncLoser.state.lost]).toEqual([true, true]);
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

describe('deferrable units', () => {
  /** A committer over a bare table, counting its commits (and flushing the WAL through `walSyncer`, when given). */
  function committer(deferMaxMs: number, walSyncer?: WalSyncer) {
    const connection = new BetterSqlite3(':memory:');
    connection.exec('create table t (id integer primary key, v text)');
    let commits = 0;
    const syncSql = createSyncSql(connection);
    const counting = {
      ...syncSql,
      run: (text: string, params: readonly unknown[]) => {
        if (text === 'commit') commits++;
        return syncSql.run(text, params);
      },
    };
    const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: connection }) });
    const gc = createGroupCommitter(db, {
      batchSizeMax: 256,
      deferMaxMs,
      syncSql: counting,
      ...(walSyncer ? { walSyncer } : {}),
    });
    const insert = (v: string) => (s: typeof syncSql) => s.run('insert into t (v) values (?)', [v]);
    const rows = () => connection.prepare('select v from t order by id').pluck().all();
    return { gc, insert, rows, commits: () => commits, close: () => db.destroy() };
  }

  it('join the next batch instead of paying a commit of their own', async () => {
    // An hour: the deferrable unit can only be committed by joining the other unit's batch.
    const c = committer(3_600_000);
    const deferred = c.gc.transactionSync(c.insert('bookkeeping'), { deferrable: true });
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(c.commits()).toBe(0);
    await Promise.all([c.gc.transactionSync(c.insert('draw')), deferred]);
    expect(c.commits()).toBe(1);
    expect(c.rows()).toEqual(['draw', 'bookkeeping']);
    await c.close();
  });

  it('commit on their own when no batch comes within deferMaxMs', async () => {
    const c = committer(10);
    await c.gc.transactionSync(c.insert('alone'), { deferrable: true });
    expect(c.commits()).toBe(1);
    expect(c.rows()).toEqual(['alone']);
    await c.close();
  });

  it('are committed by drain() before the store closes', async () => {
    const c = committer(3_600_000);
    const deferred = c.gc.transactionSync(c.insert('late'), { deferrable: true });
    await c.gc.drain();
    await expect(deferred).resolves.toBe(1);
    expect(c.rows()).toEqual(['late']);
    await c.close();

    // Through the store: close() drains, so a deferred write is never lost by closing.
    const path = join(mkdtempSync(join(tmpdir(), 'lg-gc-')), 'db.sqlite');
    const store = await openStore({ sqlitePath: path });
    const marked = store.sync?.transaction(
      (s) =>
        s.run('insert into outbox (id, topic, payload, created_at, published_at) values (?, ?, ?, ?, ?)', [
          'o1',
          't',
          '{}',
          1,
          2,
        ]),
      { deferrable: true },
    );
    await store.close();
    await expect(marked).resolves.toBe(1);
    const reopened = await openStore({ sqlitePath: path });
    expect(await reopened.db.selectFrom('outbox').select('id').execute()).toEqual([{ id: 'o1' }]);
    await reopened.close();
  });
});

describe('synchronous batches and the WAL flush', () => {
  /** A WAL syncer whose flushes the test completes by hand. */
  function manualSyncer() {
    const waiting: { resolve: () => void; reject: (error: Error) => void }[] = [];
    const syncer: WalSyncer = {
      sync: () => new Promise<void>((resolve, reject) => waiting.push({ resolve, reject })),
    };
    return { syncer, waiting };
  }
  const settledSoon = async (promise: Promise<unknown>) => {
    let settled = false;
    void promise.then(
      () => (settled = true),
      () => (settled = true),
    );
    for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
    return settled;
  };

  it('answer no caller before the flush completes, and fail the callers when it fails', async () => {
    const connection = new BetterSqlite3(':memory:');
    connection.exec('create table t (id integer primary key, v text)');
    const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: connection }) });
    const { syncer, waiting } = manualSyncer();
    const gc = createGroupCommitter(db, {
      batchSizeMax: 256,
      deferMaxMs: 10,
      syncSql: createSyncSql(connection),
      walSyncer: syncer,
    });
    const insert = (s: ReturnType<typeof createSyncSql>) => s.run('insert into t (v) values (?)', ['x']);

    const first = gc.transactionSync(insert);
    expect(await settledSoon(first)).toBe(false);
    expect(waiting).toHaveLength(1);
    waiting[0]?.resolve();
    await expect(first).resolves.toBe(1);

    const second = gc.transactionSync(insert);
    expect(await settledSoon(second)).toBe(false);
    waiting[1]?.reject(new Error('EIO'));
    await expect(second).rejects.toThrow('EIO');

    // drain() waits for every flush begun, even when a later one (its own unit's) completes first.
    const third = gc.transactionSync(insert);
    await settledSoon(third);
    let drained = false;
    const draining = gc.drain().then(() => (drained = true));
    await settledSoon(draining);
    expect(waiting).toHaveLength(4);
    waiting[3]?.resolve();
    await settledSoon(draining);
    expect(drained).toBe(false);
    waiting[2]?.resolve();
    await draining;
    await expect(third).resolves.toBe(1);
    await db.destroy();
  });
});
