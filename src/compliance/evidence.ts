import type { Clock } from '../domain/clock.js';
import { LgError } from '../domain/errors.js';
import type { Db, Store } from '../store/db.js';
import { entryLeaf, type LedgerRow } from './ledger.js';
import { consistencyProof, inclusionPath, leafHash, toHex, treeRoot, type Hash } from './merkle.js';
import {
  CHECKPOINT_ORIGIN,
  type LedgerPublicKey,
  type LedgerSigner,
  type SignedCheckpoint,
} from './signing.js';
import type { CheckpointWitness } from './witness.js';

/**
 * Evidence a third party can check (RFC 9162 in miniature): the ledger's entries are the leaves of a Merkle tree;
 * signed checkpoints commit to its size and root and go to a witness outside the database; inclusion proofs show an
 * entry is in a checkpointed tree, consistency proofs that a later checkpoint extends an earlier one.
 */
export interface LedgerEvidence {
  readonly publicKey: LedgerPublicKey;
  /** Signs and stores a checkpoint of the whole ledger now (or returns the latest if nothing was appended since). */
  checkpoint(): Promise<SignedCheckpoint>;
  listCheckpoints(options?: { limit?: number; afterSize?: number }): Promise<SignedCheckpoint[]>;
  /** A checkpoint by tree size (404 when none was issued at that size). */
  getCheckpoint(treeSize: number): Promise<SignedCheckpoint>;
  inclusionProof(seq: number, treeSize?: number): Promise<InclusionProof>;
  consistency(from: number, to: number): Promise<ConsistencyProof>;
  /** The inclusion proof of a decision's ledger entry, for the decision's id. */
  decisionProof(decisionId: string): Promise<InclusionProof>;
}

/** Everything an offline verifier needs (docs/ledger-proofs.md). */
export interface InclusionProof {
  readonly entry: {
    readonly seq: number;
    readonly entryId: string;
    readonly kind: string;
    readonly subjectId: string;
    /** The entry's payload (canonical JSON text, as hashed). */
    readonly payload: string;
    readonly recordedAt: number;
    readonly prevHash: string;
    readonly hash: string;
  };
  /** The exact leaf bytes (UTF-8): SHA-256(0x00 || leaf) is the leaf hash. */
  readonly leaf: string;
  readonly leafHash: string;
  readonly leafIndex: number;
  readonly treeSize: number;
  /** The RFC 9162 audit path, hex. */
  readonly path: string[];
  readonly checkpoint: SignedCheckpoint;
  readonly publicKey: { readonly keyId: string; readonly ed25519: string };
}

export interface ConsistencyProof {
  readonly from: SignedCheckpoint;
  readonly to: SignedCheckpoint;
  readonly proof: string[];
}

export interface EvidenceDeps {
  readonly store: Store;
  readonly clock: Clock;
  readonly signer: LedgerSigner;
  /** Where checkpoints are published outside the database; none means only the table (and the HTTP API). */
  readonly witness?: CheckpointWitness;
}

const PAGE_ROWS = 5000;
export const CHECKPOINTS_LIST_MAX = 1000;

type StoredEntry = Omit<LedgerRow, 'seq' | 'recorded_at'> & {
  seq: number | string;
  recorded_at: number | string;
};

/** The ledger's rows in seq order as the tree sees them: numbers normalised (PostgreSQL returns bigint as text). */
export async function readLedgerRows(db: Db, sizeMax = Number.MAX_SAFE_INTEGER): Promise<LedgerRow[]> {
  const rows: LedgerRow[] = [];
  let after = 0;
  while (rows.length < sizeMax) {
    const page = (await db
      .selectFrom('ledger_entries')
      .selectAll()
      .where('seq', '>', after)
      .orderBy('seq')
      .limit(Math.min(PAGE_ROWS, sizeMax - rows.length))
      .execute()) as StoredEntry[];
    for (const row of page) rows.push({ ...row, seq: Number(row.seq), recorded_at: Number(row.recorded_at) });
    if (page.length === 0 || page.length < PAGE_ROWS) break;
    after = Number(page[page.length - 1]?.seq);
  }
  return rows;
}

/** Leaf i is entry i+1 in seq order; a deleted or inserted row moves every later leaf, which the roots reveal. */
export function ledgerLeafHashes(rows: readonly LedgerRow[]): Hash[] {
  return rows.map((row) => leafHash(entryLeaf(row)));
}

export function createLedgerEvidence(deps: EvidenceDeps): LedgerEvidence {
  const { signer } = deps;
  const db = deps.store.db;

  async function latest(): Promise<SignedCheckpoint | undefined> {
    const row = await db
      .selectFrom('ledger_checkpoints')
      .selectAll()
      .orderBy('tree_size', 'desc')
      .limit(1)
      .executeTakeFirst();
    return row ? fromRow(row) : undefined;
  }

  async function checkpoint(): Promise<SignedCheckpoint> {
    const rows = await readLedgerRows(db);
    const last = await latest();
    if (last && last.treeSize >= rows.length) return last;
    const signed = signer.sign({
      origin: CHECKPOINT_ORIGIN,
      treeSize: rows.length,
      rootHash: toHex(treeRoot(ledgerLeafHashes(rows))),
      issuedAt: deps.clock.now(),
    });
    // Two processes may checkpoint the same size at once: the first row stands, both answers are valid signatures.
    await deps.store.transaction((tx) =>
      tx
        .insertInto('ledger_checkpoints')
        .values({
          tree_size: signed.treeSize,
          root_hash: signed.rootHash,
          issued_at: signed.issuedAt,
          origin: signed.origin,
          key_id: signed.keyId,
          signature: signed.signature,
        })
        .onConflict((oc) => oc.column('tree_size').doNothing())
        .execute(),
    );
    const stored = await getCheckpoint(signed.treeSize);
    await deps.witness?.publish(stored);
    return stored;
  }

  async function getCheckpoint(treeSize: number): Promise<SignedCheckpoint> {
    const row = await db
      .selectFrom('ledger_checkpoints')
      .selectAll()
      .where('tree_size', '=', treeSize)
      .executeTakeFirst();
    if (!row) throw new LgError('LG_NOT_FOUND', `no checkpoint of tree size ${treeSize}`);
    return fromRow(row);
  }

  /** The checkpoint a proof is given against: the one asked for, else the first covering the entry, else a new one. */
  async function covering(seq: number, treeSize?: number): Promise<SignedCheckpoint> {
    if (treeSize !== undefined) {
      const cp = await getCheckpoint(treeSize);
      if (seq > cp.treeSize)
        throw new LgError('LG_VALIDATION', `entry ${seq} is not in the tree of size ${cp.treeSize}`);
      return cp;
    }
    const row = await db
      .selectFrom('ledger_checkpoints')
      .selectAll()
      .where('tree_size', '>=', seq)
      .orderBy('tree_size', 'desc')
      .limit(1)
      .executeTakeFirst();
    return row ? fromRow(row) : checkpoint();
  }

  async function inclusionProof(seq: number, treeSize?: number): Promise<InclusionProof> {
    const entryRow = await db
      .selectFrom('ledger_entries')
      .select('seq')
      .where('seq', '=', seq)
      .executeTakeFirst();
    if (!entryRow) throw new LgError('LG_NOT_FOUND', `no ledger entry ${seq}`);
    const cp = await covering(seq, treeSize);
    const rows = await readLedgerRows(db, cp.treeSize);
    const index = rows.findIndex((row) => row.seq === seq);
    if (rows.length < cp.treeSize || index < 0)
      throw new LgError(
        'LG_LEDGER_INCONSISTENT',
        `the ledger no longer holds the ${cp.treeSize} entries checkpointed`,
      );
    const leaves = ledgerLeafHashes(rows);
    const row = rows[index] as LedgerRow;
    return {
      entry: {
        seq: row.seq,
        entryId: row.entry_id,
        kind: row.kind,
        subjectId: row.subject_id,
        payload: row.payload,
        recordedAt: row.recorded_at,
        prevHash: row.prev_hash,
        hash: row.hash,
      },
      leaf: entryLeaf(row),
      leafHash: toHex(leaves[index] as Hash),
      leafIndex: index,
      treeSize: cp.treeSize,
      path: inclusionPath(leaves, index, cp.treeSize).map(toHex),
      checkpoint: cp,
      publicKey: { keyId: signer.publicKey.keyId, ed25519: signer.publicKey.rawBase64 },
    };
  }

  return {
    publicKey: signer.publicKey,
    checkpoint,
    getCheckpoint,
    async listCheckpoints(options = {}) {
      const rows = await db
        .selectFrom('ledger_checkpoints')
        .selectAll()
        .where('tree_size', '>', options.afterSize ?? -1)
        .orderBy('tree_size')
        .limit(Math.min(options.limit ?? 100, CHECKPOINTS_LIST_MAX))
        .execute();
      return rows.map(fromRow);
    },
    inclusionProof,
    async consistency(from, to) {
      if (from > to) throw new LgError('LG_VALIDATION', `from (${from}) must not be after to (${to})`);
      const [a, b] = [await getCheckpoint(from), await getCheckpoint(to)];
      const rows = await readLedgerRows(db, to);
      if (rows.length < to)
        throw new LgError(
          'LG_LEDGER_INCONSISTENT',
          `the ledger no longer holds the ${to} entries checkpointed`,
        );
      return { from: a, to: b, proof: consistencyProof(ledgerLeafHashes(rows), from, to).map(toHex) };
    },
    async decisionProof(decisionId) {
      const row = await db
        .selectFrom('ledger_entries')
        .select('seq')
        .where('entry_id', '=', decisionId)
        .where('kind', '=', 'decision')
        .executeTakeFirst();
      if (!row) throw new LgError('LG_NOT_FOUND', `no decision '${decisionId}' in the ledger`);
      return inclusionProof(Number(row.seq));
    },
  };
}

function fromRow(row: {
  tree_size: number | string;
  root_hash: string;
  issued_at: number | string;
  origin: string;
  key_id: string;
  signature: string;
}): SignedCheckpoint {
  return {
    origin: row.origin,
    treeSize: Number(row.tree_size),
    rootHash: row.root_hash,
    issuedAt: Number(row.issued_at),
    keyId: row.key_id,
    signature: row.signature,
  };
}
