import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  LEGACY_RIDER_FLAG,
  resealChanged,
  riderFlagOf,
  withRider,
  type PairSite,
} from '../../test/helpers/committed-seals.js';
import { createFieldCrypto, fieldCryptoFromMasterKey, FieldCryptoError, isSealedValue } from './crypto.js';

const keyA = Buffer.alloc(32, 1);
const keyB = Buffer.alloc(32, 2);

describe('field crypto', () => {
  it('round-trips any text and never repeats a ciphertext for the same plaintext', () => {
    const crypto = fieldCryptoFromMasterKey(keyA);
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), (text) => {
        const a = crypto.encrypt(text, 'borrower.name');
        const b = crypto.encrypt(text, 'borrower.name');
        expect(a).not.toBe(b);
        expect(crypto.decrypt(a, 'borrower.name')).toBe(text);
      }),
      { numRuns: 200 },
    );
  });

  it('does not contain the plaintext and names its key', () => {
    const crypto = fieldCryptoFromMasterKey(keyA);
    const token = crypto.encrypt('110101199003077777', 'borrower.national_id');
    expect(token).not.toContain('110101199003077777');
    expect(token.startsWith(`lg1.${crypto.currentKeyId}.`)).toBe(true);
    expect(crypto.keyIdOf(token)).toBe(crypto.currentKeyId);
    // What a column that began to be sealed tells its older clear values by.
    expect(isSealedValue(token)).toBe(true);
    for (const clear of ['{"report":null}', 'a'.repeat(64), 'null', ''])
      expect(isSealedValue(clear)).toBe(false);
  });

  it('detects a flipped byte anywhere in the sealed blob', () => {
    const crypto = fieldCryptoFromMasterKey(keyA);
    const token = crypto.encrypt('张三', 'borrower.name');
    const [format, keyId, blobText] = token.split('.') as [string, string, string];
    const blob = Buffer.from(blobText, 'base64url');
    for (let i = 0; i < blob.length; i++) {
      const tampered = Buffer.from(blob);
      tampered[i] = (tampered[i] ?? 0) ^ 0x01;
      expect(() =>
        crypto.decrypt(`${format}.${keyId}.${tampered.toString('base64url')}`, 'borrower.name'),
      ).toThrow(FieldCryptoError);
    }
  });

  it('binds a value to its field (associated data)', () => {
    const crypto = fieldCryptoFromMasterKey(keyA);
    const token = crypto.encrypt('13800138000', 'borrower.phone');
    expect(() => crypto.decrypt(token, 'borrower.name')).toThrow(/authentication/);
  });

  it('rejects malformed tokens and unknown keys', () => {
    const crypto = fieldCryptoFromMasterKey(keyA);
    expect(() => crypto.decrypt('plain text', 'f')).toThrow(FieldCryptoError);
    expect(() => crypto.decrypt('lg1.k00.AAAA', 'f')).toThrow(FieldCryptoError);
    const other = fieldCryptoFromMasterKey(keyB).encrypt('x', 'f');
    expect(() => crypto.decrypt(other, 'f')).toThrow(/unknown key id/);
  });

  it('rotates: old values still decrypt, new ones carry the new key id', () => {
    const before = fieldCryptoFromMasterKey(keyA);
    const old = before.encrypt('secret', 'f');
    const after = createFieldCrypto({ current: { masterKey: keyB }, retired: [{ masterKey: keyA }] });
    expect(after.decrypt(old, 'f')).toBe('secret');
    expect(after.needsRotation(old)).toBe(true);
    const fresh = after.encrypt('secret', 'f');
    expect(after.keyIdOf(fresh)).not.toBe(before.currentKeyId);
    expect(after.needsRotation(fresh)).toBe(false);
    // Lookups during the rotation: the current key's hash first, then the retired key's (what old rows carry).
    expect(after.lookupHashes('110101199003077777', 'national_id')).toEqual([
      after.lookupHash('110101199003077777', 'national_id'),
      before.lookupHash('110101199003077777', 'national_id'),
    ]);
  });

  it('lookup hashes are keyed, stable and separated by purpose', () => {
    const a = fieldCryptoFromMasterKey(keyA);
    const b = fieldCryptoFromMasterKey(keyB);
    expect(a.lookupHash('110101199003077777', 'national_id')).toBe(
      a.lookupHash('110101199003077777', 'national_id'),
    );
    expect(a.lookupHash('110101199003077777', 'national_id')).not.toBe(
      b.lookupHash('110101199003077777', 'national_id'),
    );
    expect(a.lookupHash('x', 'national_id')).not.toBe(a.lookupHash('x', 'phone'));
    expect(a.lookupHash('x', 'p')).toMatch(/^[0-9a-f]{64}$/);
  });

  it('uses a 96-bit nonce from the injected source', () => {
    const seen: number[] = [];
    const crypto = createFieldCrypto({
      current: { masterKey: keyA },
      nonce: (n) => (seen.push(n), Buffer.alloc(n, 7)),
    });
    crypto.encrypt('x', 'f');
    expect(seen).toEqual([12]);
  });

  it('a committed seal proves its value by a keyed commitment that survives re-sealing and key rotation', () => {
    const before = fieldCryptoFromMasterKey(keyA);
    const context = '{"existingDebtMinor":7654321}';
    const { token, commitment } = before.sealCommitted(context, 'decisions.context\nd1');
    expect(token).not.toContain('7654321');
    expect(commitment).toMatch(/^[0-9a-f]{64}$/);
    expect(before.openCommitted(token, 'decisions.context\nd1')).toEqual({ plaintext: context, commitment });
    // Keyed by the record's own random key: the same value commits differently in another record, so a commitment
    // confirms no guess of the value.
    expect(before.sealCommitted(context, 'decisions.context\nd1').commitment).not.toBe(commitment);
    // Rotation: the record is sealed again under the new key with its commitment key, and the old key can go.
    const during = createFieldCrypto({ current: { masterKey: keyB }, retired: [{ masterKey: keyA }] });
    const resealed = during.resealCommitted(token, 'decisions.context\nd1');
    expect(during.keyIdOf(resealed)).toBe(during.currentKeyId);
    const after = fieldCryptoFromMasterKey(keyB);
    expect(after.openCommitted(resealed, 'decisions.context\nd1')).toEqual({
      plaintext: context,
      commitment,
    });
  });

  it('a committed seal opens only as one, and only where it was sealed', () => {
    const crypto = fieldCryptoFromMasterKey(keyA);
    const { token } = crypto.sealCommitted('x', 'decisions.context\nd1');
    expect(() => crypto.openCommitted(token, 'decisions.context\nd2')).toThrow(FieldCryptoError);
    expect(() => crypto.decrypt(token, 'decisions.context\nd1')).toThrow(FieldCryptoError);
    const plain = crypto.encrypt('x', 'decisions.context\nd1');
    expect(() => crypto.openCommitted(plain, 'decisions.context\nd1')).toThrow(FieldCryptoError);
    expect(() => crypto.resealCommitted(plain, 'decisions.context\nd1')).toThrow(FieldCryptoError);
  });

  it('seals a rider beside the committed value, inside the commitment', () => {
    const crypto = fieldCryptoFromMasterKey(keyA);
    const { token, commitment } = crypto.sealCommitted('{"a":1}', 'f', '[{"node":"n"}]');
    expect(token).not.toContain('node');
    expect(crypto.openCommitted(token, 'f')).toEqual({
      plaintext: '{"a":1}',
      rider: '[{"node":"n"}]',
      commitment,
    });
    // The same value without a rider: a rider of its own (an empty one) is told from none.
    expect(crypto.openCommitted(crypto.sealCommitted('{"a":1}', 'f', '').token, 'f').rider).toBe('');
    expect(crypto.openCommitted(crypto.sealCommitted('{"a":1}', 'f').token, 'f').rider).toBeUndefined();
  });

  const site: PairSite = { table: 'decisions', committed: 'context', rowId: 'd1' };
  const aadOfSite = 'decisions.context\nd1';

  it('commits to the rider: the same value and commitment key beside another rider, under any flag, do not prove', () => {
    const crypto = fieldCryptoFromMasterKey(keyA);
    const { token, commitment } = crypto.sealCommitted('{"a":1}', aadOfSite, '[{"node":"n"}]');
    expect(crypto.openCommitted(token, aadOfSite).commitment).toBe(commitment);
    // Its flag kept, or passed off as a seal written before riders were committed.
    for (const flag of [undefined, LEGACY_RIDER_FLAG]) {
      const forged = withRider(keyA, token, { ...site, rider: '[{"node":"other"}]', flag });
      const opened = crypto.openCommitted(forged, aadOfSite);
      expect([opened.plaintext, opened.rider]).toEqual(['{"a":1}', '[{"node":"other"}]']);
      expect(opened.commitment, `flag ${String(flag)}`).not.toBe(commitment);
    }
    // Or as a seal with no rider that still carries one: not a seal this code writes.
    const riderless = withRider(keyA, token, { ...site, rider: '[{"node":"other"}]', flag: 0 });
    expect(() => crypto.openCommitted(riderless, aadOfSite)).toThrow(FieldCryptoError);
    // An empty rider is a rider: told from another, and from none.
    const empty = crypto.sealCommitted('{"a":1}', aadOfSite, '');
    const other = withRider(keyA, empty.token, { ...site, rider: 'x' });
    expect(crypto.openCommitted(other, aadOfSite).commitment).not.toBe(empty.commitment);
  });

  it('the bytes a rider commitment covers, passed off as the value of an older seal, do not prove either', () => {
    const crypto = fieldCryptoFromMasterKey(keyA);
    const { token, commitment } = crypto.sealCommitted('{"a":1}', aadOfSite, '[{"node":"n"}]');
    const header = (parts: { flag: number; value: Buffer }) => {
      const bytes = Buffer.alloc(5);
      bytes.writeUInt8(parts.flag, 0);
      bytes.writeUInt32BE(parts.value.length, 1);
      return bytes;
    };
    // Every way of reading the sealed value and rider as one byte string, as the value of a rider-less or an older seal.
    const readings = [
      (p: { flag: number; value: Buffer; rider: Buffer }) => Buffer.concat([header(p), p.value, p.rider]),
      (p: { flag: number; value: Buffer; rider: Buffer }) =>
        Buffer.concat([header(p).subarray(1), p.value, p.rider]),
      (p: { flag: number; value: Buffer; rider: Buffer }) => Buffer.concat([p.value, p.rider]),
    ];
    for (const reading of readings)
      for (const flag of [0, LEGACY_RIDER_FLAG]) {
        const forged = resealChanged(keyA, token, site, (parts) => ({
          key: parts.key,
          flag,
          value: reading(parts),
          rider: Buffer.alloc(0),
        }));
        expect(crypto.openCommitted(forged, aadOfSite).commitment).not.toBe(commitment);
      }
  });

  it('an unknown rider flag is a malformed seal, never a value without a rider', () => {
    const crypto = fieldCryptoFromMasterKey(keyA);
    const { token } = crypto.sealCommitted('{"a":1}', aadOfSite, 'r');
    for (const flag of [3, 255]) {
      const forged = resealChanged(keyA, token, site, (parts) => ({ ...parts, flag }));
      expect(() => crypto.openCommitted(forged, aadOfSite)).toThrow(FieldCryptoError);
    }
  });

  /**
   * A seal written by the code before riders were committed (flag 1: the rider outside the commitment, an HMAC-SHA256
   * of the value alone under the commitment key, here 32 bytes of 0x01), kept as it was stored: its ledger entry
   * carries that commitment, so it opens, and re-seals, with it.
   */
  const BEFORE_RIDERS = {
    aad: 'decisions.context\nd-legacy',
    token:
      'lg1.k9309fa69e08e.AgICAgICAgICAgICPEjeSFnGuMU65ae9Nw2HGL1DFcw_Mro23c9aGJLD2WKv7pSthF_BVvaqrduyBLPxzjUH-0EFKWlMAbvtn16NrUswxCOfrIJTtpel-Vx9oC5m_rVmf1ywkm8fPfzn8y50iAiHBFPB06shrg',
    opened: {
      plaintext: '{"existingDebtMinor":7654321}',
      rider: '[{"node":"eligibility"}]',
      commitment: 'ade8d73957b663e4d45698035c7c33551144dd59c87368a89100356fec57421a',
    },
  };

  it('a seal written before riders were committed opens and re-seals with the commitment it was made with', () => {
    const { aad, token, opened } = BEFORE_RIDERS;
    const legacySite: PairSite = { table: 'decisions', committed: 'context', rowId: 'd-legacy' };
    expect(opened.commitment).toBe(
      createHmac('sha256', Buffer.alloc(32, 1)).update(opened.plaintext).digest('hex'),
    );
    expect(fieldCryptoFromMasterKey(keyA).openCommitted(token, aad)).toEqual(opened);
    // `keys rotate-data`: sealed again under the new key as it was (its flag, its commitment key).
    const during = createFieldCrypto({ current: { masterKey: keyB }, retired: [{ masterKey: keyA }] });
    const resealed = during.resealCommitted(token, aad);
    expect(during.keyIdOf(resealed)).toBe(during.currentKeyId);
    expect(riderFlagOf(keyB, resealed, legacySite)).toBe(LEGACY_RIDER_FLAG);
    expect(fieldCryptoFromMasterKey(keyB).openCommitted(resealed, aad)).toEqual(opened);
    // A new seal of the same pair is of the new format; a re-seal keeps that too.
    const fresh = fieldCryptoFromMasterKey(keyA).sealCommitted(opened.plaintext, aad, opened.rider);
    const freshFlag = riderFlagOf(keyA, fresh.token, legacySite);
    expect(freshFlag).not.toBe(LEGACY_RIDER_FLAG);
    const freshResealed = during.resealCommitted(fresh.token, aad);
    expect(riderFlagOf(keyB, freshResealed, legacySite)).toBe(freshFlag);
    expect(during.openCommitted(freshResealed, aad).commitment).toBe(fresh.commitment);
  });

  it('draws commitment keys from the injected source too', () => {
    const seen: number[] = [];
    const crypto = createFieldCrypto({
      current: { masterKey: keyA },
      nonce: (n) => (seen.push(n), Buffer.alloc(n, 7)),
    });
    const { commitment } = crypto.sealCommitted('x', 'f');
    expect(seen).toEqual([32, 12]);
    expect(crypto.sealCommitted('x', 'f').commitment).toBe(commitment);
  });
});
