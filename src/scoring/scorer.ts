/**
 * Scoring a model file: the one code path behind the CLI `model score`, the training metrics and the engine's
 * ModelScorer, so all three give the same numbers.
 */
import type { ModelScore, ModelScorer, ReasonContribution } from '../domain/index.js';
import { MAX_BORROWER_REASONS } from '../domain/index.js';
import { binSlotOf, binText, toLevel } from './binning.js';
import { encodeValue, gbdtContributions } from './gbdt.js';
import { reasonCodeForValue, specOfModelFeature } from './reasons.js';
import { calibratedPd } from './calibration.js';
import { parseModelFile } from './validate.js';
import type { GbdtModelFile, GbdtPart, ModelFeature, ModelFile, ScorecardModelFile } from './model-file.js';
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
  /** Score and PD without reasons (evaluation and monitoring score whole files and need no reasons). */
  scoreOnly(input: Readonly<Record<string, unknown>>): { score: number; pd: number };
}

const byLoss = (a: ScoredReason, b: ScoredReason): number =>
  b.pointsLost - a.pointsLost || (a.feature < b.feature ? -1 : 1);

/** The reason for a feature that cost the applicant `lost` points, its code judged against their own value. */
function reasonFor(feature: ModelFeature, raw: unknown, lost: number): ScoredReason {
  const slot = binSlotOf(feature.binning, raw);
  const level = feature.type === 'categorical' ? toLevel(raw) : undefined;
  return {
    code: reasonCodeForValue(specOfModelFeature(feature), feature.binning, slot, level),
    feature: feature.name,
    pointsLost: lost,
    text: binText(feature.binning, slot, raw),
  };
}

type RowScorer = (input: Readonly<Record<string, unknown>>, withReasons?: boolean) => ScoredRow;

function scorecardScorer(model: ScorecardModelFile): RowScorer {
  const parts = model.scorecard.features.map((part, j) => {
    const feature = model.features[j]!;
    return { part, feature, best: Math.max(...part.points) };
  });
  return (input, withReasons = true) => {
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
      if (withReasons && lost > 0) reasons.push(reasonFor(feature, input[feature.name], lost));
    }
    return {
      score,
      pd: calibratedPd(model.calibration, z),
      reasons: reasons.sort(byLoss).slice(0, MAX_BORROWER_REASONS),
    };
  };
}

/** For each feature, the trees that split on it (the others do not change when only this feature's value changes). */
function treesUsing(part: GbdtPart): number[][] {
  return part.encoders.map((_, f) => {
    const trees: number[] = [];
    part.trees.forEach((tree, t) => {
      if (tree.some((node) => node.feature === f)) trees.push(t);
    });
    return trees;
  });
}

/**
 * Adds one tree's output as a step function of feature f's bin (every other feature held at the row's own bins):
 * regular bins into a difference array, the missing bin into `missing[0]`.
 */
function addTreeSteps(
  tree: GbdtPart['trees'][number],
  encoders: GbdtPart['encoders'],
  f: number,
  bins: Uint8Array,
  acc: { diff: Float64Array; missing: number },
): void {
  const visit = (at: number, lo: number, hi: number, carriesMissing: boolean): void => {
    const node = tree[at]!;
    if (node.feature === undefined) {
      if (lo <= hi) {
        acc.diff[lo]! += node.value;
        acc.diff[hi + 1]! -= node.value;
      }
      if (carriesMissing) acc.missing += node.value;
      return;
    }
    if (node.feature !== f) {
      const b = bins[node.feature]!;
      const goLeft = b === encoders[node.feature]!.missing ? node.missingLeft === true : b <= node.threshold!;
      visit((goLeft ? node.left : node.right)!, lo, hi, carriesMissing);
      return;
    }
    const t = node.threshold!;
    visit(node.left!, lo, Math.min(hi, t), carriesMissing && node.missingLeft === true);
    visit(node.right!, Math.max(lo, t + 1), hi, carriesMissing && node.missingLeft !== true);
  };
  visit(0, 0, encoders[f]!.missing - 1, true);
}

/**
 * Margin the applicant's own value of feature f adds over the feature's best value (the value, missing included,
 * that gives the lowest margin with everything else of theirs kept): the GBDT counterpart of the scorecard's "points
 * short of the best bin", exact over every value the trees can tell apart.
 */
function marginOverBest(part: GbdtPart, trees: readonly number[], f: number, bins: Uint8Array): number {
  const missingBin = part.encoders[f]!.missing;
  const acc = { diff: new Float64Array(missingBin + 1), missing: 0 };
  for (const t of trees) addTreeSteps(part.trees[t]!, part.encoders, f, bins, acc);
  let running = 0;
  let best = acc.missing;
  let own = bins[f] === missingBin ? acc.missing : Number.NaN;
  for (let b = 0; b < missingBin; b++) {
    running += acc.diff[b]!;
    if (running < best) best = running;
    if (b === bins[f]) own = running;
  }
  return Number.isNaN(own) ? 0 : own - best;
}

function gbdtScorer(model: GbdtModelFile): RowScorer {
  const { factor, offset } = scalingConstants(model.scaling);
  const { encoders } = model.gbdt;
  const perFeature = treesUsing(model.gbdt);
  const bins = new Uint8Array(encoders.length);
  return (input, withReasons = true) => {
    model.features.forEach((f, j) => {
      bins[j] = encodeValue(encoders[j]!, input[f.name]);
    });
    const { margin } = gbdtContributions(model.gbdt, bins);
    const reasons: ScoredReason[] = [];
    if (withReasons)
      model.features.forEach((f, j) => {
        // Log-odds of bad above the feature's best value, in points (factor points per unit of log-odds).
        const lost = Math.round(factor * marginOverBest(model.gbdt, perFeature[j]!, j, bins) * 100) / 100;
        if (lost > 0) reasons.push(reasonFor(f, input[f.name], lost));
      });
    return {
      score: Math.round(offset - factor * margin),
      pd: calibratedPd(model.calibration, margin),
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
    score: (input) => score(input),
    scoreOnly: (input) => {
      const s = score(input, false);
      return { score: s.score, pd: s.pd };
    },
  };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    return { invalidJson: error instanceof Error ? error.message : String(error) };
  }
}
