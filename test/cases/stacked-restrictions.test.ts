import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LightMyRequestResponse } from 'fastify';
import type { TestApp } from '../helpers/app.js';
import { residentId } from '../core/harness.js';
import {
  CASE_STORES,
  client,
  lineWithToken,
  person,
  startCaseApp,
  type Person,
  UPHELD_TEXTS,
} from './helpers.js';

/**
 * Two restrictions can stand on a line at once: a suspension taken on a line whose draws were already frozen. Every
 * path that lifts one must lift it and no other — a person's REINSTATE or UNFREEZE, an upheld appeal, a REINSTATEMENT
 * case — and the second person needed to lift a fraud restriction is needed for the fraud restriction that is lifted,
 * wherever it stands (in force, or beneath a suspension).
 */

for (const store of CASE_STORES)
  describe.skipIf(!store.enabled)(`restrictions that stack, through people (${store.name})`, () => {
    let t: TestApp;
    let analyst: Person;
    let riskAnalyst: Person;
    let supervisor: Person;
    let service: Person;
    let seq = 300;

    beforeAll(async () => {
      ({ t } = await startCaseApp(await store.env()));
      analyst = await person(t, '王芳', 'analyst');
      riskAnalyst = await person(t, '钱红', 'risk_analyst');
      supervisor = await person(t, '赵敏', 'supervisor');
      service = await person(t, 'lender-backend', 'service');
    });
    afterAll(async () => t?.close());

    const openLine = () =>
      lineWithToken(t, service.key, {
        name: '孙伟',
        nationalId: residentId('19850505', ++seq),
        phone: '13900005555',
      });
    /** A restriction taken outside the four-eyes gate (the monitor, the review job, a collections officer). */
    const restrict = async (lineId: string, type: 'FREEZE_DRAW' | 'SUSPEND', reason: string) =>
      (
        await t.app.core.applyLineAction(lineId, {
          type,
          reasons: [reason],
          automated: false,
          actor: 'fraud-or-collections',
        })
      ).actionId;
    const lift = (lineId: string, type: 'UNFREEZE' | 'REINSTATE') =>
      client(t, riskAnalyst.key).post(`/v1/lines/${lineId}/actions`, { type, reasons: ['R_RISK_RESOLVED'] });
    const approve = async (res: LightMyRequestResponse) => {
      const approved = await client(t, supervisor.key).post(
        `/v1/changes/${res.json().pendingChange.id}/approve`,
        {},
      );
      expect(approved.statusCode, approved.body).toBe(200);
      return approved;
    };
    const line = async (lineId: string) => (await client(t).get(`/v1/lines/${lineId}`)).json();
    /** The restriction the borrower is told is in force (what the explanation names, and they may appeal). */
    const toldRestriction = async (lineId: string) => {
      const told = (await client(t).get(`/v1/lines/${lineId}/explanation?lang=en`)).json();
      return {
        id: told.specifics.action?.id as string | undefined,
        codes: told.reasons.map((r: { code: string }) => r.code),
      };
    };
    const appealCase = async (appealId: string) =>
      (await client(t, analyst.key).get('/v1/cases?type=APPEAL&limit=100'))
        .json()
        .items.find((c: { subjectId: string }) => c.subjectId === appealId);
    const fileAppeal = async (token: string, actionId: string) => {
      const filed = await client(t, token).post('/v1/me/appeals', { actionId, text: '请重新审核。' });
      expect(filed.statusCode, filed.body).toBe(201);
      return appealCase(filed.json().id as string);
    };
    const uphold = (caseId: string) =>
      client(t, analyst.key).post(`/v1/cases/${caseId}/resolve`, { outcome: 'UPHELD', ...UPHELD_TEXTS });

    it("a person's REINSTATE of a delinquency suspension over a fraud freeze lifts the suspension only; the freeze's UNFREEZE needs a second person", async () => {
      const { lineId } = await openLine();
      const freeze = await restrict(lineId, 'FREEZE_DRAW', 'R_SCAM_TRANSFER_PATTERN');
      await restrict(lineId, 'SUSPEND', 'R_DAYS_PAST_DUE');
      const reinstated = await lift(lineId, 'REINSTATE');
      expect(reinstated.statusCode, reinstated.body).toBe(201);
      expect(reinstated.json()).toMatchObject({ prevStatus: 'SUSPENDED', newStatus: 'DRAW_FROZEN' });
      expect(await toldRestriction(lineId)).toEqual({ id: freeze, codes: ['R_SCAM_TRANSFER_PATTERN'] });
      const unfrozen = await lift(lineId, 'UNFREEZE');
      expect(unfrozen.statusCode, unfrozen.body).toBe(202);
      expect(unfrozen.json().pendingChange).toMatchObject({ operation: 'line.lift_fraud_restriction' });
      expect((await line(lineId)).status).toBe('DRAW_FROZEN');
      await approve(unfrozen);
      expect((await line(lineId)).status).toBe('ACTIVE');
    });

    it("a person's UNFREEZE of a fraud freeze beneath a suspension needs a second person and, approved, leaves the suspension", async () => {
      const { lineId } = await openLine();
      await restrict(lineId, 'FREEZE_DRAW', 'R_ACCOUNT_TAKEOVER');
      const suspension = await restrict(lineId, 'SUSPEND', 'R_UTILISATION_HIGH');
      const unfrozen = await lift(lineId, 'UNFREEZE');
      expect(unfrozen.statusCode, unfrozen.body).toBe(202);
      expect(unfrozen.json().pendingChange).toMatchObject({ operation: 'line.lift_fraud_restriction' });
      await approve(unfrozen);
      const after = await line(lineId);
      expect(after.status).toBe('SUSPENDED');
      expect(after.recentActions[0]).toMatchObject({
        type: 'UNFREEZE',
        prevStatus: 'SUSPENDED',
        newStatus: 'SUSPENDED',
      });
      expect(await toldRestriction(lineId)).toEqual({ id: suspension, codes: ['R_UTILISATION_HIGH'] });
      // Nothing is beneath the suspension now: its REINSTATE (no fraud reason, one person) ends at ACTIVE.
      const reinstated = await lift(lineId, 'REINSTATE');
      expect(reinstated.statusCode, reinstated.body).toBe(201);
      expect(reinstated.json().newStatus).toBe('ACTIVE');
    });

    it('an upheld appeal against a suspension over a freeze lifts the suspension; the freeze is in force again', async () => {
      const { lineId, token } = await openLine();
      const freeze = await restrict(lineId, 'FREEZE_DRAW', 'R_UTILISATION_HIGH');
      const suspension = await restrict(lineId, 'SUSPEND', 'R_UTILISATION_HIGH');
      const appealed = await fileAppeal(token, suspension);
      const upheld = await uphold(appealed.id);
      expect(upheld.statusCode, upheld.body).toBe(200);
      expect(upheld.json().case.outcomeDetail).toMatchObject({
        restrictionInForce: freeze,
        actions: [{ outcome: 'APPLIED', newStatus: 'DRAW_FROZEN' }],
      });
      expect((await line(lineId)).status).toBe('DRAW_FROZEN');
      expect((await toldRestriction(lineId)).id).toBe(freeze);
    });

    it('an appeal against a freeze, upheld after a suspension was taken over it, lifts the freeze beneath; the suspension stays', async () => {
      const { lineId, token } = await openLine();
      const freeze = await restrict(lineId, 'FREEZE_DRAW', 'R_UTILISATION_HIGH');
      const appealed = await fileAppeal(token, freeze);
      const suspension = await restrict(lineId, 'SUSPEND', 'R_DAYS_PAST_DUE');
      const upheld = await uphold(appealed.id);
      expect(upheld.statusCode, upheld.body).toBe(200);
      expect(upheld.json().case.outcomeDetail).toMatchObject({
        restrictionInForce: suspension,
        actions: [{ outcome: 'APPLIED', newStatus: 'SUSPENDED' }],
      });
      const after = await line(lineId);
      expect(after.status).toBe('SUSPENDED');
      expect(after.recentActions[0]).toMatchObject({ type: 'UNFREEZE', prevStatus: 'SUSPENDED' });
      // The upheld freeze does not come back when the suspension is lifted.
      const reinstated = await lift(lineId, 'REINSTATE');
      expect(reinstated.statusCode, reinstated.body).toBe(201);
      expect(reinstated.json().newStatus).toBe('ACTIVE');
    });

    it('an appeal against a fraud freeze beneath a suspension is accepted; upheld, it needs a second person', async () => {
      const { lineId, token } = await openLine();
      const freeze = await restrict(lineId, 'FREEZE_DRAW', 'R_SCAM_TRANSFER_PATTERN');
      const suspension = await restrict(lineId, 'SUSPEND', 'R_UTILISATION_HIGH');
      const appealed = await fileAppeal(token, freeze);
      const upheld = await uphold(appealed.id);
      expect(upheld.statusCode, upheld.body).toBe(202);
      expect(upheld.json().pendingChange).toMatchObject({ operation: 'line.lift_fraud_restriction' });
      expect((await line(lineId)).status).toBe('SUSPENDED');
      await approve(upheld);
      expect((await line(lineId)).status).toBe('SUSPENDED');
      expect((await toldRestriction(lineId)).id).toBe(suspension);
      expect((await lift(lineId, 'REINSTATE')).json().newStatus).toBe('ACTIVE');
    });

    /** The borrower's alerts, disposed false positive (what lets the case queue reopen a fraud restriction). */
    const alertsClearedFor = async (borrowerId: string) => {
      const now = t.app.clock.now();
      await t.app.store.db
        .insertInto('cases')
        .values({
          id: `alert-case-${borrowerId}`,
          type: 'ALERT',
          priority: 2,
          state: 'RESOLVED',
          subject_id: `alert-${borrowerId}`,
          line_id: null,
          borrower_id: borrowerId,
          typology_id: 'safe_account_scam',
          rule_ids: '[]',
          assignee: null,
          sla_due_at: now,
          escalated_at: null,
          sla_breached: 0,
          created_at: now,
          updated_at: now,
          resolved_at: now,
          resolved_by: 'user:someone',
          outcome: 'FALSE_POSITIVE',
          outcome_detail: null,
        })
        .execute();
    };
    const reinstatementCases = async (lineId: string) =>
      (await client(t, analyst.key).get(`/v1/cases?type=REINSTATEMENT&lineId=${lineId}`)).json().items as {
        id: string;
        subjectId: string;
      }[];
    const reinstate = (caseId: string) =>
      client(t, analyst.key).post(`/v1/cases/${caseId}/resolve`, { outcome: 'REINSTATE', note: 'cleared' });

    it('a REINSTATEMENT case for a fraud freeze beneath a delinquency suspension is opened, and lifts the freeze only', async () => {
      const { lineId, borrowerId } = await openLine();
      const freeze = await restrict(lineId, 'FREEZE_DRAW', 'R_SCAM_TRANSFER_PATTERN');
      const suspension = await restrict(lineId, 'SUSPEND', 'R_DAYS_PAST_DUE');
      await alertsClearedFor(borrowerId);
      await t.app.cases.service.reviewRestrictions();
      const cases = await reinstatementCases(lineId);
      expect(cases.map((c) => c.subjectId)).toEqual([freeze]);
      const asked = await reinstate(cases[0]?.id ?? '');
      expect(asked.statusCode, asked.body).toBe(202);
      await approve(asked);
      expect((await line(lineId)).status).toBe('SUSPENDED');
      expect((await toldRestriction(lineId)).id).toBe(suspension);
    });

    it('a REINSTATEMENT case lifts its own restriction, not a suspension taken over it since', async () => {
      const { lineId, borrowerId } = await openLine();
      const freeze = await restrict(lineId, 'FREEZE_DRAW', 'R_SCAM_TRANSFER_PATTERN');
      await alertsClearedFor(borrowerId);
      await t.app.cases.service.reviewRestrictions();
      const [opened] = await reinstatementCases(lineId);
      expect(opened?.subjectId).toBe(freeze);
      const suspension = await restrict(lineId, 'SUSPEND', 'R_DAYS_PAST_DUE');
      const asked = await reinstate(opened?.id ?? '');
      expect(asked.statusCode, asked.body).toBe(202);
      await approve(asked);
      expect((await line(lineId)).status).toBe('SUSPENDED');
      expect((await toldRestriction(lineId)).id).toBe(suspension);
    });

    it('a REINSTATEMENT case whose restriction was lifted is refused (409) and lifts nothing that came after it', async () => {
      const { lineId, borrowerId } = await openLine();
      await restrict(lineId, 'FREEZE_DRAW', 'R_SCAM_TRANSFER_PATTERN');
      await alertsClearedFor(borrowerId);
      await t.app.cases.service.reviewRestrictions();
      const [opened] = await reinstatementCases(lineId);
      await t.app.core.applyLineAction(lineId, {
        type: 'UNFREEZE',
        reasons: ['R_RISK_RESOLVED'],
        automated: false,
        actor: 'user:fraud-lead',
      });
      const suspension = await restrict(lineId, 'SUSPEND', 'R_UTILISATION_HIGH');
      const asked = await reinstate(opened?.id ?? '');
      expect(asked.statusCode, asked.body).toBe(409);
      expect(asked.json().error).toMatchObject({
        code: 'LG_ILLEGAL_TRANSITION',
        details: { restrictionInForce: suspension },
      });
      expect((await line(lineId)).status).toBe('SUSPENDED');
    });
  });
