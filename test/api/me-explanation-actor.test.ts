import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STRONG_APPLICANT, type TestApp } from '../helpers/app.js';
import { residentId } from '../core/harness.js';
import { client, startCaseAppWith, type Person } from '../cases/helpers.js';

/**
 * README: an explanation's specifics name "by whom — automation with its actor and decision, a person, or the
 * borrower's own request"; a partner's view of a line's actions never shows "the staff member behind them". The
 * borrower's own view (GET /v1/me/lines/{id}/explanation) says a person acted, never which one.
 */
describe("the borrower's explanation names no staff member", () => {
  let t: TestApp;
  let risk: Person;
  let service: Person;

  beforeAll(async () => {
    ({ t, risk, service } = await startCaseAppWith(
      {},
      { risk: ['Li Lei', 'risk_analyst'], service: ['lender-backend', 'service'] },
    ));
  });
  afterAll(async () => t?.close());

  it('a freeze by a risk analyst: by "person", no actor, the user id nowhere in the answer', async () => {
    const applied = await client(t, service.key).post('/v1/applications', {
      applicant: { name: '欧阳娜娜', nationalId: residentId('19880808', 731), phone: '13911117031' },
      attributes: STRONG_APPLICANT,
    });
    expect(applied.statusCode, applied.body).toBe(201);
    const { borrowerId, line } = applied.json() as { borrowerId: string; line: { id: string } };
    const frozen = await client(t, risk.key).post(`/v1/lines/${line.id}/actions`, {
      type: 'FREEZE_DRAW',
      reasons: ['R_UTILISATION_HIGH'],
      note: 'internal: called the employer',
    });
    expect(frozen.statusCode, frozen.body).toBe(201);
    const token = (await client(t, service.key).post(`/v1/borrowers/${borrowerId}/tokens`)).json().token;
    for (const lang of ['zh', 'en']) {
      const told = await client(t, token).get(`/v1/me/lines/${line.id}/explanation?lang=${lang}`);
      expect(told.statusCode, told.body).toBe(200);
      expect(told.json().specifics.action).toMatchObject({ type: 'FREEZE_DRAW', by: 'person', actor: null });
      expect(told.body).not.toContain(risk.userId);
      expect(told.body).not.toContain('called the employer');
    }
    // Staff still see who acted on the line.
    const staff = await client(t, risk.key).get(`/v1/lines/${line.id}`);
    expect(staff.json().recentActions[0].actor).toContain(risk.userId);
  });
});
