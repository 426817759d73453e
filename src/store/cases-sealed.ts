import {
  APPEAL_OUTCOME,
  APPEAL_STATEMENT,
  CASE_NOTE,
  CHANGE_DECISION_NOTE,
  CHANGE_PROPOSAL,
  CHANGE_REASON,
  COMPLAINT_EXTENSION,
  COMPLAINT_RESOLUTION,
  COMPLAINT_STATEMENT,
  type CaseTextResealResult,
  type CaseWorkResealResult,
  type FieldCrypto,
} from '../compliance/index.js';
import { resealTablePairs, type TablePair } from './sealed-pairs.js';
import type { Store } from './store-types.js';

/**
 * `lineguard keys rotate-data` for appeals and complaints (src/compliance/sealed-cases.ts), case notes and pending
 * changes (src/compliance/sealed-case-work.ts): every sealed text not
 * under the current key sealed under it, and texts written in clear before sealing sealed now; a page per
 * transaction, each row compare-and-set on what was read.
 */
export async function resealCaseTexts(
  store: Store,
  crypto: FieldCrypto,
  pageSize = 500,
): Promise<CaseTextResealResult & CaseWorkResealResult> {
  const reseal = <T extends 'appeals' | 'complaints' | 'case_notes' | 'pending_changes', N extends string>(
    pair: TablePair<T>,
    counted: N,
  ) => resealTablePairs(store, { pair, counted }, crypto, pageSize);
  return {
    ...(await reseal(APPEAL_STATEMENT, 'appeals')),
    ...(await reseal(APPEAL_OUTCOME, 'appealOutcomes')),
    ...(await reseal(COMPLAINT_STATEMENT, 'complaints')),
    ...(await reseal(COMPLAINT_EXTENSION, 'complaintExtensions')),
    ...(await reseal(COMPLAINT_RESOLUTION, 'complaintResolutions')),
    ...(await reseal(CASE_NOTE, 'caseNotes')),
    ...(await reseal(CHANGE_PROPOSAL, 'changeProposals')),
    ...(await reseal(CHANGE_REASON, 'changeReasons')),
    ...(await reseal(CHANGE_DECISION_NOTE, 'changeDecisionNotes')),
  };
}
