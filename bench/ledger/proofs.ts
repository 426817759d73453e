/**
 * Ledger proofs at scale (issue 16): inclusion and consistency proofs over a ledger of N entries (default 100,000) on
 * SQLite, the way they were computed before (read every entry, hash every leaf, build the path in memory) and the way
 * they are now (read the O(log n) stored subtree hashes the checkpoint keeps). Same database, same run. Prints JSON.
 *
 * npm run bench:ledger [-- --entries 100000 --proofs 200 --recomputes 3]
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../../src/domain/clock.js';
import { seededRandom } from '../../src/domain/random.js';
import {
  appendToLedgerSync,
  consistencyProof,
  createLedgerEvidence,
  inclusionPath,
  ledgerLeafHashes,
  readLedgerRows,
  signerFromText,
  toHex,
} from '../../src/compliance/index.js';
import { openStore, type Store } from '../../src/store/db.js';
import { createLedgerLogStore } from '../../src/store/ledger.js';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const value = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  return Number.isFinite(value) && value > 0 ? value : fallback;
}

const entries = arg('entries', 100_000);
const proofs = arg('proofs', 200);
const recomputes = arg('recomputes', 3);
const BATCH = 1_000;

async function append(store: Store, from: number, to: number): Promise<void> {
  const sync = store.sync;
  if (!sync) throw new Error('the embedded SQLite store has no synchronous units');
  for (let at = from; at < to; at += BATCH) {
    const count = Math.min(BATCH, to - at);
    await sync.transaction((sql) =>
      appendToLedgerSync(
        sql,
        Array.from({ length: count }, (_, i) => ({
          entryId: `bench-${at + i}`,
          kind: 'decision',
          subjectId: `line-${(at + i) % 500}`,
          payload: { i: at + i, outcome: 'APPROVE', reasons: ['R_OK'] },
          recordedAt: 1_767_000_000_000 + at + i,
        })),
      ),
    );
  }
}

async function timed<T>(run: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const start = performance.now();
  const value = await run();
  return { ms: performance.now() - start, value };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
const round = (ms: number) => Number(ms.toFixed(3));

const store = await openStore({
  sqlitePath: join(mkdtempSync(join(tmpdir(), 'lg-bench-ledger-')), 'ledger.db'),
});
const evidence = createLedgerEvidence({
  log: createLedgerLogStore(store),
  clock: new ManualClock(1_767_000_000_000),
  signer: signerFromText('33'.repeat(32)),
});
const half = Math.floor(entries / 2);
const appendMs = (await timed(() => append(store, 0, half))).ms;
const first = await timed(() => evidence.checkpoint());
await append(store, half, entries);
const second = await timed(() => evidence.checkpoint());
const size = second.value.treeSize;
const random = seededRandom(13);
const seqs = Array.from({ length: proofs }, () => 1 + Math.floor(random.next() * size));

// Before: what every proof used to do — read the whole ledger and hash every leaf.
const before = { inclusionMs: [] as number[], consistencyMs: [] as number[] };
for (let i = 0; i < recomputes; i++) {
  const seq = seqs[i] as number;
  before.inclusionMs.push(
    (
      await timed(async () => {
        const rows = await readLedgerRows(store.db, size);
        return inclusionPath(ledgerLeafHashes(rows), seq - 1, size).map(toHex);
      })
    ).ms,
  );
  before.consistencyMs.push(
    (
      await timed(async () => {
        const rows = await readLedgerRows(store.db, size);
        return consistencyProof(ledgerLeafHashes(rows), first.value.treeSize, size).map(toHex);
      })
    ).ms,
  );
}

// After: the stored subtree hashes.
const after = { inclusionMs: [] as number[], consistencyMs: [] as number[] };
let same = true;
for (const [i, seq] of seqs.entries()) {
  const proof = await timed(() => evidence.inclusionProof(seq, size));
  after.inclusionMs.push(proof.ms);
  if (i < recomputes) {
    const rows = await readLedgerRows(store.db, size);
    same &&=
      proof.value.path.join() ===
      inclusionPath(ledgerLeafHashes(rows), seq - 1, size)
        .map(toHex)
        .join();
  }
}
for (let i = 0; i < Math.min(proofs, 50); i++)
  after.consistencyMs.push((await timed(() => evidence.consistency(first.value.treeSize, size))).ms);

const output = {
  benchmark: 'ledger proofs: whole-ledger recompute (before) vs stored Merkle subtree hashes (after), SQLite',
  entries: size,
  appendMsPerEntry: round(appendMs / half),
  checkpoint: {
    integrateFirstHalfMs: round(first.ms),
    integrateSecondHalfMs: round(second.ms),
    msPerEntryIntegrated: round(second.ms / (entries - half)),
  },
  inclusionProof: {
    beforeMsMedian: round(median(before.inclusionMs)),
    afterMsMedian: round(median(after.inclusionMs)),
    speedup: Math.round(median(before.inclusionMs) / Math.max(1e-6, median(after.inclusionMs))),
  },
  consistencyProof: {
    from: first.value.treeSize,
    to: size,
    beforeMsMedian: round(median(before.consistencyMs)),
    afterMsMedian: round(median(after.consistencyMs)),
    speedup: Math.round(median(before.consistencyMs) / Math.max(1e-6, median(after.consistencyMs))),
  },
  samePathsAsRecompute: same,
  samples: { before: recomputes, afterInclusion: proofs, afterConsistency: after.consistencyMs.length },
};
await store.close();
process.stdout.write(`${JSON.stringify(output, null, 2)}\n`);
