import {
  aprCapCheck,
  assertExactSchedule,
  buildSchedule,
  lenderDayOf,
  loanDisclosure,
} from '../domain/index.js';
import type { LoanDisclosure, RepaymentMethod, Schedule, ScheduleInput } from '../domain/index.js';
import type { CoreDeps } from './deps.js';
import {
  allInBreakdown,
  aprCapFor,
  scheduleInputFor,
  type AllInBreakdown,
  type LineTerms,
} from './products.js';

/**
 * The one pricing of a loan on a line: what a draw books, what a held draw's release books, what a quote shows (the
 * quote must be the loan the draw books, to the fen) and what a line's rate is judged on (line-price.ts). The
 * product's day count and fees and the partners' fees are priced into the schedule (scheduleInputFor), so every APR
 * and the all-in cap see them.
 */

/** A loan on the line: what was asked, at a rate, with a draw strategy's own fees if it set any. */
export interface LoanToPrice {
  readonly input: {
    readonly amountMinor: number;
    readonly currency: string;
    readonly termMonths: number;
    readonly method: RepaymentMethod;
  };
  readonly annualRate: number;
  readonly upfrontFeeMinor?: number;
  readonly periodicFeeMinor?: number;
}

/**
 * The schedule a loan on the line books, starting today (the lender's calendar). Without the disclosures: judging a
 * line's rate prices up to 1,440 loans and needs only the cap's (capDisclosure). A loan whose totals pass 2^53 - 1
 * cannot be booked to the fen and is refused here, before anything is written (400 LG_INVALID_SCHEDULE).
 */
export function drawSchedule(
  deps: CoreDeps,
  line: LineTerms,
  loan: LoanToPrice,
  now: number,
): { startDate: string; scheduleInput: ScheduleInput; schedule: Schedule } {
  const startDate = lenderDayOf(deps.config, now);
  const scheduleInput = scheduleInputFor(line, {
    principalMinor: loan.input.amountMinor,
    annualRate: loan.annualRate,
    termMonths: loan.input.termMonths,
    method: loan.input.method,
    startDate,
    upfrontFeeMinor: loan.upfrontFeeMinor ?? 0,
    periodicFeeMinor: loan.periodicFeeMinor ?? 0,
    currency: loan.input.currency,
  });
  return { startDate, scheduleInput, schedule: assertExactSchedule(buildSchedule(scheduleInput)) };
}

/** The disclosure the all-in cap is judged on: PBoC's, CN_IRR, every fee in the schedule included. */
export function capDisclosure(schedule: Schedule, startDate: string): LoanDisclosure {
  return loanDisclosure(schedule, { convention: 'CN_IRR', startDate });
}

export interface Priced {
  readonly startDate: string;
  readonly scheduleInput: ScheduleInput;
  readonly schedule: Schedule;
  readonly disclosures: {
    readonly US_REGZ: LoanDisclosure;
    readonly EU_CCD: LoanDisclosure;
    readonly CN_IRR: LoanDisclosure;
  };
  /** The rate the loan is priced at: the one asked, brought into the line's product's range. */
  readonly annualRate: number;
}

/** Schedule and disclosure under all three conventions; the cap is PBoC's, so it is judged on CN_IRR (allInOf). */
export function priceLoan(deps: CoreDeps, line: LineTerms, loan: LoanToPrice, now: number): Priced {
  const { startDate, scheduleInput, schedule } = drawSchedule(deps, line, loan, now);
  const disclosures = {
    US_REGZ: loanDisclosure(schedule, { convention: 'US_REGZ', startDate }),
    EU_CCD: loanDisclosure(schedule, { convention: 'EU_CCD', startDate }),
    CN_IRR: capDisclosure(schedule, startDate),
  };
  return { startDate, scheduleInput, schedule, disclosures, annualRate: scheduleInput.annualRate };
}

/** The priced loan's cost party by party (interest, the product's fees, each partner's) against the line's cap. */
export function allInOf(deps: CoreDeps, line: LineTerms, priced: Priced): AllInBreakdown {
  return allInBreakdown(line, priced.scheduleInput, {
    schedule: priced.schedule,
    annualRate: priced.annualRate,
    aprPercent: priced.disclosures.CN_IRR.apr,
    capPercent: aprCapFor(line, deps.config.aprCapPercent),
  });
}

/** True when the loan's all-in APR is within its cap. */
export function withinCap(allIn: AllInBreakdown): boolean {
  return aprCapCheck(allIn.aprPercent, allIn.capPercent).ok;
}
