import { getReason, isKnownReason, type LineActionType } from '../domain/index.js';
import type { CoreDeps, UnitTx } from './deps.js';
import type { ActionRow, LineRow } from './ports.js';
import { parseReasons } from './repo.js';

/**
 * The restrictions standing on a line, read from its applied actions (the one record of them). FREEZE_DRAW is taken
 * only on an ACTIVE line and SUSPEND on an ACTIVE or DRAW_FROZEN one, so at most two stand at once: a suspension, and
 * beneath it the freeze that was in force when it was taken. The one that sets the line's status is the restriction
 * in force (what the borrower is told, what the review job and the case queue re-decide first); the freeze beneath
 * comes back into force when the suspension is lifted.
 *
 * Each lift lifts its own restriction and no other: REINSTATE the suspension (a line with a freeze beneath returns to
 * DRAW_FROZEN), UNFREEZE the freeze (on a suspended line the suspension stays). Lifting both is two actions, each with
 * its own reasons, record and — for a fraud restriction — second person.
 */
export interface StandingRestriction {
  readonly action: ActionRow;
  readonly type: 'FREEZE_DRAW' | 'SUSPEND';
  readonly reasons: string[];
  /** True for the restriction that sets the line's status; false for a freeze beneath a suspension. */
  readonly inForce: boolean;
  /** The action that lifts this restriction (and only it). */
  readonly liftedBy: 'UNFREEZE' | 'REINSTATE';
  /** Taken for a fraud reason: lifting it waits for a person and, on the four-eyes list, a second one. */
  readonly fraud: boolean;
}

function standingOf(action: ActionRow, inForce: boolean): StandingRestriction {
  const reasons = parseReasons(action.reasons);
  const type = action.type === 'SUSPEND' ? 'SUSPEND' : 'FREEZE_DRAW';
  return {
    action,
    type,
    reasons,
    inForce,
    liftedBy: type === 'SUSPEND' ? 'REINSTATE' : 'UNFREEZE',
    fraud: reasons.some(isFraudReason),
  };
}

/** The restrictions standing on the line, the one in force first; in `tx` (under the caller's lock) if given. */
export async function standingRestrictions(
  deps: Pick<CoreDeps, 'coreStore'>,
  line: Pick<LineRow, 'id' | 'status'>,
  tx?: UnitTx,
): Promise<StandingRestriction[]> {
  if (line.status !== 'DRAW_FROZEN' && line.status !== 'SUSPENDED') return [];
  const top = await deps.coreStore.restrictionOf(line, tx);
  if (!top) return [];
  if (line.status !== 'SUSPENDED' || top.prev_status !== 'DRAW_FROZEN') return [standingOf(top, true)];
  // Suspended on a frozen line: the freeze stands beneath unless an UNFREEZE lifted it since (while the line is
  // suspended no other restriction or lift can be applied, so that UNFREEZE is the latest such action).
  const latest = await deps.coreStore.latestRestrictionMove(line.id, tx);
  if (latest?.id !== top.id) return [standingOf(top, true)];
  const freeze = await deps.coreStore.restrictionOf({ id: line.id, status: 'DRAW_FROZEN' }, tx);
  return freeze ? [standingOf(top, true), standingOf(freeze, false)] : [standingOf(top, true)];
}

/** The standing restriction a lift of `type` would lift, if any. */
export function restrictionLiftedBy(
  restrictions: readonly StandingRestriction[],
  type: LineActionType,
): StandingRestriction | undefined {
  return restrictions.find((r) => r.liftedBy === type);
}

export function isFraudReason(code: string): boolean {
  return isKnownReason(code) && getReason(code).category === 'fraud';
}
