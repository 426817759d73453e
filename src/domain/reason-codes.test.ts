import { describe, expect, it } from 'vitest';
import {
  MAX_BORROWER_REASONS,
  REASON_CODES,
  borrowerReasons,
  getReason,
  isKnownReason,
  sortByPriority,
} from './reason-codes.js';

const REQUIRED = [
  'R_SCORE_LOW',
  'R_AGE_BELOW_MIN',
  'R_INCOME_INSUFFICIENT',
  'R_DEBT_TO_INCOME_HIGH',
  'R_DELINQUENT_EXTERNAL',
  'R_DELINQUENT_INTERNAL',
  'R_INQUIRY_VELOCITY',
  'R_THIN_FILE',
  'R_BLACKLIST',
  'R_IDENTITY_UNVERIFIED',
  'R_EMPLOYMENT_SHORT',
  'R_BORROWER_CAP',
  'R_CHECKING_ACCOUNT',
  'R_CREDIT_HISTORY',
  'R_LOAN_DURATION',
  'R_LOAN_AMOUNT',
  'R_SAVINGS_LOW',
  'R_HOUSING',
  'R_PURPOSE',
  'R_LINE_FROZEN',
  'R_LINE_SUSPENDED',
  'R_LINE_CLOSED',
  'R_INSUFFICIENT_CREDIT',
  'R_DRAW_VELOCITY',
  'R_COOLING_OFF',
  'R_NEW_DEVICE',
  'R_SCAM_TRANSFER_PATTERN',
  'R_ACCOUNT_TAKEOVER',
  'R_DEVICE_FARM',
  'R_CASH_OUT',
  'R_LOAN_STACKING',
  'R_FUND_MISUSE',
  'R_CREDIT_REPORT_ABUSE',
  'R_CALL_IN_PROGRESS',
  'R_UTILISATION_HIGH',
  'R_DAYS_PAST_DUE',
  'R_GOOD_REPAYMENT',
  'R_INCOME_GROWTH',
  'R_LIMIT_REVIEW',
  'R_RISK_RESOLVED',
  'R_ENGINE_ERROR',
  'R_BLAST_RADIUS_GUARD',
  'R_MANUAL_REVIEW',
  'R_CONSENT_MISSING',
  'R_APR_CAP',
  'R_BORROWER_REQUEST',
  'R_FRAUD_CONFIRMED',
];

describe('reason-code catalogue', () => {
  it('holds every required code with complete texts', () => {
    for (const code of REQUIRED) {
      const def = getReason(code);
      expect(def.code).toBe(code);
      for (const text of [def.zh, def.en, def.regulatorReason, def.borrowerActionZh, def.borrowerActionEn]) {
        expect(text.trim().length).toBeGreaterThan(3);
      }
      expect(/[\u4e00-\u9fff]/.test(def.zh)).toBe(true);
      expect(/[\u4e00-\u9fff]/.test(def.borrowerActionZh)).toBe(true);
      expect(Number.isFinite(def.priority)).toBe(true);
    }
  });

  it('uses stable, well-formed keys that match their code field', () => {
    for (const [key, def] of Object.entries(REASON_CODES)) {
      expect(key).toMatch(/^R_[A-Z0-9_]+$/);
      expect(def.code).toBe(key);
      expect(['application', 'draw', 'line', 'fraud', 'engine', 'compliance']).toContain(def.category);
    }
    expect(Object.isFrozen(REASON_CODES)).toBe(true);
  });

  it('regulator reasons are specific (no bare "internal policy")', () => {
    for (const def of Object.values(REASON_CODES)) {
      expect(def.regulatorReason.toLowerCase()).not.toMatch(/^(internal )?(policy|standards)\.?$/);
    }
  });

  it('knows and rejects codes', () => {
    expect(isKnownReason('R_SCORE_LOW')).toBe(true);
    expect(isKnownReason('R_NOPE')).toBe(false);
    expect(isKnownReason('toString')).toBe(false);
    expect(() => getReason('R_NOPE')).toThrow(/unknown reason code R_NOPE/);
  });
});

describe('borrowerReasons', () => {
  it('keeps the caller order, de-duplicates and caps at four', () => {
    const out = borrowerReasons(
      ['R_INQUIRY_VELOCITY', 'R_SCORE_LOW', 'R_INQUIRY_VELOCITY', 'R_THIN_FILE', 'R_HOUSING', 'R_PURPOSE'],
      'en',
    );
    expect(MAX_BORROWER_REASONS).toBe(4);
    expect(out.map((r) => r.code)).toEqual(['R_INQUIRY_VELOCITY', 'R_SCORE_LOW', 'R_THIN_FILE', 'R_HOUSING']);
    expect(out[0]?.text).toBe(REASON_CODES.R_INQUIRY_VELOCITY?.en);
    expect(out[0]?.action).toBe(REASON_CODES.R_INQUIRY_VELOCITY?.borrowerActionEn);
  });

  it('speaks Chinese and honours a smaller max', () => {
    const out = borrowerReasons(['R_LINE_FROZEN', 'R_DAYS_PAST_DUE'], 'zh', 1);
    expect(out).toEqual([
      {
        code: 'R_LINE_FROZEN',
        text: REASON_CODES.R_LINE_FROZEN?.zh,
        action: REASON_CODES.R_LINE_FROZEN?.borrowerActionZh,
        appealable: true,
      },
    ]);
  });

  it('rejects unknown codes even beyond the cap', () => {
    expect(() => borrowerReasons(['R_SCORE_LOW', 'R_A', 'R_B', 'R_C', 'R_UNKNOWN'], 'en')).toThrow(/unknown/);
  });

  it('sortByPriority orders by catalogue priority, stable on ties', () => {
    expect(sortByPriority(['R_HOUSING', 'R_LINE_SUSPENDED', 'R_LINE_FROZEN', 'R_AGE_BELOW_MIN'])).toEqual([
      'R_AGE_BELOW_MIN',
      'R_LINE_SUSPENDED',
      'R_LINE_FROZEN',
      'R_HOUSING',
    ]);
  });
});
