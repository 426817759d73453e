import { createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { sha256Hex } from '../domain/index.js';

/**
 * Signed checkpoints of the ledger's Merkle tree (RFC 9162 §4.10 "signed tree head", in the text form of the C2SP
 * tlog-checkpoint note): origin, tree size, root hash, issue time — signed with Ed25519 (RFC 8032) so anyone holding
 * the public key can check a checkpoint without trusting the database it came from.
 */
export const CHECKPOINT_ORIGIN = 'lineguard.ledger/v1';

export interface SignedCheckpoint {
  readonly origin: string;
  readonly treeSize: number;
  /** MTH of the first treeSize entries, lowercase hex. */
  readonly rootHash: string;
  /** Epoch milliseconds. */
  readonly issuedAt: number;
  /** First 8 bytes (hex) of SHA-256 of the raw 32-byte Ed25519 public key. */
  readonly keyId: string;
  /** Ed25519 signature over checkpointBody(...), base64. */
  readonly signature: string;
  /**
   * The head of every hash chain as of this tree (issue 13: the ledger is several chains), ascending by chain.
   * Absent on checkpoints signed before the ledger was partitioned.
   */
  readonly chains?: readonly ChainHeadRecord[];
}

/** A chain's length and last hash (the last entry of the chain among the tree's entries). */
export interface ChainHeadRecord {
  readonly chain: number;
  readonly length: number;
  readonly hash: string;
}

export type UnsignedCheckpoint = Pick<
  SignedCheckpoint,
  'origin' | 'treeSize' | 'rootHash' | 'issuedAt' | 'chains'
>;

/**
 * The exact bytes that are signed: four lines (origin, size, root, time), then one line per chain head,
 * `chain <n> <length> <hash>`, like the extension lines of a C2SP checkpoint note — each ending in "\n". A checkpoint
 * without chains is the four lines alone, so checkpoints published before the partitioning still verify.
 */
export function checkpointBody(cp: UnsignedCheckpoint): string {
  const chains = (cp.chains ?? []).map((c) => `chain ${c.chain} ${c.length} ${c.hash}\n`).join('');
  return `${cp.origin}\n${cp.treeSize}\n${cp.rootHash}\n${cp.issuedAt}\n${chains}`;
}

export interface LedgerSigner {
  readonly keyId: string;
  readonly publicKey: LedgerPublicKey;
  sign(cp: UnsignedCheckpoint): SignedCheckpoint;
}

export interface LedgerPublicKey {
  readonly keyId: string;
  /** Raw 32-byte key, base64 (what `lineguard ledger key` prints). */
  readonly rawBase64: string;
  readonly pem: string;
  readonly key: KeyObject;
}

const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_ED25519_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

/** A signer from a PKCS#8 PEM or a 32-byte seed (hex or base64). Throws on anything else. */
export function signerFromText(text: string): LedgerSigner {
  const trimmed = text.trim();
  const privateKey = trimmed.startsWith('-----BEGIN')
    ? createPrivateKey(trimmed)
    : createPrivateKey({
        key: Buffer.concat([PKCS8_ED25519_PREFIX, seedBytes(trimmed)]),
        format: 'der',
        type: 'pkcs8',
      });
  if (privateKey.asymmetricKeyType !== 'ed25519') throw new Error('the ledger signing key must be Ed25519');
  const publicKey = publicKeyFromObject(createPublicKey(privateKey));
  return {
    keyId: publicKey.keyId,
    publicKey,
    sign(cp) {
      const signature = sign(null, Buffer.from(checkpointBody(cp)), privateKey).toString('base64');
      return { ...cp, keyId: publicKey.keyId, signature };
    },
  };
}

function seedBytes(text: string): Buffer {
  const seed = /^[0-9a-fA-F]{64}$/.test(text) ? Buffer.from(text, 'hex') : Buffer.from(text, 'base64');
  if (seed.length !== 32) throw new Error('an Ed25519 seed is 32 bytes (64 hex characters or base64)');
  return seed;
}

function publicKeyFromObject(key: KeyObject): LedgerPublicKey {
  const spki = key.export({ format: 'der', type: 'spki' });
  const raw = spki.subarray(spki.length - 32);
  return {
    keyId: sha256Hex(raw).slice(0, 16),
    rawBase64: raw.toString('base64'),
    pem: key.export({ format: 'pem', type: 'spki' }).toString(),
    key,
  };
}

/** A public key from a SPKI PEM, or the raw 32 bytes as base64 or hex; null when it is neither. */
export function parsePublicKey(text: string): LedgerPublicKey | null {
  const trimmed = text.trim();
  try {
    if (trimmed.startsWith('-----BEGIN')) {
      const key = createPublicKey(trimmed);
      return key.asymmetricKeyType === 'ed25519' ? publicKeyFromObject(key) : null;
    }
    const raw = /^[0-9a-fA-F]{64}$/.test(trimmed)
      ? Buffer.from(trimmed, 'hex')
      : Buffer.from(trimmed, 'base64');
    if (raw.length !== 32) return null;
    return publicKeyFromObject(
      createPublicKey({ key: Buffer.concat([SPKI_ED25519_PREFIX, raw]), format: 'der', type: 'spki' }),
    );
  } catch {
    return null;
  }
}

export type CheckpointCheck =
  | { readonly ok: true }
  | {
      readonly ok: false;
      readonly problem: 'malformed' | 'unknown key' | 'bad signature';
      readonly detail: string;
    };

/** Is `value` a well-formed checkpoint signed by `key`? Never throws: hostile files are answers, not crashes. */
export function checkCheckpoint(value: unknown, key: LedgerPublicKey): CheckpointCheck {
  const cp = parseCheckpoint(value);
  if (!cp)
    return {
      ok: false,
      problem: 'malformed',
      detail: 'not a checkpoint (origin, treeSize, rootHash, issuedAt, keyId, signature)',
    };
  if (cp.origin !== CHECKPOINT_ORIGIN)
    return { ok: false, problem: 'malformed', detail: `origin '${cp.origin}' is not ${CHECKPOINT_ORIGIN}` };
  if (cp.keyId !== key.keyId)
    return {
      ok: false,
      problem: 'unknown key',
      detail: `signed by key ${cp.keyId}, trusted key is ${key.keyId}`,
    };
  const signature = Buffer.from(cp.signature, 'base64');
  let valid = false;
  try {
    valid = verify(null, Buffer.from(checkpointBody(cp)), key.key, signature);
  } catch {
    valid = false;
  }
  return valid
    ? { ok: true }
    : { ok: false, problem: 'bad signature', detail: 'the Ed25519 signature does not verify' };
}

export function parseCheckpoint(value: unknown): SignedCheckpoint | null {
  if (typeof value !== 'object' || value === null) return null;
  const v = value as Record<string, unknown>;
  const ok =
    typeof v.origin === 'string' &&
    Number.isSafeInteger(v.treeSize) &&
    (v.treeSize as number) >= 0 &&
    typeof v.rootHash === 'string' &&
    /^[0-9a-f]{64}$/.test(v.rootHash) &&
    Number.isSafeInteger(v.issuedAt) &&
    typeof v.keyId === 'string' &&
    typeof v.signature === 'string' &&
    /^[A-Za-z0-9+/=]{1,200}$/.test(v.signature);
  if (!ok) return null;
  const chains = v.chains === undefined ? undefined : parseChains(v.chains);
  if (chains === null) return null;
  return {
    origin: v.origin as string,
    treeSize: v.treeSize as number,
    rootHash: v.rootHash as string,
    issuedAt: v.issuedAt as number,
    keyId: v.keyId as string,
    signature: v.signature as string,
    ...(chains ? { chains } : {}),
  };
}

/** At most this many chains in a checkpoint: hostile files stay small to check. */
const CHAINS_MAX = 1024;

function parseChains(value: unknown): ChainHeadRecord[] | null {
  if (!Array.isArray(value) || value.length > CHAINS_MAX) return null;
  const chains: ChainHeadRecord[] = [];
  for (const item of value as unknown[]) {
    if (typeof item !== 'object' || item === null) return null;
    const c = item as Record<string, unknown>;
    if (!Number.isSafeInteger(c.chain) || !Number.isSafeInteger(c.length) || (c.length as number) < 0)
      return null;
    if (typeof c.hash !== 'string' || !/^[0-9a-f]{64}$/.test(c.hash)) return null;
    const previous = chains[chains.length - 1];
    // Ascending and unique, so one checkpoint has exactly one signed body.
    if (previous && previous.chain >= (c.chain as number)) return null;
    chains.push({ chain: c.chain as number, length: c.length as number, hash: c.hash });
  }
  return chains;
}
