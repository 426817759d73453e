import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LightMyRequestResponse } from 'fastify';
import { STRONG_APPLICANT, type TestApp } from '../helpers/app.js';
import { residentId } from '../core/harness.js';
import { CASE_STORES, client, person, startCaseApp, type Person } from './helpers.js';

/**
 * A person's line action that needs a second person (a raise to at least LINEGUARD_FOUR_EYES_LIMIT_MINOR) was proposed
 * (202) whether or not it could ever apply: a LIMIT_INCREASE to below the current limit waited for a checker, and
 * failed only once approved (409 LG_ILLEGAL_TRANSITION, the change FAILED). What can be judged when it is proposed is
 * judged then, with the code the direct path gives; nothing is proposed. The approval still judges it again.
 */
for (const store of CASE_STORES)
  describe.skipIf(!store.enabled)(`line actions judged before they are proposed (${store.name})`, () => {
    let t: TestApp;
    let riskAnalyst: Person;
    let supervisor: Person;
    let analyst: Person;
    let service: Person;
    let seq = 700;

    beforeAll(async () => {
      ({ t } = await startCaseApp(await store.env()));
      riskAnalyst = await person(t, '钱红', 'risk_analyst');
      supervisor = await person(t, '赵敏', 'supervisor');
      analyst = await person(t, '王芳', 'analyst');
      service = await person(t, 'lender-backend', 'service');
    });
    afterAll(async () => t?.close());

    const openLine = async (): Promise<{ lineId: string; limitMinor: number }> => {
      const applied = (
        await client(t).post('/v1/applications', {
          applicant: { name: '李娜', nationalId: residentId('19880808', ++seq), phone: '13900008888' },
          attributes: STRONG_APPLICANT,
        })
      ).json();
      return { lineId: applied.line.id as string, limitMinor: applied.line.limitMinor as number };
    };
    const act = (lineId: string, body: Record<string, unknown>) =>
      client(t, riskAnalyst.key).post(`/v1/lines/${lineId}/actions`, body);
    /** The changes proposed on the line and still waiting for a checker. */
    const pendingOn = async (lineId: string) =>
      (
        (await client(t, supervisor.key).get('/v1/changes?state=PENDING')).json().items as {
          subjectId: string;
        }[]
      ).filter((c) => c.subjectId === lineId);
    const expectRefused = async (res: LightMyRequestResponse, status: number, code: string) => {
      expect(res.statusCode, res.body).toBe(status);
      expect(res.json().error.code).toBe(code);
    };

    it('refuses a LIMIT_INCREASE to below the current limit before proposing it (409 LG_ILLEGAL_TRANSITION)', async () => {
      const { lineId, limitMinor } = await openLine();
      expect(limitMinor).toBeGreaterThan(6_000_000);
      const res = await act(lineId, {
        type: 'LIMIT_INCREASE',
        reasons: ['R_GOOD_REPAYMENT'],
        limitMinor: 6_000_000,
      });
      await expectRefused(res, 409, 'LG_ILLEGAL_TRANSITION');
      expect(res.json().error.message).toContain(`above the current ${limitMinor}`);
      expect(await pendingOn(lineId)).toEqual([]);
      expect((await client(t).get(`/v1/lines/${lineId}`)).json().limitMinor).toBe(limitMinor);
    });

    it('answers a LIMIT_DECREASE above the current limit with the same code, at once', async () => {
      const { lineId, limitMinor } = await openLine();
      const res = await act(lineId, {
        type: 'LIMIT_DECREASE',
        reasons: ['R_UTILISATION_HIGH'],
        limitMinor: limitMinor + 1_000_000,
      });
      await expectRefused(res, 409, 'LG_ILLEGAL_TRANSITION');
    });

    it('refuses a raise on a line that cannot take it, and a temporary limit that is no raise or has ended', async () => {
      const { lineId, limitMinor } = await openLine();
      await expectRefused(
        await act(lineId, { type: 'TEMP_LIMIT', reasons: ['R_GOOD_REPAYMENT'], limitMinor: limitMinor - 1 }),
        409,
        'LG_ILLEGAL_TRANSITION',
      );
      await expectRefused(
        await act(lineId, {
          type: 'TEMP_LIMIT',
          reasons: ['R_GOOD_REPAYMENT'],
          limitMinor: limitMinor + 100_000,
          tempUntil: new Date(t.app.clock.now() - 1000).toISOString(),
        }),
        409,
        'LG_ILLEGAL_TRANSITION',
      );
      await t.app.core.applyLineAction(lineId, {
        type: 'SUSPEND',
        reasons: ['R_UTILISATION_HIGH'],
        automated: false,
        actor: 'test',
      });
      await expectRefused(
        await act(lineId, {
          type: 'LIMIT_INCREASE',
          reasons: ['R_GOOD_REPAYMENT'],
          limitMinor: limitMinor + 1,
        }),
        409,
        'LG_ILLEGAL_TRANSITION',
      );
      expect(await pendingOn(lineId)).toEqual([]);
    });

    it('refuses a raise the per-borrower cap leaves no room for before proposing it (422 LG_BORROWER_CAP_EXCEEDED)', async () => {
      const { lineId } = await openLine();
      const cap = t.app.core.deps.config.borrowerCapMinor;
      await t.app.core.applyLineAction(lineId, {
        type: 'LIMIT_INCREASE',
        reasons: ['R_GOOD_REPAYMENT'],
        automated: false,
        actor: 'test',
        limitMinor: cap,
      });
      const res = await act(lineId, {
        type: 'LIMIT_INCREASE',
        reasons: ['R_GOOD_REPAYMENT'],
        limitMinor: cap + 1_000_000,
      });
      await expectRefused(res, 422, 'LG_BORROWER_CAP_EXCEEDED');
      expect(await pendingOn(lineId)).toEqual([]);
    });

    it('refuses an uphold that would lift a fraud freeze at a lower limit without reasons before proposing it (400)', async () => {
      const { lineId, limitMinor } = await openLine();
      const freeze = await t.app.core.applyLineAction(lineId, {
        type: 'FREEZE_DRAW',
        reasons: ['R_SCAM_TRANSFER_PATTERN'],
        automated: false,
        actor: 'fraud-team',
      });
      const borrowerId = (await client(t).get(`/v1/lines/${lineId}`)).json().borrower.id as string;
      const token = (
        await client(t, service.key).post(`/v1/borrowers/${borrowerId}/tokens`, { ttlSeconds: 900 })
      ).json().token as string;
      const filed = await client(t, token).post('/v1/me/appeals', {
        actionId: freeze.actionId,
        text: '不是诈骗。',
      });
      expect(filed.statusCode, filed.body).toBe(201);
      const caseId = (await client(t, supervisor.key).get('/v1/cases?type=APPEAL&limit=100'))
        .json()
        .items.find((c: { subjectId: string }) => c.subjectId === filed.json().id).id as string;
      const resolve = (body: Record<string, unknown>) =>
        client(t, analyst.key).post(`/v1/cases/${caseId}/resolve`, {
          outcome: 'UPHELD',
          textZh: '申诉成立。',
          textEn: 'Upheld.',
          ...body,
        });
      await expectRefused(await resolve({ limitMinor: limitMinor - 1_000_000 }), 400, 'LG_VALIDATION');
      expect(await pendingOn(caseId)).toEqual([]);
      // With reasons it is proposed, and approved it lifts the freeze at the lower limit.
      const asked = await resolve({ limitMinor: limitMinor - 1_000_000, reasons: ['R_UTILISATION_HIGH'] });
      expect(asked.statusCode, asked.body).toBe(202);
      const approved = await client(t, supervisor.key).post(
        `/v1/changes/${asked.json().pendingChange.id}/approve`,
        {},
      );
      expect(approved.statusCode, approved.body).toBe(200);
      expect((await client(t).get(`/v1/lines/${lineId}`)).json()).toMatchObject({
        status: 'ACTIVE',
        limitMinor: limitMinor - 1_000_000,
      });
    });

    it('still proposes a valid raise, and judges it again when approved (the line may have changed meanwhile)', async () => {
      const { lineId, limitMinor } = await openLine();
      const proposed = await act(lineId, {
        type: 'LIMIT_INCREASE',
        reasons: ['R_GOOD_REPAYMENT'],
        limitMinor: limitMinor + 1_000_000,
      });
      expect(proposed.statusCode, proposed.body).toBe(202);
      // Raised meanwhile past the proposed limit: the approval finds the raise is no longer one, and fails.
      await t.app.core.applyLineAction(lineId, {
        type: 'LIMIT_INCREASE',
        reasons: ['R_GOOD_REPAYMENT'],
        automated: false,
        actor: 'test',
        limitMinor: limitMinor + 2_000_000,
      });
      const approved = await client(t, supervisor.key).post(
        `/v1/changes/${proposed.json().pendingChange.id}/approve`,
        {},
      );
      await expectRefused(approved, 409, 'LG_ILLEGAL_TRANSITION');
      expect((await client(t).get(`/v1/lines/${lineId}`)).json().limitMinor).toBe(limitMinor + 2_000_000);
    });
  });
