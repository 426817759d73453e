import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ManualClock } from '../../src/domain/clock.js';
import { createIsolatedPostgresSchema } from '../../src/store/db.js';
import { verifyLedger } from '../../src/compliance/ledger.js';
import { STRONG_APPLICANT, type TestApp } from '../helpers/app.js';
import { TEST_DATABASE_URL } from '../helpers/stores.js';
import { residentId } from '../core/harness.js';
import { caseRows } from '../../src/store/cases-rows.js';
import { client, frozenLineWithToken, person, startCaseApp, type Person } from './helpers.js';

/**
 * Two servers over one PostgreSQL schema ("two processes in all but the pid"): the same appeal filed at both, one
 * appeal resolved at both with different outcomes, an uphold racing the line's reversal at the other, the SLA sweep
 * at both, and a four-eyes approval at one while the other expires the change. Each happens once.
 */
describe.skipIf(!TEST_DATABASE_URL)('appeals and four eyes across two processes (PostgreSQL)', () => {
  let a: TestApp;
  let b: TestApp;
  let clocks: ManualClock[] = [];
  let service: Person;
  let analyst: Person;
  let supervisor: Person;
  let riskAnalyst: Person;
  let seq = 0;

  beforeAll(async () => {
    const env = {
      LINEGUARD_DATABASE_URL: await createIsolatedPostgresSchema(TEST_DATABASE_URL ?? '', 'cases_two'),
    };
    // Each process draws its own ids, as two real processes would.
    const first = await startCaseApp(env, 71);
    const second = await startCaseApp(env, 72);
    ({ t: a } = first);
    ({ t: b } = second);
    clocks = [first.clock, second.clock];
    service = await person(a, 'lender-backend', 'service');
    analyst = await person(a, '周强', 'analyst');
    supervisor = await person(a, '赵敏', 'supervisor');
    riskAnalyst = await person(a, '钱红', 'risk_analyst');
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
  });

  const setClocks = (ms: number) => clocks.forEach((c) => c.set(ms));

  /** A line frozen by a person and an appeal filed against the freeze at both processes at once. */
  const appealFiledAtBoth = async () => {
    seq += 1;
    const frozen = await frozenLineWithToken(a, service.key, {
      name: '并发申诉',
      nationalId: residentId('19880808', 800 + seq),
      phone: `1390000${String(8000 + seq)}`,
    });
    const answers = await Promise.all(
      [a, b].map((t) =>
        client(t, frozen.token).post('/v1/me/appeals', { actionId: frozen.actionId, text: '已还款。' }),
      ),
    );
    expect(answers.map((r) => r.statusCode).sort()).toEqual([201, 409]);
    expect(answers.find((r) => r.statusCode === 409)?.json().error.code).toBe('LG_CONFLICT');
    const appealId = answers.find((r) => r.statusCode === 201)?.json().id as string;
    const cases = (await client(a).get(`/v1/cases?type=APPEAL&lineId=${frozen.lineId}`)).json().items;
    expect(cases).toHaveLength(1);
    return { ...frozen, appealId, caseId: cases[0].id as string };
  };

  const actionsOf = async (lineId: string, type: string): Promise<number> =>
    (await client(a).get(`/v1/lines/${lineId}`))
      .json()
      .recentActions.filter((x: { type: string }) => x.type === type).length;

  const resolveBody = (outcome: 'UPHELD' | 'REJECTED') => ({
    outcome,
    textZh: outcome === 'UPHELD' ? '已恢复。' : '维持原决定。',
    textEn: outcome === 'UPHELD' ? 'Restored.' : 'The decision stands.',
  });

  it('one appeal filed at both, resolved at both with different outcomes: one appeal, one resolution, one reinstatement', async () => {
    const { lineId, caseId, appealId, token } = await appealFiledAtBoth();
    const answers = await Promise.all([
      client(a, analyst.key).post(`/v1/cases/${caseId}/resolve`, resolveBody('UPHELD')),
      client(b, analyst.key).post(`/v1/cases/${caseId}/resolve`, resolveBody('REJECTED')),
    ]);
    expect(answers.map((r) => r.statusCode).sort()).toEqual([200, 409]);
    expect(answers.find((r) => r.statusCode === 409)?.json().error.code).toBe('LG_CASE_TRANSITION_ILLEGAL');
    const won = answers.find((r) => r.statusCode === 200)?.json().case.outcome as string;
    const appeal = (await client(a, token).get(`/v1/me/appeals/${appealId}`)).json();
    expect(appeal.state).toBe(won);
    expect(await actionsOf(lineId, 'UNFREEZE')).toBe(won === 'UPHELD' ? 1 : 0);
    const decided = (await caseRows.ledgerOf(a.app.store.db, appealId)).filter(
      (e) => e.kind === 'appeal.decided',
    );
    expect(decided).toHaveLength(1);
  });

  it('an uphold at one process racing the line’s reversal at the other lifts the freeze once', async () => {
    const { lineId, caseId, appealId, token } = await appealFiledAtBoth();
    const [upheld, reversed] = await Promise.all([
      client(a, analyst.key).post(`/v1/cases/${caseId}/resolve`, resolveBody('UPHELD')),
      client(b, riskAnalyst.key).post(`/v1/lines/${lineId}/actions`, {
        type: 'UNFREEZE',
        reasons: ['R_RISK_RESOLVED'],
      }),
    ]);
    expect(upheld.statusCode, upheld.body).toBe(200);
    expect([201, 409]).toContain(reversed.statusCode);
    expect((await client(a).get(`/v1/lines/${lineId}`)).json().status).toBe('ACTIVE');
    expect(await actionsOf(lineId, 'UNFREEZE')).toBe(1);
    expect((await client(b, token).get(`/v1/me/appeals/${appealId}`)).json().state).toBe('UPHELD');
  });

  it('the SLA sweep at both processes counts a breach once', async () => {
    const { caseId } = await appealFiledAtBoth();
    const due = Date.parse((await client(a).get(`/v1/cases/${caseId}`)).json().slaDueAt);
    setClocks(due + 1);
    const swept = await Promise.all([a, b].map((t) => t.app.cases.service.sweepSla()));
    expect(swept.flatMap((s) => s.breached).filter((id) => id === caseId)).toHaveLength(1);
    const breaches = (await caseRows.ledgerOf(a.app.store.db, caseId)).filter(
      (e) => e.kind === 'case.sla_breached',
    );
    expect(breaches).toHaveLength(1);
  });

  it('an approval at one process while the other expires the change: exactly one of them, applied at most once', async () => {
    const applied = (
      await client(a).post('/v1/applications', {
        applicant: { name: '过期', nationalId: residentId('19820202', 901), phone: '13900009010' },
        attributes: STRONG_APPLICANT,
      })
    ).json();
    const change = (
      await client(a, riskAnalyst.key).post(`/v1/lines/${applied.line.id}/actions`, {
        type: 'LIMIT_INCREASE',
        reasons: ['R_GOOD_REPAYMENT'],
        limitMinor: 20_000_000,
        note: 'two processes',
      })
    ).json().pendingChange;
    const expiresAt = Date.parse(change.expiresAt);
    clocks[0]?.set(expiresAt - 1);
    clocks[1]?.set(expiresAt);
    const [approval, expired] = await Promise.all([
      client(a, supervisor.key).post(`/v1/changes/${change.id}/approve`, {}),
      b.app.cases.service.fourEyes.expireDue(),
    ]);
    const state = (await client(b).get(`/v1/changes/${change.id}`)).json().state as string;
    expect(state).toBe(approval.statusCode === 200 ? 'APPROVED' : 'EXPIRED');
    expect(expired).toBe(state === 'EXPIRED' ? 1 : 0);
    expect(await actionsOf(applied.line.id, 'LIMIT_INCREASE')).toBe(state === 'APPROVED' ? 1 : 0);
    const kinds = (await caseRows.ledgerOf(a.app.store.db, change.id)).map((e) => e.kind);
    expect(kinds).toEqual(['change.proposed', state === 'APPROVED' ? 'change.approved' : 'change.expired']);
    expect((await verifyLedger(a.app.store.db)).ok).toBe(true);
  });
});
