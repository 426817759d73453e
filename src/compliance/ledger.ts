import { sha256Hex } from '../domain/index.js';
import { canonicalJson } from '../domain/index.js';

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
  /** Which hash chain the entry belongs to (1 on SQLite; see LEDGER_CHAINS). */
  chain: number;
  /** Its position in that chain, from 1. */
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

/**
 * An entry's leaf split around its seq, `before + String(seq) + after === entryLeaf(row)`, for a database statement
 * that draws the seq itself and hashes the entry there (src/store/ledger-chain.ts appendSql). The seq is an integer,
 * which canonical JSON writes as its digits, as PostgreSQL's `bigint::text` does.
 */
export function entryLeafAround(row: Omit<LedgerLeafFields, 'seq'>): {
  readonly before: string;
  readonly after: string;
} {
  const marked = entryLeaf({ ...row, seq: 0 });
  // A key's quote is never escaped and every quote inside a string is, so the member occurs exactly once.
  const at = marked.indexOf('"seq":0');
  if (at < 0 || marked.indexOf('"seq":0', at + 1) >= 0) throw new Error('entry leaf without one seq member');
  const split = at + '"seq":'.length;
  return { before: marked.slice(0, split), after: marked.slice(split + 1) };
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

export interface ChainHead {
  readonly chain: number;
  /** How many entries the chain holds (ledger_head.seq). */
  readonly length: number;
  readonly hash: string;
}

/**
 * The rows that chain `entries` onto `head` at the given global seqs, and the new head. Pure: the store's async and
 * synchronous appends share it, after they locked the head and reserved the seqs (src/store/ledger-chain.ts).
 */
export function chainRows(
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

/**
 * A database handle of src/store — its Kysely database, a dbTx, or a synchronous unit — opaque here: compliance passes
 * it back to the store that made it and never looks inside.
 */
export type LedgerHandle = object;

/** A ledger row as stored: a database that predates the partitioning has no chain columns (normaliseRow fills them). */
export type StoredLedgerRow = Omit<LedgerRow, 'chain' | 'chain_seq'> & Partial<LedgerRow>;

/** The decision columns `ledger verify --facts` compares with the ledger (src/compliance/facts.ts). */
export interface DecisionFactRecord {
  id: string;
  kind: string;
  borrower_id: string | null;
  line_id: string | null;
  strategy_id: string;
  strategy_version: number;
  engine_version: string;
  context: string;
  /** Sealed with the context since sealing (sealed-decisions.ts), so the context cannot be read without it. */
  trace: string;
  outcome: string;
  reasons: string;
  result: string;
}

export interface LineFactRecord {
  id: string;
  status: string;
  limit_minor: number;
  outstanding_minor: number;
  available_minor: number;
  annual_rate: number;
}

/**
 * What the fact check reads of a credit-report dispute: whose it is, what it is about, the claim (sealed), and how it
 * ended (the reviewer's texts sealed too).
 */
export interface DisputeFactRecord {
  id: string;
  borrower_id: string;
  target_kind: string;
  target_id: string;
  claim: string;
  /** Sealed with the claim since sealing (sealed-disputes.ts), so the claim cannot be read without it. */
  text: string;
  state: string;
  /** Null while open; since sealing one token with the English text riding (sealed-disputes.ts). */
  outcome_zh: string | null;
  outcome_en: string | null;
  correction_id: string | null;
}

/** What the fact check reads of a bureau submission: what it is, to which bureau, about whom, and the payload (sealed). */
export interface SubmissionFactRecord {
  id: string;
  kind: string;
  borrower_id: string;
  bureau: string;
  payload: string;
  /** Sealed with the payload since sealing (sealed-submissions.ts), so the payload cannot be read without it. */
  subject_hash: string;
  status: string;
}

/**
 * What the fact check reads of an appeal: whose it is, what it is against, its deadline, whether it was decided, and
 * the texts (the borrower's, with the documents riding, and the reviewer's outcome; sealed since sealed-cases.ts).
 */
export interface AppealFactRecord {
  id: string;
  borrower_id: string;
  line_id: string | null;
  target_kind: string;
  target_id: string;
  text: string;
  documents: string;
  state: string;
  deadline_at: number;
  /** Null while open. */
  outcome_zh: string | null;
  outcome_en: string | null;
}

/**
 * What the fact check reads of a complaint: whose it is, its category and deadline, whether it was extended and
 * resolved, and the texts (the borrower's, the extension's reason, the resolution; sealed since sealed-cases.ts).
 */
export interface ComplaintFactRecord {
  id: string;
  borrower_id: string;
  category: string;
  text: string;
  state: string;
  due_at: number;
  /** Null until extended, as is its reason. */
  extended_at: number | null;
  extension_reason: string | null;
  /** Null while open. */
  resolution_zh: string | null;
  resolution_en: string | null;
}

/** What the fact check reads of a case note: whose case, who wrote it, and the text (sealed since sealed-case-work.ts). */
export interface CaseNoteFactRecord {
  id: string;
  case_id: string;
  author: string;
  text: string;
}

/**
 * What the fact check reads of a line action (append-only: only `keys rotate-data` rewrites its note, sealed again): what
 * was done to the line, why, by whom, and the note, each against its line.action entry.
 */
export interface LineActionFactRecord {
  id: string;
  line_id: string;
  type: string;
  outcome: string;
  reasons: string;
  trace_id: string | null;
  automated: number;
  actor: string | null;
  appealable: number;
  prev_status: string;
  new_status: string;
  prev_limit_minor: number;
  new_limit_minor: number;
  new_rate: number;
  note: string | null;
}

/**
 * What the fact check reads of a four-eyes pending change: what it does to what, who made and who checked it, its
 * state, and the texts (the payload with the diff riding, the maker's reason, the checker's note; sealed since
 * sealed-case-work.ts).
 */
export interface ChangeFactRecord {
  id: string;
  operation: string;
  subject_id: string;
  payload: string;
  diff: string;
  reason: string;
  maker: string;
  state: string;
  checker: string | null;
  /** Null until decided with a note. */
  decision_note: string | null;
}

export interface ConsentRecord {
  id: string;
  subject_hash: string;
  borrower_id: string | null;
  purpose: string;
  text_version: string;
  text_sha256: string;
  channel: string;
  granted_at: number;
  expires_at: number;
  withdrawn_at: number | null;
  withdrawn_reason: string | null;
  recorded_by: string;
}

export interface InquiryRecord {
  id: string;
  subject_hash: string;
  borrower_id: string | null;
  purpose: string;
  /** 'hard' | 'soft' */
  kind: string;
  /** 'PULLED' | 'REFUSED' */
  status: string;
  refusal_code: string | null;
  consent_id: string | null;
  bureau: string;
  requested_by: string;
  reason: string;
  report_found: number;
  created_at: number;
}

export interface LoanFactRecord {
  id: string;
  line_id: string;
  principal_minor: number;
  outstanding_principal_minor: number;
  currency: string;
  annual_rate: number;
  term_months: number;
  method: string;
  apr_us_regz: number;
  apr_eu_ccd: number;
  apr_cn_irr: number;
  total_repayable_minor: number;
  bucket: string;
}

/**
 * The ledger's storage, implemented in src/store/ledger-chain.ts. `append` runs inside the caller's dbTx: it locks
 * the transaction's chain head, reserves global seqs and writes the rows src/compliance chained (chainRows).
 * The reads page by primary key, ascending, at most `limit` rows after the given key.
 */
export interface LedgerStorage {
  append(tx: LedgerHandle, entries: readonly LedgerAppend[]): Promise<void>;
  appendSync(sql: LedgerHandle, entries: readonly LedgerAppend[]): void;
  entriesAfter(db: LedgerHandle, afterSeq: number, limit: number): Promise<StoredLedgerRow[]>;
  chainHeads(db: LedgerHandle): Promise<{ id: number; seq: number; hash: string }[]>;
  decisionsAfter(db: LedgerHandle, afterId: string, limit: number): Promise<DecisionFactRecord[]>;
  linesAfter(db: LedgerHandle, afterId: string, limit: number): Promise<LineFactRecord[]>;
  loansAfter(db: LedgerHandle, afterId: string, limit: number): Promise<LoanFactRecord[]>;
  disputesAfter(db: LedgerHandle, afterId: string, limit: number): Promise<DisputeFactRecord[]>;
  submissionsAfter(db: LedgerHandle, afterId: string, limit: number): Promise<SubmissionFactRecord[]>;
  appealsAfter(db: LedgerHandle, afterId: string, limit: number): Promise<AppealFactRecord[]>;
  complaintsAfter(db: LedgerHandle, afterId: string, limit: number): Promise<ComplaintFactRecord[]>;
  caseNotesAfter(db: LedgerHandle, afterId: string, limit: number): Promise<CaseNoteFactRecord[]>;
  changesAfter(db: LedgerHandle, afterId: string, limit: number): Promise<ChangeFactRecord[]>;
  lineActionsAfter(db: LedgerHandle, afterId: string, limit: number): Promise<LineActionFactRecord[]>;
  consentsAfter(db: LedgerHandle, afterId: string, limit: number): Promise<ConsentRecord[]>;
  inquiriesAfter(db: LedgerHandle, afterId: string, limit: number): Promise<InquiryRecord[]>;
}

/**
 * Where the ledger's rows live. Every module appends inside its own transaction through appendToLedger(tx, …), so the
 * store is not passed along those calls: src/store installs its implementation once, when it loads
 * (src/store/ledger-chain.ts), the way it registers its batch finishers.
 */
let installed: LedgerStorage | undefined;

export function useLedgerStorage(storage: LedgerStorage): void {
  installed = storage;
}

export function ledgerStorage(): LedgerStorage {
  if (!installed)
    throw new Error('no ledger storage installed: src/store installs it when a store is opened');
  return installed;
}

/** Appends entries in order, in the caller's transaction, to the chain of the transaction's first subject. */
export async function appendToLedger(tx: LedgerHandle, entries: readonly LedgerAppend[]): Promise<void> {
  await ledgerStorage().append(tx, entries);
}

/** appendToLedger for a synchronous unit (embedded SQLite: one writer, one chain). */
export function appendToLedgerSync(sql: LedgerHandle, entries: readonly LedgerAppend[]): void {
  ledgerStorage().appendSync(sql, entries);
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

/** A chain's head as stored: its length and the hash of its last entry. */
type Heads = ReadonlyMap<number, { readonly length: number; readonly hash: string }>;

/** An entry read past its chain's head as verification began (appended since, or written without moving the head). */
interface PastHead {
  readonly chainSeq: number;
  readonly seq: number;
  readonly entryId: string;
}

/**
 * Walks every chain at once, in global seq order. Catches: a changed row (hash mismatch), a deleted or inserted row
 * (a gap in its chain's positions, or prev_hash mismatch), reordering (position or prev_hash mismatch), truncation
 * of a chain's tail (its head row disagrees), and an entry past its chain's head. A tail cut AND a head rewritten is
 * only caught against a signed checkpoint (verifyAgainstCheckpoints). PostgreSQL's global seq may have gaps
 * (rolled-back transactions consume sequence values), so seq is checked for order, not density; each chain is dense.
 *
 * The ledger may be written while it is verified (an auditor's `ledger verify` on a live database), so it is verified
 * as it stood when verification began: the heads are read FIRST. A head moves in the transaction that appends, so
 * every entry up to it had committed when it was read and is found by the page reads after it, whatever commits
 * meanwhile; entries past it were appended since (on PostgreSQL they may even commit behind the pages already read,
 * so their positions are not checked) and are left to the next run. Read the other way round, an append between the
 * reads looked like a chain cut at its tail. What the walk saw past a head must still be within the heads read at
 * the END: an entry past those was written without moving its head.
 */
export async function verifyLedger(db: LedgerHandle, pageSize = 5000): Promise<LedgerVerification> {
  const heads = await readHeads(db);
  const chains = new Map<number, ChainState>();
  const pastHeads = new Map<number, { first: PastHead; last: PastHead }>();
  let checked = 0;
  let after = 0;
  for (;;) {
    const page = await ledgerStorage().entriesAfter(db, after, pageSize);
    for (const stored of page) {
      const row = normaliseRow(stored);
      after = row.seq;
      if (row.chain_seq > (heads.get(row.chain)?.length ?? 0)) {
        notePastHead(pastHeads, row);
        continue;
      }
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
    }
    if (page.length < pageSize) break;
  }
  const bad =
    checkHeads(heads, chains) ??
    (pastHeads.size > 0 ? checkPastHeads(await readHeads(db), pastHeads) : undefined);
  return bad ? { ok: false, entriesChecked: checked, firstBad: bad } : { ok: true, entriesChecked: checked };
}

async function readHeads(db: LedgerHandle): Promise<Heads> {
  const rows = await ledgerStorage().chainHeads(db);
  return new Map(rows.map((r) => [Number(r.id), { length: Number(r.seq), hash: r.hash }]));
}

function notePastHead(pastHeads: Map<number, { first: PastHead; last: PastHead }>, row: LedgerRow): void {
  const seen: PastHead = { chainSeq: row.chain_seq, seq: row.seq, entryId: row.entry_id };
  const noted = pastHeads.get(row.chain);
  if (!noted) pastHeads.set(row.chain, { first: seen, last: seen });
  else if (seen.chainSeq < noted.first.chainSeq) noted.first = seen;
  else if (seen.chainSeq > noted.last.chainSeq) noted.last = seen;
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

/** Every chain as the walk found it, up to its head as verification began: a shorter chain lost its tail. */
function checkHeads(
  heads: Heads,
  chains: ReadonlyMap<number, ChainState>,
): LedgerVerification['firstBad'] | undefined {
  const ids = [...new Set([...heads.keys(), ...chains.keys()])].sort((a, b) => a - b);
  for (const chain of ids) {
    const seen = chains.get(chain) ?? { length: 0, hash: GENESIS_HASH, lastSeq: 0 };
    const head = heads.get(chain);
    if (head && head.length === seen.length && head.hash === seen.hash) continue;
    return {
      seq: seen.lastSeq + 1,
      entryId: null,
      problem: head
        ? `${headName(chain)} does not match the last entry (entries removed from the end)`
        : `${headName(chain)} is missing`,
    };
  }
  return undefined;
}

/** An entry the walk saw past the heads as they stand now, after it: written without moving (or creating) its head. */
function checkPastHeads(
  heads: Heads,
  pastHeads: ReadonlyMap<number, { readonly first: PastHead; readonly last: PastHead }>,
): LedgerVerification['firstBad'] | undefined {
  for (const chain of [...pastHeads.keys()].sort((a, b) => a - b)) {
    const { first, last } = pastHeads.get(chain) as { first: PastHead; last: PastHead };
    const head = heads.get(chain);
    if (head && last.chainSeq <= head.length) continue;
    const beyond = !head || first.chainSeq > head.length ? first : last;
    return {
      seq: beyond.seq,
      entryId: beyond.entryId,
      problem: head
        ? `${headName(chain)} is at ${head.length}; an entry at ${beyond.chainSeq} lies past it (written without moving the head)`
        : `${headName(chain)} is missing`,
    };
  }
  return undefined;
}

function headName(chain: number): string {
  return chain === SINGLE_CHAIN ? 'ledger head' : `head of chain ${chain}`;
}
