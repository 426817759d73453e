import type { FieldCrypto } from './crypto.js';
import type { NamedResealCounts } from './reseal.js';
import type { SealedText } from './sealed-case-work.js';
import { isSealedDataUnreadable, openPair, sealPair, sealedColumn } from './sealed-pair.js';

/**
 * A line action's note at rest (PIPL Art. 51): what a risk analyst or a case reviewer wrote when freezing, cutting or
 * restoring a line is free text about the borrower (their name, their phone, their debts). It is sealed alone in its
 * row (sealed-pair.ts), bound to the row; the line.action ledger entry carries the keyed commitment `noteHmac`
 * instead (entries written before carry neither). A note the system wrote (a grant's adjustments, "appeal … upheld")
 * is sealed as well: one column, one form.
 *
 * Rows written before sealing hold the note in clear: read as they are, and `keys rotate-data` seals them.
 */
export const LINE_ACTION_NOTE = sealedColumn({ table: 'line_actions', column: 'note' }, 'line action');

/** A new action's note as stored (sealed), and the commitment its line.action entry carries; null without a note. */
export function sealLineActionNote(
  crypto: FieldCrypto,
  actionId: string,
  note: string | null | undefined,
): SealedText | null {
  if (note === null || note === undefined) return null;
  const sealed = sealPair(crypto, LINE_ACTION_NOTE, actionId, { committed: note, rider: '' });
  return { sealed: sealed.committed, hmac: sealed.commitment };
}

/** The action with its note as written (null stays null); throws LG_SEALED_DATA_UNREADABLE when it cannot be opened. */
export function openLineActionNote<T extends { readonly id: string; readonly note: string | null }>(
  crypto: FieldCrypto | undefined,
  row: T,
): T {
  if (row.note === null) return row;
  return {
    ...row,
    note: openPair(crypto, LINE_ACTION_NOTE, row.id, { committed: row.note, rider: '' }).committed,
  };
}

/**
 * The action as a view shows it (the line's recent actions, a case's evidence): its note opened; or, when no held key
 * opens it, null with `noteUnreadable` saying why. A view of many actions never fails for one, and never shows
 * another row's note (a token copied from another row does not open here).
 */
export function lineActionNoteShown<T extends { readonly id: string; readonly note: string | null }>(
  crypto: FieldCrypto | undefined,
  row: T,
): T & { readonly noteUnreadable?: string } {
  try {
    return openLineActionNote(crypto, row);
  } catch (error) {
    if (!isSealedDataUnreadable(error)) throw error;
    return { ...row, note: null, noteUnreadable: error.message };
  }
}

/** What a rotation of line-action notes reports (reseal.ts): lineActionNotesChecked, …Sealed, …Unopenable. */
export type LineActionNoteResealResult = NamedResealCounts<'lineActionNotes'>;
