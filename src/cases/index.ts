/** People in the loop (issue 11): cases and queues, outcomes, the borrower's side, four eyes. */
import type { ReasonLang, UnitGuard } from '../domain/index.js';
import type { DisputeView } from '../compliance/index.js';
import type { CaseFilter } from './records.js';
import {
  extendComplaint,
  fileAppeal,
  fileComplaint,
  myAppeal,
  myAppeals,
  myComplaint,
  myComplaints,
  myExplanation,
  myLines,
  type AppealInput,
  type AppealView,
  type ComplaintView,
} from './borrower.js';
import {
  FourEyes,
  FOUR_EYES_DEFAULTS,
  type ChangeRefusal,
  type FourEyesConfig,
  type FourEyesParty,
} from './four-eyes.js';
import { alertFollowUp, createIntakeSweeper, intakeSubject } from './intake.js';
import type { ComplaintCategory } from './model.js';
import {
  applyApprovedResolution,
  resolveCase,
  returnRefusedResolution,
  type ResolveInput,
  type ResolveResult,
  type OutcomeContext,
} from './outcomes.js';
import type { CaseAlertFollowUp, CaseDeps } from './ports.js';
import { addNote, assignCase, listQueue, moveCase, readCase, sweepSla } from './service.js';
import type { CaseView, NoteView } from './rows.js';
import { computeStats } from './stats.js';
import {
  borrowerCancelDraw,
  challengeResult,
  stopCooldown,
  type CancelledDraw,
  type ChallengedDraw,
  type StoppedDraw,
} from './draws.js';
import { openReinstatementCases } from './restrictions.js';
import { afterDisputeResolved, raiseDispute, type RaiseDisputeInput } from './disputes.js';

export interface CaseService {
  readonly deps: CaseDeps;
  readonly fourEyes: FourEyes;
  /** For the monitor: opens a case per new alert in the monitor's unit of work. */
  readonly alertFollowUp: CaseAlertFollowUp;
  list(filter: CaseFilter): ReturnType<typeof listQueue>;
  get(id: string): ReturnType<typeof readCase>;
  // A write's guard is typed with its answer: the unit's value, which a guard that says the response stores with the key.
  assign(
    id: string,
    input: { assignee: string; actor: string },
    guard?: UnitGuard<CaseView>,
  ): ReturnType<typeof assignCase>;
  move(
    id: string,
    input: Parameters<typeof moveCase>[2],
    guard?: UnitGuard<CaseView>,
  ): ReturnType<typeof moveCase>;
  note(
    id: string,
    input: { actor: string; text: string },
    guard?: UnitGuard<NoteView>,
  ): ReturnType<typeof addNote>;
  /** `by`: the person resolving and the key they used (an outcome that waits for a checker records it). */
  resolve(
    id: string,
    input: ResolveInput,
    by: FourEyesParty,
    guard?: UnitGuard<ResolveResult>,
  ): ReturnType<typeof resolveCase>;
  /** A credit-report dispute: its record and its CREDIT_REPORT_DISPUTE case, in one dbTx. */
  raiseDispute(input: RaiseDisputeInput, guard?: UnitGuard<DisputeView>): ReturnType<typeof raiseDispute>;
  extendComplaint(
    caseId: string,
    input: { reason: string; actor: string },
    guard?: UnitGuard<ComplaintView>,
  ): ReturnType<typeof extendComplaint>;
  stats(range: { from: number; to: number }): Promise<ReturnType<typeof computeStats>>;
  /** Opens cases for work committed since the last sweep; the jobs timer and `lineguard cases sweep` call it. */
  intake(): Promise<number>;
  intakeSubject(subject: Parameters<typeof intakeSubject>[1]): Promise<number>;
  sweepSla(): ReturnType<typeof sweepSla>;
  /** Opens a REINSTATEMENT case for each fraud restriction whose alerts were all false positives. */
  reviewRestrictions(): Promise<number>;
  challenge(
    drawId: string,
    input: { result: 'PASSED' | 'FAILED'; actor: string },
    guard?: UnitGuard<ChallengedDraw>,
  ): ReturnType<typeof challengeResult>;
  stopCooldown(
    drawId: string,
    input: { actor: string; why: string },
    guard?: UnitGuard<StoppedDraw>,
  ): Promise<StoppedDraw>;
  borrower: {
    cancelDraw(
      borrowerId: string,
      drawId: string,
      guard?: UnitGuard<CancelledDraw>,
    ): ReturnType<typeof borrowerCancelDraw>;
    lines(borrowerId: string): ReturnType<typeof myLines>;
    explanation(borrowerId: string, lineId: string, lang: ReasonLang): ReturnType<typeof myExplanation>;
    fileAppeal(
      borrowerId: string,
      input: AppealInput,
      guard?: UnitGuard<AppealView>,
    ): ReturnType<typeof fileAppeal>;
    appeals(borrowerId: string, lang: ReasonLang): ReturnType<typeof myAppeals>;
    appeal(borrowerId: string, id: string, lang: ReasonLang): ReturnType<typeof myAppeal>;
    fileComplaint(
      borrowerId: string,
      input: { category: ComplaintCategory; text: string },
      guard?: UnitGuard<ComplaintView>,
    ): ReturnType<typeof fileComplaint>;
    complaints(borrowerId: string, lang: ReasonLang): ReturnType<typeof myComplaints>;
    complaint(borrowerId: string, id: string, lang: ReasonLang): ReturnType<typeof myComplaint>;
  };
}

/** Stats read at most this many cases (the report says when it was truncated). */
const STATS_ROWS_MAX = 100_000;

export function createCaseService(
  deps: CaseDeps,
  fourEyesConfig: FourEyesConfig = FOUR_EYES_DEFAULTS,
  appealDays?: number,
): CaseService {
  const fourEyes = new FourEyes({
    store: deps.store,
    rows: deps.rows,
    clock: deps.clock,
    ids: deps.ids,
    config: fourEyesConfig,
    crypto: deps.crypto,
  });
  const ctx: OutcomeContext = { deps, fourEyes };
  const resolution = {
    apply: (
      tx: Parameters<typeof applyApprovedResolution>[1],
      payload: unknown,
      c: { maker: string; checker: string; changeId: string },
    ) => applyApprovedResolution(ctx, tx, payload as Parameters<typeof applyApprovedResolution>[2], c),
    onRefused: (
      tx: Parameters<typeof returnRefusedResolution>[1],
      payload: unknown,
      refusal: ChangeRefusal,
    ) => returnRefusedResolution(ctx, tx, payload, refusal),
  };
  fourEyes.register('draw.release', resolution);
  fourEyes.register('line.lift_fraud_restriction', resolution);
  // An upheld appeal that restores a cut limit to at least the threshold; src/app routes a manual raise's own payload.
  fourEyes.register('line.limit_increase', resolution);
  const sweeper = createIntakeSweeper(deps);
  return {
    deps,
    fourEyes,
    alertFollowUp: alertFollowUp(deps),
    list: (filter) => listQueue(deps, filter),
    get: (id) => readCase(deps, id),
    assign: (id, input, guard) => assignCase(deps, id, input, guard),
    move: (id, input, guard) => moveCase(deps, id, input, guard),
    note: (id, input, guard) => addNote(deps, id, input, guard),
    async resolve(id, input, by, guard) {
      const result = await resolveCase(ctx, id, input, by, guard);
      // The correction leaves for the bureau after the commit; the case it answers with is unchanged by it.
      if (result.case.type === 'CREDIT_REPORT_DISPUTE') await afterDisputeResolved(deps);
      return result;
    },
    raiseDispute: (input, guard) => raiseDispute(deps, input, guard),
    extendComplaint: (caseId, input, guard) => extendComplaint(deps, caseId, input, guard),
    async stats(range) {
      const rows = await deps.rows.casesForStats(deps.store.db, range.from, range.to, STATS_ROWS_MAX + 1);
      return computeStats(rows.slice(0, STATS_ROWS_MAX), {
        truncated: rows.length > STATS_ROWS_MAX,
        sla: deps.config.sla,
      });
    },
    intake: () => sweeper.sweep(),
    intakeSubject: (subject) => intakeSubject(deps, subject),
    sweepSla: () => sweepSla(deps),
    reviewRestrictions: () => openReinstatementCases(deps),
    challenge: (drawId, input, guard) => challengeResult(deps, drawId, input, guard),
    async stopCooldown(drawId, input, guard) {
      const result = await stopCooldown(deps, drawId, input, guard);
      // Opening the held-draw case at once adds to the answer nothing the unit did not say.
      await intakeSubject(deps, { kind: 'draw', id: drawId });
      return result;
    },
    borrower: {
      cancelDraw: (b, drawId, guard) => borrowerCancelDraw(deps, b, drawId, guard),
      lines: (b) => myLines(deps, b),
      explanation: (b, lineId, lang) => myExplanation(deps, b, lineId, lang),
      fileAppeal: (b, input, guard) => fileAppeal(deps, b, input, appealDays, guard),
      appeals: (b, lang) => myAppeals(deps, b, lang),
      appeal: (b, id, lang) => myAppeal(deps, b, id, lang),
      fileComplaint: (b, input, guard) => fileComplaint(deps, b, input, guard),
      complaints: (b, lang) => myComplaints(deps, b, lang),
      complaint: (b, id, lang) => myComplaint(deps, b, id, lang),
    },
  };
}

export {
  AlertBook,
  alertRaisedTrail,
  listAlerts,
  type AlertFeedPage,
  type AlertPage,
  type AlertQuery,
  type AlertState,
  type AlertStatus,
  type AlertStore,
  type AlertView,
  type SystemAlertInput,
} from './alerts.js';
export type {
  CaseActionPage,
  CaseDeps,
  CaseConfig,
  CaseCorePort,
  CaseDecisionPort,
  CaseIntakePort,
  CaseDisputePort,
  CaseMonitorPort,
  CaseMetricsPort,
  CommittedIntakePort,
  IntakeItem,
  IntakePage,
  CaseAlertFollowUp,
  CaseDb,
  CaseRowsPort,
  CaseStore,
  CaseSyncTx,
  CaseTx,
} from './ports.js';
export type { RaiseDisputeInput } from './disputes.js';
export type { ResolveInput, ResolveResult } from './outcomes.js';
export { reinstateLine } from './outcomes.js';
export type { CaseView, NoteView } from './rows.js';
export type { CancelledDraw, ChallengedDraw, StoppedDraw } from './draws.js';
export {
  FourEyes,
  FOUR_EYES_DEFAULTS,
  FOUR_EYES_OPERATIONS,
  INSTALLATION_ISSUER,
  type FourEyesConfig,
  type FourEyesOperation,
  type FourEyesParty,
  type ChangeOperation,
  type ApplyContext,
  type ChangeRefusal,
  type PendingChangeView,
} from './four-eyes.js';
export {
  CASE_TYPES,
  CASE_STATES,
  COMPLAINT_CATEGORIES,
  DISPOSITIONS,
  OUTCOMES_BY_TYPE,
  SLA_DEFAULTS_MS,
  slaPolicy,
  canTransition,
  type CaseType,
  type CaseState,
  type ComplaintCategory,
} from './model.js';
export { AFTER_REJECTION } from './outcomes.js';
export type {
  AppealRow,
  CaseFilter,
  CaseNoteRow,
  CaseRow,
  ComplaintRow,
  PendingChangeRow,
} from './records.js';
export type {
  CaseAlertRecord,
  CaseAlertSummary,
  CaseDecisionOwner,
  CaseDrawRecord,
  CaseEvidenceRow,
  CaseLedgerEntry,
  CaseLineActionRecord,
  CaseLineRecord,
} from './records.js';
