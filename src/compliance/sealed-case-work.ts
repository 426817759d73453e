import type { FieldCrypto } from './crypto.js';
import type { NamedResealCounts } from './reseal.js';
import { openPair, sealPair, sealedColumn, sealedPair } from './sealed-pair.js';

/**
 * An analyst's case notes and four-eyes pending changes at rest (PIPL Art. 51): a note is free text about a borrower
 * (their phone, their debts); a pending change carries what it proposes (an appeal uphold's outcome texts to the
 * borrower and the maker's note, a line action's note, a list entry's value) in its payload and diff, and free text in
 * the maker's reason and the checker's decision note. Each is sealed in its row (sealed-pair.ts), bound to the row and
 * the column; the payload and the diff are one token (the diff riding with the payload, both committed to). The
 * ledger carries the keyed commitments instead of the texts (case.note `textHmac`, change.proposed `payloadHmac` and
 * `reasonHmac`, change.approved and change.rejected `noteHmac`); entries written before sealing carry the texts.
 *
 * Rows written before sealing hold them in clear: read as they are, and `keys rotate-data` seals them.
 */
export const CASE_NOTE = sealedColumn({ table: 'case_notes', column: 'text' }, 'case note');
/** What a change proposes (the payload its approval applies) with what the checker is shown (the diff). */
export const CHANGE_PROPOSAL = sealedPair(
  { table: 'pending_changes', committed: 'payload', rider: 'diff' },
  'pending change',
);
/** The maker's reason for a change. */
export const CHANGE_REASON = sealedColumn({ table: 'pending_changes', column: 'reason' }, 'pending change');
/** The checker's note on approving or rejecting a change: null until decided with one. */
export const CHANGE_DECISION_NOTE = sealedColumn(
  { table: 'pending_changes', column: 'decision_note' },
  'pending change',
);

/** A text sealed alone, and the commitment its ledger entry carries. */
export interface SealedText {
  readonly sealed: string;
  readonly hmac: string;
}

/** A new note's text as stored (sealed), and the commitment its case.note entry carries. */
export function sealCaseNote(crypto: FieldCrypto, noteId: string, text: string): SealedText {
  const sealed = sealPair(crypto, CASE_NOTE, noteId, { committed: text, rider: '' });
  return { sealed: sealed.committed, hmac: sealed.commitment };
}

/** A note's text as written; throws LG_SEALED_DATA_UNREADABLE when it cannot be opened. */
export function openCaseNote<T extends { readonly id: string; readonly text: string }>(
  crypto: FieldCrypto | undefined,
  row: T,
): T {
  return { ...row, text: openPair(crypto, CASE_NOTE, row.id, { committed: row.text, rider: '' }).committed };
}

/** A pending change's columns that hold what it proposes, as stored (src/cases/records.ts). */
export interface ChangeTexts {
  readonly id: string;
  readonly payload: string;
  readonly diff: string;
  readonly reason: string;
  readonly decision_note: string | null;
}

/** A new change's payload, diff and reason as stored (sealed), and the commitments its change.proposed entry carries. */
export function sealChangeProposal(
  crypto: FieldCrypto,
  changeId: string,
  clear: { readonly payload: string; readonly diff: string; readonly reason: string },
): { payload: string; diff: string; reason: string; payloadHmac: string; reasonHmac: string } {
  const proposal = sealPair(crypto, CHANGE_PROPOSAL, changeId, {
    committed: clear.payload,
    rider: clear.diff,
  });
  const reason = sealPair(crypto, CHANGE_REASON, changeId, { committed: clear.reason, rider: '' });
  return {
    payload: proposal.committed,
    diff: proposal.rider,
    reason: reason.committed,
    payloadHmac: proposal.commitment,
    reasonHmac: reason.commitment,
  };
}

/** A checker's note as stored (sealed), and the commitment the change.approved or change.rejected entry carries. */
export function sealDecisionNote(crypto: FieldCrypto, changeId: string, note: string): SealedText {
  const sealed = sealPair(crypto, CHANGE_DECISION_NOTE, changeId, { committed: note, rider: '' });
  return { sealed: sealed.committed, hmac: sealed.commitment };
}

/** The change with what it proposes as written; throws LG_SEALED_DATA_UNREADABLE when a text cannot be opened. */
export function openChange<T extends ChangeTexts>(crypto: FieldCrypto | undefined, row: T): T {
  const proposal = openPair(crypto, CHANGE_PROPOSAL, row.id, { committed: row.payload, rider: row.diff });
  const reason = openPair(crypto, CHANGE_REASON, row.id, { committed: row.reason, rider: '' });
  const note =
    row.decision_note === null
      ? null
      : openPair(crypto, CHANGE_DECISION_NOTE, row.id, { committed: row.decision_note, rider: '' }).committed;
  return {
    ...row,
    payload: proposal.committed,
    diff: proposal.rider,
    reason: reason.committed,
    decision_note: note,
  };
}

/**
 * What a rotation of case notes and pending changes reports (reseal.ts): caseNotes…, changeProposals… (payload and
 * diff), changeReasons…, changeDecisionNotes… — each Checked, Sealed, Unopenable.
 */
export type CaseWorkResealResult = NamedResealCounts<'caseNotes'> &
  NamedResealCounts<'changeProposals'> &
  NamedResealCounts<'changeReasons'> &
  NamedResealCounts<'changeDecisionNotes'>;
