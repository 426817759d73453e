import type { UnitGuard } from '../domain/index.js';
import type { Clock } from '../domain/index.js';
import { LgError } from '../domain/index.js';
import { entryLeaf, ledgerStorage, normaliseRow, type LedgerHandle, type LedgerRow } from './ledger.js';
import {
  MissingBlockError,
  blockKey,
  blockSource,
  blocksRead,
  consistencyProofWith,
  extendTree,
  inclusionPathWith,
  leafHash,
  toHex,
  type Hash,
  type RangeRoot,
  type StoredBlock,
  type TreeBlock,
} from './merkle.js';
import {
  CHECKPOINT_ORIGIN,
  type ChainHeadRecord,
  type LedgerPublicKey,
  type LedgerSigner,
  type SignedCheckpoint,
} from './signing.js';
import { WitnessDeliveryError, type CheckpointWitness } from './witness.js';

/**
 * Evidence a third party can check (RFC 9162 in miniature): the ledger's entries are the leaves of a Merkle tree;
 * signed checkpoints commit to its size and root and go to a witness outside the database; inclusion proofs show an
 * entry is in a checkpointed tree, consistency proofs that a later checkpoint extends an earlier one.
 */
export interface LedgerEvidence {
  readonly publicKey: LedgerPublicKey;
  /**
   * Signs and stores a checkpoint of the whole ledger now (or returns the latest if nothing was appended since). The
   * answer is the checkpoint as its unit stored it; publishing it to the witnesses afterwards does not change it.
   */
  checkpoint(guard?: UnitGuard<SignedCheckpoint>): Promise<SignedCheckpoint>;
  listCheckpoints(options?: { limit?: number; afterSize?: number }): Promise<SignedCheckpoint[]>;
  /** A checkpoint by tree size (404 when none was issued at that size). */
  getCheckpoint(treeSize: number): Promise<SignedCheckpoint>;
  inclusionProof(seq: number, treeSize?: number): Promise<InclusionProof>;
  consistency(from: number, to: number): Promise<ConsistencyProof>;
  /** The inclusion proof of a decision's ledger entry, for the decision's id. */
  decisionProof(decisionId: string): Promise<InclusionProof>;
  /** Which checkpoints reached which witness (oldest first). */
  deliveries(options?: {
    witness?: string;
    state?: WitnessDelivery['state'];
    limit?: number;
  }): Promise<WitnessDelivery[]>;
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

/**
 * The Merkle log as stored (src/store/ledger.ts implements it). The tree's leaves are the ledger's settled entries in
 * seq order; its complete subtree hashes are kept, so a proof reads O(log n) of them rather than the whole ledger.
 */
export interface LedgerLogStore {
  /**
   * Integrates the entries settled since the tree's last leaf and stores the checkpoint `step` signs, in one
   * transaction; returns the checkpoint at the tree's size (the existing one when nothing new had settled). `guard`
   * goes with each chunk's unit, whose value is the checkpoint when that chunk stored it, else undefined.
   */
  advance(step: LogAdvance, guard?: UnitGuard<SignedCheckpoint | undefined>): Promise<SignedCheckpoint>;
  treeSize(): Promise<number>;
  entry(seq: number): Promise<LedgerRow | undefined>;
  /** The entry's leaf position, once it is in the tree. */
  leafIndex(seq: number): Promise<number | undefined>;
  /** The stored hashes of these blocks (those that exist), by blockKey. */
  blocks(blocks: readonly TreeBlock[]): Promise<Map<string, Hash>>;
  latestCheckpoint(): Promise<SignedCheckpoint | undefined>;
  checkpoint(treeSize: number): Promise<SignedCheckpoint | undefined>;
  listCheckpoints(options: { limit: number; afterSize: number }): Promise<SignedCheckpoint[]>;
  decisionSeq(decisionId: string): Promise<number | undefined>;
  recordDelivery(delivery: WitnessDelivery): Promise<void>;
  deliveries(options: {
    witness?: string;
    treeSize?: number;
    state?: WitnessDelivery['state'];
    limit: number;
  }): Promise<WitnessDelivery[]>;
}

/**
 * How the log grows and is signed; the store calls grow() once per bounded chunk of newly settled entries (each in a
 * short transaction of its own, so a checkpoint after a busy hour never holds the writer for long) and sign() once,
 * for the tree it reached.
 */
export interface LogAdvance {
  grow(input: {
    readonly size: number;
    readonly frontier: readonly StoredBlock[];
    readonly entries: readonly LedgerRow[];
    readonly chains: readonly ChainHeadRecord[];
  }): { readonly blocks: readonly StoredBlock[]; readonly root: Hash; readonly chains: ChainHeadRecord[] };
  sign(tree: {
    readonly size: number;
    readonly root: Hash;
    readonly chains: readonly ChainHeadRecord[];
  }): SignedCheckpoint;
}

/** Whether a checkpoint reached a witness: 'pending' ones are offered again with every later checkpoint. */
export interface WitnessDelivery {
  readonly treeSize: number;
  readonly witness: string;
  readonly state: 'delivered' | 'pending';
  readonly attempts: number;
  readonly lastError?: string;
  readonly updatedAt: number;
}

export interface EvidenceDeps {
  readonly log: LedgerLogStore;
  readonly clock: Clock;
  readonly signer: LedgerSigner;
  /** Where checkpoints are published outside the database; none means only the table (and the HTTP API). */
  readonly witnesses?: readonly CheckpointWitness[];
}

const PAGE_ROWS = 5000;
export const CHECKPOINTS_LIST_MAX = 1000;
/** Undelivered checkpoints offered again per witness on each new checkpoint. */
const REDELIVER_MAX = 20;

/** The ledger's rows in seq order as the tree sees them: numbers normalised (PostgreSQL returns bigint as text). */
export async function readLedgerRows(
  db: LedgerHandle,
  sizeMax = Number.MAX_SAFE_INTEGER,
): Promise<LedgerRow[]> {
  const rows: LedgerRow[] = [];
  let after = 0;
  while (rows.length < sizeMax) {
    const page = await ledgerStorage().entriesAfter(db, after, Math.min(PAGE_ROWS, sizeMax - rows.length));
    for (const row of page) rows.push(normaliseRow(row));
    if (page.length === 0 || page.length < PAGE_ROWS) break;
    after = Number(page[page.length - 1]?.seq);
  }
  return rows;
}

/** Leaf i is the (i+1)-th entry in seq order; a deleted or inserted row moves every later leaf, which roots reveal. */
export function ledgerLeafHashes(rows: readonly LedgerRow[]): Hash[] {
  return rows.map((row) => leafHash(entryLeaf(row)));
}

/** The chain heads after `entries` (in seq order) are appended to `before`, ascending by chain. */
export function advanceChains(
  before: readonly ChainHeadRecord[],
  entries: readonly LedgerRow[],
): ChainHeadRecord[] {
  const heads = new Map(before.map((c) => [c.chain, c]));
  for (const e of entries) heads.set(e.chain, { chain: e.chain, length: e.chain_seq, hash: e.hash });
  return [...heads.values()].sort((a, b) => a.chain - b.chain);
}

export function createLedgerEvidence(deps: EvidenceDeps): LedgerEvidence {
  const { signer, log } = deps;
  const checkpoint = checkpointMaker(deps);
  const steps = proofSteps(log, checkpoint);
  const { getCheckpoint, ensureTree, fromStoredBlocks } = steps;
  const inclusionProof = (seq: number, treeSize?: number): Promise<InclusionProof> =>
    proveInclusion({ steps, signer }, seq, treeSize);
  return {
    publicKey: signer.publicKey,
    checkpoint,
    getCheckpoint,
    listCheckpoints: (options = {}) =>
      log.listCheckpoints({
        limit: Math.min(options.limit ?? 100, CHECKPOINTS_LIST_MAX),
        afterSize: options.afterSize ?? -1,
      }),
    inclusionProof,
    async consistency(from, to) {
      if (from > to) throw new LgError('LG_VALIDATION', `from (${from}) must not be after to (${to})`);
      const [a, b] = [await getCheckpoint(from), await getCheckpoint(to)];
      await ensureTree(to);
      const { value } = await fromStoredBlocks((root) => consistencyProofWith(root, from, to));
      return { from: a, to: b, proof: value.map(toHex) };
    },
    async decisionProof(decisionId) {
      const seq = await log.decisionSeq(decisionId);
      if (seq === undefined) throw new LgError('LG_NOT_FOUND', `no decision '${decisionId}' in the ledger`);
      return inclusionProof(seq);
    },
    deliveries: (options = {}) =>
      log.deliveries({ ...options, limit: Math.min(options.limit ?? 100, CHECKPOINTS_LIST_MAX) }),
  };
}

/** Signs a checkpoint of the whole ledger (growing the stored tree first) and publishes it to every witness. */
function checkpointMaker(
  deps: EvidenceDeps,
): (guard?: UnitGuard<SignedCheckpoint>) => Promise<SignedCheckpoint> {
  const { signer, log } = deps;
  const witnesses = deps.witnesses ?? [];
  return async function checkpoint(guard?: UnitGuard<SignedCheckpoint>): Promise<SignedCheckpoint> {
    const signed = await log.advance(
      {
        grow: ({ size, frontier, entries, chains }) => {
          const grown = extendTree(size, frontier, ledgerLeafHashes(entries));
          return { blocks: grown.blocks, root: grown.root, chains: advanceChains(chains, entries) };
        },
        sign: ({ size, root, chains }) =>
          signer.sign({
            origin: CHECKPOINT_ORIGIN,
            treeSize: size,
            rootHash: toHex(root),
            issuedAt: deps.clock.now(),
            ...(chains.length > 0 ? { chains } : {}),
          }),
      },
      guard && answeringWhenSigned(guard),
    );
    await publish(deps, witnesses, signed);
    return signed;
  };
}

/**
 * The request's guard for each chunk of an advance: the first chunk to commit writes the key, with the checkpoint as
 * the answer when that chunk also stored it (the usual case, a checkpoint of at most one chunk of new entries). A
 * chunk that only grew the tree has no answer to say: its key goes alone, and the reply stores the answer after.
 */
function answeringWhenSigned(guard: UnitGuard<SignedCheckpoint>): UnitGuard<SignedCheckpoint | undefined> {
  const respond = guard.respond;
  if (!respond) return { idempotency: guard.idempotency };
  return {
    idempotency: guard.idempotency,
    respond: (outcome) => {
      if (!outcome.ok) return respond(outcome);
      return outcome.value === undefined ? undefined : respond({ ok: true, value: outcome.value });
    },
  };
}

/**
 * To every witness; a failure is recorded as pending, never lost silently. Pending ones are offered again only once
 * the witness has taken this one: a witness that is down costs each checkpoint one delivery's retries, not more.
 */
async function publish(
  deps: EvidenceDeps,
  witnesses: readonly CheckpointWitness[],
  cp: SignedCheckpoint,
): Promise<void> {
  const { log } = deps;
  for (const witness of witnesses) {
    const before = await log.deliveries({ witness: witness.name, treeSize: cp.treeSize, limit: 1 });
    // The same checkpoint again (nothing new was appended): a witness that has it is not asked twice.
    if (before[0]?.state === 'delivered') continue;
    if (!(await deliver(deps, { witness, cp, attemptsBefore: before[0]?.attempts ?? 0 }))) continue;
    for (const pending of await log.deliveries({
      witness: witness.name,
      state: 'pending',
      limit: REDELIVER_MAX,
    })) {
      const earlier = pending.treeSize === cp.treeSize ? undefined : await log.checkpoint(pending.treeSize);
      if (earlier && !(await deliver(deps, { witness, cp: earlier, attemptsBefore: pending.attempts })))
        break;
    }
  }
}

/** One delivery, recorded; true when the witness took it. */
async function deliver(
  deps: EvidenceDeps,
  delivery: { witness: CheckpointWitness; cp: SignedCheckpoint; attemptsBefore: number },
): Promise<boolean> {
  const { witness, cp, attemptsBefore } = delivery;
  const outcome = await witness.publish(cp).then(
    (result) => ({ ok: true as const, attempts: result?.attempts ?? 1 }),
    (error: unknown) => ({
      ok: false as const,
      attempts: error instanceof WitnessDeliveryError ? error.attempts : 1,
      error: error instanceof Error ? error.message : String(error),
    }),
  );
  await deps.log.recordDelivery({
    treeSize: cp.treeSize,
    witness: witness.name,
    state: outcome.ok ? 'delivered' : 'pending',
    attempts: attemptsBefore + outcome.attempts,
    ...(outcome.ok ? {} : { lastError: outcome.error.slice(0, 500) }),
    updatedAt: deps.clock.now(),
  });
  return outcome.ok;
}

/** What the proofs are built from: stored checkpoints, the stored tree, leaf indexes. */
interface ProofSteps {
  readonly log: LedgerLogStore;
  readonly checkpoint: (guard?: UnitGuard<SignedCheckpoint>) => Promise<SignedCheckpoint>;
  getCheckpoint(treeSize: number): Promise<SignedCheckpoint>;
  ensureTree(size: number): Promise<void>;
  fromStoredBlocks<T>(
    run: (root: RangeRoot) => T,
    extra?: readonly TreeBlock[],
  ): Promise<{ value: T; blocks: Map<string, Hash> }>;
  leafIndexOf(seq: number): Promise<number>;
}

function proofSteps(
  log: LedgerLogStore,
  checkpoint: (guard?: UnitGuard<SignedCheckpoint>) => Promise<SignedCheckpoint>,
): ProofSteps {
  return {
    log,
    checkpoint,
    async getCheckpoint(treeSize) {
      const cp = await log.checkpoint(treeSize);
      if (!cp) throw new LgError('LG_NOT_FOUND', `no checkpoint of tree size ${treeSize}`);
      return cp;
    },
    /** Checkpoints signed before the tree was stored: integrate up to them first (once). */
    async ensureTree(size) {
      if ((await log.treeSize()) < size) await checkpoint();
      if ((await log.treeSize()) < size)
        throw new LgError(
          'LG_LEDGER_INCONSISTENT',
          `the ledger no longer holds the ${size} entries checkpointed`,
        );
    },
    /** Runs a proof over exactly the stored blocks it needs (plus any the caller names). */
    async fromStoredBlocks(run, extra = []) {
      const blocks = await log.blocks([...blocksRead(run), ...extra]);
      try {
        return { value: run(blockSource(blocks)), blocks };
      } catch (error) {
        if (error instanceof MissingBlockError) throw new LgError('LG_LEDGER_INCONSISTENT', error.message);
        throw error;
      }
    },
    async leafIndexOf(seq) {
      const known = await log.leafIndex(seq);
      if (known !== undefined) return known;
      await checkpoint();
      const index = await log.leafIndex(seq);
      if (index === undefined)
        throw new LgError(
          'LG_CONFLICT',
          `ledger entry ${seq} is not in the Merkle log yet (an earlier transaction is still open); retry shortly`,
        );
      return index;
    },
  };
}

async function proveInclusion(
  context: { steps: ProofSteps; signer: LedgerSigner },
  seq: number,
  treeSize?: number,
): Promise<InclusionProof> {
  const { steps, signer } = context;
  const { log } = steps;
  const row = await log.entry(seq);
  if (!row) throw new LgError('LG_NOT_FOUND', `no ledger entry ${seq}`);
  const index = await steps.leafIndexOf(seq);
  const latest = treeSize === undefined ? await log.latestCheckpoint() : undefined;
  const cp =
    treeSize !== undefined
      ? await steps.getCheckpoint(treeSize)
      : latest && latest.treeSize > index
        ? latest
        : await steps.checkpoint();
  if (index >= cp.treeSize)
    throw new LgError('LG_VALIDATION', `entry ${seq} is not in the tree of size ${cp.treeSize}`);
  await steps.ensureTree(cp.treeSize);
  const leafBlock = { level: 0, index };
  const { value: path, blocks } = await steps.fromStoredBlocks(
    (root) => inclusionPathWith(root, index, cp.treeSize),
    [leafBlock],
  );
  const leaf = entryLeaf(row);
  const hash = leafHash(leaf);
  // The entry as stored must still be the leaf the tree holds; otherwise the proof would prove nothing.
  if (!blocks.get(blockKey(leafBlock))?.equals(hash))
    throw new LgError(
      'LG_LEDGER_INCONSISTENT',
      `ledger entry ${seq} no longer matches its leaf in the Merkle log`,
    );
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
    leaf,
    leafHash: toHex(hash),
    leafIndex: index,
    treeSize: cp.treeSize,
    path: path.map(toHex),
    checkpoint: cp,
    publicKey: { keyId: signer.publicKey.keyId, ed25519: signer.publicKey.rawBase64 },
  };
}
