import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PARTNER_INPUT, STRONG_APPLICANT, type TestApp } from '../helpers/app.js';
import { residentId } from '../core/harness.js';
import { client, startCaseAppWith, type Person } from './helpers.js';

/**
 * A 助贷 platform operator's key reads its channel's lines. The line's actions carry the lender's staff notes (free
 * text about the borrower, sealed at rest as personal data), the staff member behind each action and its trace: the
 * lender's own investigation, which the partner must not read.
 */
describe("a partner's view of its channel's line", () => {
  let t: TestApp;
  let risk: Person;
  beforeAll(async () => {
    ({ t, risk } = await startCaseAppWith({}, { risk: ['Li Lei', 'risk_analyst'] }));
  });
  afterAll(async () => t?.close());

  it("shows the action and its reasons, without the lender's note, actor or trace", async () => {
    const partner = await client(t).post('/v1/partners', PARTNER_INPUT);
    expect(partner.statusCode, partner.body).toBe(201);
    const partnerId = partner.json().id as string;
    const key = (await client(t).post(`/v1/partners/${partnerId}/keys`)).json().key as string;
    const applied = await client(t).post('/v1/applications', {
      applicant: { name: '李雷', nationalId: residentId('19900101', 991), phone: '13900009999' },
      attributes: STRONG_APPLICANT,
      channel: { partnerId, fundingMode: 'SELF_FUNDED' },
    });
    expect(applied.statusCode, applied.body).toBe(201);
    const lineId = applied.json().line.id as string;
    const NOTE = '疑似涉诈：借款人称其配偶王某在外欠赌债，已报警，警情号 2026-1102-77';
    const frozen = await client(t, risk.key).post(`/v1/lines/${lineId}/actions`, {
      type: 'FREEZE_DRAW',
      reasons: ['R_SCAM_TRANSFER_PATTERN'],
      note: NOTE,
    });
    expect(frozen.statusCode, frozen.body).toBe(201);

    // The lender's staff see the note and who froze the line.
    const staff = (await client(t).get(`/v1/lines/${lineId}`)).json();
    const staffFreeze = staff.recentActions.find((a: { type: string }) => a.type === 'FREEZE_DRAW');
    expect(staffFreeze).toMatchObject({ note: NOTE, actor: `user:${risk.userId}` });

    const seen = await client(t, key).get(`/v1/partner/lines/${lineId}`);
    expect(seen.statusCode, seen.body).toBe(200);
    expect(seen.body).not.toContain('警情号');
    const freeze = seen.json().recentActions.find((a: { type: string }) => a.type === 'FREEZE_DRAW');
    expect(freeze).toMatchObject({ type: 'FREEZE_DRAW', reasons: ['R_SCAM_TRANSFER_PATTERN'] });
    for (const field of ['note', 'noteUnreadable', 'actor', 'traceId'])
      expect(freeze).not.toHaveProperty(field);
  });

  it('a partner key reaches /v1/partner/ only: not even the staff session route', async () => {
    const partner = await client(t).post('/v1/partners', {
      ...PARTNER_INPUT,
      name: `${PARTNER_INPUT.name} (session)`,
    });
    expect(partner.statusCode, partner.body).toBe(201);
    const key = (await client(t).post(`/v1/partners/${partner.json().id as string}/keys`)).json()
      .key as string;
    const session = await client(t, key).get('/v1/session');
    expect(session.statusCode, session.body).toBe(403);
    expect(session.json().error.code).toBe('LG_FORBIDDEN');
    // Staff keys still read who they are.
    expect((await client(t, risk.key).get('/v1/session')).json()).toMatchObject({ role: 'risk_analyst' });
  });
});
