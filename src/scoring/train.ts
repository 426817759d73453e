/**
 * Training end to end, from CSV bytes to a model file: parse, split (stratified, seeded), fit on the training part,
 * score both parts through the model file's own scorer (so the recorded metrics are exactly what the saved model
 * produces), and collect what the HTML report shows.
 */
import { sha256Hex } from '../domain/sha256.js';
import { LgError } from '../domain/errors.js';
import { binColumn, type FeatureBinning } from './binning.js';
import { readCsvTable, type CsvTable } from './csv.js';
import { prepareDataset, stratifiedSplit, subsetDataset, type FeatureType } from './dataset.js';
import { DEFAULT_GBDT, trainGbdt, type GbdtParams } from './gbdt.js';
import { evaluate, GERMAN_COSTS, type CostMatrix, type ModelMetrics } from './metrics.js';
import {
  MODEL_FORMAT,
  MODEL_FORMAT_VERSION,
  TOOLKIT_VERSION,
  type GbdtModelFile,
  type ModelFeature,
  type ModelFile,
  type ModelKind,
  type ScorecardModelFile,
} from './model-file.js';
import { reasonCodeFor } from './reasons.js';
import { DEFAULT_SCALING, type Scaling } from './scaling.js';
import { trainScorecard, type ScorecardParams } from './scorecard.js';
import { scorerFromModel, type ModelScorerWithText } from './scorer.js';

export interface TrainRequest {
  /** The CSV file's bytes (hashed into the model) or its text. */
  readonly csv: Uint8Array | string;
  readonly target: string;
  readonly bad: string;
  readonly kind?: ModelKind;
  readonly id?: string;
  readonly version?: number;
  readonly seed?: number;
  /** Stratified share of rows held out for evaluation (default 0.3; 0 = evaluate on training rows only). */
  readonly holdoutShare?: number;
  readonly types?: Readonly<Record<string, FeatureType>>;
  readonly ignore?: readonly string[];
  readonly scaling?: Scaling;
  readonly scorecard?: ScorecardParams;
  readonly gbdt?: GbdtParams;
  readonly costs?: CostMatrix;
  readonly reasonCodes?: Readonly<Record<string, string>>;
  /** Creation instant (epoch ms), injected. */
  readonly now: number;
  readonly onProgress?: (stage: string, fraction: number) => void;
}

export interface ScoredPart {
  readonly score: Float64Array;
  readonly pd: Float64Array;
  readonly target: Uint8Array;
}

export interface TrainOutcome {
  readonly model: ModelFile;
  readonly scorer: ModelScorerWithText;
  /** WOE binnings of every candidate feature (selected or not), for the report. */
  readonly binnings: readonly FeatureBinning[];
  readonly train: ScoredPart;
  readonly holdout?: ScoredPart;
  readonly warnings: readonly string[];
}

export function rowRecord(table: CsvTable, row: number): Record<string, string> {
  const r = table.rows[row]!;
  const out: Record<string, string> = {};
  table.header.forEach((name, j) => {
    out[name] = r[j] ?? '';
  });
  return out;
}

export function scoreRows(
  scorer: ModelScorerWithText,
  table: CsvTable,
  rows: readonly number[],
  target: Uint8Array,
): ScoredPart {
  const score = new Float64Array(rows.length);
  const pd = new Float64Array(rows.length);
  rows.forEach((row, i) => {
    const s = scorer.score(rowRecord(table, row));
    score[i] = s.score;
    pd[i] = s.pd;
  });
  return { score, pd, target: Uint8Array.from(rows, (r) => target[r]!) };
}

export function trainModel(request: TrainRequest): TrainOutcome {
  const started = Date.now();
  const progress = request.onProgress ?? ((): void => undefined);
  const kind = request.kind ?? 'scorecard';
  const seed = request.seed ?? 42;
  const holdoutShare = request.holdoutShare ?? 0.3;
  if (!(holdoutShare >= 0 && holdoutShare < 0.9))
    throw new LgError('LG_VALIDATION', 'holdout share must be in [0, 0.9)');
  const text = typeof request.csv === 'string' ? request.csv : new TextDecoder('utf-8').decode(request.csv);
  if (text.trim() === '') throw new LgError('LG_DATA_INVALID', 'the CSV file is empty', { row: 0 });
  progress('read', 0);
  const table = readCsvTable(text);
  const { dataset, warnings } = prepareDataset(table, {
    target: request.target,
    bad: request.bad,
    ...(request.types ? { types: request.types } : {}),
    ...(request.ignore ? { ignore: request.ignore } : {}),
  });
  const split =
    holdoutShare > 0
      ? stratifiedSplit(dataset.target, holdoutShare, seed)
      : { train: [...dataset.target.keys()], test: [] as number[] };
  const trainData = subsetDataset(dataset, split.train);
  let trainBads = 0;
  for (const t of trainData.target) trainBads += t;
  if (trainBads < 2 || trainData.rows - trainBads < 2) {
    throw new LgError('LG_DATA_INVALID', 'too few bad or good rows to train after the hold-out split', {
      column: request.target,
    });
  }
  const scaling = request.scaling ?? DEFAULT_SCALING;
  const codeOf = (name: string): string => {
    try {
      return reasonCodeFor(name, request.reasonCodes);
    } catch (error) {
      throw new LgError('LG_VALIDATION', error instanceof Error ? error.message : String(error), {
        column: name,
      });
    }
  };
  progress('fit', 0.05);
  const base = {
    format: MODEL_FORMAT as typeof MODEL_FORMAT,
    formatVersion: MODEL_FORMAT_VERSION,
    id: request.id ?? 'model',
    version: request.version ?? 1,
    createdAt: new Date(request.now).toISOString(),
    target: { column: request.target, bad: request.bad },
    scaling,
    software: { name: 'lineguard' as const, toolkitVersion: TOOLKIT_VERSION, node: process.version },
  };
  const feature = (b: FeatureBinning): ModelFeature => ({
    name: b.feature,
    type: b.type,
    reasonCode: codeOf(b.feature),
    binning: b,
  });
  let draft: Omit<ScorecardModelFile, 'training'> | Omit<GbdtModelFile, 'training'>;
  let binnings: readonly FeatureBinning[];
  let params: Record<string, unknown>;
  let selection;
  if (kind === 'scorecard') {
    const sc = trainScorecard(trainData, request.scorecard ?? {}, scaling);
    binnings = sc.allBinnings;
    selection = sc.selection;
    params = { ...request.scorecard, logisticIterations: sc.fit.iterations, converged: sc.fit.converged };
    draft = { ...base, kind: 'scorecard', features: sc.binnings.map(feature), scorecard: sc.part };
  } else {
    binnings = trainData.columns.map((c) => binColumn(c, trainData.target));
    selection = binnings.map((b) => ({
      feature: b.feature,
      type: b.type,
      iv: b.iv,
      selected: true,
      reason: 'all features enter the trees',
    }));
    const g = trainGbdt(trainData, request.gbdt ?? {}, seed, (f) => progress('fit', 0.05 + 0.85 * f));
    params = { ...DEFAULT_GBDT, ...request.gbdt, bestRounds: g.bestRounds };
    draft = { ...base, kind: 'gbdt', features: binnings.map(feature), gbdt: g.part };
  }
  progress('evaluate', 0.9);
  const provisional = scorerFromModel({ ...draft, training: placeholderTraining() });
  const trainScored = scoreRows(provisional, table, split.train, dataset.target);
  const holdoutScored =
    split.test.length > 0 ? scoreRows(provisional, table, split.test, dataset.target) : undefined;
  const costs = request.costs ?? GERMAN_COSTS;
  const metrics: { train: ModelMetrics; holdout?: ModelMetrics } = {
    train: evaluate(trainScored.pd, trainScored.target, costs),
    ...(holdoutScored ? { holdout: evaluate(holdoutScored.pd, holdoutScored.target, costs) } : {}),
  };
  let bads = 0;
  for (const t of dataset.target) bads += t;
  const model = {
    ...draft,
    training: {
      dataSha256: sha256Hex(request.csv),
      rows: dataset.rows,
      bads,
      seed,
      holdoutShare,
      trainRows: split.train.length,
      holdoutRows: split.test.length,
      params: { ...params, costs },
      metrics,
      selection,
      warnings,
      durationMs: Date.now() - started,
    },
  } as unknown as ModelFile;
  progress('done', 1);
  return {
    model,
    scorer: scorerFromModel(model),
    binnings,
    train: trainScored,
    ...(holdoutScored ? { holdout: holdoutScored } : {}),
    warnings,
  };
}

function placeholderTraining(): ModelFile['training'] {
  const m: ModelMetrics = {
    rows: 0,
    badRate: 0,
    auc: 0,
    gini: 0,
    ks: 0,
    logLoss: 0,
    expectedCost: 0,
    costThreshold: 0,
  };
  return {
    dataSha256: '',
    rows: 0,
    bads: 0,
    seed: 0,
    holdoutShare: 0,
    trainRows: 0,
    holdoutRows: 0,
    params: {},
    metrics: { train: m },
    selection: [],
    warnings: [],
    durationMs: 0,
  };
}
