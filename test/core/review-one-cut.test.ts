import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Store } from '../../src/store/db.js';
import type { RequestedLineAction } from '../../src/domain/decision.js';
import { openDecisionResult } from '../../src/compliance/sealed-decisions.js';
import { STORE_FACTORIES } from '../helpers/stores.js';
import { readFileSync } from 'node:fs';
import { ADULT, coreWithBundledEngine, makeCore, openLine, residentId, type Harness } from './harness.js';

/**
 * A line-review strategy whose rules fire more than one limit cut for a line (two rules, or one rule with two cuts)
 * asks for several LIMIT_DECREASEs in one decision. The review job applied them all, one after another, under the same
 * decision: listed strictest first, the milder cut then asked for a limit above the one just set, which the state
 * machine refuses, and the line's whole review failed (an error, nothing written); listed mildest first, the line was
 * cut twice. One review decision now applies one cut per line, the strictest (the lowest limit), wherever the rules
 * list it, and the line's review succeeds.
 *
 * Raises had the same defect: two LIMIT_INCREASEs in one decision raised the line twice (the smaller listed first) or
 * failed its review (the larger first: the smaller is no raise then), and a raise beside a cut was applied too (the line
 * cut and raised under one decision, ending above where it was when the cut came first). One decision now applies one
 * limit change: the strictest cut if the rules ask for any (no raise, permanent or temporary, beside it), else the
 * smallest raise and the smallest temporary limit. The decision's record keeps every change the rules asked for.
 *
 * Rate changes too: three RATE_CHANGEs in one decision repriced the line three times (three actions, three notices to
 * the borrower), ending at whichever was listed last. One decision now applies one, the highest rate asked for.
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
const raise = (limitMinor: number, reason: string): RequestedLineAction => ({
  type: 'LIMIT_INCREASE',
  limitMinor,
  reasons: [reason],
});
const SMALL_RAISE = raise(1_100_000, 'R_GOOD_REPAYMENT');
const BIG_RAISE = raise(1_300_000, 'R_INCOME_GROWTH');
const TEMP_RAISE: RequestedLineAction = {
  type: 'TEMP_LIMIT',
  limitMinor: 1_500_000,
  reasons: ['R_GOOD_REPAYMENT'],
};

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
  describe.skipIf(!factory.enabled)(`one limit change per review decision (${factory.name})`, () => {
    let store: Store;
    let h: Harness;
    let seq = 400;
    beforeEach(async () => {
      store = await factory.open('review-one-cut');
      h = makeCore(store);
    });
    afterEach(async () => store.close());

    const newLine = (limitMinor = LIMIT) =>
      openLine(h, limitMinor, { ...ADULT, nationalId: residentId('19850101', ++seq) });
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

    /** What the review decision behind a line action asked for, as its record keeps it. */
    const proposedBy = async (traceId: string | null) => {
      const row = await store.db
        .selectFrom('decisions')
        .select(['kind', 'result'])
        .where('id', '=', traceId ?? '')
        .executeTakeFirstOrThrow();
      expect(row.kind).toBe('review');
      const result = openDecisionResult(h.deps.crypto, traceId ?? '', row.result).result;
      return (JSON.parse(result) as { actions: RequestedLineAction[] }).actions;
    };

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

    for (const order of [
      [SMALL_RAISE, BIG_RAISE],
      [BIG_RAISE, SMALL_RAISE],
    ])
      it(`applies only the smallest raise, in order ${order.map((a) => a.limitMinor).join(' → ')}`, async () => {
        const lineId = await newLine();
        reviewAsks(order);
        const result = await h.core.runReviewJob(h.core.lenderToday());
        expect(result.errors).toEqual([]);
        expect(result.actions.filter((a) => a.lineId === lineId)).toMatchObject([
          { type: 'LIMIT_INCREASE', outcome: 'APPLIED', prevLimitMinor: LIMIT, newLimitMinor: 1_100_000 },
        ]);
        const rows = await actionsOf(lineId);
        expect(rows).toHaveLength(1);
        expect(JSON.parse(rows[0]?.reasons ?? '[]')).toEqual(['R_GOOD_REPAYMENT']);
        expect((await h.core.getLine(lineId)).limitMinor).toBe(1_100_000);
        expect(await proposedBy(rows[0]?.trace_id ?? null)).toEqual(order);
      });

    for (const order of [
      [BIG_RAISE, MILD],
      [MILD, BIG_RAISE],
      [SMALL_RAISE, MILD, BIG_RAISE, STRICT],
      [STRICT, BIG_RAISE, MILD, SMALL_RAISE],
    ])
      it(`a cut beside raises wins and nothing is raised, in order ${order.map((a) => a.limitMinor).join(' → ')}`, async () => {
        const lineId = await newLine();
        reviewAsks(order);
        const strictest = Math.min(
          ...order.filter((a) => a.type === 'LIMIT_DECREASE').map((a) => a.limitMinor ?? 0),
        );
        const result = await h.core.runReviewJob(h.core.lenderToday());
        expect(result.errors).toEqual([]);
        expect(result.actions.filter((a) => a.lineId === lineId)).toMatchObject([
          { type: 'LIMIT_DECREASE', outcome: 'APPLIED', prevLimitMinor: LIMIT, newLimitMinor: strictest },
        ]);
        const rows = await actionsOf(lineId);
        expect(rows.map((r) => [r.type, Number(r.prev_limit_minor), Number(r.new_limit_minor)])).toEqual([
          ['LIMIT_DECREASE', LIMIT, strictest],
        ]);
        expect((await h.core.getLine(lineId)).limitMinor).toBe(strictest);
        expect(await proposedBy(rows[0]?.trace_id ?? null)).toEqual(order);
      });

    for (const order of [
      [TEMP_RAISE, MILD],
      [MILD, TEMP_RAISE],
    ])
      it(`a cut beside a temporary raise wins and no temporary limit is set, in order ${order.map((a) => a.type).join(' → ')}`, async () => {
        const lineId = await newLine();
        reviewAsks(order);
        expect((await h.core.runReviewJob(h.core.lenderToday())).errors).toEqual([]);
        const rows = await actionsOf(lineId);
        expect(rows.map((r) => [r.type, r.outcome, Number(r.new_limit_minor)])).toEqual([
          ['LIMIT_DECREASE', 'APPLIED', 800_000],
        ]);
        expect((await h.core.getLine(lineId)).limitMinor).toBe(800_000);
      });

    it('two temporary raises: only the smaller is set', async () => {
      const lineId = await newLine();
      reviewAsks([TEMP_RAISE, { ...TEMP_RAISE, limitMinor: 1_200_000 }]);
      expect((await h.core.runReviewJob(h.core.lenderToday())).errors).toEqual([]);
      const rows = await actionsOf(lineId);
      expect(rows.map((r) => [r.type, r.outcome, Number(r.new_limit_minor)])).toEqual([
        ['TEMP_LIMIT', 'APPLIED', 1_200_000],
      ]);
    });

    const rate = (annualRate: number, reason: string): RequestedLineAction => ({
      type: 'RATE_CHANGE',
      annualRate,
      reasons: [reason],
    });
    for (const order of [
      [rate(0.12, 'R_GOOD_REPAYMENT'), rate(0.2, 'R_LOAN_STACKING'), rate(0.15, 'R_INQUIRY_VELOCITY')],
      [rate(0.2, 'R_LOAN_STACKING'), rate(0.15, 'R_INQUIRY_VELOCITY'), rate(0.12, 'R_GOOD_REPAYMENT')],
    ])
      it(`three rate changes: only the highest rate is set, in order ${order.map((a) => a.annualRate).join(' → ')}`, async () => {
        const lineId = await newLine();
        reviewAsks(order);
        expect((await h.core.runReviewJob(h.core.lenderToday())).errors).toEqual([]);
        const rows = await actionsOf(lineId);
        expect(rows.map((r) => [r.type, r.outcome, JSON.parse(r.reasons) as unknown])).toEqual([
          ['RATE_CHANGE', 'APPLIED', ['R_LOAN_STACKING']],
        ]);
        expect((await h.core.getLine(lineId)).annualRate).toBe(0.2);
      });

    it('a temporary limit no higher than the raise beside it is dropped, and the raise applied', async () => {
      const lineId = await newLine();
      reviewAsks([{ ...TEMP_RAISE, limitMinor: 1_050_000 }, SMALL_RAISE]);
      expect((await h.core.runReviewJob(h.core.lenderToday())).errors).toEqual([]);
      const rows = await actionsOf(lineId);
      expect(rows.map((r) => [r.type, r.outcome, Number(r.new_limit_minor)])).toEqual([
        ['LIMIT_INCREASE', 'APPLIED', 1_100_000],
      ]);
    });

    it('a cut the guard holds still wins over a raise: the line is neither cut nor raised', async () => {
      const lineId = await newLine();
      reviewAsks([SMALL_RAISE, MILD]);
      h.engine.guardCeiling = 0;
      try {
        expect((await h.core.runReviewJob(h.core.lenderToday())).errors).toEqual([]);
      } finally {
        h.engine.guardCeiling = Number.POSITIVE_INFINITY;
      }
      const rows = await actionsOf(lineId);
      expect(rows.map((r) => [r.type, r.outcome])).toEqual([['LIMIT_DECREASE', 'REVIEW']]);
      expect((await h.core.getLine(lineId)).limitMinor).toBe(LIMIT);
    });

    it('the real engine: rules that each ask a raise, or a raise and a cut, change the limit once', async () => {
      // Rules of a strategy document (an `all` rule set before the bundled behaviour node) each propose a change: two
      // raises of the line at 1,000,000, a raise and a cut of the line at 2,000,000.
      const { core, engine } = await coreWithBundledEngine(store, h);
      const bundled = JSON.parse(readFileSync('strategies/line-review.json', 'utf8')) as {
        nodes: Record<string, unknown>[];
      };
      bundled.nodes.unshift({
        id: 'proposals',
        type: 'ruleSet',
        mode: 'all',
        next: 'behaviour',
        rules: [
          {
            id: 'GROWTH_RAISE',
            when: "limitMinor == 1000000 and lineStatus == 'ACTIVE'",
            reasons: ['R_INCOME_GROWTH'],
            actions: [{ type: 'LIMIT_INCREASE', limit: 'limitMinor * 1.5' }],
          },
          {
            id: 'TENURE_RAISE',
            when: "limitMinor in [1000000, 2000000] and lineStatus == 'ACTIVE'",
            reasons: ['R_GOOD_REPAYMENT'],
            actions: [{ type: 'LIMIT_INCREASE', limit: 'limitMinor * 1.2' }],
          },
          {
            id: 'UTILISATION_CUT',
            when: "limitMinor == 2000000 and lineStatus == 'ACTIVE'",
            reasons: ['R_UTILISATION_HIGH'],
            actions: [{ type: 'LIMIT_DECREASE', limit: 'limitMinor * 0.8' }],
          },
        ],
      });
      const saved = await engine.saveVersion(bundled, 'user:risk-officer');
      await engine.activate('line-review', saved.version, 'user:risk-officer');
      const twoRaises = await newLine(1_000_000);
      const raiseAndCut = await newLine(2_000_000);
      const result = await core.runReviewJob(h.core.lenderToday());
      expect(result.errors).toEqual([]);
      const rowsOf = async (lineId: string) =>
        (await actionsOf(lineId)).map((r) => [r.type, Number(r.prev_limit_minor), Number(r.new_limit_minor)]);
      expect(await rowsOf(twoRaises)).toEqual([['LIMIT_INCREASE', 1_000_000, 1_200_000]]);
      expect(await rowsOf(raiseAndCut)).toEqual([['LIMIT_DECREASE', 2_000_000, 1_600_000]]);
      const asked = async (lineId: string) =>
        (await proposedBy((await actionsOf(lineId))[0]?.trace_id ?? null)).map((a) => [a.type, a.limitMinor]);
      expect(await asked(twoRaises)).toEqual([
        ['LIMIT_INCREASE', 1_500_000],
        ['LIMIT_INCREASE', 1_200_000],
      ]);
      expect(await asked(raiseAndCut)).toEqual([
        ['LIMIT_INCREASE', 2_400_000],
        ['LIMIT_DECREASE', 1_600_000],
      ]);
    });
  });
