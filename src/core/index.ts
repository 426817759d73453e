/** The credit-line core's public face: applications, lines, draws, loans, jobs, and the demo seed. */
import { lenderDayOf } from '../domain/index.js';
import type { CoreServices } from './services.js';
import type { CoreDeps } from './deps.js';
import { submitApplication } from './applications.js';
import { applyLineAction } from './lines.js';
import { requestDraw } from './draws.js';
import { readLoan, repay } from './loans.js';
import { runDailyJob, runReviewJob } from './jobs.js';
import { APPEAL_DAYS_DEFAULT, explainLine, readLine } from './views.js';
import { rekeyBorrowers } from './borrowers.js';
import { createProduct, createProductVersion, getProduct, listProducts, retireProduct } from './products.js';
import { createQuote, readQuote } from './quotes.js';
import * as partners from './partners.js';

export { APPEAL_DAYS_DEFAULT };

export type { CoreServices } from './services.js';

export function createCoreServices(deps: CoreDeps): CoreServices {
  const appealDays = deps.config.appealDays ?? APPEAL_DAYS_DEFAULT;
  return {
    deps,
    submitApplication: (input, guard) => submitApplication(deps, input, guard),
    getLine: (id) => readLine(deps, id),
    explainLine: (id, lang) =>
      explainLine(id, lang, {
        appealDays,
        now: deps.clock.now(),
        lenderUtcOffsetMinutes: deps.config.lenderUtcOffsetMinutes,
        buckets: deps.config.buckets,
        store: deps.coreStore,
      }),
    applyLineAction: (lineId, input, guard) => applyLineAction(deps, lineId, input, guard),
    requestDraw: (lineId, input, guard) => requestDraw(deps, lineId, input, guard),
    getLoan: (id) => readLoan(deps, id),
    repay: (loanId, input, guard) => repay(deps, loanId, input, guard),
    lenderToday: () => lenderDayOf(deps.config, deps.clock.now()),
    runDailyJob: (asOf) => runDailyJob(deps, asOf),
    runReviewJob: (asOf) => runReviewJob(deps, asOf),
    rekeyBorrowers: (pageSize) => rekeyBorrowers(deps, pageSize),
    listProducts: () => listProducts(deps),
    getProduct: (id) => getProduct(deps, id),
    createProduct: (input, guard) => createProduct(deps, input, guard),
    createProductVersion: (id, input, guard) => createProductVersion(deps, id, input, guard),
    retireProduct: (id, actor, guard) => retireProduct(deps, id, actor, guard),
    createQuote: (lineId, input, guard) => createQuote(deps, lineId, input, guard),
    getQuote: (id) => readQuote(deps, id),
    createPartner: (input, actor, guard) => partners.createPartner(deps, input, actor, guard),
    listPartners: () => partners.listPartners(deps),
    getPartner: (id) => partners.getPartner(deps, id),
    setPartnerStatus: (id, change, guard) => partners.setPartnerStatus(deps, id, change, guard),
    createPartnerKey: (partnerId, mint) => partners.createPartnerKey(deps, partnerId, mint),
    partnerOfKey: (keyId) => partners.partnerOfKey(deps, keyId),
    assertChannelLine: (partnerId, lineId) => partners.assertChannelLine(deps, partnerId, lineId),
    channelLines: (partnerId) => partners.channelLines(deps, partnerId),
    channelApplications: (partnerId) => partners.channelApplications(deps, partnerId),
    channelQuality: (partnerId) => partners.channelReport(deps, partnerId),
    lineParties: (lineId) => partners.lineParties(deps, lineId),
  };
}

export type {
  CoreDecisionWrites,
  CoreDeps,
  CoreEngine,
  CoreConfig,
  DecisionRecord,
  DrawSignalInput,
  GuardTrip,
} from './deps.js';
export { CORE_EVENTS_TOPIC } from './deps.js';
export type * from './ports/lending.js';
export type { ApplicationInput, ApplicationResult } from './applications.js';
export type { LineActionInput, LineActionResult } from './lines.js';
export type { DrawInput, DrawResult, DrawStatus } from './draws.js';
export { ANTI_SCAM_WARNING } from './draws.js';
export type { LoanView, RepaymentInput, RepaymentResult } from './loans.js';
export type { DailyJobResult, ReviewJobResult } from './jobs.js';
export type { RekeyResult } from './borrowers.js';
export type { LineExplanation, LineView } from './views.js';
export type { CoreEvent } from './events.js';
export { seedDemo, type SeedResult } from './seed.js';
export type { SeedHistory } from './seed-calendar.js';
export type { ScamVictim as ScamVictimSeed } from './seed-lending.js';
export { runDailyJob, runReviewJob } from './jobs.js';
// People in the loop (issue 11): the core paths a case outcome acts through, each inside the caller's dbTx.
export { applyActionInTx, checkLineAction, checkPersonReasons } from './lines.js';
export {
  approveReviewInTx,
  checkReviewApprovalInTx,
  declineReviewInTx,
  type ReviewApproval,
  type ReviewedApplication,
} from './reviews.js';
export {
  HELD_DRAW_STATUSES,
  cancelHeldDrawInTx,
  checkHeldDrawReleaseInTx,
  findDraw,
  heldDrawView,
  releaseDueCooldowns,
  releaseHeldDrawInTx,
  stopCooldownInTx,
  type CooldownSweepResult,
} from './held-draws.js';
export {
  liftClearedDelinquency,
  liftsFraudRestriction,
  lockedLimitCutOf,
  lockedStandingRestrictions,
  restrictedLines,
  standingRestrictions,
  type RestrictionReviewResult,
  type StandingRestriction,
  type StandingRestrictionRecord,
} from './restrictions.js';
export {
  listBorrowerLines,
  listLineDraws,
  listLineLoans,
  PAGE_LIMIT_MAX,
  type DrawListItem,
  type LineListItem,
  type ListingStore,
  type LoanListItem,
  type Page,
  type PageQuery,
} from './listings.js';
export { PRODUCT_ID_PATTERN, type ProductView } from './products.js';
export type { QuoteInput, QuoteView } from './quotes.js';
export { purposeCatalogue } from './purposes.js';
export type { ApplicationBureauPort, ApplicationPull } from './bureau-gate.js';
export type {
  BookedLoan,
  CoreStore,
  CoreWrites,
  DrawReads,
  DrawRecord,
  DrawUnit,
  IdempotencyClaim,
  LineDebit,
  ListBounds,
  ListScope,
  LoanAprs,
  LoanProductPart,
  NewestFirstPage,
  OutboxEvent,
  RecordedResponse,
  StoredLoan,
  UnitGuard,
} from './ports.js';
