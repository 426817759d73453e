import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { sql } from 'kysely';
import { appendToLedger, entryLeaf, entryLeafAround, verifyLedger } from '../../src/compliance/ledger.js';
import type { DbTx, Store } from '../../src/store/db.js';
import { STORE_FACTORIES } from '../helpers/stores.js';

describe('an entry leaf split around its seq (a PostgreSQL unit statement hashes entries with the seq it draws)', () => {
  it('puts any seq back where entryLeaf writes it, whatever the other fields hold', () => {
    fc.assert(
      fc.property(
        fc.record({
          entry_id: fc.string({ unit: 'binary' }),
          kind: fc.string(),
          subject_id: fc.string({ unit: 'binary' }),
          // Payloads that spell the member itself, and any other text.
          payload: fc.oneof(
            fc.constant('{"seq":0,"x":1}'),
            fc.constant('"seq":0'),
            fc.string({ unit: 'binary' }),
          ),
          recorded_at: fc.nat(),
        }),
        fc.nat(),
        (fields, seq) => {
          const { before, after } = entryLeafAround(fields);
          expect(before + String(seq) + after).toBe(entryLeaf({ ...fields, seq }));
        },
      ),
      { numRuns: 500 },
    );
  });
});

for (const factory of STORE_FACTORIES) {
  describe.skipIf(!factory.enabled)(`ledger on ${factory.name}`, () => {
    let store: Store;
    beforeAll(async () => {
      store = await factory.open('ledger');
      for (let i = 0; i < 20; i++) {
        await store.transaction((tx) =>
          appendToLedger(tx, [
            {
              entryId: `e${i}a`,
              kind: 'decision',
              subjectId: `s${i % 3}`,
              payload: { i, outcome: 'APPROVE' },
              recordedAt: 1_700_000_000_000 + i,
            },
            {
              entryId: `e${i}b`,
              kind: 'line.action',
              subjectId: `s${i % 3}`,
              payload: { i, type: 'GRANT' },
              recordedAt: 1_700_000_000_000 + i,
            },
          ]),
        );
      }
    });
    afterAll(async () => store?.close());

    it('verifies an intact chain', async () => {
      expect(await verifyLedger(store.db)).toEqual({ ok: true, entriesChecked: 40 });
    });

    it('keeps one chain under concurrent appends', async () => {
      await Promise.all(
        Array.from({ length: 25 }, (_, i) =>
          store.transaction((tx) =>
            appendToLedger(tx, [
              { entryId: `c${i}`, kind: 'decision', subjectId: 'c', payload: { i }, recordedAt: 1 },
            ]),
          ),
        ),
      );
      expect(await verifyLedger(store.db)).toMatchObject({ ok: true, entriesChecked: 65 });
    });

    it('rolls back entries with the transaction that wrote them', async () => {
      await expect(
        store.transaction(async (tx) => {
          await appendToLedger(tx, [
            { entryId: 'rolled-back', kind: 'decision', subjectId: 'x', payload: {}, recordedAt: 1 },
          ]);
          throw new Error('abort');
        }),
      ).rejects.toThrow('abort');
      const verification = await verifyLedger(store.db);
      expect(verification).toMatchObject({ ok: true, entriesChecked: 65 });
    });

    it('finds any single changed, deleted or reordered row, naming the first bad entry', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 1, max: 65 }),
          fc.constantFrom('payload', 'delete', 'swap', 'hash', 'kind', 'truncate'),
          async (seq, tamper) => {
            await store
              .transaction(async (tx) => {
                // Each chain is checked on its own (PostgreSQL has several): a deleted entry shows at the next
                // entry of ITS chain, which may come later in global order than seq + 1.
                const next = await sql<{ seq: number | null }>`select min(seq) as seq from ledger_entries
                  where seq > ${seq} and chain = (select chain from ledger_entries where seq = ${seq})`.execute(
                  tx,
                );
                const nextInChain = Number(next.rows[0]?.seq ?? seq + 1);
                await tamperWith(tx, seq, tamper);
                const result = await verifyLedger(tx);
                expect(result.ok).toBe(false);
                expect(result.firstBad?.seq).toBeLessThanOrEqual(
                  tamper === 'truncate' ? 66 : Math.max(seq + 1, nextInChain),
                );
                throw new RollbackSignal();
              })
              .catch((error: unknown) => {
                if (!(error instanceof RollbackSignal)) throw error;
              });
          },
        ),
        { numRuns: 25 },
      );
      expect((await verifyLedger(store.db)).ok).toBe(true);
    });
  });
}

class RollbackSignal extends Error {}

async function tamperWith(tx: DbTx, seq: number, tamper: string): Promise<void> {
  switch (tamper) {
    case 'payload':
      await sql`update ledger_entries set payload = ${'{"i":999}'} where seq = ${seq}`.execute(tx);
      return;
    case 'kind':
      await sql`update ledger_entries set kind = ${'forged'} where seq = ${seq}`.execute(tx);
      return;
    case 'hash':
      await sql`update ledger_entries set hash = ${'f'.repeat(64)} where seq = ${seq}`.execute(tx);
      return;
    case 'delete':
      await sql`delete from ledger_entries where seq = ${seq}`.execute(tx);
      return;
    case 'truncate':
      await sql`delete from ledger_entries where seq = (select max(seq) from ledger_entries)`.execute(tx);
      return;
    case 'swap': {
      // Reorder: exchange the contents of two neighbouring rows while keeping their seq numbers.
      const other = seq === 65 ? 64 : seq + 1;
      await sql`update ledger_entries set seq = -1 where seq = ${seq}`.execute(tx);
      await sql`update ledger_entries set seq = ${seq} where seq = ${other}`.execute(tx);
      await sql`update ledger_entries set seq = ${other} where seq = -1`.execute(tx);
      return;
    }
  }
}
