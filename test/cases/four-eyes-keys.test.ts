import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STRONG_APPLICANT, type TestApp } from '../helpers/app.js';
import { residentId } from '../core/harness.js';
import { CASE_STORES, client, person, startCaseApp, type Person } from './helpers.js';

/**
 * Four eyes across keys: whoever was shown a key's secret could have acted with it. An admin who issues a key for a
 * supervisor (POST /v1/keys answers the secret) must not approve their own change with it, nor propose as a user
 * whose key they issued and approve as themselves, nor propose and approve with two keys they both issued. A person
 * who issues themselves a key (POST /v1/session/keys) is independent again.
 */
for (const store of CASE_STORES)
  describe.skipIf(!store.enabled)(`four eyes and who issued the keys (${store.name})`, () => {
    let t: TestApp;
    let adminA: Person;
    let listed = 0;

    beforeAll(async () => {
      ({ t } = await startCaseApp(await store.env()));
      adminA = await person(t, 'admin A', 'admin');
    });
    afterAll(async () => t?.close());

    /** A user created by `asKey` (the bootstrap key when absent) with a key it issued through POST /v1/keys. */
    async function hire(name: string, role: string, asKey?: string): Promise<Person> {
      const user = await client(t, asKey).post('/v1/users', { name, role });
      expect(user.statusCode, user.body).toBe(201);
      const key = await client(t, asKey).post('/v1/keys', { userId: user.json().id });
      expect(key.statusCode, key.body).toBe(201);
      expect(key.json().active).toBe(true);
      return {
        userId: user.json().id as string,
        key: key.json().key as string,
        keyId: key.json().id as string,
      };
    }

    /** A list entry proposed by `maker` (a change that waits for a checker). */
    async function proposeListEntry(maker: Person): Promise<string> {
      const asked = await client(t, maker.key).post('/v1/lists', {
        list: 'black',
        entityType: 'device',
        value: `device-${++listed}`,
        reason: 'device farm',
        source: 'analyst',
      });
      expect(asked.statusCode, asked.body).toBe(202);
      return asked.json().pendingChange.id as string;
    }

    const change = async (id: string) => (await client(t).get(`/v1/changes/${id}`)).json();
    const ledgerKinds = async (id: string) =>
      (
        await t.app.store.db
          .selectFrom('ledger_entries')
          .select('kind')
          .where('subject_id', '=', id)
          .orderBy('seq')
          .execute()
      ).map((r) => r.kind);

    it('refuses an admin who mints a key for a new supervisor and approves their own change with it (the reproduced bypass)', async () => {
      const doc = (await client(t).get('/v1/strategies/draw/versions/1')).json().document;
      const saved = await client(t, adminA.key).post('/v1/strategies', { ...doc, description: 'bypass' });
      expect(saved.statusCode, saved.body).toBe(201);
      const version = saved.json().version as number;
      const asked = await client(t, adminA.key).post(`/v1/strategies/draw/versions/${version}/activate`);
      expect(asked.statusCode, asked.body).toBe(202);
      const changeId = asked.json().pendingChange.id as string;

      const puppet = await hire('puppet supervisor', 'supervisor', adminA.key);
      const approved = await client(t, puppet.key).post(`/v1/changes/${changeId}/approve`, {});
      expect(approved.statusCode, approved.body).toBe(403);
      expect(approved.json().error.code).toBe('LG_SELF_APPROVAL');
      expect(approved.json().error.message).toContain("the checker's key was issued by the maker");
      const rejected = await client(t, puppet.key).post(`/v1/changes/${changeId}/reject`, { note: 'x' });
      expect(rejected.statusCode, rejected.body).toBe(403);
      expect(rejected.json().error.code).toBe('LG_SELF_APPROVAL');

      expect(await change(changeId)).toMatchObject({ state: 'PENDING', checker: null });
      expect(await ledgerKinds(changeId)).toEqual(['change.proposed']);
      const versions = (await client(t).get('/v1/strategies/draw/versions')).json();
      expect(versions.versions.find((v: { version: number }) => v.version === version).status).not.toBe(
        'active',
      );
    });

    it('refuses a change proposed as a user whose key the checker issued', async () => {
      const analyst = await hire('analyst of A', 'risk_analyst', adminA.key);
      const changeId = await proposeListEntry(analyst);
      const approved = await client(t, adminA.key).post(`/v1/changes/${changeId}/approve`, {});
      expect(approved.statusCode, approved.body).toBe(403);
      expect(approved.json().error.code).toBe('LG_SELF_APPROVAL');
      expect(approved.json().error.message).toContain("the maker's key was issued by the checker");
      expect((await change(changeId)).state).toBe('PENDING');
    });

    it('refuses a maker and a checker whose keys one admin issued, until both rotate their own keys', async () => {
      const s1 = await hire('S1', 'risk_analyst', adminA.key);
      const s2 = await hire('S2', 'supervisor', adminA.key);
      const changeId = await proposeListEntry(s1);
      const refused = await client(t, s2.key).post(`/v1/changes/${changeId}/approve`, {});
      expect(refused.statusCode, refused.body).toBe(403);
      expect(refused.json().error.code).toBe('LG_SELF_APPROVAL');
      expect(refused.json().error.message).toContain(
        "one person issued both the maker's and the checker's keys",
      );
      expect((await change(changeId)).state).toBe('PENDING');

      // Each issues themselves a key no one else has seen, revoking the one the admin issued.
      const rotate = async (p: Person): Promise<Person> => {
        const rotated = await client(t, p.key).post('/v1/session/keys', {
          label: 'mine',
          revokeKeyId: p.keyId,
        });
        expect(rotated.statusCode, rotated.body).toBe(201);
        expect(rotated.json()).toMatchObject({ userId: p.userId, revokedKeyId: p.keyId });
        return { userId: p.userId, key: rotated.json().key as string, keyId: rotated.json().id as string };
      };
      const own1 = await rotate(s1);
      const own2 = await rotate(s2);
      const rows = await t.app.store.db
        .selectFrom('api_keys')
        .select(['id', 'issued_by', 'revoked_at'])
        .where('id', 'in', [s1.keyId, s2.keyId, own1.keyId, own2.keyId])
        .execute();
      const byId = new Map(rows.map((r) => [r.id, r]));
      expect(byId.get(s1.keyId)).toMatchObject({ issued_by: `user:${adminA.userId}` });
      expect(byId.get(s1.keyId)?.revoked_at).not.toBeNull();
      expect(byId.get(own1.keyId)).toMatchObject({ issued_by: `user:${s1.userId}`, revoked_at: null });
      expect(byId.get(own2.keyId)).toMatchObject({ issued_by: `user:${s2.userId}`, revoked_at: null });
      const created = await t.app.store.db
        .selectFrom('ledger_entries')
        .select('payload')
        .where('subject_id', '=', own1.keyId)
        .where('kind', '=', 'api_key.created')
        .executeTakeFirstOrThrow();
      expect(JSON.parse(created.payload)).toMatchObject({ userId: s1.userId, by: `user:${s1.userId}` });

      const fresh = await proposeListEntry(own1);
      const approved = await client(t, own2.key).post(`/v1/changes/${fresh}/approve`, {});
      expect(approved.statusCode, approved.body).toBe(200);
      expect(approved.json()).toMatchObject({ state: 'APPROVED', checker: `user:${s2.userId}` });
    });

    it('lets a pair whose keys the bootstrap key, a third admin, or no one on record (a legacy key) issued decide', async () => {
      // Both keys issued by the unowned bootstrap key: it is no person, as an unowned key is exempt.
      const r = await hire('bootstrap analyst', 'risk_analyst');
      const s = await hire('bootstrap supervisor', 'supervisor');
      const first = await proposeListEntry(r);
      const ok1 = await client(t, s.key).post(`/v1/changes/${first}/approve`, {});
      expect(ok1.statusCode, ok1.body).toBe(200);

      // The maker's key issued by admin C, the checker's by admin A: neither is the other side.
      const adminC = await person(t, 'admin C', 'admin');
      const r2 = await hire('analyst of C', 'risk_analyst', adminC.key);
      const second = await proposeListEntry(r2);
      const s3 = await hire('supervisor of A', 'supervisor', adminA.key);
      const ok2 = await client(t, s3.key).post(`/v1/changes/${second}/approve`, {});
      expect(ok2.statusCode, ok2.body).toBe(200);

      // A key from before migration 502 names no issuer: it counts as its holder's own, even one A issued then.
      const legacy = await hire('legacy analyst', 'risk_analyst', adminA.key);
      await t.app.store.db
        .updateTable('api_keys')
        .set({ issued_by: null })
        .where('id', '=', legacy.keyId)
        .execute();
      const third = await proposeListEntry(legacy);
      const asA = await client(t, adminA.key).post(`/v1/changes/${third}/approve`, {});
      expect(asA.statusCode, asA.body).toBe(200);
    });

    /** A change's ledger entry of `kind`, parsed. */
    const entry = async (changeId: string, kind: string) =>
      JSON.parse(
        (
          await t.app.store.db
            .selectFrom('ledger_entries')
            .select('payload')
            .where('subject_id', '=', changeId)
            .where('kind', '=', kind)
            .executeTakeFirstOrThrow()
        ).payload,
      ) as Record<string, string | null>;
    const checkerKeyIdOf = async (changeId: string) =>
      (
        await t.app.store.db
          .selectFrom('pending_changes')
          .select('checker_key_id')
          .where('id', '=', changeId)
          .executeTakeFirstOrThrow()
      ).checker_key_id;
    /**
     * The independence rule re-checked from a decision's ledger entry alone, as an auditor would: each side is its
     * person, its key's holder and its key's issuer when a person; the sides must not meet. (The key's holder is the
     * side's actor: a key's actions are recorded as the user it belongs to.)
     */
    const independentOnTheLedger = (decided: Record<string, string | null>): boolean => {
      const person = (a: string | null | undefined): a is string =>
        typeof a === 'string' && a.startsWith('user:');
      const maker = new Set([decided.maker, decided.makerKeyIssuer].filter(person));
      return ![decided.checker, decided.checkerKeyIssuer].filter(person).some((p) => maker.has(p));
    };

    it('records on the approval and the rejection which key each side used and who issued it (the ledger suffices)', async () => {
      const adminC = await person(t, 'admin C3', 'admin');
      const maker = await hire('maker of C', 'risk_analyst', adminC.key);
      const checker = await hire('checker of A', 'supervisor', adminA.key);
      const sides = {
        maker: `user:${maker.userId}`,
        makerKeyId: maker.keyId,
        makerKeyIssuer: `user:${adminC.userId}`,
        checker: `user:${checker.userId}`,
        checkerKeyId: checker.keyId,
        checkerKeyIssuer: `user:${adminA.userId}`,
      };

      // Applied after the approval commits (a list entry).
      const listed = await proposeListEntry(maker);
      const approved = await client(t, checker.key).post(`/v1/changes/${listed}/approve`, {});
      expect(approved.statusCode, approved.body).toBe(200);
      const approval = await entry(listed, 'change.approved');
      expect(approval).toMatchObject(sides);
      expect(independentOnTheLedger(approval)).toBe(true);
      expect(await checkerKeyIdOf(listed)).toBe(checker.keyId);

      // Applied in the approval's transaction (a limit increase past the four-eyes threshold).
      const line = (
        await client(t).post('/v1/applications', {
          applicant: { name: '审计', nationalId: residentId('19790101', 71), phone: '13900007171' },
          attributes: STRONG_APPLICANT,
        })
      ).json().line;
      const raised = await client(t, maker.key).post(`/v1/lines/${line.id}/actions`, {
        type: 'LIMIT_INCREASE',
        reasons: ['R_GOOD_REPAYMENT'],
        limitMinor: Math.max(
          line.limitMinor + 1_000_000,
          t.app.config.cases.fourEyes.limitIncreaseThresholdMinor,
        ),
      });
      expect(raised.statusCode, raised.body).toBe(202);
      const raise = raised.json().pendingChange.id as string;
      const applied = await client(t, checker.key).post(`/v1/changes/${raise}/approve`, {});
      expect(applied.statusCode, applied.body).toBe(200);
      expect(await entry(raise, 'change.approved')).toMatchObject(sides);
      expect(await checkerKeyIdOf(raise)).toBe(checker.keyId);

      // An approval that cannot be applied (the raise is no raise by then: the line was raised past it meanwhile)
      // records the checker's key on the failure.
      const current = (await client(t).get(`/v1/lines/${line.id}`)).json().limitMinor as number;
      const stale = await client(t, maker.key).post(`/v1/lines/${line.id}/actions`, {
        type: 'LIMIT_INCREASE',
        reasons: ['R_GOOD_REPAYMENT'],
        limitMinor: current + 500_000,
      });
      expect(stale.statusCode, stale.body).toBe(202);
      const staleId = stale.json().pendingChange.id as string;
      await t.app.core.applyLineAction(line.id, {
        type: 'LIMIT_INCREASE',
        reasons: ['R_GOOD_REPAYMENT'],
        automated: false,
        actor: 'test',
        limitMinor: current + 1_000_000,
      });
      const failed = await client(t, checker.key).post(`/v1/changes/${staleId}/approve`, {});
      expect(failed.statusCode, failed.body).toBe(409);
      expect((await change(staleId)).state).toBe('FAILED');
      expect(await entry(staleId, 'change.failed')).toMatchObject({
        checker: sides.checker,
        checkerKeyId: checker.keyId,
      });
      expect(await checkerKeyIdOf(staleId)).toBe(checker.keyId);

      const refused = await proposeListEntry(maker);
      const rejected = await client(t, checker.key).post(`/v1/changes/${refused}/reject`, { note: 'no' });
      expect(rejected.statusCode, rejected.body).toBe(200);
      // The checker's note is sealed in the change's row: the entry commits to it.
      expect(await entry(refused, 'change.rejected')).toMatchObject({
        ...sides,
        noteHmac: expect.stringMatching(/^[0-9a-f]{64}$/),
      });
      expect(await checkerKeyIdOf(refused)).toBe(checker.keyId);

      // A legacy key (no issuer on record) is recorded as such: null, its holder's own.
      const legacy = await hire('legacy maker', 'risk_analyst', adminC.key);
      await t.app.store.db
        .updateTable('api_keys')
        .set({ issued_by: null })
        .where('id', '=', legacy.keyId)
        .execute();
      const old = await proposeListEntry(legacy);
      expect((await client(t, checker.key).post(`/v1/changes/${old}/approve`, {})).statusCode).toBe(200);
      expect(await entry(old, 'change.approved')).toMatchObject({
        makerKeyId: legacy.keyId,
        makerKeyIssuer: null,
        checkerKeyId: checker.keyId,
      });
    });

    it('issues a key only to a key that belongs to a user, and revokes only its own keys', async () => {
      const bootstrap = await client(t).post('/v1/session/keys', {});
      expect(bootstrap.statusCode, bootstrap.body).toBe(403);
      const a = await hire('analyst X', 'analyst');
      const b = await hire('analyst Y', 'analyst');
      const keysOf = async (userId: string) =>
        (await t.app.store.db.selectFrom('api_keys').select('id').where('user_id', '=', userId).execute())
          .length;
      const foreign = await client(t, a.key).post('/v1/session/keys', { revokeKeyId: b.keyId });
      expect(foreign.statusCode, foreign.body).toBe(404);
      expect(await keysOf(a.userId)).toBe(1);
      const noBody = await t.server.inject({
        method: 'POST',
        url: '/v1/session/keys',
        headers: { authorization: `Bearer ${a.key}` },
      });
      expect(noBody.statusCode, noBody.body).toBe(201);
      expect(noBody.json()).toMatchObject({ userId: a.userId, role: 'analyst' });
      expect(noBody.json().revokedKeyId).toBeUndefined();
      expect(await keysOf(a.userId)).toBe(2);
      const session = await client(t, noBody.json().key as string).get('/v1/session');
      expect(session.json()).toMatchObject({ keyId: noBody.json().id, role: 'analyst' });
    });
  });
