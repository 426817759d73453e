import { Command } from 'commander';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { registerKeyCommands } from '../../src/cli/commands/cases.js';
import { createApiKey, ensureApiKey } from '../../src/api/api-keys.js';
import { caseRows } from '../../src/store/cases-rows.js';
import { STRONG_APPLICANT, type TestApp } from '../helpers/app.js';
import { residentId } from '../core/harness.js';
import {
  CASE_STORES,
  client,
  largeDrawHeldOnScamSignal,
  person,
  startCaseApp,
  type Person,
} from './helpers.js';

/**
 * Four eyes compares people: the maker of a change and its checker. A key that belongs to no one binds no person, so
 * one person holding two such keys (or one of them and their own key) could be maker and checker at once, and an
 * unowned key of a maker's role skipped the second person altogether. Every key that can propose or approve names a
 * person: `keys create` refuses to issue such a key without `--user`, and four eyes refuses a key that belongs to no
 * one (403 LG_KEY_UNOWNED) — keys issued before this included. Only the installation's own key (LINEGUARD_ADMIN_KEY)
 * stays outside four eyes, as the CLI does.
 */
for (const store of CASE_STORES)
  describe.skipIf(!store.enabled)(`four eyes and keys that belong to no one (${store.name})`, () => {
    let t: TestApp;
    let supervisor: Person;
    let seq = 500;

    beforeAll(async () => {
      ({ t } = await startCaseApp(await store.env()));
      supervisor = await person(t, '赵敏', 'supervisor');
    });
    afterAll(async () => t?.close());
    afterEach(() => {
      vi.restoreAllMocks();
      process.exitCode = undefined;
    });

    /** `lineguard keys …` over the test's app. */
    async function cli(args: string[]): Promise<{ out: string; err: string; code: number | undefined }> {
      const out: string[] = [];
      const err: string[] = [];
      vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => (out.push(String(chunk)), true));
      vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => (err.push(String(chunk)), true));
      const program = new Command('lineguard').exitOverride();
      registerKeyCommands(program.command('keys'), async () => ({ ...t.app, close: async () => undefined }));
      await program.parseAsync(['node', 'lineguard', 'keys', ...args]);
      const code = process.exitCode === undefined ? undefined : Number(process.exitCode);
      vi.restoreAllMocks();
      return { out: out.join(''), err: err.join(''), code };
    }

    /** A key with no owner, as `keys create --role` issued one before this change. */
    const unownedKeyWithId = (role: string) =>
      createApiKey(t.app.store.db, { clock: t.app.clock, ids: t.app.ids, random: t.app.random }, role);
    const unownedKey = async (role: string) => (await unownedKeyWithId(role)).key;
    const pending = async () =>
      (await client(t).get('/v1/changes?state=PENDING&limit=200')).json().items.length;

    it('keys create refuses a key of a role that proposes or approves without --user; a service key may be unowned', async () => {
      for (const role of ['admin', 'risk_analyst', 'analyst', 'supervisor']) {
        const refused = await cli(['create', '--role', role]);
        expect(refused.code, `${role}: ${refused.out}`).toBe(2);
        expect(refused.err).toContain('LG_VALIDATION');
        expect(refused.err).toContain('--user');
      }
      const service = await cli(['create', '--role', 'service', '--label', 'lender backend']);
      expect(service.code).toBe(0);
      expect(service.out.trim()).toMatch(/^lg_/);
      const owned = await cli(['create', '--user', supervisor.userId, '--json']);
      expect(owned.code).toBe(0);
      expect(JSON.parse(owned.out)).toMatchObject({ role: 'supervisor', userId: supervisor.userId });
    });

    it('refuses an unowned key (issued before) a change that needs a second person, rather than applying it alone', async () => {
      const key = await unownedKey('risk_analyst');
      const before = await pending();
      const listed = await client(t, key).post('/v1/lists', {
        list: 'black',
        entityType: 'device',
        value: 'unowned-farm',
        reason: 'device farm',
        source: 'analyst',
      });
      expect(listed.statusCode, listed.body).toBe(403);
      expect(listed.json().error.code).toBe('LG_KEY_UNOWNED');
      expect(
        (await client(t).get('/v1/lists/check?entityType=device&value=unowned-farm')).json().hits,
      ).toEqual([]);
      const line = (
        await client(t).post('/v1/applications', {
          applicant: { name: '韩梅', nationalId: residentId('19850505', ++seq), phone: '13900005555' },
          attributes: STRONG_APPLICANT,
        })
      ).json().line as { id: string; annualRate: number };
      const raised = await client(t, key).post(`/v1/lines/${line.id}/actions`, {
        type: 'RATE_CHANGE',
        reasons: ['R_LIMIT_REVIEW'],
        annualRate: Math.round((line.annualRate + 0.01) * 10_000) / 10_000,
      });
      expect(raised.statusCode, raised.body).toBe(403);
      expect(raised.json().error.code).toBe('LG_KEY_UNOWNED');
      expect(await pending()).toBe(before);
      // What needs no second person still works with it: the key is refused four eyes, not revoked.
      const cut = await client(t, key).post(`/v1/lines/${line.id}/actions`, {
        type: 'LIMIT_DECREASE',
        reasons: ['R_LIMIT_REVIEW'],
        limitMinor: 1_000_000,
      });
      expect(cut.statusCode, cut.body).toBe(201);
    });

    it('refuses one person proposing with an unowned key and approving with their own (two keys, one person)', async () => {
      const mine = await unownedKey('analyst');
      const held = await largeDrawHeldOnScamSignal(t, {
        applicant: { name: '冯刚', nationalId: residentId('19860606', ++seq), phone: '13900006666' },
        eventId: `unowned-${seq}`,
      });
      const resolved = await client(t, mine).post(`/v1/cases/${held.caseId}/resolve`, {
        outcome: 'RELEASE',
        note: 'the borrower confirmed the call',
      });
      expect(resolved.statusCode, resolved.body).toBe(403);
      expect(resolved.json().error.code).toBe('LG_KEY_UNOWNED');
      const draw = await t.app.store.db
        .selectFrom('draws')
        .select('status')
        .where('id', '=', held.drawId)
        .executeTakeFirstOrThrow();
      expect(draw.status).toBe('HOLD');
    });

    it('refuses to approve a change proposed with an unowned key before this change; it stays pending', async () => {
      const { id: keyId } = await unownedKeyWithId('risk_analyst');
      const id = t.app.ids.next();
      await caseRows.insertPendingChange(t.app.store.db, {
        id,
        operation: 'list.add',
        subject_id: 'black:device',
        payload: JSON.stringify({
          list: 'black',
          entityType: 'device',
          value: 'legacy-farm',
          reason: 'device farm',
          source: 'analyst',
        }),
        diff: JSON.stringify({ add: 'legacy-farm' }),
        reason: 'device farm',
        maker: `key:${keyId}`,
        maker_key_id: keyId,
        state: 'PENDING',
        checker: null,
        checker_key_id: null,
        decided_at: null,
        decision_note: null,
        result: null,
        expires_at: t.app.clock.now() + 3_600_000,
        created_at: t.app.clock.now(),
      });
      const approved = await client(t, supervisor.key).post(`/v1/changes/${id}/approve`, {});
      expect(approved.statusCode, approved.body).toBe(403);
      expect(approved.json().error.code).toBe('LG_KEY_UNOWNED');
      expect((await client(t).get(`/v1/changes/${id}`)).json()).toMatchObject({ state: 'PENDING' });
      expect(
        (await client(t).get('/v1/lists/check?entityType=device&value=legacy-farm')).json().hits,
      ).toEqual([]);
      // A rejection applies nothing: a person may still clear it.
      const rejected = await client(t, supervisor.key).post(`/v1/changes/${id}/reject`, {
        note: 'proposed with a key that belongs to no one',
      });
      expect(rejected.statusCode, rejected.body).toBe(200);
    });

    it('refuses an unowned key as a checker with the same clear code', async () => {
      const maker = await person(t, '钱红', 'risk_analyst');
      const asked = await client(t, maker.key).post('/v1/lists', {
        list: 'black',
        entityType: 'device',
        value: `checked-${++seq}`,
        reason: 'device farm',
        source: 'analyst',
      });
      expect(asked.statusCode, asked.body).toBe(202);
      const checker = await unownedKey('supervisor');
      const approved = await client(t, checker).post(
        `/v1/changes/${asked.json().pendingChange.id}/approve`,
        {},
      );
      expect(approved.statusCode, approved.body).toBe(403);
      expect(approved.json().error.code).toBe('LG_KEY_UNOWNED');
    });

    it("leaves the installation's own key (LINEGUARD_ADMIN_KEY) outside four eyes, as the CLI is", async () => {
      const listed = await client(t).post('/v1/lists', {
        list: 'black',
        entityType: 'device',
        value: `installation-${++seq}`,
        reason: 'device farm',
        source: 'admin',
      });
      expect(listed.statusCode, listed.body).toBe(201);
      // A LINEGUARD_ADMIN_KEY stored before issuers were recorded is marked the installation's at the next start.
      const legacy = await unownedKeyWithId('admin');
      const deps = { clock: t.app.clock, ids: t.app.ids };
      await ensureApiKey(t.app.store.db, deps, legacy.key, 'admin');
      const row = await t.app.store.db
        .selectFrom('api_keys')
        .select('issued_by')
        .where('id', '=', legacy.id)
        .executeTakeFirstOrThrow();
      expect(row.issued_by).toBe('installation');
    });
  });
