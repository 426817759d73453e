/**
 * Scoring benchmark (issue 17). For each bundled data set, over 10 seeded stratified 70/30 splits (seeds 1..10), the
 * mean held-out AUC of: a one-hot logistic regression (L2 chosen by 5-fold CV on the training part), the WOE
 * scorecard with defaults and with `--tune`, the GBDT with defaults (early stopping on a seeded validation part) and
 * with `--tune` (k-fold AUC on the training part only); the training time of each; and the calibration of the tuned
 * GBDT (calibrated on its out-of-fold margins, as `model train --tune` does) by decile of predicted PD on the pooled held-out rows. Protected attributes
 * are left out for every model, as `model train` does. Then the speed targets on a synthetic 10,000 x 25 set: one
 * GBDT fit with early stopping, and `--tune` over the default grid (wall and CPU time).
 *
 * Run: npm run bench:scoring  (JSON on stdout). BENCH_SPLITS=N runs fewer splits.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { seededRandom } from '../../src/domain/random.js';
import {
  calibratedPd,
  defaultCalibration,
  fitCalibration,
  reliabilityTable,
} from '../../src/scoring/calibration.js';
import { readCsvTable, formatCsv } from '../../src/scoring/csv.js';
import {
  prepareDataset,
  stratifiedFolds,
  stratifiedSplit,
  subsetDataset,
  type Dataset,
} from '../../src/scoring/dataset.js';
import { gbdtMargins, predictGbdt, trainGbdt } from '../../src/scoring/gbdt.js';
import { rocAuc } from '../../src/scoring/metrics.js';
import { predictOneHotLogistic, trainOneHotLogistic } from '../../src/scoring/onehot.js';
import { protectedColumns } from '../../src/scoring/protected.js';
import { scorecardPd, trainScorecard } from '../../src/scoring/scorecard.js';
import { DEFAULT_SCALING } from '../../src/scoring/scaling.js';
import { tuneGbdt, tuneScorecard } from '../../src/scoring/tune.js';

const SEED = 42;
const FOLDS = 5;
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

const SPLITS = Number(process.env.BENCH_SPLITS ?? 10);

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

const LR_GRID = [0.1, 1, 3, 10, 30].map((l2) => ({ l2 }));

function timed<T>(work: () => T): { value: T; ms: number } {
  const t0 = performance.now();
  const value = work();
  return { value, ms: Math.round(performance.now() - t0) };
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

const MODELS = ['logisticOneHot', 'scorecard', 'scorecardTuned', 'gbdt', 'gbdtTuned'] as const;
type ModelName = (typeof MODELS)[number];

function cpuMs(start: NodeJS.CpuUsage): number {
  return Math.round(process.cpuUsage(start).user / 1000);
}

function loadSet(file: string, target: string): Dataset {
  const text = readFileSync(join(root, 'data', file), 'utf8');
  const table = readCsvTable(text);
  const { dataset } = prepareDataset(table, { target, bad: 'bad', ignore: protectedColumns(table.header) });
  return dataset;
}

function oneSplit(data: Dataset, seed: number) {
  const split = stratifiedSplit(data.target, 0.3, seed);
  const train = subsetDataset(data, split.train);
  const test = subsetDataset(data, split.test);
  const auc: Partial<Record<ModelName, number>> = {};
  const ms: Partial<Record<ModelName, number>> = {};
  const run = (name: ModelName, fitPredict: () => Float64Array): void => {
    const t = timed(fitPredict);
    auc[name] = rocAuc(t.value, test.target);
    ms[name] = t.ms;
  };
  run('logisticOneHot', () => {
    const lr = choose(
      train,
      LR_GRID,
      (p) => (tr, te) => predictOneHotLogistic(trainOneHotLogistic(tr, p), te),
    );
    return predictOneHotLogistic(trainOneHotLogistic(train, lr.params), test);
  });
  run('scorecard', () => scorecardPd(trainScorecard(train, {}, DEFAULT_SCALING), test));
  run('scorecardTuned', () => {
    const tuned = tuneScorecard(train, {}, { seed });
    return scorecardPd(trainScorecard(train, tuned.params, DEFAULT_SCALING), test);
  });
  run('gbdt', () => predictGbdt(trainGbdt(train, {}, seed).part, test));
  let calibrated = new Float64Array(0);
  let calibrationMethod = '';
  let chosen: Record<string, unknown> = {};
  run('gbdtTuned', () => {
    const tuned = tuneGbdt(train, {}, { seed });
    chosen = { ...tuned.params, cvAuc: tuned.meanAuc };
    const model = trainGbdt(train, tuned.params, seed).part;
    const method = defaultCalibration(train.rows);
    calibrationMethod = method;
    const calibration = fitCalibration(method, tuned.oofMargin, train.target);
    const margins = gbdtMargins(model, test);
    calibrated = margins.map((m) => calibratedPd(calibration, m));
    return margins;
  });
  process.stderr.write(`split ${seed}: ${JSON.stringify(auc)}\n`);
  return { auc, ms, calibrated, calibrationMethod, target: test.target, chosen };
}

function benchSet(file: string, target: string) {
  const data = loadSet(file, target);
  const sums = Object.fromEntries(MODELS.map((m) => [m, { auc: 0, ms: 0 }])) as Record<
    ModelName,
    { auc: number; ms: number }
  >;
  const perSplit: { seed: number; auc: Record<string, number>; gbdtTuned: Record<string, unknown> }[] = [];
  const pooledPd: number[] = [];
  const pooledTarget: number[] = [];
  let worstSplitGap = 0;
  let lastMethod = '';
  for (let seed = 1; seed <= SPLITS; seed++) {
    const r = oneSplit(data, seed);
    for (const m of MODELS) {
      sums[m].auc += r.auc[m]!;
      sums[m].ms += r.ms[m]!;
    }
    perSplit.push({
      seed,
      auc: Object.fromEntries(MODELS.map((m) => [m, round4(r.auc[m]!)])),
      gbdtTuned: r.chosen,
    });
    lastMethod = r.calibrationMethod;
    pooledPd.push(...r.calibrated);
    pooledTarget.push(...r.target);
    for (const row of reliabilityTable(r.calibrated, r.target))
      worstSplitGap = Math.max(worstSplitGap, Math.abs(row.gap));
  }
  const meanAuc = Object.fromEntries(MODELS.map((m) => [m, round4(sums[m].auc / SPLITS)])) as Record<
    ModelName,
    number
  >;
  const reliability = reliabilityTable(pooledPd, pooledTarget).map((row) => ({
    decile: row.decile,
    count: row.count,
    meanPd: round4(row.meanPd),
    observed: round4(row.observedBadRate),
    gapPoints: Math.round(row.gap * 1000) / 10,
  }));
  return {
    file,
    rows: data.rows,
    features: data.columns.length,
    splits: SPLITS,
    meanAuc,
    meanTrainMs: Object.fromEntries(MODELS.map((m) => [m, Math.round(sums[m].ms / SPLITS)])),
    aims: {
      gbdtTunedAtLeastScorecard: meanAuc.gbdtTuned >= meanAuc.scorecard,
      gbdtTunedAtLeastTunedScorecard: meanAuc.gbdtTuned >= meanAuc.scorecardTuned,
      gbdtTunedAtLeastLogistic: meanAuc.gbdtTuned >= meanAuc.logisticOneHot,
      calibrationWithin2PointsPerDecile: reliability.every((r) => Math.abs(r.gapPoints) <= 2),
    },
    calibration: {
      model: 'gbdtTuned, calibrated on its out-of-fold margins (what model train --tune does)',
      method: lastMethod,
      pooledHeldOutByDecile: reliability,
      worstDecileGapPointsSingleSplit: Math.round(worstSplitGap * 1000) / 10,
    },
    perSplit,
  };
}

function speed() {
  const { dataset } = prepareDataset(readCsvTable(syntheticCsv(10_000, 7)), { target: 'target', bad: 'bad' });
  let cpu = process.cpuUsage();
  const fit = timed(() => trainGbdt(dataset, {}, SEED));
  const fitCpu = cpuMs(cpu);
  cpu = process.cpuUsage();
  const tune = timed(() => tuneGbdt(dataset, {}, { seed: SEED }));
  const tuneCpu = cpuMs(cpu);
  return {
    rows: 10_000,
    columns: 25,
    gbdtEarlyStopping: { wallMs: fit.ms, cpuMs: fitCpu, rounds: fit.value.bestRounds, targetMs: 5000 },
    gbdtTune: {
      wallMs: tune.ms,
      cpuMs: tuneCpu,
      fits: tune.value.candidates.length * tune.value.folds,
      chosen: tune.value.params,
      targetMs: 60_000,
    },
  };
}

function main(): void {
  const started = performance.now();
  const output = {
    node: process.version,
    split: `stratified 70/30, seeds 1..${SPLITS}`,
    tuning: '5-fold stratified CV on the training part only',
    dataSets: [benchSet('german_credit.csv', 'class'), benchSet('credit_data.csv', 'Status')],
    synthetic10kx25: speed(),
    totalMs: Math.round(performance.now() - started),
  };
  console.log(JSON.stringify(output, null, 2));
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) main();
