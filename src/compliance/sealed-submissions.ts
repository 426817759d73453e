import type { FieldCrypto } from './crypto.js';
import { resealPairs, type NamedResealCounts } from './reseal.js';
import { openPair, sealPair, sealedPair } from './sealed-pair.js';
import type { BureauSubmissionRecord, ComplianceStore } from './ports.js';

/**
 * What LineGuard reports to the credit bureau, at rest (PIPL Art. 51; 征信业管理条例 Art. 15, 25): a submission's
 * payload says what the borrower's file should show (a delinquency and its bucket, a corrected item and its value, an
 * amount), and its subject hash says whose file. Both are sealed as one token in the `payload` column (sealed-pair.ts),
 * the subject riding with the payload, so a dump of the outbox pairs no report with a borrower's lookup hash. The
 * `bureau.submission_sent` ledger entry carries the commitment to the payload and the subject (`payloadHmac`; to the
 * payload alone for a submission sealed before riders were committed) instead of the payload.
 *
 * A submission queued before sealing holds both in clear: it is read and sent as it is, and `keys rotate-data` seals
 * it. No migration seals them: a migration has no data key.
 */
export const BUREAU_SUBMISSION = sealedPair(
  { table: 'bureau_submissions', committed: 'payload', rider: 'subject_hash' },
  'bureau submission',
);

type Sealable = Pick<BureauSubmissionRecord, 'id' | 'payload' | 'subject_hash'>;

/** A new submission's row as stored (payload and subject sealed). */
export function sealSubmissionRow<T extends Sealable>(crypto: FieldCrypto, row: T): T {
  const sealed = sealPair(crypto, BUREAU_SUBMISSION, row.id, {
    committed: row.payload,
    rider: row.subject_hash,
  });
  return { ...row, payload: sealed.committed, subject_hash: sealed.rider };
}

/**
 * A stored submission with its payload and subject as written, and (when it was sealed) the payload's commitment;
 * throws LG_SEALED_DATA_UNREADABLE when they cannot be opened.
 */
export function openSubmissionRow<T extends Sealable>(
  crypto: FieldCrypto | undefined,
  row: T,
): { row: T; payloadHmac: string | undefined } {
  const opened = openPair(crypto, BUREAU_SUBMISSION, row.id, {
    committed: row.payload,
    rider: row.subject_hash,
  });
  return {
    row: { ...row, payload: opened.committed, subject_hash: opened.rider },
    payloadHmac: opened.commitment,
  };
}

/** What a rotation of the submissions reports: submissionsChecked, submissionsSealed, submissionsUnopenable. */
export type SubmissionResealResult = NamedResealCounts<'submissions'>;

/** Key rotation for the submissions (reseal.ts): each sealed again under the current key; clear ones sealed now. */
export function resealSubmissions(
  store: Pick<ComplianceStore, 'submissionPairs'>,
  crypto: FieldCrypto,
  pageSize: number,
): Promise<SubmissionResealResult> {
  return resealPairs(
    { pair: BUREAU_SUBMISSION, rows: store.submissionPairs, counted: 'submissions' },
    crypto,
    pageSize,
  );
}
