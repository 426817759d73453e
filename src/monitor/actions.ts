/**
 * What the monitor can do when a typology fires (issue 5 "Actions"). HOLD, COOLDOWN and CHALLENGE are instructions
 * to the lender's app in the answer to the event; FREEZE_DRAW and SUSPEND go to the core's line actions (with reason
 * codes, subject to the engine's blast-radius guard); every firing also raises an alert for analysts.
 */
export const MONITOR_ACTION_TYPES = ['HOLD', 'COOLDOWN', 'CHALLENGE', 'FREEZE_DRAW', 'SUSPEND'] as const;
export type MonitorActionType = (typeof MONITOR_ACTION_TYPES)[number];
export const LINE_ACTIONS: ReadonlySet<MonitorActionType> = new Set(['FREEZE_DRAW', 'SUSPEND']);

export type Severity = 'low' | 'medium' | 'high' | 'critical';

export { ANTI_SCAM_WARNING } from '../domain/index.js';

/** The actor the monitor's line actions are recorded under (an explanation calls it the fraud monitoring). */
export const MONITOR_ACTOR = 'monitor';

/** A narrow port to the core's line actions; the lead wires it to applyLineAction in src/core. */
export interface LineActionPort {
  applyLineAction(
    lineId: string,
    action: {
      readonly type: 'FREEZE_DRAW' | 'SUSPEND';
      readonly reasons: readonly string[];
      readonly automated: true;
      readonly traceId: string;
      /** Who took it, as the line's action record and the borrower's explanation name it. */
      readonly actor: typeof MONITOR_ACTOR;
    },
  ): Promise<LineActionOutcome>;
}

/** APPLIED: the line changed. BLOCKED: the blast-radius guard (or the line state) refused it; detail says why. */
export interface LineActionOutcome {
  readonly status: 'APPLIED' | 'BLOCKED';
  readonly detail?: string;
}

export interface ActionTaken {
  readonly actionId: string;
  readonly type: MonitorActionType;
  /** INSTRUCTED: told to the caller in this answer; PENDING: a line action queued to the core after commit. */
  readonly status: 'INSTRUCTED' | 'PENDING' | 'SKIPPED';
  readonly lineId?: string;
  readonly cooldownMs?: number;
  readonly warning?: { readonly zh: string; readonly en: string };
  readonly reasons: readonly string[];
}
