import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { caseRows } from '../../src/store/cases-rows.js';
import type { TestApp } from '../helpers/app.js';
import {
  APPEAL_CAST,
  applicants,
  CASE_STORES,
  client,
  lineWithToken,
  startCaseAppWith,
  type Person,
  UPHELD_TEXTS,
} from './helpers.js';

/**
 * A limit cut the blast-radius guard held (an automated decision's restriction past the guard's ceiling) waits for a
 * person, who applies it. The applied cut lost the decision that proposed it: it pointed at no decision, so an appeal
 * against that decision did not cover it (an uphold found no cut of the decision and left the limit cut), and the
 * ledger and the trace could not link the two. The applied action keeps the proposing decision's id (and the limit it
 * asked for); an appeal against the decision covers it and, upheld, undoes it.
 */

for (const store of CASE_STORES)
  describe.skipIf(!store.enabled)(`a held limit cut applied by a person (${store.name})`, () => {
    let t: TestApp;
    let analyst: Person;
    let service: Person;
    beforeAll(async () => {
      ({ t, analyst, service } = await startCaseAppWith(
        {
          ...(await store.env()),
          // A guard that admits no automated restriction at all: every one is held for a person.
          LINEGUARD_GUARD_MAX_FRACTION: '0',
          LINEGUARD_GUARD_MIN_PER_WINDOW: '0',
          // The restore back to the granted limit is past the raise threshold; a second person is not what is tested.
          LINEGUARD_FOUR_EYES: 'line.lift_fraud_restriction',
        },
        APPEAL_CAST,
      ));
    });
    afterAll(async () => t?.close());

    const applicant = applicants({ name: '周琳', born: '19870303', phone: '13900003333', after: 500 });
    const line = async (lineId: string) => (await client(t).get(`/v1/lines/${lineId}`)).json();

    /** A line whose decision asked for a cut to half its limit, held by the guard, and the case that holds it. */
    async function heldCut() {
      const opened = await lineWithToken(t, service.key, applicant());
      const limitMinor = opened.limitMinor;
      const held = await t.app.core.applyLineAction(opened.lineId, {
        type: 'LIMIT_DECREASE',
        limitMinor: limitMinor / 2,
        reasons: ['R_UTILISATION_HIGH'],
        automated: true,
        actor: 'job:review:2026-11-02',
        traceId: opened.decisionId,
      });
      expect(held).toMatchObject({ outcome: 'REVIEW', newLimitMinor: limitMinor });
      const cases = (
        await client(t, analyst.key).get(`/v1/cases?type=GUARD_HELD_ACTION&lineId=${opened.lineId}`)
      ).json();
      expect(cases.items).toHaveLength(1);
      return { ...opened, heldId: held.actionId, caseId: cases.items[0].id as string };
    }

    it('applies the cut it asked for under the decision that proposed it, in the line and the ledger', async () => {
      const h = await heldCut();
      const applied = await client(t, analyst.key).post(`/v1/cases/${h.caseId}/resolve`, {
        outcome: 'APPLY',
        note: 'utilisation confirmed',
      });
      expect(applied.statusCode, applied.body).toBe(200);
      const after = await line(h.lineId);
      expect(after.limitMinor).toBe(h.limitMinor / 2);
      expect(after.recentActions[0]).toMatchObject({
        type: 'LIMIT_DECREASE',
        outcome: 'APPLIED',
        automated: false,
        actor: `user:${analyst.userId}`,
        reasons: ['R_UTILISATION_HIGH'],
        traceId: h.decisionId,
      });
      const actionId = after.recentActions[0].id as string;
      const entry = (await caseRows.ledgerOf(t.app.store.db, h.lineId))
        .map((e) => ({ kind: e.kind, payload: JSON.parse(e.payload) as Record<string, unknown> }))
        .find((e) => e.kind === 'line.action' && e.payload.actionId === actionId);
      expect(entry?.payload).toMatchObject({ traceId: h.decisionId, automated: false });
    });

    it('an appeal against the decision covers the applied cut and, upheld, undoes it', async () => {
      const h = await heldCut();
      const applied = await client(t, analyst.key).post(`/v1/cases/${h.caseId}/resolve`, {
        outcome: 'APPLY',
      });
      expect(applied.statusCode, applied.body).toBe(200);
      const cutId = (await line(h.lineId)).recentActions[0].id as string;
      const filed = await client(t, h.token).post('/v1/me/appeals', {
        decisionId: h.decisionId,
        text: '请重新审核额度。',
      });
      expect(filed.statusCode, filed.body).toBe(201);
      // Covered: the cut itself cannot be appealed a second time while the decision's appeal is open.
      const again = await client(t, h.token).post('/v1/me/appeals', { actionId: cutId, text: '再次申诉。' });
      expect(again.statusCode, again.body).toBe(409);
      const caseId = (await client(t, analyst.key).get(`/v1/cases?type=APPEAL&lineId=${h.lineId}`)).json()
        .items[0].id as string;
      const upheld = await client(t, analyst.key).post(`/v1/cases/${caseId}/resolve`, {
        outcome: 'UPHELD',
        ...UPHELD_TEXTS,
      });
      expect(upheld.statusCode, upheld.body).toBe(200);
      expect(upheld.json().case.outcomeDetail.restored).toMatchObject({
        fromLimitMinor: h.limitMinor / 2,
        toLimitMinor: h.limitMinor,
        cuts: [{ cutActionId: cutId }],
      });
      expect((await line(h.lineId)).limitMinor).toBe(h.limitMinor);
    });
  });
