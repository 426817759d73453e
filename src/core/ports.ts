import type { BookShare } from './ports/lending.js';
import type { LedgerAppend } from '../compliance/index.js';
import type { Installment, RepaymentMethod } from '../domain/index.js';
import type { CoreEvent } from './events.js';
import type { LineState } from '../domain/index.js';
import type { IdempotencyClaim, RecordedResponse, UnitGuard } from '../domain/index.js';
import type {
  ActionRow,
  ApplicationRow,
  BorrowerRow,
  DecisionRow,
  DrawRow,
  InstallmentRow,
  LineRow,
  LoanRow,
  NewApplication,
  NewBucketChange,
  NewLine,
  NewLineAction,
  NewRepayment,
} from './repo.js';

export type { IdempotencyClaim, RecordedResponse, UnitGuard };

/**
 * The ports through which the core reads and writes its aggregates; src/store/core*.ts implements them (SQLite and
 * PostgreSQL) and src/app wires them. Everything here is in domain terms: the store makes the rows.
 */

/** The core's row types (repo.ts, derived from the schema), for the ports' implementations. */
export type * from './repo.js';

/** What the core stores about a decision; the engine owns the table and its ledger entry. */
export interface CoreDecisionWrites {
  readonly row: DecisionRow;
  readonly ledger: LedgerAppend;
}

/** Takes `amountMinor` of a line's available credit, only while the line is ACTIVE and has it (never over-draws). */
export interface LineDebit {
  readonly lineId: string;
  readonly amountMinor: number;
  readonly at: number;
}

/** The APRs of a loan under each disclosure convention (percent). */
export interface LoanAprs {
  readonly US_REGZ: number;
  readonly EU_CCD: number;
  readonly CN_IRR: number;
}

/** A loan a draw books, with its schedule; the product's part (terms snapshot, accrual state) is products.ts's. */
export interface BookedLoan {
  readonly id: string;
  readonly lineId: string;
  readonly borrowerId: string;
  readonly drawId: string;
  readonly currency: string;
  readonly principalMinor: number;
  readonly annualRate: number;
  readonly termMonths: number;
  readonly method: RepaymentMethod;
  readonly startDate: string;
  readonly upfrontFeeMinor: number;
  readonly periodicFeeMinor: number;
  readonly apr: LoanAprs;
  readonly totalInterestMinor: number;
  readonly totalFeesMinor: number;
  readonly totalRepayableMinor: number;
  /** The delinquency bucket a new loan starts in. */
  readonly bucket: string;
  readonly createdAt: number;
  readonly installments: readonly Installment[];
  readonly product: LoanProductPart;
}

/** The product's part of a booked loan: its terms snapshot and daily-accrual state (products.ts). */
export interface LoanProductPart {
  readonly productId: string | null;
  readonly productVersion: number | null;
  /** The terms snapshot at booking (JSON), so a product change never alters the loan. */
  readonly terms: string | null;
  readonly interestThrough: string | null;
  readonly interestUnpaidMinor: number;
  readonly penaltyThrough: string | null;
  readonly penaltyUnpaidMinor: number;
  readonly purpose: string | null;
  readonly quoteId: string | null;
}

/** A draw as decided (whatever its outcome). */
export interface DrawRecord {
  readonly id: string;
  readonly lineId: string;
  readonly borrowerId: string;
  readonly decisionId: string;
  readonly status: string;
  readonly amountMinor: number;
  readonly currency: string;
  readonly termMonths: number;
  readonly method: RepaymentMethod;
  readonly purpose?: string;
  /** The device id, IP and payee the draw named, sealed as one value (compliance/sealed-draws.ts). */
  readonly origin?: string;
  readonly reasons: readonly string[];
  readonly loanId: string | null;
  readonly createdAt: number;
  /** The quote the draw cited (a held draw is released on exactly its terms, or not at all). */
  readonly quoteId?: string;
}

/** An event that leaves through the outbox once the unit committed (never before). */
export interface OutboxEvent {
  readonly id: string;
  readonly topic: string;
  readonly payload: CoreEvent;
  readonly at: number;
}

/** Everything one unit of work writes, in domain terms, in the order the store writes it. */
export interface CoreWrites {
  /** Applied first; zero rows debited refuses the unit (see DrawUnit.refused). */
  readonly debit?: LineDebit;
  readonly loan?: BookedLoan;
  readonly decision?: CoreDecisionWrites;
  readonly draw?: DrawRecord;
  /** Chained after the decision's own entry. */
  readonly ledger: readonly LedgerAppend[];
  readonly outbox: readonly OutboxEvent[];
}

/** What a draw reads under its line's lock, and the time taken after the lock. */
export interface DrawReads {
  readonly line: LineRow;
  /** created_at of the line's approved draws inside the velocity window, newest first (empty when not asked). */
  readonly recentDrawTimes: readonly number[];
  readonly now: number;
  /** The borrower's open monitor alerts, when the unit asked for them (readOpenAlerts). */
  readonly openAlerts?: number;
  /** The lists (black, grey, white) the unit's list keys are on, when it gave keys (DrawUnit.lists). */
  readonly listedOn?: readonly ('black' | 'grey' | 'white')[];
}

/**
 * One draw as one unit of work: read the line under its lock (and its recent draws when the strategy needs them), take
 * the time, plan (pure), write the plan's writes and the guard's. The store runs it synchronously on embedded SQLite
 * and through Kysely on PostgreSQL; both run this one description.
 */
export interface DrawUnit<P extends { readonly writes: CoreWrites }> {
  readonly lineId: string;
  /** The velocity window to read; absent when the active strategy does not read draw velocity. */
  readonly velocity?: { readonly windowMs: number; readonly countMax: number };
  /**
   * Read the borrower's open monitor alerts under the line's lock (on PostgreSQL in the same statement as the lock:
   * no round trip of its own), so an alert another process committed before this draw's lock is seen.
   */
  readonly readOpenAlerts?: boolean;
  /**
   * The list keys of everything behind the draw (borrower, device, IP, payee), looked up under the line's lock (on
   * PostgreSQL in the statement that takes it): no round trip of their own, and exact against an entry another
   * process committed before the lock. `at` decides which entries have expired.
   */
  readonly lists?: {
    readonly probes: readonly { readonly entityType: string; readonly matchKeys: readonly string[] }[];
    readonly at: number;
  };
  readonly now: () => number;
  plan(reads: DrawReads): P;
  /** The error when the debit finds the line changed under it (a concurrent draw or action got there first). */
  refused(line: LineRow, debit: LineDebit): Error;
  /** The error when there is no such line. */
  notFound(): Error;
  /**
   * The line's channel partner's share of the book, read in the unit after the line's lock (and under the partner's
   * lock on PostgreSQL), so concurrent draws on one channel see each other's debits; `check` throws to refuse.
   */
  readonly bookShare?: { readonly partnerId: string; check(share: BookShare): void };
  readonly guard?: UnitGuard;
  /**
   * The request's answer, given the plan and the loan as stored: written with the guard's idempotency key in the same
   * statement (UnitGuard.respond). Absent, or undefined: the key is written alone.
   */
  respond?(plan: P, stored: StoredLoan | undefined): RecordedResponse | undefined;
}

/** A borrower's sealed personal data under the current key, replacing what a retired key sealed. */
export interface BorrowerReseal {
  readonly id: string;
  /** The sealed national ID the row must still hold (another rotation run may have got there first). */
  readonly expectedNationalIdEnc: string;
  readonly sealed: Pick<
    BorrowerRow,
    'national_id_hash' | 'national_id_enc' | 'name_enc' | 'phone_enc' | 'birth_date_enc'
  >;
}

/** Which rows a listing pages through. */
export interface ListScope {
  readonly table: 'draws' | 'loans' | 'credit_lines';
  readonly column: 'line_id' | 'borrower_id';
  readonly value: string;
}

/** A page of a line's actions, newest first (created_at, then id), before `before` (exclusive): keyset paging. */
export interface NewestFirstPage {
  readonly limit: number;
  readonly before?: { readonly createdAt: number; readonly id: string };
}

/** A listing page's bounds: created_at in [from, to), after the keyset cursor, at most `limit` rows. */
export interface ListBounds {
  readonly from?: number;
  readonly to?: number;
  readonly after?: { readonly t: number; readonly id: string };
  readonly limit: number;
}

/** A booked loan as stored, for the borrower's view of what the draw booked. */
export interface StoredLoan {
  readonly loan: LoanRow;
  readonly installments: readonly InstallmentRow[];
}

/** A line's new state, written only while the line is still in `fromStatus` (a stale writer fails, never overwrites). */
export interface LineStateChange {
  readonly lineId: string;
  readonly fromStatus: string;
  readonly state: LineState;
  readonly at: number;
}

/** A referred application's decision (reasons in order, most important first). */
export interface ApplicationSettlement {
  readonly id: string;
  readonly outcome: string;
  readonly reasons: readonly string[];
  readonly lineId: string | null;
  readonly limitMinor: number | null;
  readonly annualRate: number | null;
}

/** A loan's balance after a repayment. */
export interface LoanBalance {
  readonly id: string;
  readonly outstandingPrincipalMinor: number;
  readonly status: string;
  readonly settledAt: number | null;
}

/** What an instalment has been paid so far (running totals, not one payment's part). */
export interface InstallmentPaid {
  readonly loanId: string;
  readonly period: number;
  readonly feeMinor: number;
  readonly interestMinor: number;
  readonly principalMinor: number;
  readonly settledAt: number | null;
}

/** A loan's or line's days past due and delinquency bucket. */
export interface Age {
  readonly dpd: number;
  readonly bucket: string;
}

/** An aged loan or line as stored. */
export interface AgedRow extends Age {
  readonly id: string;
}

/**
 * The core's store: its units of work and the reads behind them. `Tx` is the store's open transaction, which the
 * core only passes along (a case outcome acts through the core inside the cases module's transaction).
 */
export interface CoreStore<Tx = unknown> {
  /** Writes `writes` in the caller's open transaction; a refused debit throws `refused(debit)` before any write. */
  writeInTx(tx: Tx, writes: CoreWrites, refused: (debit: LineDebit) => Error): Promise<void>;
  /** A page of SUSPENDED and DRAW_FROZEN lines with ids after `afterId`, by id. */
  restrictedLinesPage(afterId: string, pageSize: number): Promise<LineRow[]>;
  /**
   * The restriction in force on a line: the latest applied FREEZE_DRAW (DRAW_FROZEN) or SUSPEND (SUSPENDED) that moved
   * it into the status it has now; in `tx` if given.
   */
  restrictionOf(
    line: { readonly id: string; readonly status: string },
    tx?: Tx,
  ): Promise<ActionRow | undefined>;
  /** The latest applied FREEZE_DRAW, SUSPEND, UNFREEZE or REINSTATE on the line, in `tx` if given. */
  latestRestrictionMove(lineId: string, tx?: Tx): Promise<ActionRow | undefined>;
  /**
   * A page of the applied actions that set the line's limit (grant, raise, cut, temporary limit), newest first, read in
   * the caller's tx.
   */
  limitChangesInTx(tx: Tx, lineId: string, page: NewestFirstPage): Promise<ActionRow[]>;
  /**
   * A page of the applied LIMIT_DECREASEs on the line that are `targetId`, or were taken on the decision `targetId`,
   * newest first, read in the caller's transaction.
   */
  limitCutsInTx(tx: Tx, lineId: string, targetId: string, page: NewestFirstPage): Promise<ActionRow[]>;
  /** The unsettled instalments of every loan on a line; only those due before `dueBefore` (ISO date) when given. */
  unsettledInstalmentsOfLine(lineId: string, dueBefore?: string): Promise<InstallmentRow[]>;
  /** True once any borrower exists (the demo seed runs only on an empty book). */
  hasAnyBorrower(): Promise<boolean>;
  /** The borrower whose national ID has one of these keyed hashes (one per key held). */
  borrowerByHashes(hashes: readonly string[]): Promise<BorrowerRow | undefined>;
  borrower(id: string): Promise<BorrowerRow | undefined>;
  /** A borrower from the reader (never waits for the writer's batch; the draw's list keys). */
  readBorrower(id: string): Promise<BorrowerRow | undefined>;
  borrowersPage(afterId: string, pageSize: number): Promise<BorrowerRow[]>;
  /**
   * Inserts the borrower unless one with these hashes exists, in the caller's transaction; the stored borrower's id.
   * `knownId`: the borrower found by these hashes before the transaction (never deleted, so it is the answer).
   */
  upsertBorrowerInTx(tx: Tx, row: BorrowerRow, hashes: readonly string[], knownId?: string): Promise<string>;
  /** Re-seals borrowers (compare-and-set each) with the ledger entry `entry` makes of the re-sealed ids; how many. */
  resealBorrowers(
    reseals: readonly BorrowerReseal[],
    entry: (done: readonly string[]) => LedgerAppend,
  ): Promise<number>;
  /** The draw, locked for the rest of the caller's transaction. */
  lockDrawInTx(tx: Tx, id: string): Promise<DrawRow | undefined>;
  /** A decision's stored result (sealed; JSON in clear if stored before results were), in the caller's transaction. */
  decisionResultInTx(tx: Tx, decisionId: string): Promise<string | undefined>;
  /** Compare-and-set of a draw's status: false when the draw is no longer in `from`. */
  moveDrawInTx(
    tx: Tx,
    move: { readonly id: string; readonly from: string; readonly to: string; readonly loanId: string | null },
  ): Promise<boolean>;
  /**
   * The ids of COOLDOWN draws created at or before `createdBefore`, oldest first: which draws the sweep looks at, each
   * then read under its lock (the rest of a row read here would be stale by then).
   */
  dueCooldowns(createdBefore: number, limit: number): Promise<{ id: string }[]>;
  /**
   * The id of an alert raised on the borrower after the draw, if any, read in the caller's transaction: one created
   * later by the clock (`createdAt`, ms), or, on PostgreSQL, one a transaction wrote after the draw's in commit order
   * whatever the writers' clocks said (store/core-held-draws.ts alertAfter).
   */
  alertAfterInTx(
    tx: Tx,
    borrowerId: string,
    draw: { readonly id: string; readonly createdAt: number },
  ): Promise<string | undefined>;
  /**
   * When the line's newest draw or loan was created (ms; null: none), read in the caller's transaction: under the
   * line's lock, a release's loan is stamped after it (instantAfter), as a draw is after the line's newest draw.
   */
  newestDrawOrLoanAtInTx(tx: Tx, lineId: string): Promise<number | null>;
  /** A keyset page of a listed table's rows (the reader; see listings.ts). */
  listPage(
    scope: ListScope,
    bounds: ListBounds,
  ): Promise<({ id: string; created_at: number } & Record<string, unknown>)[]>;
  /** True when the line or borrower exists (the reader). */
  exists(table: 'credit_lines' | 'borrowers', id: string): Promise<boolean>;
  /** The borrower of a line, from the reader (never waits for the writer's batch); undefined when there is none. */
  borrowerOfLine(lineId: string): Promise<string | undefined>;
  /** The line, locked for the rest of the caller's transaction when `lock`; LG_NOT_FOUND when there is none. */
  lineInTx(tx: Tx, id: string, lock: boolean): Promise<LineRow>;
  /** The line from the writer's connection (what is committed); LG_NOT_FOUND when there is none. */
  line(id: string): Promise<LineRow>;
  /** The line's latest actions, newest first. */
  recentActions(lineId: string, limit: number): Promise<ActionRow[]>;
  /**
   * When the line's newest action was created (ms; null: none), read in the caller's transaction: under the line's
   * lock, a new action is stamped after it (instantAfter).
   */
  newestLineActionAtInTx(tx: Tx, lineId: string): Promise<number | null>;
  /** The types of the actions `actor` has already taken on the line, read in the caller's transaction. */
  actionTypesByInTx(tx: Tx, lineId: string, actor: string): Promise<string[]>;
  /**
   * Locks the borrower for the rest of the caller's transaction, then reads the sum of limits over their open lines
   * (but `excludeLineId`) and when their newest line was created: every grant or raise reads the cap's exposure
   * here, so such writes for one borrower queue up in any number of processes.
   */
  lockBorrowerExposureInTx(
    tx: Tx,
    borrowerId: string,
    excludeLineId?: string,
  ): Promise<{ exposureMinor: number; newestLineCreatedAt: number | null }>;
  /** Sum of limits over the borrower's open lines (but `excludeLineId`), outside any transaction. */
  openExposure(borrowerId: string, excludeLineId?: string): Promise<number>;
  /** ACTIVE and DRAW_FROZEN lines (the blast-radius guard's base). */
  countActiveLinesInTx(tx: Tx): Promise<number>;
  /**
   * Makes the blast-radius guard's admissions take turns across processes until the caller's transaction ends, so the
   * fleet count read after it (countAutomatedRestrictionsInTx) and the action admitted on it commit as one. PostgreSQL:
   * a transaction-scoped advisory lock, taken after the ledger chain head this transaction will append
   * `ledgerSubjectId`'s entry to; SQLite has one writer already (store/core-lines.ts lockGuardAdmissions).
   */
  lockGuardInTx(tx: Tx, ledgerSubjectId: string): Promise<void>;
  /** Automated restrictive actions of the class applied since `since` by every instance (the guard's fleet count). */
  countAutomatedRestrictionsInTx(tx: Tx, since: number, actionClass: string): Promise<number>;
  /** Compare-and-set of a line's state: false when the line is no longer in `change.fromStatus`. */
  setLineStateInTx(tx: Tx, change: LineStateChange): Promise<boolean>;
  insertLineInTx(tx: Tx, row: NewLine): Promise<void>;
  insertLineActionInTx(tx: Tx, row: NewLineAction): Promise<void>;
  insertApplicationInTx(tx: Tx, row: NewApplication): Promise<void>;
  /** A decision's row (its ledger entry is the caller's to append, with its unit's other entries). */
  insertDecisionInTx(tx: Tx, row: DecisionRow): Promise<void>;
  /** The application, locked for the rest of the caller's transaction. */
  lockApplicationInTx(tx: Tx, id: string): Promise<ApplicationRow | undefined>;
  /** Compare-and-set of an application out of REVIEW: false when it was decided meanwhile. */
  settleApplicationInTx(tx: Tx, settlement: ApplicationSettlement): Promise<boolean>;
  /** Events for the outbox, written in the caller's transaction (they leave once it commits). */
  insertOutboxInTx(tx: Tx, events: readonly OutboxEvent[]): Promise<void>;
  /** The loan, locked for the rest of the caller's transaction when `lock`; LG_NOT_FOUND when there is none. */
  loanInTx(tx: Tx, id: string, lock: boolean): Promise<LoanRow>;
  /** The loan from the writer's connection; LG_NOT_FOUND when there is none. */
  loan(id: string): Promise<LoanRow>;
  /** The loan's instalments by period, read in the caller's transaction. */
  installmentsInTx(tx: Tx, loanId: string): Promise<InstallmentRow[]>;
  installments(loanId: string): Promise<InstallmentRow[]>;
  setLoanBalanceInTx(tx: Tx, balance: LoanBalance): Promise<void>;
  setInstallmentPaidInTx(tx: Tx, paid: InstallmentPaid): Promise<void>;
  /** Repaid principal back onto the line's available credit, from the row's own balance (no lost draw). */
  restoreLineCreditInTx(tx: Tx, lineId: string, principalMinor: number, at: number): Promise<void>;
  insertRepaymentInTx(tx: Tx, row: NewRepayment): Promise<void>;
  /** A page of ACTIVE loans with ids after `afterId`, by id (the daily job's book), with the day each was aged for. */
  activeLoansPage(
    afterId: string,
    pageSize: number,
  ): Promise<(AgedRow & { readonly line_id: string; readonly aged_for: string | null })[]>;
  /** The unsettled instalments of these loans. */
  unsettledInstallmentsOf(loanIds: readonly string[]): Promise<InstallmentRow[]>;
  /**
   * Sets a loan's age for the day `age.asOf` if it is still `from` (the age the job read it with) and was not aged for a
   * later day, under the row's write lock; false when another run of the job (another process, or one for a later
   * day) aged it meanwhile, and then it records no change of its own.
   */
  setLoanAgeInTx(tx: Tx, loanId: string, age: Age & { readonly asOf: string }, from: Age): Promise<boolean>;
  /** Records that these loans were aged for `asOf` without a change, unless one was aged for a later day. */
  markLoansAgedInTx(tx: Tx, loanIds: readonly string[], asOf: string): Promise<void>;
  insertBucketChangeInTx(tx: Tx, row: NewBucketChange): Promise<void>;
  /** Lines past due (dpd > 0). */
  lateLines(): Promise<AgedRow[]>;
  /**
   * These lines' ages under their write locks, each with the worst days past due of its ACTIVE loans as they stand
   * then (not as a run of the job read them: another run may have aged a loan since).
   */
  lockedLineAgesInTx(
    tx: Tx,
    lineIds: readonly string[],
  ): Promise<(AgedRow & { readonly worst_loan_dpd: number })[]>;
  setLineAgeInTx(tx: Tx, lineId: string, age: Age): Promise<void>;
  /** Lines whose temporary limit ends at or before `at`. */
  expiringTempLimits(at: number): Promise<LineRow[]>;
  /**
   * Back to `baseLimitMinor`, never below the row's own outstanding balance (read in the statement), if the line's
   * temporary limit is still the one ending at `until`; false when another run ended it (or a new one began).
   */
  endTempLimitInTx(
    tx: Tx,
    lineId: string,
    ending: { baseLimitMinor: number; until: number },
    at: number,
  ): Promise<boolean>;
  /** Due dates and settlement times of the settled instalments of the line's loans. */
  settledInstallmentsOfLine(lineId: string): Promise<{ due_date: string; settled_at: number | null }[]>;
  /** A page of ACTIVE and DRAW_FROZEN lines with ids after `afterId`, by id (the review job's book). */
  reviewableLinesPage(afterId: string, pageSize: number): Promise<LineRow[]>;
  runDraw<P extends { readonly writes: CoreWrites }>(
    unit: DrawUnit<P>,
  ): Promise<{ readonly plan: P; readonly stored?: StoredLoan }>;
}
