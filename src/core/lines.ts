import type { UnitGuard } from '../domain/index.js';
import { RESTRICTIVE_ACTIONS, type LineActionType } from '../domain/index.js';
import { LgError, instantAfter } from '../domain/index.js';
import { applyLineAction as transition, type LineState } from '../domain/index.js';
import { getReason, isKnownReason, personReasonsProblem } from '../domain/index.js';
import { restrictionLiftedBy, standingRestrictions } from './standing.js';
import {
  appendToLedger,
  sealLineActionNote,
  type LedgerAppend,
  type SealedText,
} from '../compliance/index.js';
import type { CoreDeps, GuardTrip, UnitTx } from './deps.js';
import type { LineStateChange } from './ports.js';
import { actionClassOf, type ActionClass } from '../engine/index.js';
import { lineStateOf } from './repo.js';
import { assertLinePriceWithinCap } from './line-price.js';
import { assertRateInProductRange, productOfLine } from './products.js';
import type { ActionRow, LineRow } from './ports.js';

export interface LineActionInput {
  readonly type: LineActionType;
  /** Ordered, most important first; every code must be in the catalogue. */
  readonly reasons: readonly string[];
  readonly automated: boolean;
  /** API key id (manual) or the job/monitor that acted (automated). */
  readonly actor?: string;
  /** Decision id when automated. */
  readonly traceId?: string;
  readonly limitMinor?: number;
  readonly annualRate?: number;
  readonly appealable?: boolean;
  readonly note?: string;
  /** CLOSE for cause: the line ends REVOKED. */
  readonly revoke?: boolean;
  readonly tempUntil?: number;
  /**
   * Set by a caller that found, before the transaction, that this lift needs no second person because the
   * restriction it lifts was not taken for fraud: under the line's lock that restriction is looked at again, and a
   * fraud one found there (another process froze the line meanwhile) refuses the action with LG_CONFLICT,
   * details.restrictedForFraud.
   */
  readonly unlessRestrictedForFraud?: boolean;
  /**
   * Set by a caller that found, before the transaction, that this RATE_CHANGE needs no second person because it was no
   * raise of the rate it read: under the line's lock the rate is looked at again, and a raise found there (another
   * process cut the rate meanwhile) refuses the action with LG_CONFLICT, details.rateRaised.
   */
  readonly unlessRateRaised?: boolean;
}

export interface LineActionResult {
  readonly actionId: string;
  readonly lineId: string;
  readonly type: LineActionType;
  /** APPLIED, or REVIEW when the blast-radius guard held the action for a person. */
  readonly outcome: 'APPLIED' | 'REVIEW';
  readonly reasons: readonly string[];
  readonly prevStatus: string;
  readonly newStatus: string;
  readonly prevLimitMinor: number;
  readonly newLimitMinor: number;
  readonly newAnnualRate: number;
  /** A limit cut stopped at the outstanding balance, or a raise at the borrower cap. */
  readonly clipped: boolean;
}

/** What one applied action produced inside a dbTx: the result, its ledger entry, and a guard trip to raise after commit. */
export interface ActionOutcome {
  readonly result: LineActionResult;
  readonly ledger: LedgerAppend;
  readonly trip?: GuardTrip;
}

export function checkReasons(reasons: readonly string[]): void {
  if (reasons.length === 0)
    throw new LgError('LG_VALIDATION', 'a line action needs at least one reason code (PIPL Art. 24)');
  const unknown = reasons.filter((code) => !isKnownReason(code));
  if (unknown.length > 0)
    throw new LgError('LG_VALIDATION', `unknown reason codes: ${unknown.join(', ')}`, { unknown });
}

/**
 * A person's line action (the API's manual actions): reasons a person may give, and for a restriction one that says
 * why; and no appeal taken away that the catalogue gives (checkPersonAppealable).
 */
export function checkPersonReasons(
  type: LineActionType,
  reasons: readonly string[],
  appealable?: boolean,
): void {
  checkReasons(reasons);
  const problem = personReasonsProblem(reasons, RESTRICTIVE_ACTIONS.has(type));
  if (problem !== undefined)
    throw new LgError('LG_VALIDATION', `${type}: ${problem}`, { field: 'reasons', reasons });
  checkPersonAppealable(type, reasons, appealable);
}

/**
 * Whether a person's action can be appealed is the catalogue's word: appealable:false is refused when any of its
 * reasons is appealable (a fraud freeze: the Anti-Telecom-Fraud Law Art. 32 lets the borrower contest it), since it
 * would take away the borrower's appeal on one person's say. It may only say what the catalogue says, or make
 * appealable what it would not be.
 */
function checkPersonAppealable(type: LineActionType, reasons: readonly string[], appealable?: boolean): void {
  if (appealable !== false || !defaultAppealable(reasons)) return;
  throw new LgError(
    'LG_VALIDATION',
    `${type}: appealable:false would take away an appeal the reasons give the borrower ` +
      `(${reasons.filter((code) => getReason(code).appealable).join(', ')})`,
    { field: 'appealable', reasons },
  );
}

/** The actions that lift a restriction. */
const LIFTS: ReadonlySet<LineActionType> = new Set(['UNFREEZE', 'REINSTATE']);

/** Appealable unless every reason says it is not (an automated action inherits the catalogue's judgement). */
function defaultAppealable(reasons: readonly string[]): boolean {
  return reasons.some((code) => getReason(code).appealable);
}

/** A RATE_CHANGE to a rate above the line's rate now. */
function raisesRate(input: Pick<LineActionInput, 'type' | 'annualRate'>, state: LineState): boolean {
  return (
    input.type === 'RATE_CHANGE' && input.annualRate !== undefined && input.annualRate > state.annualRate
  );
}

function raisesLimit(input: LineActionInput): boolean {
  return input.type === 'LIMIT_INCREASE' || input.type === 'TEMP_LIMIT';
}

/**
 * A raise past the room under the per-borrower cap (cap − the other open lines' exposure) when the line is already at
 * or above that room, so not even a clipped raise is left; undefined otherwise.
 */
function capLeavesNoRoom(
  deps: CoreDeps,
  line: LineRow,
  raise: { requestedMinor: number; otherExposureMinor: number },
): LgError | undefined {
  const room = deps.config.borrowerCapMinor - raise.otherExposureMinor;
  if (raise.requestedMinor <= room || room > Number(line.limit_minor)) return undefined;
  return new LgError(
    'LG_BORROWER_CAP_EXCEEDED',
    'the borrower is at the per-borrower cap; the limit cannot rise',
    {
      capMinor: deps.config.borrowerCapMinor,
      reasons: ['R_BORROWER_CAP'],
    },
  );
}

/** The per-borrower cap (a hard rule) bounds raises: the new limit stops at cap − other open lines' limits. */
async function capLimit(
  deps: CoreDeps,
  tx: UnitTx,
  line: LineRow,
  input: LineActionInput,
): Promise<{ input: LineActionInput; clipped: boolean }> {
  if (!raisesLimit(input) || input.limitMinor === undefined) return { input, clipped: false };
  const others = (await deps.coreStore.lockBorrowerExposureInTx(tx, line.borrower_id, line.id)).exposureMinor;
  const room = deps.config.borrowerCapMinor - others;
  if (input.limitMinor <= room) return { input, clipped: false };
  const full = capLeavesNoRoom(deps, line, { requestedMinor: input.limitMinor, otherExposureMinor: others });
  if (full) throw full;
  return { input: { ...input, limitMinor: room }, clipped: true };
}

/**
 * Refuses, with the error applying it would give, a line action that cannot apply to the line as it is now: unknown
 * reasons, a move the state machine refuses (a LIMIT_INCREASE to at most the current limit, a LIMIT_DECREASE to at
 * least it, a raise of a suspended line, a TEMP_LIMIT that is no raise or has already ended, an UNFREEZE with no
 * freeze to lift), a rate the line's loans could not be priced at (judgeNewRate), or a raise the per-borrower cap
 * leaves no room for. Nothing is written and no lock is taken. A change that waits for a second person is judged so
 * before it is proposed, so that a checker is never asked to approve what could only fail; it is judged again, under
 * the line's lock, when it is applied (the line may have changed meanwhile).
 */
export async function checkLineAction(deps: CoreDeps, lineId: string, input: LineActionInput): Promise<void> {
  checkReasons(input.reasons);
  const line = await deps.coreStore.line(lineId);
  const standing = LIFTS.has(input.type) ? await standingRestrictions(deps, line) : [];
  const freezeBeneath = standing.some((r) => !r.inForce);
  const before = lineStateOf(line);
  judgeNewRate(deps, line, before, transition(before, { ...input, freezeBeneath }, deps.clock.now()).state);
  if (!raisesLimit(input) || input.limitMinor === undefined) return;
  const others = await deps.coreStore.openExposure(line.borrower_id, line.id);
  const full = capLeavesNoRoom(deps, line, { requestedMinor: input.limitMinor, otherExposureMinor: others });
  if (full) throw full;
}

/**
 * A rate the action sets is judged on the all-in cost of the loans the line can make, as a draw would price them
 * (line-price.ts): a rate change never prices a line so that a loan on it would cost more than the cap all-in, nor at
 * a rate outside its product's range. A cut is judged for the range only: it makes no loan dearer, and refusing it
 * would keep a line priced above the cap (one priced before this check) where it is.
 */
function judgeNewRate(deps: CoreDeps, line: LineRow, before: LineState, after: LineState): void {
  if (after.annualRate === before.annualRate) return;
  if (after.annualRate < before.annualRate) assertRateInProductRange(productOfLine(line), after.annualRate);
  else assertLinePriceWithinCap(deps, line, after.annualRate);
}

/**
 * Applies one action to a line inside the caller's dbTx (the caller appends `ledger` and commits). Automated
 * restrictive actions first pass the engine's blast-radius guard; past its ceiling the action is recorded as a
 * REVIEW (R_BLAST_RADIUS_GUARD) and the line is left as it was.
 */
export async function applyActionInTx(
  deps: CoreDeps,
  tx: UnitTx,
  lineId: string,
  raw: LineActionInput,
): Promise<ActionOutcome> {
  checkReasons(raw.reasons);
  // Whatever path a person's action takes (the route, an approved change), it keeps the appeal its reasons give.
  if (!raw.automated) checkPersonAppealable(raw.type, raw.reasons, raw.appealable);
  const line = await deps.coreStore.lineInTx(tx, lineId, true);
  // Taken under the line's lock and after the line's newest action (instantAfter), as a draw's time is after the line's
  // newest draw: a line's actions are then created in the order they commit, whichever process's clock runs behind,
  // and what reads them newest first (the restriction in force, the latest restriction or lift, the limit change in
  // force, store/core-reads.ts) reads them in that order. Before, an action taken at a process whose clock lagged was
  // stamped before the line's last one: a fraud freeze sorted behind the credit freeze it followed, and one person's
  // UNFREEZE lifted it as if it were the credit one.
  const now = instantAfter(deps.clock.now(), await deps.coreStore.newestLineActionAtInTx(tx, lineId));
  const standing = LIFTS.has(raw.type) ? await standingRestrictions(deps, line, tx) : [];
  if (raw.unlessRestrictedForFraud === true && restrictionLiftedBy(standing, raw.type)?.fraud === true)
    throw new LgError(
      'LG_CONFLICT',
      'the line was restricted for fraud after this lift was checked: lifting it needs a second person',
      { lineId, restrictedForFraud: true },
    );
  const before = lineStateOf(line);
  if (raw.unlessRateRaised === true && raisesRate(raw, before))
    throw new LgError(
      'LG_CONFLICT',
      "the line's rate changed after this rate change was checked: it is now a raise, which needs a second person",
      { lineId, rateRaised: true, annualRate: before.annualRate },
    );
  const { input, clipped: capClipped } = await capLimit(deps, tx, line, raw);
  // A lift lifts its own restriction only: a freeze beneath a suspension outlasts the suspension's REINSTATE.
  const freezeBeneath = standing.some((r) => !r.inForce);
  const { state: after, clipped } = transition(before, { ...input, freezeBeneath }, now);
  // Under the line's lock, before anything is written: a refused rate leaves the line, its actions and the ledger.
  judgeNewRate(deps, line, before, after);
  const actionClass = actionClassOf(input.reasons);
  const guarded =
    input.automated &&
    RESTRICTIVE_ACTIONS.has(input.type) &&
    !(await guardAdmits(deps, tx, { type: input.type, actionClass, lineId }, now));
  const actionId = deps.ids.next();
  const reasons = guarded
    ? ['R_BLAST_RADIUS_GUARD', ...input.reasons.filter((r) => r !== 'R_BLAST_RADIUS_GUARD')]
    : [...input.reasons];
  const final = guarded ? before : after;
  if (!guarded) await writeLineState(deps, tx, { lineId, fromStatus: before.status, state: after, at: now });
  // The note is free text about the borrower: sealed in its row, the ledger entry commits to it (never the text).
  const note = sealLineActionNote(deps.crypto, actionId, input.note);
  const row = actionRow({
    deps,
    lineId,
    note,
    actionId,
    input,
    reasons,
    before,
    after: final,
    now,
    outcome: guarded ? 'REVIEW' : 'APPLIED',
    actionClass,
  });
  await deps.coreStore.insertLineActionInTx(tx, row);
  const result: LineActionResult = {
    actionId,
    lineId,
    type: input.type,
    outcome: guarded ? 'REVIEW' : 'APPLIED',
    reasons,
    prevStatus: before.status,
    newStatus: final.status,
    prevLimitMinor: before.limitMinor,
    newLimitMinor: final.limitMinor,
    newAnnualRate: final.annualRate,
    clipped: clipped || capClipped,
  };
  const ledger: LedgerAppend = {
    entryId: actionId,
    kind: 'line.action',
    subjectId: lineId,
    recordedAt: now,
    payload: {
      ...result,
      traceId: input.traceId ?? null,
      automated: input.automated,
      actor: input.actor ?? null,
      appealable: row.appealable === 1,
      // null: the action has no note, which the ledger then proves too (a note written onto it later disagrees).
      noteHmac: note?.hmac ?? null,
    },
  };
  const trip = guarded
    ? {
        lineId,
        actionType: input.type,
        actionClass,
        critical: actionClass === 'protective',
        reviewActionId: actionId,
        traceId: input.traceId,
        at: now,
      }
    : undefined;
  return { result, ledger, trip };
}

/**
 * Writes the new state. `available` is recomputed from the row's own outstanding balance in the same statement, so
 * a concurrent draw or repayment can never be lost; `status = prev` makes a stale writer fail instead of overwrite.
 */
async function writeLineState(deps: CoreDeps, tx: UnitTx, change: LineStateChange): Promise<void> {
  if (!(await deps.coreStore.setLineStateInTx(tx, change)))
    throw new LgError('LG_CONFLICT', 'the line changed while the action was applied; retry', {
      lineId: change.lineId,
    });
}

function actionRow(a: {
  deps: CoreDeps;
  lineId: string;
  actionId: string;
  input: LineActionInput;
  /** The note sealed (sealLineActionNote), null without one. */
  note: SealedText | null;
  reasons: readonly string[];
  before: LineState;
  after: LineState;
  now: number;
  outcome: 'APPLIED' | 'REVIEW';
  actionClass: ActionClass;
}): ActionRow {
  const { input } = a;
  return {
    id: a.actionId,
    line_id: a.lineId,
    type: input.type,
    outcome: a.outcome,
    reasons: JSON.stringify(a.reasons),
    trace_id: input.traceId ?? null,
    automated: input.automated ? 1 : 0,
    actor: input.actor ?? null,
    appealable: (input.appealable ?? defaultAppealable(a.reasons)) ? 1 : 0,
    // Automated actions are shown to the borrower at once (their explanation endpoint is live from this instant).
    notice_at: input.automated ? a.now : null,
    prev_status: a.before.status,
    new_status: a.after.status,
    prev_limit_minor: a.before.limitMinor,
    new_limit_minor: a.after.limitMinor,
    prev_rate: a.before.annualRate,
    new_rate: a.after.annualRate,
    requested_limit_minor: input.limitMinor ?? null,
    note: a.note?.sealed ?? null,
    created_at: a.now,
    action_class: a.actionClass,
  };
}

/**
 * The blast-radius guard's verdict on one class's budget, counting what every instance restricted in that class in
 * its window as well as this one. The fleet's count is read under the guard's lock (lockGuardInTx), which the action's
 * transaction keeps until it commits: admissions take turns across processes, each counting every one committed
 * before it, so two processes' bursts together never pass one ceiling (before, each read the committed count with no
 * lock, and actions in flight at another process were not in it). The ledger entry the caller appends is about the
 * line, hence its id for the lock's ledger chain.
 */
async function guardAdmits(
  deps: CoreDeps,
  tx: UnitTx,
  action: { type: LineActionType; actionClass: ActionClass; lineId: string },
  now: number,
): Promise<boolean> {
  const windowMs = deps.engine.guardWindowMs;
  if (windowMs !== undefined) await deps.coreStore.lockGuardInTx(tx, action.lineId);
  const fleet =
    windowMs === undefined
      ? undefined
      : await deps.coreStore.countAutomatedRestrictionsInTx(tx, now - windowMs, action.actionClass);
  return deps.engine.admit(
    action.type,
    await deps.coreStore.countActiveLinesInTx(tx),
    fleet,
    action.actionClass,
  );
}

/** The monitor's entry point: one action in its own dbTx (state, action row, ledger), alert after commit. */
export async function applyLineAction(
  deps: CoreDeps,
  lineId: string,
  input: LineActionInput,
  guard?: UnitGuard<LineActionResult>,
): Promise<LineActionResult> {
  // The unit's value is the answer, so that a guard that says the response stores it with the key; the guard trip
  // it may leave is raised after the commit and changes nothing in the answer.
  let trip: GuardTrip | undefined;
  const result = await deps.store.transaction(async (tx) => {
    const done = await applyActionInTx(deps, tx, lineId, input);
    await appendToLedger(tx, [done.ledger]);
    trip = done.trip;
    return done.result;
  }, guard);
  if (trip) await raiseTrip(deps, trip);
  return result;
}

export async function raiseTrip(deps: CoreDeps, trip: GuardTrip): Promise<void> {
  try {
    await deps.onGuardTrip?.(trip);
  } catch {
    // The REVIEW row is committed; an alert sink failing must not undo it or fail the caller.
  }
}

/**
 * True when a lift of `type` (UNFREEZE, REINSTATE) would lift a restriction taken for a fraud reason: the freeze or
 * the suspension it lifts, in force or beneath (a suspension's reasons say nothing of the freeze under it).
 */
export async function liftsFraudRestriction(
  deps: CoreDeps,
  line: Pick<LineRow, 'id' | 'status'>,
  type: LineActionType,
  tx?: UnitTx,
): Promise<boolean> {
  if (!LIFTS.has(type)) return false;
  return restrictionLiftedBy(await standingRestrictions(deps, line, tx), type)?.fraud === true;
}
