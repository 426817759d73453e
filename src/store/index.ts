/** src/store's public face: the adapters src/app wires into the modules' ports, and the store they run on. */
export {
  openStore,
  acquireAdvisoryLock,
  type Db,
  type DbTx,
  type DecisionRow,
  type Store,
  type StoreKind,
} from './db.js';
export { createEngineRepository, decisionWrites, recordDecision, resealDecisions } from './engine.js';
export { resealDraws } from './core-held-draws.js';
export { resealCaseTexts } from './cases-sealed.js';
export { resealLineActionNotes } from './line-actions-sealed.js';
export type { DecisionResealResult } from './engine.js';
export { createModelRepository } from './models.js';
export * from './api.js';
export { RETRY_AFTER_SECONDS } from './faults.js';
export { createCaseDecisionReads, drawRow, lineRow, openedDrawRow } from './case-evidence.js';
export { createOutboxSource, prunePublishedOutbox } from './outbox-relay.js';
export { createCaseIntakeReads } from './cases-intake.js';
export { createLendingStore } from './lending.js';
export { createComplianceStore } from './compliance.js';
export { alertStore } from './cases-alerts.js';
export { caseRows } from './cases-rows.js';
export {
  monitorActionStore,
  monitorIntakeStore,
  eventToRow,
  type AlertFollowUp,
  type AlertRow,
  type EventRow,
} from './monitor.js';
export { monitorListStore } from './monitor-lists.js';
export { createLedgerLogStore } from './ledger.js';

export { readAlertEvidence, readLineHistory, readOverview, searchLines } from './console.js';
export type {
  AlertEvidenceRows,
  LineHistoryRow,
  LineSearch,
  LineSummaryRow,
  OverviewRows,
  OverviewWindow,
} from './console.js';
export { createCoreStore } from './core.js';
export { isRetryableTransactionError, isStoreUnavailableError } from './faults.js';
export { outsideUnitOfWork } from './group-commit.js';
export { openReadOnlySqlite } from './read-only.js';
