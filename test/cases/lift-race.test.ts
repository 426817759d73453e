import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STRONG_APPLICANT, type TestApp } from '../helpers/app.js';
import { residentId } from '../core/harness.js';
import { CASE_STORES, client, frozenLineWithToken, person, startCaseApp, type Person } from './helpers.js';

/**
 * Lifting a fraud restriction needs a second person. An appeal against a credit freeze is upheld while another
 * process suspends the same line for a fraud reason: whichever commits first, the uphold must not lift the fraud
 * suspension on one person's word. Here the suspension commits between the uphold's decision and its transaction.
 * (Each lift lifts its own restriction only: the uphold lifts the appealed freeze beneath the fraud suspension, which
 * stays, so it needs no second person; lifting the suspension itself does.)
 */
for (const store of CASE_STORES)
  describe.skipIf(!store.enabled)(`an upheld appeal racing a fraud suspension (${store.name})`, () => {
    let t: TestApp;
    let analyst: Person;
    let riskAnalyst: Person;
    let service: Person;
    beforeAll(async () => {
      ({ t } = await startCaseApp(await store.env()));
      analyst = await person(t, '周强', 'analyst');
      riskAnalyst = await person(t, '钱红', 'risk_analyst');
      service = await person(t, 'lender-backend', 'service');
    });
    afterAll(async () => t?.close());

    /**
     * The next transaction to start (with `keyedOnly`, the next one with an idempotency guard: a keyed write's) first
     * lets a fraud restriction of the line commit (a suspension unless told otherwise). Returns the function that puts
     * the store back.
     */
    const restrictBeforeNextTransaction = (
      lineId: string,
      keyedOnly: boolean,
      restriction: { type: 'SUSPEND' | 'FREEZE_DRAW'; reason: string } = {
        type: 'SUSPEND',
        reason: 'R_ACCOUNT_TAKEOVER',
      },
    ) => {
      const { store: db } = t.app;
      const transaction = db.transaction.bind(db);
      let armed = true;
      db.transaction = (async (...args: Parameters<typeof transaction>) => {
        if (armed && (!keyedOnly || args[1] !== undefined)) {
          armed = false;
          await t.app.core.applyLineAction(lineId, {
            type: restriction.type,
            reasons: [restriction.reason],
            automated: false,
            actor: 'fraud-team',
          });
        }
        return transaction(...args);
      }) as typeof db.transaction;
      return () => {
        db.transaction = transaction;
      };
    };

    /** A line opened for the given applicant through the service key. */
    const openLine = async (name: string, birth: string, seq: number, phone: string): Promise<string> => {
      const applied = (
        await client(t, service.key).post('/v1/applications', {
          applicant: { name, nationalId: residentId(birth, seq), phone },
          attributes: STRONG_APPLICANT,
        })
      ).json();
      return applied.line.id as string;
    };

    /** A person's UNFREEZE while `restriction` commits just before its transaction: proposed for a second person. */
    const unfreezeRacing = async (
      lineId: string,
      restriction?: Parameters<typeof restrictBeforeNextTransaction>[2],
    ) => {
      const restore = restrictBeforeNextTransaction(lineId, true, restriction);
      try {
        const lifted = await client(t, riskAnalyst.key).post(`/v1/lines/${lineId}/actions`, {
          type: 'UNFREEZE',
          reasons: ['R_RISK_RESOLVED'],
        });
        expect(lifted.statusCode, lifted.body).toBe(202);
        expect(lifted.json().pendingChange).toMatchObject({ operation: 'line.lift_fraud_restriction' });
      } finally {
        restore();
      }
    };

    it("proposes a person's UNFREEZE for a second person when the line was frozen for fraud after the four-eyes check", async () => {
      const lineId = await openLine('冯刚', '19860606', 666, '13900006666');
      // The gate reads an ACTIVE line (nothing to lift, nothing for fraud); the freeze commits before the action's
      // transaction, which must not then lift it on one person's word.
      await unfreezeRacing(lineId, { type: 'FREEZE_DRAW', reason: 'R_SCAM_TRANSFER_PATTERN' });
      expect((await client(t).get(`/v1/lines/${lineId}`)).json().status).toBe('DRAW_FROZEN');
    });

    it("a person's UNFREEZE racing a fraud suspension lifts only the freeze beneath it; lifting the suspension needs a second person", async () => {
      const lineId = await openLine('孙丽', '19840404', 444, '13900004444');
      await t.app.core.applyLineAction(lineId, {
        type: 'FREEZE_DRAW',
        reasons: ['R_UTILISATION_HIGH'],
        automated: false,
        actor: 'test',
      });
      // Under the line's lock the suspension for fraud is seen over the freeze. UNFREEZE lifts the freeze (no fraud
      // reason: one person's word is enough) and nothing else: the fraud suspension stays in force.
      const restore = restrictBeforeNextTransaction(lineId, true);
      try {
        const lifted = await client(t, riskAnalyst.key).post(`/v1/lines/${lineId}/actions`, {
          type: 'UNFREEZE',
          reasons: ['R_RISK_RESOLVED'],
        });
        expect(lifted.statusCode, lifted.body).toBe(201);
        expect(lifted.json()).toMatchObject({ prevStatus: 'SUSPENDED', newStatus: 'SUSPENDED' });
      } finally {
        restore();
      }
      expect((await client(t).get(`/v1/lines/${lineId}`)).json().status).toBe('SUSPENDED');
      // Lifting the fraud suspension is proposed for a second person.
      const again = await client(t, riskAnalyst.key).post(`/v1/lines/${lineId}/actions`, {
        type: 'REINSTATE',
        reasons: ['R_RISK_RESOLVED'],
      });
      expect(again.statusCode, again.body).toBe(202);
    });

    it('lifts only the appealed freeze, beneath the fraud suspension, which stays: no second person is needed', async () => {
      const { lineId, actionId, token } = await frozenLineWithToken(t, service.key, {
        name: '吴敏',
        nationalId: residentId('19830303', 333),
        phone: '13900003333',
      });
      const filed = await client(t, token).post('/v1/me/appeals', {
        actionId,
        text: '我的额度使用率已经降低了。',
      });
      expect(filed.statusCode, filed.body).toBe(201);
      const queue = (await client(t).get('/v1/cases?type=APPEAL')).json();
      const caseId = queue.items.find((c: { subjectId: string }) => c.subjectId === filed.json().id).id;

      // The next transaction to start is the uphold's: the suspension commits just before it.
      const restore = restrictBeforeNextTransaction(lineId, false);
      try {
        const resolved = await t.app.cases.service.resolve(
          caseId,
          { outcome: 'UPHELD', textZh: '已恢复。', textEn: 'Restored.', note: 'utilisation is down' },
          { actor: `user:${analyst.userId}`, keyId: analyst.keyId },
        );
        expect(resolved).toMatchObject({ state: 'RESOLVED' });
      } finally {
        restore();
      }
      const line = (await client(t).get(`/v1/lines/${lineId}`)).json();
      expect(line.status).toBe('SUSPENDED');
      expect(line.recentActions[0]).toMatchObject({ type: 'UNFREEZE', newStatus: 'SUSPENDED' });
      expect(line.recentActions[1]).toMatchObject({ type: 'SUSPEND', reasons: ['R_ACCOUNT_TAKEOVER'] });
    });

    it('an uphold whose freeze was lifted meanwhile does not lift the fraud suspension that raced in after it', async () => {
      const { lineId, actionId, token } = await frozenLineWithToken(t, service.key, {
        name: '郑洁',
        nationalId: residentId('19820202', 222),
        phone: '13900002222',
      });
      const filed = await client(t, token).post('/v1/me/appeals', { actionId, text: '请重新审核。' });
      expect(filed.statusCode, filed.body).toBe(201);
      const queue = (await client(t).get('/v1/cases?type=APPEAL')).json();
      const caseId = queue.items.find((c: { subjectId: string }) => c.subjectId === filed.json().id).id;
      await t.app.core.applyLineAction(lineId, {
        type: 'UNFREEZE',
        reasons: ['R_RISK_RESOLVED'],
        automated: false,
        actor: 'test',
      });
      // The fraud suspension commits just before the uphold's transaction: it is not the appeal's, and stays.
      const restore = restrictBeforeNextTransaction(lineId, false);
      try {
        const resolved = await t.app.cases.service.resolve(
          caseId,
          { outcome: 'UPHELD', textZh: '已恢复。', textEn: 'Restored.' },
          { actor: `user:${analyst.userId}`, keyId: analyst.keyId },
        );
        expect(resolved.state).toBe('RESOLVED');
        expect(resolved.case.outcomeDetail).toMatchObject({ restrictionInForce: expect.any(String) });
      } finally {
        restore();
      }
      const line = (await client(t).get(`/v1/lines/${lineId}`)).json();
      expect(line.status).toBe('SUSPENDED');
      expect(line.recentActions[0]).toMatchObject({ type: 'SUSPEND', reasons: ['R_ACCOUNT_TAKEOVER'] });
    });
  });
