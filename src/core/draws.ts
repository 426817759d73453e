import { sql } from 'kysely';
import { isoDate, MS_PER_DAY } from '../domain/clock.js';
import type { ContextValue, Decision, Outcome } from '../domain/decision.js';
import { LgError } from '../domain/errors.js';
import { drawBlockedError, type LineStatus } from '../domain/line.js';
import { aprCapCheck, loanDisclosure, type LoanDisclosure } from '../domain/apr.js';
import { buildSchedule, type RepaymentMethod, type Schedule } from '../domain/schedule.js';
import { borrowerReasons, type BorrowerReason } from '../domain/reason-codes.js';
import { DEFAULT_BUCKETS } from '../domain/delinquency.js';
import { appendToLedger, appendToLedgerSync, type LedgerAppend } from '../compliance/ledger.js';
import type { DbTx } from '../store/db.js';
import type { SyncSql } from '../store/sync.js';
import type { CoreTables } from '../store/core-tables.js';
import { insertRows, runShaped } from '../store/shaped.js';
import {
  allInBreakdown,
  allInCapError,
  aprCapFor,
  checkDrawForProduct,
  loanProductColumns,
  scheduleInputFor,
} from './products.js';
import { assertMatchesQuote, quoteForDraw, type QuotedBooking } from './quotes.js';
import { checkPurpose } from './purposes.js';
import {
  checkConcentrationInUnit,
  checkConcentrationSync,
  concentrationLimit,
  type ConcentrationLimit,
} from './partners.js';
import { buildContext, timedDecide } from './context.js';
import {
  drawHardDeclines,
  listFactsOf,
  NO_LIST_FACTS,
  withHardReasons,
  type ListFacts,
} from './hard-rules.js';
import { borrowerIdentifiers, readBorrower } from './borrowers.js';
import type { CoreDeps, DecisionRecord, KeyedListProbe, ListLookup, ListProbe } from './deps.js';
import { coreEvent } from './events.js';
import { installmentRows, loanViewOf, type LoanView } from './loans.js';
import {
  FIND_LINE_SQL,
  findLine,
  outboxRow,
  type CoreOutboxRow,
  type InstallmentRow,
  type LineRow,
  type LoanRow,
  type Q,
} from './repo.js';

type DrawRow = CoreTables['draws'];
import { ANTI_SCAM_WARNING } from '../domain/anti-scam.js';

export const DRAW_STRATEGY = 'draw';

export interface DrawInput {
  readonly amountMinor: number;
  readonly currency: string;
  readonly termMonths: number;
  readonly method: RepaymentMethod;
  readonly purpose?: string;
  readonly deviceId?: string;
  readonly ip?: string;
  readonly payeeId?: string;
  /** A quote from POST /v1/lines/{id}/quotes: the booked loan must match it exactly. */
  readonly quoteId?: string;
}

export type DrawStatus = 'APPROVED' | 'DECLINED' | 'HOLD' | 'COOLDOWN' | 'CHALLENGE' | 'REVIEW';

export interface DrawResult {
  readonly drawId: string;
  readonly decisionId: string;
  readonly status: DrawStatus;
  readonly reasons: string[];
  readonly borrowerReasons: BorrowerReason[];
  readonly loan?: LoanView;
  /** COOLDOWN: the anti-scam warning shown before the money moves (Anti-Telecom-Fraud Law Art. 32). */
  readonly warning?: { readonly zh: string; readonly en: string };
}

export { ANTI_SCAM_WARNING };

const OUTCOME_STATUS: Record<Outcome, DrawStatus> = {
  APPROVE: 'APPROVED',
  DECLINE: 'DECLINED',
  HOLD: 'HOLD',
  COOLDOWN: 'COOLDOWN',
  CHALLENGE: 'CHALLENGE',
  REVIEW: 'REVIEW',
};

function checkInput(line: LineRow, input: DrawInput): void {
  if (!Number.isSafeInteger(input.amountMinor) || input.amountMinor <= 0) {
    throw new LgError('LG_INVALID_MONEY', 'amountMinor must be a positive integer of minor units', {
      amountMinor: input.amountMinor,
    });
  }
  if (input.currency !== line.currency) {
    throw new LgError('LG_CURRENCY_MISMATCH', `the line is in ${line.currency}`, {
      expected: line.currency,
      actual: input.currency,
    });
  }
  const blocked = drawBlockedError(line.status as LineStatus);
  if (blocked) throw blocked;
  if (input.amountMinor > Number(line.available_minor)) {
    throw new LgError('LG_INSUFFICIENT_CREDIT', 'the draw exceeds the available credit', {
      amountMinor: input.amountMinor,
      availableMinor: Number(line.available_minor),
    });
  }
  checkDrawForProduct(line, input);
  checkPurpose(line, input.purpose);
}

function numberValue(decision: Decision, name: string): number | undefined {
  const v = decision.values[name];
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? v : undefined;
}

export interface Priced {
  readonly schedule: Schedule;
  readonly disclosures: {
    readonly US_REGZ: LoanDisclosure;
    readonly EU_CCD: LoanDisclosure;
    readonly CN_IRR: LoanDisclosure;
  };
  readonly annualRate: number;
}

/** Schedule and disclosure under all three conventions; the cap is PBoC's, so it is checked on CN_IRR. */
export function price(
  deps: CoreDeps,
  line: LineRow,
  input: DrawInput,
  decision: Decision,
  now: number,
): Priced {
  const annualRate = decision.annualRate ?? Number(line.annual_rate);
  const startDate = isoDate(now);
  const scheduleInput = scheduleInputFor(line, {
    principalMinor: input.amountMinor,
    annualRate,
    termMonths: input.termMonths,
    method: input.method,
    startDate,
    upfrontFeeMinor: numberValue(decision, 'upfrontFeeMinor') ?? 0,
    periodicFeeMinor: numberValue(decision, 'periodicFeeMinor') ?? 0,
    currency: input.currency,
  });
  const schedule = buildSchedule(scheduleInput);
  const disclosures = {
    US_REGZ: loanDisclosure(schedule, { convention: 'US_REGZ', startDate }),
    EU_CCD: loanDisclosure(schedule, { convention: 'EU_CCD', startDate }),
    CN_IRR: loanDisclosure(schedule, { convention: 'CN_IRR', startDate }),
  };
  return { schedule, disclosures, annualRate: scheduleInput.annualRate };
}

/** Velocity counts stop here: a strategy needs "many", not an exact figure, and the read stays bounded. */
export const VELOCITY_COUNT_MAX = 100;

/** True when the active `draw` strategy reads the core's own draw velocity (so the query is worth running). */
function needsVelocity(deps: CoreDeps): boolean {
  const declared = deps.engine.inputsOf(DRAW_STRATEGY);
  return declared === undefined || declared.has('drawsLast24h') || declared.has('minutesSinceLastDraw');
}

/** The velocity facts from the line's recent approved draws, newest first. */
function velocityOf(recent: readonly { created_at: number }[], now: number): Record<string, ContextValue> {
  const last = recent[0] === undefined ? undefined : Number(recent[0].created_at);
  return {
    drawsLast24h: recent.length,
    // `now` is taken under the line's lock, after every earlier draw committed; max() only absorbs clock skew
    // between two processes' clocks (never a negative gap handed to the strategy).
    ...(last === undefined ? {} : { minutesSinceLastDraw: Math.max(0, now - last) / 60_000 }),
  };
}

/** Draw velocity from the core's own draws, queried only when the active `draw` strategy declares it. */
async function drawVelocity(
  deps: CoreDeps,
  db: Q,
  lineId: string,
  now: number,
): Promise<Record<string, ContextValue>> {
  if (!needsVelocity(deps)) return {};
  const recent = await db
    .selectFrom('draws')
    .select('created_at')
    .where('line_id', '=', lineId)
    .where('created_at', '>', now - MS_PER_DAY)
    .where('status', '=', 'APPROVED')
    .orderBy('created_at', 'desc')
    .limit(VELOCITY_COUNT_MAX)
    .execute();
  return velocityOf(recent, now);
}

const VELOCITY_SQL =
  'select "created_at" from "draws" where "line_id" = ? and "created_at" > ? and "status" = ? order by "created_at" desc limit ?';

function drawVelocitySync(
  deps: CoreDeps,
  syncSql: SyncSql,
  lineId: string,
  now: number,
): Record<string, ContextValue> {
  if (!needsVelocity(deps)) return {};
  const recent = syncSql.all<{ created_at: number }>(VELOCITY_SQL, [
    lineId,
    now - MS_PER_DAY,
    'APPROVED',
    VELOCITY_COUNT_MAX,
  ]);
  return velocityOf(recent, now);
}

/**
 * The draw's context: the monitor's signals, then the core's own facts about the line and the lists, which nobody
 * else may supply or contradict (a signal with the same name is overwritten).
 */
function drawContextFacts(
  line: LineRow,
  input: DrawInput,
  signals: Readonly<Record<string, ContextValue>>,
  lists: ListFacts,
) {
  const limit = Number(line.limit_minor);
  const outstanding = Number(line.outstanding_minor);
  return {
    // Monitor signals first: the core's facts below win over any signal of the same name.
    ...signals,
    amountMinor: input.amountMinor,
    termMonths: input.termMonths,
    method: input.method,
    purpose: input.purpose,
    lineStatus: line.status,
    limitMinor: limit,
    availableMinor: Number(line.available_minor),
    outstandingMinor: outstanding,
    utilisationAfter: limit > 0 ? (outstanding + input.amountMinor) / limit : 1,
    amountToAvailable:
      Number(line.available_minor) > 0 ? input.amountMinor / Number(line.available_minor) : 1,
    dpd: Number(line.dpd),
    daysPastDue: Number(line.dpd),
    bucket: line.bucket,
    annualRate: Number(line.annual_rate),
    hasDevice: input.deviceId !== undefined,
    blacklisted: lists.blacklisted,
    greylisted: lists.greylisted,
  };
}

/** Lines' borrowers, per store; a line never changes borrower, so an entry never goes stale. */
const lineBorrowers = new WeakMap<object, Map<string, string>>();
const LINE_BORROWERS_MAX = 10_000;

async function borrowerOfLine(deps: CoreDeps, lineId: string): Promise<string> {
  let known = lineBorrowers.get(deps.store);
  if (!known) lineBorrowers.set(deps.store, (known = new Map()));
  const cached = known.get(lineId);
  if (cached !== undefined) return cached;
  // The reader never waits for the writer's open batch; a line exists before anyone can draw on it.
  const line = await deps.store.readDb
    .selectFrom('credit_lines')
    .select('borrower_id')
    .where('id', '=', lineId)
    .executeTakeFirst();
  if (!line) throw new LgError('LG_NOT_FOUND', `no line ${lineId}`, { lineId });
  if (known.size >= LINE_BORROWERS_MAX) known.clear();
  known.set(lineId, line.borrower_id);
  return line.borrower_id;
}

/** Monitor signals are fetched before the dbTx (they may cross the network); the core's own facts are read inside it. */
async function monitorSignals(
  deps: CoreDeps,
  lineId: string,
  input: DrawInput,
  now: number,
): Promise<Record<string, ContextValue>> {
  if (!deps.drawSignals) return {};
  return deps.drawSignals({
    borrowerId: await borrowerOfLine(deps, lineId),
    lineId,
    deviceId: input.deviceId,
    ip: input.ip,
    at: now,
  });
}

/**
 * The list keys of a borrower's national ID and phone (keyed hashes and partner HMACs, never the identifiers), kept
 * per borrower so a draw needs no decrypt. Bound on staleness: PERSON_KEYS_TTL_MS, for a partner sharing key set on
 * another instance after the keys were computed; our own hashes never change while the process runs.
 */
const personKeys = new WeakMap<object, Map<string, { keys: readonly KeyedListProbe[]; until: number }>>();
export const PERSON_KEYS_TTL_MS = 60_000;
const PERSON_KEYS_MAX = 10_000;

async function borrowerListKeys(
  deps: CoreDeps,
  lists: ListLookup,
  borrowerId: string,
  now: number,
): Promise<readonly KeyedListProbe[]> {
  let known = personKeys.get(deps.store);
  if (!known) personKeys.set(deps.store, (known = new Map()));
  const cached = known.get(borrowerId);
  if (cached && cached.until > now) return cached.keys;
  const person = borrowerIdentifiers(await readBorrower(deps.store, borrowerId), deps.crypto);
  const keys = lists.probeKeys([
    { entityType: 'user', value: borrowerId },
    { entityType: 'nationalIdHash', value: person.nationalId },
    { entityType: 'phoneHash', value: person.phone },
  ]);
  if (known.size >= PERSON_KEYS_MAX) known.clear();
  known.set(borrowerId, { keys, until: now + PERSON_KEYS_TTL_MS });
  return keys;
}

/**
 * The lists' verdict on everything behind a draw: the borrower (id, national ID, phone), the device, the IP and the
 * payee. Read before the unit of work (like the monitor's signals) from the shared store; never from the caller.
 */
export async function drawListFacts(
  deps: CoreDeps,
  lineId: string,
  input: DrawInput,
  now: number,
): Promise<ListFacts> {
  const lists = deps.lists;
  if (!lists) return NO_LIST_FACTS;
  const borrowerId = await borrowerOfLine(deps, lineId);
  const probes: ListProbe[] = [];
  if (input.deviceId) probes.push({ entityType: 'device', value: input.deviceId });
  if (input.ip) probes.push({ entityType: 'ip', value: input.ip });
  if (input.payeeId) probes.push({ entityType: 'payee', value: input.payeeId });
  const keys = [...(await borrowerListKeys(deps, lists, borrowerId, now)), ...lists.probeKeys(probes)];
  return listFactsOf(await lists.lookupKeys(keys, now));
}

export interface DrawIds {
  readonly decision: string;
  readonly draw: string;
  readonly loan: string;
  readonly event: string;
}

/** Everything one draw writes, decided and priced before any write: planDraw builds it, a writer stores it. */
interface DrawPlan {
  readonly status: DrawStatus;
  readonly reasons: string[];
  readonly priced?: Priced;
  /** Present when the draw disburses: the conditional debit, the loan and its schedule. */
  readonly loan?: LoanRow;
  readonly installments: InstallmentRow[];
  readonly decision: DecisionRecord;
  readonly draw: DrawRow;
  readonly ledger: LedgerAppend[];
  readonly outbox?: CoreOutboxRow;
}

export interface DrawRequest {
  readonly deps: CoreDeps;
  readonly input: DrawInput;
  /** Monitor signals, read before the unit of work (they may cross the network). */
  readonly monitored: Readonly<Record<string, ContextValue>>;
  /** The lists' verdict on the borrower, device, IP and payee, looked up by the core before the unit of work. */
  readonly lists: ListFacts;
  readonly ids: DrawIds;
  readonly now: number;
  /** The quote the draw cites (read before the unit: a stored quote never changes). */
  readonly quote?: QuotedBooking;
  /** The line's channel partner's share limit, checked inside the unit (partners.ts). */
  readonly concentration?: ConcentrationLimit;
}

/** Hard rules, decide('draw'), the APR cap and every row to write; pure given the line and its velocity. */
function planDraw(r: DrawRequest, line: LineRow, velocity: Readonly<Record<string, ContextValue>>): DrawPlan {
  const { deps, input, ids, now } = r;
  checkInput(line, input);
  const context = buildContext(
    deps.engine,
    DRAW_STRATEGY,
    {},
    drawContextFacts(line, input, { ...r.monitored, ...velocity }, r.lists),
  );
  const { decision, latencyMs } = timedDecide(deps.engine, DRAW_STRATEGY, context, line.borrower_id);
  const hard = drawHardDeclines(line, r.lists, deps.config);
  let status = hard.length > 0 ? 'DECLINED' : OUTCOME_STATUS[decision.outcome];
  let reasons = withHardReasons(hard, decision.reasons);
  let priced: Priced | undefined;
  if (status === 'APPROVED') {
    priced = price(deps, line, input, decision, now);
    assertMatchesQuote(r.quote, priced.schedule, priced.annualRate);
    if (!aprCapCheck(priced.disclosures.CN_IRR.apr, aprCapFor(line, deps.config.aprCapPercent)).ok) {
      status = 'DECLINED';
      reasons = ['R_APR_CAP', ...reasons];
    }
  }
  const loan = status === 'APPROVED' && priced ? loanRowOf(r, line, priced) : undefined;
  const draw = drawRowOf(r, line, status, reasons, loan);
  return {
    status,
    reasons,
    priced,
    loan,
    installments: loan && priced ? installmentRows(loan.id, priced.schedule) : [],
    decision: {
      decisionId: ids.decision,
      kind: 'draw',
      strategyId: DRAW_STRATEGY,
      subjectId: line.borrower_id,
      lineId: line.id,
      context,
      decision,
      decidedAt: now,
      latencyMs,
    },
    draw,
    ledger: drawLedgerEntries(draw, loan),
    outbox: loan ? disbursementOutbox(r, line, loan) : undefined,
  };
}

/**
 * The unit of work on any store, through Kysely. The line is read FOR UPDATE on PostgreSQL and the time is taken
 * after the lock, so the facts the decision reads about its line (status, days past due, last draw, velocity) are
 * those every earlier draw on the line left behind (issue 13: velocity and cooling-off exact across processes).
 */
async function drawUnit(tx: DbTx, request: DrawRequest, lineId: string): Promise<DrawPlan> {
  const line = await findLine(tx, request.deps.store.kind, lineId, true);
  const r: DrawRequest = { ...request, now: request.deps.clock.now() };
  await checkConcentrationInUnit(r.deps, tx, r.concentration, r.input.amountMinor);
  const plan = planDraw(r, line, await drawVelocity(r.deps, tx, lineId, r.now));
  const loan = plan.loan;
  if (loan) {
    const amount = loan.principal_minor;
    const debited = await runShaped(
      tx,
      'draw debit',
      () =>
        tx
          .updateTable('credit_lines')
          .set({
            available_minor: sql<number>`available_minor - ${amount}`,
            outstanding_minor: sql<number>`outstanding_minor + ${amount}`,
            updated_at: r.now,
          })
          .where('id', '=', line.id)
          .where('status', '=', 'ACTIVE')
          .where('available_minor', '>=', amount),
      debitParams(loan, r.now),
    );
    if (Number(debited.numAffectedRows ?? 0) !== 1)
      throw debitRefused(await findLine(tx, r.deps.store.kind, line.id), loan);
    await insertRows(tx, 'loans', [loan]);
    await insertRows(tx, 'loan_installments', plan.installments);
  }
  await r.deps.engine.recordDecision(tx, plan.decision);
  await insertRows(tx, 'draws', [plan.draw]);
  await appendToLedger(tx, plan.ledger);
  if (plan.outbox) await insertRows(tx, 'outbox', [plan.outbox]);
  return plan;
}

const DEBIT_SQL =
  'update "credit_lines" set "available_minor" = available_minor - ?, "outstanding_minor" = outstanding_minor + ?, "updated_at" = ? where "id" = ? and "status" = ? and "available_minor" >= ?';

/** The same unit as drawUnit, synchronous, on the embedded store (one statement per row, no Kysely). */
function drawUnitSync(syncSql: SyncSql, request: DrawRequest, lineId: string): DrawPlan {
  const line = syncSql.get<LineRow>(FIND_LINE_SQL, [lineId]);
  if (!line) throw new LgError('LG_NOT_FOUND', `no line ${lineId}`, { lineId });
  // The single writer runs units one after another; the time is taken when this one runs, not when it was queued.
  const r: DrawRequest = { ...request, now: request.deps.clock.now() };
  checkConcentrationSync(r.deps, syncSql, r.concentration, r.input.amountMinor);
  const plan = planDraw(r, line, drawVelocitySync(r.deps, syncSql, lineId, r.now));
  if (plan.loan) {
    if (syncSql.run(DEBIT_SQL, debitParams(plan.loan, r.now)) !== 1) {
      throw debitRefused(syncSql.get<LineRow>(FIND_LINE_SQL, [lineId]) ?? line, plan.loan);
    }
    syncSql.insert('loans', [plan.loan]);
    syncSql.insert('loan_installments', plan.installments);
  }
  const decided = r.deps.engine.decisionWrites(plan.decision);
  syncSql.insert('decisions', [decided.row]);
  syncSql.insert('draws', [plan.draw]);
  appendToLedgerSync(syncSql, [decided.ledger, ...plan.ledger]);
  if (plan.outbox) syncSql.insert('outbox', [plan.outbox]);
  return plan;
}

/**
 * A draw: hard rules (line state, available credit), decide('draw'), then the conditional debit of the line
 * (`available >= amount`, so no interleaving of concurrent draws can over-draw on either store), the loan and its
 * schedule, the draw, the decision, the ledger entries and the 'disbursement' event — all in ONE unit of work. The
 * read, the (pure) decision and the writes share the unit, so concurrent draws batch into one commit on SQLite and
 * every decision sees the line as it is when it is written. On the embedded store the unit is synchronous.
 */
export async function requestDraw(deps: CoreDeps, lineId: string, input: DrawInput): Promise<DrawResult> {
  // The monitor's signals are as of the request; the unit of work takes its own time under the line's lock.
  const now = deps.clock.now();
  const [monitored, lists] = await Promise.all([
    monitorSignals(deps, lineId, input, now),
    drawListFacts(deps, lineId, input, now),
  ]);
  const ids = {
    decision: deps.ids.next(),
    draw: deps.ids.next(),
    loan: deps.ids.next(),
    event: deps.ids.next(),
  };
  const quote = await quoteForDraw(deps, lineId, input, now);
  const concentration = await concentrationLimit(deps, lineId);
  const request: DrawRequest = { deps, input, monitored, lists, ids, now, quote, concentration };
  const sync = deps.store.sync;
  const done = sync
    ? await sync.transaction((syncSql) => drawUnitSync(syncSql, request, lineId))
    : await deps.store.transaction((tx) => drawUnit(tx, request, lineId));
  const { status, reasons, priced, loan } = done;
  if (priced && status === 'DECLINED') {
    // Refused at the cap: say what each party's share of the cost is (the platform's and the enhancer's fees too).
    const line = await findLine(deps.store.db, deps.store.kind, lineId);
    const breakdown = allInBreakdown(
      line,
      { ...input, principalMinor: input.amountMinor, annualRate: priced.annualRate, startDate: isoDate(now) },
      {
        ...priced,
        aprPercent: priced.disclosures.CN_IRR.apr,
        capPercent: aprCapFor(line, deps.config.aprCapPercent),
      },
    );
    throw allInCapError(breakdown, { drawId: ids.draw, decisionId: ids.decision });
  }
  if (status === 'DECLINED') {
    throw new LgError('LG_DRAW_DECLINED', 'the draw was declined', {
      drawId: ids.draw,
      decisionId: ids.decision,
      reasons,
      borrowerReasons: borrowerReasons(reasons, 'zh'),
    });
  }
  return {
    drawId: ids.draw,
    decisionId: ids.decision,
    status,
    reasons,
    borrowerReasons: borrowerReasons(reasons, 'zh'),
    ...(loan && priced
      ? {
          loan: loanViewOf(
            loan,
            done.installments,
            isoDate(Number(done.draw.created_at)),
            deps.config.buckets ?? DEFAULT_BUCKETS,
          ),
        }
      : {}),
    ...(status === 'COOLDOWN' ? { warning: ANTI_SCAM_WARNING } : {}),
  };
}

function debitParams(loan: LoanRow, now: number): unknown[] {
  const amount = loan.principal_minor;
  return [amount, amount, now, loan.line_id, 'ACTIVE', amount];
}

/** Zero rows debited: a concurrent draw or action got there first; say which rule the line now breaks. */
function debitRefused(line: LineRow, loan: LoanRow): LgError {
  return (
    drawBlockedError(line.status as LineStatus) ??
    new LgError('LG_INSUFFICIENT_CREDIT', 'the draw exceeds the available credit', {
      amountMinor: loan.principal_minor,
      availableMinor: Number(line.available_minor),
    })
  );
}

export function loanRowOf(r: DrawRequest, line: LineRow, priced: Priced): LoanRow {
  const { schedule, disclosures, annualRate } = priced;
  const amount = r.input.amountMinor;
  return {
    id: r.ids.loan,
    line_id: line.id,
    borrower_id: line.borrower_id,
    draw_id: r.ids.draw,
    status: 'ACTIVE',
    currency: r.input.currency,
    principal_minor: amount,
    outstanding_principal_minor: amount,
    annual_rate: annualRate,
    term_months: r.input.termMonths,
    method: r.input.method,
    start_date: isoDate(r.now),
    upfront_fee_minor: schedule.upfrontFeeMinor,
    periodic_fee_minor: schedule.installments[0]?.feeMinor ?? 0,
    apr_us_regz: disclosures.US_REGZ.apr,
    apr_eu_ccd: disclosures.EU_CCD.apr,
    apr_cn_irr: disclosures.CN_IRR.apr,
    total_interest_minor: schedule.totalInterestMinor,
    total_fees_minor: schedule.totalFeesMinor,
    total_repayable_minor: schedule.totalRepayableMinor,
    dpd: 0,
    bucket: r.deps.config.buckets?.[0]?.name ?? 'M0',
    created_at: r.now,
    settled_at: null,
    ...loanProductColumns(line, r.input, { schedule, annualRate, startDate: isoDate(r.now) }),
  };
}

function drawRowOf(
  r: DrawRequest,
  line: LineRow,
  status: DrawStatus,
  reasons: readonly string[],
  loan: LoanRow | undefined,
): DrawRow {
  const { input, ids, now } = r;
  return {
    id: ids.draw,
    line_id: line.id,
    borrower_id: line.borrower_id,
    decision_id: ids.decision,
    status,
    amount_minor: input.amountMinor,
    currency: input.currency,
    term_months: input.termMonths,
    method: input.method,
    purpose: input.purpose ?? null,
    device_id: input.deviceId ?? null,
    ip: input.ip ?? null,
    payee_id: input.payeeId ?? null,
    reasons: JSON.stringify(reasons),
    loan_id: loan?.id ?? null,
    created_at: now,
  };
}

function drawLedgerEntries(draw: DrawRow, loan: LoanRow | undefined): LedgerAppend[] {
  const entries: LedgerAppend[] = [
    {
      entryId: draw.id,
      kind: 'draw',
      subjectId: draw.line_id,
      recordedAt: draw.created_at,
      payload: {
        drawId: draw.id,
        lineId: draw.line_id,
        decisionId: draw.decision_id,
        status: draw.status,
        amountMinor: draw.amount_minor,
        currency: draw.currency,
        reasons: JSON.parse(draw.reasons) as unknown,
        loanId: loan?.id ?? null,
      },
    },
  ];
  if (loan) {
    entries.push({
      entryId: loan.id,
      kind: 'loan.disbursed',
      subjectId: loan.id,
      recordedAt: loan.created_at,
      payload: {
        loanId: loan.id,
        lineId: loan.line_id,
        principalMinor: loan.principal_minor,
        currency: loan.currency,
        annualRate: loan.annual_rate,
        termMonths: loan.term_months,
        method: loan.method,
        apr: { US_REGZ: loan.apr_us_regz, EU_CCD: loan.apr_eu_ccd, CN_IRR: loan.apr_cn_irr },
        totalRepayableMinor: loan.total_repayable_minor,
      },
    });
  }
  return entries;
}

export function disbursementOutbox(r: DrawRequest, line: LineRow, loan: LoanRow): CoreOutboxRow {
  const event = coreEvent({
    eventId: r.ids.event,
    type: 'disbursement',
    at: r.now,
    userId: line.borrower_id,
    lineId: line.id,
    loanId: loan.id,
    amount: r.input.amountMinor,
    currency: r.input.currency,
    deviceId: r.input.deviceId,
    ip: r.input.ip,
    payeeId: r.input.payeeId,
    // The stated purpose, so fund-misuse alerts can set it beside where the money went (issue 15).
    ...(r.input.purpose === undefined ? {} : { attributes: { purpose: r.input.purpose } }),
  });
  return outboxRow(r.ids.event, event, r.now);
}
