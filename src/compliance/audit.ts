import { verifyLedger, type LedgerHandle, type LedgerRow, type LedgerVerification } from './ledger.js';
import { ledgerLeafHashes, readLedgerRows } from './evidence.js';
import { verifyFacts, type FactVerification } from './facts.js';
import { toHex, treeRoot } from './merkle.js';
import { checkCheckpoint, parseCheckpoint, type ChainHeadRecord, type LedgerPublicKey } from './signing.js';
import type { WitnessFile } from './witness.js';
import type { FieldCrypto } from './crypto.js';

/**
 * `lineguard ledger verify --against DIR`: the chain as stored, then every published checkpoint against the ledger.
 * The stored head only proves the chain to someone who trusts the database; a signed checkpoint held elsewhere does
 * not: a ledger that no longer reaches a checkpoint's size was truncated, one whose prefix no longer has the
 * checkpoint's root was rewritten (an edit re-chained to pass the hash check changes every later leaf hash, and
 * so the root). A checkpoint that is not validly signed by the trusted key is reported and never used as evidence.
 */
export interface CheckpointFinding {
  readonly file: string;
  readonly treeSize?: number;
  readonly problem: 'malformed' | 'unknown key' | 'bad signature' | 'truncated' | 'rewritten';
  readonly detail: string;
}

export interface EvidenceVerification {
  readonly ok: boolean;
  readonly chain: LedgerVerification;
  readonly entries: number;
  readonly checkpoints: {
    readonly files: number;
    /** Validly signed checkpoints that the ledger still matches. */
    readonly matched: number;
    readonly largestMatchedSize: number;
    /** Checkpoints that were not accepted as evidence (forged, mis-signed, unreadable). */
    readonly rejected: CheckpointFinding[];
    /** Valid checkpoints the ledger contradicts: tampering. */
    readonly contradicted: CheckpointFinding[];
  };
  readonly facts?: FactVerification;
}

export async function verifyAgainstCheckpoints(
  db: LedgerHandle,
  input: {
    readonly files: readonly WitnessFile[];
    readonly trustedKey: LedgerPublicKey;
    readonly facts: boolean;
    /** Opens the sealed values the fact check proves (facts.ts); without it they are counted unchecked. */
    readonly crypto?: FieldCrypto;
  },
): Promise<EvidenceVerification> {
  const chain = await verifyLedger(db);
  const rows = await readLedgerRows(db);
  const leaves = ledgerLeafHashes(rows);
  const chainIndex = indexChains(rows);
  const rejected: CheckpointFinding[] = [];
  const contradicted: CheckpointFinding[] = [];
  let matched = 0;
  let largestMatchedSize = 0;
  for (const { file, content } of input.files) {
    if (!content.ok) {
      rejected.push({ file, problem: 'malformed', detail: `unreadable: ${content.error}` });
      continue;
    }
    const check = checkCheckpoint(content.value, input.trustedKey);
    const cp = parseCheckpoint(content.value);
    if (!check.ok || !cp) {
      rejected.push({
        file,
        treeSize: cp?.treeSize,
        problem: check.ok ? 'malformed' : check.problem,
        detail: check.ok ? 'unparseable' : check.detail,
      });
      continue;
    }
    const chainProblems = chainFindings(cp.chains ?? [], chainIndex);
    const chainDetail = chainProblems.length > 0 ? `; ${chainProblems.map((p) => p.detail).join('; ')}` : '';
    if (cp.treeSize > leaves.length) {
      contradicted.push({
        file,
        treeSize: cp.treeSize,
        problem: 'truncated',
        detail: `checkpoint signed at ${cp.treeSize} entries; the ledger now holds ${leaves.length}${chainDetail}`,
      });
      continue;
    }
    const root = toHex(treeRoot(leaves, cp.treeSize));
    if (root !== cp.rootHash) {
      contradicted.push({
        file,
        treeSize: cp.treeSize,
        problem: 'rewritten',
        detail: `the first ${cp.treeSize} entries hash to ${root}, the signed root is ${cp.rootHash}${chainDetail}`,
      });
      continue;
    }
    const firstChainProblem = chainProblems[0];
    if (firstChainProblem) {
      contradicted.push({
        file,
        treeSize: cp.treeSize,
        problem: firstChainProblem.problem,
        detail: chainProblems.map((p) => p.detail).join('; '),
      });
      continue;
    }
    matched += 1;
    largestMatchedSize = Math.max(largestMatchedSize, cp.treeSize);
  }
  const facts = input.facts ? await verifyFacts(db, rows, input.crypto) : undefined;
  return {
    ok: chain.ok && rejected.length === 0 && contradicted.length === 0 && (facts?.ok ?? true),
    chain,
    entries: rows.length,
    checkpoints: { files: input.files.length, matched, largestMatchedSize, rejected, contradicted },
    ...(facts ? { facts } : {}),
  };
}

/** Every chain's entries by position: `${chain}:${chainSeq}` → hash, and each chain's length. */
interface ChainIndex {
  readonly hashes: Map<string, string>;
  readonly lengths: Map<number, number>;
}

function indexChains(rows: readonly LedgerRow[]): ChainIndex {
  const hashes = new Map<string, string>();
  const lengths = new Map<number, number>();
  for (const row of rows) {
    hashes.set(`${row.chain}:${row.chain_seq}`, row.hash);
    lengths.set(row.chain, Math.max(lengths.get(row.chain) ?? 0, row.chain_seq));
  }
  return { hashes, lengths };
}

/**
 * A signed chain head the ledger no longer reaches (the chain's tail was cut, whatever its stored head now says), or
 * reaches with another hash (the chain was rewritten up to there).
 */
function chainFindings(
  chains: readonly ChainHeadRecord[],
  index: ChainIndex,
): { problem: 'truncated' | 'rewritten'; detail: string }[] {
  const found: { problem: 'truncated' | 'rewritten'; detail: string }[] = [];
  for (const head of chains) {
    if (head.length === 0) continue;
    const hash = index.hashes.get(`${head.chain}:${head.length}`);
    if (hash === undefined)
      found.push({
        problem: 'truncated',
        detail: `chain ${head.chain} was signed at ${head.length} entries; the ledger holds ${index.lengths.get(head.chain) ?? 0}`,
      });
    else if (hash !== head.hash)
      found.push({
        problem: 'rewritten',
        detail: `entry ${head.length} of chain ${head.chain} hashes to ${hash}, the signed head is ${head.hash}`,
      });
  }
  return found;
}
