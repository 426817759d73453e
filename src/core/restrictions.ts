import { LgError, type LimitCutStep, type LockedLimitCut } from '../domain/index.js';
import { appendToLedger } from '../compliance/index.js';
import type { CoreDeps, UnitTx } from './deps.js';
import { applyActionInTx, liftsFraudRestriction, type LineActionResult } from './lines.js';
import { standingRestrictions, type StandingRestriction } from './standing.js';

export { liftsFraudRestriction, standingRestrictions, type StandingRestriction };
import { loanDpd } from './loans.js';
import type { ActionRow, LineRow, NewestFirstPage } from './ports.js';

/**
 * Restrictions are never permanent by neglect (issue 11): the review job re-decides SUSPENDED and DRAW_FROZEN lines.
 * A restriction taken only for the core's own delinquency facts is lifted once the borrower has caught up (no
 * instalment of the line's loans past due and unpaid as of the review date) — the core knows that fact itself. Other
 * causes (fraud, external bureau data) are left to the case queue, which knows the dispositions. Each restriction
 * standing on a line is judged on its own reasons, and its lift lifts it alone (standing.ts): a delinquency suspension
 * over a fraud freeze returns the line to the freeze, and a delinquency freeze beneath a fraud suspension is lifted
 * while the suspension stays.
 */
const DELINQUENCY_REASONS = new Set(['R_DAYS_PAST_DUE', 'R_DELINQUENT_INTERNAL']);

export interface RestrictionReview {
  readonly line: LineRow;
  /** The restrictions standing on the line, the one in force (that put the line in its status) first. */
  readonly standing: StandingRestriction[];
}

/** Each restricted line with the restrictions standing on it. */
export async function restrictedLines(deps: CoreDeps, pageSize = 500): Promise<RestrictionReview[]> {
  const out: RestrictionReview[] = [];
  let after = '';
  for (;;) {
    const lines = await deps.coreStore.restrictedLinesPage(after, pageSize);
    if (lines.length === 0) return out;
    after = lines[lines.length - 1]?.id ?? after;
    for (const line of lines) out.push({ line, standing: await standingRestrictions(deps, line) });
  }
}

/**
 * A line frozen for a fraud reason is not the line-review strategy's to unfreeze (its RESOLVED_UNFREEZE rule sees
 * only dpd and bureau facts): lifting a fraud restriction waits for a person and, on the four-eyes list, a second one.
 */
export async function frozenForFraud(deps: CoreDeps, line: LineRow): Promise<boolean> {
  return line.status === 'DRAW_FROZEN' && (await liftsFraudRestriction(deps, line, 'UNFREEZE'));
}

/** A restriction the core lifts itself once the arrears are repaid: one taken for delinquency reasons only. */
function forDelinquencyOnly(restriction: StandingRestriction): boolean {
  return restriction.reasons.length > 0 && restriction.reasons.every((r) => DELINQUENCY_REASONS.has(r));
}

/** What the case module is told of a restriction standing on a line (cases/ports.ts CaseCorePort). */
export interface StandingRestrictionRecord {
  readonly actionId: string;
  readonly traceId: string | null;
  readonly type: 'FREEZE_DRAW' | 'SUSPEND';
  /** The restriction that sets the line's status; false for a freeze standing beneath a suspension. */
  readonly inForce: boolean;
  readonly fraud: boolean;
}

/**
 * The restrictions standing on a line, the one in force first, read under the line's lock held for the rest of the
 * caller's dbTx: a decision to lift one is then taken on what stands when the lift is written, not on what stood when
 * it was read earlier (another process may have frozen, suspended or lifted meanwhile). Empty when not restricted.
 */
export async function lockedStandingRestrictions(
  deps: CoreDeps,
  tx: UnitTx,
  lineId: string,
): Promise<StandingRestrictionRecord[]> {
  const line = await deps.coreStore.lineInTx(tx, lineId, true);
  return (await standingRestrictions(deps, line, tx)).map((r) => ({
    actionId: r.action.id,
    traceId: r.action.trace_id,
    type: r.type,
    inForce: r.inForce,
    fraud: r.fraud,
  }));
}

/** How many rows one read of a line's limit history takes. */
const LIMIT_HISTORY_PAGE = 100;

/** Every row `read` pages out, newest first, one bounded page a read (each page starts strictly after the last). */
async function allNewestFirst(read: (page: NewestFirstPage) => Promise<ActionRow[]>): Promise<ActionRow[]> {
  const all: ActionRow[] = [];
  let before: NewestFirstPage['before'];
  for (;;) {
    const page = await read({ limit: LIMIT_HISTORY_PAGE, ...(before ? { before } : {}) });
    all.push(...page);
    const last = page.at(-1);
    if (page.length < LIMIT_HISTORY_PAGE || !last) return all;
    before = { createdAt: Number(last.created_at), id: last.id };
  }
}

/**
 * How many of `cuts` (the target's cuts, newest first) are the top of the line's limit history, the line's latest
 * limit change, and the change of another action just beneath them (null when there is none, or no cut of the target
 * lies beneath it). The k newest limit changes are all the target's cuts exactly when they are its k newest cuts, so
 * the walk reads the history only as far as the first change that is not the next cut: at most one row more than the
 * cuts that stand.
 */
async function cutsOnTop(
  deps: CoreDeps,
  tx: UnitTx,
  lineId: string,
  cuts: readonly ActionRow[],
): Promise<{ count: number; latest: string | null; over: string | null }> {
  let count = 0;
  let latest: string | null = null;
  let before: NewestFirstPage['before'];
  for (;;) {
    const limit = Math.min(cuts.length - count + 1, LIMIT_HISTORY_PAGE);
    const page = await deps.coreStore.limitChangesInTx(tx, lineId, { limit, ...(before ? { before } : {}) });
    latest ??= page[0]?.id ?? null;
    for (const change of page) {
      if (count === cuts.length) return { count, latest, over: null };
      if (change.id !== cuts[count]?.id) return { count, latest, over: change.id };
      count += 1;
    }
    const last = page.at(-1);
    if (!last || page.length < limit || count === cuts.length) return { count, latest, over: null };
    before = { createdAt: Number(last.created_at), id: last.id };
  }
}

function cutStep(row: ActionRow): LimitCutStep {
  return {
    actionId: row.id,
    prevLimitMinor: Number(row.prev_limit_minor),
    newLimitMinor: Number(row.new_limit_minor),
  };
}

/**
 * The applied limit cuts that are `targetId` (an action id, or every cut the decision `targetId` took) on the line,
 * read under the line's lock held for the rest of the caller's dbTx, with the line as it is, its latest limit change,
 * and which of the cuts still stand on top of the line's limit history; undefined when the target is no applied cut on
 * this line. A remedy for the cuts is then decided on the line as it is when the remedy is written (another process
 * may have cut, raised or closed it meanwhile).
 */
export async function lockedLimitCutOf(
  deps: CoreDeps,
  tx: UnitTx,
  lineId: string,
  targetId: string,
): Promise<LockedLimitCut | undefined> {
  const line = await deps.coreStore.lineInTx(tx, lineId, true);
  const cuts = await allNewestFirst((page) => deps.coreStore.limitCutsInTx(tx, lineId, targetId, page));
  const cut = cuts[0];
  if (!cut) return undefined;
  const top = await cutsOnTop(deps, tx, lineId, cuts);
  return {
    actionId: cut.id,
    traceId: cut.trace_id,
    prevLimitMinor: Number(cut.prev_limit_minor),
    newLimitMinor: Number(cut.new_limit_minor),
    lineStatus: line.status,
    lineLimitMinor: Number(line.limit_minor),
    currency: line.currency,
    latestLimitChangeId: top.latest,
    standing: cuts.slice(0, top.count).map(cutStep),
    beneath: cuts.slice(top.count).map((c) => c.id),
    changeOverBeneath: top.over,
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

/**
 * Lifts delinquency restrictions whose cause has cleared; each line in its own dbTx, each restriction by its own
 * action with its ledger entry. What stands is read again under the line's lock, so a restriction another process
 * took meanwhile is judged on its own reasons, not lifted with the one read before.
 */
export async function liftClearedDelinquency(deps: CoreDeps, asOf: string): Promise<RestrictionReviewResult> {
  const reinstated: LineActionResult[] = [];
  const errors: RestrictionReviewResult['errors'] = [];
  const candidates = await restrictedLines(deps);
  for (const { line, standing } of candidates) {
    if (!standing.some(forDelinquencyOnly)) continue;
    try {
      // Both the aged fact (the daily job's dpd, which the review strategy reads) and the live schedule must agree.
      if (Number(line.dpd) > 0 || !(await caughtUp(deps, line.id, asOf))) continue;
      const results = await deps.store.transaction(async (tx) => {
        const locked = await deps.coreStore.lineInTx(tx, line.id, true);
        const cleared = (await standingRestrictions(deps, locked, tx)).filter(forDelinquencyOnly);
        const done = [];
        for (const restriction of cleared)
          done.push(
            await applyActionInTx(deps, tx, line.id, {
              type: restriction.liftedBy,
              reasons: ['R_RISK_RESOLVED'],
              automated: true,
              actor: `job:review:${asOf}`,
              note: `arrears repaid in full as of ${asOf}`,
            }),
          );
        await appendToLedger(
          tx,
          done.map((d) => d.ledger),
        );
        return done.map((d) => d.result);
      });
      reinstated.push(...results);
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
