import { LINE_ACTION_NOTE, type FieldCrypto, type LineActionNoteResealResult } from '../compliance/index.js';
import { resealTablePairs } from './sealed-pairs.js';
import type { Store } from './store-types.js';

/**
 * `lineguard keys rotate-data` for line actions' notes (src/compliance/sealed-line-actions.ts): every note not under
 * the current key sealed under it, and notes written in clear before sealing sealed now (a row without a note is
 * skipped); a page per transaction, each row compare-and-set on what was read.
 */
export function resealLineActionNotes(
  store: Store,
  crypto: FieldCrypto,
  pageSize = 500,
): Promise<LineActionNoteResealResult> {
  return resealTablePairs(store, { pair: LINE_ACTION_NOTE, counted: 'lineActionNotes' }, crypto, pageSize);
}
