/**
 * Scoring a model file: the one code path behind the CLI `model score`, the training metrics and the engine's
 * ModelScorer, so all three give the same numbers.
 */
import type { ModelScore, ModelScorer, ReasonContribution } from '../domain/model.js';
import { MAX_BORROWER_REASONS } from '../domain/reason-codes.js';
import { binSlotOf, binText } from './binning.js';
import { encodeValue, gbdtContributions } from './gbdt.js';
import { sigmoid } from './logistic.js';
import { parseModelFile } from './validate.js';
import type { GbdtModelFile, ModelFile, ScorecardModelFile } from './model-file.js';
import { scalingConstants } from './scaling.js';

export interface ScoredReason extends ReasonContribution {
  /** Readable feature and bin, e.g. "CheckingAccountStatus = lt.0". */
  readonly text: string;
}

export interface ScoredRow extends ModelScore {
  readonly reasons: readonly ScoredReason[];
}

export interface ModelScorerWithText extends ModelScorer {
  readonly model: ModelFile;
  score(input: Readonly<Record<string, unknown>>): ScoredRow;
}

const byLoss = (a: ScoredReason, b: ScoredReason): number =>
  b.pointsLost - a.pointsLost || (a.feature < b.feature ? -1 : 1);

function scorecardScorer(model: ScorecardModelFile): (input: Readonly<Record<string, unknown>>) => ScoredRow {
  const parts = model.scorecard.features.map((part, j) => {
    const feature = model.features[j]!;
    return { part, feature, best: Math.max(...part.points) };
  });
  return (input) => {
    let score = model.scorecard.basePoints;
    let z = model.scorecard.intercept;
    const reasons: ScoredReason[] = [];
    for (const { part, feature, best } of parts) {
      const slot = binSlotOf(feature.binning, input[feature.name]);
      const points = part.points[slot]!;
      score += points;
      const bins = feature.binning;
      const woe =
        slot < bins.bins.length
          ? bins.bins[slot]!.woe
          : slot === bins.bins.length
            ? bins.missing.woe
            : bins.unseen.woe;
      z += part.coefficient * woe;
      // Reg B adverse-action practice: the reasons are the features where the applicant fell furthest below the
      // best attainable points.
      const lost = best - points;
      if (lost > 0)
        reasons.push({
          code: feature.reasonCode,
          feature: feature.name,
          pointsLost: lost,
          text: binText(bins, slot, input[feature.name]),
        });
    }
    return { score, pd: sigmoid(z), reasons: reasons.sort(byLoss).slice(0, MAX_BORROWER_REASONS) };
  };
}

function gbdtScorer(model: GbdtModelFile): (input: Readonly<Record<string, unknown>>) => ScoredRow {
  const { factor, offset } = scalingConstants(model.scaling);
  const { encoders } = model.gbdt;
  const bins = new Uint8Array(encoders.length);
  return (input) => {
    model.features.forEach((f, j) => {
      bins[j] = encodeValue(encoders[j]!, input[f.name]);
    });
    const { margin, contributions } = gbdtContributions(model.gbdt, bins);
    const reasons: ScoredReason[] = [];
    model.features.forEach((f, j) => {
      // A positive contribution raises the log-odds of bad; in points that is factor · contribution lost.
      const lost = Math.round(factor * contributions[j]! * 100) / 100;
      if (lost > 0) {
        const slot = binSlotOf(f.binning, input[f.name]);
        reasons.push({
          code: f.reasonCode,
          feature: f.name,
          pointsLost: lost,
          text: binText(f.binning, slot, input[f.name]),
        });
      }
    });
    return {
      score: Math.round(offset - factor * margin),
      pd: sigmoid(margin),
      reasons: reasons.sort(byLoss).slice(0, MAX_BORROWER_REASONS),
    };
  };
}

/** A ModelScorer over a model file (parsed JSON or its text); throws LG_MODEL_INVALID on a malformed file. */
export function scorerFromModel(modelJson: unknown): ModelScorerWithText {
  const model = parseModelFile(typeof modelJson === 'string' ? parseJson(modelJson) : modelJson);
  const score = model.kind === 'scorecard' ? scorecardScorer(model) : gbdtScorer(model);
  return {
    id: model.id,
    version: model.version,
    kind: model.kind,
    features: model.features.map((f) => f.name),
    model,
    score,
  };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    return { invalidJson: error instanceof Error ? error.message : String(error) };
  }
}
