import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'kysely';
import {
  blockKey,
  fromHex,
  normaliseRow,
  rangeBlocks,
  toHex,
  type ChainHeadRecord,
  type Hash,
  type LedgerLogStore,
  type LogAdvance,
  type SignedCheckpoint,
  type TreeBlock,
  type WitnessDelivery,
} from '../compliance/index.js';
import type { Db, DbTx, Store } from './db.js';
import { insertRows } from './shaped.js';

/**
 * The Merkle log of the ledger as stored rows (src/compliance/evidence.ts declares the port): which entries are in
 * the tree (ledger_leaf_index), its complete subtree hashes (ledger_tree_nodes), how far it reaches (ledger_tree),
 * the signed checkpoints and their delivery to witnesses.
 *
 * Which entries may join the tree. The tree is over entries in global seq order and must only ever grow at the end:
 * an entry that committed later with a SMALLER seq than one already in the tree would have to be inserted in the
 * middle, and every later root would contradict a published checkpoint. SQLite has one writer, so everything it can
 * read inside the checkpoint's unit is settled. On PostgreSQL seqs come from a sequence and transactions commit in
 * any order, so the checkpoint first finds a settled horizon S:
 *   1. read the sequence's last value S — every seq <= S was drawn before this moment;
 *   2. take a snapshot and wait until every transaction in progress in it has ended.
 * An appender locks its chain head (a row UPDATE, which assigns its transaction id) BEFORE it draws a seq
 * (src/compliance/ledger.ts), so a transaction still holding a seq <= S had a transaction id at step 1 and is in the
 * snapshot's in-progress list at step 2; once those have all ended, every seq <= S has committed or rolled back for
 * good. Entries with seq <= S then form a fixed prefix; gaps (rolled-back seqs) simply are not leaves. The snapshot is
 * of the whole server, so a long writer in another database also delays checkpoints (never appends). If the wait
 * exceeds settleWaitMsMax (a transaction held open), this checkpoint adds nothing and the next one tries again.
 */
const SETTLE_WAIT_MS_DEFAULT = 5_000;
const SETTLE_POLL_MS = 5;
/** Entries integrated per transaction: bounds how long a checkpoint holds SQLite's writer (about 0.1 ms each). */
const INTEGRATE_ROWS_DEFAULT = 2_000;
/** Rows per INSERT when storing tree nodes (SQLite binds at most 32,766 parameters a statement). */
const INSERT_ROWS_MAX = 500;

type LedgerLogOptions = { readonly settleWaitMsMax?: number; readonly integrateRowsMax?: number };

export function createLedgerLogStore(store: Store, options: LedgerLogOptions = {}): LedgerLogStore {
  return {
    ...treeMethods(store, options),
    ...entryMethods(store.db),
    ...checkpointMethods(store.db),
    ...witnessDeliveryMethods(store),
  };
}

/** Growing the tree by settled entries, and reading its size, leaves and subtree hashes. */
function treeMethods(
  store: Store,
  options: LedgerLogOptions,
): Pick<LedgerLogStore, 'advance' | 'treeSize' | 'leafIndex' | 'blocks'> {
  const db = store.db;
  const settleWaitMsMax = options.settleWaitMsMax ?? SETTLE_WAIT_MS_DEFAULT;
  const rowsMax = options.integrateRowsMax ?? INTEGRATE_ROWS_DEFAULT;
  return {
    async advance(step, guard) {
      const horizon =
        store.kind === 'postgres' ? await settledSeq(db, settleWaitMsMax) : Number.MAX_SAFE_INTEGER;
      for (;;) {
        // Each chunk may carry the request's key: the first to commit writes it (the checkpoint is whatever was signed).
        const signed = await store.transaction((tx) => advanceChunk(tx, { horizon, rowsMax }, step), guard);
        if (signed) return signed;
      }
    },
    async treeSize() {
      const row = await db.selectFrom('ledger_tree').select('size').where('id', '=', 1).executeTakeFirst();
      return Number(row?.size ?? 0);
    },
    async leafIndex(seq) {
      const row = await db
        .selectFrom('ledger_leaf_index')
        .select('leaf_index')
        .where('seq', '=', seq)
        .executeTakeFirst();
      return row ? Number(row.leaf_index) : undefined;
    },
    blocks: (blocks) => readBlocks(db, blocks),
  };
}

function entryMethods(db: Db): Pick<LedgerLogStore, 'entry' | 'decisionSeq'> {
  return {
    async entry(seq) {
      const row = await db.selectFrom('ledger_entries').selectAll().where('seq', '=', seq).executeTakeFirst();
      return row ? normaliseRow(row) : undefined;
    },
    async decisionSeq(decisionId) {
      const row = await db
        .selectFrom('ledger_entries')
        .select('seq')
        .where('entry_id', '=', decisionId)
        .where('kind', '=', 'decision')
        .executeTakeFirst();
      return row ? Number(row.seq) : undefined;
    },
  };
}

function checkpointMethods(
  db: Db,
): Pick<LedgerLogStore, 'latestCheckpoint' | 'checkpoint' | 'listCheckpoints'> {
  return {
    async latestCheckpoint() {
      const row = await db
        .selectFrom('ledger_checkpoints')
        .selectAll()
        .orderBy('tree_size', 'desc')
        .limit(1)
        .executeTakeFirst();
      return row ? checkpointFromRow(row) : undefined;
    },
    checkpoint: (treeSize) => checkpointAt(db, treeSize),
    async listCheckpoints(options) {
      const rows = await db
        .selectFrom('ledger_checkpoints')
        .selectAll()
        .where('tree_size', '>', options.afterSize)
        .orderBy('tree_size')
        .limit(options.limit)
        .execute();
      return rows.map(checkpointFromRow);
    },
  };
}

/** Where each signed checkpoint stands with each witness. */
function witnessDeliveryMethods(store: Store): Pick<LedgerLogStore, 'recordDelivery' | 'deliveries'> {
  const db = store.db;
  return {
    async recordDelivery(d) {
      await store.transaction((tx) =>
        tx
          .insertInto('ledger_witness_deliveries')
          .values({
            tree_size: d.treeSize,
            witness: d.witness,
            state: d.state,
            attempts: d.attempts,
            last_error: d.lastError ?? null,
            updated_at: d.updatedAt,
          })
          .onConflict((oc) =>
            oc.columns(['tree_size', 'witness']).doUpdateSet({
              state: d.state,
              attempts: d.attempts,
              last_error: d.lastError ?? null,
              updated_at: d.updatedAt,
            }),
          )
          .execute(),
      );
    },
    async deliveries(options) {
      let query = db.selectFrom('ledger_witness_deliveries').selectAll();
      if (options.witness !== undefined) query = query.where('witness', '=', options.witness);
      if (options.state !== undefined) query = query.where('state', '=', options.state);
      if (options.treeSize !== undefined) query = query.where('tree_size', '=', options.treeSize);
      const rows = await query.orderBy('tree_size').limit(options.limit).execute();
      return rows.map((r): WitnessDelivery => ({
        treeSize: Number(r.tree_size),
        witness: r.witness,
        state: r.state === 'delivered' ? 'delivered' : 'pending',
        attempts: Number(r.attempts),
        ...(r.last_error === null ? {} : { lastError: r.last_error }),
        updatedAt: Number(r.updated_at),
      }));
    },
  };
}

/** PostgreSQL: the largest seq below which nothing can still commit (see the comment at the top). */
async function settledSeq(db: Db, waitMsMax: number): Promise<number | undefined> {
  const drawn = await sql<{
    last_value: number | string;
    is_called: boolean;
  }>`select last_value, is_called from ledger_seq`.execute(db);
  const seqRow = drawn.rows[0];
  if (!seqRow) throw new Error('the ledger_seq sequence is missing');
  const horizon = seqRow.is_called ? Number(seqRow.last_value) : Number(seqRow.last_value) - 1;
  const snapshot = await sql<{
    xid: string;
  }>`select pg_snapshot_xip(pg_current_snapshot())::text as xid`.execute(db);
  let inProgress = snapshot.rows.map((r) => r.xid);
  for (let waitedMs = 0; inProgress.length > 0; waitedMs += SETTLE_POLL_MS) {
    const status = await sql<{ xid: string; status: string | null }>`
      select x as xid, pg_xact_status(x::xid8) as status from unnest(${inProgress}::text[]) as x`.execute(db);
    inProgress = status.rows.filter((r) => r.status === 'in progress').map((r) => r.xid);
    if (inProgress.length === 0) break;
    if (waitedMs >= waitMsMax) return undefined;
    await sleep(SETTLE_POLL_MS);
  }
  return horizon;
}

/** One chunk: integrates up to rowsMax settled entries; the last chunk also stores the checkpoint. */
async function advanceChunk(
  tx: DbTx,
  { horizon, rowsMax }: { readonly horizon: number | undefined; readonly rowsMax: number },
  step: LogAdvance,
): Promise<SignedCheckpoint | undefined> {
  // The tree row lock serialises checkpoints (not appends): two processes never integrate the same entries.
  const state = await sql<{
    size: number;
    last_seq: number;
    root: string;
    chains: string;
  }>`update ledger_tree set size = size where id = 1 returning size, last_seq, root, chains`.execute(tx);
  const tree = state.rows[0];
  if (!tree) throw new Error('the ledger_tree row is missing');
  const size = Number(tree.size);
  const lastSeq = Number(tree.last_seq);
  const entries =
    horizon === undefined
      ? []
      : (
          await tx
            .selectFrom('ledger_entries')
            .selectAll()
            .where('seq', '>', lastSeq)
            .where('seq', '<=', horizon)
            .orderBy('seq')
            .limit(rowsMax)
            .execute()
        ).map(normaliseRow);
  const chains = JSON.parse(tree.chains) as ChainHeadRecord[];
  if (entries.length === 0) {
    const root = fromHex(tree.root);
    if (!root) throw new Error('the ledger_tree root is not a hash');
    return (await checkpointAt(tx, size)) ?? storeCheckpoint(tx, step.sign({ size, root, chains }), lastSeq);
  }
  const frontierBlocks = rangeBlocks(0, size);
  const found = await readBlocks(tx, frontierBlocks);
  const frontier = frontierBlocks.map((b) => {
    const hash = found.get(blockKey(b));
    if (!hash) throw new Error(`the stored Merkle tree lacks block ${blockKey(b)} of its frontier`);
    return { ...b, hash };
  });
  const grown = step.grow({ size, frontier, entries, chains });
  await insertChunks(
    tx,
    'ledger_tree_nodes',
    grown.blocks.map((b) => ({ level: b.level, idx: b.index, hash: toHex(b.hash) })),
  );
  await insertChunks(
    tx,
    'ledger_leaf_index',
    entries.map((e, i) => ({ seq: e.seq, leaf_index: size + i })),
  );
  const newSize = size + entries.length;
  const newLastSeq = (entries[entries.length - 1] as { seq: number }).seq;
  await tx
    .updateTable('ledger_tree')
    .set({
      size: newSize,
      last_seq: newLastSeq,
      root: toHex(grown.root),
      chains: JSON.stringify(grown.chains),
    })
    .where('id', '=', 1)
    .execute();
  // A full chunk may have more behind it: the next chunk (its own transaction) goes on, the last one signs.
  if (entries.length === rowsMax) return undefined;
  return storeCheckpoint(
    tx,
    step.sign({ size: newSize, root: grown.root, chains: grown.chains }),
    newLastSeq,
  );
}

async function storeCheckpoint(tx: DbTx, cp: SignedCheckpoint, lastSeq: number): Promise<SignedCheckpoint> {
  // A checkpoint signed before the tree was stored may already hold this size: the first row stands.
  await tx
    .insertInto('ledger_checkpoints')
    .values({
      tree_size: cp.treeSize,
      root_hash: cp.rootHash,
      issued_at: cp.issuedAt,
      origin: cp.origin,
      key_id: cp.keyId,
      signature: cp.signature,
      last_seq: lastSeq,
      chains: cp.chains ? JSON.stringify(cp.chains) : null,
    })
    .onConflict((oc) => oc.column('tree_size').doNothing())
    .execute();
  const stored = await checkpointAt(tx, cp.treeSize);
  if (!stored) throw new Error(`checkpoint ${cp.treeSize} vanished`);
  return stored;
}

async function insertChunks<T extends 'ledger_tree_nodes' | 'ledger_leaf_index'>(
  tx: DbTx,
  table: T,
  rows: readonly Parameters<typeof insertRows<T>>[2][number][],
): Promise<void> {
  for (let at = 0; at < rows.length; at += INSERT_ROWS_MAX)
    await insertRows(tx, table, rows.slice(at, at + INSERT_ROWS_MAX));
}

async function readBlocks(db: Db, blocks: readonly TreeBlock[]): Promise<Map<string, Hash>> {
  const found = new Map<string, Hash>();
  if (blocks.length === 0) return found;
  const rows = await db
    .selectFrom('ledger_tree_nodes')
    .select(['level', 'idx', 'hash'])
    .where((eb) => eb.or(blocks.map((b) => eb.and([eb('level', '=', b.level), eb('idx', '=', b.index)]))))
    .execute();
  for (const row of rows) {
    const hash = fromHex(row.hash);
    if (hash) found.set(blockKey({ level: Number(row.level), index: Number(row.idx) }), hash);
  }
  return found;
}

async function checkpointAt(db: Db, treeSize: number): Promise<SignedCheckpoint | undefined> {
  const row = await db
    .selectFrom('ledger_checkpoints')
    .selectAll()
    .where('tree_size', '=', treeSize)
    .executeTakeFirst();
  return row ? checkpointFromRow(row) : undefined;
}

function checkpointFromRow(row: {
  tree_size: number | string;
  root_hash: string;
  issued_at: number | string;
  origin: string;
  key_id: string;
  signature: string;
  chains: string | null;
}): SignedCheckpoint {
  return {
    origin: row.origin,
    treeSize: Number(row.tree_size),
    rootHash: row.root_hash,
    issuedAt: Number(row.issued_at),
    keyId: row.key_id,
    signature: row.signature,
    ...(row.chains === null ? {} : { chains: JSON.parse(row.chains) as ChainHeadRecord[] }),
  };
}
