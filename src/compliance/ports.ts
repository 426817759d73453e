import type { UnitGuard } from '../domain/index.js';
import type { ConsentRecord, InquiryRecord, LedgerAppend } from './ledger.js';
import type { VolumeRow } from './case-volumes.js';
import type { SealedPairRow, SealedRows } from './reseal.js';

/**
 * What src/compliance needs from the database, declared here and implemented in src/store/compliance.ts (issue 10:
 * every query lives under src/store). Records keep the column names of their tables, so a row passes through as is.
 * Writes happen inside `unit`, one dbTx that also carries their ledger entries: a consent, an inquiry, a dispute, a
 * notice or a snapshot exists exactly when its ledger entry does.
 */
/** The consent and inquiry rows, as their tables keep them; declared with the other fact records ledger verify reads. */
export type { ConsentRecord, InquiryRecord } from './ledger.js';

/** What the consent gates need of a borrower row: its stored lookup hash and its sealed national ID. */
export interface BorrowerIdentity {
  id: string;
  national_id_hash: string;
  national_id_enc: string;
}

/** A borrower's consents and inquiries under `former` hashes (retired keys') moved to `current` (key rotation). */
export interface SubjectRekey {
  readonly borrowerId: string;
  readonly current: string;
  readonly former: readonly string[];
}

/** A notice to the borrower that a delinquency will be reported to the credit bureau (征信业管理条例 Art. 15). */
export interface DelinquencyNoticeRecord {
  id: string;
  borrower_id: string;
  loan_id: string;
  line_id: string;
  bucket: string;
  dpd: number;
  text_zh: string;
  text_en: string;
  notified_at: number;
  /** Not reported before this instant (notified_at + the notice period). */
  report_after: number;
  /** 'NOTIFIED' | 'REPORTED' | 'CURED' (repaid before the period ended: nothing is reported). */
  status: string;
  submission_id: string | null;
  reported_at: number | null;
  /** The loan id while the notice stands (NOTIFIED, REPORTED), null once CURED: unique, so a loan has one at a time. */
  active_loan_id: string | null;
}

/** What LineGuard sent, or is about to send, to the credit bureau: a delinquency or a correction (an outbox). */
export interface BureauSubmissionRecord {
  id: string;
  /** 'DELINQUENCY' | 'CORRECTION' */
  kind: string;
  subject_hash: string;
  borrower_id: string;
  bureau: string;
  /** JSON: what the bureau receives; sealed with the subject hash since sealing (sealed-submissions.ts). */
  payload: string;
  /** 'PENDING' | 'SENT' */
  status: string;
  created_at: number;
  sent_at: number | null;
}

/** A credit-report dispute (异议, 征信业管理条例 Art. 25): what is disputed, by whom, and how it ended. */
export interface CreditDisputeRecord {
  id: string;
  borrower_id: string;
  /** 'INQUIRY' | 'DELINQUENCY_REPORT' | 'REPORT_ITEM' */
  target_kind: string;
  /** The inquiry or notice id, or the report item's name. */
  target_id: string;
  /** JSON: for a report item, the value the borrower says is right. */
  claim: string;
  text: string;
  raised_by: string;
  case_id: string;
  /** 'OPEN' | 'CORRECTED' | 'REJECTED' */
  state: string;
  due_at: number;
  /** The reviewer's texts once decided; sealed as one token in outcome_zh since sealing (sealed-disputes.ts). */
  outcome_zh: string | null;
  outcome_en: string | null;
  correction_id: string | null;
  created_at: number;
  resolved_at: number | null;
  /** kind:target:borrower while OPEN, null once decided: unique, so two raises at once cannot both open one. */
  open_key: string | null;
}

/**
 * The end of an as-of day, the instant a snapshot's balances are reconstructed at: `date` is the day (YYYY-MM-DD),
 * `at` the first instant after it (epoch ms, exclusive).
 */
export interface BookInstant {
  readonly date: string;
  readonly at: number;
}

/**
 * Reads a portfolio snapshot and the monthly report need: the book as it stood at an instant (the end of the
 * snapshot's day, of the report's month), and flows over [from, to).
 */
export interface PortfolioReads {
  /**
   * Lines opened before `at`, by their status at `at`: the new status of the last action applied before it (every
   * status change is an applied line action with its prior and new status).
   */
  linesByStatusAt(at: number): Promise<{ status: string; n: number }[]>;
  /**
   * Loans started on or before `asOf.date`, each as it stood at `asOf.at`: outstanding principal = principal less the
   * principal part of the repayments paid before `at`; bucket = the new bucket of the latest change aged for a day up
   * to `asOf.date` (else the bucket before its first later change, else its bucket now: it never changed);
   * `settledAt` as recorded (a later one means not settled yet at `at`).
   */
  loanFacts(asOf: BookInstant): Promise<
    {
      loanId: string;
      borrowerId: string;
      method: string;
      bucket: string;
      startDate: string;
      principalMinor: number;
      outstandingMinor: number;
      settledAt: number | null;
    }[]
  >;
  /** Borrowers with the channel of each LOAN_APPROVAL consent given before `at`, oldest first (the latest wins). */
  loanApprovalChannels(at: number): Promise<{ borrowerId: string; channel: string }[]>;
  applicationOutcomes(from: number, to: number): Promise<{ outcome: string; n: number }[]>;
  appliedActionCounts(from: number, to: number): Promise<{ type: string; n: number }[]>;
  alerts(from: number, to: number): Promise<{ typologyId: string; status: string }[]>;
  inquiryCounts(
    from: number,
    to: number,
  ): Promise<{ purpose: string; kind: string; status: string; n: number }[]>;
  /** The stored results of application decisions in the window (sealed; JSON in clear when stored before). */
  applicationResults(from: number, to: number): Promise<{ id: string; result: string }[]>;
  appliedActions(
    from: number,
    to: number,
    types: readonly string[],
  ): Promise<{ type: string; reasons: string; automated: number }[]>;
  consentCounts(from: number, to: number): Promise<{ granted: number; withdrawn: number }>;
  /** Complaints created before `to` and not resolved before `from` (kind: the category; deadline: due_at). */
  complaintVolumeRows(from: number, to: number): Promise<VolumeRow[]>;
  /** Appeals created before `to` and not resolved before `from` (kind: the target's kind; deadline: deadline_at). */
  appealVolumeRows(from: number, to: number): Promise<VolumeRow[]>;
}

/** The writes of one unit of work (one dbTx). */
export interface ComplianceTx {
  appendLedger(entries: readonly LedgerAppend[]): Promise<void>;
  /** The borrower's national-ID lookup hash (read in this dbTx: the embedded store has one writer connection). */
  nationalIdHashOf(borrowerId: string): Promise<string | undefined>;
  consentsOf(hashes: readonly string[]): Promise<ConsentRecord[]>;
  insertConsent(row: ConsentRecord): Promise<void>;
  /** Sets the withdrawal unless already withdrawn; the updated row, or undefined when none was changed. */
  withdrawConsent(id: string, at: number, reason: string): Promise<ConsentRecord | undefined>;
  consentExists(id: string): Promise<boolean>;
  /** Locks the consent row (PostgreSQL), serialising two pulls under one consent. */
  lockConsent(id: string): Promise<void>;
  hardPullsSince(hashes: readonly string[], since: number): Promise<number>;
  insertInquiry(row: InquiryRecord): Promise<void>;
  /** Re-keys consents and inquiries (SubjectRekey); the borrowers some row of whose moved, and how many rows moved. */
  rekeySubjects(
    moves: readonly SubjectRekey[],
  ): Promise<{ borrowerIds: string[]; consents: number; inquiries: number }>;
  upsertSnapshot(asOf: string, metrics: string, at: number): Promise<void>;
  insertBaselineIfAbsent(name: string, baseline: string, at: number): Promise<void>;
  warningRuleIds(asOf: string): Promise<string[]>;
  insertWarning(row: {
    asOf: string;
    ruleId: string;
    value: number;
    threshold: number;
    detail: string;
    at: number;
  }): Promise<void>;
  /** False when the loan already has a standing notice (another process gave it). */
  insertNotice(row: DelinquencyNoticeRecord): Promise<boolean>;
  /** Moves a notice from NOTIFIED to `patch.status`; false when it was no longer NOTIFIED. */
  settleNotice(
    id: string,
    patch: { status: string; submission_id?: string; reported_at?: number; active_loan_id?: null },
  ): Promise<boolean>;
  insertSubmission(row: BureauSubmissionRecord): Promise<void>;
  /** PENDING → SENT; false when it was already marked (another process sent it too: the bureau dedupes by id). */
  markSubmissionSent(id: string, at: number): Promise<boolean>;
  /** False when an open dispute on the same target exists (its open_key is taken). */
  insertDispute(row: CreditDisputeRecord): Promise<boolean>;
  /** The open dispute on a target, if any (a second one is a conflict). */
  openDisputeOn(targetKind: string, targetId: string, borrowerId: string): Promise<string | undefined>;
  findDispute(id: string): Promise<CreditDisputeRecord | undefined>;
  /** Settles an OPEN dispute; false when it was no longer OPEN. */
  settleDispute(
    id: string,
    patch: Pick<
      CreditDisputeRecord,
      'state' | 'outcome_zh' | 'outcome_en' | 'correction_id' | 'resolved_at' | 'open_key'
    >,
  ): Promise<boolean>;
}

export interface ComplianceStore extends PortfolioReads {
  /** `guard`: what commits with the unit beyond its own rows (the request's idempotency key). */
  unit<T>(work: (tx: ComplianceTx) => Promise<T>, guard?: UnitGuard<T>): Promise<T>;
  /** The same writes inside a dbTx someone else opened (a case resolution); `tx` is that dbTx. */
  within(tx: unknown): ComplianceTx;
  consentsOf(hashes: readonly string[]): Promise<ConsentRecord[]>;
  borrowerIdByHashes(hashes: readonly string[]): Promise<string | undefined>;
  nationalIdHashOf(borrowerId: string): Promise<string | undefined>;
  borrowerIdentity(borrowerId: string): Promise<BorrowerIdentity | undefined>;
  /** Borrowers after `afterId` in id order, `limit` of them (key rotation pages through them). */
  borrowerIdentityPage(afterId: string, limit: number): Promise<BorrowerIdentity[]>;
  inquiriesOf(hashes: readonly string[], limit: number): Promise<InquiryRecord[]>;
  findInquiry(id: string): Promise<InquiryRecord | undefined>;
  markReportFound(inquiryId: string): Promise<void>;
  sandboxReport(subjectHash: string): Promise<string | undefined>;
  putSandboxReport(subjectHash: string, report: string, at: number): Promise<void>;
  sandboxSubmissions(subjectHash: string): Promise<{ id: string; kind: string; payload: string }[]>;
  insertSandboxSubmission(row: {
    id: string;
    subjectHash: string;
    kind: string;
    payload: string;
    at: number;
  }): Promise<void>;
  pendingSubmissions(limit: number): Promise<BureauSubmissionRecord[]>;
  baseline(name: string): Promise<string | undefined>;
  snapshotBefore(asOf: string): Promise<string | undefined>;
  latestSnapshot(): Promise<string | undefined>;
  snapshotOf(asOf: string): Promise<string | undefined>;
  snapshots(from: string, to: string, limit: number): Promise<string[]>;
  warnings(
    from: string,
    to: string,
    limit: number,
  ): Promise<
    {
      as_of: string;
      rule_id: string;
      value: number;
      threshold: number;
      alert_id: string | null;
      detail: string;
    }[]
  >;
  setWarningAlert(asOf: string, ruleId: string, alertId: string): Promise<void>;
  /** Open loans in a bucket other than `current` (M1 or worse), with no notice that is still NOTIFIED or REPORTED. */
  delinquentLoansWithoutNotice(
    current: string,
    limit: number,
  ): Promise<{ loanId: string; lineId: string; borrowerId: string; bucket: string; dpd: number }[]>;
  /** Notices still NOTIFIED whose period ended at or before `now`, with the loan's bucket now. */
  noticesDue(now: number, limit: number): Promise<(DelinquencyNoticeRecord & { current_bucket: string })[]>;
  noticesOf(borrowerId: string, limit: number): Promise<DelinquencyNoticeRecord[]>;
  findNotice(id: string): Promise<DelinquencyNoticeRecord | undefined>;
  disputesOf(borrowerId: string, limit: number): Promise<CreditDisputeRecord[]>;
  findDispute(id: string): Promise<CreditDisputeRecord | undefined>;
  /**
   * The disputes' sealed claims and texts (DISPUTE_STATEMENT), as `keys rotate-data` pages through them and writes
   * them back re-sealed, each row compare-and-set on what was read (reseal.ts).
   */
  readonly disputePairs: SealedRows<SealedPairRow>;
  /** The disputes' sealed outcome texts (DISPUTE_OUTCOME): decided disputes only, paged as disputePairs are. */
  readonly outcomePairs: SealedRows<SealedPairRow>;
  /** The bureau submissions' sealed payloads and subjects (BUREAU_SUBMISSION), paged as disputePairs are. */
  readonly submissionPairs: SealedRows<SealedPairRow>;
}
