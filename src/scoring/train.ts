/**
 * Training end to end, from CSV bytes to a model file: parse, split (stratified, seeded), fit on the training part,
 * score both parts through the model file's own scorer (so the recorded metrics are exactly what the saved model
 * produces), and collect what the HTML report shows.
 */
import { sha256Hex } from '../domain/index.js';
import { LgError } from '../domain/index.js';
import { binColumn, type FeatureBinning } from './binning.js';
import { readCsvTable, type CsvTable } from './csv.js';
import {
  parseNumber,
  prepareDataset,
  stratifiedSplit,
  subsetDataset,
  type Dataset,
  type FeatureType,
} from './dataset.js';
import { DEFAULT_GBDT, trainGbdt, type GbdtParams } from './gbdt.js';
import {
  brierScore,
  calibratedPd,
  chooseCalibration,
  defaultCalibration,
  type CalibrationMethod,
} from './calibration.js';
import { evaluate, GERMAN_COSTS, type CostMatrix, type ModelMetrics } from './metrics.js';
import { DEFAULT_PROTECTED_ATTRIBUTES, normaliseColumnName, protectedColumns } from './protected.js';
import {
  DEFAULT_TUNE_FOLDS,
  oofGbdtMargins,
  oofScorecardMargins,
  tuneGbdt,
  tuneScorecard,
  type TuneResult,
} from './tune.js';
import {
  MODEL_FORMAT,
  MODEL_FORMAT_VERSION,
  TOOLKIT_VERSION,
  type GbdtModelFile,
  type ModelFeature,
  type ModelFile,
  type ModelKind,
  type ScorecardModelFile,
  type TuningInfo,
} from './model-file.js';
import { directionalCodes, reasonSpecFor } from './reasons.js';
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
  /** Protected-attribute list (default DEFAULT_PROTECTED_ATTRIBUTES); matching columns are left out of training. */
  readonly protectedAttributes?: readonly string[];
  /** Train on protected columns anyway (recorded in the model file). */
  readonly allowProtected?: boolean;
  /** Evaluation-only columns: a group for the fairness section, a date for stability over time. Never features. */
  readonly groupColumn?: string;
  readonly timeColumn?: string;
  /** Choose hyper-parameters by k-fold AUC on the training rows (see tune.ts). */
  readonly tune?: boolean;
  readonly folds?: number;
  /**
   * PD calibration on out-of-fold margins (default: see defaultCalibrationFor; auto = the lower cross-validated log
   * loss of Platt and isotonic).
   */
  readonly calibration?: CalibrationMethod;
  /** GBDT monotone constraints by column name: +1 PD rises with the value, −1 falls. */
  readonly monotone?: Readonly<Record<string, 1 | -1>>;
  /** Creation instant (epoch ms), injected. */
  readonly now: number;
  readonly onProgress?: (stage: string, fraction: number) => void;
}

export interface ScoredPart {
  readonly score: Float64Array;
  readonly pd: Float64Array;
  readonly target: Uint8Array;
}

export interface EvaluationColumns {
  /** The evaluation part's values (hold-out, or training when there is no hold-out), row-aligned with it. */
  readonly group?: readonly string[];
  readonly time?: readonly string[];
}

export interface TrainOutcome {
  readonly model: ModelFile;
  readonly evaluation?: EvaluationColumns;
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
    const s = scorer.scoreOnly(rowRecord(table, row));
    score[i] = s.score;
    pd[i] = s.pd;
  });
  return { score, pd, target: Uint8Array.from(rows, (r) => target[r]!) };
}

interface ColumnPlan {
  readonly ignore: string[];
  readonly excludedProtected: string[];
  readonly allowedProtected: string[];
  readonly list: string[];
}

/** Which columns stay out of training: the caller's, evaluation-only ones, and protected attributes. */
function planColumns(header: readonly string[], request: TrainRequest): ColumnPlan {
  const list = (request.protectedAttributes ?? DEFAULT_PROTECTED_ATTRIBUTES).map(normaliseColumnName);
  for (const [flag, name] of [
    ['group', request.groupColumn],
    ['time', request.timeColumn],
  ] as const) {
    if (name !== undefined && !header.includes(name))
      throw new LgError('LG_DATA_INVALID', `${flag} column "${name}" is not in the header`, { column: name });
  }
  const ignore = new Set(request.ignore ?? []);
  if (request.groupColumn !== undefined) ignore.add(request.groupColumn);
  if (request.timeColumn !== undefined) ignore.add(request.timeColumn);
  const present = protectedColumns(header, list).filter((c) => c !== request.target && !ignore.has(c));
  for (const name of Object.keys(request.monotone ?? {})) {
    if (present.includes(name) && request.allowProtected !== true)
      throw new LgError(
        'LG_PROTECTED_ATTRIBUTE',
        `column "${name}" is a protected attribute and is not a model input; pass --allow-protected to use it`,
        { column: name },
      );
  }
  if (request.allowProtected === true)
    return { ignore: [...ignore], excludedProtected: [], allowedProtected: present, list };
  return { ignore: [...ignore, ...present], excludedProtected: present, allowedProtected: [], list };
}

/** The type a left-out column would have had (numeric when every non-empty cell is a number), for the report. */
function columnTypeOf(table: CsvTable, name: string): FeatureType {
  const j = table.header.indexOf(name);
  const cells = table.rows.map((r) => r[j] ?? '').filter((c) => c !== '');
  return cells.length > 0 && cells.every((c) => parseNumber(c) !== undefined) ? 'numeric' : 'categorical';
}

function monotoneByIndex(data: Dataset, monotone: Readonly<Record<string, 1 | -1>>): Record<number, 1 | -1> {
  const out: Record<number, 1 | -1> = {};
  for (const [name, sign] of Object.entries(monotone)) {
    const j = data.columns.findIndex((c) => c.name === name);
    if (j < 0)
      throw new LgError('LG_VALIDATION', `monotone constraint on "${name}", which is not a feature column`, {
        column: name,
      });
    // GBDT encodes a categorical feature by bad rate, not by a value order, so "rises with the value" has no meaning.
    if (data.columns[j]!.type !== 'numeric')
      throw new LgError('LG_VALIDATION', `monotone constraint on "${name}", which is not numeric`, {
        column: name,
      });
    out[j] = sign;
  }
  return out;
}

function tuningInfo(method: string, tuned: TuneResult<object>): TuningInfo {
  return {
    method,
    folds: tuned.folds,
    // Monotone constraints are the caller's, not a tuning choice; they are recorded in training.monotone.
    chosen: Object.fromEntries(Object.entries(tuned.params).filter(([k]) => k !== 'monotone')),
    meanAuc: tuned.meanAuc,
    candidates: tuned.candidates,
  };
}

/**
 * The calibration `model train` applies when none is asked for. Without --tune, none: a scorecard's PD is then the
 * one its points express (score = offset − factor · log-odds, the scaling's promise), and a GBDT would need k more
 * fits. With --tune the folds give out-of-fold margins for free: a GBDT takes isotonic from 1,000 training rows and
 * Platt below (measured, see defaultCalibration); a scorecard takes whichever of the two has the lower
 * cross-validated log loss on those margins (`auto`).
 */
export function defaultCalibrationFor(
  kind: ModelKind,
  tune: boolean,
  trainingRows: number,
): CalibrationMethod {
  if (!tune) return 'none';
  return kind === 'scorecard' ? 'auto' : defaultCalibration(trainingRows);
}

export function trainModel(request: TrainRequest): TrainOutcome {
  const started = Date.now();
  const progress = request.onProgress ?? ((): void => undefined);
  const kind = request.kind ?? 'scorecard';
  const seed = request.seed ?? 42;
  const holdoutShare = request.holdoutShare ?? 0.3;
  if (!(holdoutShare >= 0 && holdoutShare < 0.9))
    throw new LgError('LG_VALIDATION', 'holdout share must be in [0, 0.9)');
  const folds = request.folds ?? DEFAULT_TUNE_FOLDS;
  if (!(Number.isInteger(folds) && folds >= 2 && folds <= 20))
    throw new LgError('LG_VALIDATION', 'folds must be an integer from 2 to 20');
  if (kind === 'scorecard' && request.monotone !== undefined && Object.keys(request.monotone).length > 0)
    throw new LgError(
      'LG_VALIDATION',
      'monotone constraints are for GBDT; the scorecard bins every numeric feature monotone already',
    );
  const text = typeof request.csv === 'string' ? request.csv : new TextDecoder('utf-8').decode(request.csv);
  if (text.trim() === '') throw new LgError('LG_DATA_INVALID', 'the CSV file is empty', { row: 0 });
  progress('read', 0);
  const table = readCsvTable(text);
  const plan = planColumns(table.header, request);
  const { dataset, warnings: dataWarnings } = prepareDataset(table, {
    target: request.target,
    bad: request.bad,
    ...(request.types ? { types: request.types } : {}),
    ignore: plan.ignore,
  });
  const warnings = [
    ...dataWarnings,
    ...(plan.excludedProtected.length > 0
      ? [
          `protected attribute(s) ${plan.excludedProtected.join(', ')} left out of training (Reg B 12 CFR 1002.6(b)); pass --allow-protected to use them`,
        ]
      : []),
    ...(plan.allowedProtected.length > 0
      ? [`protected attribute(s) ${plan.allowedProtected.join(', ')} used as features (--allow-protected)`]
      : []),
  ];
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
  const monotone = monotoneByIndex(trainData, request.monotone ?? {});
  const scaling = request.scaling ?? DEFAULT_SCALING;
  const specOf = (name: string): ReturnType<typeof reasonSpecFor> => {
    try {
      return reasonSpecFor(name, request.reasonCodes);
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
  const feature = (b: FeatureBinning): ModelFeature => {
    const spec = specOf(b.feature);
    const { neutral, ...directional } = spec;
    return {
      name: b.feature,
      type: b.type,
      reasonCode: neutral,
      ...(directionalCodes(directional).length > 0 ? { reasonCodes: directional } : {}),
      binning: b,
    };
  };
  const calibrationMethod =
    request.calibration ?? defaultCalibrationFor(kind, request.tune === true, trainData.rows);
  const tuneProgress = (done: number, total: number): void => progress('tune', 0.05 + 0.6 * (done / total));
  let draft: Omit<ScorecardModelFile, 'training'> | Omit<GbdtModelFile, 'training'>;
  let binnings: readonly FeatureBinning[];
  let params: Record<string, unknown>;
  let selection;
  let tuning: TuningInfo | undefined;
  let oofMargin: Float64Array | undefined;
  if (kind === 'scorecard') {
    let scParams: ScorecardParams = request.scorecard ?? {};
    if (request.tune === true) {
      const tuned = tuneScorecard(trainData, scParams, { seed, folds, onProgress: tuneProgress });
      scParams = tuned.params;
      tuning = tuningInfo('grid: minBinShare x l2', tuned);
      oofMargin = tuned.oofMargin;
    } else if (calibrationMethod !== 'none') {
      oofMargin = oofScorecardMargins(trainData, scParams, { seed, folds, onProgress: tuneProgress });
    }
    const sc = trainScorecard(trainData, scParams, scaling);
    binnings = sc.allBinnings;
    selection = sc.selection;
    params = { ...scParams, logisticIterations: sc.fit.iterations, converged: sc.fit.converged };
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
    let gbParams: GbdtParams = { ...request.gbdt, monotone };
    if (request.tune === true) {
      const tuned = tuneGbdt(trainData, gbParams, { seed, folds, onProgress: tuneProgress });
      gbParams = tuned.params;
      tuning = tuningInfo(
        'staged grid: depth x min child weight, then subsampling, then learning rate',
        tuned,
      );
      oofMargin = tuned.oofMargin;
    } else if (calibrationMethod !== 'none') {
      oofMargin = oofGbdtMargins(trainData, gbParams, { seed, folds, onProgress: tuneProgress });
    }
    const fitFrom = request.tune === true ? 0.65 : 0.05;
    const g = trainGbdt(trainData, gbParams, seed, (f) => progress('fit', fitFrom + (0.9 - fitFrom) * f));
    const { monotone: _m, ...shown } = gbParams;
    params = { ...DEFAULT_GBDT, ...shown, bestRounds: g.bestRounds };
    draft = { ...base, kind: 'gbdt', features: binnings.map(feature), gbdt: g.part };
  }
  let calibrationInfo: ModelFile['training']['calibration'];
  if (calibrationMethod !== 'none' && oofMargin !== undefined) {
    const { method, calibration, cvBrier, cvLogLoss } = chooseCalibration(
      calibrationMethod,
      oofMargin,
      trainData.target,
    );
    calibrationInfo = {
      method,
      requested: calibrationMethod,
      folds,
      cvBrier,
      cvLogLoss,
      oofBrierBefore: brierScore(
        oofMargin.map((m) => calibratedPd(undefined, m)),
        trainData.target,
      ),
      oofBrierAfter: brierScore(
        oofMargin.map((m) => calibratedPd(calibration, m)),
        trainData.target,
      ),
    };
    draft = { ...draft, calibration };
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
  const monotoneByName = Object.fromEntries(
    Object.entries(monotone).map(([j, sign]) => [trainData.columns[Number(j)]!.name, sign]),
  );
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
      selection: [
        ...selection,
        ...plan.excludedProtected.map((name) => ({
          feature: name,
          type: columnTypeOf(table, name),
          iv: 0,
          selected: false,
          reason: 'protected attribute: not a model input (Reg B 12 CFR 1002.6(b))',
        })),
      ],
      warnings,
      durationMs: Date.now() - started,
      ...(tuning ? { tuning } : {}),
      ...(calibrationInfo ? { calibration: calibrationInfo } : {}),
      protectedAttributes: {
        list: plan.list,
        excluded: plan.excludedProtected,
        allowed: plan.allowedProtected,
      },
      ...(request.groupColumn !== undefined || request.timeColumn !== undefined
        ? {
            evaluationColumns: {
              ...(request.groupColumn !== undefined ? { group: request.groupColumn } : {}),
              ...(request.timeColumn !== undefined ? { time: request.timeColumn } : {}),
            },
          }
        : {}),
      ...(Object.keys(monotoneByName).length > 0 ? { monotone: monotoneByName } : {}),
    },
  } as unknown as ModelFile;
  progress('done', 1);
  const evalRows = split.test.length > 0 ? split.test : split.train;
  const columnValues = (name: string | undefined): string[] | undefined => {
    if (name === undefined) return undefined;
    const j = table.header.indexOf(name);
    return evalRows.map((r) => table.rows[r]![j] ?? '');
  };
  const group = columnValues(request.groupColumn);
  const time = columnValues(request.timeColumn);
  return {
    model,
    ...(group || time ? { evaluation: { ...(group ? { group } : {}), ...(time ? { time } : {}) } } : {}),
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
    brier: 0,
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
