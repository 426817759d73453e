/**
 * The contract between the scoring toolkit and the decision engine: a stored model (scorecard or tree ensemble)
 * scores one applicant's named inputs. The engine's `scorecard` and `model` nodes resolve models by id and version.
 */
export interface ReasonContribution {
  /** Reason code from the catalogue (e.g. R_SCORE_CHECKING_ACCOUNT) or a feature-derived code. */
  readonly code: string;
  readonly feature: string;
  /** Points this applicant lost on this feature against the best attainable (scorecard) or the contribution. */
  readonly pointsLost: number;
}

export interface ModelScore {
  /** Points: higher is safer. */
  readonly score: number;
  /** Probability of bad. */
  readonly pd: number;
  /** Largest point losses first. */
  readonly reasons: readonly ReasonContribution[];
}

export interface ModelScorer {
  readonly id: string;
  readonly version: number;
  readonly kind: 'scorecard' | 'gbdt' | 'logistic';
  /** Input names the model reads. */
  readonly features: readonly string[];
  score(input: Readonly<Record<string, unknown>>): ModelScore;
}

export type ModelResolver = (id: string, version?: number) => ModelScorer | undefined;
