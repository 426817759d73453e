import {
  createCipheriv,
  createDecipheriv,
  createHmac,
  createSecretKey,
  hkdfSync,
  type KeyObject,
} from 'node:crypto';
import { cryptoRandom } from '../domain/index.js';

/**
 * Field-level encryption of personal data at rest (PIPL Art. 51; ASVS 11.3.2-11.3.4; PCI DSS 3.5.1):
 * - AES-256-GCM with a fresh random 96-bit nonce per value (NIST SP 800-38D §8.2.2: random IVs are safe well below
 *   2^32 encryptions per key); the 128-bit tag makes any change to the ciphertext detectable.
 * - The data key is derived from the master key with HKDF-SHA256 (RFC 5869), never used directly, and every value
 *   carries the id of the key that sealed it, so keys can rotate: old values still decrypt, new ones use the new key.
 * - Equality lookups use a keyed HMAC-SHA256 "blind index" under a second derived key (PCI DSS 3.5.1.1: no unkeyed
 *   hashes of identifiers), so a database dump alone reveals neither the value nor a dictionary-attackable hash.
 * - Associated data binds a ciphertext to its column ("borrower.national_id"), so values cannot be swapped between
 *   fields or rows undetected.
 * - A committed seal (sealCommitted) also answers a keyed commitment to the value (and to the rider sealed beside it),
 *   HMAC-SHA256 under a fresh random 256-bit key sealed with it, for a ledger entry that must prove what the token
 *   holds without holding it. The key is the record's own, not one derived from the master key: a commitment stays
 *   provable after a key rotation drops the master key it was made under (the re-sealed record still holds its key),
 *   and two equal values never commit alike.
 *
 * Token format: `lg1.<keyId>.<base64url(nonce | ciphertext | tag)>`.
 */
const FORMAT = 'lg1';
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const HKDF_SALT = Buffer.from('lineguard.field-crypto.v1');
const COMMITMENT_KEY_BYTES = 32;
/** A committed seal's plaintext: commitment key | rider flag (1 byte) | value length (u32 BE) | value | rider. */
const COMMITTED_HEADER_BYTES = COMMITMENT_KEY_BYTES + 1 + 4;
/**
 * The rider flag says what a committed seal holds and what its commitment covers, so each token is proven by the
 * formula it was made with (its ledger entry carries that commitment) and nothing else changes shape:
 * - NONE: the value alone; commitment HMAC-SHA256(key, value).
 * - OUTSIDE: a rider the commitment does not cover; commitment HMAC-SHA256(key, value). Written before riders were
 *   committed, and no longer: whoever held the database and the data key could seal another rider (a decision's trace,
 *   an outcome's English text, a submission's subject) beside the same value and commitment key, and `ledger verify`
 *   still passed. Such tokens still open, and re-seal as they are; their riders stay unproven.
 * - COMMITTED: a rider the commitment covers; commitment HMAC-SHA256(K, flag | value length | value | rider), the
 *   plaintext after the key (the value length-prefixed, so no other split of the bytes reads alike), where
 *   K = HMAC-SHA256(key, RIDER_COMMITMENT_LABEL). The key is separated from the older formula's so that those bytes,
 *   passed off as the value of a NONE or OUTSIDE seal under the same key, never commit alike.
 */
const RIDER_FLAG = { NONE: 0, OUTSIDE: 1, COMMITTED: 2 } as const;
const RIDER_COMMITMENT_LABEL = 'lineguard/committed-seal/value-and-rider';
/** Appended to the associated data of a committed seal: its token never opens as a plain one, nor the reverse. */
const COMMITTED_AAD = '\u0000committed';

export interface KeyMaterial {
  /** 32-byte master key (Config.masterKey). */
  readonly masterKey: Buffer;
}

export interface FieldCrypto {
  /** Id of the key new values are sealed with. */
  readonly currentKeyId: string;
  encrypt(plaintext: string, aad: string): string;
  /** Throws FieldCryptoError when the token is malformed, its key unknown, or it was tampered with. */
  decrypt(token: string, aad: string): string;
  /**
   * Seals `plaintext` with a fresh commitment key inside, and answers the keyed commitment to it (hex HMAC-SHA256 under
   * that key) for a record that must prove the value without holding it (a ledger entry). `rider`, when given, is
   * sealed in the same token and committed to with the value: one cipher operation for two values a row keeps
   * together, and neither can be sealed again beside another under the same commitment.
   */
  sealCommitted(plaintext: string, aad: string, rider?: string): CommittedSeal;
  /**
   * Opens a committed seal: the value, its rider and its commitment, recomputed by the formula the token names (older
   * tokens, whose rider is outside their commitment, by theirs). Throws as decrypt does.
   */
  openCommitted(token: string, aad: string): OpenedCommitment;
  /**
   * A committed seal sealed again under the current key as it is: its commitment key and its rider flag (so its
   * commitment) kept (a key rotation). Throws as decrypt does, or when the seal is malformed.
   */
  resealCommitted(token: string, aad: string): string;
  /** Keyed lookup hash (hex) of an already-normalised value, under the current key. */
  lookupHash(value: string, purpose: string): string;
  /**
   * The lookup hash under every key this instance holds, the current key's first: during a rotation a row written
   * under a retired key is still found by its old hash.
   */
  lookupHashes(value: string, purpose: string): [string, ...string[]];
  /** Key id a token was sealed with (for re-encryption jobs). */
  keyIdOf(token: string): string;
  /**
   * Whether this instance holds the key `keyId` names (current or retired): a token sealed under one it does not hold
   * cannot be opened here, which says nothing about whether it was altered (`ledger verify` reports it unverifiable).
   */
  holdsKey(keyId: string): boolean;
  /** True when the token was sealed with a retired key and should be re-encrypted. */
  needsRotation(token: string): boolean;
}

export interface CommittedSeal {
  readonly token: string;
  readonly commitment: string;
}

export interface OpenedCommitment {
  readonly plaintext: string;
  /** What was sealed beside the committed value, if anything. */
  readonly rider: string | undefined;
  readonly commitment: string;
}

export class FieldCryptoError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FieldCryptoError';
  }
}

interface DerivedKeys {
  readonly id: string;
  readonly dataKey: Buffer;
  readonly lookupKey: Buffer;
}

/** The data key as a KeyObject, made once: a cipher made from a raw Buffer copies and checks the key every time. */
interface HeldKey extends DerivedKeys {
  readonly cipherKey: KeyObject;
}

function held(keys: DerivedKeys): HeldKey {
  return { ...keys, cipherKey: createSecretKey(keys.dataKey) };
}

function derive(master: Buffer, info: string, length: number): Buffer {
  return Buffer.from(hkdfSync('sha256', master, HKDF_SALT, Buffer.from(info), length));
}

/** The key id is a fingerprint of the master key (not the key): stable, public, and distinct per key. */
export function deriveKeys(material: KeyMaterial): DerivedKeys {
  if (material.masterKey.length !== 32) throw new FieldCryptoError('master key must be 32 bytes');
  return {
    id: `k${derive(material.masterKey, 'lineguard/key-id', 6).toString('hex')}`,
    dataKey: derive(material.masterKey, 'lineguard/aes-256-gcm/data-key', 32),
    lookupKey: derive(material.masterKey, 'lineguard/hmac-sha256/lookup-key', 32),
  };
}

export interface FieldCryptoOptions {
  readonly current: KeyMaterial;
  /** Keys that no longer seal new values but still open old ones during a rotation. */
  readonly retired?: readonly KeyMaterial[];
  /** Source of nonces and commitment keys; the CSPRNG (pooled) unless a test injects one. */
  readonly nonce?: (bytes: number) => Buffer;
}

function lookupHashUnder(key: DerivedKeys, value: string, purpose: string): string {
  return createHmac('sha256', key.lookupKey).update(purpose).update('\u0000').update(value).digest('hex');
}

/**
 * The CSPRNG, pooled (src/domain/random.ts): a synchronous call into it costs microseconds whatever its size, and a
 * draw's decision seals two values. The nonces stay random (NIST SP 800-38D §8.2.2).
 */
const csprng = (bytes: number): Buffer => {
  const drawn = cryptoRandom.bytes(bytes);
  return Buffer.from(drawn.buffer, drawn.byteOffset, drawn.byteLength);
};

/** Where a committed seal's plaintext ends its value, and what its rider flag says. */
interface CommittedLayout {
  readonly flag: number;
  readonly valueEnd: number;
}

/** The layout of an opened committed seal; throws FieldCryptoError for one no seal of this code writes. */
function committedLayout(opened: Buffer): CommittedLayout {
  if (opened.length < COMMITTED_HEADER_BYTES) throw new FieldCryptoError('committed seal is malformed');
  const flag = opened.readUInt8(COMMITMENT_KEY_BYTES);
  const valueEnd = COMMITTED_HEADER_BYTES + opened.readUInt32BE(COMMITMENT_KEY_BYTES + 1);
  const known = flag === RIDER_FLAG.NONE || flag === RIDER_FLAG.OUTSIDE || flag === RIDER_FLAG.COMMITTED;
  // A seal with no rider ends with its value: bytes after it would be a rider nothing proves or shows.
  const fits = flag === RIDER_FLAG.NONE ? valueEnd === opened.length : valueEnd <= opened.length;
  if (!known || !fits) throw new FieldCryptoError('committed seal is malformed');
  return { flag, valueEnd };
}

/** The commitment to a committed seal's plaintext, by the formula its rider flag names (RIDER_FLAG). */
function commitmentOf(plaintext: Buffer, layout: CommittedLayout): string {
  const key = plaintext.subarray(0, COMMITMENT_KEY_BYTES);
  if (layout.flag !== RIDER_FLAG.COMMITTED)
    return createHmac('sha256', key)
      .update(plaintext.subarray(COMMITTED_HEADER_BYTES, layout.valueEnd))
      .digest('hex');
  const riderKey = createHmac('sha256', key).update(RIDER_COMMITMENT_LABEL).digest();
  return createHmac('sha256', riderKey).update(plaintext.subarray(COMMITMENT_KEY_BYTES)).digest('hex');
}

export function createFieldCrypto(options: FieldCryptoOptions): FieldCrypto {
  const current = held(deriveKeys(options.current));
  const keys = new Map<string, HeldKey>([[current.id, current]]);
  for (const old of options.retired ?? []) {
    const derived = deriveKeys(old);
    if (!keys.has(derived.id)) keys.set(derived.id, held(derived));
  }
  const randomOf = options.nonce ?? csprng;

  function parse(token: string): { keyId: string; blob: Buffer } {
    const parts = token.split('.');
    if (parts.length !== 3 || parts[0] !== FORMAT || !parts[1] || !parts[2])
      throw new FieldCryptoError('not a sealed value');
    const blob = Buffer.from(parts[2], 'base64url');
    if (blob.length < NONCE_BYTES + TAG_BYTES) throw new FieldCryptoError('sealed value is truncated');
    return { keyId: parts[1], blob };
  }

  function seal(plaintext: Buffer | string, aad: string): string {
    const nonce = randomOf(NONCE_BYTES);
    const cipher = createCipheriv('aes-256-gcm', current.cipherKey, nonce, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(aad));
    const body = typeof plaintext === 'string' ? cipher.update(plaintext, 'utf8') : cipher.update(plaintext);
    const blob = Buffer.concat([nonce, body, cipher.final(), cipher.getAuthTag()]);
    return `${FORMAT}.${current.id}.${blob.toString('base64url')}`;
  }

  function open(token: string, aad: string): Buffer {
    const { keyId, blob } = parse(token);
    const key = keys.get(keyId);
    if (!key) throw new FieldCryptoError(`unknown key id ${keyId}`);
    const nonce = blob.subarray(0, NONCE_BYTES);
    const tag = blob.subarray(blob.length - TAG_BYTES);
    const body = blob.subarray(NONCE_BYTES, blob.length - TAG_BYTES);
    const decipher = createDecipheriv('aes-256-gcm', key.cipherKey, nonce, { authTagLength: TAG_BYTES });
    decipher.setAAD(Buffer.from(aad));
    decipher.setAuthTag(tag);
    try {
      return Buffer.concat([decipher.update(body), decipher.final()]);
    } catch {
      throw new FieldCryptoError('sealed value failed authentication (tampered, wrong field or wrong key)');
    }
  }

  /** A new committed seal's plaintext: a rider, when given, is committed to (RIDER_FLAG.COMMITTED). */
  function committedPlaintext(key: Buffer, value: Buffer, rider: string | undefined): Buffer {
    const header = Buffer.alloc(COMMITTED_HEADER_BYTES);
    key.copy(header, 0);
    header.writeUInt8(rider === undefined ? RIDER_FLAG.NONE : RIDER_FLAG.COMMITTED, COMMITMENT_KEY_BYTES);
    header.writeUInt32BE(value.length, COMMITMENT_KEY_BYTES + 1);
    return rider === undefined
      ? Buffer.concat([header, value])
      : Buffer.concat([header, value, Buffer.from(rider, 'utf8')]);
  }

  function openCommitment(token: string, aad: string): OpenedCommitment {
    const opened = open(token, aad + COMMITTED_AAD);
    const layout = committedLayout(opened);
    return {
      plaintext: opened.subarray(COMMITTED_HEADER_BYTES, layout.valueEnd).toString('utf8'),
      rider: layout.flag === RIDER_FLAG.NONE ? undefined : opened.subarray(layout.valueEnd).toString('utf8'),
      commitment: commitmentOf(opened, layout),
    };
  }

  return {
    currentKeyId: current.id,
    encrypt: (plaintext, aad) => seal(plaintext, aad),
    decrypt: (token, aad) => open(token, aad).toString('utf8'),
    sealCommitted(plaintext, aad, rider) {
      const sealed = committedPlaintext(
        randomOf(COMMITMENT_KEY_BYTES),
        Buffer.from(plaintext, 'utf8'),
        rider,
      );
      return {
        token: seal(sealed, aad + COMMITTED_AAD),
        commitment: commitmentOf(sealed, committedLayout(sealed)),
      };
    },
    openCommitted: (token, aad) => openCommitment(token, aad),
    resealCommitted(token, aad) {
      const opened = open(token, aad + COMMITTED_AAD);
      // Sealed again byte for byte (its flag and key, so its commitment), once it is known to be one this code opens.
      committedLayout(opened);
      return seal(opened, aad + COMMITTED_AAD);
    },
    lookupHash(value, purpose) {
      return lookupHashUnder(current, value, purpose);
    },
    lookupHashes(value, purpose) {
      const retired = [...keys.values()].filter((key) => key !== current);
      return [
        lookupHashUnder(current, value, purpose),
        ...retired.map((key) => lookupHashUnder(key, value, purpose)),
      ];
    },
    keyIdOf(token) {
      return parse(token).keyId;
    },
    holdsKey: (keyId) => keys.has(keyId),
    needsRotation(token) {
      return parse(token).keyId !== current.id;
    },
  };
}

/** How every sealed token starts (a query may look for sealed values by it). */
export const SEALED_PREFIX = `${FORMAT}.`;

/**
 * Whether a stored value is a sealed token. Nothing stored in clear starts like one (JSON text, a hex digest), so a
 * column that began to be sealed still holds its older clear values, and a reader tells them apart by this.
 */
export function isSealedValue(value: string): boolean {
  return value.startsWith(SEALED_PREFIX);
}

/** Convenience for the usual case: one master key from Config. */
export function fieldCryptoFromMasterKey(masterKey: Buffer, retired: readonly Buffer[] = []): FieldCrypto {
  return createFieldCrypto({ current: { masterKey }, retired: retired.map((k) => ({ masterKey: k })) });
}
