import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LineActionInput } from '../../src/core/index.js';
import type { TestApp } from '../helpers/app.js';
import {
  APPEAL_CAST,
  applicants,
  CASE_STORES,
  client,
  lineWithToken,
  MAKER_CHECKER_CAST,
  startCaseAppWith,
  type Person,
  UPHELD_TEXTS,
} from './helpers.js';

/**
 * An appeal against a decision that froze a line for fraud and cut its limit, upheld, lifts the freeze and restores
 * the limit: lifting a fraud restriction needs a second person, so the uphold waits as a pending change. The change
 * showed the checker the lift only (the operation's name): the limit restores the approval would also write were not
 * in it, so a checker approved raises they were never shown. The pending change now lists every line action the uphold
 * will perform — each lift, each restore with its limits — and the approval performs exactly those; if the line
 * changed meanwhile so that it would do something else, the approval is refused and the case goes back to its maker.
 */
const LIMIT = 1_000_000;

/** A line action as GET /v1/lines/{id} shows it. */
interface ActionSeen {
  readonly id: string;
  readonly type: string;
  readonly prevLimitMinor: number;
  readonly newLimitMinor: number;
  readonly note: string | null;
}

for (const store of CASE_STORES)
  describe.skipIf(!store.enabled)(
    `an uphold that waits for a second person lists what it does (${store.name})`,
    () => {
      let t: TestApp;
      let analyst: Person;
      let supervisor: Person;
      let service: Person;
      beforeAll(async () => {
        ({ t, analyst, supervisor, service } = await startCaseAppWith(
          {
            ...(await store.env()),
            LINEGUARD_FOUR_EYES: 'line.limit_increase,line.lift_fraud_restriction',
          },
          { ...MAKER_CHECKER_CAST, service: APPEAL_CAST.service },
        ));
      });
      afterAll(async () => t?.close());

      const applicant = applicants({ name: '郑洁', born: '19890909', phone: '13900009999', after: 700 });
      const line = async (lineId: string) => (await client(t).get(`/v1/lines/${lineId}`)).json();
      const act = (lineId: string, input: Omit<LineActionInput, 'automated'>) =>
        t.app.core.applyLineAction(lineId, { automated: false, actor: 'user:risk-officer', ...input });

      /**
       * A line the decision `decisionId` cut to 800,000, froze for a scam pattern, and cut again to 600,000; the
       * borrower's appeal against the decision, upheld by the analyst: proposed for a supervisor.
       */
      async function proposedUphold() {
        const opened = await lineWithToken(t, service.key, applicant());
        const limit = (await line(opened.lineId)).limitMinor as number;
        if (limit !== LIMIT)
          await act(opened.lineId, {
            type: limit < LIMIT ? 'LIMIT_INCREASE' : 'LIMIT_DECREASE',
            reasons: limit < LIMIT ? ['R_GOOD_REPAYMENT'] : ['R_UTILISATION_HIGH'],
            limitMinor: LIMIT,
          });
        const traceId = opened.decisionId;
        const cut = (limitMinor: number) =>
          act(opened.lineId, {
            type: 'LIMIT_DECREASE',
            reasons: ['R_UTILISATION_HIGH'],
            limitMinor,
            traceId,
          });
        const first = await cut(800_000);
        const freeze = await act(opened.lineId, {
          type: 'FREEZE_DRAW',
          reasons: ['R_SCAM_TRANSFER_PATTERN'],
          traceId,
        });
        const second = await cut(600_000);
        const filed = await client(t, opened.token).post('/v1/me/appeals', {
          decisionId: opened.decisionId,
          text: '转账是我本人操作的。',
        });
        expect(filed.statusCode, filed.body).toBe(201);
        const caseId = (
          await client(t, analyst.key).get(`/v1/cases?type=APPEAL&lineId=${opened.lineId}`)
        ).json().items[0].id as string;
        const proposed = await client(t, analyst.key).post(`/v1/cases/${caseId}/resolve`, {
          outcome: 'UPHELD',
          ...UPHELD_TEXTS,
        });
        expect(proposed.statusCode, proposed.body).toBe(202);
        return {
          ...opened,
          caseId,
          first: first.actionId,
          freeze: freeze.actionId,
          second: second.actionId,
          change: proposed.json().pendingChange,
        };
      }

      it('lists the lift and each restore, and the approval performs exactly those', async () => {
        const p = await proposedUphold();
        expect(p.change.operation).toBe('line.lift_fraud_restriction');
        const listed = p.change.diff.actions as Record<string, unknown>[];
        expect(listed).toEqual([
          { type: 'UNFREEZE', lifts: p.freeze },
          { type: 'LIMIT_INCREASE', restores: p.second, fromLimitMinor: 600_000, toLimitMinor: 800_000 },
          { type: 'LIMIT_INCREASE', restores: p.first, fromLimitMinor: 800_000, toLimitMinor: LIMIT },
        ]);
        // The checker reads it where they decide it: GET /v1/changes/{id}.
        const shown = (await client(t, supervisor.key).get(`/v1/changes/${p.change.id}`)).json();
        expect(shown.diff.actions).toEqual(listed);
        expect(await line(p.lineId)).toMatchObject({ status: 'DRAW_FROZEN', limitMinor: 600_000 });

        const approved = await client(t, supervisor.key).post(`/v1/changes/${p.change.id}/approve`, {});
        expect(approved.statusCode, approved.body).toBe(200);
        const after = await line(p.lineId);
        expect(after).toMatchObject({ status: 'ACTIVE', limitMinor: LIMIT });
        // What the approval wrote on the line, oldest first, in the listing's terms: the same actions, no more.
        const recent = after.recentActions as ActionSeen[];
        const performed = recent
          .slice(
            0,
            recent.findIndex((a) => a.id === p.second),
          )
          .reverse();
        const detail = approved.json().result;
        const liftedBy = new Map(
          (detail.lifts as { restrictionId: string; byActionId: string }[]).map((l) => [
            l.byActionId,
            l.restrictionId,
          ]),
        );
        const restoredBy = new Map(
          (detail.restored.cuts as { cutActionId: string; actionId: string }[]).map((c) => [
            c.actionId,
            c.cutActionId,
          ]),
        );
        expect(
          performed.map((a) =>
            a.type === 'LIMIT_INCREASE'
              ? {
                  type: a.type,
                  restores: restoredBy.get(a.id),
                  fromLimitMinor: a.prevLimitMinor,
                  toLimitMinor: a.newLimitMinor,
                }
              : { type: a.type, lifts: liftedBy.get(a.id) },
          ),
        ).toEqual(listed);
      });

      it('refuses the approval when the line changed so that the uphold would do other than it lists', async () => {
        const p = await proposedUphold();
        // A person cuts the line again meanwhile (not the appealed decision): no restore is possible above it now.
        const later = await act(p.lineId, {
          type: 'LIMIT_DECREASE',
          reasons: ['R_UTILISATION_HIGH'],
          limitMinor: 500_000,
        });
        const approved = await client(t, supervisor.key).post(`/v1/changes/${p.change.id}/approve`, {});
        expect(approved.statusCode, approved.body).toBe(409);
        expect(approved.json().error.code).toBe('LG_CONFLICT');
        // Nothing of the uphold was written: the line as the later cut left it, still frozen.
        const after = await line(p.lineId);
        expect(after).toMatchObject({ status: 'DRAW_FROZEN', limitMinor: 500_000 });
        expect((after.recentActions as ActionSeen[])[0]?.id).toBe(later.actionId);
        expect((await client(t, supervisor.key).get(`/v1/changes/${p.change.id}`)).json().state).toBe(
          'FAILED',
        );
        // The case is back with its maker, who can propose the uphold again as the line now stands.
        const back = (await client(t, analyst.key).get(`/v1/cases/${p.caseId}`)).json();
        expect(back).toMatchObject({ state: 'ASSIGNED', assignee: analyst.userId });
        const again = await client(t, analyst.key).post(`/v1/cases/${p.caseId}/resolve`, {
          outcome: 'UPHELD',
          ...UPHELD_TEXTS,
        });
        expect(again.statusCode, again.body).toBe(202);
        expect(again.json().pendingChange.diff.actions).toEqual([{ type: 'UNFREEZE', lifts: p.freeze }]);
      });
    },
  );
