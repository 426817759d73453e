import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestApp } from '../helpers/app.js';
import { CASE_STORES, client, person, startCaseApp, type Person } from './helpers.js';

/**
 * A key a user issues themselves (POST /v1/session/keys) is made with a key they already hold, and whoever was shown
 * that key's secret could have made the new one. An admin who hires a puppet supervisor and issues its key (POST
 * /v1/keys shows the admin the secret) must not "rotate" that key and approve their own change with the result; nor
 * rotate a key they issued to an analyst and propose with it, to approve as themselves. A person who rotates a key
 * someone else issued is still independent of a maker who issued neither (four-eyes-keys.test.ts).
 */
for (const store of CASE_STORES)
  describe.skipIf(!store.enabled)(`four eyes and keys made by rotation (${store.name})`, () => {
    let t: TestApp;
    let adminA: Person;
    let listed = 0;

    beforeAll(async () => {
      ({ t } = await startCaseApp(await store.env()));
      adminA = await person(t, 'admin A', 'admin');
    });
    afterAll(async () => t?.close());

    /** A user `asKey` created, with the key it issued (its secret shown to `asKey`'s holder). */
    async function hire(name: string, role: string, asKey: string): Promise<Person> {
      const user = await client(t, asKey).post('/v1/users', { name, role });
      expect(user.statusCode, user.body).toBe(201);
      const key = await client(t, asKey).post('/v1/keys', { userId: user.json().id });
      expect(key.statusCode, key.body).toBe(201);
      return {
        userId: user.json().id as string,
        key: key.json().key as string,
        keyId: key.json().id as string,
      };
    }

    /** The key made with `p`'s key through POST /v1/session/keys, revoking it. */
    async function rotate(p: Person): Promise<Person> {
      const rotated = await client(t, p.key).post('/v1/session/keys', { revokeKeyId: p.keyId });
      expect(rotated.statusCode, rotated.body).toBe(201);
      return { userId: p.userId, key: rotated.json().key as string, keyId: rotated.json().id as string };
    }

    async function proposeListEntry(maker: Person): Promise<string> {
      const asked = await client(t, maker.key).post('/v1/lists', {
        list: 'black',
        entityType: 'device',
        value: `device-rotated-${++listed}`,
        reason: 'device farm',
        source: 'analyst',
      });
      expect(asked.statusCode, asked.body).toBe(202);
      return asked.json().pendingChange.id as string;
    }

    const stateOf = async (id: string) => (await client(t).get(`/v1/changes/${id}`)).json().state as string;

    it('refuses an approval with a key the maker obtained by rotating a key they issued (twice over)', async () => {
      const changeId = await proposeListEntry(adminA);
      const puppet = await hire('puppet', 'supervisor', adminA.key);
      const k2 = await rotate(puppet);
      const approved = await client(t, k2.key).post(`/v1/changes/${changeId}/approve`, {});
      expect(approved.statusCode, approved.body).toBe(403);
      expect(approved.json().error.code).toBe('LG_SELF_APPROVAL');
      expect(approved.json().error.message).toContain(
        "the checker's key was made with a key the maker issued",
      );

      // Rotating again does not wash it: the chain goes back to the key the admin was shown.
      const k3 = await rotate(k2);
      const again = await client(t, k3.key).post(`/v1/changes/${changeId}/approve`, {});
      expect(again.statusCode, again.body).toBe(403);
      expect(again.json().error.code).toBe('LG_SELF_APPROVAL');
      const rejected = await client(t, k3.key).post(`/v1/changes/${changeId}/reject`, { note: 'x' });
      expect(rejected.statusCode, rejected.body).toBe(403);
      expect(await stateOf(changeId)).toBe('PENDING');
    });

    it('refuses a change proposed with a key rotated from one the checker issued', async () => {
      const analyst = await hire('analyst of A', 'risk_analyst', adminA.key);
      const rotated = await rotate(analyst);
      const changeId = await proposeListEntry(rotated);
      const approved = await client(t, adminA.key).post(`/v1/changes/${changeId}/approve`, {});
      expect(approved.statusCode, approved.body).toBe(403);
      expect(approved.json().error.code).toBe('LG_SELF_APPROVAL');
      expect(approved.json().error.message).toContain(
        "the maker's key was made with a key the checker issued",
      );
      expect(await stateOf(changeId)).toBe('PENDING');
    });

    it("records the key a rotation was made with, and on the decision who issued the keys each side's key was made with", async () => {
      const adminC = await person(t, 'admin C', 'admin');
      const checker = await hire('supervisor of C', 'supervisor', adminC.key);
      const own = await rotate(checker);
      const row = await t.app.store.db
        .selectFrom('api_keys')
        .select(['issued_by', 'issued_with_key_id'])
        .where('id', '=', own.keyId)
        .executeTakeFirstOrThrow();
      expect(row).toEqual({ issued_by: `user:${checker.userId}`, issued_with_key_id: checker.keyId });

      const changeId = await proposeListEntry(adminA);
      const approved = await client(t, own.key).post(`/v1/changes/${changeId}/approve`, {});
      expect(approved.statusCode, approved.body).toBe(200);
      const entry = await t.app.store.db
        .selectFrom('ledger_entries')
        .select('payload')
        .where('subject_id', '=', changeId)
        .where('kind', '=', 'change.approved')
        .executeTakeFirstOrThrow();
      expect(JSON.parse(entry.payload)).toMatchObject({
        checkerKeyId: own.keyId,
        checkerKeyIssuer: `user:${checker.userId}`,
        checkerKeyEarlierIssuers: [`user:${adminC.userId}`],
        makerKeyEarlierIssuers: [],
      });
    });
  });
