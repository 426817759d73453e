import { sha256Hex } from '../domain/sha256.js';
import { sql } from 'kysely';
import { canonicalJson } from '../domain/canonical-json.js';
import type { Db, DbTx } from '../store/db.js';
import { registerBatchFinisher, txScopedCache } from '../store/unit-context.js';
import { insertRows, runShaped } from '../store/shaped.js';
import type { SyncSql } from '../store/sync.js';

/**
 * The tamper-evident ledger: an append-only hash chain in the same database as the facts it records.
 * hash_n = SHA-256(prev_hash || canonical JSON of {seq, entryId, kind, subjectId, payload, recordedAt}).
 * Appends happen inside the caller's dbTx, so an entry exists exactly when the change it records committed.
 */
export const GENESIS_HASH = '0'.repeat(64);

export interface LedgerAppend {
  readonly entryId: string;
  /** What happened, e.g. 'decision', 'line.action', 'loan.disbursed'. */
  readonly kind: string;
  /** The aggregate it happened to (line id, loan id, decision id, …). */
  readonly subjectId: string;
  readonly payload: unknown;
  readonly recordedAt: number;
}

export interface LedgerRow {
  seq: number;
  entry_id: string;
  kind: string;
  subject_id: string;
  payload: string;
  recorded_at: number;
  prev_hash: string;
  hash: string;
}

/**
 * The canonical bytes of an entry: what the chain hashes after prev_hash, and the leaf of the Merkle tree
 * (src/compliance/merkle.ts, RFC 9162). This format is frozen: every published checkpoint and proof depends on it.
 */
export function entryLeaf(row: Omit<LedgerRow, 'hash' | 'prev_hash'>): string {
  return canonicalJson({
    seq: row.seq,
    entryId: row.entry_id,
    kind: row.kind,
    subjectId: row.subject_id,
    payload: row.payload,
    recordedAt: row.recorded_at,
  });
}

export function entryHash(prevHash: string, row: Omit<LedgerRow, 'hash' | 'prev_hash'>): string {
  return sha256Hex(prevHash + entryLeaf(row));
}

/** The chain head this transaction already locked and read (forgotten when a unit of work rolls back). */
const heads = txScopedCache<ChainHead>();

async function lockHead(tx: DbTx): Promise<ChainHead> {
  const cached = heads.get(tx);
  if (cached) return cached;
  // An UPDATE … RETURNING takes the row lock (PostgreSQL) as it reads the head, so two transactions never chain
  // onto the same predecessor. SQLite already serialises writers.
  const result = await sql<{
    seq: number;
    hash: string;
  }>`update ledger_head set seq = seq where id = 1 returning seq, hash`.execute(tx);
  const row = result.rows[0];
  if (!row) throw new Error('ledger_head row is missing');
  return { seq: Number(row.seq), hash: row.hash };
}

interface ChainHead {
  readonly seq: number;
  readonly hash: string;
}

/** The rows that chain `entries` onto `head`, and the new head. Pure; both append paths share it. */
function chainRows(
  head: ChainHead,
  entries: readonly LedgerAppend[],
): { rows: LedgerRow[]; head: ChainHead } {
  let seq = head.seq;
  let prevHash = head.hash;
  const rows: LedgerRow[] = [];
  for (const entry of entries) {
    seq += 1;
    const base = {
      seq,
      entry_id: entry.entryId,
      kind: entry.kind,
      subject_id: entry.subjectId,
      payload: canonicalJson(entry.payload),
      recorded_at: entry.recordedAt,
    };
    const hash = entryHash(prevHash, base);
    rows.push({ ...base, prev_hash: prevHash, hash });
    prevHash = hash;
  }
  return { rows, head: { seq, hash: prevHash } };
}

/** Appends entries in order, in the caller's transaction. */
export async function appendToLedger(tx: DbTx, entries: readonly LedgerAppend[]): Promise<void> {
  if (entries.length === 0) return;
  const { rows, head } = chainRows(await lockHead(tx), entries);
  await insertRows(tx, 'ledger_entries', rows);
  await runShaped(
    tx,
    'ledger set head',
    () => tx.updateTable('ledger_head').set({ seq: head.seq, hash: head.hash }).where('id', '=', 1),
    [head.seq, head.hash, 1],
  );
  heads.set(tx, head);
}

/**
 * appendToLedger for a synchronous unit (embedded SQLite, one writer: the head needs no lock). The head is kept in
 * memory for the batch and written to ledger_head once, by the batch finisher, before the batch commits.
 */
export function appendToLedgerSync(sql: SyncSql, entries: readonly LedgerAppend[]): void {
  if (entries.length === 0) return;
  const { rows, head } = chainRows(syncHeads.get(sql) ?? readHeadSync(sql), entries);
  sql.insert('ledger_entries', rows);
  syncHeads.set(sql, head);
  headBehind.add(sql);
}

/** The chain head a synchronous batch has reached (forgotten when a unit rolls back: readHeadSync finds it again). */
const syncHeads = txScopedCache<ChainHead>();
/** Batches that appended since ledger_head was last written; kept through rollbacks, which may undo only some. */
const headBehind = new WeakSet<SyncSql>();

registerBatchFinisher((sql) => {
  if (!headBehind.has(sql)) return;
  const head = syncHeads.get(sql) ?? readHeadSync(sql);
  sql.run('update "ledger_head" set "seq" = ?, "hash" = ? where "id" = 1', [head.seq, head.hash]);
  headBehind.delete(sql);
});

/**
 * The head as this transaction sees it. ledger_head lags behind the batch's own appends until the finisher runs, so
 * after a unit rolled back (and the cached head with it) the last entry may be further on; a last entry behind
 * ledger_head means rows were deleted, and chaining onto ledger_head keeps that gap visible to `ledger verify`.
 */
function readHeadSync(sql: SyncSql): ChainHead {
  const head = sql.get<{ seq: number; hash: string }>(
    'select "seq", "hash" from "ledger_head" where "id" = 1',
    [],
  );
  if (!head) throw new Error('ledger_head row is missing');
  const last = sql.get<{ seq: number; hash: string }>(
    'select "seq", "hash" from "ledger_entries" order by "seq" desc limit 1',
    [],
  );
  const newer = last && Number(last.seq) > Number(head.seq) ? last : head;
  return { seq: Number(newer.seq), hash: newer.hash };
}

export interface LedgerVerification {
  readonly ok: boolean;
  readonly entriesChecked: number;
  /** The first entry that does not verify (by position), with why. */
  readonly firstBad?: { readonly seq: number; readonly entryId: string | null; readonly problem: string };
}

/**
 * Walks the chain in seq order. Catches: a changed row (hash mismatch), a deleted or inserted row (seq gap or
 * prev_hash mismatch), reordering (prev_hash mismatch), and truncation of the tail (head disagrees).
 */
export async function verifyLedger(db: Db, pageSize = 5000): Promise<LedgerVerification> {
  let expectedSeq = 1;
  let prevHash = GENESIS_HASH;
  let checked = 0;
  for (;;) {
    const page = await db
      .selectFrom('ledger_entries')
      .selectAll()
      .where('seq', '>=', expectedSeq)
      .orderBy('seq')
      .limit(pageSize)
      .execute();
    for (const row of page) {
      const seq = Number(row.seq);
      const bad = (problem: string): LedgerVerification => ({
        ok: false,
        entriesChecked: checked,
        firstBad: { seq, entryId: row.entry_id, problem },
      });
      if (seq !== expectedSeq)
        return bad(`expected seq ${expectedSeq}, found ${seq} (an entry was deleted or inserted)`);
      if (row.prev_hash !== prevHash)
        return bad('prev_hash does not match the previous entry (reordered or altered chain)');
      const recomputed = entryHash(prevHash, { ...row, seq, recorded_at: Number(row.recorded_at) });
      if (recomputed !== row.hash)
        return bad('hash does not match the entry content (the entry was changed)');
      prevHash = row.hash;
      expectedSeq += 1;
      checked += 1;
    }
    if (page.length < pageSize) break;
  }
  const head = await db
    .selectFrom('ledger_head')
    .select(['seq', 'hash'])
    .where('id', '=', 1)
    .executeTakeFirst();
  if (!head || Number(head.seq) !== checked || head.hash !== prevHash) {
    return {
      ok: false,
      entriesChecked: checked,
      firstBad: {
        seq: checked + 1,
        entryId: null,
        problem: 'ledger head does not match the last entry (entries removed from the end)',
      },
    };
  }
  return { ok: true, entriesChecked: checked };
}
