import type { Clock } from '../domain/index.js';
import type { IdGenerator } from '../domain/index.js';
import type { ReasonLang } from '../domain/index.js';
import type { LineActionType } from '../domain/index.js';
import type { DbTx, Store } from '../store/db.js';
import type { AlertRow } from '../store/cases.js';
import type { SlaPolicy } from './model.js';

/**
 * What src/cases needs from the other modules, declared here and wired in src/app. Writes take the caller's dbTx so
 * that a case outcome and the core change it causes commit together with their ledger entries, or not at all.
 */
export interface CaseCorePort {
  approveReview(
    tx: DbTx,
    applicationId: string,
    input: { actor: string; limitMinor: number; annualRate: number; note?: string },
  ): Promise<{ lineId: string | null; limitMinor: number | null; annualRate: number | null }>;
  declineReview(
    tx: DbTx,
    applicationId: string,
    input: { actor: string; reasons: readonly string[]; note?: string },
  ): Promise<unknown>;
  /** `allowed`: the held statuses this release may start from (default: every held status). */
  releaseDraw(
    tx: DbTx,
    drawId: string,
    actor: string,
    allowed?: readonly string[],
  ): Promise<{ loanId: string; amountMinor: number }>;
  cancelDraw(
    tx: DbTx,
    drawId: string,
    input: { actor: string; reasons: readonly string[]; allowed?: readonly string[] },
  ): Promise<unknown>;
  stopCooldown(tx: DbTx, drawId: string, input: { actor: string; why: string }): Promise<void>;
  /** The draw's line and borrower, for scoping and case intake. */
  drawOwner(drawId: string): Promise<{ lineId: string; borrowerId: string; status: string } | undefined>;
  /** A line action by a person (or a job), in the caller's dbTx; the port appends its ledger entry. */
  lineAction(
    tx: DbTx,
    lineId: string,
    input: {
      type: LineActionType;
      reasons: readonly string[];
      actor: string;
      automated: boolean;
      limitMinor?: number;
      note?: string;
    },
  ): Promise<{ actionId: string; outcome: string; newStatus: string }>;
  explainLine(lineId: string, lang: ReasonLang): Promise<unknown>;
  /** SUSPENDED and DRAW_FROZEN lines with the action that restricted them. */
  restrictedLines(): Promise<
    { lineId: string; borrowerId: string; status: string; restrictionId: string | null; reasons: string[] }[]
  >;
}

/** What the monitor tells a case: its alerts and the open-alert count the draw strategy reads. */
export interface CaseMonitorPort {
  /** Closes the alert once its case is resolved (keeps the monitor's open-alert count in step). */
  closeAlert(alertId: string): Promise<void>;
  /** List hits for the borrower's own identifiers, as of now. */
  listHits(borrowerId: string): unknown[];
}

/** Work found for a person: the subject, its line and borrower, and when the machine left it. */
export interface IntakeItem {
  readonly id: string;
  readonly lineId: string | null;
  readonly borrowerId: string | null;
  readonly createdAt: number;
}

/**
 * What intake reads from the tables of the modules that did the work (committed rows only; each read bounded, the
 * next sweep picks up the rest). `id` narrows a read to one subject (intake right after a request).
 */
export interface CaseIntakePort {
  /** Applications decided REVIEW that opened no line, created since `since`. */
  reviewApplications(since: number, id?: string): Promise<IntakeItem[]>;
  /** Draws held (HOLD, REVIEW), or CHALLENGE draws older than `windowMs` with no step-up result. */
  heldDraws(window: { since: number; now: number; windowMs: number }, id?: string): Promise<IntakeItem[]>;
  /** Line actions the blast-radius guard turned into REVIEW. */
  guardHeldActions(since: number, id?: string): Promise<IntakeItem[]>;
  openAlerts(since: number): Promise<AlertRow[]>;
  /** State and outcome of a borrower's alert cases (at most `limit`), for the reinstatement rule. */
  alertCaseOutcomes(borrowerId: string, limit: number): Promise<{ state: string; outcome: string | null }[]>;
}

/**
 * Credit-report disputes, kept by src/compliance: the record and the bureau correction commit in the case's dbTx.
 * Target, record and views are compliance's shapes; the case only carries them.
 */
export interface CaseDisputePort {
  checkTarget(
    borrowerId: string,
    target: {
      kind: 'INQUIRY' | 'DELINQUENCY_REPORT' | 'REPORT_ITEM';
      id: string;
      correctValue?: number | boolean;
    },
  ): Promise<{ lineId: string | null }>;
  record(
    tx: DbTx,
    row: {
      id: string;
      borrower_id: string;
      target_kind: string;
      target_id: string;
      claim: string;
      text: string;
      raised_by: string;
      case_id: string;
      state: string;
      due_at: number;
      outcome_zh: string | null;
      outcome_en: string | null;
      correction_id: string | null;
      created_at: number;
      resolved_at: number | null;
    },
  ): Promise<void>;
  decide(
    tx: DbTx,
    disputeId: string,
    decision: { outcome: 'CORRECTED' | 'REJECTED'; textZh: string; textEn: string; actor: string },
  ): Promise<Record<string, unknown>>;
  /** Sends recorded corrections to the bureau (after the resolution committed). */
  flush(): Promise<unknown>;
}

export interface CaseMetricsPort {
  slaBreached(type: string): void;
}

export interface CaseConfig {
  readonly sla: SlaPolicy;
  /** A CHALLENGE draw with no step-up result after this long becomes a held-draw case. */
  readonly challengeWindowMs: number;
  /** COOLDOWN draws are released this long after the draw (see core/held-draws.ts). */
  readonly coolingOffMs: number;
  /** How far back intake looks on its first sweep after a start. */
  readonly intakeLookbackMs: number;
}

export interface CaseDeps {
  readonly store: Store;
  readonly clock: Clock;
  readonly ids: IdGenerator;
  readonly config: CaseConfig;
  readonly core: CaseCorePort;
  readonly intake: CaseIntakePort;
  readonly monitor?: CaseMonitorPort;
  readonly metrics?: CaseMetricsPort;
  /** Bound late (compliance is wired after the cases); a dispute without it is refused. */
  readonly disputes?: () => CaseDisputePort | undefined;
}
