import {
  DEFAULT_BUCKETS,
  MS_PER_DAY,
  lenderDayOf,
  type Clock,
  type IdGenerator,
  type LenderCalendar,
} from '../domain/index.js';
import type { BureauSubmission, CreditBureau } from './bureau.js';
import type { BureauSubmissionRecord, ComplianceStore, DelinquencyNoticeRecord } from './ports.js';
import type { FieldCrypto } from './crypto.js';
import { isSealedDataUnreadable } from './sealed-pair.js';
import {
  openSubmissionRow,
  resealSubmissions,
  sealSubmissionRow,
  type SubmissionResealResult,
} from './sealed-submissions.js';

/**
 * Reporting delinquency to the credit bureau, borrower first. 征信业管理条例 Art. 15: a lender that reports adverse
 * information must tell the borrower beforehand. The daily job gives every loan that became M1 or worse a recorded
 * notice (its text in Chinese and English, in the ledger, shown at /v1/me/bureau-notices), and reports it only once
 * the notice period has passed since that notice; a loan repaid back to current meanwhile is not reported.
 * Submissions leave through an outbox (bureau_submissions): recorded with their ledger entry, then sent; what each
 * reports, and about whom, is sealed at rest (sealed-submissions.ts).
 */
export const BUREAU_NOTICE_DAYS_DEFAULT = 7;
/** Loans noticed or reported per run, and submissions sent per run (the next run takes the rest). */
export const REPORTING_BATCH_MAX = 1_000;

export interface BureauReportingDeps {
  readonly store: ComplianceStore;
  readonly clock: Clock;
  readonly ids: IdGenerator;
  readonly bureau: CreditBureau;
  /** Seals each submission's payload and subject, and opens them to send (sealed-submissions.ts). */
  readonly crypto: FieldCrypto;
  /** Days between the notice and the earliest report. */
  readonly noticeDays: number;
  /** The bucket of a loan that is current (M0): anything else is reportable. */
  readonly currentBucket?: string;
  /** The lender's calendar (LINEGUARD_LENDER_UTC_OFFSET, minutes east of UTC): the day a notice names is the day there. */
  readonly lenderUtcOffsetMinutes?: number;
}

export interface BureauReportingResult {
  readonly noticesSent: number;
  readonly reported: number;
  readonly cured: number;
  readonly submissionsSent: number;
}

export interface BureauNoticeView {
  readonly id: string;
  readonly loanId: string;
  readonly lineId: string;
  readonly bucket: string;
  readonly dpd: number;
  readonly text: { readonly zh: string; readonly en: string };
  readonly notifiedAt: string;
  readonly reportAfter: string;
  readonly status: string;
  readonly reportedAt: string | null;
}

export interface BureauReporting {
  /** Notices for new delinquencies, reports for notices whose period has passed, then the outbox. */
  run(): Promise<BureauReportingResult>;
  /**
   * Sends PENDING submissions (delinquencies and dispute corrections) to the bureau. One that no held key opens is
   * left PENDING (sent once the key that sealed it is configured), and the others are sent.
   */
  flush(): Promise<number>;
  noticesOf(borrowerId: string): Promise<BureauNoticeView[]>;
  /** `lineguard keys rotate-data`: every submission sealed under the current key (sealed-submissions.ts). */
  reseal(pageSize: number): Promise<SubmissionResealResult>;
}

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * The notice's words, in both languages, with the date after which the report may be made: the lender's calendar date
 * of `reportAfter`, as the loan's due dates are.
 */
export function noticeText(
  input: { loanId: string; dpd: number; reportAfter: number },
  calendar: LenderCalendar,
) {
  const loan = input.loanId.slice(-6);
  const date = lenderDayOf(calendar, input.reportAfter);
  return {
    zh: `您尾号 ${loan} 的借款已逾期 ${input.dpd} 天。如在 ${date} 前仍未还清逾期款项，我们将依法向金融信用信息基础数据库报送逾期信息，这将影响您的信用记录。如您认为信息有误，可在 App 内提出异议。`,
    en: `Your loan ending ${loan} is ${input.dpd} days past due. If the overdue amount is not repaid by ${date}, we will report the delinquency to the credit bureau as the law requires, and it will affect your credit record. If you believe this is wrong, you can dispute it in the app.`,
  };
}

export function noticeView(row: DelinquencyNoticeRecord): BureauNoticeView {
  return {
    id: row.id,
    loanId: row.loan_id,
    lineId: row.line_id,
    bucket: row.bucket,
    dpd: Number(row.dpd),
    text: { zh: row.text_zh, en: row.text_en },
    notifiedAt: iso(Number(row.notified_at)),
    reportAfter: iso(Number(row.report_after)),
    status: row.status,
    reportedAt: row.reported_at === null ? null : iso(Number(row.reported_at)),
  };
}

export function createBureauReporting(deps: BureauReportingDeps): BureauReporting {
  const current = deps.currentBucket ?? DEFAULT_BUCKETS[0]?.name ?? 'M0';
  const periodMs = deps.noticeDays * MS_PER_DAY;

  async function notify(): Promise<number> {
    const loans = await deps.store.delinquentLoansWithoutNotice(current, REPORTING_BATCH_MAX);
    let sent = 0;
    for (const loan of loans) if (await giveNotice(deps, loan, periodMs)) sent += 1;
    return sent;
  }

  /** Reports (or, for a loan back to current, closes) every notice whose period has passed. */
  async function reportDue(): Promise<{ reported: number; cured: number }> {
    let reported = 0;
    let cured = 0;
    for (const notice of await deps.store.noticesDue(deps.clock.now(), REPORTING_BATCH_MAX)) {
      const now = deps.clock.now();
      if (notice.current_bucket === current) {
        if (await cureNotice(deps, notice, now)) cured += 1;
        continue;
      }
      if (await reportNotice(deps, notice, now)) reported += 1;
    }
    return { reported, cured };
  }

  async function flush(): Promise<number> {
    let sent = 0;
    for (const row of await deps.store.pendingSubmissions(REPORTING_BATCH_MAX))
      if (await sendSubmission(deps, row)) sent += 1;
    return sent;
  }

  return {
    async run() {
      const noticesSent = await notify();
      const { reported, cured } = await reportDue();
      return { noticesSent, reported, cured, submissionsSent: await flush() };
    },
    flush,
    async noticesOf(borrowerId) {
      return (await deps.store.noticesOf(borrowerId, 200)).map(noticeView);
    },
    reseal: (pageSize) => resealSubmissions(deps.store, deps.crypto, pageSize),
  };
}

type DelinquentLoan = Awaited<ReturnType<ComplianceStore['delinquentLoansWithoutNotice']>>[number];
type DueNotice = Awaited<ReturnType<ComplianceStore['noticesDue']>>[number];

/** One loan's notice, recorded with its ledger entry; false when another run gave it first. */
async function giveNotice(
  deps: BureauReportingDeps,
  loan: DelinquentLoan,
  periodMs: number,
): Promise<boolean> {
  const now = deps.clock.now();
  const reportAfter = now + periodMs;
  const text = noticeText({ loanId: loan.loanId, dpd: loan.dpd, reportAfter }, deps);
  const row: DelinquencyNoticeRecord = {
    id: deps.ids.next(),
    borrower_id: loan.borrowerId,
    loan_id: loan.loanId,
    line_id: loan.lineId,
    bucket: loan.bucket,
    dpd: loan.dpd,
    text_zh: text.zh,
    text_en: text.en,
    notified_at: now,
    report_after: reportAfter,
    status: 'NOTIFIED',
    submission_id: null,
    reported_at: null,
    active_loan_id: loan.loanId,
  };
  return deps.store.unit(async (tx) => {
    if (!(await tx.insertNotice(row))) return false;
    await tx.appendLedger([
      {
        entryId: row.id,
        kind: 'bureau.delinquency_notice',
        subjectId: loan.borrowerId,
        recordedAt: now,
        payload: {
          noticeId: row.id,
          borrowerId: loan.borrowerId,
          loanId: loan.loanId,
          bucket: loan.bucket,
          dpd: loan.dpd,
          reportAfter,
          textZh: text.zh,
          textEn: text.en,
        },
      },
    ]);
    return true;
  });
}

/** Closes the notice of a loan back to current; false when another run settled it first. */
async function cureNotice(deps: BureauReportingDeps, notice: DueNotice, now: number): Promise<boolean> {
  return deps.store.unit(async (tx) => {
    if (!(await tx.settleNotice(notice.id, { status: 'CURED', active_loan_id: null }))) return false;
    await tx.appendLedger([
      {
        entryId: `${notice.id}:cured`,
        kind: 'bureau.delinquency_notice_cured',
        subjectId: notice.borrower_id,
        recordedAt: now,
        payload: { noticeId: notice.id, loanId: notice.loan_id },
      },
    ]);
    return true;
  });
}

/** Reports a notice whose period has passed through the outbox; false when not reported (no subject, or settled). */
async function reportNotice(deps: BureauReportingDeps, notice: DueNotice, now: number): Promise<boolean> {
  const subjectHash = await deps.store.nationalIdHashOf(notice.borrower_id);
  if (!subjectHash) return false;
  const submissionId = deps.ids.next();
  const payload = {
    loanId: notice.loan_id,
    bucket: notice.current_bucket,
    noticeId: notice.id,
    notifiedAt: Number(notice.notified_at),
  };
  return deps.store.unit(async (tx) => {
    // The state guard makes a second process (or a rerun) report a notice at most once.
    if (
      !(await tx.settleNotice(notice.id, {
        status: 'REPORTED',
        submission_id: submissionId,
        reported_at: now,
      }))
    )
      return false;
    await tx.insertSubmission(
      sealSubmissionRow(deps.crypto, {
        id: submissionId,
        kind: 'DELINQUENCY',
        subject_hash: subjectHash,
        borrower_id: notice.borrower_id,
        bureau: deps.bureau.name,
        payload: JSON.stringify(payload),
        status: 'PENDING',
        created_at: now,
        sent_at: null,
      }),
    );
    await tx.appendLedger([
      {
        entryId: submissionId,
        kind: 'bureau.delinquency_reported',
        subjectId: notice.borrower_id,
        recordedAt: now,
        payload: { submissionId, borrowerId: notice.borrower_id, bureau: deps.bureau.name, ...payload },
      },
    ]);
    return true;
  });
}

/**
 * Sends one PENDING submission and marks it sent with its ledger entry; false when another run marked it first, or
 * when no held key opens it (it stays PENDING: the bureau is never sent what another row sealed, nor a token).
 */
async function sendSubmission(deps: BureauReportingDeps, stored: BureauSubmissionRecord): Promise<boolean> {
  let opened: ReturnType<typeof openSubmissionRow<BureauSubmissionRecord>>;
  try {
    opened = openSubmissionRow(deps.crypto, stored);
  } catch (error) {
    if (!isSealedDataUnreadable(error)) throw error;
    return false;
  }
  const { row, payloadHmac } = opened;
  const submission: BureauSubmission = {
    id: row.id,
    kind: row.kind as BureauSubmission['kind'],
    subjectHash: row.subject_hash,
    payload: JSON.parse(row.payload) as Record<string, unknown>,
  };
  await deps.bureau.submit(submission);
  const now = deps.clock.now();
  return deps.store.unit(async (tx) => {
    if (!(await tx.markSubmissionSent(row.id, now))) return false;
    await tx.appendLedger([
      {
        entryId: `${row.id}:sent`,
        kind: 'bureau.submission_sent',
        subjectId: row.borrower_id,
        recordedAt: now,
        payload: {
          submissionId: row.id,
          kind: row.kind,
          bureau: row.bureau,
          // A sealed submission's entry commits to what was sent instead of repeating it in clear.
          ...(payloadHmac === undefined ? { payload: submission.payload } : { payloadHmac }),
        },
      },
    ]);
    return true;
  });
}
