import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestApp } from '../helpers/app.js';
import { caseRows } from '../../src/store/cases-rows.js';
import {
  APPEAL_CAST,
  applicants,
  CASE_STORES,
  client,
  lineWithToken,
  startCaseAppWith,
  type Person,
} from './helpers.js';

/**
 * An appeal's decision is read from the ledger alone. An uphold of an appeal whose freeze a person had meanwhile lifted
 * recorded { appealId, state, by, lineId } and a rejection { appealId, state }: what the appeal was against, whether it
 * still stood when decided, what was in force on the line instead, and (for a rejection) who decided, were nowhere in
 * the entry. The appeal.decided entry now names the target, the case, the borrower and the decider, what stood on the
 * line when the decision was taken (read under the line's lock, before it acted), and what an uphold lifted.
 */
const UPHOLD = { outcome: 'UPHELD', textZh: '申诉成立。', textEn: 'Your appeal is upheld.' };
const REJECT = { outcome: 'REJECTED', textZh: '维持原决定。', textEn: 'The action stands.' };
/** The keyed commitment to the outcome texts, which the appeal's row keeps sealed (compliance/sealed-cases.ts). */
const COMMITMENT = expect.stringMatching(/^[0-9a-f]{64}$/);

for (const store of CASE_STORES)
  describe.skipIf(!store.enabled)(`what an appeal's decision records (${store.name})`, () => {
    let t: TestApp;
    let analyst: Person;
    let service: Person;
    beforeAll(async () => ({ t, analyst, service } = await startCaseAppWith(await store.env(), APPEAL_CAST)));
    afterAll(async () => t?.close());

    const applicant = applicants({ name: '周敏', born: '19930404', phone: '13900004444', after: 500 });
    const openLine = () => lineWithToken(t, service.key, applicant());
    const act = async (lineId: string, type: string, extra: Record<string, unknown> = {}) =>
      (
        await t.app.core.applyLineAction(lineId, {
          type: type as 'FREEZE_DRAW',
          reasons: ['UNFREEZE', 'REINSTATE', 'LIMIT_INCREASE'].includes(type)
            ? ['R_RISK_RESOLVED']
            : ['R_UTILISATION_HIGH'],
          automated: false,
          actor: 'user:risk-officer',
          ...extra,
        })
      ).actionId;
    /** Files an appeal against `actionId` and returns it with its case. */
    const appealed = async (token: string, actionId: string) => {
      const filed = await client(t, token).post('/v1/me/appeals', { actionId, text: '请重新审核。' });
      expect(filed.statusCode, filed.body).toBe(201);
      const appealId = filed.json().id as string;
      const caseId = (await client(t, analyst.key).get('/v1/cases?type=APPEAL&limit=100'))
        .json()
        .items.find((c: { subjectId: string }) => c.subjectId === appealId).id as string;
      return { appealId, caseId };
    };
    const decide = async (caseId: string, body: Record<string, unknown>) => {
      const res = await client(t, analyst.key).post(`/v1/cases/${caseId}/resolve`, body);
      expect(res.statusCode, res.body).toBe(200);
    };
    /** The appeal.decided entry, from the ledger alone. */
    const decidedEntry = async (appealId: string) => {
      const entries = (await caseRows.ledgerOf(t.app.store.db, appealId)).filter(
        (e) => e.kind === 'appeal.decided',
      );
      expect(entries).toHaveLength(1);
      return JSON.parse(entries[0]?.payload ?? '{}') as Record<string, unknown>;
    };
    const analystActor = () => `user:${analyst.userId}`;

    it('an uphold of a freeze a person lifted meanwhile records the target, that it no longer stood, and nothing lifted', async () => {
      const { lineId, borrowerId, token } = await openLine();
      const freeze = await act(lineId, 'FREEZE_DRAW');
      const { appealId, caseId } = await appealed(token, freeze);
      await act(lineId, 'UNFREEZE');
      await decide(caseId, UPHOLD);
      expect(await decidedEntry(appealId)).toEqual({
        appealId,
        state: 'UPHELD',
        by: analystActor(),
        caseId,
        borrowerId,
        lineId,
        target: { kind: 'line_action', id: freeze },
        whenDecided: { lineStatus: 'ACTIVE', restrictionInForce: null, appealedStanding: [] },
        outcomeHmac: COMMITMENT,
        lifted: [],
        restrictionInForce: null,
      });
    });

    it('an uphold of a freeze beneath a newer suspension records both, the lift, and the suspension left in force', async () => {
      const { lineId, token } = await openLine();
      const freeze = await act(lineId, 'FREEZE_DRAW');
      const { appealId, caseId } = await appealed(token, freeze);
      const suspension = await act(lineId, 'SUSPEND');
      await decide(caseId, UPHOLD);
      const entry = await decidedEntry(appealId);
      const lift = (await client(t).get(`/v1/lines/${lineId}`)).json().recentActions[0];
      expect(lift.type).toBe('UNFREEZE');
      expect(entry).toMatchObject({
        target: { kind: 'line_action', id: freeze },
        whenDecided: { lineStatus: 'SUSPENDED', restrictionInForce: suspension, appealedStanding: [freeze] },
        lifted: [{ restrictionId: freeze, byActionId: lift.id }],
        restrictionInForce: suspension,
      });
    });

    it('a rejection records the target, the decider, and what stood on the line: lifted meanwhile, or in force', async () => {
      const one = await openLine();
      const lifted = await act(one.lineId, 'FREEZE_DRAW');
      const first = await appealed(one.token, lifted);
      await act(one.lineId, 'UNFREEZE');
      await decide(first.caseId, REJECT);
      expect(await decidedEntry(first.appealId)).toEqual({
        appealId: first.appealId,
        state: 'REJECTED',
        by: analystActor(),
        caseId: first.caseId,
        borrowerId: one.borrowerId,
        lineId: one.lineId,
        target: { kind: 'line_action', id: lifted },
        whenDecided: { lineStatus: 'ACTIVE', restrictionInForce: null, appealedStanding: [] },
        outcomeHmac: COMMITMENT,
      });

      const two = await openLine();
      const standing = await act(two.lineId, 'FREEZE_DRAW');
      const second = await appealed(two.token, standing);
      await decide(second.caseId, REJECT);
      expect(await decidedEntry(second.appealId)).toMatchObject({
        target: { kind: 'line_action', id: standing },
        whenDecided: {
          lineStatus: 'DRAW_FROZEN',
          restrictionInForce: standing,
          appealedStanding: [standing],
        },
      });
    });

    it('a decision on a limit cut raised back meanwhile records the cut and the limit change in force', async () => {
      const { lineId, token, limitMinor } = await openLine();
      const cut = await act(lineId, 'LIMIT_DECREASE', { limitMinor: limitMinor - 100_000 });
      const { appealId, caseId } = await appealed(token, cut);
      const raise = await act(lineId, 'LIMIT_INCREASE', { limitMinor });
      await decide(caseId, REJECT);
      expect(await decidedEntry(appealId)).toMatchObject({
        target: { kind: 'line_action', id: cut },
        whenDecided: {
          lineStatus: 'ACTIVE',
          restrictionInForce: null,
          appealedStanding: [],
          cut: { actionId: cut, limitChangeInForce: raise, limitMinor },
        },
      });
    });
  });
