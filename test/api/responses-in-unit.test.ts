import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LightMyRequestResponse } from 'fastify';
import { PACKAGE_ROOT } from '../../src/app/app.js';
import { createUser, createUserKey } from '../../src/api/api-keys.js';
import {
  adminHeaders,
  PARTNER_INPUT,
  STRONG_APPLICANT,
  startTestApp,
  TEST_ADMIN_KEY,
  type TestApp,
} from '../helpers/app.js';
import { appStores, keyRow, refuseKeyRowUpdates } from '../helpers/stores.js';
import { fieldCryptoFromMasterKey } from '../../src/compliance/crypto.js';
import { residentId } from '../core/harness.js';
import { DAILY_PRODUCT } from '../lending/helpers.js';

/**
 * Issue 13, "idempotent responses stored after the reply", for the staff's writes: a manual line action (and its
 * four-eyes proposal), consents, partners, products, strategies and overlays, model activation, users, list entries
 * and imports, and ledger checkpoints commit their response with their key, in the write's own transaction. Shown by
 * taking away every write that could store it afterwards (a trigger refuses any update of a key row): each is still
 * acknowledged with its usual status, its key row holds exactly the reply, and a retry replays it byte for byte.
 */

/** The stores the suite runs on: embedded SQLite always, PostgreSQL (an isolated schema) when CI gives a URL. */
const STORES = appStores('responses_in_unit');

/** The lending tests' daily-interest product, under an id of its own. */
const { id: _dailyId, ...PRODUCT_TERMS } = DAILY_PRODUCT;

/** A 32-byte sharing key (hex) agreed with a partner institution. */
const SHARING_KEY = 'ab'.repeat(32);

interface Write {
  readonly method?: 'POST' | 'PUT';
  readonly url: string;
  readonly key: string;
  readonly payload?: object;
  readonly status: number;
  /** Bearer key; the bootstrap admin key (no person, so no four eyes) when absent. */
  readonly as?: string;
}

for (const store of STORES)
  describe.skipIf(!store.enabled)(
    `staff writes store their responses with their keys (${store.name})`,
    () => {
      let t: TestApp;
      /** A person's risk-analyst key: four eyes hold what this key asks for (a large raise, an activation, ...). */
      let maker: string;
      let lineId: string;

      beforeAll(async () => {
        t = await startTestApp(await store.env());
        maker = await personKey(t, 'Maker', 'risk_analyst');
        lineId = await openLine(t);
        const bundled: unknown = JSON.parse(
          readFileSync(join(PACKAGE_ROOT, 'models', 'application-scorecard.json'), 'utf8'),
        );
        await t.app.models.register(bundled, {
          id: 'application-scorecard',
          version: 2,
          registeredBy: 'test',
        });
        const agreed = await t.server.inject({
          method: 'PUT',
          url: '/v1/lists/partners/bank-a/key',
          headers: adminHeaders(),
          payload: { key: SHARING_KEY },
        });
        expect(agreed.statusCode, agreed.body).toBe(200);
        // From here on no response can be stored after its write's commit.
        await refuseKeyRowUpdates(t.app.store);
      });
      afterAll(async () => t?.close());

      /** Writes, checks the key row holds the reply, and that a retry replays it. */
      async function acknowledgedAndReplayed(write: Write): Promise<LightMyRequestResponse> {
        const send = () =>
          t.server.inject({
            method: write.method ?? 'POST',
            url: write.url,
            headers: {
              authorization: `Bearer ${write.as ?? TEST_ADMIN_KEY}`,
              'idempotency-key': write.key,
            },
            ...(write.payload === undefined ? {} : { payload: write.payload }),
          });
        const first = await send();
        expect(first.statusCode, `${write.url}: ${first.body}`).toBe(write.status);
        // Opened: consents and list entries keep theirs sealed (personal data), the rest as they are.
        expect(
          await keyRow(t.app.store, write.key, fieldCryptoFromMasterKey(t.app.config.masterKey)),
          write.url,
        ).toEqual({
          state: 'done',
          status_code: write.status,
          response_body: first.body,
        });
        const replay = await send();
        expect(replay.headers['idempotent-replayed'], write.url).toBe('true');
        expect([replay.statusCode, replay.body], write.url).toEqual([write.status, first.body]);
        return first;
      }

      it('a manual line action and its four-eyes proposal', async () => {
        const url = `/v1/lines/${lineId}/actions`;
        const applied = await acknowledgedAndReplayed({
          url,
          key: 'action-applied',
          payload: { type: 'LIMIT_DECREASE', reasons: ['R_LIMIT_REVIEW'], limitMinor: 1_000_000 },
          status: 201,
        });
        expect(applied.json()).toMatchObject({ outcome: 'APPLIED', newLimitMinor: 1_000_000 });
        const held = await acknowledgedAndReplayed({
          url,
          key: 'action-held',
          payload: {
            type: 'LIMIT_INCREASE',
            reasons: ['R_GOOD_REPAYMENT'],
            limitMinor: 6_000_000,
            note: 'long-standing customer',
          },
          status: 202,
          as: maker,
        });
        expect(held.json().pendingChange).toMatchObject({
          operation: 'line.limit_increase',
          state: 'PENDING',
        });
      });

      it('consents, partners, products and users', async () => {
        const consent = await acknowledgedAndReplayed({
          url: '/v1/consents',
          key: 'consent',
          payload: {
            nationalId: residentId('19850505', 77),
            purpose: 'POST_LOAN_MGMT',
            textVersion: 'post-loan/2026-01',
            channel: 'APP',
          },
          status: 201,
        });
        await acknowledgedAndReplayed({
          url: `/v1/consents/${consent.json().id as string}/withdraw`,
          key: 'consent-withdrawn',
          payload: { reason: 'the borrower asked' },
          status: 200,
        });
        const partner = await acknowledgedAndReplayed({
          url: '/v1/partners',
          key: 'partner',
          payload: PARTNER_INPUT,
          status: 201,
        });
        await acknowledgedAndReplayed({
          url: `/v1/partners/${partner.json().id as string}/status`,
          key: 'partner-suspended',
          payload: { status: 'SUSPENDED', reason: 'contract review' },
          status: 200,
        });
        await acknowledgedAndReplayed({
          url: '/v1/products',
          key: 'product',
          payload: { id: 'resp-flex', ...PRODUCT_TERMS },
          status: 201,
        });
        await acknowledgedAndReplayed({
          url: '/v1/products/resp-flex/versions',
          key: 'product-v2',
          payload: { ...PRODUCT_TERMS, rateMax: 0.12, expectedVersion: 1 },
          status: 201,
        });
        await acknowledgedAndReplayed({
          url: '/v1/products/resp-flex/retire',
          key: 'product-retired',
          status: 200,
        });
        await acknowledgedAndReplayed({
          url: '/v1/users',
          key: 'user',
          payload: { name: 'Response Analyst', role: 'analyst' },
          status: 201,
        });
      });

      it('strategy versions, activations and overlays, directly and through four eyes', async () => {
        const doc = (
          await t.server.inject({
            method: 'GET',
            url: '/v1/strategies/draw/versions/1',
            headers: adminHeaders(),
          })
        ).json().document as Record<string, unknown>;
        const saved = await acknowledgedAndReplayed({
          url: '/v1/strategies',
          key: 'strategy-saved',
          payload: { ...doc, description: 'stored with its key' },
          status: 201,
        });
        const version = saved.json().version as number;
        await acknowledgedAndReplayed({
          url: `/v1/strategies/draw/versions/${version}/activate`,
          key: 'strategy-activated',
          status: 200,
        });
        await acknowledgedAndReplayed({
          url: '/v1/strategies/draw/activate',
          key: 'strategy-rolled-back',
          payload: { version: 1 },
          status: 200,
        });
        await acknowledgedAndReplayed({
          url: `/v1/strategies/draw/versions/${version}/activate`,
          key: 'strategy-proposed',
          status: 202,
          as: maker,
        });
        await acknowledgedAndReplayed({
          url: '/v1/strategies/draw/activate',
          key: 'strategy-proposed-by-body',
          payload: { version },
          status: 202,
          as: maker,
        });
        const overlay = { name: 'limitMultiplier', value: 0.9 };
        await acknowledgedAndReplayed({
          method: 'PUT',
          url: '/v1/overlays',
          key: 'overlay',
          payload: overlay,
          status: 200,
        });
        await acknowledgedAndReplayed({
          method: 'PUT',
          url: '/v1/overlays',
          key: 'overlay-proposed',
          payload: { ...overlay, value: 0.8 },
          status: 202,
          as: maker,
        });
      });

      it('model activation, directly and through four eyes', async () => {
        const url = '/v1/models/application-scorecard/versions/2/activate';
        const activated = await acknowledgedAndReplayed({ url, key: 'model-activated', status: 200 });
        expect(activated.json()).toMatchObject({
          id: 'application-scorecard',
          version: 2,
          previousVersion: 1,
        });
        const proposed = await acknowledgedAndReplayed({
          url,
          key: 'model-proposed',
          status: 202,
          as: maker,
        });
        expect(proposed.json().pendingChange).toMatchObject({ operation: 'model.activate' });
      });

      it('list entries (directly and through four eyes) and an import of a partner list', async () => {
        const entry = {
          list: 'black',
          entityType: 'device',
          value: 'farm-13',
          reason: 'device farm',
          source: 'analyst',
        };
        const added = await acknowledgedAndReplayed({
          url: '/v1/lists',
          key: 'list-added',
          payload: entry,
          status: 201,
        });
        expect(added.json()).toMatchObject({ list: 'black', entityType: 'device', value: 'farm-13' });
        await acknowledgedAndReplayed({
          url: '/v1/lists',
          key: 'list-proposed',
          payload: { ...entry, value: 'farm-14' },
          status: 202,
          as: maker,
        });
        const shared = await t.server.inject({
          method: 'POST',
          url: '/v1/lists/export',
          headers: adminHeaders(),
          payload: { partnerId: 'bank-a' },
        });
        expect(shared.statusCode, shared.body).toBe(200);
        const imported = await acknowledgedAndReplayed({
          url: '/v1/lists/import',
          key: 'list-imported',
          payload: shared.json() as object,
          status: 200,
        });
        expect(imported.json()).toEqual({ imported: 1, skipped: 0 });
      });

      it('a ledger checkpoint', async () => {
        const signed = await acknowledgedAndReplayed({
          url: '/v1/ledger/checkpoints',
          key: 'checkpoint',
          status: 201,
        });
        expect(signed.json().treeSize).toBeGreaterThan(0);
      });
    },
  );

/** A person's key (a user with the role): what four eyes bind. */
async function personKey(t: TestApp, name: string, role: 'risk_analyst'): Promise<string> {
  const deps = { clock: t.app.clock, ids: t.app.ids, random: t.app.random };
  const user = await createUser(t.app.store, deps, { name, role, actor: 'test' });
  return (await createUserKey(t.app.store, deps, { userId: user.id, actor: 'test' })).key;
}

/** An approved application's line (the bundled strategy and scorecard approve a strong applicant). */
async function openLine(t: TestApp): Promise<string> {
  const applied = await t.server.inject({
    method: 'POST',
    url: '/v1/applications',
    headers: adminHeaders('open-line'),
    payload: {
      applicant: { name: '应答', nationalId: residentId('19800303', 42), phone: '13900004444' },
      attributes: STRONG_APPLICANT,
    },
  });
  expect(applied.statusCode, applied.body).toBe(201);
  return applied.json<{ line: { id: string } }>().line.id;
}
