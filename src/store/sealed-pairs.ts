import { sql, type Selectable } from 'kysely';
import {
  resealPairs,
  type FieldCrypto,
  type NamedResealCounts,
  type SealedPair,
  type SealedPairRow,
  type SealedRows,
} from '../compliance/index.js';
import type { Database } from './schema.js';
import type { Store } from './store-types.js';

/**
 * The rows of a table that keeps a SealedPair (src/compliance/sealed-pair.ts), as `keys rotate-data` pages through
 * them and writes them back re-sealed (src/compliance/reseal.ts): one piece of SQL for every such table.
 */

/** The tables whose rows hold a SealedPair: a pair naming any other table does not compile. */
type PairTable =
  | 'decisions'
  | 'credit_disputes'
  | 'bureau_submissions'
  | 'appeals'
  | 'complaints'
  | 'case_notes'
  | 'pending_changes'
  | 'line_actions';

/**
 * The text columns of `T` other than its id: what a pair's two columns can be. A nullable one (a dispute's outcome,
 * null until decided) too: a row whose committed column is null has nothing sealed, and the page query skips it (null
 * is never `not like` anything).
 */
type TextColumn<T extends PairTable> = Exclude<
  {
    [C in keyof Selectable<Database[T]>]: Selectable<Database[T]>[C] extends string | null ? C : never;
  }[keyof Selectable<Database[T]>],
  'id'
> &
  string;

/**
 * A SealedPair whose names are checked against the schema: the table holds pairs, both columns are its text columns
 * (or its committed column is sealed alone: no rider).
 */
export type TablePair<T extends PairTable> = SealedPair & {
  readonly table: T;
  readonly committed: TextColumn<T>;
  readonly rider: TextColumn<T> | null;
};

/** The rows of `pair`'s table, read a page at a time and replaced compare-and-set (SealedRows). */
export function sealedPairRows<T extends PairTable>(
  store: Store,
  pair: TablePair<T>,
): SealedRows<SealedPairRow> {
  return {
    after: (afterId, limit, sealedPrefix) => pairsAfter(store, pair, { afterId, limit, sealedPrefix }),
    replace: (updates) => replacePairs(store, pair, updates),
  };
}

/**
 * `lineguard keys rotate-data` for one pair's table (src/compliance/reseal.ts): every pair not under the current key
 * sealed under it, and pairs written in clear before sealing sealed now; a page per transaction, each row
 * compare-and-set on what was read. Reported as `<counted>Checked`, `Sealed` and `Unopenable`.
 */
export function resealTablePairs<T extends PairTable, N extends string>(
  store: Store,
  target: { readonly pair: TablePair<T>; readonly counted: N },
  crypto: FieldCrypto,
  pageSize: number,
): Promise<NamedResealCounts<N>> {
  return resealPairs({ ...target, rows: sealedPairRows(store, target.pair) }, crypto, pageSize);
}

/** Rows after `afterId` (id order) whose committed column does not start with `sealedPrefix`. */
async function pairsAfter<T extends PairTable>(
  store: Store,
  pair: TablePair<T>,
  page: { readonly afterId: string; readonly limit: number; readonly sealedPrefix: string },
): Promise<SealedPairRow[]> {
  const committed = sql.ref(pair.committed);
  // A column sealed alone has no rider: its StoredPair's rider is ''.
  const rider = pair.rider === null ? sql.lit('') : sql.ref(pair.rider);
  // The rider is sealed in the committed column's token (or both are in clear): that column says what a row needs.
  const found = await sql<SealedPairRow>`
    select id, ${committed} as committed, ${rider} as rider
    from ${sql.table(pair.table)}
    where id > ${page.afterId} and ${committed} not like ${`${page.sealedPrefix}%`}
    order by id
    limit ${page.limit}`.execute(store.db);
  return found.rows;
}

/** Re-sealed columns, a page in one transaction, each row only if it still holds what was read. */
function replacePairs<T extends PairTable>(
  store: Store,
  pair: TablePair<T>,
  updates: readonly { read: SealedPairRow; sealed: SealedPairRow }[],
): Promise<number> {
  if (updates.length === 0) return Promise.resolve(0);
  const committed = sql.ref(pair.committed);
  const rider = pair.rider === null ? undefined : sql.ref(pair.rider);
  return store.transaction(async (tx) => {
    let written = 0;
    for (const { read, sealed } of updates) {
      // A column sealed alone writes and compares that column only.
      const [setRider, sameRider] =
        rider === undefined
          ? [sql``, sql``]
          : [sql`, ${rider} = ${sealed.rider}`, sql` and ${rider} = ${read.rider}`];
      const updated = await sql`
        update ${sql.table(pair.table)}
        set ${committed} = ${sealed.committed}${setRider}
        where id = ${read.id} and ${committed} = ${read.committed}${sameRider}`.execute(tx);
      written += Number(updated.numAffectedRows ?? 0);
    }
    return written;
  });
}
