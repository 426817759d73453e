/**
 * The self-contained model file (JSON). Everything needed to score is inside: feature types, bins, points or trees,
 * scaling. Training figures (metrics, data hash, parameters) travel with it for governance (SR 11-7 style model
 * inventory). Loading and scoring never needs the training data.
 */
import type { FeatureBinning } from './binning.js';
import type { ModelMetrics } from './metrics.js';
import type { Scaling } from './scaling.js';
import type { FeatureType } from './dataset.js';
import type { DirectionalReasonCodes } from './reasons.js';
import type { Calibration } from './calibration.js';

export const MODEL_FORMAT = 'lineguard.model' as const;
export const MODEL_FORMAT_VERSION = 1;
/** Version of the scoring toolkit that wrote a file (bump when training logic changes numbers). */
export const TOOLKIT_VERSION = '1.0.0';

export type ModelKind = 'scorecard' | 'gbdt';

export interface ModelFeature {
  readonly name: string;
  readonly type: FeatureType;
  /** Neutral catalogue reason code reported when this feature costs points (names the factor, claims no direction). */
  readonly reasonCode: string;
  /** Directional codes, cited only where true of the applicant's own value (see reasons.ts). */
  readonly reasonCodes?: DirectionalReasonCodes;
  /** WOE binning: the scorecard's bins; for GBDT the readable bins used for reason texts, reports and CSI. */
  readonly binning: FeatureBinning;
}

export interface ScorecardFeaturePart {
  readonly name: string;
  readonly coefficient: number;
  /** Integer points per bin slot: regular bins, then missing, then unseen. */
  readonly points: readonly number[];
}

export interface ScorecardPart {
  /** Logistic regression on WOE: logit(pd) = intercept + Σ coefficient · WOE. */
  readonly intercept: number;
  /** Integer points every applicant starts with; score = basePoints + Σ bin points. */
  readonly basePoints: number;
  readonly features: readonly ScorecardFeaturePart[];
}

/** How a GBDT feature's raw value becomes a histogram bin; `missing` is the bin index of missing/unseen values. */
export type GbdtEncoder =
  | { readonly type: 'numeric'; readonly cuts: readonly number[]; readonly missing: number }
  | {
      readonly type: 'categorical';
      readonly levels: Readonly<Record<string, number>>;
      readonly missing: number;
    };

/** A tree node: an internal node when `feature` is set (go left when bin <= threshold). */
export interface TreeNode {
  readonly feature?: number;
  readonly threshold?: number;
  readonly missingLeft?: boolean;
  readonly left?: number;
  readonly right?: number;
  /** Margin this node would add as a leaf (learning rate applied); internal values feed Saabas contributions. */
  readonly value: number;
}

export interface GbdtPart {
  /** Starting log-odds of bad (the training bad rate). */
  readonly baseMargin: number;
  readonly encoders: readonly GbdtEncoder[];
  /** Trees as node arrays; node 0 is the root. */
  readonly trees: readonly (readonly TreeNode[])[];
}

export interface FeatureSelectionEntry {
  readonly feature: string;
  readonly type: FeatureType;
  readonly iv: number;
  readonly selected: boolean;
  readonly reason: string;
}

export interface TuningInfo {
  readonly method: string;
  readonly folds: number;
  /** The chosen settings and their mean fold AUC. */
  readonly chosen: Readonly<Record<string, unknown>>;
  readonly meanAuc: number;
  readonly candidates: readonly TuneCandidate[];
}

export interface CalibrationInfo {
  /** The method fitted (for `auto`, the one chosen). */
  readonly method: 'platt' | 'isotonic';
  /** What was asked for: platt, isotonic or auto (absent in files written before auto existed). */
  readonly requested?: 'platt' | 'isotonic' | 'auto';
  readonly folds: number;
  /** Cross-validated Brier score of each method on the out-of-fold predictions (5 folds by margin rank). */
  readonly cvBrier?: Readonly<Record<'platt' | 'isotonic', number>>;
  /** Cross-validated log loss of each method on the same folds (what `auto` chooses by). */
  readonly cvLogLoss?: Readonly<Record<'platt' | 'isotonic', number>>;
  /** Brier score of the out-of-fold predictions before and after calibration. */
  readonly oofBrierBefore: number;
  readonly oofBrierAfter: number;
}

export interface ProtectedInfo {
  /** The protected-attribute list in force (normalised names). */
  readonly list: readonly string[];
  /** Protected columns present in the data and left out of training. */
  readonly excluded: readonly string[];
  /** Protected columns used anyway (--allow-protected). */
  readonly allowed: readonly string[];
}

export interface TrainingInfo {
  readonly dataSha256: string;
  readonly rows: number;
  readonly bads: number;
  readonly seed: number;
  readonly holdoutShare: number;
  readonly trainRows: number;
  readonly holdoutRows: number;
  readonly params: Readonly<Record<string, unknown>>;
  readonly metrics: { readonly train: ModelMetrics; readonly holdout?: ModelMetrics };
  readonly selection: readonly FeatureSelectionEntry[];
  readonly warnings: readonly string[];
  readonly durationMs: number;
  readonly tuning?: TuningInfo;
  readonly calibration?: CalibrationInfo;
  readonly protectedAttributes?: ProtectedInfo;
  /** Columns used for evaluation only (fairness group, time), never as features. */
  readonly evaluationColumns?: { readonly group?: string; readonly time?: string };
  /** GBDT monotone constraints by feature name (+1: PD rises with the value, −1: falls). */
  readonly monotone?: Readonly<Record<string, 1 | -1>>;
}

export interface ModelFileBase {
  readonly format: typeof MODEL_FORMAT;
  readonly formatVersion: number;
  readonly id: string;
  readonly version: number;
  readonly createdAt: string;
  readonly target: { readonly column: string; readonly bad: string };
  readonly scaling: Scaling;
  readonly features: readonly ModelFeature[];
  readonly training: TrainingInfo;
  /** Maps the margin (log-odds of bad) to the reported PD; the score stays on the margin's points scale. */
  readonly calibration?: Calibration;
  readonly software: { readonly name: 'lineguard'; readonly toolkitVersion: string; readonly node: string };
}

export interface ScorecardModelFile extends ModelFileBase {
  readonly kind: 'scorecard';
  readonly scorecard: ScorecardPart;
}

export interface GbdtModelFile extends ModelFileBase {
  readonly kind: 'gbdt';
  readonly gbdt: GbdtPart;
}

export type ModelFile = ScorecardModelFile | GbdtModelFile;

/** One setting tried by cross-validated tuning (tune.ts), as recorded in the model file. */
export interface TuneCandidate {
  readonly params: Readonly<Record<string, number | string>>;
  readonly foldAuc: readonly number[];
  readonly meanAuc: number;
  /** GBDT: the best round of each fold. */
  readonly foldRounds?: readonly number[];
}
