import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestApp } from '../helpers/app.js';
import { residentId } from '../core/harness.js';
import { client, lineWithToken, person, startCaseAppWith, type Person } from './helpers.js';

/**
 * An appeal is a second look (PIPL Art. 24): the person who took the appealed line action cannot decide it (403
 * LG_SELF_APPROVAL). As four eyes has it, whoever was shown a key could have acted with it: an admin who issued a
 * colleague's key (POST /v1/keys answers the secret to the admin) cannot decide the appeal with that key either.
 */
describe('the second look on an appeal, and keys the first person was shown', () => {
  let t: TestApp;
  let admin: Person;
  let service: Person;

  beforeAll(async () => {
    ({ t, admin, service } = await startCaseAppWith(
      {},
      { admin: ['Admin Qian', 'admin'], service: ['lender-backend', 'service'] },
    ));
  });
  afterAll(async () => t?.close());

  async function appealAgainstAdminFreeze(seq: number): Promise<string> {
    const { lineId, token } = await lineWithToken(t, service.key, {
      name: '钱七',
      nationalId: residentId('19910101', seq),
      phone: `1390001${String(seq).padStart(4, '0')}`,
    });
    const frozen = await client(t, admin.key).post(`/v1/lines/${lineId}/actions`, {
      type: 'FREEZE_DRAW',
      reasons: ['R_UTILISATION_HIGH'],
    });
    expect(frozen.statusCode, frozen.body).toBe(201);
    const filed = await client(t, token).post('/v1/me/appeals', {
      actionId: frozen.json().actionId,
      text: '请重新审核。',
    });
    expect(filed.statusCode, filed.body).toBe(201);
    const listed = (await client(t).get('/v1/cases?type=APPEAL&limit=500')).json();
    return listed.items.find((c: { subjectId: string }) => c.subjectId === filed.json().id).id as string;
  }

  const reject = { outcome: 'REJECTED', textZh: '维持原决定。', textEn: 'The action stands.' };

  it('control: the admin who froze the line cannot reject the appeal with their own key', async () => {
    const caseId = await appealAgainstAdminFreeze(951);
    const res = await client(t, admin.key).post(`/v1/cases/${caseId}/resolve`, reject);
    expect(res.statusCode, res.body).toBe(403);
    expect(res.json().error.code).toBe('LG_SELF_APPROVAL');
  });

  it('the admin who froze the line cannot reject the appeal with an analyst key they issued (and so hold)', async () => {
    // The admin makes an analyst and issues the analyst's key: POST /v1/keys answers the secret to the admin.
    const user = await client(t, admin.key).post('/v1/users', { name: 'Puppet Analyst', role: 'analyst' });
    expect(user.statusCode, user.body).toBe(201);
    const issued = await client(t, admin.key).post('/v1/keys', { userId: user.json().id });
    expect(issued.statusCode, issued.body).toBe(201);
    const heldByAdmin = issued.json().key as string;

    const caseId = await appealAgainstAdminFreeze(952);
    const res = await client(t, heldByAdmin).post(`/v1/cases/${caseId}/resolve`, reject);
    // Was 200, the appeal REJECTED: decided by the person whose freeze it was, through a key they were shown.
    expect(res.statusCode, res.body).toBe(403);
    expect(res.json().error.code).toBe('LG_SELF_APPROVAL');
    // A colleague with a key nobody else was shown decides it.
    const colleague = await person(t, 'Independent Analyst', 'analyst');
    const decided = await client(t, colleague.key).post(`/v1/cases/${caseId}/resolve`, reject);
    expect(decided.statusCode, decided.body).toBe(200);
  });
});
