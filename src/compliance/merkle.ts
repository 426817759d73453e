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

/** MTH(D[lo:hi]) over leaf hashes. */
function subtreeRoot(leaves: readonly Hash[], lo: number, hi: number): Hash {
  const n = hi - lo;
  if (n === 1) return leaves[lo] as Hash;
  const k = splitPoint(n);
  return nodeHash(subtreeRoot(leaves, lo, lo + k), subtreeRoot(leaves, lo + k, hi));
}

/** MTH of the first `size` leaves (default all). */
export function treeRoot(leaves: readonly Hash[], size = leaves.length): Hash {
  assertSize(size, leaves.length);
  return size === 0 ? EMPTY_ROOT : subtreeRoot(leaves, 0, size);
}

/** PATH(m, D[size]) of RFC 9162 §2.1.3.1: the audit path of leaf `index` (0-based) in the tree of `size` leaves. */
export function inclusionPath(leaves: readonly Hash[], index: number, size = leaves.length): Hash[] {
  assertSize(size, leaves.length);
  if (!Number.isInteger(index) || index < 0 || index >= size)
    throw new RangeError(`leaf index ${index} is outside a tree of ${size}`);
  const path: Hash[] = [];
  collectPath(leaves, index, 0, size, path);
  return path;
}

function collectPath(leaves: readonly Hash[], m: number, lo: number, hi: number, out: Hash[]): void {
  const n = hi - lo;
  if (n <= 1) return;
  const k = splitPoint(n);
  if (m < k) {
    collectPath(leaves, m, lo, lo + k, out);
    out.push(subtreeRoot(leaves, lo + k, hi));
  } else {
    collectPath(leaves, m - k, lo + k, hi, out);
    out.push(subtreeRoot(leaves, lo, lo + k));
  }
}

/** PROOF(m, D[n]) of RFC 9162 §2.1.4.1: proves the tree of `from` leaves is a prefix of the tree of `to` leaves. */
export function consistencyProof(leaves: readonly Hash[], from: number, to = leaves.length): Hash[] {
  assertSize(to, leaves.length);
  if (!Number.isInteger(from) || from < 0 || from > to)
    throw new RangeError(`cannot prove size ${from} against size ${to}`);
  const proof: Hash[] = [];
  // A proof from the empty tree, or between equal sizes, is empty: there is nothing to show.
  if (from === 0 || from === to) return proof;
  subproof(leaves, { m: from, lo: 0, hi: to, whole: true }, proof);
  return proof;
}

function subproof(
  leaves: readonly Hash[],
  at: { m: number; lo: number; hi: number; whole: boolean },
  out: Hash[],
): void {
  const n = at.hi - at.lo;
  if (at.m === n) {
    if (!at.whole) out.push(subtreeRoot(leaves, at.lo, at.hi));
    return;
  }
  const k = splitPoint(n);
  if (at.m <= k) {
    subproof(leaves, { m: at.m, lo: at.lo, hi: at.lo + k, whole: at.whole }, out);
    out.push(subtreeRoot(leaves, at.lo + k, at.hi));
  } else {
    subproof(leaves, { m: at.m - k, lo: at.lo + k, hi: at.hi, whole: false }, out);
    out.push(subtreeRoot(leaves, at.lo, at.lo + k));
  }
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
