/**
 * src/compliance's public face: the ledger and its evidence (RFC 9162 checkpoints and proofs), field encryption,
 * consent and the credit bureau, portfolio snapshots, early warnings and the monthly report.
 */
export {
  appendToLedger,
  appendToLedgerSync,
  verifyLedger,
  entryHash,
  entryLeaf,
  entryLeafAround,
  GENESIS_HASH,
  LEDGER_CHAINS,
  SINGLE_CHAIN,
  chainOf,
  normaliseRow,
  chainRows,
  useLedgerStorage,
} from './ledger.js';
export type {
  AppealFactRecord,
  CaseNoteFactRecord,
  ChainHead,
  ChangeFactRecord,
  ComplaintFactRecord,
  DecisionFactRecord,
  DisputeFactRecord,
  LedgerHandle,
  LedgerStorage,
  LineFactRecord,
  LoanFactRecord,
  StoredLedgerRow,
  SubmissionFactRecord,
  LedgerAppend,
  LedgerLeafFields,
  LedgerRow,
  LedgerVerification,
} from './ledger.js';
export { FieldCryptoError, fieldCryptoFromMasterKey, isSealedValue, SEALED_PREFIX } from './crypto.js';
export type { FieldCrypto } from './crypto.js';
export {
  DECISION_INPUTS,
  DECISION_RESULT,
  openDecision,
  openDecisionResult,
  sealDecisionColumns,
} from './sealed-decisions.js';
export { DISPUTE_OUTCOME, DISPUTE_STATEMENT } from './sealed-disputes.js';
export { BUREAU_SUBMISSION } from './sealed-submissions.js';
export {
  APPEAL_OUTCOME,
  APPEAL_STATEMENT,
  COMPLAINT_EXTENSION,
  COMPLAINT_RESOLUTION,
  COMPLAINT_STATEMENT,
  openAppeal,
  openComplaint,
  sealAppealOutcome,
  sealAppealStatement,
  sealComplaintResolution,
  sealComplaintText,
  sealExtensionReason,
} from './sealed-cases.js';
export type { AppealTexts, BilingualText, CaseTextResealResult, ComplaintTexts } from './sealed-cases.js';
export {
  CASE_NOTE,
  CHANGE_DECISION_NOTE,
  CHANGE_PROPOSAL,
  CHANGE_REASON,
  openCaseNote,
  openChange,
  sealCaseNote,
  sealChangeProposal,
  sealDecisionNote,
} from './sealed-case-work.js';
export type { CaseWorkResealResult, ChangeTexts, SealedText } from './sealed-case-work.js';
export {
  LINE_ACTION_NOTE,
  lineActionNoteShown,
  openLineActionNote,
  sealLineActionNote,
} from './sealed-line-actions.js';
export type { LineActionNoteResealResult } from './sealed-line-actions.js';
export { drawRowOpened, openDrawOrigin, resealDrawOrigins, sealDrawOrigin } from './sealed-draws.js';
export type { DrawOrigin, DrawResealResult, StoredDrawOrigin } from './sealed-draws.js';
export type { SubmissionResealResult } from './sealed-submissions.js';
export { isSealedDataUnreadable, sealedDataUnreadable } from './sealed-pair.js';
export {
  BORROWER_SEALED_COLUMNS,
  openBorrowerValue,
  resealBorrowerValue,
  sealBorrowerValue,
} from './sealed-borrowers.js';
export type { BorrowerSealedColumn } from './sealed-borrowers.js';
export type { SealedPair } from './sealed-pair.js';
export type {
  DecisionSeals,
  OpenedDecision,
  OpenedDecisionResult,
  SealedDecisionColumns,
} from './sealed-decisions.js';
export { resealPairs } from './reseal.js';
export type { NamedResealCounts, SealedPairRow, SealedRows } from './reseal.js';
export type { DisputeResealResult } from './sealed-disputes.js';
export * from './merkle.js';
export * from './signing.js';
export * from './witness.js';
export * from './evidence.js';
export * from './audit.js';
export * from './facts.js';
export * from './consent.js';
export * from './bureau.js';
export * from './services.js';
export * from './portfolio.js';
export * from './portfolio-service.js';
export * from './early-warning.js';
export * from './monthly-report.js';
export * from './case-volumes.js';
export * from './ports.js';
export * from './bureau-reporting.js';
export * from './disputes.js';
