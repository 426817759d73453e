import type { ModelScorer } from '../../src/domain/model.js';
import type { StrategyDocument } from '../../src/engine/types.js';

/**
 * The bundled application strategy refers an applicant missing any characteristic the bundled scorecard scores
 * (thin file); the stand-in below reads only three of them. Contexts meant to be scored send the rest as these.
 */
export const OTHER_SCORED_CHARACTERISTICS = {
  Amount: 2000,
  SavingsAccountBonds: '100.to.500',
  Purpose: 'Furniture.Equipment',
  EmploymentDuration: '1.to.4',
  Property: 'CarOther',
  OtherInstallmentPlans: 'None',
  Housing: 'Own',
  InstallmentRatePercentage: 3,
} as const;

/** A stand-in for the scoring helper's stored `application-scorecard`: linear in a few German-credit features. */
export const applicationScorecard: ModelScorer = {
  id: 'application-scorecard',
  version: 1,
  kind: 'scorecard',
  features: ['CheckingAccountStatus', 'Duration', 'CreditHistory'],
  score(input) {
    const checking =
      { 'lt.0': 0, '0.to.200': 20, 'gt.200': 40, none: 60 }[String(input.CheckingAccountStatus)] ?? 0;
    const history =
      { Critical: 0, Delay: 10, PaidDuly: 30, 'NoCredit.AllPaid': 40, 'ThisBank.AllPaid': 40 }[
        String(input.CreditHistory)
      ] ?? 0;
    const duration = Math.max(0, 40 - Number(input.Duration));
    const score = 460 + checking + history + duration;
    return {
      score,
      pd: 1 / (1 + Math.exp((score - 487) / 28.85)),
      reasons: [
        { code: 'R_CHECKING_ACCOUNT', feature: 'CheckingAccountStatus', pointsLost: 60 - checking },
        { code: 'R_CREDIT_HISTORY', feature: 'CreditHistory', pointsLost: 40 - history },
        { code: 'R_LOAN_DURATION', feature: 'Duration', pointsLost: 40 - duration },
      ],
    };
  },
};

/** The smallest useful strategy: decline when `score` is under the cutoff (one first-hit rule). */
export function gateStrategy(cutoff: number): StrategyDocument {
  return {
    id: 'gate',
    inputs: [{ name: 'score', type: 'number', required: true }],
    nodes: [
      {
        id: 'cut',
        type: 'ruleSet',
        mode: 'first-hit',
        rules: [{ id: 'LOW', when: `score < ${cutoff}`, outcome: 'DECLINE', reasons: ['R_SCORE_LOW'] }],
      },
    ],
  };
}
