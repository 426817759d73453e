import type { CreditDisputeRecord, FieldCrypto } from '../compliance/index.js';
import type { Clock, LenderCalendar, UnitGuard } from '../domain/index.js';
import type { CommitPageCursor, IdGenerator } from '../domain/index.js';
import type { ReasonLang } from '../domain/index.js';
import type { LineActionType, LockedLimitCut } from '../domain/index.js';
import type { SlaPolicy } from './model.js';
import type {
  AppealRow,
  CaseAlertRecord,
  CaseAlertSummary,
  CaseDecisionOwner,
  CaseDrawRecord,
  CaseEvidenceRow,
  CaseFilter,
  CaseLedgerEntry,
  CaseLineActionRecord,
  CaseLineRecord,
  CaseNoteRow,
  CaseRow,
  ComplaintRow,
  PendingChangeRow,
} from './records.js';

/**
 * A dbTx of src/store, opaque to the cases: they only hand it back to the ports below, so a case, its ledger entry
 * and the change it causes commit in one transaction. The ports' implementations name the real type.
 */
export type CaseTx = object;
/** Where a read runs: the store's database, or a dbTx when the read must see (or lock) what the unit wrote. */
export type CaseDb = object;
/** A synchronous unit of the embedded store (the monitor writes its alerts' cases in it). */
export type CaseSyncTx = object;

/** The part of src/store's Store the cases use: its dialect, its database, its units of work. */
export interface CaseStore {
  readonly kind: 'sqlite' | 'postgres';
  readonly db: CaseDb;
  /** `guard`: what commits with the unit beyond its own rows (the request's idempotency key). */
  transaction<T>(work: (tx: CaseTx) => Promise<T>, guard?: UnitGuard<T>): Promise<T>;
}

/** An API key as four eyes reads it: who holds it, who issued it, and the key it was made with (if rotated). */
export interface CaseKeyRecord {
  readonly id: string;
  readonly user_id: string | null;
  readonly issued_by: string | null;
  readonly issued_with_key_id: string | null;
}

/** A page of a decision's line actions: those after `after` (exclusive; none: from the first), at most `limit`. */
export interface CaseActionPage {
  readonly after?: { readonly createdAt: number; readonly id: string };
  readonly limit: number;
}

/**
 * The cases' rows, implemented in src/store/cases.ts and src/store/case-evidence.ts. Every read and write takes the
 * handle to run on (CaseStore.db or a dbTx). Updates are compare-and-set: a concurrent change fails with LG_CONFLICT.
 */
export interface CaseRowsPort {
  insertCases(db: CaseDb, rows: readonly CaseRow[]): Promise<number>;
  insertCasesSync(sql: CaseSyncTx, rows: readonly CaseRow[]): void;
  /** LG_NOT_FOUND when there is none; `lock` takes the row lock on PostgreSQL. */
  findCase(db: CaseDb, kind: CaseStore['kind'], id: string, lock?: boolean): Promise<CaseRow>;
  findCaseBySubject(db: CaseDb, type: string, subjectId: string): Promise<CaseRow | undefined>;
  updateCase(db: CaseDb, id: string, fromState: string, patch: Partial<Omit<CaseRow, 'id'>>): Promise<void>;
  listCases(db: CaseDb, filter: CaseFilter): Promise<{ rows: CaseRow[]; next: string | null }>;
  openCasesPastDue(db: CaseDb, now: number, limit: number): Promise<CaseRow[]>;
  escalatedPastDue(db: CaseDb, now: number, limit: number): Promise<CaseRow[]>;
  casesForStats(db: CaseDb, from: number, to: number, rowsMax: number): Promise<CaseRow[]>;
  alertCaseOutcomes(
    db: CaseDb,
    borrowerId: string,
    limit: number,
  ): Promise<{ state: string; outcome: string | null }[]>;
  insertNote(db: CaseDb, row: CaseNoteRow): Promise<void>;
  notesOf(db: CaseDb, caseId: string): Promise<CaseNoteRow[]>;
  insertAppeal(db: CaseDb, row: AppealRow): Promise<void>;
  findAppeal(db: CaseDb, id: string): Promise<AppealRow | undefined>;
  appealsOf(db: CaseDb, borrowerId: string, limit: number): Promise<AppealRow[]>;
  openAppealsOnLine(db: CaseDb, lineId: string): Promise<AppealRow[]>;
  /** The borrower's appeals, open or decided, against any of `targetIds`, oldest first. */
  appealsCovering(db: CaseDb, borrowerId: string, targetIds: readonly string[]): Promise<AppealRow[]>;
  /** Locks the borrower's row until the transaction ends (PostgreSQL; SQLite's single writer is the lock there). */
  lockBorrower(db: CaseDb, kind: CaseStore['kind'], borrowerId: string): Promise<void>;
  updateAppeal(db: CaseDb, id: string, patch: Partial<Omit<AppealRow, 'id'>>): Promise<void>;
  insertComplaint(db: CaseDb, row: ComplaintRow): Promise<void>;
  findComplaint(db: CaseDb, id: string): Promise<ComplaintRow | undefined>;
  complaintsOf(db: CaseDb, borrowerId: string, limit: number): Promise<ComplaintRow[]>;
  updateComplaint(
    db: CaseDb,
    id: string,
    expect: { state: string; extended?: 'no' },
    patch: Partial<Omit<ComplaintRow, 'id'>>,
  ): Promise<void>;
  insertPendingChange(db: CaseDb, row: PendingChangeRow): Promise<void>;
  findPendingChange(
    db: CaseDb,
    kind: CaseStore['kind'],
    id: string,
    lock?: boolean,
  ): Promise<PendingChangeRow>;
  listPendingChanges(
    db: CaseDb,
    filter: { state?: string; limit: number; before?: string },
  ): Promise<{ rows: PendingChangeRow[]; next: string | null }>;
  settlePendingChange(db: CaseDb, id: string, patch: Partial<Omit<PendingChangeRow, 'id'>>): Promise<void>;
  setPendingChangeResult(db: CaseDb, id: string, patch: { result: string; state?: 'FAILED' }): Promise<void>;
  pendingChangesDue(db: CaseDb, now: number, limit: number): Promise<string[]>;
  /**
   * Who holds (user_id) and who issued (issued_by, an actor) each of these API keys, and the key a user's own key was
   * made with (issued_with_key_id); unknown ids are left out.
   */
  keyIssuers(db: CaseDb, keyIds: readonly string[]): Promise<CaseKeyRecord[]>;
  userById(db: CaseDb, id: string): Promise<{ id: string; name: string; role: string } | undefined>;
  ledgerOf(db: CaseDb, subjectId: string, limit?: number): Promise<CaseLedgerEntry[]>;
  // Evidence from the other modules' tables (src/store/case-evidence.ts).
  decisionOwner(db: CaseDb, decisionId: string): Promise<CaseDecisionOwner | undefined>;
  applicationRow(db: CaseDb, id: string): Promise<CaseEvidenceRow | undefined>;
  drawRow(db: CaseDb, id: string): Promise<CaseDrawRecord | undefined>;
  lineActionRow(db: CaseDb, id: string): Promise<CaseLineActionRecord | undefined>;
  lineRow(db: CaseDb, id: string): Promise<CaseLineRecord | undefined>;
  linesOfBorrower(db: CaseDb, borrowerId: string): Promise<CaseLineRecord[]>;
  /**
   * A page of the actions decision `decisionId` took on the line (trace id = the decision), oldest first (created_at,
   * then id), after `page.after`, at most `page.limit`.
   */
  lineActionsOfDecision(
    db: CaseDb,
    lineId: string,
    decisionId: string,
    page: CaseActionPage,
  ): Promise<CaseLineActionRecord[]>;
  /** The line's actions, newest first, at most `limit`. */
  lineHistory(db: CaseDb, lineId: string, limit?: number): Promise<CaseLineActionRecord[]>;
  alertRow(db: CaseDb, id: string): Promise<CaseAlertRecord | undefined>;
  borrowerAlerts(db: CaseDb, borrowerId: string, limit?: number): Promise<CaseAlertSummary[]>;
  eventsByIds(db: CaseDb, ids: readonly string[]): Promise<CaseEvidenceRow[]>;
  distinctDevicesOf(db: CaseDb, borrowerId: string, limit?: number): Promise<string[]>;
}

/** The monitor's hook: opens a case per new alert in the unit of work that writes the alerts. */
export interface CaseAlertFollowUp {
  inTx(tx: CaseTx, alerts: readonly CaseAlertRecord[]): Promise<void>;
  inSync(syncSql: CaseSyncTx, alerts: readonly CaseAlertRecord[]): void;
}

/**
 * What src/cases needs from the other modules, declared here and wired in src/app. Writes take the caller's dbTx so
 * that a case outcome and the core change it causes commit together with their ledger entries, or not at all.
 */
export interface CaseCorePort {
  approveReview(
    tx: CaseTx,
    applicationId: string,
    input: { actor: string; limitMinor: number; annualRate: number; note?: string },
  ): Promise<{ lineId: string | null; limitMinor: number | null; annualRate: number | null }>;
  /**
   * Refuses, with the error the approval would give, a grant that could not apply now (not in review, past the
   * per-borrower or APR cap, a partner no longer in force): judged before a grant is proposed for a second person.
   */
  checkReviewApproval(
    tx: CaseTx,
    applicationId: string,
    input: { actor: string; limitMinor: number; annualRate: number },
  ): Promise<void>;
  /** The case keeps the reviewer's note (sealed with its notes); the core's entry does not hold it. */
  declineReview(
    tx: CaseTx,
    applicationId: string,
    input: { actor: string; reasons: readonly string[] },
  ): Promise<unknown>;
  /** `allowed`: the held statuses this release may start from (default: every held status). */
  releaseDraw(
    tx: CaseTx,
    drawId: string,
    actor: string,
    allowed?: readonly string[],
  ): Promise<{ loanId: string; amountMinor: number }>;
  /**
   * Refuses, with the error the release would give, a release that could not apply now (the draw no longer held, the
   * line frozen, closed, short of credit, a hard rule): judged before a release is proposed for a second person.
   */
  checkDrawRelease(tx: CaseTx, drawId: string): Promise<void>;
  cancelDraw(
    tx: CaseTx,
    drawId: string,
    input: { actor: string; reasons: readonly string[]; allowed?: readonly string[] },
  ): Promise<unknown>;
  stopCooldown(tx: CaseTx, drawId: string, input: { actor: string; why: string }): Promise<void>;
  /** The draw's line and borrower, for scoping and case intake. */
  drawOwner(drawId: string): Promise<{ lineId: string; borrowerId: string; status: string } | undefined>;
  /** A line action by a person (or a job), in the caller's dbTx; the port appends its ledger entry. */
  lineAction(
    tx: CaseTx,
    lineId: string,
    input: {
      type: LineActionType;
      reasons: readonly string[];
      actor: string;
      automated: boolean;
      limitMinor?: number;
      note?: string;
      /** The decision the action carries out (a person applying a held automated action keeps its decision). */
      traceId?: string;
    },
  ): Promise<{
    actionId: string;
    outcome: string;
    newStatus: string;
    prevLimitMinor: number;
    newLimitMinor: number;
    /** A cut stopped at the outstanding balance, or a raise stopped at the per-borrower cap. */
    clipped: boolean;
  }>;
  explainLine(lineId: string, lang: ReasonLang): Promise<unknown>;
  /**
   * Locks the line for the rest of the caller's dbTx and reads the restrictions standing on it, the one in force (that
   * sets its status) first, then a freeze standing beneath a suspension; empty when the line is not restricted. Each
   * is lifted by its own action (a suspension by REINSTATE, a freeze by UNFREEZE), which lifts no other.
   */
  lockedStandingRestrictions(tx: CaseTx, lineId: string): Promise<readonly StandingRestrictionRecord[]>;
  /**
   * Locks the line for the rest of the caller's dbTx and reads the applied limit cuts that are `targetId` (an action
   * id, or every cut the decision `targetId` took on the line) with the line as it is, its latest limit change, and
   * which of the cuts still stand; undefined when the target is no applied cut on the line.
   */
  lockedLimitCutOf(tx: CaseTx, lineId: string, targetId: string): Promise<LockedLimitCut | undefined>;
  /** The restrictions standing on SUSPENDED and DRAW_FROZEN lines: one row per restriction (in force or beneath). */
  restrictedLines(): Promise<
    { lineId: string; borrowerId: string; status: string; restrictionId: string | null; reasons: string[] }[]
  >;
}

/** A restriction standing on a line, as the core reads it under the line's lock. */
export interface StandingRestrictionRecord {
  readonly actionId: string;
  /** The decision behind it: an automated one, or one a person applied after the guard held it. */
  readonly traceId: string | null;
  readonly type: 'FREEZE_DRAW' | 'SUSPEND';
  /** The restriction that sets the line's status; false for a freeze standing beneath a suspension. */
  readonly inForce: boolean;
  /** Taken for a fraud reason: lifting it is a four-eyes operation (line.lift_fraud_restriction). */
  readonly fraud: boolean;
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

/** A decision as a case shows it: its context and trace opened (they are sealed at rest). */
export interface CaseDecisionPort {
  evidence(decisionId: string): Promise<CaseEvidenceRow | null>;
}

/** A page of subjects whose units committed after a follower's place. */
export interface IntakePage<T> {
  /** The read's snapshot (src/domain/commit-order.ts): once every page is read, the follower's place. */
  readonly snapshot: string;
  readonly items: readonly T[];
  /** The page's last subject (its transaction id and id), where the next page starts; undefined when it is empty. */
  readonly last: { readonly xid: string; readonly id: string } | undefined;
}

/**
 * Intake's reads on a database several processes write (PostgreSQL): the subjects that have no case yet whose unit
 * committed after a cursor, in commit order, at most `limit` a page. Not by created_at: that is the writer's clock,
 * stamped before its unit commits, so a process whose clock lags, or a unit that commits late, wrote it behind a sweep
 * that had read past that instant.
 */
export interface CommittedIntakePort {
  /** Where a sweep that starts now follows from (a snapshot): taken before its first read by time. */
  followFrom(): Promise<string>;
  reviewApplications(from: CommitPageCursor, limit: number): Promise<IntakePage<IntakeItem>>;
  /** Draws held (HOLD, REVIEW), and CHALLENGE draws created at or before `challengedBy` (their window is over). */
  heldDraws(
    from: CommitPageCursor,
    read: { readonly limit: number; readonly challengedBy: number },
  ): Promise<IntakePage<IntakeItem>>;
  guardHeldActions(from: CommitPageCursor, limit: number): Promise<IntakePage<IntakeItem>>;
  openAlerts(from: CommitPageCursor, limit: number): Promise<IntakePage<CaseAlertRecord>>;
  /**
   * CHALLENGE draws with no case whose window ended since the last sweep (created_at in [since - windowMs,
   * now - windowMs]): the one subject that becomes work by time alone, with no write to follow.
   */
  timedOutChallenges(window: { since: number; now: number; windowMs: number }): Promise<IntakeItem[]>;
}

/**
 * What intake reads from the tables of the modules that did the work: committed rows only, the subjects that have no
 * case yet, each read bounded. By time (created_at, the writer's clock) where one process writes the database; `id`
 * narrows a read to one subject (intake right after a request).
 */
export interface CaseIntakePort {
  /** Present when several processes write the database: the sweep follows what they committed (above). */
  readonly committed?: CommittedIntakePort;
  /** Applications decided REVIEW that opened no line, created since `since`. */
  reviewApplications(since: number, id?: string): Promise<IntakeItem[]>;
  /** Draws held (HOLD, REVIEW), or CHALLENGE draws older than `windowMs` with no step-up result. */
  heldDraws(window: { since: number; now: number; windowMs: number }, id?: string): Promise<IntakeItem[]>;
  /** Line actions the blast-radius guard turned into REVIEW. */
  guardHeldActions(since: number, id?: string): Promise<IntakeItem[]>;
  openAlerts(since: number): Promise<CaseAlertRecord[]>;
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
  record(tx: CaseTx, row: Omit<CreditDisputeRecord, 'open_key'>): Promise<void>;
  decide(
    tx: CaseTx,
    disputeId: string,
    decision: { outcome: 'CORRECTED' | 'REJECTED'; textZh: string; textEn: string; actor: string },
  ): Promise<Record<string, unknown>>;
  /** Sends recorded corrections to the bureau (after the resolution committed). */
  flush(): Promise<unknown>;
}

export interface CaseMetricsPort {
  slaBreached(type: string): void;
}

export interface CaseConfig extends LenderCalendar {
  readonly sla: SlaPolicy;
  /** A CHALLENGE draw with no step-up result after this long becomes a held-draw case. */
  readonly challengeWindowMs: number;
  /** COOLDOWN draws are released this long after the draw (see core/held-draws.ts). */
  readonly coolingOffMs: number;
  /** How far back intake looks on its first sweep after a start. */
  readonly intakeLookbackMs: number;
}

export interface CaseDeps {
  readonly store: CaseStore;
  readonly rows: CaseRowsPort;
  readonly clock: Clock;
  readonly ids: IdGenerator;
  readonly config: CaseConfig;
  readonly core: CaseCorePort;
  readonly intake: CaseIntakePort;
  readonly decisions: CaseDecisionPort;
  /** Seals and opens what borrowers and reviewers write in appeals and complaints (compliance/sealed-cases.ts). */
  readonly crypto: FieldCrypto;
  readonly monitor?: CaseMonitorPort;
  readonly metrics?: CaseMetricsPort;
  /** Bound late (compliance is wired after the cases); a dispute without it is refused. */
  readonly disputes?: () => CaseDisputePort | undefined;
}
