import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { readCsvTable } from './csv.js';
import { prepareDataset, stratifiedSplit, subsetDataset } from './dataset.js';
import { DEFAULT_GBDT } from './gbdt.js';
import { DEFAULT_SCORECARD_L2 } from './scorecard.js';
import { GBDT_TUNE_STAGES, gbdtTuneFits, tuneGbdt, tuneScorecard, type TuneCandidate } from './tune.js';
import { protectedColumns } from './protected.js';

const table = readCsvTable(readFileSync('data/german_credit.csv', 'utf8'));
const german = prepareDataset(table, {
  target: 'class',
  bad: 'bad',
  ignore: protectedColumns(table.header),
}).dataset;

/** The candidate the staged search holds before its learning-rate stage (ties keep the earlier one). */
function bestBeforeRateStage(c: readonly TuneCandidate[]): TuneCandidate {
  const s = GBDT_TUNE_STAGES;
  const structureEnd = 1 + s.structure.length;
  let best = c[1]!;
  for (const x of c.slice(2, structureEnd)) if (x.meanAuc > best.meanAuc + 1e-12) best = x;
  if (c[0]!.meanAuc > best.meanAuc + 1e-12) best = c[0]!;
  for (const x of c.slice(structureEnd, structureEnd + s.sampling.length))
    if (x.meanAuc > best.meanAuc + 1e-12) best = x;
  return best;
}

describe('GBDT tuning stages', () => {
  it('skips the learning-rate stage when the best settings already have its rate (the defaults won)', () => {
    // Split seed 1 of bench:scoring: the defaults' subsampling variant wins, at learning rate 0.05 already.
    const train = subsetDataset(german, stratifiedSplit(german.target, 0.3, 1).train);
    const progress: number[] = [];
    const tuned = tuneGbdt(train, {}, { seed: 1, onProgress: (done) => progress.push(done) });
    const best = bestBeforeRateStage(tuned.candidates);
    expect(best.params.learningRate).toBe(0.05);
    expect(tuned.candidates).toHaveLength(
      1 + GBDT_TUNE_STAGES.structure.length + GBDT_TUNE_STAGES.sampling.length,
    );
    expect(tuned.params.learningRate).toBe(0.05);
    // Progress still counts to the planned total's last fit, never beyond it.
    expect(Math.max(...progress)).toBeLessThanOrEqual(gbdtTuneFits());
  });

  it('runs the learning-rate stage when the best has a larger rate', () => {
    const train = subsetDataset(german, stratifiedSplit(german.target, 0.3, 2).train);
    const tuned = tuneGbdt(train, {}, { seed: 2, folds: 3 });
    const best = bestBeforeRateStage(tuned.candidates);
    const rateStage =
      tuned.candidates.length - (1 + GBDT_TUNE_STAGES.structure.length + GBDT_TUNE_STAGES.sampling.length);
    expect(best.params.learningRate).toBe(0.1);
    expect(rateStage).toBe(1);
    expect(tuned.candidates.at(-1)!.params.learningRate).toBe(0.05);
  });
});

describe('tuning never loses to the untuned settings on its own criterion', () => {
  const train = subsetDataset(german, stratifiedSplit(german.target, 0.3, 3).train);

  it('GBDT: the first candidate is the untuned model, and the chosen k-fold AUC is at least its', () => {
    const tuned = tuneGbdt(train, {}, { seed: 3, folds: 3 });
    const untuned = tuned.candidates[0]!;
    // Candidates record their numeric and text settings (refit, a flag, is left out).
    const { refit: _refit, ...defaults } = { ...DEFAULT_GBDT, validationShare: 0 };
    expect(untuned.params).toEqual(defaults);
    expect(tuned.meanAuc).toBeGreaterThanOrEqual(untuned.meanAuc);
    expect(tuned.meanAuc).toBe(Math.max(...tuned.candidates.map((c) => c.meanAuc)));
  });

  it("GBDT: the caller's own settings are what the untuned candidate fits", () => {
    const tuned = tuneGbdt(train, { maxDepth: 2, maxBins: 32 }, { seed: 3, folds: 2 });
    expect(tuned.candidates[0]!.params).toMatchObject({ maxDepth: 2, maxBins: 32, learningRate: 0.05 });
  });

  it('scorecard: the defaults are in the grid, and the chosen k-fold AUC is at least theirs', () => {
    const tuned = tuneScorecard(train, {}, { seed: 3, folds: 3 });
    const untuned = tuned.candidates.find(
      (c) => c.params.minBinShare === 0.05 && c.params.l2 === DEFAULT_SCORECARD_L2,
    );
    expect(untuned).toBeDefined();
    expect(tuned.meanAuc).toBeGreaterThanOrEqual(untuned!.meanAuc);
    expect(tuned.meanAuc).toBe(Math.max(...tuned.candidates.map((c) => c.meanAuc)));
  });
});
