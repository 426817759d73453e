import type { Clock } from '../domain/clock.js';
import { RESTRICTIVE_ACTIONS, type Decision, type LineActionType } from '../domain/decision.js';

/**
 * Blast-radius guard (issue 3; the "response elevation limit" Jube has and the anchors lack): a ceiling on automated
 * restrictive actions per sliding window, as a fraction of active lines. A bad rule can then freeze at most, say, 1% of
 * the book per hour; past the ceiling actions become REVIEW (a person decides) and an alert is raised once per window.
 * Each process counts what it admitted. The core also passes the automated restrictions every instance committed in
 * the window (line_actions), and the guard counts the larger of the two, so a scaled-out fleet shares one ceiling;
 * actions racing in transactions not yet committed elsewhere can overshoot it by as many as are in flight.
 */
export interface BlastRadiusTrip {
  readonly actionType: LineActionType;
  readonly admittedInWindow: number;
  readonly ceiling: number;
  readonly activeLineCount: number;
  readonly at: number;
}

export interface BlastRadiusGuardOptions {
  /** Share of active lines that may be restricted automatically per window (default 0.01). */
  readonly maxFractionPerWindow?: number;
  readonly windowMs?: number;
  /** Floor on the ceiling, so a small book can still act at all (default 1). */
  readonly minPerWindow?: number;
  readonly clock: Clock;
  readonly onTrip?: (trip: BlastRadiusTrip) => void;
}

export interface BlastRadiusGuard {
  readonly windowMs: number;
  /**
   * True when the action may go ahead automatically; always true for non-restrictive actions. `fleetAdmitted`: the
   * automated restrictive actions committed in the window by every instance, when the caller has counted them.
   */
  admit(actionType: LineActionType, activeLineCount: number, fleetAdmitted?: number): boolean;
  status(activeLineCount: number): { admittedInWindow: number; ceiling: number; refusedInWindow: number };
}

export function createBlastRadiusGuard(options: BlastRadiusGuardOptions): BlastRadiusGuard {
  const fraction = options.maxFractionPerWindow ?? 0.01;
  const windowMs = options.windowMs ?? 3_600_000;
  const minPerWindow = options.minPerWindow ?? 1;
  const admitted: number[] = [];
  let head = 0;
  let refused: number[] = [];
  let alertedUntil = Number.NEGATIVE_INFINITY;

  const prune = (now: number): void => {
    while (head < admitted.length && (admitted[head] as number) <= now - windowMs) head++;
    if (head > 1024 && head * 2 > admitted.length) {
      admitted.splice(0, head);
      head = 0;
    }
    refused = refused.filter((t) => t > now - windowMs);
  };
  const ceilingFor = (activeLineCount: number): number =>
    Math.max(minPerWindow, Math.floor(fraction * activeLineCount));

  return {
    windowMs,
    admit(actionType, activeLineCount, fleetAdmitted = 0) {
      if (!RESTRICTIVE_ACTIONS.has(actionType)) return true;
      const now = options.clock.now();
      prune(now);
      const ceiling = ceilingFor(activeLineCount);
      const inWindow = Math.max(admitted.length - head, fleetAdmitted);
      if (inWindow < ceiling) {
        admitted.push(now);
        return true;
      }
      refused.push(now);
      if (now >= alertedUntil) {
        alertedUntil = now + windowMs;
        options.onTrip?.({ actionType, admittedInWindow: inWindow, ceiling, activeLineCount, at: now });
      }
      return false;
    },
    status(activeLineCount) {
      prune(options.clock.now());
      return {
        admittedInWindow: admitted.length - head,
        ceiling: ceilingFor(activeLineCount),
        refusedInWindow: refused.length,
      };
    },
  };
}

/**
 * Runs a decision's restrictive actions through the guard. Refused actions are dropped and the decision becomes
 * REVIEW with R_BLAST_RADIUS_GUARD first, so a person confirms before the borrower is restricted.
 */
export function applyBlastRadiusGuard(
  decision: Decision,
  guard: BlastRadiusGuard,
  activeLineCount: number,
): Decision {
  const refused: LineActionType[] = [];
  const kept = decision.actions.filter((action) => {
    const ok = guard.admit(action.type, activeLineCount);
    if (!ok) refused.push(action.type);
    return ok;
  });
  if (refused.length === 0) return decision;
  return {
    ...decision,
    outcome: 'REVIEW',
    reasons: ['R_BLAST_RADIUS_GUARD', ...decision.reasons.filter((r) => r !== 'R_BLAST_RADIUS_GUARD')],
    actions: kept,
    values: { ...decision.values, blastRadiusRefused: refused },
  };
}
