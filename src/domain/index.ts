/** The domain's public face: pure types and rules, no I/O (DESIGN.md "Layout"). */
export * from './errors.js';
export * from './clock.js';
export * from './lender-calendar.js';
export * from './random.js';
export * from './ids.js';
export * from './money.js';
export * from './canonical-json.js';
export * from './decision.js';
export * from './model.js';
export * from './line.js';
export * from './reason-codes.js';
export * from './schedule.js';
export * from './apr.js';
export * from './national-id.js';
export * from './delinquency.js';
export * from './anti-scam.js';
export * from './sha256.js';
export * from './core-rules.js';
export * from './commit-order.js';
export type { IdempotencyClaim, RecordedResponse, UnitGuard, UnitOutcome } from './unit-guard.js';

export { accrueMinor, dailyRate } from './accrual.js';
export { ANTI_SCAM_WARNING } from './anti-scam.js';
export {
  APR_CONVENTIONS,
  UNIT_PERIODS,
  aprCapCheck,
  computeApr,
  loanDisclosure,
  simpleAnnualRatePercent,
} from './apr.js';
export type { AprConvention, AprInput, AprResult, CashFlow, LoanDisclosure, UnitPeriod } from './apr.js';
export { CanonicalJsonError, canonicalJson } from './canonical-json.js';
export {
  MS_PER_DAY,
  isoDate,
  isoDay,
  parseIsoDate,
  parseIsoDay,
  parseIsoInstant,
  instantAfter,
  systemClock,
} from './clock.js';
export type { Clock } from './clock.js';
export { DAY_COUNT_BASES, DEFAULT_DAY_COUNT, actualDays } from './day-count.js';
export type { DayCountBasis } from './day-count.js';
export { LINE_ACTION_TYPES, OUTCOMES, RESTRICTIVE_ACTIONS } from './decision.js';
export type {
  ContextValue,
  Decider,
  Decision,
  DecisionContext,
  LineActionType,
  Outcome,
  RequestedLineAction,
  TraceStep,
} from './decision.js';
export { DEFAULT_BUCKETS, bucketFor, daysPastDue } from './delinquency.js';
export type { DelinquencyBucket } from './delinquency.js';
export { LgError, isLgError } from './errors.js';
export type { ErrorCode } from './errors.js';
export { UUID_PATTERN, uuidv7Generator } from './ids.js';
export type { IdGenerator } from './ids.js';
export { keyFacts } from './key-facts.js';
export {
  applyLineAction,
  availableMinor,
  drawBlockedError,
  drawRefusal,
  expireTempLimit,
  newPendingLine,
} from './line.js';
export type { LimitCutStep, LineState, LineStatus, LockedLimitCut } from './line.js';
export type { ModelResolver, ModelScore, ModelScorer, ReasonContribution } from './model.js';
export { DEFAULT_CURRENCY, assertSameCurrency, formatMoney } from './money.js';
export {
  ageOn,
  maskName,
  maskNationalId,
  maskPhone,
  parseChineseResidentId,
  residentIdCheckChar,
} from './national-id.js';
export {
  FUNDING_MODES,
  LIST_STATUSES,
  PARTNER_STATUSES,
  PARTNER_TYPES,
  allInCost,
  concentrationBreached,
  validateFunding,
} from './partner.js';
export type { Funding, PartnerStatus, PartnerType } from './partner.js';
export {
  PRODUCT_DEFAULTS,
  checkDrawTerms,
  feeFor,
  parseProductTerms,
  productRate,
  validateProductTerms,
} from './product.js';
export type { DrawTerms, ProductTerms } from './product.js';
export { PURPOSES, judgePurpose, purposeError } from './purpose.js';
export { cryptoRandom, seededRandom } from './random.js';
export type { RandomSource } from './random.js';
export { MAX_BORROWER_REASONS, borrowerReasons, getReason, isKnownReason } from './reason-codes.js';
export type { BorrowerReason, ReasonLang } from './reason-codes.js';
export { MAX_TERM_MONTHS, REPAYMENT_METHODS, assertExactSchedule, buildSchedule } from './schedule.js';
export type { Installment, RepaymentMethod, Schedule, ScheduleInput } from './schedule.js';
export { PREPAYMENT_MODES, accrueOverdue, applyRepayment, newAccrualState, owedOn } from './settlement.js';
export type { AccrualLoanState, AccrualTerms, InstallmentState, Owed, PrepaymentMode } from './settlement.js';
export { sha256Hex } from './sha256.js';
