import type { ModelResolver, ModelScorer } from '../../src/domain/index.js';
import type { RunEnv } from '../../src/engine/index.js';

/**
 * A tiny logistic "scorecard" for tests: score = 600 - 20*log2(odds_bad) style scaling of a linear term, with
 * reasons from the features that pushed the score down. Deterministic and small so expected values are hand-checkable.
 */
export function fakeScorer(id = 'test-scorecard', version = 1): ModelScorer {
  return {
    id,
    version,
    kind: 'logistic',
    features: ['income', 'delinquencies'],
    score(input) {
      const income = Number(input.income ?? NaN);
      const delinquencies = Number(input.delinquencies ?? NaN);
      if (!Number.isFinite(income) || !Number.isFinite(delinquencies)) throw new Error('missing feature');
      const incomeLoss = Math.max(0, 60 - income / 1000);
      const delinquencyLoss = delinquencies * 40;
      const score = 700 - incomeLoss - delinquencyLoss;
      const pd = 1 / (1 + Math.exp((score - 500) / 28.85));
      return {
        score,
        pd,
        reasons: [
          { code: 'R_INCOME_INSUFFICIENT', feature: 'income', pointsLost: incomeLoss },
          { code: 'R_DELINQUENT_EXTERNAL', feature: 'delinquencies', pointsLost: delinquencyLoss },
          { code: 'R_NOT_IN_CATALOGUE', feature: 'x', pointsLost: 1000 },
        ],
      };
    },
  };
}

export function resolverOf(...models: ModelScorer[]): ModelResolver {
  return (id, version) => models.find((m) => m.id === id && (version === undefined || m.version === version));
}

export function envOf(partial: Partial<RunEnv> = {}): RunEnv {
  return { params: {}, models: resolverOf(fakeScorer()), ...partial };
}
