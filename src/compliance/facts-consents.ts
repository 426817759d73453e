import { ledgerStorage, type ConsentRecord, type InquiryRecord, type LedgerHandle } from './ledger.js';
import {
  pages,
  PAGE_ROWS,
  rekeyedHash,
  type Findings,
  type LedgerIndex,
  type Payload,
} from './facts-proof.js';

/**
 * The credit-report gate's records against their entries (facts.ts): a consent or an inquiry exists exactly when its
 * entry does (src/compliance/consent.ts, bureau.ts write both in one unit). A consent row with no entry is one nobody
 * gave — a report pulled on it was pulled without consent (征信业管理条例 Art. 18) — and a withdrawn consent made valid
 * again, an inquiry deleted from the history (which the hard-inquiry throttle counts) or made to look refused, are
 * edits the hash chain alone does not show.
 *
 * The subject's lookup hash is the entry's, followed through every `keys rotate-data` re-keying since (rekeyedHash). A
 * re-keying entry written before they named their moves names only the borrowers: a row of one of theirs whose hash
 * moved is counted in `withoutCommitment` (nothing says to which hash), not proven. An inquiry's `report_found` is set
 * after the bureau answers, outside any entry, and is not checked.
 */
export async function checkConsents(
  db: LedgerHandle,
  index: LedgerIndex,
  findings: Findings,
): Promise<number> {
  const seen = new Set<string>();
  const count = await pages(
    (after) => ledgerStorage().consentsAfter(db, after, PAGE_ROWS),
    (row) => {
      seen.add(row.id);
      const where = { table: 'consents', id: row.id } as const;
      const entry = index.consents.get(row.id);
      if (!entry) return findings.compare(where, '(ledger entry)', 'present', 'missing');
      checkSubjectHash(index, findings, { where, row, entry });
      findings.compare(where, 'borrower_id', row.borrower_id, entry.borrowerId);
      findings.compare(where, 'purpose', row.purpose, entry.purpose);
      findings.compare(where, 'text_version', row.text_version, entry.textVersion);
      findings.compare(where, 'text_sha256', row.text_sha256, entry.textSha256);
      findings.compare(where, 'channel', row.channel, entry.channel);
      findings.compare(where, 'granted_at', Number(row.granted_at), entry.recordedAt);
      findings.compare(where, 'expires_at', Number(row.expires_at), entry.expiresAt);
      findings.compare(where, 'recorded_by', row.recorded_by, entry.recordedBy);
      const withdrawn = index.consentWithdrawals.get(row.id);
      findings.compare(
        where,
        'withdrawn_at',
        nullableNumber(row.withdrawn_at),
        withdrawn?.recordedAt ?? null,
      );
      findings.compare(where, 'withdrawn_reason', row.withdrawn_reason, withdrawn?.reason ?? null);
    },
  );
  // A consent in the ledger whose row is gone: what the borrower agreed to (or withdrew), deleted.
  for (const id of new Set([...index.consents.keys(), ...index.consentWithdrawals.keys()]))
    if (!seen.has(id)) findings.compare({ table: 'consents', id }, '(row)', 'missing', 'present');
  return count;
}

export async function checkInquiries(
  db: LedgerHandle,
  index: LedgerIndex,
  findings: Findings,
): Promise<number> {
  const seen = new Set<string>();
  const count = await pages(
    (after) => ledgerStorage().inquiriesAfter(db, after, PAGE_ROWS),
    (row) => {
      seen.add(row.id);
      const where = { table: 'bureau_inquiries', id: row.id } as const;
      const entry = index.inquiries.get(row.id);
      if (!entry) return findings.compare(where, '(ledger entry)', 'present', 'missing');
      checkSubjectHash(index, findings, { where, row, entry });
      findings.compare(where, 'borrower_id', row.borrower_id, entry.borrowerId);
      findings.compare(where, 'purpose', row.purpose, entry.purpose);
      findings.compare(where, 'kind', row.kind, entry.kind);
      findings.compare(where, 'status', row.status, entry.status);
      findings.compare(where, 'refusal_code', row.refusal_code, entry.refusalCode);
      findings.compare(where, 'consent_id', row.consent_id, entry.consentId);
      findings.compare(where, 'bureau', row.bureau, entry.bureau);
      findings.compare(where, 'requested_by', row.requested_by, entry.requestedBy);
      findings.compare(where, 'reason', row.reason, entry.reason);
      findings.compare(where, 'created_at', Number(row.created_at), entry.recordedAt);
    },
  );
  // An inquiry in the ledger whose row is gone: a pull deleted from the history the throttle and the borrower read.
  for (const id of index.inquiries.keys())
    if (!seen.has(id)) findings.compare({ table: 'bureau_inquiries', id }, '(row)', 'missing', 'present');
  return count;
}

function checkSubjectHash(
  index: LedgerIndex,
  findings: Findings,
  fact: {
    readonly where: { readonly table: 'consents' | 'bureau_inquiries'; readonly id: string };
    readonly row: ConsentRecord | InquiryRecord;
    readonly entry: Payload;
  },
): void {
  const { where, row, entry } = fact;
  const expected = rekeyedHash(index, String(entry.subjectHash));
  const borrowerId = row.borrower_id ?? (typeof entry.borrowerId === 'string' ? entry.borrowerId : null);
  if (row.subject_hash !== expected && borrowerId !== null && index.rekeyedUnnamed.has(borrowerId)) {
    findings.withoutCommitment += 1;
    return;
  }
  findings.compare(where, 'subject_hash', row.subject_hash, expected);
}

function nullableNumber(value: number | null): number | null {
  return value === null ? null : Number(value);
}
