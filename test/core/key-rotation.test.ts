import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/app/config.js';
import { createApp, type AppServices } from '../../src/app/app.js';
import { deriveKeys, fieldCryptoFromMasterKey } from '../../src/compliance/crypto.js';
import { verifyLedger } from '../../src/compliance/ledger.js';
import { NATIONAL_ID_HASH_PURPOSE } from '../../src/core/borrowers.js';
import { STRONG_APPLICANT } from '../helpers/app.js';
import { ADULT } from './harness.js';

const KEY_A = 'a1'.repeat(32);
const KEY_B = 'b2'.repeat(32);
const PARTNER_KEY = Buffer.alloc(32, 9);

/** The whole app over one data folder, with the given current and retired master keys. */
async function openWith(dataDir: string, key: string, retired: string[] = []): Promise<AppServices> {
  const config = loadConfig(
    {
      LINEGUARD_KEY: key,
      LINEGUARD_RETIRED_KEYS: retired.join(','),
      LINEGUARD_SEED_DEMO: '0',
      LINEGUARD_DATA_DIR: dataDir,
      // This suite sends the bureau attributes itself (STRONG_APPLICANT); consent-gated pulls are test/compliance's.
      LINEGUARD_BUREAU: 'off',
    },
    {},
    () => undefined,
  );
  return createApp(config);
}

async function borrowerRows(app: AppServices) {
  return app.store.db.selectFrom('borrowers').selectAll().execute();
}

describe('data key rotation', () => {
  it('re-seals personal data and partner keys under the new key; nothing is lost or duplicated', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'lg-rekey-'));
    const before = await openWith(dataDir, KEY_A);
    const applied = await before.core.submitApplication({ applicant: ADULT, attributes: STRONG_APPLICANT });
    const lineId = applied.line?.id;
    if (!lineId) throw new Error(`the application was not approved: ${applied.outcome}`);
    await before.monitor.lists.setPartnerKey('partner-1', PARTNER_KEY);
    await before.close();

    // Without the old key the sealed data cannot be read: the retired key is what keeps it readable meanwhile.
    const withoutOld = await openWith(dataDir, KEY_B).catch((error: unknown) => error);
    expect(String(withoutOld)).toMatch(/sealed under a master key not configured/);

    const during = await openWith(dataDir, KEY_B, [KEY_A]);
    try {
      expect((await during.core.getLine(lineId)).borrower).toEqual(applied.borrower);
      // The same person applying again, before the rotation ran, is found by the old key's hash: no second borrower.
      const again = await during.core.submitApplication({ applicant: ADULT, attributes: STRONG_APPLICANT });
      expect(again.borrowerId).toBe(applied.borrowerId);
      expect(await borrowerRows(during)).toHaveLength(1);

      expect(await during.core.rekeyBorrowers(1)).toEqual({
        keyId: deriveKeys({ masterKey: Buffer.from(KEY_B, 'hex') }).id,
        borrowersChecked: 1,
        borrowersRekeyed: 1,
      });
      expect(await during.monitor.lists.resealPartnerKeys()).toBe(1);
      // Run again: nothing left to do.
      expect((await during.core.rekeyBorrowers()).borrowersRekeyed).toBe(0);
      expect(await during.monitor.lists.resealPartnerKeys()).toBe(0);

      const cryptoB = fieldCryptoFromMasterKey(Buffer.from(KEY_B, 'hex'));
      const [row] = await borrowerRows(during);
      if (!row) throw new Error('no borrower row');
      for (const token of [row.national_id_enc, row.name_enc, row.phone_enc, row.birth_date_enc])
        expect(cryptoB.needsRotation(token)).toBe(false);
      expect(row.national_id_hash).toBe(cryptoB.lookupHash(ADULT.nationalId, NATIONAL_ID_HASH_PURPOSE));
      const ledger = await verifyLedger(during.store.db);
      expect(ledger.ok).toBe(true);
      const rekeyed = await during.store.db
        .selectFrom('ledger_entries')
        .select('payload')
        .where('kind', '=', 'borrower.rekeyed')
        .execute();
      expect(rekeyed.map((r) => JSON.parse(r.payload) as unknown)).toEqual([
        { borrowerIds: [applied.borrowerId], keyId: cryptoB.currentKeyId },
      ]);
    } finally {
      await during.close();
    }

    // The old key can go: everything opens and is found under the new key alone.
    const after = await openWith(dataDir, KEY_B);
    try {
      expect((await after.core.getLine(lineId)).borrower).toEqual(applied.borrower);
      const third = await after.core.submitApplication({ applicant: ADULT, attributes: STRONG_APPLICANT });
      expect(third.borrowerId).toBe(applied.borrowerId);
      expect(await borrowerRows(after)).toHaveLength(1);
      expect((await after.monitor.lists.exportFor('partner-1')).entries).toEqual([]);
    } finally {
      await after.close();
    }
  });

  it('refuses a retired key that is not 32 bytes', () => {
    expect(() =>
      loadConfig({ LINEGUARD_KEY: KEY_B, LINEGUARD_RETIRED_KEYS: `${KEY_A},abc` }, {}, () => undefined),
    ).toThrow(/LINEGUARD_RETIRED_KEYS: each key must be 32 bytes/);
  });
});
