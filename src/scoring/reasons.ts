/**
 * Which catalogue reason code (src/domain/reason-codes.ts) a model feature reports when it costs an applicant points.
 * Features without a specific code use R_SCORE_LOW (the generic "overall score below cut-off"); the readable text
 * (feature and bin) still names the feature. Matching is by column name, case-insensitive, for the bundled data sets
 * (German Statlog names, modeldata credit_data names); training can override the map.
 */
import { isKnownReason } from '../domain/reason-codes.js';

export const GENERIC_SCORE_REASON = 'R_SCORE_LOW';

export const DEFAULT_FEATURE_REASONS: Readonly<Record<string, string>> = {
  // German credit (Statlog / caret names)
  checkingaccountstatus: 'R_CHECKING_ACCOUNT',
  credithistory: 'R_CREDIT_HISTORY',
  duration: 'R_LOAN_DURATION',
  amount: 'R_LOAN_AMOUNT',
  savingsaccountbonds: 'R_SAVINGS_LOW',
  housing: 'R_HOUSING',
  purpose: 'R_PURPOSE',
  employmentduration: 'R_EMPLOYMENT_SHORT',
  // credit_data (modeldata names)
  seniority: 'R_EMPLOYMENT_SHORT',
  home: 'R_HOUSING',
  time: 'R_LOAN_DURATION',
  income: 'R_INCOME_INSUFFICIENT',
  debt: 'R_DEBT_TO_INCOME_HIGH',
  records: 'R_DELINQUENT_EXTERNAL',
};

export function reasonCodeFor(feature: string, overrides: Readonly<Record<string, string>> = {}): string {
  const code = overrides[feature] ?? DEFAULT_FEATURE_REASONS[feature.toLowerCase()] ?? GENERIC_SCORE_REASON;
  // A code nobody can explain to a borrower is a configuration error, caught at training time, not at decision time.
  if (!isKnownReason(code))
    throw new Error(`reason code ${code} for feature ${feature} is not in the catalogue`);
  return code;
}
