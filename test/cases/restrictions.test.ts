import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ManualClock } from '../../src/domain/clock.js';
import { STRONG_APPLICANT, type TestApp } from '../helpers/app.js';
import { residentId } from '../core/harness.js';
import { client, person, startCaseApp, T0, type Person } from './helpers.js';

/** Restrictions are never permanent by neglect: `jobs review` re-decides SUSPENDED and DRAW_FROZEN lines (issue 11). */
const DAY = 86_400_000;
const dateOf = (ms: number) => new Date(ms).toISOString().slice(0, 10);

describe('restrictions re-decided by the review job', () => {
  let t: TestApp;
  let clock: ManualClock;
  let analyst: Person;
  let supervisor: Person;
  let seq = 500;

  const apply = async () =>
    (
      await client(t).post('/v1/applications', {
        applicant: { name: '测试', nationalId: residentId('19800101', ++seq), phone: '13900001111' },
        attributes: STRONG_APPLICANT,
      })
    ).json();

  beforeAll(async () => {
    ({ t, clock } = await startCaseApp());
    analyst = await person(t, 'analyst', 'analyst');
    supervisor = await person(t, 'supervisor', 'supervisor');
  });
  afterAll(async () => t?.close());

  it('lifts a delinquency suspension once the arrears are repaid in full', async () => {
    const app = await apply();
    const lineId = app.line.id as string;
    const loan = (
      await client(t).post(`/v1/lines/${lineId}/draws`, {
        amountMinor: 300_000,
        currency: 'CNY',
        termMonths: 6,
        method: 'EQUAL_INSTALLMENT',
      })
    ).json().loan;
    const late = T0 + 65 * DAY;
    clock.set(late);
    await t.app.core.runDailyJob(dateOf(late));
    const suspended = await t.app.core.runReviewJob(dateOf(late));
    expect(suspended.actions.find((a) => a.lineId === lineId)).toMatchObject({
      type: 'SUSPEND',
      outcome: 'APPLIED',
    });
    expect((await client(t).get(`/v1/lines/${lineId}`)).json().status).toBe('SUSPENDED');
    // Not yet repaid: the next review keeps it suspended.
    const kept = await t.app.core.runReviewJob(dateOf(late));
    expect(kept.restrictions?.reinstated.map((a) => a.lineId)).not.toContain(lineId);
    const view = (await client(t).get(`/v1/loans/${loan.id}`)).json();
    const overdue = view.schedule.filter((i: { dueDate: string }) => i.dueDate < dateOf(late));
    expect(overdue.length).toBe(2);
    const arrears = overdue.reduce((s: number, i: { outstandingMinor: number }) => s + i.outstandingMinor, 0);
    const paid = await client(t).post(`/v1/loans/${loan.id}/repayments`, {
      amountMinor: arrears,
      currency: 'CNY',
    });
    expect(paid.statusCode, paid.body).toBe(201);
    // Lifted only once the daily aging agrees the line is current (the review strategy reads that fact).
    expect(
      (await t.app.core.runReviewJob(dateOf(late))).restrictions?.reinstated.map((a) => a.lineId),
    ).not.toContain(lineId);
    await t.app.core.runDailyJob(dateOf(late));
    const lifted = await t.app.core.runReviewJob(dateOf(late));
    expect(lifted.restrictions?.reinstated.find((a) => a.lineId === lineId)).toMatchObject({
      type: 'REINSTATE',
      newStatus: 'ACTIVE',
      reasons: ['R_RISK_RESOLVED'],
    });
    const explanation = (await client(t).get(`/v1/lines/${lineId}/explanation?lang=zh`)).json();
    expect(explanation.status).toBe('ACTIVE');
    expect(explanation.reasons.map((r: { code: string }) => r.code)).toEqual(['R_RISK_RESOLVED']);
  });

  it('opens a reinstatement case for a fraud freeze whose alerts were false positives; lifting it needs a second person', async () => {
    const app = await apply();
    const lineId = app.line.id as string;
    const borrowerId = app.borrowerId as string;
    const drawn = await client(t).post(`/v1/lines/${lineId}/draws`, {
      amountMinor: 450_000,
      currency: 'CNY',
      termMonths: 6,
      method: 'EQUAL_INSTALLMENT',
    });
    expect(drawn.statusCode, drawn.body).toBe(201);
    await waitFor(async () =>
      Boolean(
        await t.app.store.db
          .selectFrom('monitor_events')
          .select('event_id')
          .where('type', '=', 'disbursement')
          .where('user_id', '=', borrowerId)
          .executeTakeFirst(),
      ),
    );
    clock.advance(60_000);
    const now = clock.now();
    const at = (minutes: number) => new Date(now + minutes * 60_000).toISOString();
    await client(t).post('/v1/events', {
      events: [
        {
          eventId: `c-${seq}`,
          type: 'call_in_progress',
          occurredAt: at(-10),
          userId: borrowerId,
          deviceId: 'd',
        },
        {
          eventId: `p-${seq}`,
          type: 'payee_added',
          occurredAt: at(-5),
          userId: borrowerId,
          payeeId: 'safe',
          payeeCreatedAt: at(-5),
          deviceId: 'd',
        },
        {
          eventId: `t-${seq}`,
          type: 'transfer_out',
          occurredAt: at(-1),
          userId: borrowerId,
          lineId,
          payeeId: 'safe',
          amount: 400_000,
          currency: 'CNY',
          deviceId: 'd',
        },
      ],
    });
    await waitFor(async () => (await client(t).get(`/v1/lines/${lineId}`)).json().status === 'DRAW_FROZEN');
    const review = () =>
      t.app.core.runReviewJob(dateOf(clock.now())) as Promise<{ reinstatementCasesOpened?: number }>;
    // The alert is still open: nothing is lifted (not even by the line-review strategy) and no case opens.
    expect((await review()).reinstatementCasesOpened).toBe(0);
    expect((await client(t).get(`/v1/lines/${lineId}`)).json().status).toBe('DRAW_FROZEN');
    const alertCases = (
      await client(t, analyst.key).get(`/v1/cases?type=ALERT&borrowerId=${borrowerId}`)
    ).json().items;
    expect(alertCases.length).toBeGreaterThan(0);
    for (const alertCase of alertCases)
      await client(t, analyst.key).post(`/v1/cases/${alertCase.id}/resolve`, {
        outcome: 'FALSE_POSITIVE',
        note: 'family transfer',
      });
    expect((await review()).reinstatementCasesOpened).toBe(1);
    expect((await review()).reinstatementCasesOpened).toBe(0);
    expect((await client(t).get(`/v1/lines/${lineId}`)).json().status).toBe('DRAW_FROZEN');
    const reinstatement = (
      await client(t, analyst.key).get(`/v1/cases?type=REINSTATEMENT&lineId=${lineId}`)
    ).json().items[0];
    expect(
      reinstatement.evidence ??
        (await client(t, analyst.key).get(`/v1/cases/${reinstatement.id}`)).json().evidence.restriction.type,
    ).toBe('FREEZE_DRAW');
    const asked = await client(t, analyst.key).post(`/v1/cases/${reinstatement.id}/resolve`, {
      outcome: 'REINSTATE',
      note: 'false positive',
    });
    expect(asked.statusCode).toBe(202);
    const change = asked.json().pendingChange;
    // A supervisor who made the change cannot check it; here the analyst made it and the supervisor checks.
    const approved = await client(t, supervisor.key).post(`/v1/changes/${change.id}/approve`, {});
    expect(approved.statusCode, approved.body).toBe(200);
    expect((await client(t).get(`/v1/lines/${lineId}`)).json().status).toBe('ACTIVE');
    expect((await client(t, analyst.key).get(`/v1/cases/${reinstatement.id}`)).json()).toMatchObject({
      state: 'RESOLVED',
      outcome: 'REINSTATE',
    });
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
