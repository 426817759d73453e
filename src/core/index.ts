/** The credit-line core's public face: applications, lines, draws, loans, jobs, and the demo seed. */
import type { ReasonLang } from '../domain/reason-codes.js';
import type { CoreDeps } from './deps.js';
import { submitApplication, type ApplicationInput, type ApplicationResult } from './applications.js';
import { applyLineAction, type LineActionInput, type LineActionResult } from './lines.js';
import { requestDraw, type DrawInput, type DrawResult } from './draws.js';
import { readLoan, repay, type LoanView, type RepaymentInput, type RepaymentResult } from './loans.js';
import { runDailyJob, runReviewJob, type DailyJobResult, type ReviewJobResult } from './jobs.js';
import { explainLine, readLine, type LineExplanation, type LineView } from './views.js';
import { rekeyBorrowers, type RekeyResult } from './borrowers.js';

export const APPEAL_DAYS_DEFAULT = 30;

export interface CoreServices {
  readonly deps: CoreDeps;
  submitApplication(input: ApplicationInput): Promise<ApplicationResult>;
  getLine(id: string): Promise<LineView>;
  explainLine(id: string, lang: ReasonLang): Promise<LineExplanation>;
  /** The monitor's and the review job's entry point; automated restrictive actions pass the blast-radius guard. */
  applyLineAction(lineId: string, input: LineActionInput): Promise<LineActionResult>;
  requestDraw(lineId: string, input: DrawInput): Promise<DrawResult>;
  getLoan(id: string): Promise<LoanView>;
  repay(loanId: string, input: RepaymentInput): Promise<RepaymentResult>;
  runDailyJob(asOf: string): Promise<DailyJobResult>;
  runReviewJob(asOf: string): Promise<ReviewJobResult>;
  /** Key rotation: re-seals borrowers' personal data that a retired key sealed (see rekeyBorrowers). */
  rekeyBorrowers(pageSize?: number): Promise<RekeyResult>;
}

export function createCoreServices(deps: CoreDeps): CoreServices {
  const appealDays = deps.config.appealDays ?? APPEAL_DAYS_DEFAULT;
  return {
    deps,
    submitApplication: (input) => submitApplication(deps, input),
    getLine: (id) => readLine(deps.store.db, deps.store.kind, deps.crypto, id),
    explainLine: (id, lang) => explainLine(deps.store.db, deps.store.kind, id, lang, appealDays),
    applyLineAction: (lineId, input) => applyLineAction(deps, lineId, input),
    requestDraw: (lineId, input) => requestDraw(deps, lineId, input),
    getLoan: (id) => readLoan(deps, id),
    repay: (loanId, input) => repay(deps, loanId, input),
    runDailyJob: (asOf) => runDailyJob(deps, asOf),
    runReviewJob: (asOf) => runReviewJob(deps, asOf),
    rekeyBorrowers: (pageSize) => rekeyBorrowers(deps, pageSize),
  };
}

export type { CoreDeps, CoreEngine, CoreConfig, DecisionRecord, DrawSignalInput, GuardTrip } from './deps.js';
export { CORE_EVENTS_TOPIC } from './deps.js';
export type { ApplicationInput, ApplicationResult } from './applications.js';
export type { LineActionInput, LineActionResult } from './lines.js';
export type { DrawInput, DrawResult, DrawStatus } from './draws.js';
export { ANTI_SCAM_WARNING } from './draws.js';
export type { LoanView, RepaymentInput, RepaymentResult } from './loans.js';
export type { DailyJobResult, ReviewJobResult } from './jobs.js';
export type { RekeyResult } from './borrowers.js';
export type { LineExplanation, LineView } from './views.js';
export type { CoreEvent } from './events.js';
export { coreEngineFromService } from './engine-port.js';
export { seedDemo, type SeedResult } from './seed.js';
export { runDailyJob, runReviewJob } from './jobs.js';
export type { ApplicationBureauPort, ApplicationPull } from './bureau-gate.js';
