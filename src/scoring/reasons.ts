/**
 * Which catalogue reason code (src/domain/reason-codes.ts) a model feature reports when it costs an applicant points.
 *
 * A reason shown to a borrower must be true of that borrower (Reg B 12 CFR 1002.9(b)(2) and its Official
 * Interpretation: the specific reasons must relate to the factors actually scored and be accurate; PIPL Art. 24: a
 * person affected by an automated decision is owed an explanation). So a feature carries a neutral code that names the
 * factor without a direction ("your length of employment affected the assessment"), and optionally directional codes
 * that claim something about the applicant's own value ("you have been in your job for a short time"). A directional
 * code is used only when the claim holds for that applicant, judged from the training evidence of the feature's bins:
 * - `high` / `low`: the feature's bad rate rises (falls) monotonically with its value, the applicant's value lies in a
 *   regular bin, and that bin is riskier than the population (WOE > 0). Seniority 8–12 years with a below-average bad
 *   rate therefore never reads "short", however many points it is short of the best bin;
 * - `levels`: a categorical level that names the claim (`Records = yes` → delinquency on record), only when the
 *   applicant's bin is riskier than the population;
 * - otherwise the neutral code. Missing and unrecognised values always get the neutral code.
 * Matching is by column name, case-insensitive, for the bundled data sets (German Statlog names, modeldata credit_data
 * names); training can override the neutral code per feature.
 */
import { isKnownReason } from '../domain/index.js';
import { allBins, type FeatureBinning } from './binning.js';

export const GENERIC_SCORE_REASON = 'R_SCORE_LOW';

/** Directional codes of a feature (the neutral code lives in ModelFeature.reasonCode). */
export interface DirectionalReasonCodes {
  /** Claimed when a high value is the risk ("the amount is high"). */
  readonly high?: string;
  /** Claimed when a low value is the risk ("your income is insufficient"). */
  readonly low?: string;
  /** Claimed for the applicant's own categorical level. */
  readonly levels?: Readonly<Record<string, string>>;
}

export interface FeatureReasonSpec extends DirectionalReasonCodes {
  readonly neutral: string;
}

export const DEFAULT_FEATURE_REASONS: Readonly<Record<string, FeatureReasonSpec>> = {
  // German credit (Statlog / caret names)
  checkingaccountstatus: { neutral: 'R_CHECKING_ACCOUNT' },
  credithistory: { neutral: 'R_CREDIT_HISTORY' },
  duration: { neutral: 'R_LOAN_TERM', high: 'R_LOAN_DURATION' },
  amount: { neutral: 'R_LOAN_AMOUNT_SIZE', high: 'R_LOAN_AMOUNT' },
  savingsaccountbonds: {
    neutral: 'R_SAVINGS_STATUS',
    levels: { 'lt.100': 'R_SAVINGS_LOW', '100.to.500': 'R_SAVINGS_LOW' },
  },
  housing: { neutral: 'R_HOUSING' },
  purpose: { neutral: 'R_PURPOSE' },
  employmentduration: { neutral: 'R_EMPLOYMENT_DURATION', levels: { 'lt.1': 'R_EMPLOYMENT_SHORT' } },
  property: { neutral: 'R_PROPERTY' },
  otherinstallmentplans: { neutral: 'R_OTHER_INSTALMENT_PLANS' },
  installmentratepercentage: { neutral: 'R_INSTALMENT_RATE' },
  // credit_data (modeldata names)
  seniority: { neutral: 'R_EMPLOYMENT_DURATION', low: 'R_EMPLOYMENT_SHORT' },
  home: { neutral: 'R_HOUSING' },
  time: { neutral: 'R_LOAN_TERM', high: 'R_LOAN_DURATION' },
  income: { neutral: 'R_INCOME_LEVEL', low: 'R_INCOME_INSUFFICIENT' },
  debt: { neutral: 'R_DEBT_LEVEL', high: 'R_DEBT_TO_INCOME_HIGH' },
  records: { neutral: 'R_CREDIT_RECORDS', levels: { yes: 'R_DELINQUENT_EXTERNAL' } },
};

function checkCode(code: string, feature: string): string {
  // A code nobody can explain to a borrower is a configuration error, caught at training time, not at decision time.
  if (!isKnownReason(code))
    throw new Error(`reason code ${code} for feature ${feature} is not in the catalogue`);
  return code;
}

/** The reason codes of a feature: an override names its neutral code (and drops the built-in directions). */
export function reasonSpecFor(
  feature: string,
  overrides: Readonly<Record<string, string>> = {},
): FeatureReasonSpec {
  const override = overrides[feature];
  if (override !== undefined) return { neutral: checkCode(override, feature) };
  const spec = DEFAULT_FEATURE_REASONS[feature.toLowerCase()] ?? { neutral: GENERIC_SCORE_REASON };
  for (const code of directionalCodes(spec)) checkCode(code, feature);
  checkCode(spec.neutral, feature);
  return spec;
}

/** The neutral code of a feature (kept for callers that need one code per feature). */
export function reasonCodeFor(feature: string, overrides: Readonly<Record<string, string>> = {}): string {
  return reasonSpecFor(feature, overrides).neutral;
}

export function directionalCodes(spec: DirectionalReasonCodes): string[] {
  return [
    ...(spec.high ? [spec.high] : []),
    ...(spec.low ? [spec.low] : []),
    ...Object.values(spec.levels ?? {}),
  ];
}

/**
 * Model files written before directional codes existed carry one code per feature, which may be directional
 * (`R_EMPLOYMENT_SHORT` for Seniority). Read such a file with the built-in spec of the feature when its code is one of
 * that spec's codes, so an old file can no longer tell a long-employed applicant that their job is short. A file
 * trained before the built-in table named a feature's factor carries the generic R_SCORE_LOW for it (the bundled
 * scorecard's Property, OtherInstallmentPlans, InstallmentRatePercentage): read with the built-in spec too, so the
 * borrower is told the factor without retraining.
 */
export function specOfModelFeature(feature: {
  readonly name: string;
  readonly reasonCode: string;
  readonly reasonCodes?: DirectionalReasonCodes;
}): FeatureReasonSpec {
  if (feature.reasonCodes !== undefined) return { ...feature.reasonCodes, neutral: feature.reasonCode };
  const builtIn = DEFAULT_FEATURE_REASONS[feature.name.toLowerCase()];
  if (
    builtIn !== undefined &&
    [GENERIC_SCORE_REASON, builtIn.neutral, ...directionalCodes(builtIn)].includes(feature.reasonCode)
  )
    return builtIn;
  return { neutral: feature.reasonCode };
}

export type RiskDirection = 'rises' | 'falls' | 'none';

/** How the bad rate moves with a numeric feature's value across its regular bins (WOE monotone), else 'none'. */
export function riskDirection(binning: FeatureBinning): RiskDirection {
  if (binning.type !== 'numeric' || binning.bins.length < 2) return 'none';
  const woe = binning.bins.map((b) => b.woe);
  const rises = woe.every((w, k) => k === 0 || w >= woe[k - 1]!);
  const falls = woe.every((w, k) => k === 0 || w <= woe[k - 1]!);
  if (rises === falls) return 'none';
  return rises ? 'rises' : 'falls';
}

/**
 * The code to cite for an applicant whose value falls in `slot` of the feature's binning (`level` is their own
 * categorical level, if any): directional only where the claim is true of that value (see the file comment).
 */
export function reasonCodeForValue(
  spec: FeatureReasonSpec,
  binning: FeatureBinning,
  slot: number,
  level?: string,
): string {
  if (slot >= binning.bins.length) return spec.neutral;
  const riskier = allBins(binning)[slot]!.woe > 0;
  if (!riskier) return spec.neutral;
  if (level !== undefined && spec.levels !== undefined && Object.hasOwn(spec.levels, level))
    return spec.levels[level]!;
  const direction = riskDirection(binning);
  if (direction === 'rises' && spec.high !== undefined) return spec.high;
  if (direction === 'falls' && spec.low !== undefined) return spec.low;
  return spec.neutral;
}
