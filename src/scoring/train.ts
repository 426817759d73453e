/**
 * Training end to end, from CSV bytes to a model file: parse, split (stratified, seeded), fit on the training part,
 * score both parts through the model file's own scorer (so the recorded metrics are exactly what the saved model
 * produces), and collect what the HTML report shows.
 */
import { sha256Hex, systemClock, type Clock } from '../domain/index.js';
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
import { tuneJobs } from './fold-fits.js';
import { DEFAULT_GBDT, MIN_LEVEL_ROWS, nearUniqueCategoricals, trainGbdt, type GbdtParams } from './gbdt.js';
import {
  brierScore,
  calibratedPd,
  chooseCalibration,
  defaultCalibration,
  type CalibrationMethod,
} from './calibration.js';
import { checkCosts, evaluate, GERMAN_COSTS, type CostMatrix, type ModelMetrics } from './metrics.js';
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
  type FeatureSelectionEntry,
  type ModelFeature,
  type ModelFile,
  type ModelKind,
  type ScorecardModelFile,
  type TuningInfo,
} from './model-file.js';
import { directionalCodes, reasonSpecFor } from './reasons.js';
import { checkTimeColumn } from './review.js';
import { checkScaling, DEFAULT_SCALING, type Scaling } from './scaling.js';
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
  /** What a wrong decision costs (default GERMAN_COSTS): sets the cut-off of expected cost and of fairness approvals. */
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
  /** GBDT fold fits (tuning, calibration) on up to this many worker threads; see TuneOptions.jobs. */
  readonly jobs?: number;
  /**
   * PD calibration on out-of-fold margins (default: see defaultCalibrationFor; auto = the lower cross-validated log
   * loss of Platt and isotonic).
   */
  readonly calibration?: CalibrationMethod;
  /** GBDT monotone constraints by column name: +1 PD rises with the value, −1 falls. */
  readonly monotone?: Readonly<Record<string, 1 | -1>>;
  /** Creation instant (epoch ms), injected. */
  readonly now: number;
  /**
   * Times the run for training.durationMs (default: the system clock). A pinned clock, as `model train` makes from
   * SOURCE_DATE_EPOCH, records 0: with createdAt pinned too, the same data, options and seed give the same bytes.
   */
  readonly clock?: Clock;
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
  checkTypedColumns(header, request);
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

/**
 * Refuses a forced type on a column the data does not have (a typo would leave the real column's type to detection
 * without a word) or on the target, which is never a feature.
 */
function checkTypedColumns(header: readonly string[], request: TrainRequest): void {
  for (const name of Object.keys(request.types ?? {})) {
    const problem = !header.includes(name)
      ? 'is not in the header'
      : name === request.target
        ? 'is the target'
        : '';
    if (problem !== '')
      throw new LgError('LG_DATA_INVALID', `--types names column "${name}", which ${problem}`, {
        column: name,
      });
  }
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

type Progress = (stage: string, fraction: number) => void;
type ModelDraft = Omit<ScorecardModelFile, 'training'> | Omit<GbdtModelFile, 'training'>;
type HoldoutSplit = { readonly train: readonly number[]; readonly test: readonly number[] };

export async function trainModel(request: TrainRequest): Promise<TrainOutcome> {
  const clock = request.clock ?? systemClock;
  const started = clock.now();
  const progress = request.onProgress ?? ((): void => undefined);
  const settings = trainSettings(request);
  const data = readTrainingData(request, progress);
  const { split, trainData } = splitTrainingRows(data.dataset, settings, request.target);
  if (settings.kind === 'gbdt')
    for (const name of nearUniqueCategoricals(trainData))
      data.warnings.push(
        `categorical column "${name}" has, in most training rows, a value found in fewer than ${MIN_LEVEL_ROWS} of them (an id?): the GBDT treats such a value as unseen, in training as in scoring, so it learns little or nothing from the column; pass --ignore ${name} to leave it out`,
      );
  const monotone = monotoneByIndex(trainData, request.monotone ?? {});
  const scaling = request.scaling ?? DEFAULT_SCALING;
  const feature = featureWithReasons(request.reasonCodes);
  progress('fit', 0.05);
  const fit: FitContext = {
    request,
    settings,
    trainData,
    monotone,
    base: modelBase(request, scaling),
    feature,
    calibrationMethod:
      request.calibration ?? defaultCalibrationFor(settings.kind, request.tune === true, trainData.rows),
    progress,
    tuneProgress: (done, total) => progress('tune', 0.05 + 0.6 * (done / total)),
  };
  const fitted = settings.kind === 'scorecard' ? fitScorecard(fit) : await fitGbdt(fit);
  const { draft, calibrationInfo } = calibrate(fitted, fit);
  progress('evaluate', 0.9);
  const costs = request.costs ?? GERMAN_COSTS;
  const scored = scoreSplits(draft, data, { split, costs });
  const model = {
    ...draft,
    training: trainingRecord({
      request,
      settings,
      data,
      split,
      trainData,
      monotone,
      fitted,
      calibrationInfo,
      metrics: scored.metrics,
      costs,
      durationMs: clock.now() - started,
    }),
  } as unknown as ModelFile;
  progress('done', 1);
  const evaluation = evaluationColumnsOf(data.table, split, request);
  return {
    model,
    ...(evaluation ? { evaluation } : {}),
    scorer: scorerFromModel(model),
    binnings: fitted.binnings,
    train: scored.train,
    ...(scored.holdout ? { holdout: scored.holdout } : {}),
    warnings: data.warnings,
  };
}

interface TrainSettings {
  readonly kind: ModelKind;
  readonly seed: number;
  readonly holdoutShare: number;
  readonly folds: number;
}

/**
 * The largest seed: seededRandom's xorshift32 state is 32 bits, so it reads a seed modulo 2^32 (2^32 would train
 * the model of 0), and a state of 0 is not one it can run from (it maps 0 to 0x9e3779b9): seeds are 1 … 2^32 − 1.
 */
export const MAX_SEED = 0xffff_ffff;

/** The request's defaults, checked before any data is read. */
function trainSettings(request: TrainRequest): TrainSettings {
  const kind = request.kind ?? 'scorecard';
  const seed = request.seed ?? 42;
  if (!(Number.isInteger(seed) && seed >= 1 && seed <= MAX_SEED))
    throw new LgError('LG_VALIDATION', `seed must be an integer from 1 to ${MAX_SEED}, got ${seed}`);
  // An empty id became the default "model" without a word; a blank one named the model with spaces.
  if (request.id !== undefined && request.id.trim() === '')
    throw new LgError('LG_VALIDATION', `model id (--id) must not be empty, got "${request.id}"`);
  if (request.version !== undefined && !(Number.isInteger(request.version) && request.version >= 1))
    throw new LgError('LG_VALIDATION', `version must be an integer >= 1, got ${request.version}`);
  if (request.scaling !== undefined) checkScaling(request.scaling);
  if (request.costs !== undefined) checkCosts(request.costs);
  const holdoutShare = request.holdoutShare ?? 0.3;
  if (!(holdoutShare >= 0 && holdoutShare < 0.9))
    throw new LgError('LG_VALIDATION', 'holdout share must be in [0, 0.9)');
  const folds = request.folds ?? DEFAULT_TUNE_FOLDS;
  if (!(Number.isInteger(folds) && folds >= 2 && folds <= 20))
    throw new LgError('LG_VALIDATION', 'folds must be an integer from 2 to 20');
  // Refused here, before any data is read, rather than after the hold-out split.
  if (request.jobs !== undefined) tuneJobs(request.jobs);
  if (kind === 'scorecard' && request.monotone !== undefined && Object.keys(request.monotone).length > 0)
    throw new LgError(
      'LG_VALIDATION',
      'monotone constraints are for GBDT; the scorecard bins every numeric feature monotone already',
    );
  return { kind, seed, holdoutShare, folds };
}

interface TrainingData {
  readonly table: CsvTable;
  readonly plan: ColumnPlan;
  readonly dataset: Dataset;
  readonly warnings: string[];
}

/** The CSV read and prepared, with the columns left out (or let in) as protected attributes said in warnings. */
function readTrainingData(request: TrainRequest, progress: Progress): TrainingData {
  const text = typeof request.csv === 'string' ? request.csv : new TextDecoder('utf-8').decode(request.csv);
  if (text.trim() === '') throw new LgError('LG_DATA_INVALID', 'the CSV file is empty', { row: 0 });
  progress('read', 0);
  const table = readCsvTable(text);
  const plan = planColumns(table.header, request);
  if (request.timeColumn !== undefined) {
    const j = table.header.indexOf(request.timeColumn);
    checkTimeColumn(
      request.timeColumn,
      table.rows.map((r) => r[j] ?? ''),
    );
  }
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
  return { table, plan, dataset, warnings };
}

/** The stratified hold-out split, refusing a training part with fewer than two bad or two good rows. */
function splitTrainingRows(
  dataset: Dataset,
  settings: TrainSettings,
  targetColumn: string,
): { split: HoldoutSplit; trainData: Dataset } {
  const split =
    settings.holdoutShare > 0
      ? stratifiedSplit(dataset.target, settings.holdoutShare, settings.seed)
      : { train: [...dataset.target.keys()], test: [] as number[] };
  const trainData = subsetDataset(dataset, split.train);
  let trainBads = 0;
  for (const t of trainData.target) trainBads += t;
  if (trainBads < 2 || trainData.rows - trainBads < 2) {
    throw new LgError('LG_DATA_INVALID', 'too few bad or good rows to train after the hold-out split', {
      column: targetColumn,
    });
  }
  return { split, trainData };
}

/** What every model file starts with, whichever kind it is. */
function modelBase(request: TrainRequest, scaling: Scaling) {
  return {
    format: MODEL_FORMAT as typeof MODEL_FORMAT,
    formatVersion: MODEL_FORMAT_VERSION,
    id: request.id ?? 'model',
    version: request.version ?? 1,
    createdAt: new Date(request.now).toISOString(),
    target: { column: request.target, bad: request.bad },
    scaling,
    software: { name: 'lineguard' as const, toolkitVersion: TOOLKIT_VERSION, node: process.version },
  };
}

/** A binning as a model feature with the reason code(s) it reports under; an unknown code names its column. */
function featureWithReasons(reasonCodes: TrainRequest['reasonCodes']): (b: FeatureBinning) => ModelFeature {
  const specOf = (name: string): ReturnType<typeof reasonSpecFor> => {
    try {
      return reasonSpecFor(name, reasonCodes);
    } catch (error) {
      throw new LgError('LG_VALIDATION', error instanceof Error ? error.message : String(error), {
        column: name,
      });
    }
  };
  return (b) => {
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
}

interface FitContext {
  readonly request: TrainRequest;
  readonly settings: TrainSettings;
  readonly trainData: Dataset;
  readonly monotone: Record<number, 1 | -1>;
  readonly base: ReturnType<typeof modelBase>;
  readonly feature: (b: FeatureBinning) => ModelFeature;
  readonly calibrationMethod: CalibrationMethod;
  readonly progress: Progress;
  readonly tuneProgress: (done: number, total: number) => void;
}

interface FittedModel {
  readonly draft: ModelDraft;
  readonly binnings: readonly FeatureBinning[];
  readonly params: Record<string, unknown>;
  readonly selection: readonly FeatureSelectionEntry[];
  readonly tuning: TuningInfo | undefined;
  readonly oofMargin: Float64Array | undefined;
}

/** A scorecard, tuned first when asked; out-of-fold margins come from tuning or, for calibration, their own folds. */
function fitScorecard(fit: FitContext): FittedModel {
  const { request, settings, trainData } = fit;
  let scParams: ScorecardParams = request.scorecard ?? {};
  let tuning: TuningInfo | undefined;
  let oofMargin: Float64Array | undefined;
  const folds = { seed: settings.seed, folds: settings.folds, onProgress: fit.tuneProgress };
  if (request.tune === true) {
    const tuned = tuneScorecard(trainData, scParams, folds);
    scParams = tuned.params;
    tuning = tuningInfo('grid: minBinShare x l2', tuned);
    oofMargin = tuned.oofMargin;
  } else if (fit.calibrationMethod !== 'none') {
    oofMargin = oofScorecardMargins(trainData, scParams, folds);
  }
  const sc = trainScorecard(trainData, scParams, fit.base.scaling);
  return {
    binnings: sc.allBinnings,
    selection: sc.selection,
    params: { ...scParams, logisticIterations: sc.fit.iterations, converged: sc.fit.converged },
    draft: { ...fit.base, kind: 'scorecard', features: sc.binnings.map(fit.feature), scorecard: sc.part },
    tuning,
    oofMargin,
  };
}

/** A GBDT on every feature, tuned first when asked; out-of-fold margins as for the scorecard. */
async function fitGbdt(fit: FitContext): Promise<FittedModel> {
  const { request, settings, trainData, progress } = fit;
  const binnings = trainData.columns.map((c) => binColumn(c, trainData.target));
  const selection = binnings.map((b) => ({
    feature: b.feature,
    type: b.type,
    iv: b.iv,
    selected: true,
    reason: 'all features enter the trees',
  }));
  let gbParams: GbdtParams = { ...request.gbdt, monotone: fit.monotone };
  let tuning: TuningInfo | undefined;
  let oofMargin: Float64Array | undefined;
  const folds = {
    seed: settings.seed,
    folds: settings.folds,
    onProgress: fit.tuneProgress,
    ...(request.jobs !== undefined ? { jobs: request.jobs } : {}),
  };
  if (request.tune === true) {
    const tuned = await tuneGbdt(trainData, gbParams, folds);
    gbParams = tuned.params;
    tuning = tuningInfo('staged grid: depth x min child weight, then subsampling, then learning rate', tuned);
    oofMargin = tuned.oofMargin;
  } else if (fit.calibrationMethod !== 'none') {
    oofMargin = await oofGbdtMargins(trainData, gbParams, folds);
  }
  const fitFrom = request.tune === true ? 0.65 : 0.05;
  const g = trainGbdt(trainData, gbParams, settings.seed, (f) =>
    progress('fit', fitFrom + (0.9 - fitFrom) * f),
  );
  const { monotone: _m, ...shown } = gbParams;
  return {
    binnings,
    selection,
    params: { ...DEFAULT_GBDT, ...shown, bestRounds: g.bestRounds },
    draft: { ...fit.base, kind: 'gbdt', features: binnings.map(fit.feature), gbdt: g.part },
    tuning,
    oofMargin,
  };
}

/** The PD calibration fitted on the out-of-fold margins, when one is asked for and there are margins. */
function calibrate(
  fitted: FittedModel,
  fit: FitContext,
): { draft: ModelDraft; calibrationInfo: ModelFile['training']['calibration'] } {
  const { calibrationMethod, trainData } = fit;
  const { oofMargin } = fitted;
  if (calibrationMethod === 'none' || oofMargin === undefined)
    return { draft: fitted.draft, calibrationInfo: undefined };
  const { method, calibration, cvBrier, cvLogLoss } = chooseCalibration(
    calibrationMethod,
    oofMargin,
    trainData.target,
  );
  const calibrationInfo = {
    method,
    requested: calibrationMethod,
    folds: fit.settings.folds,
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
  return { draft: { ...fitted.draft, calibration }, calibrationInfo };
}

interface ScoredSplits {
  readonly train: ScoredPart;
  readonly holdout: ScoredPart | undefined;
  readonly metrics: { train: ModelMetrics; holdout?: ModelMetrics };
}

/** The draft scored on the training and hold-out rows (its training record is not needed to score). */
function scoreSplits(
  draft: ModelDraft,
  data: TrainingData,
  evaluation: { split: HoldoutSplit; costs: CostMatrix },
): ScoredSplits {
  const { split, costs } = evaluation;
  const provisional = scorerFromModel({ ...draft, training: placeholderTraining() });
  const train = scoreRows(provisional, data.table, split.train, data.dataset.target);
  const holdout =
    split.test.length > 0 ? scoreRows(provisional, data.table, split.test, data.dataset.target) : undefined;
  const metrics: { train: ModelMetrics; holdout?: ModelMetrics } = {
    train: evaluate(train.pd, train.target, costs),
    ...(holdout ? { holdout: evaluate(holdout.pd, holdout.target, costs) } : {}),
  };
  return { train, holdout, metrics };
}

interface TrainingRecordInput {
  readonly request: TrainRequest;
  readonly settings: TrainSettings;
  readonly data: TrainingData;
  readonly split: HoldoutSplit;
  readonly trainData: Dataset;
  readonly monotone: Record<number, 1 | -1>;
  readonly fitted: FittedModel;
  readonly calibrationInfo: ModelFile['training']['calibration'];
  readonly metrics: ScoredSplits['metrics'];
  readonly costs: CostMatrix;
  readonly durationMs: number;
}

/** The model file's training section: data, settings, metrics, feature selection and the protected-attribute plan. */
function trainingRecord(input: TrainingRecordInput) {
  const { request, settings, data, split, fitted, calibrationInfo } = input;
  const { table, plan, dataset } = data;
  let bads = 0;
  for (const t of dataset.target) bads += t;
  const monotoneByName = Object.fromEntries(
    Object.entries(input.monotone).map(([j, sign]) => [input.trainData.columns[Number(j)]!.name, sign]),
  );
  return {
    dataSha256: sha256Hex(request.csv),
    rows: dataset.rows,
    bads,
    seed: settings.seed,
    holdoutShare: settings.holdoutShare,
    trainRows: split.train.length,
    holdoutRows: split.test.length,
    params: { ...fitted.params, costs: input.costs },
    metrics: input.metrics,
    selection: [
      ...fitted.selection,
      ...plan.excludedProtected.map((name) => ({
        feature: name,
        type: columnTypeOf(table, name),
        iv: 0,
        selected: false,
        reason: 'protected attribute: not a model input (Reg B 12 CFR 1002.6(b))',
      })),
    ],
    warnings: data.warnings,
    durationMs: input.durationMs,
    ...(fitted.tuning ? { tuning: fitted.tuning } : {}),
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
  };
}

/** The group and time columns' values on the evaluation part (hold-out, or training without one). */
function evaluationColumnsOf(
  table: CsvTable,
  split: HoldoutSplit,
  request: TrainRequest,
): EvaluationColumns | undefined {
  const evalRows = split.test.length > 0 ? split.test : split.train;
  const columnValues = (name: string | undefined): string[] | undefined => {
    if (name === undefined) return undefined;
    const j = table.header.indexOf(name);
    return evalRows.map((r) => table.rows[r]![j] ?? '');
  };
  const group = columnValues(request.groupColumn);
  const time = columnValues(request.timeColumn);
  return group || time ? { ...(group ? { group } : {}), ...(time ? { time } : {}) } : undefined;
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
