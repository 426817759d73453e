import { appendToLedger, type LedgerAppend } from '../compliance/index.js';
import type { CoreTables } from './core-tables.js';
import type { Db, DbTx, Store } from './store-types.js';

/** The core's borrower rows (core/ports.ts CoreStore): lookups by keyed hash, reads, inserts and key rotation. */
type BorrowerRow = CoreTables['borrowers'];
type SealedColumns = Pick<
  BorrowerRow,
  'national_id_hash' | 'national_id_enc' | 'name_enc' | 'phone_enc' | 'birth_date_enc'
>;

export function borrowerByHashes(db: Db, hashes: readonly string[]): Promise<BorrowerRow | undefined> {
  if (hashes.length === 0) return Promise.resolve(undefined);
  return db
    .selectFrom('borrowers')
    .selectAll()
    .where('national_id_hash', 'in', [...hashes])
    .executeTakeFirst();
}

export function borrowerById(db: Db, id: string): Promise<BorrowerRow | undefined> {
  return db.selectFrom('borrowers').selectAll().where('id', '=', id).executeTakeFirst();
}

/** A read that never waits for the writer's open batch: the embedded store's reader connection, synchronously. */
export async function readBorrower(store: Store, id: string): Promise<BorrowerRow | undefined> {
  return store.sync
    ? store.sync.read.get<BorrowerRow>('select * from "borrowers" where "id" = ?', [id])
    : borrowerById(store.readDb, id);
}

export function borrowersPage(db: Db, afterId: string, pageSize: number): Promise<BorrowerRow[]> {
  return db
    .selectFrom('borrowers')
    .selectAll()
    .where('id', '>', afterId)
    .orderBy('id')
    .limit(pageSize)
    .execute();
}

/**
 * Inserts the borrower once; a concurrent first application for the same person finds the winner's row, and so does
 * one whose row still carries the hash of a retired key (`hashes`: every key's hash of the ID, current first).
 * `knownId`: the borrower the caller found by these hashes before the transaction. Borrowers are never deleted and
 * keep their id, so that row still stands and nothing is read or written. Otherwise one insert, which returns the new
 * id, or, on a conflict with the current hash, a read of the row that won; with retired keys held, a row may carry an
 * older hash without conflicting, so those are looked up first.
 */
export async function upsertBorrower(
  tx: DbTx,
  row: BorrowerRow,
  hashes: readonly string[],
  knownId?: string,
): Promise<string> {
  if (knownId !== undefined) return knownId;
  if (hashes.length > 1) {
    const known = await borrowerByHashes(tx, hashes);
    if (known) return known.id;
  }
  const inserted = await tx
    .insertInto('borrowers')
    .values(row)
    .onConflict((oc) => oc.column('national_id_hash').doNothing())
    .returning('id')
    .executeTakeFirst();
  if (inserted) return inserted.id;
  const stored = await borrowerByHashes(tx, [row.national_id_hash]);
  if (!stored) throw new Error('borrower row vanished after insert');
  return stored.id;
}

export interface Reseal {
  readonly id: string;
  /** Compare-and-set: the row is re-sealed only if it still holds this sealed ID (another run may have got there). */
  readonly expectedNationalIdEnc: string;
  readonly sealed: SealedColumns;
}

/** Re-seals a page of borrowers in one transaction with the ledger entry `entry` makes of the ids it re-sealed. */
export function resealBorrowers(
  store: Store,
  reseals: readonly Reseal[],
  entry: (done: readonly string[]) => LedgerAppend,
): Promise<number> {
  return store.transaction(async (tx) => {
    const done: string[] = [];
    for (const r of reseals) {
      const updated = await tx
        .updateTable('borrowers')
        .set(r.sealed)
        .where('id', '=', r.id)
        .where('national_id_enc', '=', r.expectedNationalIdEnc)
        .executeTakeFirst();
      if (Number(updated.numUpdatedRows) === 1) done.push(r.id);
    }
    if (done.length === 0) return 0;
    await appendToLedger(tx, [entry(done)]);
    return done.length;
  });
}
