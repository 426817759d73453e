import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKeyVerifier } from '../../src/api/api-keys.js';
import { verifyLedger } from '../../src/compliance/ledger.js';
import type { TestApp } from '../helpers/app.js';
import { client, person, startCaseApp } from './helpers.js';
import { residentId } from '../core/harness.js';
import type { ManualClock } from '../../src/domain/clock.js';

describe('users, keys and revocation', () => {
  let t: TestApp;
  let clock: ManualClock;

  beforeAll(async () => {
    ({ t, clock } = await startCaseApp());
  });
  afterAll(async () => t?.close());

  it('creates a user and a key that carries the user and records the person on line actions', async () => {
    const admin = client(t);
    const created = await admin.post('/v1/users', { name: 'Wang Fang', role: 'analyst' });
    expect(created.statusCode).toBe(201);
    const user = created.json();
    expect(user.role).toBe('analyst');
    const key = await admin.post('/v1/keys', { userId: user.id, label: 'laptop' });
    expect(key.statusCode).toBe(201);
    expect(key.json()).toMatchObject({ role: 'analyst', userId: user.id, active: true });
    const mine = client(t, key.json().key);
    expect((await mine.get('/v1/cases')).statusCode).toBe(200);
    // An analyst works cases; writing strategies is the risk analyst's job.
    expect((await mine.post('/v1/strategies', {})).statusCode).toBe(403);
    const kinds = await t.app.store.db.selectFrom('ledger_entries').select(['kind', 'payload']).execute();
    expect(kinds.map((k) => k.kind)).toEqual(expect.arrayContaining(['user.created', 'api_key.created']));
    // The entry says who was given which role, not their name: every staff role reads entries (their proofs), and
    // the user list is the admin's and the auditor's.
    const createdEntry = kinds.find(
      (k) => k.kind === 'user.created' && k.payload.includes(user.id as string),
    );
    expect(JSON.parse(createdEntry?.payload ?? '{}')).toEqual({
      userId: user.id,
      role: 'analyst',
      by: expect.any(String),
    });
  });

  it('refuses unknown roles and users with stable codes', async () => {
    const admin = client(t);
    expect((await admin.post('/v1/users', { name: 'x', role: 'root' })).json().error.code).toBe(
      'LG_VALIDATION',
    );
    const missing = await admin.post('/v1/keys', { userId: '01900000-0000-7000-8000-000000000000' });
    expect(missing.statusCode).toBe(404);
  });

  it('revokes a key on every instance within one second, and the revocation is a ledger entry', async () => {
    const analyst = await person(t, 'Li Lei', 'analyst');
    // A second instance: its own verifier (its own cache) over the same store.
    const other = createKeyVerifier(t.app.store.db, clock);
    expect(await other(analyst.key)).toMatchObject({
      userId: analyst.userId,
      actor: `user:${analyst.userId}`,
    });
    expect((await client(t, analyst.key).get('/v1/cases')).statusCode).toBe(200);
    const revoked = await client(t).del(`/v1/keys/${analyst.keyId}`);
    expect(revoked.statusCode).toBe(200);
    clock.advance(1_000);
    expect(await other(analyst.key)).toBeNull();
    expect((await client(t, analyst.key).get('/v1/cases')).statusCode).toBe(401);
    const again = await client(t).del(`/v1/keys/${analyst.keyId}`);
    expect(again.statusCode).toBe(409);
    const entry = await t.app.store.db
      .selectFrom('ledger_entries')
      .select('kind')
      .where('subject_id', '=', analyst.keyId)
      .where('kind', '=', 'api_key.revoked')
      .executeTakeFirst();
    expect(entry).toBeDefined();
    expect((await verifyLedger(t.app.store.db)).ok).toBe(true);
  });

  it('only an admin manages users and keys', async () => {
    const supervisor = await person(t, 'Zhao Min', 'supervisor');
    const res = await client(t, supervisor.key).post('/v1/users', { name: 'x', role: 'admin' });
    expect(res.statusCode).toBe(403);
    expect((await client(t, supervisor.key).del(`/v1/keys/${supervisor.keyId}`)).statusCode).toBe(403);
  });

  it('holds an admin key for a second admin, and the maker cannot approve it', async () => {
    const maker = await person(t, 'Admin One', 'admin');
    const checker = await person(t, 'Admin Two', 'admin');
    const newAdmin = (await client(t).post('/v1/users', { name: 'Admin Three', role: 'admin' })).json();
    const asked = await client(t, maker.key).post('/v1/keys', {
      userId: newAdmin.id,
      reason: 'on-call rota',
    });
    expect(asked.statusCode).toBe(202);
    const pending = asked.json();
    expect(pending.active).toBe(false);
    clock.advance(1_000);
    expect((await client(t, pending.key).get('/v1/users')).statusCode).toBe(401);
    const self = await client(t, maker.key).post(`/v1/changes/${pending.pendingChange.id}/approve`, {});
    expect(self.statusCode).toBe(403);
    expect(self.json().error.code).toBe('LG_SELF_APPROVAL');
    const approved = await client(t, checker.key).post(`/v1/changes/${pending.pendingChange.id}/approve`, {});
    expect(approved.statusCode).toBe(200);
    expect(approved.json().state).toBe('APPROVED');
    clock.advance(1_000);
    expect((await client(t, pending.key).get('/v1/users')).statusCode).toBe(200);
  });

  it('records the person behind a key, not the key id, on the records a route writes', async () => {
    const backend = await person(t, 'Lender Backend', 'service');
    const consent = await client(t, backend.key).post('/v1/consents', {
      nationalId: residentId('19800101', 901),
      purpose: 'LOAN_APPROVAL',
      textVersion: 'loan-approval/2026-01',
      channel: 'APP',
    });
    expect(consent.statusCode, consent.body).toBe(201);
    expect(consent.json().recordedBy).toBe(`user:${backend.userId}`);
  });
});
