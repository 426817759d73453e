import { MS_PER_DAY } from '../domain/index.js';
import { lenderDayOf } from '../domain/index.js';
import type { ContextValue, CoreRules, Decision, Outcome } from '../domain/index.js';
import { drawPricingOf } from '../domain/index.js';
import { LgError } from '../domain/index.js';
import { drawRefusal, type LineStatus } from '../domain/index.js';
import type { RepaymentMethod } from '../domain/index.js';
import type { BorrowerReason, ReasonLang } from '../domain/index.js';
import { DEFAULT_BUCKETS } from '../domain/index.js';
import { sealDrawOrigin, type LedgerAppend } from '../compliance/index.js';
import { allInCapError, type AllInBreakdown, loanProductColumns } from './products.js';
import { allInOf, priceLoan, withinCap, type LoanToPrice, type Priced } from './pricing.js';
import { assertMatchesQuote, assertQuoteValidAt, quoteForDraw, type QuotedBooking } from './quotes.js';
import { checkDrawable } from './drawable.js';
import { concentrationLimit, shareCheck, type ConcentrationLimit } from './partners.js';
import { buildContexts, timedDecide } from './context.js';
import {
  drawHardDeclines,
  listFactsOf,
  NO_LIST_FACTS,
  withHardReasons,
  type ListFacts,
} from './hard-rules.js';
import { borrowerIdentifiers, readBorrower } from './borrowers.js';
import {
  CORE_EVENTS_TOPIC,
  type CoreDeps,
  type KeyedListProbe,
  type ListLookup,
  type ListProbe,
} from './deps.js';
import { coreEvent } from './events.js';
import { reasonsInBothLanguages } from './views.js';
import { loanViewOf, type LoanView } from './loans.js';
import type { LineRow } from './ports.js';
import type {
  BookedLoan,
  CoreWrites,
  DrawReads,
  DrawRecord,
  DrawUnit,
  LineDebit,
  LoanProductPart,
  OutboxEvent,
  RecordedResponse,
  StoredLoan,
  UnitGuard,
} from './ports.js';
import type { UnitOutcome } from '../domain/index.js';
import { ANTI_SCAM_WARNING } from '../domain/index.js';

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
  /** The reasons as the borrower reads them, in Chinese (kept for existing clients: `borrowerReasonsByLang.zh`). */
  readonly borrowerReasons: BorrowerReason[];
  /** The reasons as the borrower reads them, in Chinese and English. */
  readonly borrowerReasonsByLang: Record<ReasonLang, BorrowerReason[]>;
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

function numberValue(decision: Decision, name: string): number | undefined {
  const v = decision.values[name];
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? v : undefined;
}

/**
 * The loan a draw books under the strategy's decision: the rate it set (the line's when it sets none) and the fees it
 * set for this draw, priced as every loan on the line is (pricing.ts priceLoan).
 */
export function decidedLoan(line: LineRow, input: DrawInput, decision: Decision): LoanToPrice {
  return {
    input,
    annualRate: decision.annualRate ?? Number(line.annual_rate),
    upfrontFeeMinor: numberValue(decision, 'upfrontFeeMinor'),
    periodicFeeMinor: numberValue(decision, 'periodicFeeMinor'),
  };
}

/** Velocity counts stop here: a strategy needs "many", not an exact figure, and the read stays bounded. */
export const VELOCITY_COUNT_MAX = 100;

/** True when the active `draw` strategy reads the core's own draw velocity (so the query is worth running). */
function needsVelocity(deps: CoreDeps): boolean {
  const declared = deps.engine.inputsOf(DRAW_STRATEGY);
  return declared === undefined || declared.has('drawsLast24h') || declared.has('minutesSinceLastDraw');
}

/** The velocity facts from the line's recent approved draws, newest first. */
function velocityOf(recent: readonly number[], now: number): Record<string, ContextValue> {
  const last = recent[0];
  return {
    drawsLast24h: recent.length,
    // `now` is taken under the line's lock, after every earlier draw committed; max() only absorbs clock skew
    // between two processes' clocks (never a negative gap handed to the strategy).
    ...(last === undefined ? {} : { minutesSinceLastDraw: Math.max(0, now - last) / 60_000 }),
  };
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
  let known = lineBorrowers.get(deps.coreStore);
  if (!known) lineBorrowers.set(deps.coreStore, (known = new Map()));
  const cached = known.get(lineId);
  if (cached !== undefined) return cached;
  // The reader never waits for the writer's open batch; a line exists before anyone can draw on it.
  const borrowerId = await deps.coreStore.borrowerOfLine(lineId);
  if (borrowerId === undefined) throw lineNotFound(lineId);
  if (known.size >= LINE_BORROWERS_MAX) known.clear();
  known.set(lineId, borrowerId);
  return borrowerId;
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
    // The draw unit reads it under the line's lock (drawUnit): exact across processes, and no read of its own.
    withoutOpenAlerts: true,
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
  let known = personKeys.get(deps.coreStore);
  if (!known) personKeys.set(deps.coreStore, (known = new Map()));
  const cached = known.get(borrowerId);
  if (cached && cached.until > now) return cached.keys;
  const person = borrowerIdentifiers(await readBorrower(deps.coreStore, borrowerId), deps.crypto);
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
 * The list keys of everything behind a draw: the borrower (id, national ID, phone), the device, the IP and the payee.
 * Undefined when the core has no lists. The facts themselves come from the shared store, never from the caller.
 */
async function drawListKeys(
  deps: CoreDeps,
  lineId: string,
  input: DrawInput,
  now: number,
): Promise<readonly KeyedListProbe[] | undefined> {
  const lists = deps.lists;
  if (!lists) return undefined;
  const borrowerId = await borrowerOfLine(deps, lineId);
  const probes: ListProbe[] = [];
  if (input.deviceId) probes.push({ entityType: 'device', value: input.deviceId });
  if (input.ip) probes.push({ entityType: 'ip', value: input.ip });
  if (input.payeeId) probes.push({ entityType: 'payee', value: input.payeeId });
  return [...(await borrowerListKeys(deps, lists, borrowerId, now)), ...lists.probeKeys(probes)];
}

/** The lists' verdict on everything behind a draw, read now (a held draw's release; a draw reads it in its unit). */
export async function drawListFacts(
  deps: CoreDeps,
  lineId: string,
  input: DrawInput,
  now: number,
): Promise<ListFacts> {
  const keys = await drawListKeys(deps, lineId, input, now);
  return keys && deps.lists ? listFactsOf(await deps.lists.lookupKeys(keys, now)) : NO_LIST_FACTS;
}

export interface DrawIds {
  readonly decision: string;
  readonly draw: string;
  readonly loan: string;
  readonly event: string;
}

/** Everything one draw decides and writes, before any write: planDraw builds it, the store's draw unit writes it. */
interface DrawPlan {
  readonly status: DrawStatus;
  readonly reasons: string[];
  readonly priced?: Priced;
  /** Present when the draw disburses. */
  readonly loan?: BookedLoan;
  readonly draw: DrawRecord;
  readonly writes: CoreWrites;
  /** Each party's share of the cost, when the draw is refused at the all-in cap. */
  readonly capBreakdown?: AllInBreakdown;
}

export interface DrawRequest {
  readonly deps: CoreDeps;
  readonly input: DrawInput;
  /** Monitor signals, read before the unit of work (they may cross the network). */
  readonly monitored: Readonly<Record<string, ContextValue>>;
  /** The lists' verdict on the borrower, device, IP and payee, when read before the unit (a held draw's release). */
  readonly lists?: ListFacts;
  /** Their list keys, when the unit reads the verdict under the line's lock instead (a draw). */
  readonly listKeys?: readonly KeyedListProbe[];
  readonly ids: DrawIds;
  readonly now: number;
  /** The quote the draw cites (read before the unit: a stored quote never changes). */
  readonly quote?: QuotedBooking;
  /** The line's channel partner's share limit, checked inside the unit (partners.ts). */
  readonly concentration?: ConcentrationLimit;
  /** The draw's device id, IP and payee, sealed as one value before the unit (a release writes no draw row). */
  readonly origin?: string;
}

/** Hard rules, decide('draw'), the APR cap and everything to write; pure given the line, its velocity and the time. */
function planDraw(request: DrawRequest, reads: DrawReads, withVelocity: boolean): DrawPlan {
  const { line, now } = reads;
  const r: DrawRequest = { ...request, now };
  const { deps, input, ids } = r;
  checkDrawable(line, input);
  // The quote's validity is judged at the unit's time, taken under the line's lock, not the request's arrival.
  assertQuoteValidAt(r.quote, now);
  const velocity = withVelocity ? velocityOf(reads.recentDrawTimes, now) : {};
  const alerts: Record<string, ContextValue> =
    reads.openAlerts === undefined ? {} : { alertsOpen: reads.openAlerts };
  const lists = reads.listedOn
    ? listFactsOf(reads.listedOn.map((list) => ({ list })))
    : (r.lists ?? NO_LIST_FACTS);
  // The engine is handed the facts the draw strategy declares; the decision records every one (buildContexts).
  const { context, recorded } = buildContexts(
    deps.engine,
    DRAW_STRATEGY,
    {},
    drawContextFacts(line, input, { ...r.monitored, ...velocity, ...alerts }, lists),
  );
  const { decision, latencyMs } = timedDecide(
    deps.engine,
    DRAW_STRATEGY,
    context,
    line.borrower_id,
    recorded,
  );
  const hard = drawHardDeclines(line, lists, deps.config);
  let status = hard.length > 0 ? 'DECLINED' : OUTCOME_STATUS[decision.outcome];
  let reasons = withHardReasons(hard, decision.reasons);
  let priced: Priced | undefined;
  let capBreakdown: AllInBreakdown | undefined;
  if (status !== 'APPROVED' && status !== 'DECLINED' && r.quote) {
    // A held draw that cites a quote is checked against it now, as an approved one is: a stale quote is refused
    // here rather than held and booked later on terms the borrower was not quoted (the release checks it again).
    const held = priceLoan(deps, line, decidedLoan(line, input, decision), now);
    assertMatchesQuote(r.quote, held.schedule, held.annualRate);
  }
  if (status === 'APPROVED') {
    priced = priceLoan(deps, line, decidedLoan(line, input, decision), now);
    assertMatchesQuote(r.quote, priced.schedule, priced.annualRate);
    const allIn = allInOf(deps, line, priced);
    if (!withinCap(allIn)) {
      status = 'DECLINED';
      reasons = ['R_APR_CAP', ...reasons];
      capBreakdown = allIn;
    }
  }
  const loan = status === 'APPROVED' && priced ? bookLoan(r, line, priced) : undefined;
  const draw = drawRecordOf(r, line, status, reasons, loan);
  const decided = deps.engine.decisionWrites({
    decisionId: ids.decision,
    kind: 'draw',
    strategyId: DRAW_STRATEGY,
    subjectId: line.borrower_id,
    lineId: line.id,
    context: recorded,
    decision,
    decidedAt: now,
    latencyMs,
    coreRules: drawCoreRules({
      status,
      reasons,
      hard,
      decision,
      refused: capBreakdown !== undefined,
      priced,
    }),
  });
  return {
    status,
    reasons,
    priced,
    loan,
    draw,
    ...(capBreakdown ? { capBreakdown } : {}),
    writes: {
      ...(loan ? { debit: { lineId: line.id, amountMinor: loan.principalMinor, at: now }, loan } : {}),
      decision: decided,
      draw,
      ledger: drawLedgerEntries(draw, loan),
      outbox: loan ? [disbursementEvent(r, line, loan.id)] : [],
    },
  };
}

/**
 * What the core did to the strategy's decision, stored with it so that a simulation replays it on a candidate's
 * (src/domain/core-rules.ts): the hard rules, and for a draw it priced, the pricing inputs and the APR cap's verdict.
 */
function drawCoreRules(d: {
  status: DrawStatus;
  reasons: string[];
  hard: string[];
  decision: Decision;
  refused: boolean;
  priced: Priced | undefined;
}): CoreRules {
  return {
    final: { outcome: STATUS_OUTCOME[d.status], reasons: d.reasons, limitMinor: null },
    ...(d.hard.length > 0 ? { hard: d.hard } : {}),
    ...(d.priced ? { priced: { ...drawPricingOf(d.decision), refused: d.refused } } : {}),
  };
}

const STATUS_OUTCOME = Object.fromEntries(
  Object.entries(OUTCOME_STATUS).map(([outcome, status]) => [status, outcome]),
) as Record<DrawStatus, Outcome>;

/**
 * The draw as one unit of work, for the store to run (core/ports.ts DrawUnit): the line is read under its lock and
 * the time taken after it, so the facts the decision reads about its line (status, days past due, last draw,
 * velocity) are those every earlier draw on the line left behind (issue 13: exact across processes).
 */
function drawUnit(
  request: DrawRequest,
  lineId: string,
  guard: UnitGuard<DrawResult> | undefined,
  answered: Map<DrawPlan, UnitOutcome<DrawResult>>,
): DrawUnit<DrawPlan> {
  const deps = request.deps;
  const withVelocity = needsVelocity(deps);
  return {
    lineId,
    ...(withVelocity ? { velocity: { windowMs: MS_PER_DAY, countMax: VELOCITY_COUNT_MAX } } : {}),
    // The open-alert count the monitor's signals leave out (monitorSignals), read under the line's lock instead.
    ...(deps.drawSignals ? { readOpenAlerts: true } : {}),
    // The lists' verdict, read under the line's lock too (keys computed before the unit, the lookup inside it).
    ...(request.listKeys ? { lists: { probes: request.listKeys, at: request.now } } : {}),
    now: () => deps.clock.now(),
    plan: (reads) => planDraw(request, reads, withVelocity),
    refused: debitRefused,
    notFound: () => lineNotFound(lineId),
    ...(request.concentration
      ? { bookShare: shareCheck(request.concentration, request.input.amountMinor) }
      : {}),
    // The key only: the answer is said by `respond`, with the plan and the loan as stored.
    ...(guard?.idempotency ? { guard: { idempotency: guard.idempotency } } : {}),
    ...(guard?.respond ? { respond: respondWith(request, guard.respond, answered) } : {}),
  };
}

/** The request's answer, said in the unit so that it is stored with the key; the outcome is kept for the reply. */
function respondWith(
  request: DrawRequest,
  respond: (outcome: UnitOutcome<DrawResult>) => RecordedResponse | undefined,
  answered: Map<DrawPlan, UnitOutcome<DrawResult>>,
) {
  return (plan: DrawPlan, stored: StoredLoan | undefined): RecordedResponse | undefined => {
    const outcome = drawOutcome(request, plan, stored);
    answered.set(plan, outcome);
    return respond(outcome);
  };
}

/**
 * A draw: hard rules (line state, available credit), decide('draw'), then the conditional debit of the line
 * (`available >= amount`, so no interleaving of concurrent draws can over-draw on either store), the loan and its
 * schedule, the draw, the decision, the ledger entries and the 'disbursement' event — all in ONE unit of work, with
 * the caller's idempotency key when it passes one. The read, the (pure) decision and the writes share the unit, so
 * concurrent draws batch into one commit on SQLite and every decision sees the line as it is when it is written.
 */
export async function requestDraw(
  deps: CoreDeps,
  lineId: string,
  input: DrawInput,
  guard?: UnitGuard<DrawResult>,
): Promise<DrawResult> {
  // The monitor's signals are as of the request; the unit of work takes its own time under the line's lock.
  const now = deps.clock.now();
  const [monitored, listKeys] = await Promise.all([
    monitorSignals(deps, lineId, input, now),
    drawListKeys(deps, lineId, input, now),
  ]);
  const ids = {
    decision: deps.ids.next(),
    draw: deps.ids.next(),
    loan: deps.ids.next(),
    event: deps.ids.next(),
  };
  const quote = await quoteForDraw(deps, lineId, input, now);
  const concentration = await concentrationLimit(deps, lineId);
  // Sealed here, before the unit: the single writer's turn does not wait on the cipher.
  const origin = sealDrawOrigin(deps.crypto, ids.draw, input);
  const request: DrawRequest = {
    deps,
    input,
    monitored,
    ...(listKeys ? { listKeys } : {}),
    ids,
    now,
    quote,
    concentration,
    ...(origin === undefined ? {} : { origin }),
  };
  const answered = new Map<DrawPlan, UnitOutcome<DrawResult>>();
  const { plan, stored } = await deps.coreStore.runDraw(drawUnit(request, lineId, guard, answered));
  const outcome = answered.get(plan) ?? drawOutcome(request, plan, stored);
  if (!outcome.ok) throw outcome.error;
  return outcome.value;
}

/** The answer to a draw: its result, or the error a declined draw is answered with (it is recorded all the same). */
function drawOutcome(
  request: DrawRequest,
  plan: DrawPlan,
  stored: StoredLoan | undefined,
): UnitOutcome<DrawResult> {
  const declined = declinedError(plan);
  if (declined) return { ok: false, error: declined };
  const { deps, ids } = request;
  const { status, reasons } = plan;
  const told = reasonsInBothLanguages(reasons);
  const value: DrawResult = {
    drawId: ids.draw,
    decisionId: ids.decision,
    status,
    reasons,
    borrowerReasons: told.zh,
    borrowerReasonsByLang: told,
    ...(stored
      ? {
          loan: loanViewOf(
            stored.loan,
            stored.installments,
            lenderDayOf(deps.config, plan.draw.createdAt),
            deps.config.buckets ?? DEFAULT_BUCKETS,
          ),
        }
      : {}),
    ...(status === 'COOLDOWN' ? { warning: ANTI_SCAM_WARNING } : {}),
  };
  return { ok: true, value };
}

/** The refusal of a draw (or its release) over the all-in cap: its cost party by party, the APR and the cap. */
export function drawCapError(breakdown: AllInBreakdown, draw: { id: string; decisionId: string }): LgError {
  return allInCapError(breakdown, { drawId: draw.id, decisionId: draw.decisionId });
}

function declinedError(plan: DrawPlan): LgError | undefined {
  const { status, reasons, draw, capBreakdown } = plan;
  if (status !== 'DECLINED') return undefined;
  if (capBreakdown) return drawCapError(capBreakdown, draw);
  const told = reasonsInBothLanguages(reasons);
  return new LgError('LG_DRAW_DECLINED', 'the draw was declined', {
    drawId: draw.id,
    decisionId: draw.decisionId,
    reasons,
    borrowerReasons: told.zh,
    borrowerReasonsByLang: told,
  });
}

function lineNotFound(lineId: string): LgError {
  return new LgError('LG_NOT_FOUND', `no line ${lineId}`, { lineId });
}

/** Zero rows debited: a concurrent draw or action got there first; say which rule the line now breaks. */
function debitRefused(line: LineRow, debit: LineDebit): LgError {
  return (
    drawRefusal(line.status as LineStatus, debit.amountMinor, Number(line.available_minor)) ??
    // The line as read allows the debit, yet the conditional update found otherwise: it changed in between.
    new LgError('LG_INSUFFICIENT_CREDIT', 'the draw exceeds the available credit', {
      amountMinor: debit.amountMinor,
      availableMinor: Number(line.available_minor),
    })
  );
}

/** The loan a priced draw books: its terms, disclosures and schedule (the store makes its rows). */
export function bookLoan(r: DrawRequest, line: LineRow, priced: Priced): BookedLoan {
  const { schedule, disclosures, annualRate } = priced;
  const startDate = lenderDayOf(r.deps.config, r.now);
  return {
    id: r.ids.loan,
    lineId: line.id,
    borrowerId: line.borrower_id,
    drawId: r.ids.draw,
    currency: r.input.currency,
    principalMinor: r.input.amountMinor,
    annualRate,
    termMonths: r.input.termMonths,
    method: r.input.method,
    startDate,
    upfrontFeeMinor: schedule.upfrontFeeMinor,
    periodicFeeMinor: schedule.installments[0]?.feeMinor ?? 0,
    apr: {
      US_REGZ: disclosures.US_REGZ.apr,
      EU_CCD: disclosures.EU_CCD.apr,
      CN_IRR: disclosures.CN_IRR.apr,
    },
    totalInterestMinor: schedule.totalInterestMinor,
    totalFeesMinor: schedule.totalFeesMinor,
    totalRepayableMinor: schedule.totalRepayableMinor,
    bucket: r.deps.config.buckets?.[0]?.name ?? 'M0',
    createdAt: r.now,
    installments: schedule.installments,
    product: productPart(loanProductColumns(line, r.input, { schedule, annualRate, startDate })),
  };
}

/** products.ts still speaks in loan columns; the plan speaks in domain terms. */
function productPart(c: ReturnType<typeof loanProductColumns>): LoanProductPart {
  return {
    productId: c.product_id,
    productVersion: c.product_version,
    terms: c.terms,
    interestThrough: c.interest_through,
    interestUnpaidMinor: c.interest_unpaid_minor,
    penaltyThrough: c.penalty_through,
    penaltyUnpaidMinor: c.penalty_unpaid_minor,
    purpose: c.purpose,
    quoteId: c.quote_id,
  };
}

function drawRecordOf(
  r: DrawRequest,
  line: LineRow,
  status: DrawStatus,
  reasons: readonly string[],
  loan: BookedLoan | undefined,
): DrawRecord {
  const { input, ids, now } = r;
  return {
    id: ids.draw,
    lineId: line.id,
    borrowerId: line.borrower_id,
    decisionId: ids.decision,
    status,
    amountMinor: input.amountMinor,
    currency: input.currency,
    termMonths: input.termMonths,
    method: input.method,
    ...(input.purpose === undefined ? {} : { purpose: input.purpose }),
    ...(r.origin === undefined ? {} : { origin: r.origin }),
    reasons,
    loanId: loan?.id ?? null,
    createdAt: now,
    ...(r.quote === undefined ? {} : { quoteId: r.quote.quoteId }),
  };
}

/** The 'loan.disbursed' ledger payload, shared by a draw and a released held draw. */
export function loanDisbursedPayload(loan: BookedLoan): Record<string, unknown> {
  return {
    loanId: loan.id,
    lineId: loan.lineId,
    principalMinor: loan.principalMinor,
    currency: loan.currency,
    annualRate: loan.annualRate,
    termMonths: loan.termMonths,
    method: loan.method,
    apr: { ...loan.apr },
    totalRepayableMinor: loan.totalRepayableMinor,
  };
}

function drawLedgerEntries(draw: DrawRecord, loan: BookedLoan | undefined): LedgerAppend[] {
  const entries: LedgerAppend[] = [
    {
      entryId: draw.id,
      kind: 'draw',
      subjectId: draw.lineId,
      recordedAt: draw.createdAt,
      payload: {
        drawId: draw.id,
        lineId: draw.lineId,
        decisionId: draw.decisionId,
        status: draw.status,
        amountMinor: draw.amountMinor,
        currency: draw.currency,
        reasons: [...draw.reasons],
        loanId: loan?.id ?? null,
      },
    },
  ];
  if (loan) {
    entries.push({
      entryId: loan.id,
      kind: 'loan.disbursed',
      subjectId: loan.id,
      recordedAt: loan.createdAt,
      payload: loanDisbursedPayload(loan),
    });
  }
  return entries;
}

export function disbursementEvent(r: DrawRequest, line: LineRow, loanId: string): OutboxEvent {
  const event = coreEvent({
    eventId: r.ids.event,
    type: 'disbursement',
    at: r.now,
    userId: line.borrower_id,
    lineId: line.id,
    loanId,
    amount: r.input.amountMinor,
    currency: r.input.currency,
    deviceId: r.input.deviceId,
    ip: r.input.ip,
    payeeId: r.input.payeeId,
    // The stated purpose, so fund-misuse alerts can set it beside where the money went (issue 15).
    ...(r.input.purpose === undefined ? {} : { attributes: { purpose: r.input.purpose } }),
  });
  return { id: r.ids.event, topic: CORE_EVENTS_TOPIC, payload: event, at: r.now };
}
