import { isoDay } from './clock.js';
import { actualDays, dayNumberOf, daysInYear, type DayCountBasis } from './day-count.js';
import { LgError } from './errors.js';
import { divRoundHalfUp } from './money.js';

/**
 * Daily interest accrual (按日计息). Stated convention: each day after the draw date (the draw date itself is day 0
 * and bears nothing) accrues the principal outstanding at its start — before any repayment made that day — ×
 * annualRate / days-in-year, rounded half-up to the minor unit, in exact integer arithmetic. So money drawn and repaid
 * the same day costs no interest, and money repaid after 10 days costs exactly 10 days. Because a day's
 * accrual is a whole number of minor units, the interest of any span is exactly the sum of its days' accruals, and a
 * span split at any date adds up to the whole: no cent is lost between an instalment and an early repayment.
 */
const RATE_SCALE = 1_000_000_000_000n; // rates to 12 decimal places, as in schedule.ts

/** The annual rate as an exact integer count of 1e-12. */
export function scaledRate(annualRate: number): bigint {
  if (!Number.isFinite(annualRate) || annualRate < 0 || annualRate > 10) {
    throw new LgError('LG_VALIDATION', 'annualRate must be a finite decimal from 0 to 10', { annualRate });
  }
  return BigInt(Math.round(annualRate * Number(RATE_SCALE)));
}

/** One day's interest on a balance. */
export function dailyInterestMinor(balanceMinor: number, annualRate: number, basis: DayCountBasis): number {
  if (!Number.isSafeInteger(balanceMinor) || balanceMinor < 0) {
    throw new LgError('LG_INVALID_MONEY', 'balanceMinor must be a non-negative integer', { balanceMinor });
  }
  if (balanceMinor === 0) return 0;
  return divRoundHalfUp(
    BigInt(balanceMinor) * scaledRate(annualRate),
    BigInt(daysInYear(basis)) * RATE_SCALE,
  );
}

/** Interest on a constant balance over the days after `from` up to and including `to` (0 when `to` <= `from`). */
export function accrueMinor(
  balanceMinor: number,
  annualRate: number,
  basis: DayCountBasis,
  span: { from: string; to: string },
): number {
  const days = actualDays(span.from, span.to);
  return days <= 0 ? 0 : days * dailyInterestMinor(balanceMinor, annualRate, basis);
}

/** The daily rate as a decimal (0.0005 = 0.05%/day), for disclosure: 日利率 = 年利率 / 365. */
export function dailyRate(annualRate: number, basis: DayCountBasis): number {
  return annualRate / daysInYear(basis);
}

/** A day's accrual in a ledger of accruals: the date it is for, the balance, and the interest. */
export interface DailyAccrual {
  readonly date: string;
  readonly balanceMinor: number;
  readonly interestMinor: number;
}

/** Every day's accrual from `from` (excluded) to `to` (included) on a balance that the callback gives per day. */
export function dailyAccruals(
  span: { from: string; to: string },
  balanceOn: (date: string) => number,
  annualRate: number,
  basis: DayCountBasis,
): DailyAccrual[] {
  const first = dayNumberOf(span.from, 'from') + 1;
  const last = dayNumberOf(span.to, 'to');
  const out: DailyAccrual[] = [];
  for (let day = first; day <= last; day += 1) {
    const date = isoDay(day);
    const balanceMinor = balanceOn(date);
    out.push({ date, balanceMinor, interestMinor: dailyInterestMinor(balanceMinor, annualRate, basis) });
  }
  return out;
}

/**
 * The default cap on penalty interest: overdue principal bears at most the contract rate plus 50% (the PBoC's
 * 银发〔2003〕251号 "逾期贷款罚息利率为借款合同载明的贷款利率水平上加收30%-50%"). A product may state less.
 */
export const PENALTY_MULTIPLIER_MAX = 1.5;

export interface PenaltyTerms {
  readonly annualRate: number;
  /** Total rate on overdue principal as a multiple of the contract rate (1.5 = contract rate + 50%). */
  readonly penaltyMultiplier: number;
  readonly basis: DayCountBasis;
  /** The all-in cap in percent: contract interest plus penalty on overdue principal never exceeds it. */
  readonly aprCapPercent: number;
}

/**
 * The annual rate of the penalty surcharge: overdue principal keeps accruing contract interest and also the
 * surcharge, so its total rate is contract × multiplier — clamped so that the total stays within the all-in cap.
 */
export function penaltySurchargeRate(terms: PenaltyTerms): number {
  const multiplier = Math.min(Math.max(terms.penaltyMultiplier, 1), PENALTY_MULTIPLIER_MAX);
  const wanted = terms.annualRate * (multiplier - 1);
  const room = Math.max(0, terms.aprCapPercent / 100 - terms.annualRate);
  return Math.min(wanted, room);
}

/** Overdue-principal facts the penalty needs: principal still unpaid on each due date. */
export interface OverduePrincipal {
  readonly dueDate: string;
  readonly unpaidPrincipalMinor: number;
}

/** The first day penalty accrues on an instalment: the day after its grace period (due date + grace days + 1). */
export function penaltyStartDay(dueDate: string, graceDays: number): number {
  return dayNumberOf(dueDate, 'dueDate') + graceDays + 1;
}

/**
 * Penalty interest for the days after `from` up to and including `to`: each day, the surcharge on the principal of
 * every instalment whose grace period ended before that day. The unpaid principal is constant over the span (every
 * repayment accrues the penalty to its date before it changes principal).
 */
export function accruePenaltyMinor(
  items: readonly OverduePrincipal[],
  span: { from: string; to: string },
  terms: PenaltyTerms & { graceDays: number },
): number {
  const rate = penaltySurchargeRate(terms);
  if (rate === 0) return 0;
  const first = dayNumberOf(span.from, 'from') + 1;
  const last = dayNumberOf(span.to, 'to');
  let total = 0;
  for (const item of items) {
    if (item.unpaidPrincipalMinor <= 0) continue;
    const start = Math.max(first, penaltyStartDay(item.dueDate, terms.graceDays));
    if (start > last) continue;
    total += (last - start + 1) * dailyInterestMinor(item.unpaidPrincipalMinor, rate, terms.basis);
  }
  return total;
}
