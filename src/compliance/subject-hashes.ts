import { LgError, type Clock, type IdGenerator } from '../domain/index.js';
import { NATIONAL_ID_LOOKUP } from './consent.js';
import type { FieldCrypto } from './crypto.js';
import type { BorrowerIdentity, ComplianceStore } from './ports.js';
import { isSealedDataUnreadable } from './sealed-pair.js';
import { openBorrowerValue } from './sealed-borrowers.js';

/**
 * A borrower's consents and credit-report inquiries are keyed by the lookup hash of their national ID under the key
 * current when each was written (a consent may predate the borrower). The borrower row's own hash is re-keyed by
 * `keys rotate-data`, so it names one key only: a consent gate, the inquiry history or the hard-inquiry throttle that
 * read by it alone would lose every row written under another key (a valid consent ignored, a throttle bypassed).
 * They read by the ID's hash under every key held instead, and `keys rotate-data` re-keys the rows to the current key
 * (rekeySubjects) before the retired key is dropped.
 */

/**
 * The lookup hashes of the borrower's national ID under every key held, the current key's first, and the row's stored
 * hash if it is none of them. LG_NOT_FOUND for an unknown borrower; LG_SEALED_DATA_UNREADABLE when no held key opens
 * the sealed ID.
 */
export async function borrowerSubjectHashes(
  deps: { readonly store: ComplianceStore; readonly crypto: FieldCrypto },
  borrowerId: string,
): Promise<[string, ...string[]]> {
  const row = await deps.store.borrowerIdentity(borrowerId);
  if (row === undefined) throw new LgError('LG_NOT_FOUND', `no borrower '${borrowerId}'`);
  const hashes = hashesOf(deps.crypto, row);
  return hashes.includes(row.national_id_hash) ? hashes : [...hashes, row.national_id_hash];
}

function hashesOf(crypto: FieldCrypto, row: BorrowerIdentity): [string, ...string[]] {
  const nationalId = openBorrowerValue(crypto, row.id, 'national_id_enc', row.national_id_enc);
  return crypto.lookupHashes(nationalId, NATIONAL_ID_LOOKUP);
}

export interface SubjectRekeyResult {
  readonly subjectsChecked: number;
  readonly consentsRekeyed: number;
  readonly inquiriesRekeyed: number;
  /** Borrowers whose sealed national ID no held key opens: their rows keep the hash they have. */
  readonly subjectsUnopenable: number;
}

/**
 * `keys rotate-data` for consents and inquiries: for every borrower, the rows under a retired key's hash of their
 * national ID re-keyed to the current key's, a page of borrowers per transaction with a ledger entry naming them and
 * the counts (no personal data). Idempotent: a rerun finds nothing under a retired hash. Without retired keys there is
 * no other hash to look for. A consent given by someone who never became a borrower has no sealed ID to re-key it by:
 * it stays under its hash, and is no longer found once that key is dropped.
 */
export async function rekeySubjects(
  deps: {
    readonly store: ComplianceStore;
    readonly crypto: FieldCrypto;
    readonly clock: Clock;
    readonly ids: IdGenerator;
  },
  pageSize: number,
): Promise<SubjectRekeyResult> {
  const result = { subjectsChecked: 0, consentsRekeyed: 0, inquiriesRekeyed: 0, subjectsUnopenable: 0 };
  // One hash per key held: one alone means no retired key, and so no other hash to look for.
  if (deps.crypto.lookupHashes('', NATIONAL_ID_LOOKUP).length === 1) return result;
  let after = '';
  for (;;) {
    const page = await deps.store.borrowerIdentityPage(after, pageSize);
    if (page.length === 0) break;
    after = page[page.length - 1]?.id ?? after;
    result.subjectsChecked += page.length;
    const moves = page.flatMap((row) => {
      const hashes = openedHashes(deps.crypto, row);
      if (hashes === undefined) result.subjectsUnopenable += 1;
      return hashes === undefined
        ? []
        : [{ borrowerId: row.id, current: hashes[0], former: hashes.slice(1) }];
    });
    if (moves.length === 0) continue;
    const moved = await deps.store.unit(async (tx) => {
      const { borrowerIds, consents, inquiries } = await tx.rekeySubjects(moves);
      const movedIds = new Set(borrowerIds);
      // Which hash each moved row left for which (lookup hashes, as the consent and inquiry entries hold them): `ledger
      // verify` follows them from the hash an entry names to the one its row holds now.
      const hashMoves = moves
        .filter((m) => movedIds.has(m.borrowerId))
        .map((m) => ({ from: m.former, to: m.current }));
      if (borrowerIds.length > 0)
        await tx.appendLedger([
          {
            entryId: deps.ids.next(),
            kind: 'subject.rekeyed',
            subjectId: deps.crypto.currentKeyId,
            recordedAt: deps.clock.now(),
            payload: { keyId: deps.crypto.currentKeyId, borrowerIds, consents, inquiries, moves: hashMoves },
          },
        ]);
      return { consents, inquiries };
    });
    result.consentsRekeyed += moved.consents;
    result.inquiriesRekeyed += moved.inquiries;
  }
  return result;
}

/** The row's hashes, or undefined when its sealed ID opens under no held key (counted, not fatal to the rotation). */
function openedHashes(crypto: FieldCrypto, row: BorrowerIdentity): [string, ...string[]] | undefined {
  try {
    return hashesOf(crypto, row);
  } catch (error) {
    if (isSealedDataUnreadable(error)) return undefined;
    throw error;
  }
}
