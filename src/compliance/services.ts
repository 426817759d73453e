import type { Clock } from '../domain/clock.js';
import { LgError } from '../domain/errors.js';
import type { IdGenerator } from '../domain/ids.js';
import type { Store } from '../store/db.js';
import {
  createBureauGateway,
  sandboxBureau,
  type BureauGateway,
  type InquiryKind,
  type InquiryView,
  type PullResult,
} from './bureau.js';
import {
  consentView,
  consentsOf,
  recordConsent,
  withdrawConsent,
  type ConsentInput,
  type ConsentPurpose,
  type ConsentView,
} from './consent.js';
import type { FieldCrypto } from './crypto.js';

/** Consent and the credit bureau, as the API, the core and the jobs use them. */
export interface ConsentServices {
  readonly bureau: BureauGateway;
  recordConsent(input: ConsentInput): Promise<ConsentView>;
  withdrawConsent(input: { consentId: string; reason: string; by: string }): Promise<ConsentView>;
  consentsOfBorrower(borrowerId: string): Promise<ConsentView[]>;
  inquiriesOfBorrower(borrowerId: string): Promise<InquiryView[]>;
  /** A pull for an existing borrower (post-loan management, guarantor checks), by a person or a job. */
  pullForBorrower(input: {
    borrowerId: string;
    purpose: ConsentPurpose;
    kind: InquiryKind;
    requestedBy: string;
    reason: string;
  }): Promise<PullResult>;
}

export interface ConsentServicesDeps {
  readonly store: Store;
  readonly clock: Clock;
  readonly ids: IdGenerator;
  readonly crypto: FieldCrypto;
  readonly hardInquiriesMax30d?: number;
}

export function createConsentServices(deps: ConsentServicesDeps): ConsentServices {
  const bureau = createBureauGateway({
    store: deps.store,
    clock: deps.clock,
    ids: deps.ids,
    bureau: sandboxBureau(deps.store.db),
    hardInquiriesMax30d: deps.hardInquiriesMax30d,
  });

  /** A borrower's lookup hash; unknown borrower is 404. */
  async function hashesOf(borrowerId: string): Promise<[string]> {
    const row = await deps.store.db
      .selectFrom('borrowers')
      .select('national_id_hash')
      .where('id', '=', borrowerId)
      .executeTakeFirst();
    if (!row) throw new LgError('LG_NOT_FOUND', `no borrower '${borrowerId}'`);
    return [row.national_id_hash];
  }

  return {
    bureau,
    recordConsent: (input) => recordConsent(deps, input),
    withdrawConsent: (input) => withdrawConsent(deps, input),
    async consentsOfBorrower(borrowerId) {
      const rows = await consentsOf(deps.store.db, await hashesOf(borrowerId));
      const now = deps.clock.now();
      return rows.map((row) => consentView(row, now));
    },
    async inquiriesOfBorrower(borrowerId) {
      return bureau.inquiriesOf(await hashesOf(borrowerId));
    },
    async pullForBorrower(input) {
      return bureau.pull({
        subjectHashes: await hashesOf(input.borrowerId),
        borrowerId: input.borrowerId,
        purpose: input.purpose,
        kind: input.kind,
        requestedBy: input.requestedBy,
        reason: input.reason,
      });
    },
  };
}
