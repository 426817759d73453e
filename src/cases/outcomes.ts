import type { UnitGuard } from '../domain/index.js';
import { canonicalJson, LgError } from '../domain/index.js';
import { formatMoney, isKnownReason, personReasonsProblem } from '../domain/index.js';
import type { LineActionType, LockedLimitCut } from '../domain/index.js';
import {
  appendToLedger,
  sealAppealOutcome,
  sealComplaintResolution,
  type BilingualText,
} from '../compliance/index.js';
import type { CaseTx, StandingRestrictionRecord } from './ports.js';
import type { AppealRow, CaseRow } from './records.js';
import type {
  ChangeRefusal,
  FourEyes,
  FourEyesOperation,
  FourEyesParty,
  PendingChangeView,
} from './four-eyes.js';
import { assertOutcome, assertTransition, type CaseType } from './model.js';
import type { CaseDeps } from './ports.js';
import { caseView, type CaseView } from './rows.js';
import { addNoteInTx, ASSIGNABLE_ROLES, caseStep } from './service.js';
import { decideDispute } from './disputes.js';

/**
 * Outcomes act through the same core paths as automation (issue 11): an approved REVIEW application is granted by
 * the core's grant rules, a released draw meets the draw's hard rules as they are at release time, a reinstatement is a
 * line action with reasons. The case, the core change and their ledger entries commit in one dbTx. Where the outcome
 * is on the four-eyes list, resolving escalates the case with a pending change; the approval applies it.
 */
export interface ResolveInput {
  readonly outcome: string;
  readonly note?: string;
  readonly reasons?: readonly string[];
  readonly limitMinor?: number;
  readonly annualRate?: number;
  /** The borrower-facing outcome text (appeals, complaints) in both languages. */
  readonly textZh?: string;
  readonly textEn?: string;
}

export type ResolveResult =
  | { readonly state: 'RESOLVED'; readonly case: CaseView }
  | { readonly state: 'ESCALATED'; readonly case: CaseView; readonly pendingChange: PendingChangeView };

export interface OutcomeContext {
  readonly deps: CaseDeps;
  readonly fourEyes: FourEyes;
}

function requireField<T>(value: T | undefined, name: string, outcome: string): T {
  if (value === undefined)
    throw new LgError('LG_VALIDATION', `outcome ${outcome} needs ${name}`, { field: name });
  return value;
}

/**
 * A borrower-facing text the outcome needs: present, and not blanks alone (whitespace of any script, the ideographic
 * space included), which would give the borrower nothing to read in that language — refused as a blank four-eyes
 * reason is.
 */
function requireText(value: string | undefined, name: string, outcome: string): string {
  const text = requireField(value, name, outcome);
  if (text.trim().length === 0)
    throw new LgError('LG_VALIDATION', `outcome ${outcome} needs ${name} that says something`, {
      field: name,
    });
  return text;
}

function checkReasonCodes(reasons: readonly string[]): void {
  const unknown = reasons.filter((r) => !isKnownReason(r));
  if (unknown.length > 0)
    throw new LgError('LG_VALIDATION', `unknown reason codes: ${unknown.join(', ')}`, { unknown });
}

/** Outcomes that take something from the borrower: their reasons must say why (personReasonsProblem). */
const ADVERSE_OUTCOMES: ReadonlySet<string> = new Set(['DECLINE', 'CANCEL']);

/** Shape checks before any write, so a bad request never half-resolves a case. */
function checkInput(type: CaseType, input: ResolveInput): void {
  if (input.reasons) {
    checkReasonCodes(input.reasons);
    // A lower limit on reinstatement is a cut: its reasons say why, as any restriction's must.
    const adverse = ADVERSE_OUTCOMES.has(input.outcome) || input.limitMinor !== undefined;
    const problem = personReasonsProblem(input.reasons, adverse);
    if (problem !== undefined)
      throw new LgError('LG_VALIDATION', `${input.outcome}: ${problem}`, {
        field: 'reasons',
        reasons: input.reasons,
      });
  }
  if (type === 'REVIEW_APPLICATION' && input.outcome === 'APPROVE') {
    requireField(input.limitMinor, 'limitMinor', input.outcome);
    requireField(input.annualRate, 'annualRate', input.outcome);
  }
  if (type === 'REVIEW_APPLICATION' && input.outcome === 'DECLINE')
    requireField(input.reasons, 'reasons', input.outcome);
  if (type === 'APPEAL' || type === 'COMPLAINT' || type === 'CREDIT_REPORT_DISPUTE') {
    requireText(input.textZh, 'textZh', input.outcome);
    requireText(input.textEn, 'textEn', input.outcome);
  }
}

/**
 * The four-eyes operation a held draw's release or a reviewer's grant needs, if any (decided before the resolution's
 * transaction).
 */
async function fourEyesNeeded(
  ctx: OutcomeContext,
  row: CaseRow,
  input: ResolveInput,
): Promise<FourEyesOperation | undefined> {
  const db = ctx.deps.store.db;
  // A line a reviewer grants at or past the threshold, as a person's raise to that limit: one analyst's word would
  // otherwise open a line of any size up to the per-borrower cap.
  if (
    row.type === 'REVIEW_APPLICATION' &&
    input.outcome === 'APPROVE' &&
    ctx.fourEyes.requires('line.limit_increase') &&
    (input.limitMinor ?? 0) >= ctx.fourEyes.config.limitIncreaseThresholdMinor
  )
    return 'line.limit_increase';
  if (row.type === 'HELD_DRAW' && input.outcome === 'RELEASE' && ctx.fourEyes.requires('draw.release')) {
    const draw = await ctx.deps.rows.drawRow(db, row.subject_id);
    if (draw && Number(draw.amount_minor) >= ctx.fourEyes.config.drawReleaseThresholdMinor)
      return 'draw.release';
  }
  return undefined;
}

/** The restrictions among `standing` that are `targetId` or were taken on the decision `targetId`. */
function restrictionsOf(
  standing: readonly StandingRestrictionRecord[],
  targetId: string,
): StandingRestrictionRecord[] {
  return standing.filter((r) => r.actionId === targetId || r.traceId === targetId);
}

/**
 * The restrictions this outcome would lift, read under the line's lock: an upheld appeal lifts the restrictions it
 * was against, a REINSTATEMENT case the restriction it was opened for — each where it stands (in force, or a freeze
 * beneath a suspension), and no other.
 */
async function restrictionsLiftedBy(
  ctx: OutcomeContext,
  tx: CaseTx,
  row: CaseRow,
  input: ResolveInput,
): Promise<StandingRestrictionRecord[]> {
  if (!row.line_id) return [];
  if (row.type === 'APPEAL' && input.outcome === 'UPHELD') {
    const appeal = await ctx.deps.rows.findAppeal(tx, row.subject_id);
    if (!appeal?.line_id) return [];
    return restrictionsOf(
      await ctx.deps.core.lockedStandingRestrictions(tx, appeal.line_id),
      appeal.target_id,
    );
  }
  if (row.type === 'REINSTATEMENT' && input.outcome === 'REINSTATE') {
    const standing = await ctx.deps.core.lockedStandingRestrictions(tx, row.line_id);
    return standing.filter((r) => r.actionId === row.subject_id);
  }
  return [];
}

/**
 * Whether this outcome would lift a fraud restriction, decided inside the resolution's transaction under the line's
 * lock: a fraud suspension another process commits just before this transaction is seen here, and one that comes
 * later waits for it. (Decided before the transaction, an uphold lifted such a suspension on one person's word.) It
 * is the restriction the outcome lifts that counts, not the one in force: a fraud freeze beneath a suspension, lifted
 * by an uphold, needs the second person as much as one in force.
 */
async function liftsFraudRestriction(
  ctx: OutcomeContext,
  tx: CaseTx,
  row: CaseRow,
  input: ResolveInput,
): Promise<boolean> {
  if (!ctx.fourEyes.requires('line.lift_fraud_restriction')) return false;
  return (await restrictionsLiftedBy(ctx, tx, row, input)).some((r) => r.fraud);
}

/**
 * The restore an upheld appeal against a limit cut would write, when it is a limit increase to at least the four-eyes
 * threshold (as a person's manual raise is): decided in the resolution's transaction, under the line's lock, on the
 * line as it is then. Returns what the pending change shows its checker, or undefined to go ahead.
 */
async function restoreNeedingFourEyes(
  ctx: OutcomeContext,
  tx: CaseTx,
  row: CaseRow,
  input: ResolveInput,
): Promise<Record<string, unknown> | undefined> {
  if (row.type !== 'APPEAL' || input.outcome !== 'UPHELD' || !ctx.fourEyes.requires('line.limit_increase'))
    return undefined;
  const appeal = await ctx.deps.rows.findAppeal(tx, row.subject_id);
  const remedy = appeal ? (await appealRemedy(ctx, tx, appeal, input)).cut : undefined;
  // The limit the whole restore reaches counts, not each step: two steps under the threshold are one raise past it.
  if (remedy?.kind !== 'restore' || remedy.toLimitMinor < ctx.fourEyes.config.limitIncreaseThresholdMinor)
    return undefined;
  return {
    restore: {
      cutActionIds: remedy.steps.map((s) => s.cutActionId),
      fromLimitMinor: remedy.cut.lineLimitMinor,
      toLimitMinor: remedy.toLimitMinor,
    },
  };
}

export async function resolveCase(
  ctx: OutcomeContext,
  id: string,
  input: ResolveInput,
  by: FourEyesParty,
  guard?: UnitGuard<ResolveResult>,
): Promise<ResolveResult> {
  const { deps } = ctx;
  const actor = by.actor;
  const row = await deps.rows.findCase(deps.store.db, deps.store.kind, id);
  assertOutcome(row.id, row.type as CaseType, input.outcome);
  assertTransition(row.id, row.state, 'RESOLVED');
  checkInput(row.type as CaseType, input);
  await checkAppealDecider(ctx, row, by);
  const operation = await fourEyesNeeded(ctx, row, input);
  let result: ResolveResult;
  try {
    // A refused proposal is recorded on the case as a failed outcome is: the analyst sees why it was not proposed.
    if (operation) return await escalateForApproval(ctx, row, input, by, operation, guard);
    // The unit's value is the answer, read in the unit: a guard that says the response stores it with the key.
    result = await deps.store.transaction(async (tx): Promise<ResolveResult> => {
      const locked = await deps.rows.findCase(tx, deps.store.kind, id, true);
      assertTransition(locked.id, locked.state, 'RESOLVED');
      if (await liftsFraudRestriction(ctx, tx, locked, input)) {
        // Judged before it is proposed, as the approval's reinstatement would judge it: never a checker's to fail.
        if (locked.line_id) await checkLowerLimitReasons(ctx, tx, locked.line_id, input);
        return escalateInTx(ctx, tx, locked, input, by, 'line.lift_fraud_restriction');
      }
      const restore = await restoreNeedingFourEyes(ctx, tx, locked, input);
      if (restore) return escalateInTx(ctx, tx, locked, input, by, 'line.limit_increase', restore);
      const detail = await applyOutcome(ctx, tx, locked, input, actor);
      await finishCase(ctx, tx, locked, { input, detail, actor });
      return { state: 'RESOLVED', case: caseView(await deps.rows.findCase(tx, deps.store.kind, id)) };
    }, guard);
  } catch (error) {
    if (error instanceof LgError) await recordFailure(ctx, row, input, actor, error);
    throw error;
  }
  // Closing the alert touches the monitor's row, not the case: the answer stands as the unit said it.
  if (result.state === 'RESOLVED') await afterResolved(ctx, row);
  return result;
}

/**
 * An appeal asks for a second look (PIPL Art. 24): the person who took the action appealed against cannot decide the
 * appeal, whichever way (403 LG_SELF_APPROVAL). An appeal against a decision is against automation's judgement, and
 * is decided by a person as before (one who applied a guard-held action of the decision included). The action is as
 * it was taken, so it is read before the resolution's unit. The decider is everyone who could have acted with their
 * key (its issuer, and the issuers of the keys it was rotated from), as four eyes tells a checker from a maker; the
 * action records its person, not its key, so a key the actor was shown is not followed on the action's side.
 */
async function checkAppealDecider(ctx: OutcomeContext, row: CaseRow, by: FourEyesParty): Promise<void> {
  if (row.type !== 'APPEAL') return;
  const db = ctx.deps.store.db;
  const appeal = await ctx.deps.rows.findAppeal(db, row.subject_id);
  // An appeal not found is refused in the resolution's unit (findAppealOf), as before.
  if (appeal?.target_kind !== 'line_action') return;
  const action = await ctx.deps.rows.lineActionRow(db, appeal.target_id);
  const actor = action?.actor;
  if (!actor?.startsWith('user:')) return;
  // Whoever was shown the decider's key could have decided with it (four eyes' rule): an admin who issued a colleague
  // their key holds it, and cannot decide the appeal against their own action with it.
  if (!(await ctx.fourEyes.peopleBehind(db, by, row.id)).has(actor)) return;
  throw new LgError(
    'LG_SELF_APPROVAL',
    'the person who took the action appealed against cannot decide the appeal; a second person must',
    { caseId: row.id, appealId: appeal.id, actionId: appeal.target_id },
  );
}

async function escalateForApproval(
  ctx: OutcomeContext,
  row: CaseRow,
  input: ResolveInput,
  by: FourEyesParty,
  operation: FourEyesOperation,
  guard?: UnitGuard<ResolveResult>,
): Promise<ResolveResult> {
  // The unit's value is the answer, read in the unit: a guard that says the response stores it with the key.
  return ctx.deps.store.transaction(async (tx): Promise<ResolveResult> => {
    const locked = await ctx.deps.rows.findCase(tx, ctx.deps.store.kind, row.id, true);
    // Judged before it is proposed, as the approval's release or grant would judge it (the draw's lock, then the line
    // as it is; the application's, then the borrower's): a checker is never asked to approve what cannot apply.
    if (operation === 'draw.release') await ctx.deps.core.checkDrawRelease(tx, locked.subject_id);
    if (locked.type === 'REVIEW_APPLICATION')
      await ctx.deps.core.checkReviewApproval(tx, locked.subject_id, {
        actor: by.actor,
        limitMinor: requireField(input.limitMinor, 'limitMinor', input.outcome),
        annualRate: requireField(input.annualRate, 'annualRate', input.outcome),
      });
    return escalateInTx(ctx, tx, locked, input, by, operation);
  }, guard);
}

/** Proposes the outcome as a pending change for a second person, in the caller's dbTx; the case waits ESCALATED. */
async function escalateInTx(
  ctx: OutcomeContext,
  tx: CaseTx,
  row: CaseRow,
  input: ResolveInput,
  by: FourEyesParty,
  operation: FourEyesOperation,
  extraDiff: Record<string, unknown> = {},
): Promise<ResolveResult> {
  const { deps } = ctx;
  const actor = by.actor;
  // What the outcome will do to the line, read under its lock: shown to the checker, held to by the approval.
  const actions = await listedActions(ctx, tx, row, input);
  const listed = actions === undefined ? {} : { actions };
  const proposed = await ctx.fourEyes.propose(
    {
      operation,
      subjectId: row.id,
      payload: { caseId: row.id, input, ...listed },
      diff: {
        caseId: row.id,
        type: row.type,
        lineId: row.line_id,
        outcome: input.outcome,
        limitMinor: input.limitMinor ?? null,
        ...listed,
        ...extraDiff,
      },
      reason: input.note ?? `${row.type} ${input.outcome}`,
      maker: actor,
      makerKeyId: by.keyId,
    },
    tx,
  );
  await caseStep(deps, tx, row, {
    to: row.state === 'ESCALATED' ? undefined : 'ESCALATED',
    kind: 'case.escalated_for_approval',
    actor,
    detail: { pendingChangeId: proposed.id, operation, outcome: input.outcome },
    patch: {
      escalated_at: deps.clock.now(),
      outcome_detail: JSON.stringify({ pendingChangeId: proposed.id, proposedOutcome: input.outcome }),
    },
  });
  return {
    state: 'ESCALATED',
    case: caseView(await deps.rows.findCase(tx, deps.store.kind, row.id)),
    pendingChange: proposed,
  };
}

/** The apply function behind case outcomes that needed a second person (registered for their operations). */
export async function applyApprovedResolution(
  ctx: OutcomeContext,
  tx: CaseTx,
  payload: ResolutionPayload,
  approval: { maker: string; checker: string; changeId: string },
): Promise<unknown> {
  const row = await ctx.deps.rows.findCase(tx, ctx.deps.store.kind, payload.caseId, true);
  assertTransition(row.id, row.state, 'RESOLVED');
  if (payload.actions !== undefined) await assertStillListed(ctx, tx, row, payload);
  const detail = await applyOutcome(ctx, tx, row, payload.input, approval.maker);
  await finishCase(ctx, tx, row, {
    input: payload.input,
    detail: { ...detail, approvedBy: approval.checker, pendingChangeId: approval.changeId },
    actor: approval.maker,
  });
  return { caseId: row.id, outcome: payload.input.outcome, ...detail };
}

/**
 * A case outcome's pending change, as it was proposed: the case, the outcome, and (for an outcome that acts on the
 * line: an uphold, a reinstatement) the line actions it listed. A change proposed before listings has none.
 */
export interface ResolutionPayload {
  readonly caseId: string;
  readonly input: ResolveInput;
  readonly actions?: readonly ListedAction[];
}

/**
 * The approval performs what the checker was shown, or nothing: the actions the outcome would perform now, read under
 * the line's lock in the approval's dbTx, must be those the change listed. A line changed meanwhile (cut again,
 * lifted, restricted) would have the checker approve what they never saw: refused (409 LG_CONFLICT, the change
 * FAILED), and the case goes back to its maker to propose again on the line as it stands.
 */
async function assertStillListed(
  ctx: OutcomeContext,
  tx: CaseTx,
  row: CaseRow,
  payload: ResolutionPayload,
): Promise<void> {
  const now = (await listedActions(ctx, tx, row, payload.input)) ?? [];
  if (canonicalJson(now) === canonicalJson(payload.actions ?? [])) return;
  throw new LgError(
    'LG_CONFLICT',
    'the line changed since this change was proposed: approved now, it would do other than it lists; the case ' +
      'goes back to its maker to propose it again',
    { caseId: row.id, listed: payload.actions ?? [], wouldDo: now },
  );
}

/** A case outcome's pending change, as it was proposed (a line action's payload has no caseId). */
function isResolutionPayload(payload: unknown): payload is ResolutionPayload {
  return typeof payload === 'object' && payload !== null && 'caseId' in payload && 'input' in payload;
}

const REFUSAL_KINDS: Readonly<Record<ChangeRefusal['state'], string>> = {
  REJECTED: 'case.change_rejected',
  EXPIRED: 'case.change_expired',
  FAILED: 'case.change_failed',
};

/**
 * The case a refused change was proposed for, and the outcome it proposed: from the payload, or, for a change that
 * expired or was rejected with a proposal no held key opens, by its subject (a case outcome's change is about its
 * case; null outcome). Undefined when the change was not a case's.
 */
async function refusedCase(
  ctx: OutcomeContext,
  tx: CaseTx,
  payload: unknown,
  refusal: ChangeRefusal,
): Promise<{ row: CaseRow; proposedOutcome: string | null } | undefined> {
  const { rows, store } = ctx.deps;
  if (isResolutionPayload(payload))
    return {
      row: await rows.findCase(tx, store.kind, payload.caseId, true),
      proposedOutcome: payload.input.outcome,
    };
  if (refusal.unreadable === undefined) return undefined;
  try {
    return { row: await rows.findCase(tx, store.kind, refusal.subjectId, true), proposedOutcome: null };
  } catch (error) {
    // A line action's change (its subject is the line): no case waits for it.
    if (error instanceof LgError && error.code === 'LG_NOT_FOUND') return undefined;
    throw error;
  }
}

function refusalText(outcome: string | null, refusal: ChangeRefusal): string {
  const what = `${outcome ?? 'The proposed outcome'} (change ${refusal.changeId}, ${refusal.operation})`;
  if (refusal.state === 'REJECTED')
    return `${what} rejected by ${refusal.checker ?? 'unknown'}: ${refusal.note ?? ''}`.trim();
  if (refusal.state === 'EXPIRED' && refusal.unreadable !== undefined)
    return `${what} expired: nobody could approve it, its proposal cannot be opened with the data keys held`;
  if (refusal.state === 'EXPIRED') return `${what} expired: nobody approved or rejected it in time`;
  return `${what} approved by ${refusal.checker ?? 'unknown'} but could not be applied: ${refusal.note ?? ''}`;
}

/** Whom a case goes back to: its maker if a person who may hold cases, else whoever held it; null: the queue. */
async function returnTo(
  ctx: OutcomeContext,
  tx: CaseTx,
  row: CaseRow,
  maker: string,
): Promise<string | null> {
  if (maker.startsWith('user:')) {
    const user = await ctx.deps.rows.userById(tx, maker.slice('user:'.length));
    if (user && ASSIGNABLE_ROLES.has(user.role)) return user.id;
  }
  return row.assignee;
}

/**
 * The pending change a case outcome proposed will never apply (rejected, expired, its approval failed): in that
 * dbTx, under the case's lock, the case the change left ESCALATED goes back to a person — ASSIGNED to the maker (or
 * whoever held it), OPEN when there is no one — with a note and a ledger entry saying who refused it and why. Its SLA
 * due time and breach stand: a breach counted while it waited is not counted again. A case resolved meanwhile, or
 * waiting on a newer change, keeps its state; its history still records the refusal.
 */
export async function returnRefusedResolution(
  ctx: OutcomeContext,
  tx: CaseTx,
  payload: unknown,
  refusal: ChangeRefusal,
): Promise<void> {
  const refused = await refusedCase(ctx, tx, payload, refusal);
  if (!refused) return;
  const { deps } = ctx;
  const { row, proposedOutcome } = refused;
  const waiting = (row.outcome_detail === null ? {} : JSON.parse(row.outcome_detail)) as {
    pendingChangeId?: unknown;
  };
  const detail = {
    changeId: refusal.changeId,
    operation: refusal.operation,
    proposedOutcome,
    ...(refusal.unreadable === undefined ? {} : { proposalUnreadable: true }),
    state: refusal.state,
    maker: refusal.maker,
    checker: refusal.checker,
    // A checker's note is sealed at rest (in the change's row and in the case's note): the record commits to it.
    ...(refusal.noteHmac === undefined ? { note: refusal.note } : { noteHmac: refusal.noteHmac }),
  };
  const actor = refusal.checker ?? 'job:four-eyes';
  const kind = REFUSAL_KINDS[refusal.state];
  if (row.state === 'RESOLVED' || waiting.pendingChangeId !== refusal.changeId) {
    // Nothing on the case waits for this change any more: its history says what became of it, its row is left alone.
    await appendToLedger(tx, [
      {
        entryId: deps.ids.next(),
        kind,
        subjectId: row.id,
        recordedAt: refusal.at,
        // No note written: `caseNoteId: null` says so (an entry without the key predates named notes).
        payload: {
          caseId: row.id,
          type: row.type,
          from: row.state,
          to: row.state,
          by: actor,
          ...detail,
          caseNoteId: null,
        },
      },
    ]);
    return;
  }
  const note = await addNoteInTx(deps, tx, row.id, 'system', refusalText(proposedOutcome, refusal));
  // The entry names the system's note and commits to it, so that `ledger verify` proves it (src/compliance/facts.ts).
  // Not `noteId`/`noteHmac`: `noteHmac` here is the checker's note on the change.
  const named = { ...detail, caseNoteId: note.id, caseNoteHmac: note.textHmac };
  if (row.state !== 'ESCALATED') {
    // Moved meanwhile (reassigned): it stays with whoever holds it, no longer pointing at the dead change.
    await caseStep(deps, tx, row, {
      kind,
      actor,
      detail: named,
      patch: { outcome_detail: JSON.stringify({ refused: detail }) },
    });
    return;
  }
  const assignee = await returnTo(ctx, tx, row, refusal.maker);
  await caseStep(deps, tx, row, {
    to: assignee === null ? 'OPEN' : 'ASSIGNED',
    kind,
    actor,
    detail: { ...named, assignee },
    patch: { assignee, outcome_detail: JSON.stringify({ refused: detail }) },
  });
}

async function finishCase(
  ctx: OutcomeContext,
  tx: CaseTx,
  row: CaseRow,
  done: { input: ResolveInput; detail: Record<string, unknown>; actor: string },
): Promise<void> {
  const now = ctx.deps.clock.now();
  const note = done.input.note
    ? await addNoteInTx(ctx.deps, tx, row.id, done.actor, done.input.note)
    : undefined;
  await caseStep(ctx.deps, tx, row, {
    to: 'RESOLVED',
    kind: 'case.resolved',
    actor: done.actor,
    detail: {
      outcome: done.input.outcome,
      ...done.detail,
      withinSla: now <= Number(row.sla_due_at),
      typologyId: row.typology_id,
      // The entry names the note and commits to it (never the text), as case.moved does; null: no note written.
      ...(note ? { noteId: note.id, noteHmac: note.textHmac } : { noteId: null }),
    },
    patch: {
      resolved_at: now,
      resolved_by: done.actor,
      outcome: done.input.outcome,
      outcome_detail: JSON.stringify(done.detail),
    },
  });
}

/** A failed outcome (the line was frozen before the release, say) leaves the case open and says why on it. */
async function recordFailure(
  ctx: OutcomeContext,
  row: CaseRow,
  input: ResolveInput,
  actor: string,
  error: LgError,
): Promise<void> {
  if (error.code === 'LG_CONFLICT' || error.code === 'LG_CASE_TRANSITION_ILLEGAL') return;
  const { deps } = ctx;
  await deps.store.transaction(async (tx) => {
    const current = await deps.rows.findCase(tx, deps.store.kind, row.id, true);
    if (current.state === 'RESOLVED') return;
    const note = await addNoteInTx(
      deps,
      tx,
      row.id,
      'system',
      `${input.outcome} failed: ${error.code} — ${error.message}`,
    );
    await caseStep(deps, tx, current, {
      kind: 'case.outcome_failed',
      actor,
      detail: {
        outcome: input.outcome,
        code: error.code,
        message: error.message,
        noteId: note.id,
        noteHmac: note.textHmac,
      },
      patch: {
        outcome_detail: JSON.stringify({
          failed: { outcome: input.outcome, code: error.code, message: error.message },
        }),
      },
    });
  });
}

async function afterResolved(ctx: OutcomeContext, row: CaseRow): Promise<void> {
  if (row.type === 'ALERT' && ctx.deps.monitor) {
    await ctx.deps.monitor.closeAlert(row.subject_id).catch(() => undefined);
  }
}

/** What each outcome does, inside the resolution's dbTx. Returns what the case records as its outcome detail. */
async function applyOutcome(
  ctx: OutcomeContext,
  tx: CaseTx,
  row: CaseRow,
  input: ResolveInput,
  actor: string,
): Promise<Record<string, unknown>> {
  const core = ctx.deps.core;
  switch (`${row.type}:${input.outcome}`) {
    case 'REVIEW_APPLICATION:APPROVE':
      return {
        ...(await core.approveReview(tx, row.subject_id, {
          actor,
          limitMinor: requireField(input.limitMinor, 'limitMinor', input.outcome),
          annualRate: requireField(input.annualRate, 'annualRate', input.outcome),
          note: input.note,
        })),
      };
    case 'REVIEW_APPLICATION:DECLINE':
      await core.declineReview(tx, row.subject_id, { actor, reasons: input.reasons ?? [] });
      return { reasons: input.reasons ?? [] };
    case 'HELD_DRAW:RELEASE':
      return { drawId: row.subject_id, ...(await core.releaseDraw(tx, row.subject_id, actor)) };
    case 'HELD_DRAW:CANCEL': {
      const reasons = input.reasons ?? ['R_MANUAL_REVIEW'];
      await core.cancelDraw(tx, row.subject_id, { actor, reasons });
      return { drawId: row.subject_id, reasons };
    }
    case 'GUARD_HELD_ACTION:APPLY':
      return applyHeldAction(ctx, tx, row, actor);
    case 'GUARD_HELD_ACTION:DISMISS':
      return { heldActionId: row.subject_id, dismissed: true };
    case 'APPEAL:UPHELD':
      return upholdAppeal(ctx, tx, row, input, actor);
    case 'APPEAL:REJECTED':
      return rejectAppeal(ctx, tx, row, input, actor);
    case 'COMPLAINT:RESOLVED': {
      // The resolution is sealed in the row; the case's resolved entry commits to it instead of holding it.
      const { resolutionHmac, ...resolution } = sealComplaintResolution(
        ctx.deps.crypto,
        row.subject_id,
        textsOf(input),
      );
      await ctx.deps.rows.updateComplaint(
        tx,
        row.subject_id,
        { state: 'OPEN' },
        { state: 'RESOLVED', ...resolution, resolved_at: ctx.deps.clock.now() },
      );
      return { complaintId: row.subject_id, resolutionHmac };
    }
    case 'CREDIT_REPORT_DISPUTE:CORRECTED':
    case 'CREDIT_REPORT_DISPUTE:REJECTED':
      return decideDispute(ctx, tx, row, input, actor);
    case 'REINSTATEMENT:REINSTATE':
      return reinstateCaseRestriction(ctx, tx, row, input, actor);
    default:
      // Alert dispositions and KEEP are labels: the case records them, nothing else moves.
      return { label: input.outcome };
  }
}

/** The borrower-facing texts of an appeal's or a complaint's outcome (checkInput requires both). */
function textsOf(input: ResolveInput): BilingualText {
  return {
    zh: requireText(input.textZh, 'textZh', input.outcome),
    en: requireText(input.textEn, 'textEn', input.outcome),
  };
}

function requireLine(row: CaseRow): string {
  if (!row.line_id)
    throw new LgError('LG_CASE_OUTCOME_INVALID', 'this case has no line to act on', { caseId: row.id });
  return row.line_id;
}

/**
 * A person applies what the blast-radius guard held, as the decision asked for it: its type, the limit it asked for
 * (a held cut left the line as it was, so the limit lives only in the held row), and the decision itself. The applied
 * action names the proposing decision, so an appeal against that decision covers it (and undoes it, upheld), and the
 * ledger links the two; the person is its actor.
 */
async function applyHeldAction(ctx: OutcomeContext, tx: CaseTx, row: CaseRow, actor: string) {
  const held = await ctx.deps.rows.lineActionRow(tx, row.subject_id);
  if (!held) throw new LgError('LG_NOT_FOUND', `no held action ${row.subject_id}`);
  const reasons = (JSON.parse(held.reasons) as string[]).filter((r) => r !== 'R_BLAST_RADIUS_GUARD');
  const applied = await ctx.deps.core.lineAction(tx, held.line_id, {
    type: held.type as LineActionType,
    reasons: reasons.length > 0 ? reasons : ['R_MANUAL_REVIEW'],
    actor,
    automated: false,
    ...(held.requested_limit_minor === null ? {} : { limitMinor: Number(held.requested_limit_minor) }),
    ...(held.trace_id === null ? {} : { traceId: held.trace_id }),
    note: `applied from guard-held action ${held.id}`,
  });
  return { heldActionId: held.id, decisionId: held.trace_id, ...applied };
}

/**
 * A REINSTATEMENT case lifts the restriction it was opened for, wherever it stands, and no other: a suspension taken
 * since (for days past due, say) stays; a restriction already lifted leaves nothing to reinstate (409, and the case
 * stays open for KEEP).
 */
async function reinstateCaseRestriction(
  ctx: OutcomeContext,
  tx: CaseTx,
  row: CaseRow,
  input: ResolveInput,
  actor: string,
): Promise<Record<string, unknown>> {
  const lineId = requireLine(row);
  const standing = await ctx.deps.core.lockedStandingRestrictions(tx, lineId);
  const own = standing.filter((r) => r.actionId === row.subject_id);
  if (own.length === 0)
    throw new LgError(
      'LG_ILLEGAL_TRANSITION',
      `the restriction this case is about (${row.subject_id}) no longer stands on the line: there is nothing to ` +
        'reinstate (resolve the case KEEP)',
      {
        lineId,
        restrictionId: row.subject_id,
        restrictionInForce: standing.find((r) => r.inForce)?.actionId ?? null,
      },
    );
  return reinstateLine(ctx, tx, lineId, {
    lift: own,
    standing,
    actor,
    limitMinor: input.limitMinor,
    reasons: input.reasons,
  });
}

/**
 * A reinstatement at a lower limit is a cut: its reasons must say why (LG_VALIDATION otherwise). Returns the line as
 * read in the caller's dbTx.
 */
async function checkLowerLimitReasons(
  ctx: OutcomeContext,
  tx: CaseTx,
  lineId: string,
  input: { limitMinor?: number; reasons?: readonly string[] },
) {
  const line = await ctx.deps.rows.lineRow(tx, lineId);
  if (!line) throw new LgError('LG_NOT_FOUND', `no line ${lineId}`);
  const lower = input.limitMinor !== undefined && input.limitMinor < Number(line.limit_minor);
  if (lower && (input.reasons === undefined || input.reasons.length === 0))
    throw new LgError('LG_VALIDATION', 'a lower limit needs reasons that say why', { field: 'reasons' });
  return line;
}

type LineActionDone = Awaited<ReturnType<CaseDeps['core']['lineAction']>>;

/** A restriction lifted, and the line action (UNFREEZE or REINSTATE) that lifted it. */
type LiftRecord = { readonly restrictionId: string; readonly byActionId: string };

/** What reinstateLine did: its line actions, each restriction it lifted, and a restriction it left in force. */
type ReinstatedLine = {
  readonly lineId: string;
  readonly actions: readonly LineActionDone[];
  readonly lifts: readonly LiftRecord[];
  readonly restrictionInForce?: string;
};

/** The line action that lifts a restriction, and only it (core standing.ts). */
function liftOf(restriction: StandingRestrictionRecord): 'UNFREEZE' | 'REINSTATE' {
  return restriction.type === 'SUSPEND' ? 'REINSTATE' : 'UNFREEZE';
}

/**
 * One line action an outcome performs, as its pending change lists it: the lift (UNFREEZE, REINSTATE) of the
 * restriction `lifts`, a reinstatement's lower limit (the limit asked for; the state machine stops a cut at the
 * outstanding balance), or the restore of the cut `restores` from one limit to another.
 */
export type ListedAction =
  | { readonly type: 'UNFREEZE' | 'REINSTATE'; readonly lifts: string }
  | { readonly type: 'LIMIT_DECREASE'; readonly fromLimitMinor: number; readonly limitMinor: number }
  | {
      readonly type: 'LIMIT_INCREASE';
      readonly restores: string;
      readonly fromLimitMinor: number;
      readonly toLimitMinor: number;
    };

/** What reinstateLine will do: each restriction of `lift` lifted, in order, then the lower limit if one is asked. */
async function listedReinstatement(
  ctx: OutcomeContext,
  tx: CaseTx,
  lineId: string,
  reinstatement: { lift: readonly StandingRestrictionRecord[]; limitMinor?: number },
): Promise<ListedAction[]> {
  const line = await ctx.deps.rows.lineRow(tx, lineId);
  const limit = Number(line?.limit_minor);
  const listed: ListedAction[] = reinstatement.lift.map((r) => ({ type: liftOf(r), lifts: r.actionId }));
  const lower = reinstatement.limitMinor;
  if (lower !== undefined && lower < limit)
    listed.push({ type: 'LIMIT_DECREASE', fromLimitMinor: limit, limitMinor: lower });
  return listed;
}

/**
 * The line actions an outcome will perform, read under the line's lock as the outcome reads them (an upheld appeal:
 * its lifts, a lower limit, each restore of a cut; a REINSTATEMENT: its lift and a lower limit), in the order it
 * performs them; undefined for an outcome that performs no line action of its own.
 */
async function listedActions(
  ctx: OutcomeContext,
  tx: CaseTx,
  row: CaseRow,
  input: ResolveInput,
): Promise<ListedAction[] | undefined> {
  if (!row.line_id) return undefined;
  if (row.type === 'APPEAL' && input.outcome === 'UPHELD') {
    const appeal = await findAppealOf(ctx, tx, row);
    const { appealed, cut } = await appealRemedy(ctx, tx, appeal, input);
    const lifts =
      appealed.length > 0 && appeal.line_id
        ? await listedReinstatement(ctx, tx, appeal.line_id, { lift: appealed, limitMinor: input.limitMinor })
        : [];
    const restores: ListedAction[] =
      cut?.kind === 'restore'
        ? cut.steps.map((step) => ({
            type: 'LIMIT_INCREASE',
            restores: step.cutActionId,
            fromLimitMinor: step.fromLimitMinor,
            toLimitMinor: step.toLimitMinor,
          }))
        : [];
    return [...lifts, ...restores];
  }
  if (row.type === 'REINSTATEMENT' && input.outcome === 'REINSTATE') {
    const standing = await ctx.deps.core.lockedStandingRestrictions(tx, row.line_id);
    const own = standing.filter((r) => r.actionId === row.subject_id);
    return listedReinstatement(ctx, tx, row.line_id, { lift: own, limitMinor: input.limitMinor });
  }
  return undefined;
}

/**
 * Lifts `lift` (restrictions standing on the line, read under its lock) through the line's own actions — REINSTATE a
 * suspension, UNFREEZE a freeze — optionally with a lower limit. A restriction that stands and is not in `lift` stays:
 * the line returns to it (a freeze beneath a lifted suspension), or keeps it (a suspension over a lifted freeze), and
 * the result names it as the restriction in force.
 */
export async function reinstateLine(
  ctx: OutcomeContext,
  tx: CaseTx,
  lineId: string,
  input: {
    lift: readonly StandingRestrictionRecord[];
    standing: readonly StandingRestrictionRecord[];
    actor: string;
    limitMinor?: number;
    note?: string;
    reasons?: readonly string[];
  },
): Promise<ReinstatedLine> {
  const line = await checkLowerLimitReasons(ctx, tx, lineId, input);
  const reasons = ['R_RISK_RESOLVED'];
  const actions: LineActionDone[] = [];
  const lifts: LiftRecord[] = [];
  for (const restriction of input.lift) {
    const done = await ctx.deps.core.lineAction(tx, lineId, {
      type: liftOf(restriction),
      reasons,
      actor: input.actor,
      automated: false,
      note: input.note,
    });
    actions.push(done);
    lifts.push({ restrictionId: restriction.actionId, byActionId: done.actionId });
  }
  if (input.limitMinor !== undefined && input.limitMinor < Number(line.limit_minor)) {
    // The restriction is lifted, but the limit is cut: the borrower is told why (and may appeal the cut).
    actions.push(
      await ctx.deps.core.lineAction(tx, lineId, {
        type: 'LIMIT_DECREASE',
        // Present: checkLowerLimitReasons refused a lower limit without them (and the core refuses none).
        reasons: input.reasons ?? [],
        actor: input.actor,
        automated: false,
        limitMinor: input.limitMinor,
        note: 'reinstated with a lower limit',
      }),
    );
  }
  const lifted = new Set(input.lift.map((r) => r.actionId));
  const remaining = input.standing.find((r) => !lifted.has(r.actionId));
  return { lineId, actions, lifts, ...(remaining ? { restrictionInForce: remaining.actionId } : {}) };
}

/** One cut an upheld appeal undoes: the line's limit raised from `fromLimitMinor` back to `toLimitMinor`. */
type RestoreStep = {
  readonly cutActionId: string;
  readonly fromLimitMinor: number;
  readonly toLimitMinor: number;
};

/** What upholding an appeal against limit cuts does to the limit (see cutRemedy). */
type CutRemedy =
  | {
      readonly kind: 'restore';
      readonly cut: LockedLimitCut;
      readonly steps: readonly RestoreStep[];
      readonly toLimitMinor: number;
      /** Cuts of the target left beneath another action's limit change, and that change; empty when none. */
      readonly detail: Record<string, unknown>;
    }
  | { readonly kind: 'stands'; readonly cut: LockedLimitCut; readonly detail: Record<string, unknown> };

/** Statuses a line's limit can be raised from (the line state machine's LIMIT_INCREASE). */
const RESTORABLE: ReadonlySet<string> = new Set(['ACTIVE', 'DRAW_FROZEN']);

/**
 * The limits a reviewer's `limitMinor` may restore to: above what the cuts that stand left, and at most the limit
 * just before the oldest of them (for a cut no longer standing, its own).
 */
function restoreBounds(cut: LockedLimitCut): { minExclusive: number; max: number } {
  const newest = cut.standing[0];
  const oldest = cut.standing.at(-1);
  return newest && oldest
    ? { minExclusive: newest.newLimitMinor, max: oldest.prevLimitMinor }
    : { minExclusive: cut.newLimitMinor, max: cut.prevLimitMinor };
}

/**
 * The cuts undone on the way from the line's limit to `toLimitMinor`: the standing cuts newest first, each raised back
 * to the limit before it, the last one only as far as `toLimitMinor`.
 */
function restoreSteps(cut: LockedLimitCut, toLimitMinor: number): RestoreStep[] {
  const steps: RestoreStep[] = [];
  let from = cut.lineLimitMinor;
  for (const standing of cut.standing) {
    const to = Math.min(standing.prevLimitMinor, toLimitMinor);
    if (to <= from) break;
    steps.push({ cutActionId: standing.actionId, fromLimitMinor: from, toLimitMinor: to });
    from = to;
  }
  return steps;
}

/**
 * An appeal against a limit cut (the action), or against a decision that cut the limit (once or more), upheld,
 * restores the limit the cuts took away: each cut that still stands is undone, newest first, back to the limit before
 * the oldest of them, or to the reviewer's `limitMinor` (above what the cuts left, never above what they took: an
 * appeal remedies, it grants no new credit). Read under the line's lock in the uphold's transaction.
 *
 * What another action did to the limit since stands, and is recorded, not silently overridden: nothing is restored
 * above a limit a later change set. If a newer change (a cut, a raise, a temporary limit of another decision or a
 * person) lies over all the cuts, nothing is restored; if it lies between them, the cuts above it are undone back to
 * the limit it set, and those beneath it stay (that change was made on the line as the earlier cuts left it, and it
 * was not appealed: the borrower may appeal it on its own). A line that can no longer be raised (suspended, closed,
 * revoked) keeps its limit too. Undefined when the appeal is not against a cut.
 */
async function cutRemedy(
  ctx: OutcomeContext,
  tx: CaseTx,
  appeal: AppealRow,
  input: ResolveInput,
  reinstating: boolean,
): Promise<CutRemedy | undefined> {
  if (!appeal.line_id) return undefined;
  const cut = await ctx.deps.core.lockedLimitCutOf(tx, appeal.line_id, appeal.target_id);
  if (!cut) return undefined;
  const bounds = restoreBounds(cut);
  if (
    input.limitMinor !== undefined &&
    (input.limitMinor > bounds.max || input.limitMinor <= bounds.minExclusive)
  )
    throw new LgError(
      'LG_VALIDATION',
      `an upheld appeal against a limit cut restores a limit above ${bounds.minExclusive} (what the cuts left) and ` +
        `at most ${bounds.max} (the limit before them)`,
      { field: 'limitMinor', ...bounds },
    );
  if (cut.standing.length === 0)
    return { kind: 'stands', cut, detail: { limitChangeInForce: cut.latestLimitChangeId } };
  if (!RESTORABLE.has(cut.lineStatus) && !reinstating)
    return { kind: 'stands', cut, detail: { lineStatusInForce: cut.lineStatus } };
  const toLimitMinor = input.limitMinor ?? bounds.max;
  const steps = restoreSteps(cut, toLimitMinor);
  if (steps.length === 0) return { kind: 'stands', cut, detail: { limitInForceMinor: cut.lineLimitMinor } };
  const detail =
    cut.beneath.length > 0 ? { limitChangeInForce: cut.changeOverBeneath, cutsBeneath: cut.beneath } : {};
  return { kind: 'restore', cut, steps, toLimitMinor, detail };
}

/**
 * The restore: each step a LIMIT_INCREASE through the core's own raise path, with its own ledger entry and the reason
 * the borrower is shown (R_RISK_RESOLVED), naming the appeal and the cut it undoes. The per-borrower cap is read under
 * the borrower's lock there. A person's restore is not fitted silently under the cap (as an approved application is
 * not): past it, the uphold is refused with LG_BORROWER_CAP_EXCEEDED and the room, the case stays open (nothing of the
 * uphold is written), and the reviewer may restore less with `limitMinor`.
 */
async function restoreLimit(
  ctx: OutcomeContext,
  tx: CaseTx,
  appeal: AppealRow,
  remedy: Extract<CutRemedy, { kind: 'restore' }>,
  actor: string,
): Promise<Record<string, unknown>> {
  const lineId = appeal.line_id as string;
  const cuts: Record<string, unknown>[] = [];
  for (const step of remedy.steps) {
    const done = await ctx.deps.core.lineAction(tx, lineId, {
      type: 'LIMIT_INCREASE',
      reasons: ['R_RISK_RESOLVED'],
      actor,
      automated: false,
      limitMinor: step.toLimitMinor,
      note: `appeal ${appeal.id} upheld: restores the limit cut by ${step.cutActionId}`,
    });
    if (done.clipped)
      throw new LgError(
        'LG_BORROWER_CAP_EXCEEDED',
        'restoring the limit would take the borrower past the per-borrower cap',
        { roomMinor: done.newLimitMinor, restoreToMinor: remedy.toLimitMinor, reasons: ['R_BORROWER_CAP'] },
      );
    cuts.push({
      cutActionId: step.cutActionId,
      actionId: done.actionId,
      fromLimitMinor: done.prevLimitMinor,
      toLimitMinor: done.newLimitMinor,
    });
  }
  return { fromLimitMinor: remedy.cut.lineLimitMinor, toLimitMinor: remedy.toLimitMinor, cuts };
}

/** What the borrower is told of the limit after an upheld appeal against a cut (added to the reviewer's words). */
function limitWords(remedy: CutRemedy): { zh: string; en: string } {
  if (remedy.kind === 'restore') {
    const to = formatMoney({ amountMinor: remedy.toLimitMinor, currency: remedy.cut.currency });
    const restored = { zh: `您的额度已恢复至 ${to}。`, en: `Your credit limit is restored to ${to}.` };
    if (remedy.cut.beneath.length === 0) return restored;
    return {
      zh: `${restored.zh}部分被申诉的调整之后您的额度另有变化，该变化继续有效。`,
      en:
        `${restored.en} Part of the reduction you appealed was followed by another change to your line, ` +
        'which stands.',
    };
  }
  return {
    zh: '您的额度在被申诉的调整之后已有新的变化，当前额度以最新调整为准。',
    en: 'Your line has changed since the action you appealed; the latest change to it stands.',
  };
}

/**
 * What an upheld appeal remedies, read under the line's lock: the restrictions it was against that still stand
 * (`appealed`: in force, or a freeze beneath a suspension), and the limit cuts it was against (an action, or a
 * decision that cut the limit once or more, perhaps with the restriction). A reviewer's `limitMinor` on an appeal
 * that lifts a restriction is the reinstatement's lower limit, as before; then the cuts are not restored.
 */
async function appealRemedy(ctx: OutcomeContext, tx: CaseTx, appeal: AppealRow, input: ResolveInput) {
  const standing = appeal.line_id ? await ctx.deps.core.lockedStandingRestrictions(tx, appeal.line_id) : [];
  const appealed = restrictionsOf(standing, appeal.target_id);
  // Lifting the restriction in force leaves the line ACTIVE or DRAW_FROZEN, whose limit can be raised again.
  const reinstating = appealed.some((r) => r.inForce);
  const cut =
    appealed.length > 0 && input.limitMinor !== undefined
      ? undefined
      : await cutRemedy(ctx, tx, appeal, input, reinstating);
  return { standing, appealed, cut };
}

/**
 * What stood on the appeal's line when it was decided, read under the line's lock before the decision acts: the line's
 * status, the restriction in force, the restrictions the appeal was against that still stood (in force or beneath a
 * suspension; empty when lifted or replaced meanwhile), and for an appeal against limit cuts, the limit change in
 * force and the cuts that still stood. Recorded with the decision, so an auditor reads from the ledger alone what it
 * found; null without a line.
 */
async function standingWhenDecided(
  ctx: OutcomeContext,
  tx: CaseTx,
  appeal: AppealRow,
): Promise<Record<string, unknown> | null> {
  if (!appeal.line_id) return null;
  const standing = await ctx.deps.core.lockedStandingRestrictions(tx, appeal.line_id);
  const cut = await ctx.deps.core.lockedLimitCutOf(tx, appeal.line_id, appeal.target_id);
  const line = await ctx.deps.rows.lineRow(tx, appeal.line_id);
  return {
    lineStatus: line?.status ?? null,
    restrictionInForce: standing.find((r) => r.inForce)?.actionId ?? null,
    appealedStanding: restrictionsOf(standing, appeal.target_id).map((r) => r.actionId),
    ...(cut
      ? {
          cut: {
            actionId: cut.actionId,
            limitChangeInForce: cut.latestLimitChangeId,
            limitMinor: cut.lineLimitMinor,
            standing: cut.standing.map((c) => c.actionId),
          },
        }
      : {}),
  };
}

/**
 * The appeal.decided entry: what the appeal was against, on which line, case and borrower, who decided, and what stood
 * on the line when they did (standingWhenDecided); an uphold adds what it lifted and did to the limit.
 */
function appealDecidedEntry(
  appeal: AppealRow,
  decision: {
    state: 'UPHELD' | 'REJECTED';
    by: string;
    at: number;
    whenDecided: Record<string, unknown> | null;
    /** The commitment to the outcome texts sealed in the appeal's row (sealAppealOutcome). */
    outcomeHmac: string;
    done?: Record<string, unknown>;
  },
) {
  return {
    entryId: `${appeal.id}:decided`,
    kind: 'appeal.decided',
    subjectId: appeal.id,
    recordedAt: decision.at,
    payload: {
      appealId: appeal.id,
      state: decision.state,
      by: decision.by,
      caseId: appeal.case_id,
      borrowerId: appeal.borrower_id,
      lineId: appeal.line_id,
      target: { kind: appeal.target_kind, id: appeal.target_id },
      whenDecided: decision.whenDecided,
      outcomeHmac: decision.outcomeHmac,
      ...decision.done,
    },
  };
}

async function findAppealOf(ctx: OutcomeContext, tx: CaseTx, row: CaseRow): Promise<AppealRow> {
  const appeal = await ctx.deps.rows.findAppeal(tx, row.subject_id);
  if (!appeal) throw new LgError('LG_NOT_FOUND', `no appeal ${row.subject_id}`);
  return appeal;
}

async function upholdAppeal(
  ctx: OutcomeContext,
  tx: CaseTx,
  row: CaseRow,
  input: ResolveInput,
  actor: string,
): Promise<Record<string, unknown>> {
  const appeal = await findAppealOf(ctx, tx, row);
  const whenDecided = await standingWhenDecided(ctx, tx, appeal);
  // An appeal is against one action, or a decision and every action it took on the line: upheld, it lifts those
  // restrictions where they still stand, read under the line's lock, and no other. A newer restriction (a suspension
  // for days past due, a legal one that cannot be appealed) is not what the borrower appealed, and stands; one already
  // lifted has nothing to undo.
  const { standing, appealed, cut: remedy } = await appealRemedy(ctx, tx, appeal, input);
  const inForce = standing.find((r) => r.inForce);
  const reinstated: Partial<ReinstatedLine> =
    appealed.length > 0 && appeal.line_id
      ? await reinstateLine(ctx, tx, appeal.line_id, {
          lift: appealed,
          standing,
          actor,
          limitMinor: input.limitMinor,
          reasons: input.reasons,
          note: `appeal ${appeal.id} upheld`,
        })
      : inForce
        ? { restrictionInForce: inForce.actionId }
        : {};
  // Against limit cuts, it undoes those that stand, newest first (or records the newer change that stands over them).
  const limit: Record<string, unknown> =
    remedy === undefined
      ? {}
      : remedy.kind === 'restore'
        ? { restored: await restoreLimit(ctx, tx, appeal, remedy, actor), ...remedy.detail }
        : remedy.detail;
  const words = remedy ? limitWords(remedy) : undefined;
  const texts = textsOf(input);
  const now = ctx.deps.clock.now();
  const { outcomeHmac, ...outcome } = sealAppealOutcome(
    ctx.deps.crypto,
    appeal.id,
    words ? { zh: `${texts.zh} ${words.zh}`.trim(), en: `${texts.en} ${words.en}`.trim() } : texts,
  );
  await ctx.deps.rows.updateAppeal(tx, appeal.id, { state: 'UPHELD', ...outcome, resolved_at: now });
  await appendToLedger(tx, [
    appealDecidedEntry(appeal, {
      state: 'UPHELD',
      by: actor,
      at: now,
      whenDecided,
      outcomeHmac,
      done: {
        // Each restriction the uphold lifted, with the action that lifted it; empty when none still stood.
        lifted: reinstated.lifts ?? [],
        // A restriction the uphold left in force (a newer one, or one the appealed restriction stood over or under):
        // the record says why the line is still restricted; null when the line is restricted no more.
        restrictionInForce: reinstated.restrictionInForce ?? null,
        // The limit the cuts took, restored cut by cut; or the newer change (or status) that stands instead, and the
        // cuts left beneath another action's change.
        ...limit,
      },
    }),
  ]);
  return {
    appealId: appeal.id,
    target: { kind: appeal.target_kind, id: appeal.target_id },
    whenDecided,
    ...reinstated,
    ...limit,
  };
}

/** What a borrower can still do after a rejected appeal (issue 11: say why and what next). */
export const AFTER_REJECTION = {
  zh: '如您对结果仍有异议，可通过 App 内“投诉”提交投诉，或拨打国家金融监督管理总局消费者投诉热线 12378。',
  en: 'If you still disagree, you can file a complaint in the app ("Complaints") or call the NFRA consumer hotline 12378.',
} as const;

async function rejectAppeal(
  ctx: OutcomeContext,
  tx: CaseTx,
  row: CaseRow,
  input: ResolveInput,
  actor: string,
) {
  const appeal = await findAppealOf(ctx, tx, row);
  const whenDecided = await standingWhenDecided(ctx, tx, appeal);
  const now = ctx.deps.clock.now();
  const texts = textsOf(input);
  const { outcomeHmac, ...outcome } = sealAppealOutcome(ctx.deps.crypto, appeal.id, {
    zh: `${texts.zh} ${AFTER_REJECTION.zh}`.trim(),
    en: `${texts.en} ${AFTER_REJECTION.en}`.trim(),
  });
  await ctx.deps.rows.updateAppeal(tx, appeal.id, { state: 'REJECTED', ...outcome, resolved_at: now });
  await appendToLedger(tx, [
    appealDecidedEntry(appeal, { state: 'REJECTED', by: actor, at: now, whenDecided, outcomeHmac }),
  ]);
  return { appealId: appeal.id, target: { kind: appeal.target_kind, id: appeal.target_id }, whenDecided };
}
