import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STRONG_APPLICANT, type TestApp } from '../helpers/app.js';
import { residentId } from '../core/harness.js';
import { client, person, startCaseApp, type Person } from './helpers.js';

/** An automated restriction the blast-radius guard held back waits for a person, who applies or dismisses it. */
describe('guard-held actions', () => {
  let t: TestApp;
  let analyst: Person;
  let seq = 900;

  beforeAll(async () => {
    // A guard that admits no automated restriction at all: every one is held for a person.
    ({ t } = await startCaseApp({ LINEGUARD_GUARD_MAX_FRACTION: '0', LINEGUARD_GUARD_MIN_PER_WINDOW: '0' }));
    analyst = await person(t, 'analyst', 'analyst');
  });
  afterAll(async () => t?.close());

  const heldFreeze = async () => {
    const app = (
      await client(t).post('/v1/applications', {
        applicant: { name: '测试', nationalId: residentId('19700101', ++seq), phone: '13900007777' },
        attributes: STRONG_APPLICANT,
      })
    ).json();
    const held = await t.app.core.applyLineAction(app.line.id, {
      type: 'FREEZE_DRAW',
      reasons: ['R_SCAM_TRANSFER_PATTERN'],
      automated: true,
      actor: 'monitor:SCAM_SAFE_ACCOUNT_TRANSFER',
    });
    expect(held.outcome).toBe('REVIEW');
    const list = (
      await client(t, analyst.key).get(`/v1/cases?type=GUARD_HELD_ACTION&lineId=${app.line.id}`)
    ).json();
    expect(list.items).toHaveLength(1);
    return { lineId: app.line.id as string, caseId: list.items[0].id as string };
  };

  it('applies the held action as the person, with its original reasons', async () => {
    const { lineId, caseId } = await heldFreeze();
    expect((await client(t).get(`/v1/lines/${lineId}`)).json().status).toBe('ACTIVE');
    const res = await client(t, analyst.key).post(`/v1/cases/${caseId}/resolve`, {
      outcome: 'APPLY',
      note: 'pattern confirmed',
    });
    expect(res.statusCode, res.body).toBe(200);
    const line = (await client(t).get(`/v1/lines/${lineId}`)).json();
    expect(line.status).toBe('DRAW_FROZEN');
    expect(line.recentActions[0]).toMatchObject({
      type: 'FREEZE_DRAW',
      outcome: 'APPLIED',
      automated: false,
      actor: `user:${analyst.userId}`,
      reasons: ['R_SCAM_TRANSFER_PATTERN'],
    });
  });

  it('dismisses a held action and leaves the line as it was', async () => {
    const { lineId, caseId } = await heldFreeze();
    const res = await client(t, analyst.key).post(`/v1/cases/${caseId}/resolve`, { outcome: 'DISMISS' });
    expect(res.json().case).toMatchObject({ state: 'RESOLVED', outcome: 'DISMISS' });
    expect((await client(t).get(`/v1/lines/${lineId}`)).json().status).toBe('ACTIVE');
  });
});
