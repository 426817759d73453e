import { LgError } from '../domain/index.js';
import { actionsOfDecision } from './decision-actions.js';
import type { CaseDeps, CaseTx } from './ports.js';
import type { CaseLineActionRecord } from './records.js';

/** What an appeal is against: a line action, or a decision (with the line it was about, if any). */
export interface AppealTarget {
  readonly kind: 'line_action' | 'decision';
  readonly id: string;
  readonly lineId: string | null;
}

/**
 * Actions that restrict a line: in force while they stand, setting the line's status or (a freeze) beneath a
 * suspension, where an uphold lifts it all the same (core standing.ts).
 */
const RESTRICTIONS: ReadonlySet<string> = new Set(['FREEZE_DRAW', 'SUSPEND']);
/** A limit cut: in force while it stands on top of the line's limit changes (as the uphold reads it, cutRemedy). */
const CUT = 'LIMIT_DECREASE';

/**
 * The applied actions an appeal against `target` is about, if every one of them is a restriction or a cut (the kinds
 * whose reversal the core can tell and an uphold remedies); undefined otherwise: a grant, a rate change, a closure,
 * an action the blast-radius guard held back, a decision that took no action on a line are appealed as they are.
 */
async function judgedActions(
  deps: CaseDeps,
  tx: CaseTx,
  target: AppealTarget & { lineId: string },
): Promise<CaseLineActionRecord[] | undefined> {
  let rows: CaseLineActionRecord[];
  if (target.kind === 'line_action') {
    const row = await deps.rows.lineActionRow(tx, target.id);
    rows = row ? [row] : [];
  } else rows = await actionsOfDecision(deps, tx, { id: target.id, lineId: target.lineId });
  const applied = rows.filter((r) => r.outcome === 'APPLIED');
  if (applied.length === 0 || applied.some((r) => !RESTRICTIONS.has(r.type) && r.type !== CUT))
    return undefined;
  return applied;
}

/**
 * Undefined when one of `actions` still stands on the line; else what is in force instead (the restriction or the
 * limit change an uphold would find, and record as standing). Each read takes the line's lock, held to the end of
 * the caller's dbTx.
 */
async function lockedWhatIsInForce(
  deps: CaseDeps,
  tx: CaseTx,
  lineId: string,
  actions: readonly CaseLineActionRecord[],
): Promise<Record<string, unknown> | undefined> {
  const standing: Record<string, unknown> = {};
  if (actions.some((a) => RESTRICTIONS.has(a.type))) {
    const restrictions = await deps.core.lockedStandingRestrictions(tx, lineId);
    if (restrictions.some((r) => actions.some((a) => a.id === r.actionId))) return undefined;
    standing.restrictionInForce = restrictions.find((r) => r.inForce)?.actionId ?? null;
  }
  for (const action of actions.filter((a) => a.type === CUT)) {
    const cut = await deps.core.lockedLimitCutOf(tx, lineId, action.id);
    if (cut && cut.standing.length > 0) return undefined;
    standing.limitChangeInForce = cut?.latestLimitChangeId ?? null;
  }
  return standing;
}

/**
 * The refusal for an appeal against what is no longer done to the borrower: a freeze or suspension already lifted (by a
 * person, by the review job once the risk cleared; a newer restriction may be in force since), a limit cut already
 * raised back or superseded by a newer limit change; for a decision, when none of its restrictions and cuts stands. A
 * freeze beneath a suspension still stands (it is in force again once the suspension is lifted) and can be appealed.
 * Such an appeal put a case with an SLA in a reviewer's queue whose uphold had nothing to undo; the borrower is told at
 * once instead (409 LG_APPEAL_NOT_IN_FORCE, naming what is in force, which they may appeal). Undefined: it stands.
 *
 * Returned, not thrown: an earlier appeal against the same target is the more specific answer (appeal-once.ts), and
 * the filing gives that one first — a restriction an upheld appeal lifted is "already decided", not "never in force".
 *
 * Reads in the filing's dbTx, under the line's lock held to its commit: a reversal committed before it is seen, and
 * one sent meanwhile waits and comes after the appeal (which the reviewer then finds lifted; the uphold records it).
 */
export async function notInForceRefusal(
  deps: CaseDeps,
  tx: CaseTx,
  target: AppealTarget,
): Promise<LgError | undefined> {
  if (target.lineId === null) return undefined;
  const lineId = target.lineId;
  const actions = await judgedActions(deps, tx, { ...target, lineId });
  if (!actions) return undefined;
  const standing = await lockedWhatIsInForce(deps, tx, lineId, actions);
  if (!standing) return undefined;
  const what = target.kind === 'line_action' ? 'this action' : 'what this decision did to your line';
  return new LgError(
    'LG_APPEAL_NOT_IN_FORCE',
    `${what} is no longer in force (it was lifted, raised back or replaced by a later action): there is nothing ` +
      'for an appeal to undo; an action in force can be appealed instead',
    { target: { kind: target.kind, id: target.id }, lineId, ...standing },
  );
}
