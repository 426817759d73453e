import { LgError } from '../domain/index.js';

/**
 * How a repayment is split (pure). Stated choices:
 * - Instalments already due on the payment date are served first, by component across all of them: every due fee
 *   (oldest first), then every due interest, then every due principal — the usual waterfall (Fineract's
 *   "fee, interest, principal" order), which keeps the borrower's cost of arrears lowest.
 * - Whatever is left prepays the following instalments in date order, each fee, then interest, then principal.
 * - Paying more than everything still scheduled is refused (LG_OVERPAYMENT) rather than kept as a credit balance:
 *   money is never silently kept, and the client returns or re-routes the excess.
 * - A prepayment settles future instalments as scheduled; an interest rebate for early settlement is not modelled.
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

export interface PeriodAllocation {
  period: number;
  feeMinor: number;
  interestMinor: number;
  principalMinor: number;
}

export interface Allocation {
  readonly perPeriod: PeriodAllocation[];
  readonly feeMinor: number;
  readonly interestMinor: number;
  readonly principalMinor: number;
}

type Component = 'fee' | 'interest' | 'principal';

function unpaid(item: AllocationItem, c: Component): number {
  if (c === 'fee') return item.feeMinor - item.paidFeeMinor;
  if (c === 'interest') return item.interestMinor - item.paidInterestMinor;
  return item.principalMinor - item.paidPrincipalMinor;
}

export function remainingMinor(items: readonly AllocationItem[]): number {
  return items.reduce((sum, i) => sum + unpaid(i, 'fee') + unpaid(i, 'interest') + unpaid(i, 'principal'), 0);
}

export function allocateRepayment(
  items: readonly AllocationItem[],
  amountMinor: number,
  paidDate: string,
): Allocation {
  if (!Number.isSafeInteger(amountMinor) || amountMinor <= 0) {
    throw new LgError('LG_INVALID_MONEY', 'amountMinor must be a positive integer of minor units', {
      amountMinor,
    });
  }
  const remaining = remainingMinor(items);
  if (amountMinor > remaining) {
    throw new LgError(
      'LG_OVERPAYMENT',
      `the payment exceeds the ${remaining} minor units still owed on this loan`,
      {
        amountMinor,
        owedMinor: remaining,
      },
    );
  }
  const sorted = [...items].sort((a, b) => a.period - b.period);
  const out = new Map<number, PeriodAllocation>(
    sorted.map((i) => [i.period, { period: i.period, feeMinor: 0, interestMinor: 0, principalMinor: 0 }]),
  );
  let left = amountMinor;
  const take = (item: AllocationItem, c: Component): void => {
    const slot = out.get(item.period);
    if (!slot || left === 0) return;
    const already = c === 'fee' ? slot.feeMinor : c === 'interest' ? slot.interestMinor : slot.principalMinor;
    const x = Math.min(left, unpaid(item, c) - already);
    if (x <= 0) return;
    if (c === 'fee') slot.feeMinor += x;
    else if (c === 'interest') slot.interestMinor += x;
    else slot.principalMinor += x;
    left -= x;
  };
  const due = sorted.filter((i) => i.dueDate <= paidDate);
  for (const c of ['fee', 'interest', 'principal'] as const) for (const item of due) take(item, c);
  for (const item of sorted) for (const c of ['fee', 'interest', 'principal'] as const) take(item, c);
  const perPeriod = [...out.values()].filter((p) => p.feeMinor + p.interestMinor + p.principalMinor > 0);
  return {
    perPeriod,
    feeMinor: perPeriod.reduce((s, p) => s + p.feeMinor, 0),
    interestMinor: perPeriod.reduce((s, p) => s + p.interestMinor, 0),
    principalMinor: perPeriod.reduce((s, p) => s + p.principalMinor, 0),
  };
}
