/** What the credit-line core offers: the face its callers (api, app, seed) hold. Types only, so no cycle with index.ts. */
import type { ReasonLang } from '../domain/index.js';
import type { CoreDeps } from './deps.js';
import type { ApplicationInput, ApplicationResult } from './applications.js';
import type { LineActionInput, LineActionResult } from './lines.js';
import type { DrawInput, DrawResult } from './draws.js';
import type { UnitGuard } from './ports.js';
import type { LoanView, RepaymentInput, RepaymentResult } from './loans.js';
import type { DailyJobResult, ReviewJobResult } from './jobs.js';
import type { LineExplanation, LineView } from './views.js';
import type { RekeyResult } from './borrowers.js';
import type { ProductView } from './products.js';
import type { QuoteInput, QuoteView } from './quotes.js';
import type * as partners from './partners.js';

/**
 * A write's optional last argument `guard` is what commits with its unit of work beyond its own facts (the request's
 * idempotency key; domain/unit-guard.ts), handed to the store's transaction.
 */
export interface CoreServices {
  readonly deps: CoreDeps;
  submitApplication(
    input: ApplicationInput,
    guard?: UnitGuard<ApplicationResult>,
  ): Promise<ApplicationResult>;
  getLine(id: string): Promise<LineView>;
  explainLine(id: string, lang: ReasonLang): Promise<LineExplanation>;
  /** The monitor's and the review job's entry point; automated restrictive actions pass the blast-radius guard. */
  applyLineAction(
    lineId: string,
    input: LineActionInput,
    guard?: UnitGuard<LineActionResult>,
  ): Promise<LineActionResult>;
  requestDraw(lineId: string, input: DrawInput, guard?: UnitGuard<DrawResult>): Promise<DrawResult>;
  getLoan(id: string): Promise<LoanView>;
  repay(loanId: string, input: RepaymentInput, guard?: UnitGuard<RepaymentResult>): Promise<RepaymentResult>;
  /** The lender's calendar date now (CoreConfig.lenderUtcOffsetMinutes): the day a job runs for unless told. */
  lenderToday(): string;
  runDailyJob(asOf: string): Promise<DailyJobResult>;
  runReviewJob(asOf: string): Promise<ReviewJobResult>;
  /** Key rotation: re-seals borrowers' personal data that a retired key sealed (see rekeyBorrowers). */
  rekeyBorrowers(pageSize?: number): Promise<RekeyResult>;
  listProducts(): Promise<ProductView[]>;
  getProduct(id: string): Promise<{ versions: ProductView[] }>;
  createProduct(
    input: { id: string; terms: ProductView['terms']; actor?: string },
    guard?: UnitGuard<ProductView>,
  ): Promise<ProductView>;
  createProductVersion(
    id: string,
    input: { terms: ProductView['terms']; expectedVersion?: number; actor?: string },
    guard?: UnitGuard<ProductView>,
  ): Promise<ProductView>;
  retireProduct(id: string, actor?: string, guard?: UnitGuard<ProductView>): Promise<ProductView>;
  createQuote(lineId: string, input: QuoteInput, guard?: UnitGuard<QuoteView>): Promise<QuoteView>;
  getQuote(id: string): Promise<QuoteView>;
  createPartner(
    input: partners.PartnerInput,
    actor?: string,
    guard?: UnitGuard<partners.PartnerView>,
  ): Promise<partners.PartnerView>;
  listPartners(): Promise<partners.PartnerView[]>;
  getPartner(id: string): Promise<partners.PartnerView>;
  setPartnerStatus(
    id: string,
    change: Parameters<typeof partners.setPartnerStatus>[2],
    guard?: UnitGuard<partners.PartnerView>,
  ): Promise<partners.PartnerView>;
  createPartnerKey<K extends { id: string }>(
    partnerId: string,
    mint: Parameters<typeof partners.createPartnerKey<K>>[2],
  ): Promise<K>;
  partnerOfKey(keyId: string | undefined): Promise<string>;
  assertChannelLine(partnerId: string, lineId: string): Promise<void>;
  channelLines(partnerId: string): ReturnType<typeof partners.channelLines>;
  channelApplications(partnerId: string): ReturnType<typeof partners.channelApplications>;
  channelQuality(partnerId: string): Promise<partners.ChannelQuality>;
  lineParties(lineId: string): Promise<partners.LineParties>;
}
