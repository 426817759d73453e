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
export function checkConsents(db: LedgerHandle, index: LedgerIndex, findings: Findings): Promise<number> {
  return checkSubjectRows(index, findings, {
    table: 'consents',
    rowsAfter: (after) => ledgerStorage().consentsAfter(db, after, PAGE_ROWS),
    entries: index.consents,
    // A consent in the ledger whose row is gone: what the borrower agreed to (or withdrew), deleted.
    recorded: [...index.consents.keys(), ...index.consentWithdrawals.keys()],
    compare(row, entry, same) {
      same('purpose', row.purpose, entry.purpose);
      same('text_version', row.text_version, entry.textVersion);
      same('text_sha256', row.text_sha256, entry.textSha256);
      same('channel', row.channel, entry.channel);
      same('granted_at', Number(row.granted_at), entry.recordedAt);
      same('expires_at', Number(row.expires_at), entry.expiresAt);
      same('recorded_by', row.recorded_by, entry.recordedBy);
      const withdrawn = index.consentWithdrawals.get(row.id);
      same('withdrawn_at', nullableNumber(row.withdrawn_at), withdrawn?.recordedAt ?? null);
      same('withdrawn_reason', row.withdrawn_reason, withdrawn?.reason ?? null);
    },
  });
}

export function checkInquiries(db: LedgerHandle, index: LedgerIndex, findings: Findings): Promise<number> {
  return checkSubjectRows(index, findings, {
    table: 'bureau_inquiries',
    rowsAfter: (after) => ledgerStorage().inquiriesAfter(db, after, PAGE_ROWS),
    entries: index.inquiries,
    // An inquiry in the ledger whose row is gone: a pull deleted from the history the throttle and the borrower read.
    recorded: [...index.inquiries.keys()],
    compare(row, entry, same) {
      same('purpose', row.purpose, entry.purpose);
      same('kind', row.kind, entry.kind);
      same('status', row.status, entry.status);
      same('refusal_code', row.refusal_code, entry.refusalCode);
      same('consent_id', row.consent_id, entry.consentId);
      same('bureau', row.bureau, entry.bureau);
      same('requested_by', row.requested_by, entry.requestedBy);
      same('reason', row.reason, entry.reason);
      same('created_at', Number(row.created_at), entry.recordedAt);
    },
  });
}

/** How one table of a subject's rows is checked: its rows, its entries by row id, and the fields each records. */
interface SubjectTable<R extends ConsentRecord | InquiryRecord> {
  readonly table: 'consents' | 'bureau_inquiries';
  rowsAfter(afterId: string): Promise<R[]>;
  readonly entries: ReadonlyMap<string, Payload>;
  /** Every row id the ledger records for the table: each must still have its row. */
  readonly recorded: readonly string[];
  compare(row: R, entry: Payload, same: (field: string, stored: unknown, recorded: unknown) => void): void;
}

/**
 * Each row against its entry (a row with none was never recorded), its subject hash and borrower, then the table's
 * own fields; afterwards every row the ledger records that the table no longer holds.
 */
async function checkSubjectRows<R extends ConsentRecord | InquiryRecord>(
  index: LedgerIndex,
  findings: Findings,
  table: SubjectTable<R>,
): Promise<number> {
  const seen = new Set<string>();
  const count = await pages(table.rowsAfter, (row) => {
    seen.add(row.id);
    const where = { table: table.table, id: row.id } as const;
    const entry = table.entries.get(row.id);
    if (!entry) return findings.compare(where, '(ledger entry)', 'present', 'missing');
    checkSubjectHash(index, findings, { where, row, entry });
    findings.compare(where, 'borrower_id', row.borrower_id, entry.borrowerId);
    table.compare(row, entry, (field, stored, recorded) => findings.compare(where, field, stored, recorded));
  });
  for (const id of new Set(table.recorded))
    if (!seen.has(id)) findings.compare({ table: table.table, id }, '(row)', 'missing', 'present');
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
