import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ManualClock } from '../../src/domain/clock.js';
import { verifyLedger } from '../../src/compliance/ledger.js';
import { STRONG_APPLICANT, type TestApp } from '../helpers/app.js';
import { residentId } from '../core/harness.js';
import { DEMO_PRODUCTS } from '../../src/core/seed-lending.js';
import { blackList, CASE_STORES, client, person, startCaseApp, T0, type Person } from './helpers.js';

/**
 * Outcomes act through the core (issue 11 "Done when"): a REVIEW application approved by an analyst creates the line;
 * a COOLDOWN draw is released when the cooling-off ends; a held draw released on a line frozen meanwhile fails clearly;
 * a CHALLENGE result releases or cancels; illegal case transitions are 409.
 */
const COOLING_OFF_MS = 10 * 60_000;

for (const store of CASE_STORES)
  describe.skipIf(!store.enabled)(`case outcomes (${store.name})`, () => {
    let t: TestApp;
    let clock: ManualClock;
    let analyst: Person;
    let seq = 100;

    const apply = async (attributes: Record<string, unknown> = STRONG_APPLICANT) => {
      seq += 1;
      const res = await client(t).post('/v1/applications', {
        applicant: { name: '测试', nationalId: residentId('19850101', seq), phone: '13900001111' },
        attributes,
      });
      expect(res.statusCode, res.body).toBe(201);
      return res.json();
    };
    const draw = (lineId: string, amountMinor: number) =>
      client(t).post(`/v1/lines/${lineId}/draws`, {
        amountMinor,
        currency: 'CNY',
        termMonths: 6,
        method: 'EQUAL_INSTALLMENT',
      });
    const caseFor = async (type: string, subjectId: string) => {
      const list = (await client(t, analyst.key).get(`/v1/cases?type=${type}&limit=100`)).json();
      return list.items.find((c: { subjectId: string }) => c.subjectId === subjectId);
    };
    const callInProgress = (userId: string) =>
      client(t).post('/v1/events', {
        eventId: `call-${++seq}`,
        type: 'call_in_progress',
        occurredAt: new Date(clock.now()).toISOString(),
        userId,
      });

    beforeAll(async () => {
      ({ t, clock } = await startCaseApp({
        LINEGUARD_COOLING_OFF_MS: String(COOLING_OFF_MS),
        ...(await store.env()),
      }));
      analyst = await person(t, 'Wang Fang', 'analyst');
    });
    afterAll(async () => t?.close());

    it('opens a case for a REVIEW application; the analyst approves it and the line is granted', async () => {
      const referred = await apply({ ...STRONG_APPLICANT, inquiries30d: 4 });
      expect(referred.outcome).toBe('REVIEW');
      const opened = await caseFor('REVIEW_APPLICATION', referred.applicationId);
      expect(opened).toMatchObject({ state: 'OPEN', priority: 2 });
      expect(Date.parse(opened.slaDueAt) - T0).toBe(24 * 3_600_000);
      const me = client(t, analyst.key);
      expect((await me.post(`/v1/cases/${opened.id}/assign`, {})).json()).toMatchObject({
        state: 'ASSIGNED',
        assignee: analyst.userId,
      });
      const shown = (await me.get(`/v1/cases/${opened.id}`)).json();
      expect(shown.evidence.decision.trace).toBeDefined();
      expect(shown.evidence.decision.context).toMatchObject({ inquiries30d: 4 });
      // Hard rules still apply to a person: the APR cap and the borrower cap.
      const overRate = await me.post(`/v1/cases/${opened.id}/resolve`, {
        outcome: 'APPROVE',
        limitMinor: 1_000_000,
        annualRate: 0.3,
      });
      expect(overRate.statusCode).toBe(422);
      expect(overRate.json().error.code).toBe('LG_APR_CAP_EXCEEDED');
      const overCap = await me.post(`/v1/cases/${opened.id}/resolve`, {
        outcome: 'APPROVE',
        limitMinor: 900_000_000,
        annualRate: 0.18,
      });
      expect(overCap.json().error.code).toBe('LG_BORROWER_CAP_EXCEEDED');
      const missing = await me.post(`/v1/cases/${opened.id}/resolve`, { outcome: 'APPROVE' });
      expect(missing.json().error.code).toBe('LG_VALIDATION');
      const wrong = await me.post(`/v1/cases/${opened.id}/resolve`, { outcome: 'RELEASE' });
      expect(wrong.json().error.code).toBe('LG_CASE_OUTCOME_INVALID');
      const approved = await me.post(`/v1/cases/${opened.id}/resolve`, {
        outcome: 'APPROVE',
        limitMinor: 3_000_000,
        annualRate: 0.15,
        note: 'income verified by payslips',
      });
      expect(approved.statusCode, approved.body).toBe(200);
      const resolved = approved.json().case;
      expect(resolved).toMatchObject({
        state: 'RESOLVED',
        outcome: 'APPROVE',
        resolvedBy: `user:${analyst.userId}`,
      });
      const line = (await client(t).get(`/v1/lines/${resolved.outcomeDetail.lineId}`)).json();
      expect(line).toMatchObject({ status: 'ACTIVE', limitMinor: 3_000_000, annualRate: 0.15 });
      expect(line.recentActions[0]).toMatchObject({
        type: 'GRANT',
        automated: false,
        actor: `user:${analyst.userId}`,
      });
      // RESOLVED is final.
      const again = await me.post(`/v1/cases/${opened.id}/assign`, {});
      expect(again.statusCode).toBe(409);
      expect(again.json().error.code).toBe('LG_CASE_TRANSITION_ILLEGAL');
      expect(
        (await me.post(`/v1/cases/${opened.id}/resolve`, { outcome: 'DECLINE', reasons: ['R_SCORE_LOW'] }))
          .statusCode,
      ).toBe(409);
    });

    it("declines a referred application with a note: the note is sealed with the case's notes, never in clear in the ledger", async () => {
      const referred = await apply({ ...STRONG_APPLICANT, inquiries30d: 4 });
      const opened = await caseFor('REVIEW_APPLICATION', referred.applicationId);
      const me = client(t, analyst.key);
      await me.post(`/v1/cases/${opened.id}/assign`, {});
      const note = '申请人电话 13912345678 无人接听，资料不符';
      const declined = await me.post(`/v1/cases/${opened.id}/resolve`, {
        outcome: 'DECLINE',
        reasons: ['R_SCORE_LOW'],
        note,
      });
      expect(declined.statusCode, declined.body).toBe(200);
      const ledger = await t.app.store.db
        .selectFrom('ledger_entries')
        .select(['kind', 'payload'])
        .where('kind', 'in', ['application.reviewed', 'case.resolved'])
        .execute();
      // An entry cannot be erased: free text there (a phone number, here) would stay in clear for good.
      expect(ledger.some((e) => e.payload.includes('13912345678'))).toBe(false);
      const reviewed = ledger
        .map((e) => ({ kind: e.kind, payload: JSON.parse(e.payload) as Record<string, unknown> }))
        .find((e) => e.kind === 'application.reviewed' && e.payload.applicationId === referred.applicationId);
      expect(reviewed?.payload).toMatchObject({ outcome: 'DECLINE', reasons: ['R_SCORE_LOW'] });
      expect(reviewed?.payload).not.toHaveProperty('note');
      // The note is the case's, sealed at rest and proven by its resolved entry; a reader of the case sees it.
      const shown = (await me.get(`/v1/cases/${opened.id}`)).json();
      expect(JSON.stringify(shown)).toContain(note);
      const verified = await verifyLedger(t.app.store.db);
      expect(verified.ok).toBe(true);
    });

    it("approves a referred application under the product it asked for: the product's rate range, pinned on the line", async () => {
      const product = await client(t).post('/v1/products', {
        id: `review-flex-${++seq}`,
        ...DEMO_PRODUCTS[0]!.terms,
      });
      expect(product.statusCode, product.body).toBe(201);
      const productId = product.json().id as string;
      seq += 1;
      const referred = (
        await client(t).post('/v1/applications', {
          applicant: { name: '测试', nationalId: residentId('19850101', seq), phone: '13900001111' },
          attributes: { ...STRONG_APPLICANT, inquiries30d: 4 },
          productId,
        })
      ).json();
      expect(referred.outcome).toBe('REVIEW');
      const opened = await caseFor('REVIEW_APPLICATION', referred.applicationId);
      const approve = (annualRate: number) =>
        client(t, analyst.key).post(`/v1/cases/${opened.id}/resolve`, {
          outcome: 'APPROVE',
          limitMinor: 1_000_000,
          annualRate,
        });
      // Above the product's range (rateMax 0.1825): refused, not silently lent outside it.
      const dear = await approve(0.2);
      expect(dear.statusCode, dear.body).toBe(422);
      expect(dear.json().error.code).toBe('LG_PRODUCT_TERMS');
      const approved = await approve(0.15);
      expect(approved.statusCode, approved.body).toBe(200);
      const line = await t.app.store.db
        .selectFrom('credit_lines')
        .select(['product_id', 'annual_rate'])
        .where('id', '=', approved.json().case.outcomeDetail.lineId)
        .executeTakeFirstOrThrow();
      expect(line).toMatchObject({ product_id: productId, annual_rate: 0.15 });
    });

    it("refuses a person's decline or lower limit whose reasons do not say why, or that only automation gives", async () => {
      const referred = await apply({ ...STRONG_APPLICANT, inquiries30d: 4 });
      const opened = await caseFor('REVIEW_APPLICATION', referred.applicationId);
      for (const reasons of [
        ['R_ENGINE_ERROR', 'R_GOOD_REPAYMENT'],
        ['R_GOOD_REPAYMENT'],
        ['R_BLAST_RADIUS_GUARD'],
      ]) {
        const res = await client(t, analyst.key).post(`/v1/cases/${opened.id}/resolve`, {
          outcome: 'DECLINE',
          reasons,
        });
        expect(res.statusCode, `${reasons.join()} ${res.body}`).toBe(400);
        expect(res.json().error.code).toBe('LG_VALIDATION');
      }
      // An appeal upheld with a lower limit: the cut says why and can itself be appealed.
      const granted = await apply();
      const lineId = granted.line.id as string;
      const service = await person(t, `svc-${++seq}`, 'service');
      const frozen = await t.app.core.applyLineAction(lineId, {
        type: 'FREEZE_DRAW',
        reasons: ['R_UTILISATION_HIGH'],
        automated: false,
        actor: 'test',
      });
      const token = (await client(t, service.key).post(`/v1/borrowers/${granted.borrowerId}/tokens`)).json()
        .token as string;
      const appeal = (
        await client(t, token).post('/v1/me/appeals', { actionId: frozen.actionId, text: '请恢复额度' })
      ).json();
      const appealCase = await caseFor('APPEAL', appeal.id);
      const lower = Math.floor(granted.line.limitMinor / 10);
      const uphold = (extra: Record<string, unknown>) =>
        client(t, analyst.key).post(`/v1/cases/${appealCase.id}/resolve`, {
          outcome: 'UPHELD',
          textZh: '已恢复，额度调低。',
          textEn: 'Restored with a lower limit.',
          limitMinor: lower,
          ...extra,
        });
      const unexplained = await uphold({});
      expect(unexplained.statusCode, unexplained.body).toBe(400);
      expect(unexplained.json().error.code).toBe('LG_VALIDATION');
      expect((await uphold({ reasons: ['R_RISK_RESOLVED'] })).statusCode).toBe(400);
      const explained = await uphold({ reasons: ['R_UTILISATION_HIGH'] });
      expect(explained.statusCode, explained.body).toBe(200);
      const line = (await client(t).get(`/v1/lines/${lineId}`)).json();
      expect(line).toMatchObject({ status: 'ACTIVE', limitMinor: lower });
      const cut = line.recentActions.find((a: { type: string }) => a.type === 'LIMIT_DECREASE');
      expect(cut).toMatchObject({ reasons: ['R_UTILISATION_HIGH'], appealable: true });
    });

    it('releases a COOLDOWN draw when the cooling-off ends, and not before', async () => {
      const app = await apply();
      const lineId = app.line.id;
      expect((await draw(lineId, 100_000)).statusCode).toBe(201);
      const second = await draw(lineId, 100_000);
      expect(second.statusCode, second.body).toBe(202);
      expect(second.json().status).toBe('COOLDOWN');
      clock.advance(COOLING_OFF_MS - 1_000);
      await t.app.cases.runJobs();
      const before = await t.app.store.db
        .selectFrom('draws')
        .select(['status'])
        .where('id', '=', second.json().drawId)
        .executeTakeFirstOrThrow();
      expect(before.status).toBe('COOLDOWN');
      clock.advance(2_000);
      const jobs = await t.app.cases.runJobs();
      expect(jobs.cooldownsReleased).toBe(1);
      const after = await t.app.store.db
        .selectFrom('draws')
        .selectAll()
        .where('id', '=', second.json().drawId)
        .executeTakeFirstOrThrow();
      expect(after.status).toBe('APPROVED');
      const loan = (await client(t).get(`/v1/loans/${after.loan_id}`)).json();
      expect(
        loan.principalMinor ??
          loan.schedule.reduce((s: number, i: { principalMinor: number }) => s + i.principalMinor, 0),
      ).toBe(100_000);
      expect((await client(t).get(`/v1/lines/${lineId}`)).json().outstandingPrincipalMinor).toBe(200_000);
    });

    it('hands a cooling-off draw that no longer fits to a person instead of retrying it for ever', async () => {
      const app = await apply();
      const lineId = app.line.id;
      expect((await draw(lineId, 100_000)).statusCode).toBe(201);
      const cooling = (await draw(lineId, 100_000)).json();
      expect(cooling.status).toBe('COOLDOWN');
      // Meanwhile the limit is cut to what is already drawn: the held draw no longer fits.
      const cut = await client(t).post(`/v1/lines/${lineId}/actions`, {
        type: 'LIMIT_DECREASE',
        reasons: ['R_UTILISATION_HIGH'],
        limitMinor: 100_000,
      });
      expect(cut.statusCode, cut.body).toBe(201);
      clock.advance(COOLING_OFF_MS + 1_000);
      const jobs = await t.app.cases.runJobs();
      expect(jobs.cooldownsReleased).toBe(0);
      expect(jobs.cooldownsStopped).toBe(1);
      const held = await t.app.store.db
        .selectFrom('draws')
        .select(['status'])
        .where('id', '=', cooling.drawId)
        .executeTakeFirstOrThrow();
      expect(held.status).toBe('HOLD');
      // A person decides it, with the refusal in the trail; the next sweep leaves it alone.
      await t.app.cases.runJobs();
      expect((await caseFor('HELD_DRAW', cooling.drawId)).state).toBe('OPEN');
      const trail = await t.app.store.db
        .selectFrom('ledger_entries')
        .select(['payload'])
        .where('kind', '=', 'draw.cooldown_stopped')
        .execute();
      expect(
        trail.some((e) => e.payload.includes(cooling.drawId) && e.payload.includes('LG_INSUFFICIENT_CREDIT')),
      ).toBe(true);
    });

    it('lets the borrower cancel a cooling-off draw; another borrower gets 404', async () => {
      const a = await apply();
      const b = await apply();
      await draw(a.line.id, 100_000);
      const cooling = (await draw(a.line.id, 50_000)).json();
      expect(cooling.status).toBe('COOLDOWN');
      const tokenOf = async (borrowerId: string) => {
        const service = await person(t, `svc-${borrowerId.slice(-4)}`, 'service');
        return (await client(t, service.key).post(`/v1/borrowers/${borrowerId}/tokens`)).json()
          .token as string;
      };
      const other = await client(t, await tokenOf(b.borrowerId)).post(
        `/v1/me/draws/${cooling.drawId}/cancel`,
      );
      expect(other.statusCode).toBe(404);
      const own = await client(t, await tokenOf(a.borrowerId)).post(`/v1/me/draws/${cooling.drawId}/cancel`);
      expect(own.statusCode, own.body).toBe(200);
      expect(own.json().status).toBe('CANCELLED');
      clock.advance(COOLING_OFF_MS * 2);
      expect((await t.app.cases.runJobs()).cooldownsReleased).toBe(0);
    });

    it('fails a held draw released on a line frozen meanwhile, and the case says why', async () => {
      const app = await apply();
      await callInProgress(app.borrowerId);
      const held = await draw(app.line.id, 600_000);
      expect(held.json().status, held.body).toBe('HOLD');
      const opened = await caseFor('HELD_DRAW', held.json().drawId);
      expect(opened).toMatchObject({ state: 'OPEN', priority: 1 });
      expect(Date.parse(opened.slaDueAt) - clock.now()).toBe(30 * 60_000);
      const frozen = await client(t).post(`/v1/lines/${app.line.id}/actions`, {
        type: 'FREEZE_DRAW',
        reasons: ['R_ACCOUNT_TAKEOVER'],
      });
      expect(frozen.statusCode, frozen.body).toBe(201);
      const release = await client(t, analyst.key).post(`/v1/cases/${opened.id}/resolve`, {
        outcome: 'RELEASE',
      });
      expect(release.statusCode).toBe(409);
      expect(release.json().error.code).toBe('LG_LINE_FROZEN');
      const shown = (await client(t, analyst.key).get(`/v1/cases/${opened.id}`)).json();
      expect(shown.state).toBe('OPEN');
      expect(shown.outcomeDetail.failed.code).toBe('LG_LINE_FROZEN');
      expect(shown.notes.some((n: { text: string }) => n.text.includes('LG_LINE_FROZEN'))).toBe(true);
      const line = (await client(t).get(`/v1/lines/${app.line.id}`)).json();
      expect(line.outstandingPrincipalMinor).toBe(0);
      const cancelled = await client(t, analyst.key).post(`/v1/cases/${opened.id}/resolve`, {
        outcome: 'CANCEL',
      });
      expect(cancelled.json().case.state).toBe('RESOLVED');
    });

    it('re-checks the hard rules at release: a borrower black-listed while the draw was held is not paid out', async () => {
      seq += 1;
      const nationalId = residentId('19850101', seq + 500);
      const applied = await client(t).post('/v1/applications', {
        applicant: { name: '测试', nationalId, phone: '13900001112' },
        attributes: STRONG_APPLICANT,
      });
      expect(applied.statusCode, applied.body).toBe(201);
      const app = applied.json();
      await callInProgress(app.borrowerId);
      const held = await draw(app.line.id, 600_000);
      expect(held.json().status, held.body).toBe('HOLD');
      const opened = await caseFor('HELD_DRAW', held.json().drawId);
      await blackList(t, nationalId);
      const release = await client(t, analyst.key).post(`/v1/cases/${opened.id}/resolve`, {
        outcome: 'RELEASE',
      });
      expect(release.statusCode, release.body).toBe(422);
      expect(release.json().error).toMatchObject({
        code: 'LG_DRAW_DECLINED',
        details: { reasons: ['R_BLACKLIST'] },
      });
      const line = (await client(t).get(`/v1/lines/${app.line.id}`)).json();
      expect(line.outstandingPrincipalMinor).toBe(0);
    });

    it('takes the step-up result for a CHALLENGE draw: PASSED releases, FAILED cancels and opens a case', async () => {
      const first = await apply();
      await callInProgress(first.borrowerId);
      const challenged = (await draw(first.line.id, 100_000)).json();
      expect(challenged.status).toBe('CHALLENGE');
      const passed = await client(t).post(`/v1/draws/${challenged.drawId}/challenge`, { result: 'PASSED' });
      expect(passed.statusCode, passed.body).toBe(200);
      expect(passed.json()).toMatchObject({ status: 'APPROVED' });
      const twice = await client(t).post(`/v1/draws/${challenged.drawId}/challenge`, { result: 'PASSED' });
      expect(twice.json().error.code).toBe('LG_DRAW_NOT_HELD');
      const second = await apply();
      await callInProgress(second.borrowerId);
      const another = (await draw(second.line.id, 100_000)).json();
      const failed = await client(t).post(`/v1/draws/${another.drawId}/challenge`, { result: 'FAILED' });
      expect(failed.json()).toMatchObject({ status: 'CANCELLED' });
      expect((await caseFor('HELD_DRAW', another.drawId)).id).toBe(failed.json().caseId);
      const bad = await client(t).post(`/v1/draws/${another.drawId}/challenge`, { result: 'MAYBE' });
      expect(bad.statusCode).toBe(400);
    });

    it('escalates a case past its SLA once and counts the breach', async () => {
      const referred = await apply({ ...STRONG_APPLICANT, inquiries30d: 3 });
      const opened = await caseFor('REVIEW_APPLICATION', referred.applicationId);
      clock.advance(25 * 3_600_000);
      const jobs = await t.app.cases.runJobs();
      expect(jobs.slaBreached).toBeGreaterThanOrEqual(1);
      const shown = (await client(t, analyst.key).get(`/v1/cases/${opened.id}`)).json();
      expect(shown).toMatchObject({ state: 'ESCALATED', slaBreached: true });
      expect((await t.app.cases.runJobs()).slaBreached).toBe(0);
      expect(await t.app.metrics.getSingleMetricAsString('lineguard_case_sla_breaches_total')).toContain(
        'REVIEW_APPLICATION',
      );
      expect((await verifyLedger(t.app.store.db)).ok).toBe(true);
    });

    it('counts a breach once when two sweeps (two processes) find the same case due', async () => {
      const breaches = async () =>
        (await t.app.metrics.getSingleMetric('lineguard_case_sla_breaches_total')?.get())?.values.reduce(
          (sum, v) => sum + v.value,
          0,
        ) ?? 0;
      const referred = await apply({ ...STRONG_APPLICANT, inquiries30d: 3 });
      const opened = await caseFor('REVIEW_APPLICATION', referred.applicationId);
      clock.advance(25 * 3_600_000);
      const before = await breaches();
      // Both read the due cases before either escalates one; the second finds it breached under the lock.
      const sweeps = await Promise.all([t.app.cases.service.sweepSla(), t.app.cases.service.sweepSla()]);
      const named = sweeps.flatMap((s) => s.breached).filter((id) => id === opened.id);
      expect(named).toHaveLength(1);
      expect((await breaches()) - before).toBe(sweeps.flatMap((s) => s.breached).length);
    });
  });
