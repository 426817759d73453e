import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/db.js';
import { appendToLedger, verifyLedger } from '../../src/compliance/ledger.js';

describe('SQLite group commit', () => {
  it('commits concurrent units together, rolls back only the unit that failed, and survives reopening', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'lg-gc-')), 'db.sqlite');
    const store = await openStore({ sqlitePath: path });
    const results = await Promise.allSettled(
      Array.from({ length: 300 }, (_, i) =>
        store.transaction(async (tx) => {
          await appendToLedger(tx, [{ entryId: `u${i}`, kind: 'test', subjectId: 's', payload: { i }, recordedAt: i }]);
          await tx.insertInto('outbox').values({ id: `o${i}`, topic: 't', payload: '{}', created_at: i, published_at: null }).execute();
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
    const outbox = await reopened.db.selectFrom('outbox').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    expect(Number(outbox.n)).toBe(257);
    expect(await verifyLedger(reopened.db)).toEqual({ ok: true, entriesChecked: 257 });
    await reopened.close();
  });
});

describe('nested transactions', () => {
  it('are refused instead of deadlocking', async () => {
    const store = await openStore({ sqlitePath: ':memory:' });
    await expect(store.transaction(() => store.transaction(async () => 1))).rejects.toThrow(/inside another transaction/);
    await store.close();
  });
});
