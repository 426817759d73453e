import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { LINE_ACTION_TYPES, type LineActionType } from './decision.js';
import { LgError } from './errors.js';
import {
  applyLineAction,
  availableMinor,
  drawFrom,
  expireTempLimit,
  isActionAllowed,
  LINE_STATES,
  lineInvariantViolations,
  newPendingLine,
  repayPrincipal,
  type LineState,
} from './line.js';

const NOW = Date.UTC(2025, 0, 1);

function granted(limit = 1_000_000, rate = 0.18): LineState {
  return applyLineAction(newPendingLine(), { type: 'GRANT', limitMinor: limit, annualRate: rate }, NOW).state;
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (error) {
    return error instanceof LgError ? error.code : 'NOT_LG';
  }
}

describe('line state machine', () => {
  it('grants a pending line', () => {
    const line = granted();
    expect(line).toMatchObject({ status: 'ACTIVE', limitMinor: 1_000_000, annualRate: 0.18 });
  });

  it('names the state and the action on an illegal transition', () => {
    const closed = applyLineAction(granted(), { type: 'CLOSE' }, NOW).state;
    try {
      applyLineAction(closed, { type: 'UNFREEZE' }, NOW);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(LgError);
      const lg = error as LgError;
      expect(lg.code).toBe('LG_ILLEGAL_TRANSITION');
      expect(lg.message).toContain('CLOSED');
      expect(lg.message).toContain('UNFREEZE');
      expect(lg.details).toEqual({ state: 'CLOSED', action: 'UNFREEZE' });
    }
  });

  it('freezes, unfreezes, suspends, reinstates, closes and revokes', () => {
    let line = granted();
    line = applyLineAction(line, { type: 'FREEZE_DRAW' }, NOW).state;
    expect(line.status).toBe('DRAW_FROZEN');
    expect(codeOf(() => drawFrom(line, 1))).toBe('LG_LINE_FROZEN');
    line = applyLineAction(line, { type: 'UNFREEZE' }, NOW).state;
    line = applyLineAction(line, { type: 'SUSPEND' }, NOW).state;
    expect(codeOf(() => drawFrom(line, 1))).toBe('LG_LINE_SUSPENDED');
    line = applyLineAction(line, { type: 'REINSTATE' }, NOW).state;
    expect(line.status).toBe('ACTIVE');
    const revoked = applyLineAction(line, { type: 'CLOSE', revoke: true }, NOW).state;
    expect(revoked.status).toBe('REVOKED');
    expect(codeOf(() => drawFrom(revoked, 1))).toBe('LG_LINE_CLOSED');
  });

  it('available is what a draw could take: the room on an ACTIVE line, 0 on a line that lends nothing', () => {
    const drawn = drawFrom(granted(1_000_000), 300_000);
    expect(availableMinor(drawn)).toBe(700_000);
    for (const status of LINE_STATES) {
      const line = { ...drawn, status };
      // The rule and the draw's hard rule agree: available is 0 exactly where a draw is refused for the status.
      expect(availableMinor(line), status).toBe(status === 'ACTIVE' ? 700_000 : 0);
      expect(codeOf(() => drawFrom(line, 1)) === undefined, status).toBe(status === 'ACTIVE');
      // The limit itself is kept.
      expect(line.limitMinor).toBe(1_000_000);
    }
  });

  it('each lift lifts its own restriction: a freeze beneath a suspension outlasts REINSTATE, and UNFREEZE lifts it alone', () => {
    const suspended = applyLineAction(
      applyLineAction(granted(), { type: 'FREEZE_DRAW' }, NOW).state,
      { type: 'SUSPEND' },
      NOW,
    ).state;
    expect(applyLineAction(suspended, { type: 'REINSTATE', freezeBeneath: true }, NOW).state.status).toBe(
      'DRAW_FROZEN',
    );
    expect(applyLineAction(suspended, { type: 'UNFREEZE', freezeBeneath: true }, NOW).state).toEqual(
      suspended,
    );
    expect(applyLineAction(suspended, { type: 'REINSTATE' }, NOW).state.status).toBe('ACTIVE');
    expect(codeOf(() => applyLineAction(suspended, { type: 'UNFREEZE' }, NOW))).toBe('LG_ILLEGAL_TRANSITION');
  });

  it('a limit cut stops at the outstanding balance', () => {
    const drawn = drawFrom(granted(1_000_000), 600_000);
    const result = applyLineAction(drawn, { type: 'LIMIT_DECREASE', limitMinor: 100_000 }, NOW);
    expect(result.clipped).toBe(true);
    expect(result.state.limitMinor).toBe(600_000);
    expect(availableMinor(result.state)).toBe(0);
  });

  it('a temporary limit expires back to the permanent one', () => {
    const temp = applyLineAction(granted(100_000), { type: 'TEMP_LIMIT', limitMinor: 300_000 }, NOW).state;
    expect(temp.limitMinor).toBe(300_000);
    expect(expireTempLimit(temp, NOW + 1000)).toBe(temp);
    const drawn = drawFrom(temp, 250_000);
    const after = expireTempLimit(drawn, NOW + 31 * 86_400_000);
    expect(after.limitMinor).toBe(250_000);
    expect(after.tempLimitUntil).toBeNull();
    expect(lineInvariantViolations(after)).toEqual([]);
  });

  it('refuses over-draws and over-repayments', () => {
    const line = granted(1000);
    expect(codeOf(() => drawFrom(line, 1001))).toBe('LG_INSUFFICIENT_CREDIT');
    expect(codeOf(() => repayPrincipal(drawFrom(line, 10), 11))).toBe('LG_OVERPAYMENT');
  });

  type Step =
    | { kind: 'action'; type: LineActionType; limitMinor: number; annualRate: number; revoke: boolean }
    | { kind: 'draw'; amount: number }
    | { kind: 'repay'; amount: number }
    | { kind: 'tick'; days: number };

  const step: fc.Arbitrary<Step> = fc.oneof(
    fc.record({
      kind: fc.constant('action' as const),
      type: fc.constantFrom(...LINE_ACTION_TYPES),
      limitMinor: fc.integer({ min: -10, max: 2_000_000 }),
      annualRate: fc.double({ min: -0.1, max: 1.2, noNaN: true }),
      revoke: fc.boolean(),
    }),
    fc.record({ kind: fc.constant('draw' as const), amount: fc.integer({ min: -5, max: 1_500_000 }) }),
    fc.record({ kind: fc.constant('repay' as const), amount: fc.integer({ min: -5, max: 1_500_000 }) }),
    fc.record({ kind: fc.constant('tick' as const), days: fc.integer({ min: 0, max: 60 }) }),
  );

  it('random action sequences never reach an illegal state nor let outstanding exceed the limit', () => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 60 }), (steps) => {
        let state = newPendingLine();
        let now = NOW;
        for (const s of steps) {
          const before = state;
          try {
            if (s.kind === 'action') {
              const allowed = isActionAllowed(state.status, s.type);
              state = applyLineAction(state, s, now).state;
              expect(allowed).toBe(true);
            } else if (s.kind === 'draw') state = drawFrom(state, s.amount);
            else if (s.kind === 'repay') state = repayPrincipal(state, s.amount);
            else {
              now += s.days * 86_400_000;
              state = expireTempLimit(state, now);
            }
          } catch (error) {
            // A refused step is an LgError and leaves the state exactly as it was.
            expect(error).toBeInstanceOf(LgError);
            expect(state).toBe(before);
          }
          expect(LINE_STATES).toContain(state.status);
          expect(lineInvariantViolations(state)).toEqual([]);
          if (before.status === 'CLOSED' || before.status === 'REVOKED')
            expect(state.status).toBe(before.status);
        }
      }),
      { numRuns: 500 },
    );
  });
});
