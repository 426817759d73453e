/**
 * Scoring benchmark: on a fixed stratified 70/30 split (seed 42) of each bundled data set, trains the WOE scorecard,
 * the GBDT and a plain logistic regression on one-hot features in the same run, and prints held-out AUC / KS / Gini,
 * training times, and the time to train a scorecard on a synthetic 10,000 x 25 set, as JSON.
 *
 * Hyper-parameters are chosen honestly: by 5-fold stratified cross-validation on the TRAINING part only (the 30% test
 * part is touched once, by the final models). Run: npm run bench:scoring  (or node --import tsx bench/scoring/run.ts)
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { seededRandom } from '../../src/domain/random.js';
import { readCsvTable, formatCsv } from '../../src/scoring/csv.js';
import {
  prepareDataset,
  stratifiedFolds,
  stratifiedSplit,
  subsetDataset,
  type Dataset,
} from '../../src/scoring/dataset.js';
import { predictGbdt, trainGbdt, type GbdtParams } from '../../src/scoring/gbdt.js';
import { gini, ks, rocAuc } from '../../src/scoring/metrics.js';
import { predictOneHotLogistic, trainOneHotLogistic } from '../../src/scoring/onehot.js';
import { scorecardPd, trainScorecard, type ScorecardParams } from '../../src/scoring/scorecard.js';
import { DEFAULT_SCALING } from '../../src/scoring/scaling.js';
import { trainModel } from '../../src/scoring/train.js';

const SEED = 42;
const FOLDS = 5;
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

interface Candidate<P> {
  readonly params: P;
  readonly cvAuc: number;
}

function cvAuc(data: Dataset, fitPredict: (train: Dataset, test: Dataset) => Float64Array): number {
  const folds = stratifiedFolds(data.target, FOLDS, SEED + 7);
  const all = [...data.target.keys()];
  let sum = 0;
  for (const fold of folds) {
    const held = new Set(fold);
    const tr = subsetDataset(
      data,
      all.filter((i) => !held.has(i)),
    );
    const te = subsetDataset(data, fold);
    sum += rocAuc(fitPredict(tr, te), te.target);
  }
  return sum / folds.length;
}

function choose<P>(
  data: Dataset,
  grid: readonly P[],
  fitPredict: (p: P) => (train: Dataset, test: Dataset) => Float64Array,
): Candidate<P> {
  let best: Candidate<P> | undefined;
  for (const params of grid) {
    const auc = cvAuc(data, fitPredict(params));
    if (best === undefined || auc > best.cvAuc + 1e-12) best = { params, cvAuc: auc };
  }
  return best!;
}

const round4 = (x: number): number => Math.round(x * 1e4) / 1e4;

function heldOut(pd: Float64Array, target: Uint8Array): { auc: number; ks: number; gini: number } {
  const auc = rocAuc(pd, target);
  return { auc: round4(auc), ks: round4(ks(pd, target)), gini: round4(gini(auc)) };
}

// woePrior 3: WOE shrinkage towards 0 for small bins (binning.ts); neutral to slightly better in 5x5-fold CV on the
// training parts of both data sets, so it is offered to the CV here rather than made the default.
const SCORECARD_GRID: ScorecardParams[] = [];
for (const trend of ['auto', 'auto-shape'] as const)
  for (const preBins of [10, 20])
    for (const l2 of [1e-4, 3, 10, 30])
      for (const woePrior of [0, 3]) SCORECARD_GRID.push({ trend, preBins, l2, woePrior });
const LR_GRID = [0.1, 1, 3, 10, 30].map((l2) => ({ l2 }));
const GBDT_GRID: GbdtParams[] = [];
for (const maxDepth of [2, 3, 4])
  for (const minChildWeight of [2, 8])
    GBDT_GRID.push({ maxDepth, minChildWeight, learningRate: 0.05, rounds: 1000 });

function timed<T>(work: () => T): { value: T; ms: number } {
  const t0 = performance.now();
  const value = work();
  return { value, ms: Math.round(performance.now() - t0) };
}

function benchDataSet(file: string, target: string) {
  const bytes = readFileSync(join(root, 'data', file));
  const { dataset } = prepareDataset(readCsvTable(bytes.toString('utf8')), { target, bad: 'bad' });
  const split = stratifiedSplit(dataset.target, 0.3, SEED);
  const train = subsetDataset(dataset, split.train);
  const test = subsetDataset(dataset, split.test);

  const tuning = timed(() => ({
    lr: choose(train, LR_GRID, (p) => (tr, te) => predictOneHotLogistic(trainOneHotLogistic(tr, p), te)),
    scorecard: choose(
      train,
      SCORECARD_GRID,
      (p) => (tr, te) => scorecardPd(trainScorecard(tr, p, DEFAULT_SCALING), te),
    ),
    gbdt: choose(train, GBDT_GRID, (p) => (tr, te) => predictGbdt(trainGbdt(tr, p, SEED).part, te)),
  }));
  const { lr, scorecard, gbdt } = tuning.value;

  const lrFit = timed(() => trainOneHotLogistic(train, lr.params));
  // The scorecard and GBDT go through the real model-file path (same split: trainModel uses stratifiedSplit(0.3, seed)).
  const sc = timed(() =>
    trainModel({
      csv: bytes,
      target,
      bad: 'bad',
      kind: 'scorecard',
      seed: SEED,
      scorecard: scorecard.params,
      now: 0,
    }),
  );
  const gb = timed(() =>
    trainModel({ csv: bytes, target, bad: 'bad', kind: 'gbdt', seed: SEED, gbdt: gbdt.params, now: 0 }),
  );
  const scHold = sc.value.holdout!;
  const gbHold = gb.value.holdout!;
  return {
    file,
    rows: dataset.rows,
    trainRows: train.rows,
    testRows: test.rows,
    tuningMs: tuning.ms,
    logisticOneHot: {
      ...heldOut(predictOneHotLogistic(lrFit.value, test), test.target),
      trainMs: lrFit.ms,
      params: lr.params,
      cvAuc: round4(lr.cvAuc),
    },
    scorecard: {
      ...heldOut(scHold.pd, scHold.target),
      trainMs: sc.ms,
      params: scorecard.params,
      cvAuc: round4(scorecard.cvAuc),
      features: sc.value.model.features.length,
    },
    gbdt: {
      ...heldOut(gbHold.pd, gbHold.target),
      trainMs: gb.ms,
      params: gbdt.params,
      cvAuc: round4(gbdt.cvAuc),
      trees: gb.value.model.kind === 'gbdt' ? gb.value.model.gbdt.trees.length : 0,
    },
  };
}

/** 10,000 rows x 25 features (15 numeric, 10 categorical, some missing) with a known logistic signal. */
export function syntheticCsv(rows: number, seed: number): string {
  const rng = seededRandom(seed);
  const normal = (): number => Math.sqrt(-2 * Math.log(1 - rng.next())) * Math.cos(2 * Math.PI * rng.next());
  const header = [
    'target',
    ...Array.from({ length: 15 }, (_, j) => `num${j}`),
    ...Array.from({ length: 10 }, (_, j) => `cat${j}`),
  ];
  const out: string[][] = [];
  for (let i = 0; i < rows; i++) {
    const nums = Array.from({ length: 15 }, () => normal());
    const cats = Array.from({ length: 10 }, () => Math.floor(rng.next() * 6));
    let z = -1;
    nums.forEach((v, j) => (z += (j < 8 ? 0.8 / (j + 1) : 0) * v + (j === 3 ? 0.3 * v * v : 0)));
    cats.forEach((c, j) => (z += j < 5 ? (0.15 * (c - 2.5)) / (j + 1) : 0));
    const bad = rng.next() < 1 / (1 + Math.exp(-z));
    out.push([
      bad ? 'bad' : 'good',
      ...nums.map((v) => (rng.next() < 0.03 ? '' : v.toFixed(3))),
      ...cats.map((c) => (rng.next() < 0.02 ? '' : `L${c}`)),
    ]);
  }
  return formatCsv(header, out);
}

/**
 * One 300-row test set has an AUC standard error near 0.025, more than the 0.01 margin the aim asks for; so besides
 * the fixed split, the mean held-out AUC over 10 more stratified 70/30 splits with default settings (no tuning).
 */
function repeatedSplits(file: string, target: string, repeats = 10) {
  const bytes = readFileSync(join(root, 'data', file));
  const { dataset } = prepareDataset(readCsvTable(bytes.toString('utf8')), { target, bad: 'bad' });
  const sums = { logisticOneHot: 0, scorecard: 0, gbdt: 0 };
  for (let seed = 1; seed <= repeats; seed++) {
    const split = stratifiedSplit(dataset.target, 0.3, seed);
    const train = subsetDataset(dataset, split.train);
    const test = subsetDataset(dataset, split.test);
    sums.logisticOneHot += rocAuc(
      predictOneHotLogistic(trainOneHotLogistic(train, { l2: 1 }), test),
      test.target,
    );
    sums.scorecard += rocAuc(scorecardPd(trainScorecard(train, {}, DEFAULT_SCALING), test), test.target);
    sums.gbdt += rocAuc(predictGbdt(trainGbdt(train, {}, seed).part, test), test.target);
  }
  return {
    file,
    repeats,
    settings: 'defaults: LR l2 1; scorecard defaults; GBDT defaults',
    meanAuc: {
      logisticOneHot: round4(sums.logisticOneHot / repeats),
      scorecard: round4(sums.scorecard / repeats),
      gbdt: round4(sums.gbdt / repeats),
    },
  };
}

function main(): void {
  const results = [benchDataSet('german_credit.csv', 'class'), benchDataSet('credit_data.csv', 'Status')];
  const repeated = timed(() => [
    repeatedSplits('german_credit.csv', 'class'),
    repeatedSplits('credit_data.csv', 'Status'),
  ]);
  const csv = syntheticCsv(10_000, 7);
  const synthetic = timed(() =>
    trainModel({ csv, target: 'target', bad: 'bad', kind: 'scorecard', seed: SEED, now: 0 }),
  );
  const output = {
    node: process.version,
    split: 'stratified 70/30, seed 42',
    tuning: `${FOLDS}-fold stratified CV on the training part only`,
    dataSets: results.map((r) => ({
      ...r,
      aims: {
        scorecardWithin001OfLogistic: r.scorecard.auc >= r.logisticOneHot.auc - 0.01,
        gbdtAtLeastScorecard: r.gbdt.auc >= r.scorecard.auc,
      },
    })),
    repeatedSplits: { ms: repeated.ms, results: repeated.value },
    synthetic10kx25: {
      rows: 10_000,
      columns: 25,
      scorecardTrainMs: synthetic.ms,
      heldOutAuc: round4(synthetic.value.model.training.metrics.holdout!.auc),
      features: synthetic.value.model.features.length,
    },
  };
  console.log(JSON.stringify(output, null, 2));
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) main();
