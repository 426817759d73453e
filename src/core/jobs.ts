import { isoDate, lenderDayStart, MS_PER_DAY } from '../domain/index.js';
import { bucketFor, DEFAULT_BUCKETS } from '../domain/index.js';
import { LgError, type LineActionType, type RequestedLineAction } from '../domain/index.js';
import { RESTRICTIVE_ACTIONS, withReasonThatSaysWhy } from '../domain/index.js';
import { expireTempLimit } from '../domain/index.js';
import { appendToLedger, type LedgerAppend } from '../compliance/index.js';
import type { CoreDeps, GuardTrip, UnitTx } from './deps.js';
import { buildContexts, timedDecide } from './context.js';
import { applyActionInTx, raiseTrip, type LineActionResult } from './lines.js';
import { lineStateOf } from './repo.js';
import type { AgedRow, LineRow } from './ports.js';
import { loanDpd } from './loans.js';
import { lenderDayOf } from '../domain/index.js';
import { frozenForFraud, liftClearedDelinquency, type RestrictionReviewResult } from './restrictions.js';
import { accrueOverdueLoans, type OverdueAccrualResult } from './accruing.js';
import { reviewChannels, type ChannelAlert } from './partners.js';

export const REVIEW_STRATEGY = 'line-review';

/** The first instant of a job's day on the lender's calendar (the day it ages, reviews, expires limits for). */
function asOfStart(deps: CoreDeps, asOf: string): number {
  const ms = lenderDayStart(deps.config, asOf);
  if (ms === undefined) throw new LgError('LG_VALIDATION', 'as-of must be a date YYYY-MM-DD', { asOf });
  return ms;
}

export interface DailyJobResult {
  readonly asOf: string;
  readonly loansAged: number;
  /** Loans left as a run for a later day aged them (see agePage). */
  readonly loansAgedLater: number;
  readonly linesAged: number;
  readonly bucketChanges: { loanId: string; lineId: string; dpd: number; from: string; to: string }[];
  readonly tempLimitsExpired: number;
  /** Daily-accrual loans: penalty interest and late fees accrued to asOf (see accruing.ts). */
  readonly overdueAccrual?: OverdueAccrualResult;
  /** 助贷 channels whose quality breached a threshold today. */
  readonly channelAlerts?: readonly ChannelAlert[];
}

/**
 * Ages every open loan as of a date: days past due per loan (oldest unpaid due instalment, domain/delinquency.ts)
 * and per line (the worst of its loans), the configured buckets, and every bucket change recorded in
 * delinquency_changes and the ledger. Expired temporary limits fall back. Re-running for the same date is a no-op; a
 * date after the lender's today is refused (LG_AS_OF_IN_FUTURE).
 */
export async function runDailyJob(deps: CoreDeps, asOf: string, pageSize = 500): Promise<DailyJobResult> {
  const asOfBegins = asOfStart(deps, asOf);
  refuseDayNotBegun(deps, 'daily', asOf);
  const overdueAccrual = await accrueOverdueLoans(deps, asOf);
  const aging: BookAging = {
    asOf,
    lateLines: new Set(),
    changes: [],
    loansAged: 0,
    loansAgedLater: 0,
  };
  let after = '';
  for (;;) {
    const loans = await deps.coreStore.activeLoansPage(after, pageSize);
    if (loans.length === 0) break;
    after = loans[loans.length - 1]?.id ?? after;
    await agePage(deps, aging, loans);
  }
  const { lateLines, changes, loansAged, loansAgedLater } = aging;
  const buckets = deps.config.buckets ?? DEFAULT_BUCKETS;
  const linesAged = await ageLines(deps, lateLines, buckets);
  // Limits that end by the end of the day there: one ending at 03:00 on the next day is still that day's to end.
  const tempLimitsExpired = await expireTempLimits(deps, asOfBegins + MS_PER_DAY - 1);
  const channelAlerts = await reviewChannels(deps, asOf);
  return {
    asOf,
    loansAged,
    loansAgedLater,
    linesAged,
    bucketChanges: changes,
    tempLimitsExpired,
    overdueAccrual,
    channelAlerts,
  };
}

/**
 * A day after the lender's today is refused, by the daily job and the review job alike. Aged for it, an instalment
 * due that day (or any day before it) would be late before the borrower's day to pay it has ended: a scheduler ahead
 * of the clock, or a typo, would mark a borrower late a day early and restrict their line on arrears they do not
 * have. Reviewed for it, lines are re-decided on facts the day has not yet produced (the book not aged for it), and
 * the actions are recorded as that day's review, which the day's real run then skips as taken. The run for today is
 * allowed; each day is aged and reviewed once it has begun (days past due count from the day after the due date).
 */
function refuseDayNotBegun(deps: CoreDeps, job: 'daily' | 'review', asOf: string): void {
  const today = lenderDayOf(deps.config, deps.clock.now());
  if (asOf <= today) return;
  throw new LgError(
    'LG_AS_OF_IN_FUTURE',
    `as-of ${asOf} is after the lender's today, ${today}: the ${job} job runs for today or an earlier day`,
    { asOf, today },
  );
}

/** What a run of the daily job has aged so far, page by page. */
interface BookAging {
  /** The day aged for, recorded as the loans' aged_for. */
  readonly asOf: string;
  /** Lines with a loan this run found past due, for ageLines. */
  readonly lateLines: Set<string>;
  readonly changes: DailyJobResult['bucketChanges'];
  loansAged: number;
  loansAgedLater: number;
}

/**
 * Ages a page of loans in one transaction. A loan already aged for a later day (aged_for) is left as that day left it,
 * and its line is judged by it: a run for an earlier day (a backfill, a re-run, a slip of the date) never turns a loan
 * in arrears back to current, which would lift the arrears that block its line's draws.
 */
async function agePage(
  deps: CoreDeps,
  aging: BookAging,
  loans: readonly (AgedRow & { readonly line_id: string; readonly aged_for: string | null })[],
): Promise<void> {
  const { asOf } = aging;
  const buckets = deps.config.buckets ?? DEFAULT_BUCKETS;
  const installments = await deps.coreStore.unsettledInstallmentsOf(loans.map((l) => l.id));
  await deps.store.transaction(async (tx) => {
    const entries: LedgerAppend[] = [];
    const unchanged: string[] = [];
    for (const loan of loans) {
      if (loan.aged_for !== null && loan.aged_for > asOf) {
        noteLate(aging, loan.line_id, Number(loan.dpd));
        aging.loansAgedLater += 1;
        continue;
      }
      const dpd = loanDpd(
        installments.filter((i) => i.loan_id === loan.id),
        asOf,
      );
      const bucket = bucketFor(dpd, buckets).name;
      noteLate(aging, loan.line_id, dpd);
      aging.loansAged += 1;
      if (dpd === Number(loan.dpd) && bucket === loan.bucket) {
        unchanged.push(loan.id);
        continue;
      }
      const from = await setLoanAge(deps, tx, { loan, asOf }, { dpd, bucket });
      if (from === 'aged later') {
        aging.loansAged -= 1;
        aging.loansAgedLater += 1;
        continue;
      }
      if (from === undefined || bucket === from.bucket) continue;
      const id = deps.ids.next();
      const now = deps.clock.now();
      await deps.coreStore.insertBucketChangeInTx(tx, {
        id,
        loan_id: loan.id,
        line_id: loan.line_id,
        as_of: asOf,
        dpd,
        prev_bucket: from.bucket,
        new_bucket: bucket,
        created_at: now,
      });
      entries.push({
        entryId: id,
        kind: 'loan.bucket',
        subjectId: loan.id,
        recordedAt: now,
        payload: { loanId: loan.id, lineId: loan.line_id, asOf, dpd, from: from.bucket, to: bucket },
      });
      aging.changes.push({ loanId: loan.id, lineId: loan.line_id, dpd, from: from.bucket, to: bucket });
    }
    await deps.coreStore.markLoansAgedInTx(tx, unchanged, asOf);
    await appendToLedger(tx, entries);
  });
}

/**
 * Sets a loan's age for the run's day, compared and set on the age the run read it with. The loans were read before
 * this dbTx: another run (another process, or one for another day) may have aged one since. Then it is read again
 * under its lock: aged for a later day, it is left as that day left it ('aged later'); else this run's day is the
 * later one and its age is set over the one found, which is what it changes from. Undefined: the age is already so.
 */
async function setLoanAge(
  deps: CoreDeps,
  tx: UnitTx,
  { loan, asOf }: { readonly loan: AgedRow; readonly asOf: string },
  age: { readonly dpd: number; readonly bucket: string },
): Promise<{ readonly bucket: string } | 'aged later' | undefined> {
  const read = { dpd: Number(loan.dpd), bucket: loan.bucket };
  if (await deps.coreStore.setLoanAgeInTx(tx, loan.id, { ...age, asOf }, read)) return read;
  const found = await deps.coreStore.loanInTx(tx, loan.id, true);
  if (found.aged_for !== null && found.aged_for > asOf) return 'aged later';
  const now = { dpd: Number(found.dpd), bucket: found.bucket };
  if (now.dpd === age.dpd && now.bucket === age.bucket) {
    await deps.coreStore.markLoansAgedInTx(tx, [loan.id], asOf);
    return undefined;
  }
  // Under the row's lock nothing else can age it now: this compare-and-set holds.
  return (await deps.coreStore.setLoanAgeInTx(tx, loan.id, { ...age, asOf }, now)) ? now : undefined;
}

function noteLate(aging: BookAging, lineId: string, dpd: number): void {
  if (dpd > 0) aging.lateLines.add(lineId);
}

/**
 * Line dpd = worst open loan. Only lines that are late now, or were late before, are touched, so the job's cost
 * follows the delinquent part of the book, not the whole book. A line's age is taken from its loans as they stand
 * under the line's lock, not from what this run computed: a run for another day at the same moment may have aged a
 * loan after this run read it, and the line must follow the loan's latest aging, never an earlier day's view of it
 * (which would lift the arrears that block the line's draws).
 */
async function ageLines(
  deps: CoreDeps,
  lateLines: ReadonlySet<string>,
  buckets: typeof DEFAULT_BUCKETS,
): Promise<number> {
  const previouslyLate = await deps.coreStore.lateLines();
  const ids = [...new Set([...previouslyLate.map((l) => l.id), ...lateLines])].sort();
  let aged = 0;
  await deps.store.transaction(async (tx) => {
    for (let i = 0; i < ids.length; i += 500) {
      for (const line of await deps.coreStore.lockedLineAgesInTx(tx, ids.slice(i, i + 500))) {
        const dpd = line.worst_loan_dpd;
        const bucket = bucketFor(dpd, buckets).name;
        if (dpd === Number(line.dpd) && bucket === line.bucket) continue;
        await deps.coreStore.setLineAgeInTx(tx, line.id, { dpd, bucket });
        aged += 1;
      }
    }
  });
  return aged;
}

async function expireTempLimits(deps: CoreDeps, at: number): Promise<number> {
  const due = await deps.coreStore.expiringTempLimits(at);
  let ended = 0;
  for (const row of due) {
    await deps.store.transaction(async (tx) => {
      const state = expireTempLimit(lineStateOf(row), at);
      const now = deps.clock.now();
      const ending = { baseLimitMinor: state.baseLimitMinor, until: Number(row.temp_limit_until) };
      // Read before this dbTx: another process running the job may have ended it since (then it says so, not us).
      if (!(await deps.coreStore.endTempLimitInTx(tx, row.id, ending, now))) return;
      ended += 1;
      const entryId = deps.ids.next();
      await appendToLedger(tx, [
        {
          entryId,
          kind: 'line.temp_limit_expired',
          subjectId: row.id,
          recordedAt: now,
          payload: { lineId: row.id, from: Number(row.limit_minor), to: state.baseLimitMinor },
        },
      ]);
    });
  }
  return ended;
}

export interface ReviewJobResult {
  readonly asOf: string;
  readonly reviewed: number;
  readonly outcomes: Record<string, number>;
  readonly actions: LineActionResult[];
  readonly held: number;
  readonly errors: { lineId: string; code: string; message: string }[];
  /** SUSPENDED and DRAW_FROZEN lines re-decided: delinquency restrictions lifted once the arrears are repaid. */
  readonly restrictions?: RestrictionReviewResult;
  /** Fraud restrictions whose cause cleared, handed to a person as REINSTATEMENT cases (set by src/cases). */
  readonly reinstatementCasesOpened?: number;
}

/** Instalments of the line's loans that were paid in full on or before their due date. */
async function onTimePayments(deps: CoreDeps, lineId: string): Promise<number> {
  const rows = await deps.coreStore.settledInstallmentsOfLine(lineId);
  return rows.filter(
    (r) => r.settled_at !== null && lenderDayOf(deps.config, Number(r.settled_at)) <= r.due_date,
  ).length;
}

/** What the core knows about a line for `line-review`; bureau facts (external delinquency, inquiries) come from elsewhere. */
async function reviewFacts(deps: CoreDeps, line: LineRow, at: number) {
  const limit = Number(line.limit_minor);
  const outstanding = Number(line.outstanding_minor);
  const declared = deps.engine.inputsOf(REVIEW_STRATEGY);
  return {
    lineStatus: line.status,
    limitMinor: limit,
    availableMinor: Number(line.available_minor),
    outstandingMinor: outstanding,
    utilisation: limit > 0 ? outstanding / limit : 0,
    daysPastDue: Number(line.dpd),
    bucket: line.bucket,
    annualRate: Number(line.annual_rate),
    monthsOnBook: Math.max(0, Math.floor((at - Number(line.created_at)) / (30 * MS_PER_DAY))),
    onTimePayments:
      declared === undefined || declared.has('onTimePayments')
        ? await onTimePayments(deps, line.id)
        : undefined,
  };
}

/**
 * Periodic line review (批量贷中复审): every ACTIVE and DRAW_FROZEN line is re-decided through `line-review`; the
 * decision and the actions it asks for are written in one dbTx per line, each action through the state machine and,
 * when automated and restrictive, the blast-radius guard. One line's failure is reported and does not stop the rest.
 * A date after the lender's today is refused (LG_AS_OF_IN_FUTURE) before anything is lifted, decided or written.
 */
export async function runReviewJob(deps: CoreDeps, asOf: string, pageSize = 200): Promise<ReviewJobResult> {
  const at = asOfStart(deps, asOf);
  refuseDayNotBegun(deps, 'review', asOf);
  // Restricted lines first, so a line reinstated today is also reviewed today (issue 11).
  const restrictions = await liftClearedDelinquency(deps, asOf);
  const outcomes: Record<string, number> = {};
  const actions: LineActionResult[] = [];
  const errors: ReviewJobResult['errors'] = [];
  const trips: GuardTrip[] = [];
  let reviewed = 0;
  let after = '';
  for (;;) {
    const lines = await deps.coreStore.reviewableLinesPage(after, pageSize);
    if (lines.length === 0) break;
    after = lines[lines.length - 1]?.id ?? after;
    for (const line of lines) {
      if (await frozenForFraud(deps, line)) continue; // a person lifts it (src/cases); see restrictions.ts
      try {
        const done = await reviewLine(deps, line, asOf, at);
        reviewed += 1;
        outcomes[done.outcome] = (outcomes[done.outcome] ?? 0) + 1;
        actions.push(...done.actions);
        trips.push(...done.trips);
      } catch (error) {
        const lg = error instanceof LgError ? error : undefined;
        errors.push({
          lineId: line.id,
          code: lg?.code ?? 'LG_INTERNAL',
          message: error instanceof Error ? error.message : String(error),
        });
      }
    }
  }
  for (const trip of trips) await raiseTrip(deps, trip);
  return {
    asOf,
    reviewed,
    outcomes,
    actions,
    held: actions.filter((a) => a.outcome === 'REVIEW').length,
    errors,
    restrictions,
  };
}

/** The line actions a review decision applies one of at most (oneChangePerKind): its limit and its rate. */
const ONE_PER_KIND: ReadonlySet<LineActionType> = new Set([
  'LIMIT_DECREASE',
  'LIMIT_INCREASE',
  'TEMP_LIMIT',
  'RATE_CHANGE',
]);

/**
 * The decision's actions with one limit change of each kind and one rate change at most, where they stand in the list;
 * the others dropped. Rules of a review strategy may each ask for a change of the same line's limit or rate, in any
 * order; all applied under one decision, the line was cut (or raised, or repriced) two or three times, each a line
 * action and a notice to the borrower, or the second change was no move from the limit the first had just set (a cut
 * above it, a raise below it), which the state machine refuses, and the line's whole review failed; a raise beside a cut
 * raised the line the decision had found reason to cut. What is applied:
 * - the strictest cut (the lowest limit asked for) if the rules ask for any cut, and no raise, permanent or temporary,
 *   beside it: a risk signal outweighs a reward (the bundled line-review's order, "most severe first", says the same);
 * - else the smallest permanent raise and the smallest temporary limit: the conservative ones, the limit every rule that
 *   asked for that kind of raise agrees the line may reach (no rule of the code base says otherwise; a larger one stays
 *   for a later review, or a person, to grant); the temporary limit only if it lies above that raise (a temporary limit
 *   is one above the permanent, which the state machine checks);
 * - the highest rate asked for, by the same measure: a repricing for risk outweighs a reward, and of two rewards the
 *   smaller cut of the rate is the one every such rule agrees to.
 * The decision's record keeps every change the rules asked for; the line changes once per kind. A change with no limit
 * (or rate) counts as the mildest (applied alone, it is refused as before).
 */
function oneChangePerKind(actions: readonly RequestedLineAction[]): RequestedLineAction[] {
  const limitOf = (a: RequestedLineAction) => a.limitMinor ?? Number.POSITIVE_INFINITY;
  const rateOf = (a: RequestedLineAction) => a.annualRate ?? Number.NEGATIVE_INFINITY;
  /** The first action of `type` that `better` prefers to every other. */
  const pick = (type: LineActionType, better: (a: RequestedLineAction, b: RequestedLineAction) => boolean) =>
    actions
      .filter((a) => a.type === type)
      .reduce<RequestedLineAction | undefined>(
        (best, a) => (best === undefined || better(a, best) ? a : best),
        undefined,
      );
  // Among cuts the lowest limit is the strictest; among raises of one kind it is the smallest.
  const lowest = (type: LineActionType) => pick(type, (a, b) => limitOf(a) < limitOf(b));
  const cut = lowest('LIMIT_DECREASE');
  const raise = lowest('LIMIT_INCREASE');
  const temp = lowest('TEMP_LIMIT');
  // A temporary limit must lie above the permanent one: none above the raise beside it is no raise once that applies.
  const tempAboveRaise = temp && (!raise || limitOf(temp) > limitOf(raise)) ? temp : undefined;
  const rate = pick('RATE_CHANGE', (a, b) => rateOf(a) > rateOf(b));
  const kept = new Set([...(cut ? [cut] : [raise, tempAboveRaise]), rate]);
  return actions.filter((a) => !ONE_PER_KIND.has(a.type) || kept.has(a));
}

async function reviewLine(deps: CoreDeps, line: LineRow, asOf: string, at: number) {
  // Recorded with every fact the review computed, as an application's and a draw's are (buildContexts): a candidate
  // review strategy is replayed, and a shadow judged, on the facts it would be handed.
  const { context, recorded } = buildContexts(
    deps.engine,
    REVIEW_STRATEGY,
    {},
    await reviewFacts(deps, line, at),
  );
  const { decision, latencyMs } = timedDecide(
    deps.engine,
    REVIEW_STRATEGY,
    context,
    line.borrower_id,
    recorded,
  );
  const decisionId = deps.ids.next();
  return deps.store.transaction(async (tx) => {
    await deps.engine.recordDecision(tx, {
      decisionId,
      kind: 'review',
      strategyId: REVIEW_STRATEGY,
      subjectId: line.borrower_id,
      lineId: line.id,
      context: recorded,
      decision,
      decidedAt: deps.clock.now(),
      latencyMs,
    });
    const results: LineActionResult[] = [];
    const entries: LedgerAppend[] = [];
    const trips: GuardTrip[] = [];
    const actor = `job:review:${asOf}`;
    // Under the line's lock, what this date's review already did to it (an earlier run, another process): a held
    // restriction leaves the line as it was, and taken again it would open another case each run.
    await deps.coreStore.lineInTx(tx, line.id, true);
    const taken = new Set(await deps.coreStore.actionTypesByInTx(tx, line.id, actor));
    for (const action of oneChangePerKind(decision.actions)) {
      if (taken.has(action.type)) continue;
      const done = await applyActionInTx(deps, tx, line.id, {
        type: action.type,
        reasons: reviewActionReasons(action, decision.reasons),
        automated: true,
        actor,
        traceId: decisionId,
        limitMinor: action.limitMinor,
        annualRate: action.annualRate,
      });
      results.push(done.result);
      entries.push(done.ledger);
      if (done.trip) trips.push(done.trip);
    }
    await appendToLedger(tx, entries);
    return { outcome: decision.outcome, actions: results, trips };
  });
}

/** Review actions that set the limit: with no reason of their own, "your limit was adjusted after a periodic review". */
const LIMIT_SETTING: ReadonlySet<LineActionType> = new Set([
  'LIMIT_INCREASE',
  'LIMIT_DECREASE',
  'TEMP_LIMIT',
]);

/**
 * A review action's reasons: its own, else its decision's. With none, the review's own reason: R_LIMIT_REVIEW for a
 * limit change, R_PERIODIC_REVIEW for anything else (a freeze that left the limit where it was is no "limit
 * adjusted"). A restriction whose reasons are only favourable ("thank you for repaying on time") gets that reason
 * first: it says why, and it can be appealed.
 */
function reviewActionReasons(action: RequestedLineAction, decisionReasons: readonly string[]): string[] {
  const given = action.reasons.length > 0 ? action.reasons : decisionReasons;
  const own = LIMIT_SETTING.has(action.type) ? 'R_LIMIT_REVIEW' : 'R_PERIODIC_REVIEW';
  if (given.length === 0) return [own];
  return RESTRICTIVE_ACTIONS.has(action.type) ? withReasonThatSaysWhy(given, own) : [...given];
}

export { isoDate };
