import type { Clock } from '../domain/index.js';
import { RESTRICTIVE_ACTIONS, type Decision, type LineActionType } from '../domain/index.js';
import { getReason, isKnownReason } from '../domain/index.js';

/**
 * Blast-radius guard (issue 3; the "response elevation limit" Jube has and the anchors lack): a ceiling on automated
 * restrictive actions per sliding window, as a fraction of active lines. A bad rule can then freeze at most, say, 1% of
 * the book per hour; past the ceiling actions become REVIEW (a person decides) and an alert is raised.
 *
 * Budgets are per action class (issue 12): credit actions (delinquency, limit management), other fraud actions, and
 * protective actions on confirmed fraud patterns that put the borrower's money at risk (scam, account takeover). A
 * class spends only its own budget, so a wave of delinquency suspensions can never hold back a scam freeze; a
 * protective action held by its own budget is critical and escalated at once (every one, not once per window).
 *
 * Each process counts what it admitted. The core also passes the automated restrictions of the same class every
 * instance committed in the window (line_actions.action_class), and the guard counts the larger of the two, so a
 * scaled-out fleet shares one ceiling per class. On PostgreSQL the core reads that count under a lock the action's
 * transaction keeps until it commits (core/lines.ts guardAdmits, store/core-lines.ts lockGuardAdmissions): admissions
 * take turns across processes and each counts every one committed before it, so the fleet never passes the ceiling
 * (before, actions in transactions not yet committed elsewhere overshot it by as many as were in flight). The local
 * count stays a floor: it also holds admissions whose transactions did not commit, and it is the whole count where
 * the core passes none. The window is each writer's clock (line_actions.created_at): a process whose clock lags
 * counts a window that far behind.
 */
export const ACTION_CLASSES = ['credit', 'fraud', 'protective'] as const;
export type ActionClass = (typeof ACTION_CLASSES)[number];

/**
 * Confirmed patterns where the restriction protects the borrower from losing money now (the 安全账户 scam script, a
 * live coaching call, an account takeover, fraud confirmed by investigation): Anti-Telecom-Fraud Law Art. 31-32.
 */
export const PROTECTIVE_REASONS: ReadonlySet<string> = new Set([
  'R_SCAM_TRANSFER_PATTERN',
  'R_CALL_IN_PROGRESS',
  'R_ACCOUNT_TAKEOVER',
  'R_FRAUD_CONFIRMED',
]);

/** The class an action's reasons put it in: protective beats fraud beats credit. */
export function actionClassOf(reasons: readonly string[]): ActionClass {
  if (reasons.some((code) => PROTECTIVE_REASONS.has(code))) return 'protective';
  if (reasons.some((code) => isKnownReason(code) && getReason(code).category === 'fraud')) return 'fraud';
  return 'credit';
}

export interface BlastRadiusTrip {
  readonly actionType: LineActionType;
  readonly actionClass: ActionClass;
  /** A protective action was held: escalate at once (critical alert). */
  readonly critical: boolean;
  readonly admittedInWindow: number;
  readonly ceiling: number;
  readonly activeLineCount: number;
  readonly at: number;
}

export interface ClassBudget {
  /** Share of active lines this class may restrict automatically per window. */
  readonly maxFractionPerWindow?: number;
  /** Floor on this class's ceiling. */
  readonly minPerWindow?: number;
}

export interface BlastRadiusGuardOptions {
  /** Share of active lines that may be restricted automatically per window, per class (default 0.01). */
  readonly maxFractionPerWindow?: number;
  readonly windowMs?: number;
  /** Floor on the ceiling, so a small book can still act at all (default 1). */
  readonly minPerWindow?: number;
  /** A class's own budget where it differs from the defaults above. */
  readonly budgets?: Partial<Record<ActionClass, ClassBudget>>;
  readonly clock: Clock;
  readonly onTrip?: (trip: BlastRadiusTrip) => void;
}

export interface GuardStatus {
  readonly admittedInWindow: number;
  readonly ceiling: number;
  readonly refusedInWindow: number;
}

export interface BlastRadiusGuard {
  readonly windowMs: number;
  /**
   * True when the action may go ahead automatically; always true for non-restrictive actions. `fleetAdmitted`: the
   * automated restrictive actions of the same class committed in the window by every instance, when counted.
   */
  admit(
    actionType: LineActionType,
    activeLineCount: number,
    fleetAdmitted?: number,
    actionClass?: ActionClass,
  ): boolean;
  /** One class's budget (default: credit). */
  status(activeLineCount: number, actionClass?: ActionClass): GuardStatus;
}

/** One class's sliding window: admission times (a queue with a moving head) and refusal times. */
interface ClassWindow {
  admitted: number[];
  head: number;
  refused: number[];
  alertedUntil: number;
}

export function createBlastRadiusGuard(options: BlastRadiusGuardOptions): BlastRadiusGuard {
  const windowMs = options.windowMs ?? 3_600_000;
  const windows = new Map<ActionClass, ClassWindow>(
    ACTION_CLASSES.map((c) => [
      c,
      { admitted: [], head: 0, refused: [], alertedUntil: Number.NEGATIVE_INFINITY },
    ]),
  );
  const windowOf = (actionClass: ActionClass): ClassWindow => windows.get(actionClass) as ClassWindow;

  const prune = (w: ClassWindow, now: number): void => {
    while (w.head < w.admitted.length && (w.admitted[w.head] as number) <= now - windowMs) w.head++;
    if (w.head > 1024 && w.head * 2 > w.admitted.length) {
      w.admitted.splice(0, w.head);
      w.head = 0;
    }
    w.refused = w.refused.filter((t) => t > now - windowMs);
  };
  const ceilingFor = (actionClass: ActionClass, activeLineCount: number): number => {
    const budget = options.budgets?.[actionClass];
    const fraction = budget?.maxFractionPerWindow ?? options.maxFractionPerWindow ?? 0.01;
    const floor = budget?.minPerWindow ?? options.minPerWindow ?? 1;
    return Math.max(floor, Math.floor(fraction * activeLineCount));
  };

  return {
    windowMs,
    admit(actionType, activeLineCount, fleetAdmitted = 0, actionClass = 'credit') {
      if (!RESTRICTIVE_ACTIONS.has(actionType)) return true;
      const now = options.clock.now();
      const w = windowOf(actionClass);
      prune(w, now);
      const ceiling = ceilingFor(actionClass, activeLineCount);
      const inWindow = Math.max(w.admitted.length - w.head, fleetAdmitted);
      if (inWindow < ceiling) {
        w.admitted.push(now);
        return true;
      }
      w.refused.push(now);
      const critical = actionClass === 'protective';
      // A held protective action is escalated every time; other classes alert once per window.
      if (critical || now >= w.alertedUntil) {
        if (!critical) w.alertedUntil = now + windowMs;
        options.onTrip?.({
          actionType,
          actionClass,
          critical,
          admittedInWindow: inWindow,
          ceiling,
          activeLineCount,
          at: now,
        });
      }
      return false;
    },
    status(activeLineCount, actionClass = 'credit') {
      const w = windowOf(actionClass);
      prune(w, options.clock.now());
      return {
        admittedInWindow: w.admitted.length - w.head,
        ceiling: ceilingFor(actionClass, activeLineCount),
        refusedInWindow: w.refused.length,
      };
    },
  };
}

/**
 * Runs a decision's restrictive actions through the guard, in the class its reasons put them. Refused actions are
 * dropped and the decision becomes REVIEW with R_BLAST_RADIUS_GUARD first, so a person confirms before the borrower
 * is restricted.
 */
export function applyBlastRadiusGuard(
  decision: Decision,
  guard: BlastRadiusGuard,
  activeLineCount: number,
): Decision {
  const actionClass = actionClassOf(decision.reasons);
  const refused: LineActionType[] = [];
  const kept = decision.actions.filter((action) => {
    const ok = guard.admit(action.type, activeLineCount, undefined, actionClass);
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
