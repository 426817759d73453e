/**
 * Issue 17: a GBDT's calibration is fitted on out-of-fold margins, and those must be what the final model would give
 * rows it never saw. Tuning's fold fits stop early on the fold's own rows, so their margins at the best round were
 * chosen by the labels they predict, from models of another length than the final one: a calibration fitted on them
 * followed a steeper margin-to-PD map than the final model's (German credit: Platt slopes about 5% too steep, the top
 * decile over-predicted by 8.9 points pooled over bench:scoring's splits). The margins now come from one fit per fold
 * with the final settings, fitted as trainGbdt fits the final model.
 */
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../src/domain/random.js';
import { stratifiedFolds, type Dataset } from '../../src/scoring/dataset.js';
import { fitFold, foldParts, type FoldPart } from '../../src/scoring/fold-fits.js';
import { gbdtMargins, trainGbdt, type GbdtParams } from '../../src/scoring/gbdt.js';
import { oofGbdtMargins, tuneGbdt } from '../../src/scoring/tune.js';

/** Rows with 3 numeric features (one with missing values) carrying a logistic signal and one categorical. */
function syntheticSet(rows: number, seed: number): Dataset {
  const rng = seededRandom(seed);
  const num = Array.from({ length: 3 }, () => new Float64Array(rows));
  const cat = Array<string | null>(rows).fill(null);
  const target = new Uint8Array(rows);
  for (let i = 0; i < rows; i++) {
    let z = -0.8;
    num.forEach((col, j) => {
      const v = rng.next() * 4 - 2;
      col[i] = j === 2 && rng.next() < 0.1 ? Number.NaN : v;
      z += (j + 1) * 0.4 * v;
    });
    const level = Math.floor(rng.next() * 4);
    cat[i] = `L${level}`;
    z += 0.4 * (level - 1.5);
    target[i] = rng.next() < 1 / (1 + Math.exp(-z)) ? 1 : 0;
  }
  return {
    columns: [
      ...num.map((values, j) => ({ name: `n${j}`, type: 'numeric' as const, values })),
      { name: 'c0', type: 'categorical' as const, values: cat },
    ],
    target,
    rows,
    targetColumn: 'y',
    badValue: '1',
  };
}

const bits = (xs: Float64Array): string =>
  Buffer.from(xs.buffer, xs.byteOffset, xs.byteLength).toString('hex');

/** Each fold's rows scored by trainGbdt(the other folds' rows, params, seed + fold): the final model's way. */
function finalModelOof(data: Dataset, params: GbdtParams, seed: number, k: number): Float64Array {
  const out = new Float64Array(data.rows);
  foldParts(data, stratifiedFolds(data.target, k, seed + 11)).forEach((part, f) => {
    const margins = gbdtMargins(trainGbdt(part.fit, params, seed + f).part, part.val);
    part.rows.forEach((row, i) => (out[row] = margins[i]!));
  });
  return out;
}

/** The same parts with every validation label flipped. */
function flippedLabels(parts: readonly FoldPart[]): FoldPart[] {
  return parts.map((p) => ({ ...p, val: { ...p.val, target: p.val.target.map((t) => 1 - t) } }));
}

describe('GBDT out-of-fold margins for calibration', () => {
  const data = syntheticSet(600, 23);

  it("a calibration fold fit never reads the fold's own labels", () => {
    const parts = foldParts(data, stratifiedFolds(data.target, 3, 4));
    const params = { maxBins: 16, learningRate: 0.1, rounds: 300, patience: 10 };
    const job = { params, fold: 1, mode: 'final' as const };
    const asIs = fitFold(parts, job, 5);
    const flipped = fitFold(flippedLabels(parts), job, 5);
    expect(bits(flipped.valMargin)).toBe(bits(asIs.valMargin));
    // The tuning fit does read them (early stopping on the fold): that is what the candidates are scored by.
    const tuning = { params, fold: 1 };
    expect(bits(fitFold(flippedLabels(parts), tuning, 5).valMargin)).not.toBe(
      bits(fitFold(parts, tuning, 5).valMargin),
    );
  });

  it('tuneGbdt gives the margins of fold models fitted with the final settings, as the final model is', async () => {
    const tuned = await tuneGbdt(data, { maxBins: 16 }, { seed: 3, folds: 3, jobs: 1 });
    expect(tuned.params.validationShare).toBe(0);
    expect(bits(tuned.oofMargin)).toBe(bits(finalModelOof(data, tuned.params, 3, 3)));
  });

  it('oofGbdtMargins (untuned calibration) fits each fold as trainGbdt does, its own early-stopping part included', async () => {
    const params = { maxBins: 16, maxDepth: 2 };
    const oof = await oofGbdtMargins(data, params, { seed: 9, folds: 4, jobs: 1 });
    expect(bits(oof)).toBe(bits(finalModelOof(data, params, 9, 4)));
  });
});
