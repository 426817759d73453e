import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  EMPTY_ROOT,
  consistencyProof,
  inclusionPath,
  leafHash,
  toHex,
  treeRoot,
  verifyConsistency,
  verifyInclusion,
  type Hash,
  type StoredBlock,
  MissingBlockError,
  blockKey,
  blockSource,
  blocksRead,
  consistencyProofWith,
  extendTree,
  inclusionPathWith,
  rangeBlocks,
} from './merkle.js';

/** The Certificate Transparency reference vectors (RFC 6962/9162 test data used by the Go, C++ and Python logs). */
const CT_LEAVES = [
  '',
  '00',
  '10',
  '2021',
  '3031',
  '40414243',
  '5051525354555657',
  '606162636465666768696a6b6c6d6e6f',
].map((hex) => leafHash(Buffer.from(hex, 'hex')));
const CT_ROOTS = [
  '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
  'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
  'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
  '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
  'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
  '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
];
const CT_INCLUSION: [number, number, string[]][] = [
  [0, 1, []],
  [
    0,
    8,
    [
      '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
    ],
  ],
  [
    5,
    8,
    [
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
      'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ],
  ],
];
const CT_CONSISTENCY: [number, number, string[]][] = [
  [1, 1, []],
  [
    1,
    8,
    [
      '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
    ],
  ],
  [
    6,
    8,
    [
      '0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a',
      'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ],
  ],
  [
    2,
    5,
    [
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
    ],
  ],
];

describe('RFC 9162 Merkle tree: the CT reference vectors', () => {
  it('the empty tree is SHA-256 of the empty string', () => {
    expect(toHex(treeRoot([]))).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(treeRoot([])).toEqual(EMPTY_ROOT);
  });

  it('gives the reference root for every size 1..8', () => {
    CT_ROOTS.forEach((root, i) => expect(toHex(treeRoot(CT_LEAVES, i + 1))).toBe(root));
  });

  it('gives the reference audit paths, and they verify', () => {
    for (const [index, size, expected] of CT_INCLUSION) {
      const path = inclusionPath(CT_LEAVES, index, size);
      expect(path.map(toHex)).toEqual(expected);
      const root = Buffer.from(CT_ROOTS[size - 1] as string, 'hex');
      expect(verifyInclusion(CT_LEAVES[index] as Hash, index, size, path, root)).toBe(true);
    }
  });

  it('gives the reference consistency proofs, and they verify', () => {
    for (const [from, to, expected] of CT_CONSISTENCY) {
      const proof = consistencyProof(CT_LEAVES, from, to);
      expect(proof.map(toHex)).toEqual(expected);
      const roots = {
        from: Buffer.from(CT_ROOTS[from - 1] as string, 'hex'),
        to: Buffer.from(CT_ROOTS[to - 1] as string, 'hex'),
      };
      expect(verifyConsistency({ from, to }, proof, roots)).toBe(true);
    }
  });
});

const leavesArb = fc
  .array(fc.uint8Array({ maxLength: 8 }), { minLength: 1, maxLength: 70 })
  .map((leaves) => leaves.map((leaf) => leafHash(leaf)));

function flipByte(hash: Hash, at: number): Hash {
  const copy = Buffer.from(hash);
  copy[at % copy.length] = (copy[at % copy.length] as number) ^ 0x01;
  return copy;
}

describe('RFC 9162 Merkle tree: properties', () => {
  it('every inclusion proof verifies; a tampered leaf, path, index or root does not', () => {
    fc.assert(
      fc.property(leavesArb, fc.nat(), fc.nat(), (leaves, pick, at) => {
        const size = leaves.length;
        const index = pick % size;
        const root = treeRoot(leaves);
        const path = inclusionPath(leaves, index);
        const leaf = leaves[index] as Hash;
        expect(verifyInclusion(leaf, index, size, path, root)).toBe(true);
        expect(verifyInclusion(flipByte(leaf, at), index, size, path, root)).toBe(false);
        expect(verifyInclusion(leaf, index, size, path, flipByte(root, at))).toBe(false);
        if (path.length > 0) {
          const bad = [...path];
          const i = at % bad.length;
          bad[i] = flipByte(bad[i] as Hash, at);
          expect(verifyInclusion(leaf, index, size, bad, root)).toBe(false);
          expect(verifyInclusion(leaf, index, size, path.slice(1), root)).toBe(false);
        }
        expect(verifyInclusion(leaf, index, size, [...path, root], root)).toBe(false);
        const other = (index + 1) % size;
        if (other !== index && !(leaves[other] as Hash).equals(leaf))
          expect(verifyInclusion(leaf, other, size, path, root)).toBe(false);
      }),
      { numRuns: 300 },
    );
  });

  it('every consistency proof verifies; a tampered proof or root, or a rewritten prefix, does not', () => {
    fc.assert(
      fc.property(leavesArb, fc.nat(), fc.nat(), (leaves, pick, at) => {
        const to = leaves.length;
        const from = 1 + (pick % to);
        const roots = { from: treeRoot(leaves, from), to: treeRoot(leaves, to) };
        const proof = consistencyProof(leaves, from, to);
        expect(verifyConsistency({ from, to }, proof, roots)).toBe(true);
        if (from === to) return;
        expect(verifyConsistency({ from, to }, proof, { ...roots, from: flipByte(roots.from, at) })).toBe(
          false,
        );
        expect(verifyConsistency({ from, to }, proof, { ...roots, to: flipByte(roots.to, at) })).toBe(false);
        const bad = [...proof];
        const i = at % bad.length;
        bad[i] = flipByte(bad[i] as Hash, at);
        expect(verifyConsistency({ from, to }, bad, roots)).toBe(false);
        // History rewritten inside the old prefix: the new tree is no longer an extension of the old one.
        const rewritten = [...leaves];
        const j = at % from;
        rewritten[j] = flipByte(rewritten[j] as Hash, at);
        const forged = consistencyProof(rewritten, from, to);
        expect(verifyConsistency({ from, to }, forged, { from: roots.from, to: treeRoot(rewritten) })).toBe(
          false,
        );
      }),
      { numRuns: 300 },
    );
  });

  it('hostile sizes are refused, never thrown from the verifiers', () => {
    const leaves = CT_LEAVES;
    const root = treeRoot(leaves);
    expect(verifyInclusion(leaves[0] as Hash, 8, 8, [], root)).toBe(false);
    expect(verifyInclusion(leaves[0] as Hash, -1, 8, [], root)).toBe(false);
    expect(verifyInclusion(leaves[0] as Hash, 0, Number.NaN, [], root)).toBe(false);
    expect(verifyConsistency({ from: 9, to: 8 }, [], { from: root, to: root })).toBe(false);
    expect(verifyConsistency({ from: 3, to: 8 }, [], { from: root, to: root })).toBe(false);
    expect(() => inclusionPath(leaves, 8)).toThrow(RangeError);
    expect(() => consistencyProof(leaves, 9, 8)).toThrow(RangeError);
  });

  it('a tree kept as stored blocks, grown in any chunks, gives the same roots and proofs from O(log n) blocks', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 40 }), { minLength: 1, maxLength: 6 }),
        fc.nat(),
        (chunks, pick) => {
          const stored = new Map<string, Hash>();
          let frontier: StoredBlock[] = [];
          let leaves: Hash[] = [];
          for (const chunk of chunks) {
            const added = Array.from({ length: chunk }, (_, i) => leafHash(`leaf ${leaves.length + i}`));
            const grown = extendTree(leaves.length, frontier, added);
            for (const b of grown.blocks) stored.set(blockKey(b), b.hash);
            leaves = [...leaves, ...added];
            frontier = grown.frontier;
            expect(toHex(grown.root)).toBe(toHex(treeRoot(leaves)));
            expect(frontier.map(blockKey)).toEqual(rangeBlocks(0, leaves.length).map(blockKey));
          }
          const size = leaves.length;
          if (size === 0) return;
          const index = pick % size;
          const from = 1 + (pick % size);
          const read = blocksRead((root) => inclusionPathWith(root, index, size));
          // Each path element is one block or a right edge: never more than 2·log2(n) + 2 blocks.
          expect(read.length).toBeLessThanOrEqual(2 * Math.ceil(Math.log2(size + 1)) + 2);
          const only = new Map(read.map((b) => [blockKey(b), stored.get(blockKey(b)) as Hash]));
          expect(inclusionPathWith(blockSource(only), index, size).map(toHex)).toEqual(
            inclusionPath(leaves, index).map(toHex),
          );
          expect(consistencyProofWith(blockSource(stored), from, size).map(toHex)).toEqual(
            consistencyProof(leaves, from).map(toHex),
          );
        },
      ),
      { numRuns: 200 },
    );
  });

  it('a proof that needs a block the store lacks fails loudly', () => {
    expect(() => inclusionPathWith(blockSource(new Map()), 0, 3)).toThrow(MissingBlockError);
  });
});
