import { LgError, instantAfter } from '../domain/index.js';
import { applyLineAction as transition, availableMinor, newPendingLine } from '../domain/index.js';
import { appendToLedger, sealLineActionNote, type SealedText } from '../compliance/index.js';
import type { CoreDeps, UnitTx } from './deps.js';
import type { ApplicationSettlement } from './ports.js';
import { CORE_EVENTS_TOPIC, coreEvent } from './events.js';
import { checkReasons } from './lines.js';
import {
  assertAllInCost,
  channelFees,
  channelFor,
  recordChannel,
  storedChannel,
  type Channel,
} from './partners.js';
import {
  activeProduct,
  assertProductCurrency,
  assertRateInProductRange,
  bindLineToProduct,
  grantedLineTerms,
  type ProductView,
} from './products.js';
import { assertLinePriceWithinCap } from './line-price.js';
import { parseReasons } from './repo.js';

/**
 * A person decides an application the strategy referred (REVIEW). Approval opens the line with the analyst's limit
 * and rate through the same hard rules as an automated grant (the per-borrower cap across open lines, the APR cap):
 * a person may not grant what the machine could not. The application row moves by compare-and-set, so two analysts
 * can never both decide it. An application that came through a 助贷 partner's channel opens its line through that
 * channel, as an immediate approval would: its parties read again under their locks in the approval's transaction (a
 * partner no longer in force refuses it, 409 LG_PARTNER_SUSPENDED, and the case stays open for the analyst to decline
 * or to approve once the partner is reinstated), the all-in cost over their fees within the cap, and the line bound to
 * the channel with its funding and the fees in force at the approval.
 */
export interface ReviewApproval {
  readonly actor: string;
  readonly limitMinor: number;
  readonly annualRate: number;
  readonly note?: string;
}

export interface ReviewedApplication {
  readonly applicationId: string;
  readonly outcome: 'APPROVE' | 'DECLINE';
  readonly lineId: string | null;
  readonly limitMinor: number | null;
  readonly annualRate: number | null;
  readonly reasons: string[];
}

async function lockReviewApplication(deps: CoreDeps, tx: UnitTx, applicationId: string) {
  const row = await deps.coreStore.lockApplicationInTx(tx, applicationId);
  if (!row) throw new LgError('LG_NOT_FOUND', `no application ${applicationId}`, { applicationId });
  if (row.outcome !== 'REVIEW' || row.line_id !== null)
    throw new LgError('LG_APPLICATION_NOT_IN_REVIEW', `the application is ${row.outcome}, not in review`, {
      applicationId,
      outcome: row.outcome,
    });
  return row;
}

async function settleApplication(
  deps: CoreDeps,
  tx: UnitTx,
  settlement: ApplicationSettlement,
): Promise<void> {
  if (!(await deps.coreStore.settleApplicationInTx(tx, settlement)))
    throw new LgError('LG_APPLICATION_NOT_IN_REVIEW', 'the application was decided meanwhile', {
      applicationId: settlement.id,
    });
}

function checkGrantRules(
  deps: CoreDeps,
  roomMinor: number,
  input: ReviewApproval,
  product: ProductView | undefined,
): void {
  if (!Number.isSafeInteger(input.limitMinor) || input.limitMinor <= 0)
    throw new LgError('LG_INVALID_MONEY', 'limitMinor must be a positive integer of minor units');
  if (input.limitMinor > roomMinor)
    throw new LgError(
      'LG_BORROWER_CAP_EXCEEDED',
      'the limit would take the borrower past the per-borrower cap',
      {
        roomMinor: Math.max(0, roomMinor),
        reasons: ['R_BORROWER_CAP'],
      },
    );
  const capPercent = Math.min(deps.config.aprCapPercent, product?.terms.aprCapPercent ?? Infinity);
  if (!(input.annualRate >= 0) || input.annualRate * 100 > capPercent)
    throw new LgError('LG_APR_CAP_EXCEEDED', `the rate is above the ${capPercent}% cap`, { capPercent });
  assertRateInProductRange(product, input.annualRate);
}

/**
 * Whether the reviewer's approval may open the line, judged as the approval judges it, under the same locks, with
 * the error it would give (a referred application no longer in review, the per-borrower cap, the APR cap, the
 * product's range, a partner no longer in force). Writes nothing: a grant that waits for a second person is judged
 * before it is proposed, so a checker is never asked to approve one that cannot apply.
 */
export async function checkReviewApprovalInTx(
  deps: CoreDeps,
  tx: UnitTx,
  applicationId: string,
  input: ReviewApproval,
): Promise<void> {
  await judgeReviewApproval(deps, tx, applicationId, input);
}

async function judgeReviewApproval(deps: CoreDeps, tx: UnitTx, applicationId: string, input: ReviewApproval) {
  const app = await lockReviewApplication(deps, tx, applicationId);
  // The channel's parties under their locks before the borrower's, in the order an application takes them.
  const channel = await channelFor(deps, storedChannel(app), tx);
  // The product it asked for, as it is now (a retired one refuses, 409 LG_PRODUCT_NOT_ACTIVE): its range and cap hold.
  const product = app.product_id ? await activeProduct(deps, app.product_id, tx) : undefined;
  assertProductCurrency(product, app.currency);
  const locked = await deps.coreStore.lockBorrowerExposureInTx(tx, app.borrower_id);
  checkGrantRules(deps, deps.config.borrowerCapMinor - locked.exposureMinor, input, product);
  // Under a product, the analyst's rate is judged on every loan the product offers, with its fees and the channel's,
  // as a rate change is; refused, not lowered, as a person's rate over the cap is. Without a product, the rate plus
  // the channel's fees in simple terms (assertAllInCost): judging 1,440 loans (line-price.ts) is left to rate changes.
  if (product)
    assertLinePriceWithinCap(
      deps,
      grantedLineTerms(app.currency, product, channelFees(channel)),
      input.annualRate,
    );
  else assertAllInCost(input.annualRate, channel, [deps.config.aprCapPercent]);
  return { app, channel, product, locked };
}

export async function approveReviewInTx(
  deps: CoreDeps,
  tx: UnitTx,
  applicationId: string,
  input: ReviewApproval,
): Promise<ReviewedApplication> {
  const { app, channel, product, locked } = await judgeReviewApproval(deps, tx, applicationId, input);
  const now = instantAfter(deps.clock.now(), locked.newestLineCreatedAt);
  const lineId = deps.ids.next();
  const actionId = deps.ids.next();
  const reasons = ['R_MANUAL_REVIEW'];
  // The reviewer's note is sealed in the GRANT's row; the ledger entries commit to it (never the text).
  const note = sealLineActionNote(deps.crypto, actionId, input.note);
  const grant: ReviewGrant = { applicationId, app, input, now, lineId, actionId, reasons, note };
  const state = await openReviewedLine(deps, tx, grant, channel);
  await bindLineToProduct(deps, tx, lineId, product);
  await settleApplication(deps, tx, {
    id: applicationId,
    outcome: 'APPROVE',
    reasons,
    lineId,
    limitMinor: state.limitMinor,
    annualRate: state.annualRate,
  });
  await recordReviewTrail(deps, tx, { grant, state });
  return {
    applicationId,
    outcome: 'APPROVE',
    lineId,
    limitMinor: state.limitMinor,
    annualRate: state.annualRate,
    reasons,
  };
}

/** A reviewer's approval of one application: the line and its GRANT action, with their ids. */
interface ReviewGrant {
  readonly applicationId: string;
  /** The reviewer's note, sealed in the GRANT action's row (sealLineActionNote); null without one. */
  readonly note: SealedText | null;
  readonly app: Awaited<ReturnType<typeof lockReviewApplication>>;
  readonly input: ReviewApproval;
  readonly now: number;
  readonly lineId: string;
  readonly actionId: string;
  readonly reasons: string[];
}

type GrantedLineState = ReturnType<typeof transition>['state'];

/**
 * The line, granted with the reviewer's limit and rate, bound to the application's channel (if any), and its GRANT
 * action (manual, not appealable).
 */
async function openReviewedLine(
  deps: CoreDeps,
  tx: UnitTx,
  grant: ReviewGrant,
  channel: Channel | undefined,
): Promise<GrantedLineState> {
  const { app, input, now, lineId } = grant;
  const before = newPendingLine();
  const { state } = transition(
    before,
    { type: 'GRANT', limitMinor: input.limitMinor, annualRate: input.annualRate },
    now,
  );
  await deps.coreStore.insertLineInTx(tx, {
    id: lineId,
    borrower_id: app.borrower_id,
    status: state.status,
    currency: app.currency,
    limit_minor: state.limitMinor,
    base_limit_minor: state.baseLimitMinor,
    temp_limit_until: null,
    outstanding_minor: 0,
    available_minor: availableMinor(state),
    annual_rate: state.annualRate,
    dpd: 0,
    bucket: deps.config.buckets?.[0]?.name ?? 'M0',
    created_at: now,
    updated_at: now,
  });
  await recordChannel(deps, tx, { applicationId: grant.applicationId, lineId }, channel);
  await deps.coreStore.insertLineActionInTx(tx, {
    id: grant.actionId,
    line_id: lineId,
    type: 'GRANT',
    outcome: 'APPLIED',
    reasons: JSON.stringify(grant.reasons),
    trace_id: app.decision_id,
    automated: 0,
    actor: input.actor,
    appealable: 0,
    notice_at: now,
    prev_status: before.status,
    new_status: state.status,
    prev_limit_minor: 0,
    new_limit_minor: state.limitMinor,
    prev_rate: 0,
    new_rate: state.annualRate,
    requested_limit_minor: input.limitMinor,
    note: grant.note?.sealed ?? null,
    created_at: now,
  });
  return state;
}

/** The review and the GRANT in the ledger, and the application's core event in the outbox. */
async function recordReviewTrail(
  deps: CoreDeps,
  tx: UnitTx,
  reviewed: { grant: ReviewGrant; state: GrantedLineState },
): Promise<void> {
  const { applicationId, app, input, now, lineId, actionId, reasons, note } = reviewed.grant;
  const { state } = reviewed;
  const noteHmac = note === null ? {} : { noteHmac: note.hmac };
  await appendToLedger(tx, [
    {
      entryId: `${applicationId}:reviewed`,
      kind: 'application.reviewed',
      subjectId: app.borrower_id,
      recordedAt: now,
      // Entries written before the note was sealed carry `note` itself.
      payload: { applicationId, outcome: 'APPROVE', lineId, by: input.actor, ...noteHmac },
    },
    {
      entryId: actionId,
      kind: 'line.action',
      subjectId: lineId,
      recordedAt: now,
      payload: {
        actionId,
        lineId,
        type: 'GRANT',
        outcome: 'APPLIED',
        traceId: app.decision_id,
        automated: false,
        actor: input.actor,
        limitMinor: state.limitMinor,
        annualRate: state.annualRate,
        reasons,
        noteHmac: note?.hmac ?? null,
      },
    },
  ]);
  const eventId = deps.ids.next();
  const event = coreEvent({
    eventId,
    type: 'application',
    at: now,
    userId: app.borrower_id,
    lineId,
    attributes: { outcome: 'APPROVE', decisionId: app.decision_id, applicationId, reviewed: true },
  });
  await deps.coreStore.insertOutboxInTx(tx, [
    { id: eventId, topic: CORE_EVENTS_TOPIC, payload: event, at: now },
  ]);
}

export async function declineReviewInTx(
  deps: CoreDeps,
  tx: UnitTx,
  applicationId: string,
  input: { actor: string; reasons: readonly string[] },
): Promise<ReviewedApplication> {
  checkReasons(input.reasons);
  const app = await lockReviewApplication(deps, tx, applicationId);
  const reasons = [...input.reasons];
  await settleApplication(deps, tx, {
    id: applicationId,
    outcome: 'DECLINE',
    reasons,
    lineId: null,
    limitMinor: null,
    annualRate: null,
  });
  await appendToLedger(tx, [
    {
      entryId: `${applicationId}:reviewed`,
      kind: 'application.reviewed',
      subjectId: app.borrower_id,
      recordedAt: deps.clock.now(),
      payload: {
        applicationId,
        outcome: 'DECLINE',
        reasons,
        referredFor: parseReasons(app.reasons),
        by: input.actor,
        // Not the reviewer's note: an entry is never erased, and free text can name anyone. The note is the case's,
        // sealed with its notes and proven by its case.resolved entry (noteId, noteHmac). Entries written before
        // carry it as `note`.
      },
    },
  ]);
  return { applicationId, outcome: 'DECLINE', lineId: null, limitMinor: null, annualRate: null, reasons };
}
