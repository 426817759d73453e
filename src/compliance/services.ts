import type { UnitGuard } from '../domain/index.js';
import { lenderDayOf, type Clock, type IdGenerator } from '../domain/index.js';
import {
  createBureauGateway,
  putSandboxReport,
  sandboxBureau,
  type BureauGateway,
  type BureauReport,
  type InquiryKind,
  type InquiryView,
  type PullResult,
} from './bureau.js';
import {
  createBureauReporting,
  BUREAU_NOTICE_DAYS_DEFAULT,
  type BureauReporting,
} from './bureau-reporting.js';
import { createCreditDisputes, type CreditDisputes } from './disputes.js';
import type { ComplianceStore } from './ports.js';
import {
  consentView,
  recordConsent,
  subjectHashes,
  withdrawConsent,
  type ConsentInput,
  type ConsentPurpose,
  type ConsentView,
} from './consent.js';
import type { FieldCrypto } from './crypto.js';
import { borrowerSubjectHashes, rekeySubjects, type SubjectRekeyResult } from './subject-hashes.js';

/** Consent and the credit bureau, as the API, the core and the jobs use them. */
export interface ConsentServices {
  readonly bureau: BureauGateway;
  /** Delinquency notices and reports to the bureau (borrower first), and the submissions outbox. */
  readonly reporting: BureauReporting;
  /** Credit-report disputes: their records and what an upheld one sends the bureau. */
  readonly disputes: CreditDisputes;
  recordConsent(input: ConsentInput, guard?: UnitGuard<ConsentView>): Promise<ConsentView>;
  withdrawConsent(
    input: { consentId: string; reason: string; by: string },
    guard?: UnitGuard<ConsentView>,
  ): Promise<ConsentView>;
  consentsOfBorrower(borrowerId: string): Promise<ConsentView[]>;
  inquiriesOfBorrower(borrowerId: string): Promise<InquiryView[]>;
  /** A pull for an existing borrower (post-loan management, guarantor checks), by a person or a job. */
  pullForBorrower(
    input: {
      borrowerId: string;
      purpose: ConsentPurpose;
      kind: InquiryKind;
      requestedBy: string;
      reason: string;
    },
    guard?: UnitGuard,
  ): Promise<PullResult>;
  /**
   * Key rotation: the consents and inquiries under a retired key's hash of a borrower's national ID re-keyed to the
   * current key's (subject-hashes.ts), a page of borrowers per transaction.
   */
  rekeySubjects(pageSize: number): Promise<SubjectRekeyResult>;
  /**
   * Places a person's credit file at the SANDBOX bureau: what the next pull for them reads (demo data; a real bureau
   * has no such door).
   */
  placeSandboxFile(nationalId: string, report: BureauReport): Promise<void>;
}

export interface ConsentServicesDeps {
  readonly store: ComplianceStore;
  readonly clock: Clock;
  readonly ids: IdGenerator;
  readonly crypto: FieldCrypto;
  readonly hardInquiriesMax30d?: number;
  /** Days between telling a borrower a delinquency will be reported and reporting it. */
  readonly bureauNoticeDays?: number;
  /** The lender's calendar (minutes east of UTC): the days the notices name. */
  readonly lenderUtcOffsetMinutes?: number;
}

export function createConsentServices(deps: ConsentServicesDeps): ConsentServices {
  const sandbox = sandboxBureau(deps.store, deps.clock);
  const bureau = createBureauGateway({
    store: deps.store,
    clock: deps.clock,
    ids: deps.ids,
    bureau: sandbox,
    hardInquiriesMax30d: deps.hardInquiriesMax30d,
  });
  const reporting = createBureauReporting({
    store: deps.store,
    clock: deps.clock,
    ids: deps.ids,
    bureau: sandbox,
    crypto: deps.crypto,
    noticeDays: deps.bureauNoticeDays ?? BUREAU_NOTICE_DAYS_DEFAULT,
    lenderUtcOffsetMinutes: deps.lenderUtcOffsetMinutes,
  });
  const disputes = createCreditDisputes({
    store: deps.store,
    clock: deps.clock,
    ids: deps.ids,
    bureau: sandbox,
    crypto: deps.crypto,
  });

  /** The borrower's lookup hashes under every key held (subject-hashes.ts); unknown borrower is 404. */
  const hashesOf = (borrowerId: string) => borrowerSubjectHashes(deps, borrowerId);

  return {
    bureau,
    reporting,
    disputes,
    recordConsent: (input, guard) => recordConsent(deps, input, guard),
    withdrawConsent: (input, guard) => withdrawConsent(deps, input, guard),
    rekeySubjects: (pageSize) => rekeySubjects(deps, pageSize),
    async consentsOfBorrower(borrowerId) {
      const rows = await deps.store.consentsOf(await hashesOf(borrowerId));
      const now = deps.clock.now();
      return rows.map((row) => consentView(row, now));
    },
    async inquiriesOfBorrower(borrowerId) {
      return bureau.inquiriesOf(await hashesOf(borrowerId));
    },
    async pullForBorrower(input, guard) {
      return bureau.pull(
        {
          subjectHashes: await hashesOf(input.borrowerId),
          borrowerId: input.borrowerId,
          purpose: input.purpose,
          kind: input.kind,
          requestedBy: input.requestedBy,
          reason: input.reason,
        },
        guard,
      );
    },
    async placeSandboxFile(nationalId, report) {
      const now = deps.clock.now();
      await putSandboxReport(
        deps.store,
        subjectHashes(deps.crypto, nationalId, lenderDayOf(deps, now))[0],
        report,
        now,
      );
    },
  };
}
