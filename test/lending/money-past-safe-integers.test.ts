import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  assertExactSchedule,
  buildSchedule,
  feeFor,
  LgError,
  type ScheduleInput,
} from '../../src/domain/index.js';
import { ADULT, type makeCore } from '../core/harness.js';
import { lendingEnv, type LendingEnv } from './helpers.js';

/**
 * Money is an integer count of minor units, never a float (domain/money.ts): nothing past Number.MAX_SAFE_INTEGER
 * (2^53 - 1). A draw whose amount is a safe integer but whose total repayable is not cannot be booked exactly, so
 * it is refused (400 LG_INVALID_SCHEDULE, the schedule's own validation code) and nothing is written. The borrower cap
 * is configuration, so a line that large can exist.
 */
const AMOUNT = 9_000_000_000_000_000; // < 2^53 - 1 = 9,007,199,254,740,991
const BIG_DRAW = { amountMinor: AMOUNT, currency: 'CNY', termMonths: 12, method: 'EQUAL_INSTALLMENT' };

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return e instanceof LgError ? e.code : 'not an LgError';
  }
  return undefined;
}

describe('a loan whose totals pass 2^53, over HTTP', () => {
  let env: LendingEnv;
  const core: Parameters<typeof makeCore>[1] = { borrowerCapMinor: Number.MAX_SAFE_INTEGER };
  beforeEach(async () => {
    env = await lendingEnv(undefined, undefined, core);
  });
  afterEach(async () => env.close());
  const post = (url: string, payload: unknown) =>
    env.app.inject({ method: 'POST', url, headers: env.headers(), payload: payload as object });

  async function bigLine(): Promise<string> {
    env.h.engine.script.application = () => ({ outcome: 'APPROVE', limitMinor: AMOUNT, annualRate: 0.18 });
    const res = await post('/v1/applications', { applicant: ADULT, attributes: {} });
    expect(res.statusCode, res.body).toBe(201);
    return res.json().line.id as string;
  }

  it('the draw is refused with 400 LG_INVALID_SCHEDULE and nothing is booked', async () => {
    const lineId = await bigLine();
    const res = await post(`/v1/lines/${lineId}/draws`, BIG_DRAW);
    expect(res.statusCode, res.body).toBe(400);
    expect(res.json().error.code).toBe('LG_INVALID_SCHEDULE');
    const line = await env.app.inject({
      method: 'GET',
      url: `/v1/lines/${lineId}`,
      headers: env.headers(false),
    });
    expect(line.json().availableMinor).toBe(AMOUNT);
  });

  it('the quote is refused the same way', async () => {
    const res = await post(`/v1/lines/${await bigLine()}/quotes`, BIG_DRAW);
    expect(res.statusCode, res.body).toBe(400);
    expect(res.json().error.code).toBe('LG_INVALID_SCHEDULE');
  });

  it('a draw on the same line whose totals stay below 2^53 is still booked, to the fen', async () => {
    const res = await post(`/v1/lines/${await bigLine()}/draws`, {
      ...BIG_DRAW,
      amountMinor: 8_000_000_000_000_000,
    });
    expect(res.statusCode, res.body).toBe(201);
    const loan = res.json().loan as {
      disclosure: { totalRepayableMinor: number };
      schedule: { totalMinor: number }[];
    };
    const exact = loan.schedule.reduce((s, i) => s + BigInt(i.totalMinor), 0n);
    expect(BigInt(loan.disclosure.totalRepayableMinor)).toBe(exact);
  });
});

describe('assertExactSchedule refuses the totals a number cannot hold exactly', () => {
  const exact = (input: ScheduleInput) => assertExactSchedule(buildSchedule(input));
  const base: ScheduleInput = {
    principalMinor: AMOUNT,
    annualRate: 0.18,
    termMonths: 12,
    method: 'EQUAL_INSTALLMENT',
    startDate: '2025-03-01',
  };

  it.each(['EQUAL_INSTALLMENT', 'EQUAL_PRINCIPAL', 'INTEREST_ONLY', 'DAILY_INTEREST'] as const)(
    '%s, monthly and daily-accrual alike',
    (method) => {
      expect(codeOf(() => exact({ ...base, method }))).toBe('LG_INVALID_SCHEDULE');
      expect(codeOf(() => exact({ ...base, method, dayCount: 'ACT_360' }))).toBe('LG_INVALID_SCHEDULE');
    },
  );

  it('the fees’ total too: an up-front fee on top of periodic fees whose repayable total still fits', () => {
    const periodicFeeMinor = Math.floor((Number.MAX_SAFE_INTEGER - 1) / 12);
    const input = { ...base, principalMinor: 1, annualRate: 0, periodicFeeMinor };
    expect(Number.isSafeInteger(buildSchedule(input).totalRepayableMinor)).toBe(true);
    expect(codeOf(() => exact({ ...input, upfrontFeeMinor: 1_000_000 }))).toBe('LG_INVALID_SCHEDULE');
  });

  it('a large loan whose totals fit is built, every total exact', () => {
    const s = exact({ ...base, principalMinor: 8_000_000_000_000_000 });
    const sum = s.installments.reduce((total, i) => total + BigInt(i.totalMinor), 0n);
    expect(BigInt(s.totalRepayableMinor)).toBe(sum);
  });
});

describe('feeFor is exact past 2^53 of principal × basis points', () => {
  it('rounds half-up on the exact product, where the float product was one fen off', () => {
    // 3 × 7,000,000,000,008,333 = 21,000,000,000,024,999: as a float it is …025,000, so the float rule gave 3 for .9999.
    const rule = { rateBps: 3, capMinor: Number.MAX_SAFE_INTEGER };
    expect(feeFor(rule, 7_000_000_000_008_333)).toBe(2_100_000_000_002);
  });

  it('keeps the everyday figures: half-up to the fen, never above the cap', () => {
    expect(feeFor({ rateBps: 150, capMinor: 1_000_000 }, 1_000_000)).toBe(15_000);
    expect(feeFor({ rateBps: 1, capMinor: 1_000_000 }, 5_000)).toBe(1); // 0.5 rounds up
    expect(feeFor({ rateBps: 1, capMinor: 1_000_000 }, 4_999)).toBe(0);
    expect(feeFor({ rateBps: 150, capMinor: 10_000 }, 1_000_000)).toBe(10_000);
  });
});
