import {
  accrueMinor,
  actualDays,
  DEFAULT_DAY_COUNT,
  LgError,
  monthlyInterestForDaysMinor,
  monthlyInterestMinor,
  type DayCountBasis,
} from '../domain/index.js';

/**
 * How a repayment of a loan without a product is split (pure): a monthly loan (the 30/360 schedule of
 * domain/schedule.ts), or a DAILY_INTEREST one (one instalment at maturity bearing the daily accrual, ACT/365).
 * Stated choices:
 * - Instalments already due on the payment date are served first, by component across all of them: every due fee
 *   (oldest first), then every due interest, then every due principal — the usual waterfall (Fineract's
 *   "fee, interest, principal" order), which keeps the borrower's cost of arrears lowest. A due instalment is owed
 *   as scheduled: its period has run.
 * - Whatever is left is a prepayment of principal, never interest paid in advance. It is taken from the last
 *   instalments first (the term shortens; the instalments before keep their dates and principal), and from the day
 *   it is paid that principal bears no interest:
 *   - the current period (begun, not yet due) keeps its interest less the interest the prepaid principal would have
 *     borne for the period's days not yet elapsed (the period's monthly interest on it × unelapsed / period days; on
 *     a DAILY_INTEREST loan, the daily accrual it would have borne for those days, domain/accrual.ts);
 *   - a period not yet begun bears the monthly interest of its new opening balance; one whose balance is all
 *     prepaid is gone, with its interest and its fee.
 *   A full repayment is the case where all principal is prepaid: interest to the day, none for periods not begun,
 *   no fee for an instalment not yet due (as on a daily-accrual loan, domain/settlement.ts owedOn). payoffOn says
 *   what that costs on a date, by the same steps the repayment takes, so the quoted payoff settles the loan to the
 *   fen. The regulator's rule behind it: interest is charged for the time the borrower had the money (按实际使用期限计息).
 * - Only once all principal is repaid does the rest pay the current period's interest to the day.
 * - Paying more than the payoff is refused (LG_OVERPAYMENT) rather than kept as a credit balance: money is never
 *   silently kept, and the client returns or re-routes the excess.
 * - Interest or a fee already paid is never taken back: an instalment's interest is never cut below what was paid
 *   on it (loans repaid in advance under the earlier rule keep what they paid).
 */
export interface AllocationItem {
  readonly period: number;
  readonly dueDate: string;
  readonly feeMinor: number;
  readonly interestMinor: number;
  readonly principalMinor: number;
  readonly paidFeeMinor: number;
  readonly paidInterestMinor: number;
  readonly paidPrincipalMinor: number;
}

/** What the interest of a loan without a product is computed from: period 1 runs from the start date. */
export interface ScheduledTerms {
  readonly startDate: string;
  readonly annualRate: number;
  /**
   * Set on a DAILY_INTEREST loan: its instalment's interest is the daily accrual on this basis, not a month's
   * interest, so a prepayment saves the accrual for the days not yet elapsed. Unset: the monthly 30/360 convention.
   */
  readonly dailyAccrual?: DayCountBasis;
}

/**
 * The terms of a loan without a product, from its method as booked (a RepaymentMethod; the loan row holds it as a
 * string): a DAILY_INTEREST loan's schedule accrues by the day (domain/schedule.ts), every other by the month.
 */
export function scheduledTermsFor(startDate: string, annualRate: number, method: string): ScheduledTerms {
  return method === 'DAILY_INTEREST'
    ? { startDate, annualRate, dailyAccrual: DEFAULT_DAY_COUNT }
    : { startDate, annualRate };
}

/** A schedule's instalments as allocation items, nothing paid yet (a loan as booked, or a quote's). */
export function unpaidItems(
  installments: readonly Pick<
    AllocationItem,
    'period' | 'dueDate' | 'feeMinor' | 'interestMinor' | 'principalMinor'
  >[],
): AllocationItem[] {
  return installments.map((i) => ({
    period: i.period,
    dueDate: i.dueDate,
    feeMinor: i.feeMinor,
    interestMinor: i.interestMinor,
    principalMinor: i.principalMinor,
    paidFeeMinor: 0,
    paidInterestMinor: 0,
    paidPrincipalMinor: 0,
  }));
}

export interface PeriodAllocation {
  period: number;
  feeMinor: number;
  interestMinor: number;
  principalMinor: number;
}

/** A not-yet-due instalment whose interest or fee a prepayment changed: its new amounts. */
export interface Reshaped {
  readonly period: number;
  readonly interestMinor: number;
  readonly feeMinor: number;
}

export interface Allocation {
  readonly perPeriod: PeriodAllocation[];
  readonly feeMinor: number;
  readonly interestMinor: number;
  readonly principalMinor: number;
  /** Principal paid before its due date (part of principalMinor). */
  readonly prepaidPrincipalMinor: number;
  readonly reshaped: Reshaped[];
}

/** What repaying the loan in full on a date costs, by component. */
export interface ScheduledPayoff {
  readonly date: string;
  readonly feeMinor: number;
  readonly interestMinor: number;
  readonly principalMinor: number;
  readonly payoffMinor: number;
}

type Component = 'fee' | 'interest' | 'principal';
type Row = { -readonly [K in keyof AllocationItem]: AllocationItem[K] };

function unpaid(item: AllocationItem, c: Component): number {
  if (c === 'fee') return item.feeMinor - item.paidFeeMinor;
  if (c === 'interest') return item.interestMinor - item.paidInterestMinor;
  return item.principalMinor - item.paidPrincipalMinor;
}

/** Everything still scheduled, as if each instalment were paid on its due date. */
export function remainingMinor(items: readonly AllocationItem[]): number {
  return items.reduce((sum, i) => sum + unpaid(i, 'fee') + unpaid(i, 'interest') + unpaid(i, 'principal'), 0);
}

/** Pays into one component of a row; returns what it took. */
function pay(row: Row, c: Component, amountMinor: number): number {
  const x = Math.min(amountMinor, unpaid(row, c));
  if (x <= 0) return 0;
  if (c === 'fee') row.paidFeeMinor += x;
  else if (c === 'interest') row.paidInterestMinor += x;
  else row.paidPrincipalMinor += x;
  return x;
}

/** The instalments not yet due on `date`, in date order; the first is the current period's. */
function notDue(rows: readonly Row[], date: string): Row[] {
  return rows.filter((r) => r.dueDate > date);
}

/** The current period's days: elapsed and in all, from the previous due date (or the start) to its due date. */
function currentPeriodDays(
  rows: readonly Row[],
  current: Row,
  terms: ScheduledTerms,
  date: string,
): { unelapsed: number; periodDays: number } {
  const previous = rows.filter((r) => r.dueDate < current.dueDate).at(-1);
  const from = previous?.dueDate ?? terms.startDate;
  const periodDays = Math.max(1, actualDays(from, current.dueDate));
  return { unelapsed: Math.min(periodDays, actualDays(date, current.dueDate)), periodDays };
}

/**
 * What a prepayment on `date` takes off the current period's interest: the interest the prepaid principal would
 * have borne for the period's days not yet elapsed. On a daily-accrual loan each day bears its own rounded accrual on
 * the balance (domain/accrual.ts), so what is saved is the accrual on the balance before less that on the balance
 * after: the instalment then holds exactly the sum of its days' accruals.
 */
function rebateOf(
  rows: readonly Row[],
  current: Row,
  terms: ScheduledTerms,
  prepaid: { date: string; beforeMinor: number; afterMinor: number },
): number {
  const basis = terms.dailyAccrual;
  if (basis !== undefined) {
    const span = { from: prepaid.date, to: current.dueDate };
    const accrued = (balance: number) => accrueMinor(balance, terms.annualRate, basis, span);
    return accrued(prepaid.beforeMinor) - accrued(prepaid.afterMinor);
  }
  const days = currentPeriodDays(rows, current, terms, prepaid.date);
  return monthlyInterestForDaysMinor(prepaid.beforeMinor - prepaid.afterMinor, terms.annualRate, {
    days: days.unelapsed,
    periodDays: days.periodDays,
  });
}

/** The interest of a period not yet begun on its opening balance: a month's, or the accrual for its days. */
function periodInterest(
  openingMinor: number,
  terms: ScheduledTerms,
  span: { from: string; to: string },
): number {
  return terms.dailyAccrual === undefined
    ? monthlyInterestMinor(openingMinor, terms.annualRate)
    : accrueMinor(openingMinor, terms.annualRate, terms.dailyAccrual, span);
}

/**
 * After `prepaidMinor` of principal was paid on `date` (already marked on the rows): the current period loses the
 * prepaid principal's interest for its unelapsed days; the periods not begun bear interest on their new opening
 * balances; an instalment left with no balance owes no fee. Returns the rows it changed.
 */
function reshape(rows: Row[], terms: ScheduledTerms, date: string, prepaidMinor: number): Reshaped[] {
  const ahead = notDue(rows, date);
  const [current] = ahead;
  if (!current || prepaidMinor === 0) return [];
  const changed: Reshaped[] = [];
  let opening = ahead.reduce((s, r) => s + unpaid(r, 'principal'), 0);
  const rebate = rebateOf(rows, current, terms, {
    date,
    beforeMinor: opening + prepaidMinor,
    afterMinor: opening,
  });
  let from = current.dueDate;
  for (const row of ahead) {
    const interest =
      row === current
        ? row.interestMinor - rebate
        : periodInterest(opening, terms, { from, to: row.dueDate });
    const next = {
      interestMinor: Math.max(row.paidInterestMinor, interest),
      feeMinor: opening === 0 ? row.paidFeeMinor : row.feeMinor,
    };
    if (next.interestMinor !== row.interestMinor || next.feeMinor !== row.feeMinor) {
      row.interestMinor = next.interestMinor;
      row.feeMinor = next.feeMinor;
      changed.push({ period: row.period, ...next });
    }
    from = row.dueDate;
    opening -= unpaid(row, 'principal');
  }
  return changed;
}

interface Applied {
  readonly rows: Row[];
  readonly prepaidPrincipalMinor: number;
  readonly reshaped: Reshaped[];
}

/** The whole rule on copies of the rows: due instalments, principal from the back, then interest to the day. */
function apply(
  items: readonly AllocationItem[],
  amountMinor: number,
  terms: ScheduledTerms,
  date: string,
): Applied {
  const rows: Row[] = [...items].sort((a, b) => a.period - b.period).map((i) => ({ ...i }));
  let left = amountMinor;
  const due = rows.filter((r) => r.dueDate <= date);
  for (const c of ['fee', 'interest', 'principal'] as const) for (const row of due) left -= pay(row, c, left);
  const ahead = notDue(rows, date);
  let prepaid = 0;
  for (const row of [...ahead].reverse()) prepaid += pay(row, 'principal', left - prepaid);
  left -= prepaid;
  const reshaped = reshape(rows, terms, date, prepaid);
  // Only with no principal left: what the instalments not yet due still owe after the reshape (interest to the day).
  for (const row of ahead) for (const c of ['fee', 'interest'] as const) left -= pay(row, c, left);
  return { rows, prepaidPrincipalMinor: prepaid, reshaped };
}

/** What each instalment received: the rows after a payment against the items before it. */
function paidPerPeriod(before: readonly AllocationItem[], after: readonly Row[]): PeriodAllocation[] {
  const was = new Map(before.map((i) => [i.period, i]));
  return after
    .map((r) => {
      const b = was.get(r.period);
      return {
        period: r.period,
        feeMinor: r.paidFeeMinor - (b?.paidFeeMinor ?? 0),
        interestMinor: r.paidInterestMinor - (b?.paidInterestMinor ?? 0),
        principalMinor: r.paidPrincipalMinor - (b?.paidPrincipalMinor ?? 0),
      };
    })
    .filter((p) => p.feeMinor + p.interestMinor + p.principalMinor > 0);
}

function total(parts: readonly PeriodAllocation[], c: Component): number {
  return parts.reduce(
    (s, p) => s + (c === 'fee' ? p.feeMinor : c === 'interest' ? p.interestMinor : p.principalMinor),
    0,
  );
}

/** The items after an allocation: what it paid and what its prepayment re-priced. */
export function itemsAfter(items: readonly AllocationItem[], alloc: Allocation): AllocationItem[] {
  const paid = new Map(alloc.perPeriod.map((p) => [p.period, p]));
  const reshaped = new Map(alloc.reshaped.map((r) => [r.period, r]));
  return items.map((i) => {
    const part = paid.get(i.period);
    const terms = reshaped.get(i.period);
    return {
      ...i,
      interestMinor: terms?.interestMinor ?? i.interestMinor,
      feeMinor: terms?.feeMinor ?? i.feeMinor,
      paidFeeMinor: i.paidFeeMinor + (part?.feeMinor ?? 0),
      paidInterestMinor: i.paidInterestMinor + (part?.interestMinor ?? 0),
      paidPrincipalMinor: i.paidPrincipalMinor + (part?.principalMinor ?? 0),
    };
  });
}

/** What repaying the loan in full on `date` costs: exactly what a repayment of that amount that day charges. */
export function payoffOn(
  items: readonly AllocationItem[],
  terms: ScheduledTerms,
  date: string,
): ScheduledPayoff {
  const everything = remainingMinor(items);
  const parts = paidPerPeriod(items, apply(items, everything, terms, date).rows);
  const feeMinor = total(parts, 'fee');
  const interestMinor = total(parts, 'interest');
  const principalMinor = total(parts, 'principal');
  return {
    date,
    feeMinor,
    interestMinor,
    principalMinor,
    payoffMinor: feeMinor + interestMinor + principalMinor,
  };
}

export function allocateRepayment(
  items: readonly AllocationItem[],
  payment: { readonly amountMinor: number; readonly date: string },
  terms: ScheduledTerms,
): Allocation {
  const { amountMinor, date } = payment;
  if (!Number.isSafeInteger(amountMinor) || amountMinor <= 0) {
    throw new LgError('LG_INVALID_MONEY', 'amountMinor must be a positive integer of minor units', {
      amountMinor,
    });
  }
  const owed = payoffOn(items, terms, date).payoffMinor;
  if (amountMinor > owed) {
    throw new LgError('LG_OVERPAYMENT', `the payment exceeds the ${owed} minor units owed today`, {
      amountMinor,
      owedMinor: owed,
    });
  }
  const applied = apply(items, amountMinor, terms, date);
  const perPeriod = paidPerPeriod(items, applied.rows);
  return {
    perPeriod,
    feeMinor: total(perPeriod, 'fee'),
    interestMinor: total(perPeriod, 'interest'),
    principalMinor: total(perPeriod, 'principal'),
    prepaidPrincipalMinor: applied.prepaidPrincipalMinor,
    reshaped: applied.reshaped,
  };
}
