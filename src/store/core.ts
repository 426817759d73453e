import type { CoreStore } from '../core/index.js';
import {
  borrowerById,
  borrowerByHashes,
  borrowersPage,
  readBorrower,
  resealBorrowers,
  upsertBorrower,
} from './core-borrowers.js';
import { runDraw, writeUnit } from './core-draws.js';
import {
  alertAfter,
  decisionResult,
  dueCooldowns,
  lockDraw,
  moveDraw,
  newestDrawOrLoanAt,
} from './core-held-draws.js';
import {
  hasAnyBorrower,
  listPage,
  rowExists,
  restrictedLinesPage,
  restrictionOf,
  latestRestrictionMove,
  limitChanges,
  limitCutsOf,
  unsettledInstalmentsOfLine,
} from './core-reads.js';
import { insertDecision } from './engine.js';
import { insertApplication, insertOutbox, lockApplication, settleApplication } from './core-applications.js';
import {
  countActiveLines,
  countAutomatedRestrictions,
  findLine,
  insertLine,
  insertLineAction,
  lockBorrowerExposure,
  lockGuardAdmissions,
  newestLineActionAt,
  borrowerExposure,
  recentActions,
  actionTypesBy,
  setLineState,
} from './core-lines.js';
import {
  findLoan,
  insertRepayment,
  installmentsOf,
  restoreLineCredit,
  setInstallmentPaid,
  setLoanBalance,
} from './core-loans.js';
import {
  activeLoansPage,
  markLoansAged,
  endTempLimit,
  expiringTempLimits,
  insertBucketChange,
  lateLines,
  lockedLineAges,
  reviewableLinesPage,
  setLineAge,
  setLoanAge,
  settledInstallmentsOfLine,
  unsettledInstallmentsOf,
} from './core-jobs.js';
import type { DbTx, Store } from './store-types.js';

/**
 * The core's port onto the store (core/ports.ts CoreStore), on SQLite or PostgreSQL. Dialect choices (row locks,
 * synchronous units on the embedded store) are made here and in the files it delegates to, never in src/core.
 */
export function createCoreStore(store: Store): CoreStore<DbTx> {
  return {
    async borrowerOfLine(lineId) {
      const line = await store.readDb
        .selectFrom('credit_lines')
        .select('borrower_id')
        .where('id', '=', lineId)
        .executeTakeFirst();
      return line?.borrower_id;
    },
    restrictedLinesPage: (afterId, pageSize) => restrictedLinesPage(store.db, afterId, pageSize),
    restrictionOf: (line, tx) => restrictionOf(tx ?? store.db, line),
    latestRestrictionMove: (lineId, tx) => latestRestrictionMove(tx ?? store.db, lineId),
    limitChangesInTx: (tx, lineId, page) => limitChanges(tx, lineId, page),
    limitCutsInTx: (tx, lineId, targetId, page) => limitCutsOf(tx, lineId, targetId, page),
    unsettledInstalmentsOfLine: (lineId, dueBefore) =>
      unsettledInstalmentsOfLine(store.db, lineId, dueBefore),
    hasAnyBorrower: () => hasAnyBorrower(store.db),
    listPage: (scope, bounds) => listPage(store.readDb, scope, bounds),
    exists: (table, id) => rowExists(store.readDb, table, id),
    borrowerByHashes: (hashes) => borrowerByHashes(store.db, hashes),
    borrower: (id) => borrowerById(store.db, id),
    readBorrower: (id) => readBorrower(store, id),
    borrowersPage: (afterId, pageSize) => borrowersPage(store.db, afterId, pageSize),
    upsertBorrowerInTx: (tx, row, hashes, knownId) => upsertBorrower(tx, row, hashes, knownId),
    resealBorrowers: (reseals, entry) => resealBorrowers(store, reseals, entry),
    lockDrawInTx: (tx, id) => lockDraw(tx, store.kind, id),
    decisionResultInTx: (tx, decisionId) => decisionResult(tx, decisionId),
    moveDrawInTx: (tx, move) => moveDraw(tx, store.kind, move),
    dueCooldowns: (createdBefore, limit) => dueCooldowns(store.db, createdBefore, limit),
    alertAfterInTx: (tx, borrowerId, draw) => alertAfter(tx, store.kind, borrowerId, draw),
    newestDrawOrLoanAtInTx: (tx, lineId) => newestDrawOrLoanAt(tx, lineId),
    lineInTx: (tx, id, lock) => findLine(tx, store.kind, id, lock),
    line: (id) => findLine(store.db, store.kind, id),
    recentActions: (lineId, limit) => recentActions(store.db, lineId, limit),
    newestLineActionAtInTx: (tx, lineId) => newestLineActionAt(tx, lineId),
    actionTypesByInTx: (tx, lineId, actor) => actionTypesBy(tx, lineId, actor),
    lockBorrowerExposureInTx: (tx, borrowerId, excludeLineId) =>
      lockBorrowerExposure(tx, store.kind, borrowerId, excludeLineId),
    openExposure: async (borrowerId, excludeLineId) =>
      (await borrowerExposure(store.db, borrowerId, excludeLineId)).exposureMinor,
    countActiveLinesInTx: (tx) => countActiveLines(tx),
    lockGuardInTx: (tx, ledgerSubjectId) => lockGuardAdmissions(tx, store.kind, ledgerSubjectId),
    countAutomatedRestrictionsInTx: (tx, since, actionClass) =>
      countAutomatedRestrictions(tx, since, actionClass),
    setLineStateInTx: (tx, change) => setLineState(tx, change),
    insertLineInTx: (tx, row) => insertLine(tx, row),
    insertLineActionInTx: (tx, row) => insertLineAction(tx, row),
    insertApplicationInTx: (tx, row) => insertApplication(tx, row),
    insertDecisionInTx: (tx, row) => insertDecision(tx, row),
    lockApplicationInTx: (tx, id) => lockApplication(tx, store.kind, id),
    settleApplicationInTx: (tx, settlement) => settleApplication(tx, settlement),
    insertOutboxInTx: (tx, events) => insertOutbox(tx, events),
    loanInTx: (tx, id, lock) => findLoan(tx, store.kind, id, lock),
    loan: (id) => findLoan(store.db, store.kind, id),
    installmentsInTx: (tx, loanId) => installmentsOf(tx, loanId),
    installments: (loanId) => installmentsOf(store.db, loanId),
    setLoanBalanceInTx: (tx, balance) => setLoanBalance(tx, balance),
    setInstallmentPaidInTx: (tx, paid) => setInstallmentPaid(tx, paid),
    restoreLineCreditInTx: (tx, lineId, principalMinor, at) =>
      restoreLineCredit(tx, lineId, principalMinor, at),
    insertRepaymentInTx: (tx, row) => insertRepayment(tx, row),
    activeLoansPage: (afterId, pageSize) => activeLoansPage(store.db, afterId, pageSize),
    unsettledInstallmentsOf: (loanIds) => unsettledInstallmentsOf(store.db, loanIds),
    setLoanAgeInTx: (tx, loanId, age, from) => setLoanAge(tx, loanId, age, from),
    markLoansAgedInTx: (tx, loanIds, asOf) => markLoansAged(tx, loanIds, asOf),
    insertBucketChangeInTx: (tx, row) => insertBucketChange(tx, row),
    lateLines: () => lateLines(store.db),
    lockedLineAgesInTx: (tx, lineIds) => lockedLineAges(tx, store.kind, lineIds),
    setLineAgeInTx: (tx, lineId, age) => setLineAge(tx, lineId, age),
    expiringTempLimits: (at) => expiringTempLimits(store.db, at),
    endTempLimitInTx: (tx, lineId, ending, at) => endTempLimit(tx, lineId, ending, at),
    settledInstallmentsOfLine: (lineId) => settledInstallmentsOfLine(store.db, lineId),
    reviewableLinesPage: (afterId, pageSize) => reviewableLinesPage(store.db, afterId, pageSize),
    runDraw: (unit) => runDraw(store, unit),
    async writeInTx(tx, writes, refused) {
      await writeUnit(tx, writes, (debit) => Promise.resolve(refused(debit)));
    },
  };
}
