import { LgError } from '../domain/index.js';
import type { AppealTarget } from './appeal-in-force.js';
import { AFTER_REJECTION } from './outcomes.js';
import { actionsOfDecision } from './decision-actions.js';
import type { CaseDeps, CaseTx } from './ports.js';
import type { AppealRow } from './records.js';

/** Where a borrower who still disagrees after an appeal is decided goes next (src/api/routes/me.ts). */
export const COMPLAINT_PATH = '/v1/me/complaints';

/**
 * The ids an appeal against `target` is about, besides the target itself: an action is also covered by an appeal
 * against the decision it was taken on (trace id), and a decision by an appeal against any action it took.
 */
async function coveredIds(deps: CaseDeps, tx: CaseTx, target: AppealTarget): Promise<string[]> {
  if (target.kind === 'line_action') {
    const action = await deps.rows.lineActionRow(tx, target.id);
    return action?.trace_id ? [target.id, action.trace_id] : [target.id];
  }
  if (target.lineId === null) return [target.id];
  const actions = await actionsOfDecision(deps, tx, { id: target.id, lineId: target.lineId });
  return [target.id, ...actions.map((a) => a.id)];
}

function alreadyDecided(earlier: AppealRow): LgError {
  return new LgError(
    'LG_APPEAL_ALREADY_DECIDED',
    `this was already appealed and the appeal was decided (appeal ${earlier.id}, ${earlier.state}): an action is ` +
      `appealed once; if you still disagree, file a complaint (${COMPLAINT_PATH}) or call the NFRA consumer ` +
      'hotline 12378',
    {
      appealId: earlier.id,
      state: earlier.state,
      target: { kind: earlier.target_kind, id: earlier.target_id },
      decidedAt: earlier.resolved_at === null ? null : new Date(Number(earlier.resolved_at)).toISOString(),
      complaintPath: COMPLAINT_PATH,
      whatNext: AFTER_REJECTION,
    },
  );
}

/**
 * One appeal per action, open or decided. An appeal against the same action, or against the decision it was taken on
 * (or, for a decision, against one of its actions), that is still open is 409 LG_CONFLICT; one already decided is 409
 * LG_APPEAL_ALREADY_DECIDED naming it and its decision, and pointing to the complaint route: a rejected borrower
 * filing again put a new case with a new SLA in a reviewer's queue each time, without end. A new action on the same
 * line is a new target and may be appealed. It answers whatever stands on the line now, before the in-force refusal
 * (appeal-in-force.ts): a freeze an upheld appeal lifted was appealed and decided, which is what the borrower is told.
 *
 * Runs in the filing's dbTx under the borrower's lock (after the line's, where the in-force read took it), so that
 * the borrower's filings check and insert one after another in every process.
 */
export async function assertNotAppealedBefore(
  deps: CaseDeps,
  tx: CaseTx,
  borrowerId: string,
  target: AppealTarget,
): Promise<void> {
  const earlier = await deps.rows.appealsCovering(tx, borrowerId, await coveredIds(deps, tx, target));
  const open = earlier.find((a) => a.state === 'OPEN');
  if (open) throw new LgError('LG_CONFLICT', 'an appeal against this is already open', { appealId: open.id });
  const decided = earlier.at(-1);
  if (decided) throw alreadyDecided(decided);
}
