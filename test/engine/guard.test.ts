import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/domain/clock.js';
import { compileStrategy } from '../../src/engine/compiler.js';
import {
  applyBlastRadiusGuard,
  createBlastRadiusGuard,
  type BlastRadiusTrip,
} from '../../src/engine/guard.js';
import { envOf } from '../helpers/engine.js';
import type { StrategyDocument } from '../../src/engine/types.js';

/** A deliberately bad review rule: it freezes every active line. */
const badReview: StrategyDocument = {
  id: 'line-review',
  inputs: [
    { name: 'lineStatus', type: 'string', required: true },
    { name: 'daysPastDue', type: 'integer' },
  ],
  nodes: [
    {
      id: 'oops',
      type: 'ruleSet',
      mode: 'first-hit',
      rules: [
        {
          id: 'FREEZE_ALL',
          when: "lineStatus == 'ACTIVE' or daysPastDue >= 0",
          reasons: ['R_DAYS_PAST_DUE'],
          actions: [{ type: 'FREEZE_DRAW' }],
        },
      ],
    },
  ],
};

describe('blast-radius guard', () => {
  it('stops a rule that freezes every line after 1% of the book, raising one alert', () => {
    const clock = new ManualClock(Date.UTC(2025, 5, 1));
    const trips: BlastRadiusTrip[] = [];
    const guard = createBlastRadiusGuard({
      maxFractionPerWindow: 0.01,
      windowMs: 3_600_000,
      clock,
      onTrip: (t) => trips.push(t),
    });
    const strategy = compileStrategy(badReview);
    const activeLines = 20_000;
    let frozen = 0;
    let review = 0;
    for (let i = 0; i < 2_000; i++) {
      clock.advance(100);
      const decision = applyBlastRadiusGuard(
        strategy.run({ lineStatus: 'ACTIVE', daysPastDue: 0 }, envOf()),
        guard,
        activeLines,
      );
      if (decision.actions.some((a) => a.type === 'FREEZE_DRAW')) frozen++;
      if (decision.outcome === 'REVIEW') {
        review++;
        expect(decision.reasons[0]).toBe('R_BLAST_RADIUS_GUARD');
        expect(decision.actions).toEqual([]);
      }
    }
    expect(frozen).toBe(200); // 1% of 20,000 per hour
    expect(review).toBe(1_800);
    expect(trips).toHaveLength(1);
    expect(trips[0]).toMatchObject({
      actionType: 'FREEZE_DRAW',
      ceiling: 200,
      admittedInWindow: 200,
      activeLineCount: activeLines,
    });
    expect(guard.status(activeLines)).toMatchObject({ admittedInWindow: 200, ceiling: 200 });
  });

  it('admits again once the window slides, and never limits non-restrictive actions', () => {
    const clock = new ManualClock(0);
    const trips: BlastRadiusTrip[] = [];
    const guard = createBlastRadiusGuard({
      maxFractionPerWindow: 0.01,
      windowMs: 60_000,
      minPerWindow: 2,
      clock,
      onTrip: (t) => trips.push(t),
    });
    expect(guard.admit('SUSPEND', 10)).toBe(true); // ceiling max(2, floor(0.1)) = 2
    expect(guard.admit('CLOSE', 10)).toBe(true);
    expect(guard.admit('LIMIT_DECREASE', 10)).toBe(false);
    expect(guard.admit('LIMIT_INCREASE', 10)).toBe(true);
    expect(guard.admit('UNFREEZE', 10)).toBe(true);
    clock.advance(60_001);
    expect(guard.admit('FREEZE_DRAW', 10)).toBe(true);
    expect(trips).toHaveLength(1);
  });

  it("counts the fleet's restrictions in the window when the caller passes them", () => {
    const clock = new ManualClock(0);
    const guard = createBlastRadiusGuard({
      maxFractionPerWindow: 0.01,
      windowMs: 60_000,
      minPerWindow: 3,
      clock,
    });
    expect(guard.windowMs).toBe(60_000);
    // Other instances already restricted 2 in the window: one more fits under 3, then none.
    expect(guard.admit('FREEZE_DRAW', 10, 2)).toBe(true);
    expect(guard.admit('FREEZE_DRAW', 10, 3)).toBe(false);
    // The larger count wins: this process's own admissions still count when the fleet's figure lags.
    expect(guard.admit('SUSPEND', 10, 0)).toBe(true);
    expect(guard.admit('SUSPEND', 10, 0)).toBe(true);
    expect(guard.admit('SUSPEND', 10, 0)).toBe(false);
  });
});
