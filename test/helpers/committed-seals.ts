import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import { deriveKeys } from '../../src/compliance/crypto.js';

/**
 * A committed seal (src/compliance/crypto.ts) taken apart and put together by hand, written apart from that code: what
 * anyone holding the database and the data key can do to a sealed pair, and how the code before riders were committed
 * wrote one. The format is the stored one: `lg1.<keyId>.<base64url(nonce | ciphertext | tag)>`, AES-256-GCM under the
 * data key, the associated data being the column's (`<table>.<column>\n<rowId>`) and `\0committed`; the plaintext is
 * commitment key (32 bytes) | rider flag (1 byte) | value length (u32 BE) | value | rider.
 */
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;
const HEADER_BYTES = KEY_BYTES + 1 + 4;

/** The rider flag of a seal written before riders were committed: a rider, outside the commitment. */
export const LEGACY_RIDER_FLAG = 1;

/** Where a sealed pair's token lives: the table, its committed column and the row (SealedPair). */
export interface PairSite {
  readonly table: string;
  readonly committed: string;
  readonly rowId: string;
}

const aadOf = (site: PairSite) =>
  Buffer.from(`${site.table}.${site.committed}\n${site.rowId}\u0000committed`);

function open(masterKey: Buffer, token: string, site: PairSite): Buffer {
  const blob = Buffer.from(token.split('.')[2] ?? '', 'base64url');
  const decipher = createDecipheriv(
    'aes-256-gcm',
    deriveKeys({ masterKey }).dataKey,
    blob.subarray(0, NONCE_BYTES),
  );
  decipher.setAAD(aadOf(site));
  decipher.setAuthTag(blob.subarray(blob.length - TAG_BYTES));
  return Buffer.concat([
    decipher.update(blob.subarray(NONCE_BYTES, blob.length - TAG_BYTES)),
    decipher.final(),
  ]);
}

function seal(masterKey: Buffer, plaintext: Buffer, site: PairSite): string {
  const keys = deriveKeys({ masterKey });
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', keys.dataKey, nonce);
  cipher.setAAD(aadOf(site));
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return `lg1.${keys.id}.${Buffer.concat([nonce, body, cipher.getAuthTag()]).toString('base64url')}`;
}

/** What a committed seal's plaintext holds. */
export interface CommittedParts {
  readonly key: Buffer;
  readonly flag: number;
  readonly value: Buffer;
  readonly rider: Buffer;
}

function partsOf(plaintext: Buffer): CommittedParts {
  const valueEnd = HEADER_BYTES + plaintext.readUInt32BE(KEY_BYTES + 1);
  return {
    key: plaintext.subarray(0, KEY_BYTES),
    flag: plaintext.readUInt8(KEY_BYTES),
    value: plaintext.subarray(HEADER_BYTES, valueEnd),
    rider: plaintext.subarray(valueEnd),
  };
}

function plaintextOf(parts: CommittedParts): Buffer {
  const header = Buffer.alloc(HEADER_BYTES);
  parts.key.copy(header, 0);
  header.writeUInt8(parts.flag, KEY_BYTES);
  header.writeUInt32BE(parts.value.length, KEY_BYTES + 1);
  return Buffer.concat([header, parts.value, parts.rider]);
}

/** The token opened, changed by `change`, and sealed again under the same data key and associated data. */
export function resealChanged(
  masterKey: Buffer,
  token: string,
  site: PairSite,
  change: (parts: CommittedParts) => CommittedParts,
): string {
  return seal(masterKey, plaintextOf(change(partsOf(open(masterKey, token, site)))), site);
}

/** The rider flag a token was sealed with. */
export function riderFlagOf(masterKey: Buffer, token: string, site: PairSite): number {
  return partsOf(open(masterKey, token, site)).flag;
}

/**
 * The token sealed again with another rider beside the same committed value and commitment key, under the same flag
 * (or `flag`, to pass it off as another format): a forgery by someone holding the database and the data key.
 */
export function withRider(
  masterKey: Buffer,
  token: string,
  forged: PairSite & { readonly rider: string; readonly flag?: number | undefined },
): string {
  return resealChanged(masterKey, token, forged, (parts) => ({
    ...parts,
    flag: forged.flag ?? parts.flag,
    rider: Buffer.from(forged.rider, 'utf8'),
  }));
}

/**
 * A pair sealed as the code before riders were committed sealed it (flag 1, the commitment an HMAC-SHA256 of the value
 * alone), and the commitment its ledger entry then carried.
 */
export function legacyCommittedSeal(
  masterKey: Buffer,
  site: PairSite,
  clear: { readonly value: string; readonly rider: string },
): { token: string; commitment: string } {
  const key = randomBytes(KEY_BYTES);
  const value = Buffer.from(clear.value, 'utf8');
  return {
    token: seal(
      masterKey,
      plaintextOf({ key, flag: LEGACY_RIDER_FLAG, value, rider: Buffer.from(clear.rider, 'utf8') }),
      site,
    ),
    commitment: createHmac('sha256', key).update(value).digest('hex'),
  };
}
