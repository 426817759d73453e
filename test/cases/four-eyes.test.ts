import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ManualClock } from '../../src/domain/clock.js';
import { STRONG_APPLICANT, type TestApp } from '../helpers/app.js';
import { residentId } from '../core/harness.js';
import { loadConfig } from '../../src/app/config.js';
import { client, largeDrawHeldOnScamSignal, person, startCaseApp, type Person } from './helpers.js';

/** Maker-checker on the configured operations (issue 11 "Four eyes"). */
describe('four eyes', () => {
  let t: TestApp;
  let clock: ManualClock;
  let adminA: Person;
  let adminB: Person;
  let riskAnalyst: Person;
  let supervisor: Person;

  beforeAll(async () => {
    ({ t, clock } = await startCaseApp());
    adminA = await person(t, 'admin A', 'admin');
    adminB = await person(t, 'admin B', 'admin');
    riskAnalyst = await person(t, 'risk analyst', 'risk_analyst');
    supervisor = await person(t, 'supervisor', 'supervisor');
  });
  afterAll(async () => t?.close());

  it('holds a strategy activation until a different person approves it; the maker cannot approve their own', async () => {
    const doc = (await client(t).get('/v1/strategies/draw/versions/1')).json().document;
    const saved = await client(t, adminA.key).post('/v1/strategies', {
      ...doc,
      description: 'v2 for four eyes',
    });
    expect(saved.statusCode, saved.body).toBe(201);
    const version = saved.json().version as number;
    const asked = await client(t, adminA.key).post(`/v1/strategies/draw/versions/${version}/activate`);
    expect(asked.statusCode, asked.body).toBe(202);
    const change = asked.json().pendingChange;
    expect(change).toMatchObject({
      operation: 'strategy.activate',
      state: 'PENDING',
      maker: `user:${adminA.userId}`,
    });
    expect(
      (await client(t).get('/v1/strategies/draw/versions')).json().activations.at(-1)?.version ?? 1,
    ).not.toBe(version);
    const own = await client(t, adminA.key).post(`/v1/changes/${change.id}/approve`, {});
    expect(own.statusCode).toBe(403);
    expect(own.json().error.code).toBe('LG_SELF_APPROVAL');
    const ownReject = await client(t, adminA.key).post(`/v1/changes/${change.id}/reject`, {
      note: 'never mind',
    });
    expect(ownReject.json().error.code).toBe('LG_SELF_APPROVAL');
    const approved = await client(t, adminB.key).post(`/v1/changes/${change.id}/approve`, {});
    expect(approved.statusCode, approved.body).toBe(200);
    expect(approved.json()).toMatchObject({ state: 'APPROVED', checker: `user:${adminB.userId}` });
    const versions = (await client(t).get('/v1/strategies/draw/versions')).json();
    expect(versions.versions.find((v: { version: number }) => v.version === version).status).toBe('active');
    const twice = await client(t, adminB.key).post(`/v1/changes/${change.id}/approve`, {});
    expect(twice.json().error.code).toBe('LG_CHANGE_NOT_PENDING');
  });

  it('holds list entries for a checker, and a rejected change never applies', async () => {
    const entry = {
      list: 'black',
      entityType: 'device',
      value: 'farm-7',
      reason: 'device farm',
      source: 'analyst',
    };
    const asked = await client(t, riskAnalyst.key).post('/v1/lists', entry);
    expect(asked.statusCode, asked.body).toBe(202);
    const rejected = await client(t, supervisor.key).post(
      `/v1/changes/${asked.json().pendingChange.id}/reject`,
      {
        note: 'not enough evidence',
      },
    );
    expect(rejected.json()).toMatchObject({ state: 'REJECTED', decisionNote: 'not enough evidence' });
    const check = () => client(t).get('/v1/lists/check?entityType=device&value=farm-7');
    expect((await check()).json().hits).toEqual([]);
    const again = await client(t, riskAnalyst.key).post('/v1/lists', entry);
    await client(t, supervisor.key).post(`/v1/changes/${again.json().pendingChange.id}/approve`, {});
    expect((await check()).json().hits.length).toBe(1);
  });

  it("an approved removal of a list entry is the maker's: the ledger names who removed it", async () => {
    const added = await client(t).post('/v1/lists', {
      list: 'black',
      entityType: 'device',
      value: 'farm-remove-1',
      reason: 'device farm',
      source: 'analyst',
    });
    expect(added.statusCode, added.body).toBe(201);
    const entryId = added.json().entryId as string;
    const check = () => client(t).get('/v1/lists/check?entityType=device&value=farm-remove-1');
    expect((await check()).json().hits).toHaveLength(1);

    const asked = await client(t, riskAnalyst.key).del(`/v1/lists/${entryId}`);
    expect(asked.statusCode, asked.body).toBe(202);
    const change = asked.json().pendingChange;
    expect(change).toMatchObject({ operation: 'list.remove', maker: `user:${riskAnalyst.userId}` });
    expect((await check()).json().hits).toHaveLength(1);

    const approved = await client(t, supervisor.key).post(`/v1/changes/${change.id}/approve`, {});
    expect(approved.statusCode, approved.body).toBe(200);
    expect((await check()).json().hits).toEqual([]);
    const removed = await t.app.store.db
      .selectFrom('ledger_entries')
      .selectAll()
      .where('kind', '=', 'list.removed')
      .where('subject_id', '=', entryId)
      .execute();
    expect(removed).toHaveLength(1);
    expect(JSON.parse(removed[0]?.payload ?? '{}')).toMatchObject({
      entryId,
      removedBy: `user:${riskAnalyst.userId}`,
    });
    // The checker is on the approval's own ledger entry, as for an entry added through four eyes.
    const approval = await t.app.store.db
      .selectFrom('ledger_entries')
      .selectAll()
      .where('kind', '=', 'change.approved')
      .where('subject_id', '=', change.id)
      .executeTakeFirst();
    expect(JSON.parse(approval?.payload ?? '{}')).toMatchObject({
      operation: 'list.remove',
      maker: `user:${riskAnalyst.userId}`,
      checker: `user:${supervisor.userId}`,
    });
  });

  it('holds a person entry for a checker as its keyed hash: the identifier is in no change, answer or ledger entry', async () => {
    const nationalId = residentId('19900101', 555);
    const asked = await client(t, riskAnalyst.key).post('/v1/lists', {
      list: 'black',
      entityType: 'nationalIdHash',
      value: nationalId,
      reason: 'fraud ring',
      source: 'analyst',
    });
    expect(asked.statusCode, asked.body).toBe(202);
    const changeId = asked.json().pendingChange.id as string;
    const held = [
      asked.body,
      (await client(t, supervisor.key).get(`/v1/changes/${changeId}`)).body,
      (await client(t, supervisor.key).get('/v1/changes')).body,
      JSON.stringify(await t.app.store.db.selectFrom('pending_changes').selectAll().execute()),
      JSON.stringify(await t.app.store.db.selectFrom('ledger_entries').selectAll().execute()),
    ];
    for (const text of held) expect(text).not.toContain(nationalId);
    // Approved, the entry blocks the identifier it was proposed for.
    const approved = await client(t, supervisor.key).post(`/v1/changes/${changeId}/approve`, {});
    expect(approved.statusCode, approved.body).toBe(200);
    const hits = await client(t).get(`/v1/lists/check?entityType=nationalIdHash&value=${nationalId}`);
    expect(hits.json().hits).toHaveLength(1);
  });

  it('holds a manual limit increase above the threshold, not below', async () => {
    const line = (
      await client(t).post('/v1/applications', {
        applicant: { name: '张三', nationalId: residentId('19800303', 42), phone: '13900004444' },
        attributes: STRONG_APPLICANT,
      })
    ).json().line;
    const small = await client(t, riskAnalyst.key).post(`/v1/lines/${line.id}/actions`, {
      type: 'LIMIT_DECREASE',
      reasons: ['R_LIMIT_REVIEW'],
      limitMinor: 1_000_000,
    });
    expect(small.statusCode, small.body).toBe(201);
    const big = await client(t, riskAnalyst.key).post(`/v1/lines/${line.id}/actions`, {
      type: 'LIMIT_INCREASE',
      reasons: ['R_GOOD_REPAYMENT'],
      limitMinor: 6_000_000,
      note: 'long-standing customer',
    });
    expect(big.statusCode, big.body).toBe(202);
    expect((await client(t).get(`/v1/lines/${line.id}`)).json().limitMinor).toBe(1_000_000);
    const approved = await client(t, supervisor.key).post(
      `/v1/changes/${big.json().pendingChange.id}/approve`,
      {},
    );
    expect(approved.statusCode, approved.body).toBe(200);
    const after = (await client(t).get(`/v1/lines/${line.id}`)).json();
    expect(after.limitMinor).toBe(6_000_000);
    expect(after.recentActions[0]).toMatchObject({
      type: 'LIMIT_INCREASE',
      actor: `user:${riskAnalyst.userId}`,
    });
  });

  it('holds the release of a large held draw for a second person, who releases it through the core', async () => {
    const held = await largeDrawHeldOnScamSignal(t, {
      applicant: { name: '大额', nationalId: residentId('19750606', 44), phone: '13900009999' },
      eventId: 'call-large',
    });
    const analyst = await person(t, 'analyst', 'analyst');
    const { caseId } = held;
    const asked = await client(t, analyst.key).post(`/v1/cases/${caseId}/resolve`, {
      outcome: 'RELEASE',
      note: 'customer called back',
    });
    expect(asked.statusCode, asked.body).toBe(202);
    expect(asked.json().pendingChange.operation).toBe('draw.release');
    expect((await client(t).get(`/v1/lines/${held.lineId}`)).json().outstandingPrincipalMinor).toBe(0);
    const approved = await client(t, supervisor.key).post(
      `/v1/changes/${asked.json().pendingChange.id}/approve`,
      {},
    );
    expect(approved.statusCode, approved.body).toBe(200);
    expect((await client(t).get(`/v1/lines/${held.lineId}`)).json().outstandingPrincipalMinor).toBe(
      2_500_000,
    );
    const resolved = (await client(t, analyst.key).get(`/v1/cases/${caseId}`)).json();
    expect(resolved).toMatchObject({
      state: 'RESOLVED',
      outcome: 'RELEASE',
      resolvedBy: `user:${analyst.userId}`,
    });
    expect(resolved.outcomeDetail.approvedBy).toBe(`user:${supervisor.userId}`);
  });

  it('expires a change nobody decided in time', async () => {
    const asked = await client(t, riskAnalyst.key).post('/v1/lists', {
      list: 'grey',
      entityType: 'ip',
      value: '203.0.113.9',
      reason: 'proxy',
      source: 'analyst',
    });
    clock.advance(t.app.config.cases.fourEyes.ttlMs + 1);
    const late = await client(t, supervisor.key).post(
      `/v1/changes/${asked.json().pendingChange.id}/approve`,
      {},
    );
    expect(late.statusCode).toBe(409);
    expect(late.json().error.code).toBe('LG_CHANGE_EXPIRED');
    expect((await client(t).get(`/v1/changes/${asked.json().pendingChange.id}`)).json().state).toBe(
      'EXPIRED',
    );
  });

  it('extends a complaint deadline once, with a reason', async () => {
    const app = (
      await client(t).post('/v1/applications', {
        applicant: { name: '李四', nationalId: residentId('19790505', 43), phone: '13900005555' },
        attributes: STRONG_APPLICANT,
      })
    ).json();
    const service = await person(t, 'svc', 'service');
    const token = (await client(t, service.key).post(`/v1/borrowers/${app.borrowerId}/tokens`)).json().token;
    const filed = (
      await client(t, token).post('/v1/me/complaints', { category: 'FEES_PRICING', text: '费用不清楚' })
    ).json();
    const due = Date.parse(filed.dueAt);
    expect(due - clock.now()).toBe(15 * 86_400_000);
    const caseId = (await client(t, supervisor.key).get('/v1/cases?type=COMPLAINT')).json().items[0].id;
    const extended = await client(t, supervisor.key).post(`/v1/cases/${caseId}/extend`, {
      reason: 'waiting for the partner lender',
    });
    expect(extended.statusCode, extended.body).toBe(200);
    expect(Date.parse(extended.json().dueAt) - due).toBe(15 * 86_400_000);
    const twice = await client(t, supervisor.key).post(`/v1/cases/${caseId}/extend`, { reason: 'again' });
    expect(twice.json().error.code).toBe('LG_COMPLAINT_ALREADY_EXTENDED');
    const mine = (await client(t, token).get(`/v1/me/complaints/${filed.id}`)).json();
    expect(mine).toMatchObject({ extended: true, extensionReason: 'waiting for the partner lender' });
    const resolved = await client(t, supervisor.key).post(`/v1/cases/${caseId}/resolve`, {
      outcome: 'RESOLVED',
      textZh: '已为您退还多收的费用。',
      textEn: 'We refunded the fee charged in excess.',
    });
    expect(resolved.statusCode, resolved.body).toBe(200);
    expect(
      (await client(t, token).get(`/v1/me/complaints/${filed.id}?lang=en`)).json().resolution.text,
    ).toMatch(/refunded/);
  });
});

describe('LINEGUARD_FOUR_EYES', () => {
  const load = (operations: string) =>
    loadConfig({ LINEGUARD_KEY: 'ab'.repeat(32), LINEGUARD_FOUR_EYES: operations }, {}, () => undefined);

  it('names only operations that a second person checks: model.register, which checks nothing, is refused', () => {
    expect([...load('model.activate, strategy.activate').cases.fourEyes.operations]).toEqual([
      'model.activate',
      'strategy.activate',
    ]);
    expect(() => load('model.register')).toThrow(/unknown operations model\.register/);
  });
});
