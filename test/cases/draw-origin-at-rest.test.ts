import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Env } from '../../src/app/config.js';
import { fieldCryptoFromMasterKey, type FieldCrypto } from '../../src/compliance/index.js';
import { resealDraws } from '../../src/store/index.js';
import { describeRotation, rotateData } from '../../src/cli/commands/rotate-data.js';
import type { TestApp } from '../helpers/app.js';
import { residentId } from '../core/harness.js';
import { CASE_STORES, client, largeDrawHeldOnScamSignal, startCaseApp } from './helpers.js';

/**
 * A draw's device, IP address and payee account are personal data (PIPL Art. 4, 51): where the borrower was and
 * where the money went. They are sealed at rest as one value per draw (the `origin` column), bound to the draw; the
 * hold's release opens them to check the lists again, and a case's evidence shows them to the analyst.
 */
const DEVICE = 'dev-origin-7f3a';
const IP = '203.0.113.77';
const PAYEE = '6222020200112233445';

for (const store of CASE_STORES)
  describe.skipIf(!store.enabled)(`a draw's device, IP and payee are sealed at rest (${store.name})`, () => {
    let env: Env;
    let t: TestApp;
    let seq = 0;
    const cryptoOf = (): FieldCrypto =>
      fieldCryptoFromMasterKey(t.app.config.masterKey, t.app.config.retiredKeys);
    const rawDraw = (id: string) =>
      t.app.store.db.selectFrom('draws').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    const evidenceOf = async (caseId: string) => {
      const shown = await client(t).get(`/v1/cases/${caseId}`);
      expect(shown.statusCode, shown.body).toBe(200);
      return shown.json().evidence.draw as Record<string, unknown>;
    };

    /** A new borrower's large draw, held for a person, from DEVICE and IP to `payeeId`. */
    const heldDraw = (payeeId = PAYEE) =>
      largeDrawHeldOnScamSignal(t, {
        applicant: { name: '韩梅梅', nationalId: residentId('19880808', ++seq), phone: '13911112222' },
        eventId: `origin-call-${seq}`,
        origin: { deviceId: DEVICE, ip: IP, payeeId },
      });

    beforeAll(async () => {
      env = await store.env();
      ({ t } = await startCaseApp(env));
      env = { ...env, LINEGUARD_DATA_DIR: t.dataDir };
    });
    afterAll(async () => t?.close());

    it('the row holds none of them in clear; the analyst reads them', async () => {
      const held = await heldDraw();
      const row = await rawDraw(held.drawId);
      for (const clear of [DEVICE, IP, PAYEE, 'dev-origin', '203.0.113'])
        expect(JSON.stringify(row)).not.toContain(clear);
      expect(row.origin).toMatch(/^lg1\./);
      expect([row.device_id, row.ip, row.payee_id]).toEqual([null, null, null]);
      expect(await evidenceOf(held.caseId)).toMatchObject({ device_id: DEVICE, ip: IP, payee_id: PAYEE });
      expect(await evidenceOf(held.caseId)).not.toHaveProperty('origin');
    });

    it('the release checks the lists with the opened payee: one black-listed since the hold is refused', async () => {
      const mule = '6222020200999988887';
      const held = await heldDraw(mule);
      const listed = await client(t).post('/v1/lists', {
        list: 'black',
        entityType: 'payee',
        value: mule,
        reason: 'mule account',
        source: 'test',
      });
      expect(listed.statusCode, listed.body).toBe(201);
      const refused = await client(t).post(`/v1/cases/${held.caseId}/resolve`, { outcome: 'RELEASE' });
      expect([refused.statusCode, refused.json().error.code], refused.body).toEqual([
        422,
        'LG_DRAW_DECLINED',
      ]);
      expect(refused.json().error.details.reasons).toContain('R_BLACKLIST');
      expect((await rawDraw(held.drawId)).status).toBe('HOLD');
    });

    it('a draw stored in clear before sealing still reads; rotation seals it', async () => {
      const held = await heldDraw();
      await t.app.store.db
        .updateTable('draws')
        .set({ origin: null, device_id: DEVICE, ip: IP, payee_id: PAYEE })
        .where('id', '=', held.drawId)
        .execute();
      expect(await evidenceOf(held.caseId)).toMatchObject({ device_id: DEVICE, ip: IP, payee_id: PAYEE });
      const crypto = cryptoOf();
      const rotation = await resealDraws(t.app.store, crypto, 2);
      expect(rotation).toMatchObject({ keyId: crypto.currentKeyId, drawsSealed: 1, drawsUnopenable: 0 });
      const row = await rawDraw(held.drawId);
      expect(crypto.keyIdOf(row.origin ?? '')).toBe(crypto.currentKeyId);
      for (const clear of [DEVICE, IP, PAYEE]) expect(JSON.stringify(row)).not.toContain(clear);
      expect(await evidenceOf(held.caseId)).toMatchObject({ device_id: DEVICE, ip: IP, payee_id: PAYEE });
      expect(await resealDraws(t.app.store, crypto, 2)).toMatchObject({ drawsSealed: 0 });
    });

    it("another draw's sealed origin copied into a row is never shown as its own: marked, and no release", async () => {
      const first = await heldDraw();
      const second = await heldDraw();
      const original = await rawDraw(second.drawId);
      await t.app.store.db
        .updateTable('draws')
        .set({ origin: (await rawDraw(first.drawId)).origin })
        .where('id', '=', second.drawId)
        .execute();
      const shown = await evidenceOf(second.caseId);
      expect(shown).toMatchObject({ id: second.drawId, originUnreadable: true });
      expect(JSON.stringify(shown)).not.toContain(DEVICE);
      const release = await client(t).post(`/v1/cases/${second.caseId}/resolve`, { outcome: 'RELEASE' });
      expect([release.statusCode, release.json().error.code]).toEqual([500, 'LG_SEALED_DATA_UNREADABLE']);
      await t.app.store.db
        .updateTable('draws')
        .set({ origin: original.origin })
        .where('id', '=', second.drawId)
        .execute();
      expect(await evidenceOf(second.caseId)).toMatchObject({ device_id: DEVICE });
    });

    it('key rotation: a retired key still opens every draw, rotation re-seals them, the old key can go', async () => {
      const held = await heldDraw();
      const keyA = t.app.config.masterKey;
      const keyB = Buffer.alloc(32, 0xd7);
      await t.close();
      ({ t } = await startCaseApp(
        {
          ...env,
          LINEGUARD_KEY: keyB.toString('hex'),
          LINEGUARD_RETIRED_KEYS: keyA.toString('hex'),
          // Another seed: the restarted app's ids must not repeat the first one's (the rotation writes ledger entries).
        },
        8,
      ));
      expect(await evidenceOf(held.caseId)).toMatchObject({ device_id: DEVICE, payee_id: PAYEE });
      const crypto = fieldCryptoFromMasterKey(keyB, [keyA]);
      const sealedBefore = await t.app.store.db
        .selectFrom('draws')
        .select('id')
        .where('origin', 'is not', null)
        .execute();
      // `lineguard keys rotate-data` as the operator runs it: the draws with everything else.
      const rotation = await rotateData(t.app, 2);
      expect(rotation).toMatchObject({
        keyId: crypto.currentKeyId,
        drawsSealed: sealedBefore.length,
        drawsUnopenable: 0,
      });
      expect(describeRotation(rotation)).toContain(`${sealedBefore.length} of ${sealedBefore.length} draws`);
      expect(await resealDraws(t.app.store, crypto, 2)).toMatchObject({ drawsSealed: 0 });
      await t.close();
      ({ t } = await startCaseApp({ ...env, LINEGUARD_KEY: keyB.toString('hex') }, 9));
      expect(await evidenceOf(held.caseId)).toMatchObject({ device_id: DEVICE, ip: IP, payee_id: PAYEE });
      // The release's checks (the lists with the opened payee) pass; this amount then waits for a second person.
      const released = await client(t).post(`/v1/cases/${held.caseId}/resolve`, { outcome: 'RELEASE' });
      expect(released.statusCode, released.body).toBe(202);
      expect(released.json().pendingChange.operation).toBe('draw.release');
    });
  });
