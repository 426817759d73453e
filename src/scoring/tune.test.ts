import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../domain/index.js';
import { readCsvTable } from './csv.js';
import { prepareDataset, stratifiedSplit, subsetDataset, type Dataset } from './dataset.js';
import { DEFAULT_GBDT } from './gbdt.js';
import { DEFAULT_SCORECARD_L2 } from './scorecard.js';
import {
  GBDT_TUNE_STAGES,
  gbdtTuneFits,
  oofGbdtMargins,
  tuneGbdt,
  tuneScorecard,
  type TuneCandidate,
} from './tune.js';
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
  it('skips the learning-rate stage when the best settings already have its rate (the defaults won)', async () => {
    // Split seed 1 of bench:scoring: the defaults' subsampling variant wins, at learning rate 0.05 already.
    const train = subsetDataset(german, stratifiedSplit(german.target, 0.3, 1).train);
    const progress: number[] = [];
    const tuned = await tuneGbdt(train, {}, { seed: 1, onProgress: (done) => progress.push(done) });
    const best = bestBeforeRateStage(tuned.candidates);
    expect(best.params.learningRate).toBe(0.05);
    expect(tuned.candidates).toHaveLength(
      1 + GBDT_TUNE_STAGES.structure.length + GBDT_TUNE_STAGES.sampling.length,
    );
    expect(tuned.params.learningRate).toBe(0.05);
    // Progress still counts to the planned total's last fit, never beyond it.
    expect(Math.max(...progress)).toBeLessThanOrEqual(gbdtTuneFits());
  });

  it('runs the learning-rate stage when the best has a larger rate', async () => {
    const train = subsetDataset(german, stratifiedSplit(german.target, 0.3, 2).train);
    const tuned = await tuneGbdt(train, {}, { seed: 2, folds: 3 });
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

  it('GBDT: the first candidate is the untuned model, and the chosen k-fold AUC is at least its', async () => {
    const tuned = await tuneGbdt(train, {}, { seed: 3, folds: 3 });
    const untuned = tuned.candidates[0]!;
    // Candidates record their numeric and text settings (refit, a flag, is left out).
    const { refit: _refit, ...defaults } = { ...DEFAULT_GBDT, validationShare: 0 };
    expect(untuned.params).toEqual(defaults);
    expect(tuned.meanAuc).toBeGreaterThanOrEqual(untuned.meanAuc);
    expect(tuned.meanAuc).toBe(Math.max(...tuned.candidates.map((c) => c.meanAuc)));
  });

  it("GBDT: the caller's own settings are what the untuned candidate fits", async () => {
    const tuned = await tuneGbdt(train, { maxDepth: 2, maxBins: 32 }, { seed: 3, folds: 2 });
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

/** 500 rows: 3 numeric features (one with missing values) carrying a logistic signal, 2 categorical (one noise). */
function syntheticSet(rows: number, seed: number): Dataset {
  const rng = seededRandom(seed);
  const num = Array.from({ length: 3 }, () => new Float64Array(rows));
  const cat = Array.from({ length: 2 }, () => Array<string | null>(rows).fill(null));
  const target = new Uint8Array(rows);
  for (let i = 0; i < rows; i++) {
    let z = -0.8;
    num.forEach((col, j) => {
      const v = rng.next() * 4 - 2;
      col[i] = j === 2 && rng.next() < 0.1 ? Number.NaN : v;
      z += (j + 1) * 0.5 * v;
    });
    cat.forEach((col, j) => {
      const level = Math.floor(rng.next() * 4);
      col[i] = `L${level}`;
      if (j === 0) z += 0.4 * (level - 1.5);
    });
    target[i] = rng.next() < 1 / (1 + Math.exp(-z)) ? 1 : 0;
  }
  return {
    columns: [
      ...num.map((values, j) => ({ name: `n${j}`, type: 'numeric' as const, values })),
      ...cat.map((values, j) => ({ name: `c${j}`, type: 'categorical' as const, values })),
    ],
    target,
    rows,
    targetColumn: 'y',
    badValue: '1',
  };
}

/** Same bits, not merely equal numbers (toEqual would take 0 for -0). */
const bits = (xs: Float64Array): string =>
  Buffer.from(xs.buffer, xs.byteOffset, xs.byteLength).toString('hex');

describe('fold fits on worker threads', () => {
  const data = syntheticSet(500, 17);

  it('tuneGbdt on 2 worker threads gives exactly what it gives in this thread', async () => {
    const progress = { 1: [] as number[], 2: [] as number[] };
    const run = (jobs: 1 | 2) =>
      tuneGbdt(
        data,
        { maxBins: 16 },
        { seed: 5, folds: 3, jobs, onProgress: (done) => progress[jobs].push(done) },
      );
    const inThread = await run(1);
    const onThreads = await run(2);
    // Really on threads (no silent fallback), and really in this thread for jobs = 1.
    expect(inThread.threads).toBe(0);
    expect(onThreads.threads).toBe(2);
    const { threads: _a, oofMargin: oofA, ...a } = inThread;
    const { threads: _b, oofMargin: oofB, ...b } = onThreads;
    // Chosen settings, mean AUC, and every candidate in order with its fold AUCs and best rounds.
    expect(b).toEqual(a);
    expect(JSON.stringify(b)).toBe(JSON.stringify(a));
    expect(bits(oofB)).toBe(bits(oofA));
    // Every fit is reported, in the order the fits finish: same count, rising by one.
    expect(progress[2]).toEqual(progress[1]);
  });

  it('oofGbdtMargins on 2 worker threads gives the same margins, bit for bit', async () => {
    const params = { maxDepth: 2, rounds: 60 };
    const inThread = await oofGbdtMargins(data, params, { seed: 9, folds: 4, jobs: 1 });
    const onThreads = await oofGbdtMargins(data, params, { seed: 9, folds: 4, jobs: 2 });
    expect(bits(onThreads)).toBe(bits(inThread));
  });
});
