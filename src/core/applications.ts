import type { UnitGuard } from '../domain/index.js';
import type { CoreRules, Decision, Outcome } from '../domain/index.js';
import {
  activeProduct,
  assertProductCurrency,
  bindLineToProduct,
  fitGrantToProduct,
  grantedLineTerms,
} from './products.js';
import { assertLinePriceWithinCap, fitGrantToLinePrice } from './line-price.js';
import {
  assertAllInCost,
  channelFees,
  channelFor,
  confirmChannelInTx,
  recordChannel,
  type ChannelInput,
} from './partners.js';
import { LgError, instantAfter } from '../domain/index.js';
import { applyLineAction as transition, availableMinor, newPendingLine } from '../domain/index.js';
import { appendToLedger, sealLineActionNote, type LedgerAppend } from '../compliance/index.js';
import {
  STRATEGY_DECLINE_REASON,
  withReasonThatSaysWhy,
  type BorrowerReason,
  type ReasonLang,
} from '../domain/index.js';
import { DEFAULT_CURRENCY } from '../domain/index.js';
import {
  findBorrowerByHash,
  maskBorrower,
  sealBorrower,
  verifyApplicant,
  type ApplicantInput,
  type MaskedBorrower,
  type VerifiedApplicant,
} from './borrowers.js';
import { applicationHardDeclines, lookUpLists, withHardReasons } from './hard-rules.js';
import {
  APPEAL_DAYS_DEFAULT,
  declineExplanation,
  reasonsInBothLanguages,
  type DeclineExplanation,
} from './views.js';
import { buildContext, buildContexts, timedDecide } from './context.js';
import type { DecisionContext } from '../domain/index.js';
import type { CoreDeps, ListProbe, UnitTx } from './deps.js';
import { CORE_EVENTS_TOPIC, coreEvent } from './events.js';
import { applicationBureauFacts, bureauReferral, gateOnBureau } from './bureau-gate.js';
import { lenderDayOf } from '../domain/index.js';

export const APPLICATION_STRATEGY = 'application';

export interface ApplicationInput {
  readonly applicant: ApplicantInput;
  readonly attributes: Readonly<Record<string, unknown>>;
  readonly currency?: string;
  /** The device and IP the application came from: looked up on the lists like the applicant's ID and phone. */
  readonly deviceId?: string;
  readonly ip?: string;
  /** The product the line is granted under (its latest ACTIVE version); absent: a line without a product. */
  readonly productId?: string;
  /** 助贷: the platform channel the application came through and how the line is funded. */
  readonly channel?: ChannelInput;
}

export interface ApplicationResult {
  readonly applicationId: string;
  readonly decisionId: string;
  readonly borrowerId: string;
  readonly outcome: Outcome;
  readonly reasons: string[];
  /** The reasons as the borrower reads them, in Chinese (kept for existing clients: `borrowerReasonsByLang.zh`). */
  readonly borrowerReasons: BorrowerReason[];
  /** The reasons as the borrower reads them, in Chinese and English. */
  readonly borrowerReasonsByLang: Record<ReasonLang, BorrowerReason[]>;
  readonly borrower: MaskedBorrower;
  readonly line: {
    readonly id: string;
    readonly status: string;
    readonly limitMinor: number;
    readonly annualRate: number;
    readonly currency: string;
  } | null;
  /** Hard rules that changed what the strategy asked for (borrower cap, APR cap). */
  readonly adjustments: string[];
  /** A declined application's reasons, what to do and how to appeal by when, in Chinese and English. */
  readonly explanation?: Record<ReasonLang, DeclineExplanation>;
}

interface Grant {
  readonly outcome: Outcome;
  readonly reasons: string[];
  readonly limitMinor?: number;
  readonly annualRate?: number;
  readonly adjustments: string[];
  readonly requestedLimitMinor?: number;
}

/** The strategy's limit and rate: the decision's own, else those of its GRANT action. */
function requestedGrant(decision: Decision): { limitMinor?: number; annualRate?: number } {
  const grant = decision.actions.find((a) => a.type === 'GRANT');
  return {
    limitMinor: decision.limitMinor ?? grant?.limitMinor,
    annualRate: decision.annualRate ?? grant?.annualRate,
  };
}

/**
 * Hard rules over an APPROVE, whatever the strategy says: the per-borrower cap across all open lines and the APR cap
 * on the nominal rate (fees are checked per draw, where the disclosure is computed). An approval with no limit fails
 * closed to REVIEW.
 */
function clipGrant(decision: Decision, roomMinor: number, aprCapPercent: number): Grant {
  const reasons = [...decision.reasons];
  if (decision.outcome !== 'APPROVE') return { outcome: decision.outcome, reasons, adjustments: [] };
  const { limitMinor, annualRate } = requestedGrant(decision);
  if (
    limitMinor === undefined ||
    annualRate === undefined ||
    !Number.isSafeInteger(limitMinor) ||
    limitMinor <= 0 ||
    !(annualRate >= 0)
  ) {
    return {
      outcome: 'REVIEW',
      reasons: ['R_ENGINE_ERROR', ...reasons],
      adjustments: ['approval without a valid limit and rate: held for review'],
    };
  }
  const adjustments: string[] = [];
  if (roomMinor <= 0)
    return {
      outcome: 'DECLINE',
      reasons: ['R_BORROWER_CAP', ...reasons],
      adjustments: ['borrower cap reached'],
    };
  let limit = limitMinor;
  if (limit > roomMinor) {
    limit = roomMinor;
    adjustments.push(`limit clipped from ${limitMinor} to ${roomMinor} by the per-borrower cap`);
  }
  let rate = annualRate;
  if (rate * 100 > aprCapPercent) {
    rate = aprCapPercent / 100;
    adjustments.push(`rate clipped from ${annualRate} to ${rate} by the ${aprCapPercent}% cap`);
  }
  return {
    outcome: 'APPROVE',
    reasons,
    limitMinor: limit,
    annualRate: Math.min(rate, 1),
    adjustments,
    requestedLimitMinor: limitMinor,
  };
}

/**
 * Scorecard inputs that are another name for a fact the core derives (`Age` is the German-credit training column for
 * the applicant's age). The derived value always replaces the caller's, and a caller's different value is reported in
 * the result's adjustments. The core's own names (`age`, `blacklisted`, `existingLimitMinor`, …) are refused with
 * `400 LG_INVALID_ATTRIBUTE` instead (buildContext): no caller has a reason to send them.
 */
const DERIVED_ALIASES = { Age: 'age' } as const;

function withoutDerivedAliases(
  attributes: Readonly<Record<string, unknown>>,
  derived: { readonly age: number },
): { attributes: Record<string, unknown>; adjustments: string[] } {
  const kept: Record<string, unknown> = { ...attributes };
  const adjustments: string[] = [];
  for (const [alias, fact] of Object.entries(DERIVED_ALIASES)) {
    if (!Object.hasOwn(kept, alias)) continue;
    if (kept[alias] !== derived[fact])
      adjustments.push(`${alias} replaced by the ${fact} derived from the resident ID (${derived[fact]})`);
    delete kept[alias];
  }
  return { attributes: kept, adjustments };
}

/** The lists' verdict on an applicant: national ID and phone (by keyed hash) and, for a returning one, the borrower. */
function applicantProbes(
  applicant: VerifiedApplicant,
  input: ApplicationInput,
  borrowerId: string | undefined,
): ListProbe[] {
  const probes: ListProbe[] = [
    { entityType: 'nationalIdHash', value: applicant.nationalId },
    { entityType: 'phoneHash', value: applicant.phone },
  ];
  if (borrowerId) probes.push({ entityType: 'user', value: borrowerId });
  if (input.deviceId) probes.push({ entityType: 'device', value: input.deviceId });
  if (input.ip) probes.push({ entityType: 'ip', value: input.ip });
  return probes;
}

export async function submitApplication(
  deps: CoreDeps,
  input: ApplicationInput,
  guard?: UnitGuard<ApplicationResult>,
): Promise<ApplicationResult> {
  const plan = await planApplication(deps, input);
  // The answer is made inside the unit, so that a guard that says the response stores it with the key.
  return deps.store.transaction(
    async (tx) => applicationAnswer(deps, plan, await commitApplication(deps, tx, plan)),
    guard,
  );
}

/** Everything settled before the transaction: who applies, what the strategy decided, and the ids the write uses. */
interface ApplicationPlan {
  readonly now: number;
  readonly applicant: VerifiedApplicant;
  readonly currency: string;
  readonly existing: Awaited<ReturnType<typeof findBorrowerByHash>>;
  readonly given: ReturnType<typeof withoutDerivedAliases>;
  readonly bureau: Awaited<ReturnType<typeof applicationBureauFacts>>;
  /** What the engine was handed: the attributes and the derived facts the active version declares. */
  readonly context: DecisionContext;
  /** What the decision records: the attributes and every fact the core computed (buildContexts). */
  readonly recorded: DecisionContext;
  /** The key the decision was split on (champion/challenger): the borrower's id, as found or as it will be stored. */
  readonly subjectKey: string;
  readonly decision: Decision;
  readonly latencyMs: number;
  readonly hard: ReturnType<typeof applicationHardDeclines>;
  readonly ids: { decision: string; application: string; line: string; action: string; event: string };
  readonly sealed: ReturnType<typeof sealBorrower>;
  readonly product: Awaited<ReturnType<typeof activeProduct>> | undefined;
  readonly channel: Awaited<ReturnType<typeof channelFor>>;
  /** The device and IP the application came from, for the core event (the monitor's application bursts). */
  readonly origin: Pick<ApplicationInput, 'deviceId' | 'ip'>;
}

/** What the transaction wrote: the grant, the line it opened (if any) and the borrower as stored. */
interface CommittedApplication {
  readonly grant: Grant;
  readonly line: Awaited<ReturnType<typeof openLine>> | null;
  readonly borrowerId: string;
}

/** The applicant verified, looked up and decided on, outside the transaction (no lock is held meanwhile). */
async function planApplication(deps: CoreDeps, input: ApplicationInput): Promise<ApplicationPlan> {
  const now = deps.clock.now();
  const applicant = verifyApplicant(input.applicant, lenderDayOf(deps.config, now), deps.crypto);
  const currency = input.currency ?? deps.config.defaultCurrency ?? DEFAULT_CURRENCY;
  const existing = await findBorrowerByHash(deps.coreStore, applicant.nationalIdHashes);
  const borrowerId = existing?.id ?? deps.ids.next();
  const exposure = existing ? await deps.coreStore.openExposure(existing.id) : 0;
  const lists = await lookUpLists(deps, applicantProbes(applicant, input, existing?.id), now);
  const given = withoutDerivedAliases(input.attributes, applicant);
  const derived = {
    age: applicant.age,
    Age: applicant.age,
    sex: applicant.sex,
    regionCode: applicant.regionCode,
    existingLimitMinor: exposure,
    blacklisted: lists.blacklisted,
    greylisted: lists.greylisted,
  };
  // Everything that can refuse the request as bad input is asked before the credit-bureau pull: a hard inquiry
  // counts against the applicant (and throttles their next application), so a 400 or a 404 must not cost one.
  deps.engine.checkInputs?.(
    APPLICATION_STRATEGY,
    buildContext(deps.engine, APPLICATION_STRATEGY, given.attributes, derived),
  );
  const product = input.productId === undefined ? undefined : await activeProduct(deps, input.productId);
  assertProductCurrency(product, currency);
  const channel = await channelFor(deps, input.channel);
  // Refused here, before the bureau pull's hard inquiry: a product at whose lowest rate a loan it offers, with its
  // fees and the channel's, is over the cap all-in (line-price.ts), or without a product a channel whose fees alone are
  // above the cap (in simple terms, see grantWithinRoom) — no line could lend at any rate.
  if (product)
    assertLinePriceWithinCap(
      deps,
      grantedLineTerms(currency, product, channelFees(channel)),
      product.terms.rateMin,
    );
  else assertAllInCost(0, channel, [deps.config.aprCapPercent]);
  const bureau = await applicationBureauFacts(deps.bureau, given.attributes, {
    subjectHashes: applicant.nationalIdHashes,
    borrowerId: existing?.id ?? null,
  });
  const { context, recorded } = buildContexts(deps.engine, APPLICATION_STRATEGY, given.attributes, {
    ...derived,
    ...bureau.facts,
  });
  const { decision, latencyMs } = timedDecide(
    deps.engine,
    APPLICATION_STRATEGY,
    context,
    borrowerId,
    recorded,
  );
  const hard = applicationHardDeclines(applicant.age, lists, deps.config);
  const ids = {
    decision: deps.ids.next(),
    application: deps.ids.next(),
    line: deps.ids.next(),
    action: deps.ids.next(),
    event: deps.ids.next(),
  };
  const sealed = sealBorrower(borrowerId, applicant, deps.crypto, now);
  return {
    now,
    applicant,
    currency,
    existing,
    given,
    bureau,
    context,
    recorded,
    subjectKey: borrowerId,
    decision,
    latencyMs,
    hard,
    ids,
    sealed,
    product,
    channel,
    origin: { deviceId: input.deviceId, ip: input.ip },
  };
}

/** The transaction: the borrower, the grant within their room, the decision, the line, the application, its trail. */
async function commitApplication(
  deps: CoreDeps,
  tx: UnitTx,
  planned: ApplicationPlan,
): Promise<CommittedApplication> {
  const { ids, currency, product, channel } = planned;
  await confirmChannelInTx(deps, tx, channel);
  const storedBorrowerId = await deps.coreStore.upsertBorrowerInTx(
    tx,
    planned.sealed,
    planned.applicant.nationalIdHashes,
    planned.existing?.id,
  );
  const plan = decidedOn(deps, planned, storedBorrowerId);
  const {
    grant,
    createdAt: now,
    roomMinor,
  } = await grantWithinRoom(deps, tx, {
    plan,
    borrowerId: storedBorrowerId,
  });
  // The rows are stamped under the borrower's lock, not when the application was decided (see grantWithinRoom).
  const timed: ApplicationPlan = { ...plan, now };
  // The decision's row now; its ledger entry goes with the application's (recordApplicationTrail): one append.
  const decided = deps.engine.decisionWrites({
    decisionId: ids.decision,
    kind: 'application',
    strategyId: APPLICATION_STRATEGY,
    // Recorded as the decision's subject key too (app/core-engine.ts): the key it was split on (decidedOn).
    subjectId: plan.subjectKey,
    lineId: grant.outcome === 'APPROVE' ? ids.line : null,
    context: plan.recorded,
    decision: plan.decision,
    decidedAt: now,
    latencyMs: plan.latencyMs,
    coreRules: applicationCoreRules(plan, grant, roomMinor),
  });
  await deps.coreStore.insertDecisionInTx(tx, decided.row);
  const line =
    grant.outcome === 'APPROVE'
      ? await openLine(deps, tx, { ids, borrowerId: storedBorrowerId, grant, currency, now })
      : null;
  if (line) await bindLineToProduct(deps, tx, line.id, product);
  await deps.coreStore.insertApplicationInTx(tx, {
    id: ids.application,
    borrower_id: storedBorrowerId,
    decision_id: ids.decision,
    outcome: grant.outcome,
    reasons: JSON.stringify(grant.reasons),
    line_id: line?.id ?? null,
    limit_minor: line?.limitMinor ?? null,
    annual_rate: line?.annualRate ?? null,
    currency,
    created_at: now,
    product_id: product?.id ?? null,
  });
  await recordChannel(deps, tx, { applicationId: ids.application, lineId: line?.id }, channel);
  const committed = { grant, line, borrowerId: storedBorrowerId };
  await recordApplicationTrail(deps, tx, { plan: timed, committed, decisionLedger: decided.ledger });
  return committed;
}

/**
 * The plan decided on the borrower as stored. A champion/challenger split hashes the subject key, and the decision
 * records the borrower's id as that key so that a replay takes the same arm: one person, one arm, replay = live. An
 * applicant found before the transaction is decided on their id, and a new one on the id their row is inserted under;
 * only when the row holds another id (a concurrent first application of the same person stored theirs first, a
 * double tap) is the decision taken again, here, on the stored id, with the same context. Deciding is pure and in
 * memory (no I/O), so this costs the rare race a second evaluation, not a lock held over a lookup; and it keeps every
 * borrower on the key their earlier applications were split on, with no personal data in the key.
 */
function decidedOn(deps: CoreDeps, plan: ApplicationPlan, borrowerId: string): ApplicationPlan {
  if (borrowerId === plan.subjectKey) return plan;
  const { decision, latencyMs } = timedDecide(
    deps.engine,
    APPLICATION_STRATEGY,
    plan.context,
    borrowerId,
    plan.recorded,
  );
  return { ...plan, subjectKey: borrowerId, decision, latencyMs };
}

/**
 * What the core did to the strategy's decision, stored with it so that a simulation replays it on a candidate's
 * (src/domain/core-rules.ts): the hard rules, the bureau gate's referral and the room under the borrower cap. The
 * product's rate range and the all-in cost check move the rate only, or refuse the request before anything is stored.
 */
function applicationCoreRules(plan: ApplicationPlan, grant: Grant, roomMinor: number): CoreRules {
  const referral = bureauReferral(plan.bureau);
  return {
    final: {
      outcome: grant.outcome,
      reasons: grant.reasons,
      limitMinor: grant.outcome === 'APPROVE' ? (grant.limitMinor ?? null) : null,
    },
    ...(plan.hard.length > 0 ? { hard: plan.hard } : {}),
    ...(referral === undefined ? {} : { referral }),
    roomMinor,
  };
}

/**
 * The strategy's grant clipped to the borrower's room under the cap, gated on the bureau and fitted to the product;
 * or the hard rules' decline. With it, the instant the application's rows are created at, taken under the same lock.
 */
async function grantWithinRoom(
  deps: CoreDeps,
  tx: UnitTx,
  applying: { plan: ApplicationPlan; borrowerId: string },
): Promise<{ grant: Grant; createdAt: number; roomMinor: number }> {
  const { plan, borrowerId } = applying;
  const { decision, hard, given } = plan;
  // Exposure again inside the dbTx, under the borrower's lock: a concurrent grant or raise (in any process) either
  // committed before this read or waits for this dbTx to end.
  const locked = await deps.coreStore.lockBorrowerExposureInTx(tx, borrowerId);
  const room = deps.config.borrowerCapMinor - locked.exposureMinor;
  // Under the lock and after the borrower's newest line: their lines are created in the order they commit.
  const createdAt = instantAfter(deps.clock.now(), locked.newestLineCreatedAt);
  const clipped = fitGrantToProduct(
    gateOnBureau(clipGrant(decision, room, deps.config.aprCapPercent), plan.bureau),
    plan.product,
    plan.currency,
  );
  const grant: Grant = withDeclineReason(
    hard.length > 0
      ? {
          outcome: 'DECLINE',
          reasons: withHardReasons(hard, decision.reasons),
          adjustments: [...given.adjustments, `declined by the core's hard rules (${hard.join(', ')})`],
        }
      : { ...clipped, adjustments: [...given.adjustments, ...clipped.adjustments] },
  );
  if (grant.outcome !== 'APPROVE') return { grant, createdAt, roomMinor: room };
  // Under a product, the rate is lowered to where every loan the product offers is within the cap all-in, the
  // product's fees and the channel's alike; a line without a product is judged by assertAllInCost, the rate plus the
  // channel's fees in simple terms, and refused over it (fitGrantToLinePrice says why).
  if (!plan.product) assertAllInCost(grant.annualRate, plan.channel, [deps.config.aprCapPercent]);
  const line = grantedLineTerms(plan.currency, plan.product, channelFees(plan.channel));
  return { grant: fitGrantToLinePrice(deps, grant, line), createdAt, roomMinor: room };
}

/**
 * A decline always tells the borrower why. Whatever strategy validation refuses, a version stored before, or an
 * overlay, may still decline with no reason, or with only a favourable one ("thank you for repaying on time"): the core
 * then gives R_STRATEGY_DECLINE first, which says honestly what is known and can be appealed, rather than nothing
 * (once explained as "a legal requirement that cannot be appealed", which it was not).
 */
function withDeclineReason(grant: Grant): Grant {
  if (grant.outcome !== 'DECLINE') return grant;
  const reasons = withReasonThatSaysWhy(grant.reasons, STRATEGY_DECLINE_REASON);
  if (reasons.length === grant.reasons.length) return grant;
  return {
    ...grant,
    reasons,
    adjustments: [
      ...grant.adjustments,
      `declined with no reason that says why: ${STRATEGY_DECLINE_REASON} given to the borrower`,
    ],
  };
}

/** The application's ledger entries (with its line's) and its core event in the outbox. */
async function recordApplicationTrail(
  deps: CoreDeps,
  tx: UnitTx,
  written: { plan: ApplicationPlan; committed: CommittedApplication; decisionLedger: LedgerAppend },
): Promise<void> {
  const { ids, now } = written.plan;
  const { grant, line, borrowerId } = written.committed;
  // The decision first, as when it was appended on its own before the rest.
  const ledger: LedgerAppend[] = [
    written.decisionLedger,
    {
      entryId: ids.application,
      kind: 'application',
      subjectId: borrowerId,
      recordedAt: now,
      payload: {
        applicationId: ids.application,
        decisionId: ids.decision,
        outcome: grant.outcome,
        reasons: grant.reasons,
        lineId: line?.id ?? null,
        // No `adjustments`: they can restate personal data (the age derived from the resident ID), and a granted
        // line's are its GRANT's note, sealed, which the line.action entry proves by `noteHmac`. Entries written
        // before carry them in clear; nothing verifies by them.
      },
    },
    ...(line ? [line.ledger] : []),
  ];
  await appendToLedger(tx, ledger);
  const event = coreEvent({
    eventId: ids.event,
    type: 'application',
    at: now,
    userId: borrowerId,
    lineId: line?.id,
    deviceId: written.plan.origin.deviceId,
    ip: written.plan.origin.ip,
    attributes: { outcome: grant.outcome, decisionId: ids.decision, applicationId: ids.application },
  });
  await deps.coreStore.insertOutboxInTx(tx, [
    { id: ids.event, topic: CORE_EVENTS_TOPIC, payload: event, at: now },
  ]);
}

/** The answer: the outcome, the masked borrower, the line, and a declined application's explanation. */
function applicationAnswer(
  deps: CoreDeps,
  plan: ApplicationPlan,
  result: CommittedApplication,
): ApplicationResult {
  const { ids, now, currency } = plan;
  const borrowerRow = plan.existing ?? plan.sealed;
  const told = reasonsInBothLanguages(result.grant.reasons);
  return {
    applicationId: ids.application,
    decisionId: ids.decision,
    borrowerId: result.borrowerId,
    outcome: result.grant.outcome,
    reasons: result.grant.reasons,
    borrowerReasons: told.zh,
    borrowerReasonsByLang: told,
    // Masked from the row as sealed (its own id: a value opens only on its row), then named by the stored borrower:
    // a concurrent first application of the same person may have stored its row first.
    borrower: { ...maskBorrower(borrowerRow, deps.crypto), id: result.borrowerId },
    line: result.line
      ? {
          id: result.line.id,
          status: 'ACTIVE',
          limitMinor: result.line.limitMinor,
          annualRate: result.line.annualRate,
          currency,
        }
      : null,
    adjustments: result.grant.adjustments,
    ...(result.grant.outcome === 'DECLINE'
      ? {
          explanation: declineExplanation(
            result.grant.reasons,
            now,
            deps.config.appealDays ?? APPEAL_DAYS_DEFAULT,
          ),
        }
      : {}),
  };
}

async function openLine(
  deps: CoreDeps,
  tx: UnitTx,
  a: {
    ids: { decision: string; line: string; action: string };
    borrowerId: string;
    grant: Grant;
    currency: string;
    now: number;
  },
) {
  const limitMinor = a.grant.limitMinor ?? 0;
  const annualRate = a.grant.annualRate ?? 0;
  const before = newPendingLine();
  const { state } = transition(before, { type: 'GRANT', limitMinor, annualRate }, a.now);
  await deps.coreStore.insertLineInTx(tx, {
    id: a.ids.line,
    borrower_id: a.borrowerId,
    status: state.status,
    currency: a.currency,
    limit_minor: state.limitMinor,
    base_limit_minor: state.baseLimitMinor,
    temp_limit_until: null,
    outstanding_minor: 0,
    available_minor: availableMinor(state),
    annual_rate: state.annualRate,
    dpd: 0,
    bucket: deps.config.buckets?.[0]?.name ?? 'M0',
    created_at: a.now,
    updated_at: a.now,
  });
  const reasons = a.grant.reasons.length > 0 ? a.grant.reasons : [];
  // The system's words, but the column holds one form: sealed, its entry committing to it (line.action noteHmac).
  const note = sealLineActionNote(
    deps.crypto,
    a.ids.action,
    a.grant.adjustments.length > 0 ? a.grant.adjustments.join('; ') : null,
  );
  await deps.coreStore.insertLineActionInTx(tx, {
    id: a.ids.action,
    line_id: a.ids.line,
    type: 'GRANT',
    outcome: 'APPLIED',
    reasons: JSON.stringify(reasons),
    trace_id: a.ids.decision,
    automated: 1,
    actor: 'strategy:application',
    appealable: 0,
    notice_at: a.now,
    prev_status: before.status,
    new_status: state.status,
    prev_limit_minor: 0,
    new_limit_minor: state.limitMinor,
    prev_rate: 0,
    new_rate: state.annualRate,
    requested_limit_minor: requestedGrantLimit(a.grant),
    note: note?.sealed ?? null,
    created_at: a.now,
  });
  return {
    id: a.ids.line,
    limitMinor: state.limitMinor,
    annualRate: state.annualRate,
    ledger: {
      entryId: a.ids.action,
      kind: 'line.action',
      subjectId: a.ids.line,
      recordedAt: a.now,
      payload: {
        actionId: a.ids.action,
        lineId: a.ids.line,
        type: 'GRANT',
        outcome: 'APPLIED',
        traceId: a.ids.decision,
        automated: true,
        limitMinor: state.limitMinor,
        annualRate: state.annualRate,
        reasons,
        noteHmac: note?.hmac ?? null,
      },
    },
  };
}

function requestedGrantLimit(grant: Grant): number | null {
  return grant.requestedLimitMinor ?? null;
}

export function assertApplicationShape(input: ApplicationInput): void {
  if (typeof input.attributes !== 'object' || input.attributes === null || Array.isArray(input.attributes)) {
    throw new LgError('LG_VALIDATION', 'attributes must be an object of named inputs');
  }
}
