import type { UnitGuard } from '../domain/index.js';
import { createHash } from 'node:crypto';
import { MS_PER_DAY, canonicalJson, type Clock, type IdGenerator } from '../domain/index.js';
import { checkConsent, type ConsentPurpose } from './consent.js';
import type { ComplianceStore, InquiryRecord } from './ports.js';

/**
 * The credit bureau behind a connector (PBoC Credit Reference Center, Baihang, a foreign bureau). The gateway, not the
 * caller, decides whether an inquiry may happen: only with a valid consent for that purpose (征信业管理条例 Art. 18),
 * within the hard-inquiry throttle, and every inquiry — made or refused — is logged with who and why, in the ledger.
 */
export interface BureauReport {
  /** Outstanding consumer debt with other lenders, minor units. */
  readonly existingDebtMinor: number;
  /** A current delinquency with another lender. */
  readonly externalDelinquent: boolean;
  /** Hard inquiries by other lenders in the last 30 days (this lender's own pulls are counted from the log). */
  readonly inquiries30d: number;
}

/** The attributes only a pull may supply; a caller can never send them (src/core/bureau-gate.ts). */
export const BUREAU_ATTRIBUTES = ['existingDebtMinor', 'externalDelinquent', 'inquiries30d'] as const;

/** What LineGuard tells the bureau: a delinquency (after the borrower was told first) or a correction. */
export interface BureauSubmission {
  /** LineGuard's id for it: the bureau receives each one once, however often it is retried. */
  readonly id: string;
  readonly kind: 'DELINQUENCY' | 'CORRECTION';
  readonly subjectHash: string;
  readonly payload: Record<string, unknown>;
}

export interface CreditBureau {
  /** Shown in every inquiry row, e.g. 'SANDBOX'. */
  readonly name: string;
  /** The report for a subject (its national-ID lookup hash), or null when the bureau has no file. */
  fetchReport(subjectHash: string): Promise<BureauReport | null>;
  /** Hands a submission to the bureau; idempotent by its id. */
  submit(submission: BureauSubmission): Promise<void>;
}

export const SANDBOX_BUREAU_NAME = 'SANDBOX';

/**
 * The SANDBOX bureau: reports stored in sandbox_bureau_reports (demo and test borrowers), else a synthetic report
 * derived from the subject hash, so every fictitious borrower has a stable file. It never holds real data.
 */
export function sandboxBureau(store: ComplianceStore, clock: Clock): CreditBureau {
  const fetchReport = async (subjectHash: string): Promise<BureauReport> => {
    const stored = await store.sandboxReport(subjectHash);
    return stored ? (JSON.parse(stored) as BureauReport) : syntheticReport(subjectHash);
  };
  return {
    name: SANDBOX_BUREAU_NAME,
    fetchReport,
    async submit(submission) {
      await store.insertSandboxSubmission({
        id: submission.id,
        subjectHash: submission.subjectHash,
        kind: submission.kind,
        payload: canonicalJson(submission.payload),
        at: clock.now(),
      });
      // A corrected report item changes the file the next pull reads, as a real bureau's correction would.
      const item = submission.payload.item;
      if (submission.kind === 'CORRECTION' && isBureauAttribute(item)) {
        const report = { ...(await fetchReport(submission.subjectHash)), [item]: submission.payload.value };
        await store.putSandboxReport(submission.subjectHash, canonicalJson(report), clock.now());
      }
    },
  };
}

export function isBureauAttribute(name: unknown): name is (typeof BUREAU_ATTRIBUTES)[number] {
  return typeof name === 'string' && (BUREAU_ATTRIBUTES as readonly string[]).includes(name);
}

/** Deterministic from the hash: ~5% currently delinquent, 0-2 recent inquiries, debt in 5,000.00 steps. */
export function syntheticReport(subjectHash: string): BureauReport {
  const h = createHash('sha256').update(`sandbox:${subjectHash}`).digest();
  return {
    existingDebtMinor: ((h[0] as number) % 8) * 500_000,
    externalDelinquent: (h[1] as number) < 13,
    inquiries30d: (h[2] as number) % 3,
  };
}

export async function putSandboxReport(
  store: ComplianceStore,
  subjectHash: string,
  report: BureauReport,
  now: number,
) {
  await store.putSandboxReport(subjectHash, canonicalJson(report), now);
}

export type InquiryKind = 'hard' | 'soft';

export interface PullRequest {
  /** The subject's lookup hashes (current key first). */
  readonly subjectHashes: readonly [string, ...string[]];
  readonly borrowerId?: string | null;
  readonly purpose: ConsentPurpose;
  readonly kind: InquiryKind;
  /** Who asks: 'core:application', an API key id, a job. */
  readonly requestedBy: string;
  readonly reason: string;
}

export type PullRefusal =
  | 'LG_CONSENT_MISSING'
  | 'LG_CONSENT_EXPIRED'
  | 'LG_CONSENT_WITHDRAWN'
  | 'LG_CONSENT_PURPOSE'
  | 'LG_INQUIRY_THROTTLED';

export type PullResult =
  | {
      readonly status: 'PULLED';
      readonly inquiryId: string;
      readonly consentId: string;
      readonly report: BureauReport | null;
      /** The report's attributes with this lender's own recent hard pulls added to inquiries30d. */
      readonly attributes: Record<string, number | boolean> | null;
    }
  | { readonly status: 'REFUSED'; readonly inquiryId: string; readonly code: PullRefusal };

export interface BureauGateway {
  readonly bureauName: string;
  /** `guard`: the request's idempotency key, committed with the inquiry's record. */
  pull(request: PullRequest, guard?: UnitGuard): Promise<PullResult>;
  inquiriesOf(subjectHashes: readonly string[], limit?: number): Promise<InquiryView[]>;
}

export interface InquiryView {
  readonly id: string;
  readonly purpose: string;
  readonly kind: string;
  readonly status: string;
  readonly refusalCode: string | null;
  readonly bureau: string;
  readonly requestedBy: string;
  readonly reason: string;
  readonly at: string;
}

export interface GatewayDeps {
  readonly store: ComplianceStore;
  readonly clock: Clock;
  readonly ids: IdGenerator;
  readonly bureau: CreditBureau;
  /** Hard inquiries allowed per subject per 30 days (each one hurts the borrower's file). */
  readonly hardInquiriesMax30d?: number;
}

export const HARD_INQUIRIES_MAX_30D = 3;
const WINDOW_MS = 30 * MS_PER_DAY;

export function createBureauGateway(deps: GatewayDeps): BureauGateway {
  const limit = deps.hardInquiriesMax30d ?? HARD_INQUIRIES_MAX_30D;
  return {
    bureauName: deps.bureau.name,
    async pull(request, guard) {
      const now = deps.clock.now();
      const inquiryId = deps.ids.next();
      // Decide and log in one dbTx: the consent check, the throttle count and the inquiry row commit together, and
      // the consent row lock serialises two pulls for one subject (PostgreSQL), so the throttle cannot be raced.
      const decided = await deps.store.unit(async (tx) => {
        const read = checkConsent(await tx.consentsOf(request.subjectHashes), request.purpose, now);
        // Checked again once locked: a withdrawal that committed between the read and the lock is seen, and one
        // that comes later waits for this dbTx (the pull is then logged before it).
        if (read.ok) await tx.lockConsent(read.consentId);
        const consent = read.ok
          ? checkConsent(await tx.consentsOf(request.subjectHashes), request.purpose, now)
          : read;
        let refusal: PullRefusal | null = consent.ok ? null : consent.code;
        let ownHard = 0;
        if (consent.ok) {
          ownHard = await tx.hardPullsSince(request.subjectHashes, now - WINDOW_MS);
          if (request.kind === 'hard' && ownHard >= limit) refusal = 'LG_INQUIRY_THROTTLED';
        }
        const row: InquiryRecord = {
          id: inquiryId,
          subject_hash: request.subjectHashes[0],
          borrower_id: request.borrowerId ?? null,
          purpose: request.purpose,
          kind: request.kind,
          status: refusal ? 'REFUSED' : 'PULLED',
          refusal_code: refusal,
          consent_id: consent.ok ? consent.consentId : null,
          bureau: deps.bureau.name,
          requested_by: request.requestedBy,
          reason: request.reason,
          report_found: 0,
          created_at: now,
        };
        await tx.insertInquiry(row);
        await tx.appendLedger([
          {
            entryId: inquiryId,
            kind: 'bureau.inquiry',
            subjectId: request.borrowerId ?? request.subjectHashes[0],
            recordedAt: now,
            payload: {
              inquiryId,
              subjectHash: row.subject_hash,
              borrowerId: row.borrower_id,
              purpose: row.purpose,
              kind: row.kind,
              status: row.status,
              refusalCode: refusal,
              consentId: row.consent_id,
              bureau: row.bureau,
              requestedBy: row.requested_by,
              reason: row.reason,
            },
          },
        ]);
        return { refusal, consentId: consent.ok ? consent.consentId : null, ownHard };
      }, guard);
      if (decided.refusal) return { status: 'REFUSED', inquiryId, code: decided.refusal };
      // The inquiry is logged before the bureau answers: a pull that reached the bureau is on the record even if
      // the answer is lost.
      const report = await deps.bureau.fetchReport(request.subjectHashes[0]);
      if (report) await deps.store.markReportFound(inquiryId);
      return {
        status: 'PULLED',
        inquiryId,
        consentId: decided.consentId as string,
        report,
        attributes: report
          ? {
              existingDebtMinor: report.existingDebtMinor,
              externalDelinquent: report.externalDelinquent,
              inquiries30d: report.inquiries30d + decided.ownHard + (request.kind === 'hard' ? 1 : 0),
            }
          : null,
      };
    },
    async inquiriesOf(subjectHashes, limitRows = 200) {
      const rows = await deps.store.inquiriesOf(subjectHashes, Math.min(limitRows, 1000));
      return rows.map(inquiryView);
    },
  };
}

export function inquiryView(r: InquiryRecord): InquiryView {
  return {
    id: r.id,
    purpose: r.purpose,
    kind: r.kind,
    status: r.status,
    refusalCode: r.refusal_code,
    bureau: r.bureau,
    requestedBy: r.requested_by,
    reason: r.reason,
    at: new Date(Number(r.created_at)).toISOString(),
  };
}
