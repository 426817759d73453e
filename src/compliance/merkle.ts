import { createHash } from 'node:crypto';

/**
 * The Merkle tree of RFC 9162 (Certificate Transparency 2.0) §2.1, over byte-string leaves:
 *   leaf hash  = SHA-256(0x00 || leaf)
 *   node hash  = SHA-256(0x01 || left || right)
 *   MTH({})    = SHA-256()   (the empty string)
 *   MTH(D[n])  = node(MTH(D[0:k]), MTH(D[k:n])), k the largest power of two smaller than n.
 * The prefixes keep a leaf from ever being passed off as an inner node (second-preimage resistance).
 * Everything here is pure and works on leaf HASHES, so callers can hash their leaves once and keep them.
 */
export type Hash = Buffer;

const LEAF_PREFIX = Buffer.from([0x00]);
const NODE_PREFIX = Buffer.from([0x01]);

export function leafHash(leaf: string | Uint8Array): Hash {
  return createHash('sha256').update(LEAF_PREFIX).update(leaf).digest();
}

export function nodeHash(left: Hash, right: Hash): Hash {
  return createHash('sha256').update(NODE_PREFIX).update(left).update(right).digest();
}

export const EMPTY_ROOT: Hash = createHash('sha256').digest();

/** The largest power of two strictly smaller than n (n >= 2). */
function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** MTH(D[lo:hi]): however the caller keeps the tree (all leaf hashes in memory, or stored subtree hashes). */
export type RangeRoot = (lo: number, hi: number) => Hash;

/** MTH(D[lo:hi]) over leaf hashes. */
function subtreeRoot(leaves: readonly Hash[], lo: number, hi: number): Hash {
  const n = hi - lo;
  if (n === 1) return leaves[lo] as Hash;
  const k = splitPoint(n);
  return nodeHash(subtreeRoot(leaves, lo, lo + k), subtreeRoot(leaves, lo + k, hi));
}

const fromLeaves =
  (leaves: readonly Hash[]): RangeRoot =>
  (lo, hi) =>
    subtreeRoot(leaves, lo, hi);

/** MTH of the first `size` leaves (default all). */
export function treeRoot(leaves: readonly Hash[], size = leaves.length): Hash {
  assertSize(size, leaves.length);
  return size === 0 ? EMPTY_ROOT : subtreeRoot(leaves, 0, size);
}

/** PATH(m, D[size]) of RFC 9162 §2.1.3.1: the audit path of leaf `index` (0-based) in the tree of `size` leaves. */
export function inclusionPath(leaves: readonly Hash[], index: number, size = leaves.length): Hash[] {
  assertSize(size, leaves.length);
  return inclusionPathWith(fromLeaves(leaves), index, size);
}

/** inclusionPath over any source of subtree roots. */
export function inclusionPathWith(root: RangeRoot, index: number, size: number): Hash[] {
  if (!Number.isInteger(index) || index < 0 || index >= size)
    throw new RangeError(`leaf index ${index} is outside a tree of ${size}`);
  const path: Hash[] = [];
  collectPath(root, index, 0, size, path);
  return path;
}

function collectPath(root: RangeRoot, m: number, lo: number, hi: number, out: Hash[]): void {
  const n = hi - lo;
  if (n <= 1) return;
  const k = splitPoint(n);
  if (m < k) {
    collectPath(root, m, lo, lo + k, out);
    out.push(root(lo + k, hi));
  } else {
    collectPath(root, m - k, lo + k, hi, out);
    out.push(root(lo, lo + k));
  }
}

/** PROOF(m, D[n]) of RFC 9162 §2.1.4.1: proves the tree of `from` leaves is a prefix of the tree of `to` leaves. */
export function consistencyProof(leaves: readonly Hash[], from: number, to = leaves.length): Hash[] {
  assertSize(to, leaves.length);
  return consistencyProofWith(fromLeaves(leaves), from, to);
}

/** consistencyProof over any source of subtree roots. */
export function consistencyProofWith(root: RangeRoot, from: number, to: number): Hash[] {
  if (!Number.isInteger(from) || from < 0 || from > to)
    throw new RangeError(`cannot prove size ${from} against size ${to}`);
  const proof: Hash[] = [];
  // A proof from the empty tree, or between equal sizes, is empty: there is nothing to show.
  if (from === 0 || from === to) return proof;
  subproof(root, { m: from, lo: 0, hi: to, whole: true }, proof);
  return proof;
}

function subproof(
  root: RangeRoot,
  at: { m: number; lo: number; hi: number; whole: boolean },
  out: Hash[],
): void {
  const n = at.hi - at.lo;
  if (at.m === n) {
    if (!at.whole) out.push(root(at.lo, at.hi));
    return;
  }
  const k = splitPoint(n);
  if (at.m <= k) {
    subproof(root, { m: at.m, lo: at.lo, hi: at.lo + k, whole: at.whole }, out);
    out.push(root(at.lo + k, at.hi));
  } else {
    subproof(root, { m: at.m - k, lo: at.lo + k, hi: at.hi, whole: false }, out);
    out.push(root(at.lo, at.lo + k));
  }
}

/**
 * Stored trees. A complete (perfect) subtree is a block: level L, index i covers leaves [i·2^L, (i+1)·2^L); level 0
 * blocks are leaf hashes. Every range the RFC 9162 recursion visits starts at a multiple of a power of two at least
 * its length, so its MTH is its greedy split into blocks, largest first, folded from the right — which is how a log
 * that keeps its blocks answers any proof by reading O(log n) of them (the "compact range" of transparency logs).
 */
export interface TreeBlock {
  readonly level: number;
  readonly index: number;
}

export interface StoredBlock extends TreeBlock {
  readonly hash: Hash;
}

export const blockKey = (b: TreeBlock): string => `${b.level}:${b.index}`;

/** The blocks whose roots fold into MTH(D[lo:hi]), left to right. */
export function rangeBlocks(lo: number, hi: number): TreeBlock[] {
  const blocks: TreeBlock[] = [];
  let at = lo;
  while (at < hi) {
    let level = 0;
    while (at % 2 ** (level + 1) === 0 && at + 2 ** (level + 1) <= hi) level += 1;
    blocks.push({ level, index: at / 2 ** level });
    at += 2 ** level;
  }
  return blocks;
}

/** Folds block roots (left to right) into the MTH of the range they cover. */
export function foldBlocks(hashes: readonly Hash[]): Hash {
  if (hashes.length === 0) return EMPTY_ROOT;
  let root = hashes[hashes.length - 1] as Hash;
  for (let i = hashes.length - 2; i >= 0; i--) root = nodeHash(hashes[i] as Hash, root);
  return root;
}

/** The blocks a proof will read: run it once against a recorder, then fetch exactly those. */
export function blocksRead(run: (root: RangeRoot) => unknown): TreeBlock[] {
  const seen = new Map<string, TreeBlock>();
  run((lo, hi) => {
    for (const block of rangeBlocks(lo, hi)) seen.set(blockKey(block), block);
    return EMPTY_ROOT;
  });
  return [...seen.values()];
}

/** A RangeRoot over fetched blocks; a missing block is an inconsistent store, reported by the caller. */
export function blockSource(blocks: ReadonlyMap<string, Hash>): RangeRoot {
  return (lo, hi) =>
    foldBlocks(
      rangeBlocks(lo, hi).map((block) => {
        const hash = blocks.get(blockKey(block));
        if (!hash) throw new MissingBlockError(block);
        return hash;
      }),
    );
}

export class MissingBlockError extends Error {
  constructor(readonly block: TreeBlock) {
    super(`the stored Merkle tree has no block at level ${block.level}, index ${block.index}`);
  }
}

/**
 * Appends leaves to a tree of `size` leaves given its frontier (the blocks of [0, size), i.e. rangeBlocks(0, size)
 * with their hashes). Returns every block completed on the way (the new leaves included), the new frontier and root.
 */
export function extendTree(
  size: number,
  frontier: readonly StoredBlock[],
  leaves: readonly Hash[],
): { readonly blocks: StoredBlock[]; readonly frontier: StoredBlock[]; readonly root: Hash } {
  const stack = [...frontier];
  const blocks: StoredBlock[] = [];
  leaves.forEach((hash, i) => {
    let top: StoredBlock = { level: 0, index: size + i, hash };
    blocks.push(top);
    for (
      let left = stack[stack.length - 1];
      left && left.level === top.level;
      left = stack[stack.length - 1]
    ) {
      stack.pop();
      top = { level: top.level + 1, index: left.index / 2, hash: nodeHash(left.hash, top.hash) };
      blocks.push(top);
    }
    stack.push(top);
  });
  return { blocks, frontier: stack, root: foldBlocks(stack.map((b) => b.hash)) };
}

function assertSize(size: number, available: number): void {
  if (!Number.isInteger(size) || size < 0 || size > available)
    throw new RangeError(`tree size ${size} is outside 0..${available}`);
}

/** The root an inclusion proof leads to (RFC 9162 §2.1.3.2), or null when the proof is malformed for its sizes. */
export function rootFromInclusion(
  leaf: Hash,
  index: number,
  size: number,
  path: readonly Hash[],
): Hash | null {
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(size) || index < 0 || index >= size) return null;
  let fn = BigInt(index);
  let sn = BigInt(size - 1);
  let r = leaf;
  for (const p of path) {
    if (sn === 0n) return null;
    if ((fn & 1n) === 1n || fn === sn) {
      r = nodeHash(p, r);
      if ((fn & 1n) === 0n) {
        while ((fn & 1n) === 0n && fn !== 0n) {
          fn >>= 1n;
          sn >>= 1n;
        }
      }
    } else {
      r = nodeHash(r, p);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  return sn === 0n ? r : null;
}

export function verifyInclusion(
  leaf: Hash,
  index: number,
  size: number,
  path: readonly Hash[],
  root: Hash,
): boolean {
  const computed = rootFromInclusion(leaf, index, size, path);
  return computed !== null && computed.equals(root);
}

/** RFC 9162 §2.1.4.2: does `proof` show that the tree (fromSize, fromRoot) is a prefix of (toSize, toRoot)? */
export function verifyConsistency(
  sizes: { readonly from: number; readonly to: number },
  proof: readonly Hash[],
  roots: { readonly from: Hash; readonly to: Hash },
): boolean {
  const { from, to } = sizes;
  if (!Number.isSafeInteger(from) || !Number.isSafeInteger(to) || from < 0 || from > to) return false;
  if (from === to) return proof.length === 0 && roots.from.equals(roots.to);
  if (from === 0) return proof.length === 0 && roots.from.equals(EMPTY_ROOT);
  if (proof.length === 0) return false;
  // When the old tree is a complete subtree, its root is the first node of the path.
  const path = isPowerOfTwo(from) ? [roots.from, ...proof] : [...proof];
  let fn = BigInt(from - 1);
  let sn = BigInt(to - 1);
  while ((fn & 1n) === 1n) {
    fn >>= 1n;
    sn >>= 1n;
  }
  let fr = path[0] as Hash;
  let sr = path[0] as Hash;
  for (const c of path.slice(1)) {
    if (sn === 0n) return false;
    if ((fn & 1n) === 1n || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      while ((fn & 1n) === 0n && fn !== 0n) {
        fn >>= 1n;
        sn >>= 1n;
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  return sn === 0n && fr.equals(roots.from) && sr.equals(roots.to);
}

function isPowerOfTwo(n: number): boolean {
  return n > 0 && (n & (n - 1)) === 0;
}

export const toHex = (hash: Hash): string => hash.toString('hex');

/** A 32-byte hash from 64 hex characters, or null (hostile input is a value, not an exception). */
export function fromHex(text: string): Hash | null {
  return /^[0-9a-f]{64}$/.test(text) ? Buffer.from(text, 'hex') : null;
}
