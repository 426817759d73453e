import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestApp } from '../helpers/app.js';
import { applicants, CASE_STORES, client, lineWithToken, startCaseAppWith, type Person } from './helpers.js';

/**
 * Whether a person's action can be appealed is the reason catalogue's word, not the person's: an action any of whose
 * reasons the catalogue makes appealable (a fraud freeze: the Anti-Telecom-Fraud Law Art. 32 gives the borrower a
 * way to contest it) cannot be marked appealable:false (400 LG_VALIDATION, details.field 'appealable').
 */
for (const store of CASE_STORES)
  describe.skipIf(!store.enabled)(`a person's action and the borrower's appeal (${store.name})`, () => {
    let t: TestApp;
    let service: Person;
    let risk: Person;
    beforeAll(async () => {
      ({ t, service, risk } = await startCaseAppWith(await store.env(), {
        service: ['lender-backend', 'service'],
        risk: ['Li Lei', 'risk_analyst'],
      }));
    });
    afterAll(async () => t?.close());
    const applicant = applicants({ name: '周杰', born: '19880808', phone: '13900004444', after: 900 });

    it('refuses appealable:false on a fraud freeze; the freeze taken without it can be appealed', async () => {
      const { lineId, token } = await lineWithToken(t, service.key, applicant());
      const refused = await client(t, risk.key).post(`/v1/lines/${lineId}/actions`, {
        type: 'FREEZE_DRAW',
        reasons: ['R_SCAM_TRANSFER_PATTERN'],
        appealable: false,
      });
      expect(refused.statusCode, refused.body).toBe(400);
      expect(refused.json().error.code).toBe('LG_VALIDATION');
      expect(refused.json().error.details).toMatchObject({ field: 'appealable' });
      expect((await client(t).get(`/v1/lines/${lineId}`)).json().status).toBe('ACTIVE');

      const frozen = await client(t, risk.key).post(`/v1/lines/${lineId}/actions`, {
        type: 'FREEZE_DRAW',
        reasons: ['R_SCAM_TRANSFER_PATTERN'],
      });
      expect(frozen.statusCode, frozen.body).toBe(201);
      const appeal = await client(t, token).post('/v1/me/appeals', {
        actionId: frozen.json().actionId,
        text: '我没有被骗，请解冻。',
      });
      expect(appeal.statusCode, appeal.body).toBe(201);
    });

    it('accepts appealable:true, and appealable:false where no reason is appealable', async () => {
      const { lineId } = await lineWithToken(t, service.key, applicant());
      const frozen = await client(t, risk.key).post(`/v1/lines/${lineId}/actions`, {
        type: 'FREEZE_DRAW',
        reasons: ['R_UTILISATION_HIGH'],
        appealable: true,
      });
      expect(frozen.statusCode, frozen.body).toBe(201);
      const raised = await client(t, risk.key).post(`/v1/lines/${lineId}/actions`, {
        type: 'UNFREEZE',
        reasons: ['R_RISK_RESOLVED'],
        appealable: false,
      });
      expect(raised.statusCode, raised.body).toBe(201);
    });

    it('refuses the appeal of a non-appealable action as following a legal requirement only when a reason does', async () => {
      const appealOf = async (reasons: string[]) => {
        const { lineId, token } = await lineWithToken(t, service.key, applicant());
        const cut = await client(t, risk.key).post(`/v1/lines/${lineId}/actions`, {
          type: 'LIMIT_DECREASE',
          reasons,
          limitMinor: 100_000,
          appealable: false,
        });
        expect(cut.statusCode, cut.body).toBe(201);
        const refused = await client(t, token).post('/v1/me/appeals', {
          actionId: cut.json().actionId,
          text: '请恢复我的额度。',
        });
        expect(refused.statusCode, refused.body).toBe(422);
        expect(refused.json().error.code).toBe('LG_APPEAL_NOT_ALLOWED');
        return refused.json().error.message as string;
      };
      // No reason rests on a law: no law is claimed, only that the action is not open to appeal.
      const plain = await appealOf(['R_INSUFFICIENT_CREDIT']);
      expect(plain).not.toMatch(/legal/i);
      expect(plain).toMatch(/cannot be appealed/);
      // The per-borrower cap is a legal requirement: said so.
      const legal = await appealOf(['R_BORROWER_CAP']);
      expect(legal).toMatch(/follows a legal requirement and cannot be appealed/);
    });
  });
