import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Store } from '../../src/store/db.js';
import type { RequestedLineAction } from '../../src/domain/decision.js';
import { STORE_FACTORIES } from '../helpers/stores.js';
import { ADULT, makeCore, openLine, residentId, type Harness } from './harness.js';

/**
 * A line-review strategy whose rules fire more than one limit cut for a line (two rules, or one rule with two cuts)
 * asks for several LIMIT_DECREASEs in one decision. The review job applied them all, one after another, under the same
 * decision: listed strictest first, the milder cut then asked for a limit above the one just set, which the state
 * machine refuses, and the line's whole review failed (an error, nothing written); listed mildest first, the line was
 * cut twice. One review decision now applies one cut per line, the strictest (the lowest limit), wherever the rules
 * list it, and the line's review succeeds.
 */
const LIMIT = 1_000_000;
const cut = (limitMinor: number, reason: string): RequestedLineAction => ({
  type: 'LIMIT_DECREASE',
  limitMinor,
  reasons: [reason],
});
const MILD = cut(800_000, 'R_UTILISATION_HIGH');
const MIDDLE = cut(650_000, 'R_INQUIRY_VELOCITY');
const STRICT = cut(500_000, 'R_LOAN_STACKING');

/** Every order of the three cuts. */
const ORDERS: readonly (readonly RequestedLineAction[])[] = [
  [MILD, MIDDLE, STRICT],
  [MILD, STRICT, MIDDLE],
  [MIDDLE, MILD, STRICT],
  [MIDDLE, STRICT, MILD],
  [STRICT, MILD, MIDDLE],
  [STRICT, MIDDLE, MILD],
];

for (const factory of STORE_FACTORIES)
  describe.skipIf(!factory.enabled)(`one limit cut per review decision (${factory.name})`, () => {
    let store: Store;
    let h: Harness;
    let seq = 400;
    beforeEach(async () => {
      store = await factory.open('review-one-cut');
      h = makeCore(store);
    });
    afterEach(async () => store.close());

    const newLine = () => openLine(h, LIMIT, { ...ADULT, nationalId: residentId('19850101', ++seq) });
    /** The review strategy asks for `actions` on lines of LIMIT, nothing elsewhere. */
    const reviewAsks = (actions: readonly RequestedLineAction[]) => {
      h.engine.script['line-review'] = (ctx) =>
        ctx.limitMinor === LIMIT
          ? { outcome: 'DECLINE', reasons: ['R_UTILISATION_HIGH'], actions: [...actions] }
          : { outcome: 'APPROVE' };
    };
    const actionsOf = (lineId: string) =>
      store.db
        .selectFrom('line_actions')
        .select(['type', 'outcome', 'trace_id', 'prev_limit_minor', 'new_limit_minor', 'reasons'])
        .where('line_id', '=', lineId)
        .where('actor', 'like', 'job:review:%')
        .orderBy('created_at')
        .orderBy('id')
        .execute();

    for (const order of ORDERS)
      it(`applies only the strictest cut, in order ${order.map((a) => a.limitMinor).join(' → ')}`, async () => {
        const lineId = await newLine();
        reviewAsks(order);
        const result = await h.core.runReviewJob(h.core.lenderToday());
        expect(result.errors).toEqual([]);
        expect(result.actions.filter((a) => a.lineId === lineId)).toMatchObject([
          { type: 'LIMIT_DECREASE', outcome: 'APPLIED', prevLimitMinor: LIMIT, newLimitMinor: 500_000 },
        ]);
        const rows = await actionsOf(lineId);
        expect(rows).toHaveLength(1);
        expect(rows[0]).toMatchObject({ type: 'LIMIT_DECREASE', new_limit_minor: 500_000 });
        // The cut carries the reasons of the rule that asked for it.
        expect(JSON.parse(rows[0]?.reasons ?? '[]')).toEqual(['R_LOAN_STACKING']);
        expect((await h.core.getLine(lineId)).limitMinor).toBe(500_000);
      });

    it('keeps the decision’s other actions, and one cut only even when the guard holds it', async () => {
      const lineId = await newLine();
      reviewAsks([STRICT, { type: 'FREEZE_DRAW', reasons: ['R_UTILISATION_HIGH'] }, MILD]);
      h.engine.guardCeiling = 0;
      try {
        const result = await h.core.runReviewJob(h.core.lenderToday());
        expect(result.errors).toEqual([]);
      } finally {
        h.engine.guardCeiling = Number.POSITIVE_INFINITY;
      }
      const rows = await actionsOf(lineId);
      expect(rows.map((r) => [r.type, r.outcome])).toEqual([
        ['LIMIT_DECREASE', 'REVIEW'],
        ['FREEZE_DRAW', 'REVIEW'],
      ]);
      // Held, the cut still names the limit it asked for: the strictest.
      const held = await store.db
        .selectFrom('line_actions')
        .select('requested_limit_minor')
        .where('line_id', '=', lineId)
        .where('type', '=', 'LIMIT_DECREASE')
        .executeTakeFirstOrThrow();
      expect(Number(held.requested_limit_minor)).toBe(500_000);
      expect(h.trips.filter((t) => t.lineId === lineId)).toHaveLength(2);
    });
  });
