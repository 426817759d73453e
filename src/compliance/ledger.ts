import { sha256Hex } from '../domain/index.js';
import { PostgresAdapter, sql } from 'kysely';
import { canonicalJson } from '../domain/index.js';
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
  chain: number;
  chain_seq: number;
}

/** What an entry's leaf (and chain hash) is made of: not its chain or position there, which the links already fix. */
export type LedgerLeafFields = Pick<
  LedgerRow,
  'seq' | 'entry_id' | 'kind' | 'subject_id' | 'payload' | 'recorded_at'
>;

/**
 * The canonical bytes of an entry: what the chain hashes after prev_hash, and the leaf of the Merkle tree
 * (src/compliance/merkle.ts, RFC 9162). This format is frozen: every published checkpoint and proof depends on it.
 */
export function entryLeaf(row: LedgerLeafFields): string {
  return canonicalJson({
    seq: row.seq,
    entryId: row.entry_id,
    kind: row.kind,
    subjectId: row.subject_id,
    payload: row.payload,
    recordedAt: row.recorded_at,
  });
}

export function entryHash(prevHash: string, row: LedgerLeafFields): string {
  return sha256Hex(prevHash + entryLeaf(row));
}

/**
 * Partitioning (issue 13). Every append used to lock the one ledger_head row, so on PostgreSQL every write in the
 * system queued on it. Now there are LEDGER_CHAINS hash chains, each with its own head row (ledger_head.id = the
 * chain number); a transaction appends to the chain of the first subject it records (a line, a loan, a borrower, …),
 * chosen by a stable hash, and keeps to that chain for the rest of the transaction — one head lock per transaction,
 * so two transactions can never deadlock on heads. Writes about different subjects take different locks.
 *
 * The global order stays: every entry also has a global `seq` (PostgreSQL: from the ledger_seq sequence, drawn after
 * the head lock and its transaction id are taken — see src/store/ledger.ts for why that order matters), and the
 * Merkle log (RFC 9162) is over all entries in seq order. A signed checkpoint commits to the Merkle root AND to every
 * chain's head and length, so truncating one chain is caught against it.
 *
 * Embedded SQLite keeps one chain (chain 1): it has one writer anyway, and its seq stays dense (seq = chain_seq).
 */
export const LEDGER_CHAINS = 16;
/** The chain of an embedded SQLite database, and of every entry written before the ledger was partitioned. */
export const SINGLE_CHAIN = 1;

/** FNV-1a (32-bit) of the subject, mod LEDGER_CHAINS, plus 1: stable across processes and versions. */
export function chainOf(subjectId: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < subjectId.length; i++) {
    hash ^= subjectId.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return 1 + (hash % LEDGER_CHAINS);
}

interface ChainHead {
  readonly chain: number;
  /** How many entries the chain holds (ledger_head.seq). */
  readonly length: number;
  readonly hash: string;
}

/** The chain head this transaction already locked and read (forgotten when a unit of work rolls back). */
const heads = txScopedCache<ChainHead>();

function isPostgres(tx: DbTx): boolean {
  return tx.getExecutor().adapter instanceof PostgresAdapter;
}

/**
 * Locks the head of the transaction's chain (first call) and reserves `count` global seqs, ascending.
 * PostgreSQL: one statement — the UPDATE … RETURNING takes the row lock (and a transaction id) before nextval runs,
 * which the checkpoint horizon relies on (src/store/ledger.ts). SQLite: one writer, seq = the chain's length + 1.
 */
async function reserve(
  tx: DbTx,
  subjectId: string,
  count: number,
): Promise<{ head: ChainHead; seqs: number[] }> {
  const cached = heads.get(tx);
  if (!isPostgres(tx)) {
    const head = cached ?? (await lockHead(tx, SINGLE_CHAIN));
    return { head, seqs: Array.from({ length: count }, (_, i) => head.length + i + 1) };
  }
  if (cached) {
    const result = await sql<{
      seq: number | string;
    }>`select nextval('ledger_seq') as seq from generate_series(1, ${count})`.execute(tx);
    return { head: cached, seqs: result.rows.map((r) => Number(r.seq)).sort((a, b) => a - b) };
  }
  const chain = chainOf(subjectId);
  const result = await sql<{ seq: number; hash: string; seqs: (number | string)[] }>`
    with h as (update ledger_head set seq = seq where id = ${chain} returning seq, hash)
    select h.seq, h.hash,
      array(select nextval('ledger_seq') from generate_series(1, ${count} + 0 * h.seq)) as seqs
    from h`.execute(tx);
  const row = result.rows[0];
  if (!row) throw new Error(`ledger_head row of chain ${chain} is missing`);
  return {
    head: { chain, length: Number(row.seq), hash: row.hash },
    seqs: row.seqs.map(Number).sort((a, b) => a - b),
  };
}

async function lockHead(tx: DbTx, chain: number): Promise<ChainHead> {
  // SQLite already serialises writers; the UPDATE keeps the statement the same on both dialects.
  const result = await sql<{
    seq: number;
    hash: string;
  }>`update ledger_head set seq = seq where id = ${chain} returning seq, hash`.execute(tx);
  const row = result.rows[0];
  if (!row) throw new Error(`ledger_head row of chain ${chain} is missing`);
  return { chain, length: Number(row.seq), hash: row.hash };
}

/** The rows that chain `entries` onto `head` at the given global seqs, and the new head. Pure; both paths share it. */
function chainRows(
  head: ChainHead,
  seqs: readonly number[],
  entries: readonly LedgerAppend[],
): { rows: LedgerRow[]; head: ChainHead } {
  let length = head.length;
  let prevHash = head.hash;
  const rows: LedgerRow[] = [];
  entries.forEach((entry, i) => {
    length += 1;
    const base = {
      seq: seqs[i] as number,
      entry_id: entry.entryId,
      kind: entry.kind,
      subject_id: entry.subjectId,
      payload: canonicalJson(entry.payload),
      recorded_at: entry.recordedAt,
    };
    const hash = entryHash(prevHash, base);
    rows.push({ ...base, prev_hash: prevHash, hash, chain: head.chain, chain_seq: length });
    prevHash = hash;
  });
  return { rows, head: { chain: head.chain, length, hash: prevHash } };
}

/** Appends entries in order, in the caller's transaction, to the chain of the transaction's first subject. */
export async function appendToLedger(tx: DbTx, entries: readonly LedgerAppend[]): Promise<void> {
  const first = entries[0];
  if (!first) return;
  const reserved = await reserve(tx, first.subjectId, entries.length);
  const { rows, head } = chainRows(reserved.head, reserved.seqs, entries);
  await insertRows(tx, 'ledger_entries', rows);
  await runShaped(
    tx,
    'ledger set head',
    () =>
      tx.updateTable('ledger_head').set({ seq: head.length, hash: head.hash }).where('id', '=', head.chain),
    [head.length, head.hash, head.chain],
  );
  heads.set(tx, head);
}

/**
 * appendToLedger for a synchronous unit (embedded SQLite, one writer, one chain: the head needs no lock). The head is
 * kept in memory for the batch and written to ledger_head once, by the batch finisher, before the batch commits.
 */
export function appendToLedgerSync(sql: SyncSql, entries: readonly LedgerAppend[]): void {
  if (entries.length === 0) return;
  const current = syncHeads.get(sql) ?? readHeadSync(sql);
  const seqs = entries.map((_, i) => current.length + i + 1);
  const { rows, head } = chainRows(current, seqs, entries);
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
  sql.run('update "ledger_head" set "seq" = ?, "hash" = ? where "id" = ?', [
    head.length,
    head.hash,
    head.chain,
  ]);
  headBehind.delete(sql);
});

/**
 * The head as this transaction sees it. ledger_head lags behind the batch's own appends until the finisher runs, so
 * after a unit rolled back (and the cached head with it) the last entry may be further on; a last entry behind
 * ledger_head means rows were deleted, and chaining onto ledger_head keeps that gap visible to `ledger verify`.
 */
function readHeadSync(sql: SyncSql): ChainHead {
  const head = sql.get<{ seq: number; hash: string }>(
    'select "seq", "hash" from "ledger_head" where "id" = ?',
    [SINGLE_CHAIN],
  );
  if (!head) throw new Error('ledger_head row is missing');
  const last = sql.get<{ seq: number; hash: string }>(
    'select "chain_seq" as "seq", "hash" from "ledger_entries" where "chain" = ? order by "seq" desc limit 1',
    [SINGLE_CHAIN],
  );
  const newer = last && Number(last.seq) > Number(head.seq) ? last : head;
  return { chain: SINGLE_CHAIN, length: Number(newer.seq), hash: newer.hash };
}

export interface LedgerVerification {
  readonly ok: boolean;
  readonly entriesChecked: number;
  /** The first entry that does not verify (by position), with why. */
  readonly firstBad?: { readonly seq: number; readonly entryId: string | null; readonly problem: string };
}

interface ChainState {
  length: number;
  hash: string;
  /** The global seq of the chain's last entry seen. */
  lastSeq: number;
}

/**
 * Walks every chain at once, in global seq order. Catches: a changed row (hash mismatch), a deleted or inserted row
 * (a gap in its chain's positions, or prev_hash mismatch), reordering (position or prev_hash mismatch), and
 * truncation of a chain's tail (its head row disagrees). A tail cut AND a head rewritten is only caught against a
 * signed checkpoint (verifyAgainstCheckpoints). PostgreSQL's global seq may have gaps (rolled-back transactions
 * consume sequence values), so seq is checked for order, not density; each chain is dense.
 */
export async function verifyLedger(db: Db, pageSize = 5000): Promise<LedgerVerification> {
  const chains = new Map<number, ChainState>();
  let checked = 0;
  let after = 0;
  for (;;) {
    const page = await db
      .selectFrom('ledger_entries')
      .selectAll()
      .where('seq', '>', after)
      .orderBy('seq')
      .limit(pageSize)
      .execute();
    for (const stored of page) {
      const row = normaliseRow(stored);
      const state = chains.get(row.chain) ?? { length: 0, hash: GENESIS_HASH, lastSeq: 0 };
      const problem = checkRow(state, row);
      if (problem)
        return {
          ok: false,
          entriesChecked: checked,
          firstBad: { seq: row.seq, entryId: row.entry_id, problem },
        };
      chains.set(row.chain, { length: row.chain_seq, hash: row.hash, lastSeq: row.seq });
      checked += 1;
      after = row.seq;
    }
    if (page.length < pageSize) break;
  }
  const bad = await checkHeads(db, chains);
  return bad ? { ok: false, entriesChecked: checked, firstBad: bad } : { ok: true, entriesChecked: checked };
}

/**
 * Rows as stored, numbers normalised. A database written before the partitioning and opened without migrating it
 * (`ledger verify` only reads) has no chain columns: its one chain is SINGLE_CHAIN and position = seq, exactly what
 * the migration writes.
 */
export function normaliseRow(row: Omit<LedgerRow, 'chain' | 'chain_seq'> & Partial<LedgerRow>): LedgerRow {
  const seq = Number(row.seq);
  return {
    ...row,
    seq,
    recorded_at: Number(row.recorded_at),
    chain: row.chain === undefined || row.chain === null ? SINGLE_CHAIN : Number(row.chain),
    chain_seq: row.chain_seq === undefined || row.chain_seq === null ? seq : Number(row.chain_seq),
  };
}

function checkRow(state: ChainState, row: LedgerRow): string | null {
  const where = row.chain === SINGLE_CHAIN ? '' : `chain ${row.chain}: `;
  if (row.chain_seq !== state.length + 1)
    return `${where}expected position ${state.length + 1}, found ${row.chain_seq} (an entry was deleted or inserted)`;
  if (row.prev_hash !== state.hash)
    return `${where}prev_hash does not match the previous entry (reordered or altered chain)`;
  if (entryHash(state.hash, row) !== row.hash)
    return `${where}hash does not match the entry content (the entry was changed)`;
  return null;
}

async function checkHeads(
  db: Db,
  chains: ReadonlyMap<number, ChainState>,
): Promise<LedgerVerification['firstBad'] | undefined> {
  const rows = await db.selectFrom('ledger_head').select(['id', 'seq', 'hash']).orderBy('id').execute();
  const stored = new Map(rows.map((r) => [Number(r.id), { length: Number(r.seq), hash: r.hash }]));
  const ids = [...new Set([...stored.keys(), ...chains.keys()])].sort((a, b) => a - b);
  for (const chain of ids) {
    const seen = chains.get(chain) ?? { length: 0, hash: GENESIS_HASH, lastSeq: 0 };
    const head = stored.get(chain);
    if (head && head.length === seen.length && head.hash === seen.hash) continue;
    const where = chain === SINGLE_CHAIN ? 'ledger head' : `head of chain ${chain}`;
    return {
      seq: seen.lastSeq + 1,
      entryId: null,
      problem: head
        ? `${where} does not match the last entry (entries removed from the end)`
        : `${where} is missing`,
    };
  }
  return undefined;
}
