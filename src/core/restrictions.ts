import { LgError, type LockedLimitCut } from '../domain/index.js';
import { appendToLedger } from '../compliance/index.js';
import type { CoreDeps, UnitTx } from './deps.js';
import { applyActionInTx, restrictedForFraud, type LineActionResult } from './lines.js';

export { restrictedForFraud };
import { loanDpd } from './loans.js';
import { parseReasons } from './repo.js';
import type { ActionRow, LineRow } from './ports.js';

/**
 * Restrictions are never permanent by neglect (issue 11): the review job re-decides SUSPENDED and DRAW_FROZEN lines.
 * A restriction taken only for the core's own delinquency facts is lifted once the borrower has caught up (no
 * instalment of the line's loans past due and unpaid as of the review date) — the core knows that fact itself. Other
 * causes (fraud, external bureau data) are left to the case queue, which knows the dispositions.
 */
const DELINQUENCY_REASONS = new Set(['R_DAYS_PAST_DUE', 'R_DELINQUENT_INTERNAL']);

export interface RestrictionReview {
  readonly line: LineRow;
  /** The action that put the line in its current state. */
  readonly restriction: ActionRow | undefined;
  readonly reasons: string[];
}

/** The action that put each restricted line where it is (the latest applied one that moved it into its status). */
export async function restrictedLines(deps: CoreDeps, pageSize = 500): Promise<RestrictionReview[]> {
  const out: RestrictionReview[] = [];
  let after = '';
  for (;;) {
    const lines = await deps.coreStore.restrictedLinesPage(after, pageSize);
    if (lines.length === 0) return out;
    after = lines[lines.length - 1]?.id ?? after;
    for (const line of lines) {
      const restriction = await deps.coreStore.restrictionOf(line);
      out.push({ line, restriction, reasons: restriction ? parseReasons(restriction.reasons) : [] });
    }
  }
}

/**
 * A line frozen for a fraud reason is not the line-review strategy's to unfreeze (its RESOLVED_UNFREEZE rule sees
 * only dpd and bureau facts): lifting a fraud restriction waits for a person and, on the four-eyes list, a second one.
 */
export async function frozenForFraud(deps: CoreDeps, line: LineRow): Promise<boolean> {
  return line.status === 'DRAW_FROZEN' && (await restrictedForFraud(deps, line));
}

/**
 * restrictedForFraud under the line's lock, held for the rest of the caller's dbTx: a decision to lift a restriction
 * is then taken on the restriction that is in force when the lift is written, not on one read earlier (another
 * process may have suspended the line for fraud in between).
 */
export async function lockedRestrictedForFraud(deps: CoreDeps, tx: UnitTx, lineId: string): Promise<boolean> {
  return restrictedForFraud(deps, await deps.coreStore.lineInTx(tx, lineId, true), tx);
}

/** The restriction in force on a line under its lock (held for the rest of the caller's dbTx), if it is restricted. */
export async function lockedRestrictionOf(
  deps: CoreDeps,
  tx: UnitTx,
  lineId: string,
): Promise<{ readonly actionId: string; readonly traceId: string | null } | undefined> {
  const line = await deps.coreStore.lineInTx(tx, lineId, true);
  if (line.status !== 'DRAW_FROZEN' && line.status !== 'SUSPENDED') return undefined;
  const restriction = await deps.coreStore.restrictionOf(line, tx);
  return restriction ? { actionId: restriction.id, traceId: restriction.trace_id } : undefined;
}

/**
 * The applied limit cut that is `targetId` (an action id, or the decision behind it) on the line, read under the
 * line's lock held for the rest of the caller's dbTx, with the line as it is and its latest limit change; undefined
 * when the target is no applied cut on this line. A remedy for the cut is then decided on the line as it is when the
 * remedy is written (another process may have cut, raised or closed it meanwhile).
 */
export async function lockedLimitCutOf(
  deps: CoreDeps,
  tx: UnitTx,
  lineId: string,
  targetId: string,
): Promise<LockedLimitCut | undefined> {
  const line = await deps.coreStore.lineInTx(tx, lineId, true);
  const cut = await deps.coreStore.limitCutInTx(tx, lineId, targetId);
  if (!cut) return undefined;
  const latest = await deps.coreStore.latestLimitChangeInTx(tx, lineId);
  return {
    actionId: cut.id,
    traceId: cut.trace_id,
    prevLimitMinor: Number(cut.prev_limit_minor),
    newLimitMinor: Number(cut.new_limit_minor),
    lineStatus: line.status,
    lineLimitMinor: Number(line.limit_minor),
    currency: line.currency,
    latestLimitChangeId: latest?.id ?? null,
  };
}

async function caughtUp(deps: CoreDeps, lineId: string, asOf: string): Promise<boolean> {
  const unpaid = await deps.coreStore.unsettledInstalmentsOfLine(lineId);
  return loanDpd(unpaid, asOf) === 0;
}

export interface RestrictionReviewResult {
  readonly reviewed: number;
  readonly reinstated: LineActionResult[];
  readonly errors: { lineId: string; code: string; message: string }[];
}

/** Lifts delinquency restrictions whose cause has cleared; each line in its own dbTx with its ledger entry. */
export async function liftClearedDelinquency(deps: CoreDeps, asOf: string): Promise<RestrictionReviewResult> {
  const reinstated: LineActionResult[] = [];
  const errors: RestrictionReviewResult['errors'] = [];
  const candidates = await restrictedLines(deps);
  for (const { line, reasons } of candidates) {
    if (reasons.length === 0 || !reasons.every((r) => DELINQUENCY_REASONS.has(r))) continue;
    try {
      // Both the aged fact (the daily job's dpd, which the review strategy reads) and the live schedule must agree.
      if (Number(line.dpd) > 0 || !(await caughtUp(deps, line.id, asOf))) continue;
      const result = await deps.store.transaction(async (tx) => {
        const done = await applyActionInTx(deps, tx, line.id, {
          type: line.status === 'SUSPENDED' ? 'REINSTATE' : 'UNFREEZE',
          reasons: ['R_RISK_RESOLVED'],
          automated: true,
          actor: `job:review:${asOf}`,
          note: `arrears repaid in full as of ${asOf}`,
        });
        await appendToLedger(tx, [done.ledger]);
        return done.result;
      });
      reinstated.push(result);
    } catch (error) {
      errors.push({
        lineId: line.id,
        code: error instanceof LgError ? error.code : 'LG_INTERNAL',
        message: error instanceof Error ? error.message : String(error),
      });
    }
  }
  return { reviewed: candidates.length, reinstated, errors };
}
