import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ManualClock } from '../../src/domain/clock.js';
import { verifyLedger } from '../../src/compliance/ledger.js';
import { STRONG_APPLICANT, type TestApp } from '../helpers/app.js';
import { residentId } from '../core/harness.js';
import { CASE_STORES, client, person, startCaseApp, T0, type Person } from './helpers.js';

/**
 * Issue 11 "Done when", through the HTTP API: the monitor restricts a line on a scam pattern → the borrower, with a
 * borrower token, reads the explanation in Chinese and appeals → an analyst is assigned, reads the evidence and
 * resolves it as verified by the customer → a supervisor approves the reinstatement → the line is ACTIVE, the
 * explanation updated, every step in the ledger, the SLA met.
 */
for (const store of CASE_STORES)
  describe.skipIf(!store.enabled)(`people in the loop, end to end (${store.name})`, () => {
    let t: TestApp;
    let clock: ManualClock;
    let analyst: Person;
    let supervisor: Person;
    let service: Person;
    let lineId: string;
    let borrowerId: string;
    let restrictionId: string;
    let borrowerToken: string;
    let appealId: string;
    let appealCaseId: string;
    let changeId: string;

    beforeAll(async () => {
      ({ t, clock } = await startCaseApp(await store.env()));
      analyst = await person(t, '王芳', 'analyst');
      supervisor = await person(t, '赵敏', 'supervisor');
      service = await person(t, 'lender-backend', 'service');
    });
    afterAll(async () => t?.close());

    it('the monitor restricts the line on a scam pattern and opens an alert case', async () => {
      const applied = (
        await client(t, service.key).post('/v1/applications', {
          applicant: { name: '李雷', nationalId: residentId('19810412', 321), phone: '13900001111' },
          attributes: STRONG_APPLICANT,
        })
      ).json();
      lineId = applied.line.id;
      borrowerId = applied.borrowerId;
      const drawn = await client(t, service.key).post(`/v1/lines/${lineId}/draws`, {
        amountMinor: 500_000,
        currency: 'CNY',
        termMonths: 12,
        method: 'EQUAL_INSTALLMENT',
      });
      expect(drawn.statusCode).toBe(201);
      await waitFor(async () =>
        Boolean(
          await t.app.store.db
            .selectFrom('monitor_events')
            .select('event_id')
            .where('type', '=', 'disbursement')
            .executeTakeFirst(),
        ),
      );
      const at = (minutes: number) => new Date(T0 + minutes * 60_000).toISOString();
      clock.set(T0 + 9 * 60_000);
      const events = await client(t, service.key).post('/v1/events', {
        events: [
          {
            eventId: 'call',
            type: 'call_in_progress',
            occurredAt: at(-10),
            userId: borrowerId,
            deviceId: 'dev-1',
          },
          {
            eventId: 'payee',
            type: 'payee_added',
            occurredAt: at(5),
            userId: borrowerId,
            payeeId: 'safe-9',
            payeeCreatedAt: at(5),
            deviceId: 'dev-1',
          },
          {
            eventId: 'transfer',
            type: 'transfer_out',
            occurredAt: at(8),
            userId: borrowerId,
            lineId,
            payeeId: 'safe-9',
            amount: 480_000,
            currency: 'CNY',
            deviceId: 'dev-1',
          },
        ],
      });
      expect(events.statusCode).toBe(200);
      await waitFor(async () => (await client(t).get(`/v1/lines/${lineId}`)).json().status !== 'ACTIVE');
      const line = (await client(t).get(`/v1/lines/${lineId}`)).json();
      expect(line.status).toBe('DRAW_FROZEN');
      restrictionId = line.recentActions[0].id;
      expect(line.recentActions[0]).toMatchObject({ type: 'FREEZE_DRAW', automated: true });
      const alerts = (
        await client(t, analyst.key).get(`/v1/cases?type=ALERT&borrowerId=${borrowerId}`)
      ).json();
      expect(alerts.items[0]).toMatchObject({ typologyId: 'SCAM_SAFE_ACCOUNT_TRANSFER', state: 'OPEN' });
    });

    it('the borrower reads the explanation in Chinese with a borrower token and appeals', async () => {
      const minted = await client(t, service.key).post(`/v1/borrowers/${borrowerId}/tokens`, {
        ttlSeconds: 900,
      });
      expect(minted.statusCode).toBe(201);
      borrowerToken = minted.json().token;
      const me = client(t, borrowerToken);
      expect((await me.get('/v1/me/lines')).json().items.map((l: { id: string }) => l.id)).toEqual([lineId]);
      const explained = (await me.get(`/v1/me/lines/${lineId}/explanation?lang=zh`)).json();
      expect(explained.status).toBe('DRAW_FROZEN');
      expect(explained.statusText).toMatch(/暂时不能借款/);
      expect(explained.reasons.map((r: { code: string }) => r.code)).toContain('R_SCAM_TRANSFER_PATTERN');
      expect(explained.appeal.appealable).toBe(true);
      expect(explained.openAppeals).toEqual([]);
      const filed = await me.post('/v1/me/appeals', {
        actionId: restrictionId,
        text: '转账是我本人给家人的，没有人指导我操作。',
        documents: ['upload:transfer-receipt-1'],
      });
      expect(filed.statusCode, filed.body).toBe(201);
      appealId = filed.json().id;
      expect(filed.json()).toMatchObject({ state: 'OPEN', lineId });
      expect(Date.parse(filed.json().deadline) - clock.now()).toBe(7 * 86_400_000);
      const duplicate = await me.post('/v1/me/appeals', { actionId: restrictionId, text: 'again' });
      expect(duplicate.statusCode).toBe(409);
      const reflected = (await me.get(`/v1/me/lines/${lineId}/explanation?lang=zh`)).json();
      expect(reflected.openAppeals.map((a: { id: string }) => a.id)).toEqual([appealId]);
      expect(reflected.appeal.how).toMatch(/申诉正在处理中/);
    });

    it('an analyst is assigned, reads the evidence and resolves it as verified by the customer', async () => {
      const queue = (await client(t, supervisor.key).get('/v1/cases?type=APPEAL&state=OPEN')).json();
      appealCaseId = queue.items.find((c: { subjectId: string }) => c.subjectId === appealId).id;
      const assigned = await client(t, supervisor.key).post(`/v1/cases/${appealCaseId}/assign`, {
        assignee: analyst.userId,
      });
      expect(assigned.json()).toMatchObject({ state: 'ASSIGNED', assignee: analyst.userId });
      const shown = (await client(t, analyst.key).get(`/v1/cases/${appealCaseId}`)).json();
      expect(shown.evidence.appeal.text).toContain('本人');
      expect(shown.evidence.appealedAction.id).toBe(restrictionId);
      expect(shown.evidence.lineHistory[0]).toMatchObject({ type: 'FREEZE_DRAW' });
      expect(shown.evidence.entityLinks.devices).toContain('dev-1');
      expect(shown.evidence.entityLinks.alerts[0].typology).toBe('SCAM_SAFE_ACCOUNT_TRANSFER');
      clock.advance(2 * 3_600_000);
      const resolved = await client(t, analyst.key).post(`/v1/cases/${appealCaseId}/resolve`, {
        outcome: 'UPHELD',
        note: 'Called the customer on the registered number: transfer to a family member, verified by the customer.',
        textZh: '经核实，该笔转账为您本人操作，您的额度已恢复。',
        textEn: 'We verified the transfer was yours; your line is restored.',
      });
      // Lifting a fraud restriction needs a second person: the case waits for a supervisor.
      expect(resolved.statusCode, resolved.body).toBe(202);
      expect(resolved.json().case.state).toBe('ESCALATED');
      changeId = resolved.json().pendingChange.id;
      expect(resolved.json().pendingChange).toMatchObject({
        operation: 'line.lift_fraud_restriction',
        maker: `user:${analyst.userId}`,
      });
      expect((await client(t).get(`/v1/lines/${lineId}`)).json().status).toBe('DRAW_FROZEN');
      // The analyst is no checker; the borrower's token has expired after two hours (tokens are short-lived).
      expect((await client(t, analyst.key).post(`/v1/changes/${changeId}/approve`, {})).statusCode).toBe(403);
      expect((await client(t, borrowerToken).get(`/v1/me/lines`)).statusCode).toBe(401);
      borrowerToken = (await client(t, service.key).post(`/v1/borrowers/${borrowerId}/tokens`)).json().token;
      expect((await client(t, borrowerToken).get(`/v1/changes/${changeId}`)).statusCode).toBe(403);
    });

    it('a supervisor approves the reinstatement: the line is ACTIVE and the explanation updated', async () => {
      const approved = await client(t, supervisor.key).post(`/v1/changes/${changeId}/approve`, {
        note: 'evidence read',
      });
      expect(approved.statusCode, approved.body).toBe(200);
      expect(approved.json()).toMatchObject({ state: 'APPROVED', checker: `user:${supervisor.userId}` });
      const line = (await client(t).get(`/v1/lines/${lineId}`)).json();
      expect(line.status).toBe('ACTIVE');
      expect(line.recentActions[0]).toMatchObject({
        type: 'UNFREEZE',
        automated: false,
        actor: `user:${analyst.userId}`,
      });
      const me = client(t, borrowerToken);
      const explained = (await me.get(`/v1/me/lines/${lineId}/explanation?lang=zh`)).json();
      expect(explained.status).toBe('ACTIVE');
      expect(explained.openAppeals).toEqual([]);
      expect(explained.reasons.map((r: { code: string }) => r.code)).toEqual(['R_RISK_RESOLVED']);
      const appeal = (await me.get(`/v1/me/appeals/${appealId}?lang=en`)).json();
      expect(appeal).toMatchObject({ state: 'UPHELD' });
      expect(appeal.outcome.text).toMatch(/restored/);
      const done = (await client(t, analyst.key).get(`/v1/cases/${appealCaseId}`)).json();
      expect(done).toMatchObject({ state: 'RESOLVED', outcome: 'UPHELD', slaBreached: false });
      expect(Date.parse(done.resolvedAt)).toBeLessThanOrEqual(Date.parse(done.slaDueAt));
    });

    it('labels the alert a false positive and reports it in the stats', async () => {
      const alertCase = (
        await client(t, analyst.key).get(`/v1/cases?type=ALERT&borrowerId=${borrowerId}`)
      ).json().items[0];
      const res = await client(t, analyst.key).post(`/v1/cases/${alertCase.id}/resolve`, {
        outcome: 'FALSE_POSITIVE',
        note: 'same customer verified the transfer (appeal upheld)',
      });
      expect(res.statusCode, res.body).toBe(200);
      const stats = (await client(t, analyst.key).get('/v1/cases/stats')).json();
      expect(stats.byTypology.SCAM_SAFE_ACCOUNT_TRANSFER).toMatchObject({ alerts: 1, falsePositiveRate: 1 });
      const alert = (await client(t).get(`/v1/alerts?userId=${borrowerId}`)).json().items[0];
      expect(alert.status).toBe('CLOSED');
    });

    it('recorded every step, by person, in an intact ledger', async () => {
      const kinds = (
        await t.app.store.db.selectFrom('ledger_entries').select(['kind', 'payload']).orderBy('seq').execute()
      ).map((e) => e.kind);
      for (const kind of [
        'case.opened',
        'appeal.filed',
        'case.assigned',
        'change.proposed',
        'case.escalated_for_approval',
        'change.approved',
        'line.action',
        'appeal.decided',
        'case.resolved',
      ])
        expect(kinds, kind).toContain(kind);
      const approval = await t.app.store.db
        .selectFrom('ledger_entries')
        .select('payload')
        .where('kind', '=', 'change.approved')
        .executeTakeFirstOrThrow();
      expect(JSON.parse(approval.payload)).toMatchObject({
        maker: `user:${analyst.userId}`,
        checker: `user:${supervisor.userId}`,
      });
      expect((await verifyLedger(t.app.store.db)).ok).toBe(true);
    });
  });

async function waitFor(check: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const start = Date.now();
  while (Date.now() - start < timeoutMs) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error('condition not met in time');
}
