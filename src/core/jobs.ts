import { sql } from 'kysely';
import { isoDate, MS_PER_DAY, parseIsoDate } from '../domain/index.js';
import { bucketFor, DEFAULT_BUCKETS } from '../domain/index.js';
import { LgError } from '../domain/index.js';
import { expireTempLimit } from '../domain/index.js';
import { appendToLedger, type LedgerAppend } from '../compliance/index.js';
import type { CoreDeps, GuardTrip } from './deps.js';
import { buildContext, timedDecide } from './context.js';
import { applyActionInTx, raiseTrip, type LineActionResult } from './lines.js';
import { lineStateOf, type LineRow } from './repo.js';
import { loanDpd } from './loans.js';
import { frozenForFraud, liftClearedDelinquency, type RestrictionReviewResult } from './restrictions.js';
import { accrueOverdueLoans, type OverdueAccrualResult } from './accruing.js';
import { reviewChannels, type ChannelAlert } from './partners.js';

export const REVIEW_STRATEGY = 'line-review';

function asOfMs(asOf: string): number {
  const ms = parseIsoDate(asOf);
  if (ms === undefined) throw new LgError('LG_VALIDATION', 'as-of must be a date YYYY-MM-DD', { asOf });
  return ms;
}

export interface DailyJobResult {
  readonly asOf: string;
  readonly loansAged: number;
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
 * delinquency_changes and the ledger. Expired temporary limits fall back. Re-running for the same date is a no-op.
 */
export async function runDailyJob(deps: CoreDeps, asOf: string, pageSize = 500): Promise<DailyJobResult> {
  const asOfEnd = asOfMs(asOf);
  const overdueAccrual = await accrueOverdueLoans(deps, asOf);
  const buckets = deps.config.buckets ?? DEFAULT_BUCKETS;
  const changes: DailyJobResult['bucketChanges'] = [];
  const lineDpd = new Map<string, number>();
  let loansAged = 0;
  let after = '';
  for (;;) {
    const loans = await deps.store.db
      .selectFrom('loans')
      .select(['id', 'line_id', 'dpd', 'bucket'])
      .where('status', '=', 'ACTIVE')
      .where('id', '>', after)
      .orderBy('id')
      .limit(pageSize)
      .execute();
    if (loans.length === 0) break;
    after = loans[loans.length - 1]?.id ?? after;
    const installments = await deps.store.db
      .selectFrom('loan_installments')
      .selectAll()
      .where(
        'loan_id',
        'in',
        loans.map((l) => l.id),
      )
      .where('settled_at', 'is', null)
      .execute();
    await deps.store.transaction(async (tx) => {
      const entries: LedgerAppend[] = [];
      for (const loan of loans) {
        const dpd = loanDpd(
          installments.filter((i) => i.loan_id === loan.id),
          asOf,
        );
        const bucket = bucketFor(dpd, buckets).name;
        lineDpd.set(loan.line_id, Math.max(lineDpd.get(loan.line_id) ?? 0, dpd));
        loansAged += 1;
        if (dpd === Number(loan.dpd) && bucket === loan.bucket) continue;
        await tx.updateTable('loans').set({ dpd, bucket }).where('id', '=', loan.id).execute();
        if (bucket === loan.bucket) continue;
        const id = deps.ids.next();
        const now = deps.clock.now();
        await tx
          .insertInto('delinquency_changes')
          .values({
            id,
            loan_id: loan.id,
            line_id: loan.line_id,
            as_of: asOf,
            dpd,
            prev_bucket: loan.bucket,
            new_bucket: bucket,
            created_at: now,
          })
          .execute();
        entries.push({
          entryId: id,
          kind: 'loan.bucket',
          subjectId: loan.id,
          recordedAt: now,
          payload: { loanId: loan.id, lineId: loan.line_id, asOf, dpd, from: loan.bucket, to: bucket },
        });
        changes.push({ loanId: loan.id, lineId: loan.line_id, dpd, from: loan.bucket, to: bucket });
      }
      await appendToLedger(tx, entries);
    });
  }
  const linesAged = await ageLines(deps, lineDpd, buckets);
  const tempLimitsExpired = await expireTempLimits(deps, asOfEnd + MS_PER_DAY - 1);
  const channelAlerts = await reviewChannels(deps, asOf);
  return {
    asOf,
    loansAged,
    linesAged,
    bucketChanges: changes,
    tempLimitsExpired,
    overdueAccrual,
    channelAlerts,
  };
}

/**
 * Line dpd = worst open loan. Only lines that are late now, or were late before, are touched, so the job's cost
 * follows the delinquent part of the book, not the whole book.
 */
async function ageLines(
  deps: CoreDeps,
  lineDpd: Map<string, number>,
  buckets: typeof DEFAULT_BUCKETS,
): Promise<number> {
  const previouslyLate = await deps.store.db
    .selectFrom('credit_lines')
    .select(['id', 'dpd', 'bucket'])
    .where('dpd', '>', 0)
    .execute();
  const late = [...lineDpd.entries()].filter(([, dpd]) => dpd > 0).map(([id]) => id);
  const current = new Map(previouslyLate.map((l) => [l.id, l]));
  for (let i = 0; i < late.length; i += 500) {
    const page = await deps.store.db
      .selectFrom('credit_lines')
      .select(['id', 'dpd', 'bucket'])
      .where('id', 'in', late.slice(i, i + 500))
      .execute();
    for (const row of page) current.set(row.id, row);
  }
  let aged = 0;
  await deps.store.transaction(async (tx) => {
    for (const line of current.values()) {
      const dpd = lineDpd.get(line.id) ?? 0;
      const bucket = bucketFor(dpd, buckets).name;
      if (dpd === Number(line.dpd) && bucket === line.bucket) continue;
      await tx.updateTable('credit_lines').set({ dpd, bucket }).where('id', '=', line.id).execute();
      aged += 1;
    }
  });
  return aged;
}

async function expireTempLimits(deps: CoreDeps, at: number): Promise<number> {
  const due = await deps.store.db
    .selectFrom('credit_lines')
    .selectAll()
    .where('temp_limit_until', 'is not', null)
    .where('temp_limit_until', '<=', at)
    .execute();
  for (const row of due) {
    await deps.store.transaction(async (tx) => {
      const state = expireTempLimit(lineStateOf(row), at);
      const now = deps.clock.now();
      await tx
        .updateTable('credit_lines')
        .set({
          limit_minor: sql<number>`case when ${state.baseLimitMinor} > outstanding_minor then ${state.baseLimitMinor} else outstanding_minor end`,
          base_limit_minor: sql<number>`case when ${state.baseLimitMinor} > outstanding_minor then ${state.baseLimitMinor} else outstanding_minor end`,
          temp_limit_until: null,
          available_minor: sql<number>`case when ${state.baseLimitMinor} > outstanding_minor then ${state.baseLimitMinor} - outstanding_minor else 0 end`,
          updated_at: now,
        })
        .where('id', '=', row.id)
        .execute();
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
  return due.length;
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
  const rows = await deps.store.db
    .selectFrom('loan_installments')
    .innerJoin('loans', 'loans.id', 'loan_installments.loan_id')
    .select(['loan_installments.due_date', 'loan_installments.settled_at'])
    .where('loans.line_id', '=', lineId)
    .where('loan_installments.settled_at', 'is not', null)
    .execute();
  return rows.filter((r) => r.settled_at !== null && isoDate(Number(r.settled_at)) <= r.due_date).length;
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
 */
export async function runReviewJob(deps: CoreDeps, asOf: string, pageSize = 200): Promise<ReviewJobResult> {
  const at = asOfMs(asOf);
  // Restricted lines first, so a line reinstated today is also reviewed today (issue 11).
  const restrictions = await liftClearedDelinquency(deps, asOf);
  const outcomes: Record<string, number> = {};
  const actions: LineActionResult[] = [];
  const errors: ReviewJobResult['errors'] = [];
  const trips: GuardTrip[] = [];
  let reviewed = 0;
  let after = '';
  for (;;) {
    const lines = await deps.store.db
      .selectFrom('credit_lines')
      .selectAll()
      .where('status', 'in', ['ACTIVE', 'DRAW_FROZEN'])
      .where('id', '>', after)
      .orderBy('id')
      .limit(pageSize)
      .execute();
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

async function reviewLine(deps: CoreDeps, line: LineRow, asOf: string, at: number) {
  const context = buildContext(deps.engine, REVIEW_STRATEGY, {}, await reviewFacts(deps, line, at));
  const { decision, latencyMs } = timedDecide(deps.engine, REVIEW_STRATEGY, context, line.borrower_id);
  const decisionId = deps.ids.next();
  return deps.store.transaction(async (tx) => {
    await deps.engine.recordDecision(tx, {
      decisionId,
      kind: 'review',
      strategyId: REVIEW_STRATEGY,
      subjectId: line.borrower_id,
      lineId: line.id,
      context,
      decision,
      decidedAt: deps.clock.now(),
      latencyMs,
    });
    const results: LineActionResult[] = [];
    const entries: LedgerAppend[] = [];
    const trips: GuardTrip[] = [];
    for (const action of decision.actions) {
      const done = await applyActionInTx(deps, tx, line.id, {
        type: action.type,
        reasons:
          action.reasons.length > 0
            ? action.reasons
            : decision.reasons.length > 0
              ? decision.reasons
              : ['R_LIMIT_REVIEW'],
        automated: true,
        actor: `job:review:${asOf}`,
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

export { isoDate };
