import { afterEach, describe, expect, it } from 'vitest';
import { createIsolatedPostgresSchema, openStore, type Store } from '../../src/store/db.js';
import { TEST_DATABASE_URL, rowCount } from '../helpers/stores.js';
import type { IdempotencyClaim } from '../../src/core/index.js';
import { makeCore, openLine } from './harness.js';

/**
 * The draw's unit of work writes the caller's idempotency key itself, passed in explicitly (UnitGuard): the key commits
 * with the draw or not at all, on the synchronous writer and on the Kysely one alike.
 */
const DRAW = { amountMinor: 100_000, currency: 'CNY', termMonths: 6, method: 'EQUAL_INSTALLMENT' } as const;

function claimOf(key: string, at: number): IdempotencyClaim & { inserted?: boolean } {
  const claim: IdempotencyClaim & { inserted?: boolean } = {
    scope: 'test POST /v1/lines/:id/draws',
    key,
    requestHash: 'h',
    at,
    pending: () => claim.inserted === undefined,
    claimed: (inserted) => {
      claim.inserted = inserted;
      if (!inserted) throw new Error('claimed elsewhere');
    },
  };
  return claim;
}

const stores: Store[] = [];
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
});

async function engines(): Promise<[string, Store][]> {
  const syncStore = await openStore({ sqlitePath: ':memory:' });
  const kyselyStore = await openStore({ sqlitePath: ':memory:' });
  stores.push(syncStore, kyselyStore);
  const { sync: _unused, ...asyncOnly } = kyselyStore;
  const all: [string, Store][] = [
    ['synchronous', syncStore],
    ['Kysely', asyncOnly],
  ];
  if (TEST_DATABASE_URL) {
    // PostgreSQL writes the debit, the rows and the claim in one statement (core-draws.ts writeRowsPostgres).
    const pg = await openStore({
      postgresUrl: await createIsolatedPostgresSchema(TEST_DATABASE_URL, 'draw_guard'),
    });
    stores.push(pg);
    all.push(['PostgreSQL', pg]);
  }
  return all;
}

describe('a draw with an explicit idempotency claim', () => {
  it('commits the key in the same unit as the draw, once', async () => {
    for (const [name, store] of await engines()) {
      const h = makeCore(store);
      const lineId = await openLine(h);
      const claim = claimOf(`k-${name}`, h.clock.now());
      const result = await h.core.requestDraw(lineId, DRAW, { idempotency: claim });
      expect(result.status, name).toBe('APPROVED');
      expect(claim.inserted, name).toBe(true);
      const keys = await store.db.selectFrom('idempotency_keys').selectAll().execute();
      expect(
        keys.map((k) => [k.idem_key, k.state]),
        name,
      ).toEqual([[`k-${name}`, 'committed']]);
    }
  });

  it('writes nothing when another request holds the key (the unit rolls back)', async () => {
    for (const [name, store] of await engines()) {
      const h = makeCore(store);
      const lineId = await openLine(h);
      await h.core.requestDraw(lineId, DRAW, { idempotency: claimOf('taken', h.clock.now()) });
      const drawsBefore = await rowCount(store, 'draws');
      const line = await h.core.getLine(lineId);
      await expect(
        h.core.requestDraw(lineId, DRAW, { idempotency: claimOf('taken', h.clock.now()) }),
        name,
      ).rejects.toThrow('claimed elsewhere');
      expect(await rowCount(store, 'draws'), name).toBe(drawsBefore);
      expect(await rowCount(store, 'idempotency_keys'), name).toBe(1);
      expect((await h.core.getLine(lineId)).availableMinor, name).toBe(line.availableMinor);
    }
  });

  // On PostgreSQL the unit's statement is sent with its COMMIT behind it (src/store/prepared.ts): a debit that does not
  // take must then fail the statement itself, or the COMMIT would keep the rows, the ledger entry and the key it wrote.
  it('a debit the line cannot take refuses the unit: nothing written, the line as it was, the store usable', async () => {
    for (const [name, store] of await engines()) {
      const h = makeCore(store);
      const lineId = await openLine(h);
      const line = await h.core.getLine(lineId);
      const before = {
        ledger: await rowCount(store, 'ledger_entries'),
        keys: await rowCount(store, 'idempotency_keys'),
      };
      const claim = claimOf(`over-${name}`, h.clock.now());
      const refusal = new Error('debit refused');
      const refusedWith: number[] = [];
      await expect(
        h.deps.coreStore.runDraw({
          lineId,
          now: () => h.clock.now(),
          guard: { idempotency: claim },
          notFound: () => new Error('no line'),
          refused: (read) => {
            refusedWith.push(read.available_minor);
            return refusal;
          },
          plan: ({ now }) => ({
            writes: {
              debit: { lineId, amountMinor: line.availableMinor + 1, at: now },
              ledger: [
                {
                  entryId: `e-${name}`,
                  kind: 'test.overdraw',
                  subjectId: lineId,
                  payload: {},
                  recordedAt: now,
                },
              ],
              outbox: [],
            },
          }),
        }),
        name,
      ).rejects.toBe(refusal);
      // The refusal reads the line as it stands.
      expect(refusedWith, name).toEqual([line.availableMinor]);
      expect(claim.inserted, name).toBeUndefined();
      expect(
        { ledger: await rowCount(store, 'ledger_entries'), keys: await rowCount(store, 'idempotency_keys') },
        name,
      ).toEqual(before);
      expect((await h.core.getLine(lineId)).availableMinor, name).toBe(line.availableMinor);
      const next = await h.core.requestDraw(lineId, DRAW, {
        idempotency: claimOf(`after-${name}`, h.clock.now()),
      });
      expect(next.status, name).toBe('APPROVED');
    }
  });
});
