import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STRONG_APPLICANT, type TestApp } from '../helpers/app.js';
import { residentId } from '../core/harness.js';
import { CASE_STORES, client, person, startCaseApp, type Person } from './helpers.js';

/** Two people acting on the same thing at once: one wins, the other is told, nothing happens twice. */
for (const store of CASE_STORES)
  describe.skipIf(!store.enabled)(`concurrent case steps (${store.name})`, () => {
    let t: TestApp;
    let analysts: Person[];
    let supervisors: Person[];
    let seq = 700;

    beforeAll(async () => {
      ({ t } = await startCaseApp(await store.env()));
      analysts = [await person(t, 'a1', 'analyst'), await person(t, 'a2', 'analyst')];
      supervisors = [await person(t, 's1', 'supervisor'), await person(t, 's2', 'supervisor')];
    });
    afterAll(async () => t?.close());

    const apply = async () =>
      (
        await client(t).post('/v1/applications', {
          applicant: { name: '并发', nationalId: residentId('19760707', ++seq), phone: '13900008888' },
          attributes: STRONG_APPLICANT,
        })
      ).json();

    it('releases a held draw once when two analysts release it together', async () => {
      const app = await apply();
      await client(t).post('/v1/events', {
        eventId: `call-${seq}`,
        type: 'call_in_progress',
        occurredAt: new Date(t.app.clock.now()).toISOString(),
        userId: app.borrowerId,
      });
      const held = (
        await client(t).post(`/v1/lines/${app.line.id}/draws`, {
          amountMinor: 600_000,
          currency: 'CNY',
          termMonths: 6,
          method: 'EQUAL_INSTALLMENT',
        })
      ).json();
      expect(held.status).toBe('HOLD');
      const caseId = (
        await client(t, analysts[0]?.key).get(`/v1/cases?type=HELD_DRAW&lineId=${app.line.id}`)
      ).json().items[0].id;
      const results = await Promise.all(
        (analysts as Person[]).map((a) =>
          client(t, a.key).post(`/v1/cases/${caseId}/resolve`, { outcome: 'RELEASE' }),
        ),
      );
      expect(results.map((r) => r.statusCode).sort()).toEqual([200, 409]);
      const loans = await t.app.store.db
        .selectFrom('loans')
        .select('id')
        .where('line_id', '=', app.line.id)
        .execute();
      expect(loans).toHaveLength(1);
      expect((await client(t).get(`/v1/lines/${app.line.id}`)).json().outstandingPrincipalMinor).toBe(
        600_000,
      );
    });

    it('applies a change once when two supervisors approve it together', async () => {
      const app = await apply();
      const maker = await person(t, `maker-${seq}`, 'risk_analyst');
      const asked = await client(t, maker.key).post(`/v1/lines/${app.line.id}/actions`, {
        type: 'LIMIT_INCREASE',
        reasons: ['R_GOOD_REPAYMENT'],
        limitMinor: 19_000_000,
      });
      expect(asked.statusCode, asked.body).toBe(202);
      const id = asked.json().pendingChange.id as string;
      const results = await Promise.all(
        (supervisors as Person[]).map((s) => client(t, s.key).post(`/v1/changes/${id}/approve`, {})),
      );
      expect(results.map((r) => r.statusCode).sort(), results.map((r) => r.body).join('\n')).toEqual([
        200, 409,
      ]);
      const increases = await t.app.store.db
        .selectFrom('line_actions')
        .select('id')
        .where('line_id', '=', app.line.id)
        .where('type', '=', 'LIMIT_INCREASE')
        .execute();
      expect(increases).toHaveLength(1);
      expect((await client(t).get(`/v1/changes/${id}`)).json().state).toBe('APPROVED');
    });
  });
