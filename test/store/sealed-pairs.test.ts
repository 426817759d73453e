import { describe, expect, it } from 'vitest';
import { DECISION_INPUTS, SEALED_PREFIX } from '../../src/compliance/index.js';
import { resealPair } from '../../src/compliance/sealed-pair.js';
import { sealedPairRows } from '../../src/store/sealed-pairs.js';
import type { Store } from '../../src/store/db.js';
import { STORE_FACTORIES, TEST_FIELD_CRYPTO } from '../helpers/stores.js';

/**
 * The one piece of SQL `keys rotate-data` pages through and writes back a table's sealed pairs with
 * (src/store/sealed-pairs.ts): the rows not under the current key, in id order after a cursor; a page written back in one
 * transaction, each row only if it still holds what was read, so a row changed meanwhile is left for the next run.
 */
const crypto = TEST_FIELD_CRYPTO;
const CURRENT = `${SEALED_PREFIX}${crypto.currentKeyId}.`;

async function insertClearDecision(store: Store, id: string, n: number): Promise<void> {
  await store.transaction((tx) =>
    tx
      .insertInto('decisions')
      .values({
        id,
        kind: 'application',
        borrower_id: null,
        line_id: null,
        subject_key: null,
        strategy_id: 'application',
        strategy_version: 1,
        engine_version: 'test',
        context: `{"n":${n}}`,
        outcome: 'APPROVE',
        reasons: '[]',
        result: '{}',
        trace: `[{"node":"n${n}"}]`,
        engine_error: 0,
        latency_ms: 1,
        decided_at: n,
      })
      .execute(),
  );
}

const columns = (store: Store, id: string) =>
  store.db
    .selectFrom('decisions')
    .select(['context', 'trace'])
    .where('id', '=', id)
    .executeTakeFirstOrThrow();

for (const factory of STORE_FACTORIES)
  describe.skipIf(!factory.enabled)(
    `a table's sealed pairs, as a rotation pages through them (${factory.name})`,
    () => {
      it('reads the rows not under the current key after a cursor; writes back only rows unchanged since', async () => {
        const store = await factory.open('sealed_pairs');
        try {
          for (const n of [1, 2, 3]) await insertClearDecision(store, `d${n}`, n);
          const rows = sealedPairRows(store, DECISION_INPUTS);
          const page = await rows.after('', 2, CURRENT);
          expect(page).toEqual([
            { id: 'd1', committed: '{"n":1}', rider: '[{"node":"n1"}]' },
            { id: 'd2', committed: '{"n":2}', rider: '[{"node":"n2"}]' },
          ]);
          // d2 is changed between the read and the write: its new value is kept, not overwritten.
          await store.db
            .updateTable('decisions')
            .set({ context: '{"n":20}' })
            .where('id', '=', 'd2')
            .execute();
          const updates = page.map((read) => ({
            read,
            sealed: { id: read.id, ...resealPair(crypto, DECISION_INPUTS, read.id, read) },
          }));
          expect(await rows.replace(updates)).toBe(1);
          const d1 = await columns(store, 'd1');
          expect(d1.context.startsWith(CURRENT)).toBe(true);
          expect(d1.trace).toBe(DECISION_INPUTS.marker);
          expect(await columns(store, 'd2')).toEqual({ context: '{"n":20}', trace: '[{"node":"n2"}]' });
          // What is left for the next run: d2 and d3; after the cursor d2, only d3.
          expect((await rows.after('', 10, CURRENT)).map((r) => r.id)).toEqual(['d2', 'd3']);
          expect((await rows.after('d2', 10, CURRENT)).map((r) => r.id)).toEqual(['d3']);
          expect(await rows.replace([])).toBe(0);
        } finally {
          await store.close();
        }
      });
    },
  );
