/**
 * `lineguard model …`: train, score, monitor and register credit models. The actions call the exported pure-ish
 * functions below (they read and write files but never exit the process), so tests run them in-process.
 * Exit codes: 0 ok, 2 invalid input (bad data, bad model file, bad option, missing file), 1 anything else.
 */
import { randomBytes } from 'node:crypto';
import {
  accessSync,
  constants,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { dirname, basename, join, resolve, sep } from 'node:path';
import cliProgress from 'cli-progress';
import type { Command } from 'commander';
import { systemClock, type Clock } from '../../domain/index.js';
import { isLgError, LgError } from '../../domain/index.js';
import { formatCsv, readCsvTable } from '../../scoring/index.js';
import type { CalibrationMethod, CostMatrix } from '../../scoring/index.js';
import { GERMAN_COSTS } from '../../scoring/index.js';
import { compareModels, comparisonTarget, formatComparisonText } from '../../scoring/index.js';
import type { ComparisonResult } from '../../scoring/index.js';
import type { FeatureType } from '../../scoring/index.js';
import type { ModelKind } from '../../scoring/index.js';
import { formatMonitorText, monitorModel, type MonitorResult } from '../../scoring/index.js';
import type { ModelRegistry, RegisteredModel } from '../../scoring/index.js';
import { renderReport } from '../../scoring/index.js';
import { DEFAULT_SCALING } from '../../scoring/index.js';
import { scorerFromModel, type ModelScorerWithText } from '../../scoring/index.js';
import { rowRecord, trainModel } from '../../scoring/index.js';

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_INVALID_INPUT = 2;

/** One file a command writes: its path as the user gave it, what it is (for errors), and its content. */
export interface OutputFile {
  readonly path: string;
  readonly what: string;
  readonly content: string;
}

const errorCode = (error: unknown): string =>
  (error as NodeJS.ErrnoException).code ?? (error instanceof Error ? error.message : String(error));

const cannotWrite = (file: Pick<OutputFile, 'path' | 'what'>, error: unknown): LgError =>
  new LgError('LG_VALIDATION', `cannot write ${file.what} ${file.path}: ${errorCode(error)}`);

function removeQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // never created, or already gone
  }
}

/**
 * Writes every file through a temporary file in its own directory and renames them only once all are written, so a
 * reader never sees a partial file and a failure leaves none of them behind (a file renamed before a later rename
 * failed is removed again). Errors name the user's path, not the hidden temporary one.
 */
export function writeFilesAtomic(files: readonly OutputFile[]): void {
  const staged = files.map((file) => ({
    file,
    tmp: join(
      dirname(file.path),
      `.${basename(file.path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`,
    ),
  }));
  const written: string[] = [];
  try {
    for (const { file, tmp } of staged) {
      try {
        writeFileSync(tmp, file.content);
      } catch (error) {
        throw cannotWrite(file, error);
      }
    }
    for (const { file, tmp } of staged) {
      try {
        renameSync(tmp, file.path);
      } catch (error) {
        throw cannotWrite(file, error);
      }
      written.push(file.path);
    }
  } catch (error) {
    for (const { tmp } of staged) removeQuietly(tmp);
    for (const path of written) removeQuietly(path);
    throw error;
  }
}

export function writeFileAtomic(path: string, content: string, what = 'file'): void {
  writeFilesAtomic([{ path, what, content }]);
}

/**
 * Refuses, before any work, two of the given files that are one path (the report would replace the model, the model
 * the data), an output that is a directory and one whose directory cannot be written to: found after training, the
 * run would be lost, and a rename that fails after another succeeded could only be undone by removing that file.
 */
function checkOutputPaths(files: readonly { path: string; what: string; output: boolean }[]): void {
  files.forEach((a, i) =>
    files.slice(i + 1).forEach((b) => {
      if (resolve(a.path) === resolve(b.path))
        throw new LgError('LG_VALIDATION', `${a.what} and ${b.what} are the same file (${b.path})`);
    }),
  );
  for (const file of files.filter((f) => f.output)) {
    try {
      accessSync(dirname(resolve(file.path)), constants.W_OK);
    } catch (error) {
      throw cannotWrite(file, error);
    }
    if (statSync(file.path, { throwIfNoEntry: false })?.isDirectory() === true)
      throw cannotWrite(file, { code: 'EISDIR' });
  }
}

function readInput(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new LgError(
      'LG_VALIDATION',
      `cannot read ${what} ${path}: ${code ?? (error instanceof Error ? error.message : String(error))}`,
    );
  }
}

export function loadModelFile(path: string): ModelScorerWithText {
  const text = readInput(path, 'model file').toString('utf8');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new LgError(
      'LG_MODEL_INVALID',
      `model file ${path} is not JSON: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  return scorerFromModel(json);
}

/** The largest SOURCE_DATE_EPOCH a Date can hold (8.64e15 ms after the epoch). */
const MAX_EPOCH_SECONDS = 8_640_000_000_000;

/**
 * The clock `model train` runs on: the system clock, or one pinned at SOURCE_DATE_EPOCH (whole seconds since the
 * epoch, the reproducible-builds convention) so a reviewer can rebuild a model file byte for byte: createdAt is that
 * instant and durationMs 0. Malformed values are refused (the convention asks tools to fail rather than guess); an
 * empty one is unset, as `SOURCE_DATE_EPOCH= lineguard …` means.
 */
export function clockFromEnvironment(env: Readonly<Record<string, string | undefined>>): Clock {
  const value = env.SOURCE_DATE_EPOCH;
  if (value === undefined || value === '') return systemClock;
  if (!/^\d+$/.test(value) || Number(value) > MAX_EPOCH_SECONDS)
    throw new LgError(
      'LG_VALIDATION',
      `SOURCE_DATE_EPOCH must be whole seconds since 1970-01-01 (as date +%s prints), at most ${MAX_EPOCH_SECONDS}, got "${value}"`,
    );
  const pinned = Number(value) * 1000;
  return { now: () => pinned };
}

export interface TrainCommandOptions {
  readonly data: string;
  readonly target: string;
  readonly bad: string;
  readonly out: string;
  readonly kind?: ModelKind;
  readonly report?: string;
  readonly seed?: number;
  readonly id?: string;
  readonly version?: number;
  readonly holdout?: number;
  readonly types?: Readonly<Record<string, FeatureType>>;
  readonly ignore?: readonly string[];
  readonly basePoints?: number;
  readonly baseOdds?: number;
  readonly pdo?: number;
  /** What a wrong decision costs (default GERMAN_COSTS): the cut-off of expected cost and fairness approvals. */
  readonly costs?: CostMatrix;
  readonly tune?: boolean;
  readonly folds?: number;
  readonly jobs?: number;
  readonly calibration?: CalibrationMethod;
  readonly monotone?: Readonly<Record<string, 1 | -1>>;
  readonly allowProtected?: boolean;
  readonly protectedAttributes?: readonly string[];
  readonly groupColumn?: string;
  readonly timeColumn?: string;
  readonly onProgress?: (stage: string, fraction: number) => void;
}

export interface TrainSummary {
  readonly out: string;
  readonly report?: string;
  readonly kind: ModelKind;
  readonly id: string;
  readonly version: number;
  readonly features: readonly string[];
  readonly metrics: unknown;
  readonly tuning?: unknown;
  readonly calibration?: unknown;
  readonly warnings: readonly string[];
}

export async function runModelTrain(
  options: TrainCommandOptions,
  clock: Clock = systemClock,
): Promise<TrainSummary> {
  checkOutputPaths([
    { path: options.data, what: 'the data file', output: false },
    { path: options.out, what: 'model file', output: true },
    ...(options.report !== undefined ? [{ path: options.report, what: 'report', output: true }] : []),
  ]);
  const csv = readInput(options.data, 'data file');
  const outcome = await trainModel({
    csv,
    target: options.target,
    bad: options.bad,
    now: clock.now(),
    clock,
    ...(options.kind ? { kind: options.kind } : {}),
    ...(options.seed !== undefined ? { seed: options.seed } : {}),
    ...(options.id !== undefined ? { id: options.id } : {}),
    ...(options.version !== undefined ? { version: options.version } : {}),
    ...(options.holdout !== undefined ? { holdoutShare: options.holdout } : {}),
    ...(options.types ? { types: options.types } : {}),
    ...(options.ignore ? { ignore: options.ignore } : {}),
    scaling: {
      basePoints: options.basePoints ?? DEFAULT_SCALING.basePoints,
      baseOdds: options.baseOdds ?? DEFAULT_SCALING.baseOdds,
      pdo: options.pdo ?? DEFAULT_SCALING.pdo,
    },
    ...(options.costs !== undefined ? { costs: options.costs } : {}),
    ...(options.tune !== undefined ? { tune: options.tune } : {}),
    ...(options.folds !== undefined ? { folds: options.folds } : {}),
    ...(options.jobs !== undefined ? { jobs: options.jobs } : {}),
    ...(options.calibration !== undefined ? { calibration: options.calibration } : {}),
    ...(options.monotone !== undefined ? { monotone: options.monotone } : {}),
    ...(options.allowProtected !== undefined ? { allowProtected: options.allowProtected } : {}),
    ...(options.protectedAttributes !== undefined
      ? { protectedAttributes: options.protectedAttributes }
      : {}),
    ...(options.groupColumn !== undefined ? { groupColumn: options.groupColumn } : {}),
    ...(options.timeColumn !== undefined ? { timeColumn: options.timeColumn } : {}),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
  });
  // Render everything before writing anything: a failure leaves no partial output behind.
  const modelText = `${JSON.stringify(outcome.model, null, 2)}\n`;
  const reportText = options.report ? renderReport(outcome) : undefined;
  writeFilesAtomic([
    { path: options.out, what: 'model file', content: modelText },
    ...(options.report !== undefined && reportText !== undefined
      ? [{ path: options.report, what: 'report', content: reportText }]
      : []),
  ]);
  return {
    out: options.out,
    ...(options.report ? { report: options.report } : {}),
    kind: outcome.model.kind,
    id: outcome.model.id,
    version: outcome.model.version,
    features: outcome.model.features.map((f) => f.name),
    metrics: outcome.model.training.metrics,
    ...(outcome.model.training.tuning
      ? {
          tuning: {
            folds: outcome.model.training.tuning.folds,
            chosen: outcome.model.training.tuning.chosen,
            meanAuc: outcome.model.training.tuning.meanAuc,
          },
        }
      : {}),
    ...(outcome.model.training.calibration ? { calibration: outcome.model.training.calibration } : {}),
    warnings: outcome.warnings,
  };
}

export const SCORE_COLUMNS = ['score', 'pd', 'reason1', 'reason2', 'reason3', 'reason4'] as const;

/** Scores every row of a CSV (same order) into a CSV of score, pd and up to four "CODE: text" reasons. */
export function scoreCsvText(scorer: ModelScorerWithText, csvText: string): string {
  const table = readCsvTable(csvText);
  for (const name of scorer.features) {
    if (!table.header.includes(name)) {
      throw new LgError('LG_DATA_INVALID', `data has no column "${name}" that the model needs`, {
        column: name,
      });
    }
  }
  const rows = table.rows.map((_, i) => {
    const s = scorer.score(rowRecord(table, i));
    const reasons = s.reasons.map((r) => `${r.code}: ${r.text}`);
    return [s.score, String(s.pd), ...Array.from({ length: 4 }, (_, k) => reasons[k] ?? '')];
  });
  return formatCsv(SCORE_COLUMNS, rows);
}

export function runModelScore(options: { model: string; data: string; out: string }): { rows: number } {
  const scorer = loadModelFile(options.model);
  const text = scoreCsvText(scorer, readInput(options.data, 'data file').toString('utf8'));
  writeFileAtomic(options.out, text, 'scores file');
  return { rows: text.split('\n').length - 2 };
}

export function runModelMonitor(options: {
  model: string;
  baseline: string;
  current: string;
}): MonitorResult {
  const scorer = loadModelFile(options.model);
  const baseline = readCsvTable(readInput(options.baseline, 'baseline file').toString('utf8'));
  const current = readCsvTable(readInput(options.current, 'current file').toString('utf8'));
  return monitorModel(scorer, baseline, current);
}

export async function runModelRegister(
  registry: ModelRegistry,
  options: { model: string; id?: string; version?: number; registeredBy?: string },
): Promise<RegisteredModel> {
  const scorer = loadModelFile(options.model);
  return registry.register(scorer.model, {
    ...(options.id ? { id: options.id } : {}),
    ...(options.version !== undefined ? { version: options.version } : {}),
    registeredBy: options.registeredBy ?? 'cli',
  });
}

/**
 * A name per model file for the comparison: its file name, with as many parent folders as it takes to tell it from
 * the others (d1/m.json, d2/m.json); one file given twice is told apart by a count (m.json, m.json #2).
 */
export function distinguishingNames(paths: readonly string[]): string[] {
  const parts = paths.map((p) => resolve(p).split(sep));
  const names = parts.map((segments, i) => {
    for (let depth = 1; depth < segments.length; depth++) {
      const tail = segments.slice(-depth).join(sep);
      const clash = parts.some(
        (other, j) =>
          j !== i && other.join(sep) !== segments.join(sep) && other.slice(-depth).join(sep) === tail,
      );
      if (!clash) return tail;
    }
    return segments.join(sep);
  });
  return names.map((name, i) => {
    const before = names.slice(0, i).filter((n) => n === name).length;
    return before === 0 ? name : `${name} #${before + 1}`;
  });
}

/**
 * Scores a hold-out CSV with every model and compares them (metrics and pairwise DeLong tests). The hold-out's
 * target and the models' features are checked as training checks its data (comparisonTarget).
 */
export function runModelCompare(options: {
  models: readonly string[];
  data: string;
  target: string;
  bad: string;
}): ComparisonResult & { readonly warnings: readonly string[] } {
  if (options.models.length < 2)
    throw new LgError('LG_VALIDATION', '--models needs at least two model files to compare');
  const names = distinguishingNames(options.models);
  const scorers = options.models.map((path, i) => ({ name: names[i]!, scorer: loadModelFile(path) }));
  const table = readCsvTable(readInput(options.data, 'data file').toString('utf8'));
  const targetIndex = table.header.indexOf(options.target);
  if (targetIndex < 0)
    throw new LgError('LG_DATA_INVALID', `data has no target column "${options.target}"`, {
      column: options.target,
    });
  for (const { name: model, scorer } of scorers)
    for (const name of scorer.features)
      if (!table.header.includes(name))
        throw new LgError('LG_DATA_INVALID', `data has no column "${name}" that model ${model} needs`, {
          column: name,
        });
  const { target, warnings } = comparisonTarget(
    table,
    scorers.map(({ scorer }) => scorer.model),
    options.target,
    options.bad,
  );
  const bads = target.reduce((a, b) => a + b, 0);
  if (bads < 2 || target.length - bads < 2)
    throw new LgError(
      'LG_DATA_INVALID',
      `comparison needs at least two bad ("${options.bad}") and two good rows`,
      {
        column: options.target,
      },
    );
  const records = table.rows.map((_, i) => rowRecord(table, i));
  const result = compareModels(
    scorers.map(({ name, scorer }) => ({
      name,
      id: scorer.id,
      version: scorer.version,
      kind: scorer.kind,
      pd: Float64Array.from(records, (row) => scorer.score(row).pd),
    })),
    target,
  );
  return { ...result, warnings };
}

/** "Feature:+1,Other:-1" */
export function parseMonotone(value: string): Record<string, 1 | -1> {
  const out: Record<string, 1 | -1> = {};
  for (const part of value.split(',').filter((p) => p.trim() !== '')) {
    const at = part.lastIndexOf(':');
    const name = part.slice(0, at).trim();
    const sign = part.slice(at + 1).trim();
    if (at <= 0 || !['+1', '1', '-1'].includes(sign))
      throw new LgError('LG_VALIDATION', `--monotone entry "${part}" must look like COLUMN:+1 or COLUMN:-1`);
    // The last entry silently won; two constraints on one column are a contradiction or a typo.
    if (Object.hasOwn(out, name)) throw new LgError('LG_VALIDATION', `--monotone names "${name}" twice`);
    out[name] = sign === '-1' ? -1 : 1;
  }
  return out;
}

const list = (value: string): string[] =>
  value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');

/** 2 for anything the user can fix in their input (a 4xx LgError), 1 otherwise. */
export function exitCodeFor(error: unknown): number {
  if (isLgError(error) && error.status >= 400 && error.status < 500) return EXIT_INVALID_INPUT;
  return EXIT_FAILURE;
}

function describe(error: unknown): string {
  if (isLgError(error)) {
    const d = error.details as { column?: string; row?: number } | undefined;
    const where = [
      d?.column !== undefined ? `column ${d.column}` : '',
      d?.row !== undefined ? `row ${d.row}` : '',
    ]
      .filter(Boolean)
      .join(', ');
    return `${error.code}: ${error.message}${where ? ` (${where})` : ''}`;
  }
  return error instanceof Error ? error.message : String(error);
}

function int(name: string): (value: string) => number {
  return (value) => {
    if (!/^-?\d+$/.test(value))
      throw new LgError('LG_VALIDATION', `--${name} must be an integer, got "${value}"`);
    return Number(value);
  };
}

function float(name: string): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n))
      throw new LgError('LG_VALIDATION', `--${name} must be a number, got "${value}"`);
    return n;
  };
}

/** "Age:numeric,Job:categorical" */
export function parseTypes(value: string): Record<string, FeatureType> {
  const out: Record<string, FeatureType> = {};
  for (const part of value.split(',').filter((p) => p.trim() !== '')) {
    const at = part.lastIndexOf(':');
    const name = part.slice(0, at).trim();
    const type = part.slice(at + 1).trim();
    if (at <= 0 || (type !== 'numeric' && type !== 'categorical')) {
      throw new LgError(
        'LG_VALIDATION',
        `--types entry "${part}" must look like COLUMN:numeric or COLUMN:categorical`,
      );
    }
    out[name] = type;
  }
  return out;
}

function progressReporter(): { onProgress?: (stage: string, fraction: number) => void; stop(): void } {
  // A bar only on a terminal: piped or logged stderr gets no control characters.
  if (!process.stderr.isTTY) return { stop: () => undefined };
  const bar = new cliProgress.SingleBar(
    { stream: process.stderr, format: 'training {bar} {percentage}% {stage}' },
    cliProgress.Presets.shades_classic,
  );
  bar.start(100, 0, { stage: 'read' });
  return {
    onProgress: (stage, fraction) => bar.update(Math.round(100 * fraction), { stage }),
    stop: () => bar.stop(),
  };
}

async function guarded(work: () => Promise<void> | void): Promise<void> {
  try {
    await work();
  } catch (error) {
    process.stderr.write(`error: ${describe(error)}\n`);
    process.exitCode = exitCodeFor(error);
  }
}

type TrainFlags = Record<string, string | boolean | undefined>;
type OpenModelDeps = () => Promise<{ registry: ModelRegistry; close(): Promise<void> }>;

// Usage errors (a missing required option, an unknown option) are invalid input: exit 2, not commander's 1.
const usageExit = (err: { exitCode: number }): never =>
  process.exit(err.exitCode === 0 ? 0 : EXIT_INVALID_INPUT);

export function registerModelCommand(program: Command, openDeps: OpenModelDeps): Command {
  const model = program
    .command('model')
    .description('train, score, monitor and register credit models (scorecard or GBDT)');
  registerTrain(model);
  registerScore(model);
  registerMonitor(model);
  registerCompare(model);
  registerRegister(model, openDeps);
  return model;
}

function registerTrain(model: Command): void {
  model
    .command('train')
    .exitOverride(usageExit)
    .description('train a scorecard or gradient-boosted trees from a CSV with a header')
    .requiredOption('--data <file>', 'training CSV')
    .requiredOption('--target <column>', 'target column')
    .requiredOption('--bad <value>', 'target value that marks a bad outcome')
    .requiredOption('--out <file>', 'model JSON to write')
    .option('--kind <kind>', 'scorecard | gbdt', 'scorecard')
    .option('--report <file>', 'HTML report to write')
    .option('--seed <n>', 'seed of the hold-out split and subsampling (1 to 4294967295)', '42')
    .option('--id <id>', 'model id')
    .option('--version <n>', 'model version')
    .option('--holdout <share>', 'stratified hold-out share (0 = none)', '0.3')
    .option('--types <list>', 'force column types, e.g. "Age:numeric,Job:categorical"')
    .option('--ignore <list>', 'comma-separated columns to leave out')
    .option('--base-points <n>', 'points at the base odds', String(DEFAULT_SCALING.basePoints))
    .option('--base-odds <n>', 'good:bad odds that score the base points', String(DEFAULT_SCALING.baseOdds))
    .option('--pdo <n>', 'points to double the odds', String(DEFAULT_SCALING.pdo))
    .option(
      '--cost-bad-accepted <n>',
      'cost of accepting an applicant who turns bad; with --cost-good-declined it sets the cut-off of expected cost and fairness approvals (defaults: the German Statlog matrix)',
      String(GERMAN_COSTS.badAccepted),
    )
    .option(
      '--cost-good-declined <n>',
      'cost of declining an applicant who would have been good',
      String(GERMAN_COSTS.goodDeclined),
    )
    .option('--tune', 'choose hyper-parameters by k-fold AUC on the training rows (seeded)')
    .option('--folds <n>', 'folds for --tune and calibration', '5')
    .option(
      '--jobs <n>',
      'GBDT fold fits (--tune, calibration) on up to n worker threads; 1 = none (default: env LINEGUARD_TUNE_JOBS, else every core)',
    )
    .option(
      '--calibrate <method>',
      'none | platt | isotonic | auto (lower cross-validated log loss) on out-of-fold predictions (default with --tune: auto for a scorecard; for GBDT isotonic from 1,000 training rows, else platt)',
    )
    .option(
      '--monotone <list>',
      'GBDT monotone constraints, e.g. "Duration:+1,Income:-1" (+1: PD rises with the value)',
    )
    .option('--allow-protected', 'train on protected attributes anyway (recorded in the model file)')
    .option('--protected <list>', 'protected-attribute column names (replaces the default list)')
    .option(
      '--group-column <column>',
      'evaluation-only group column for the fairness section (never a feature)',
    )
    .option('--time-column <column>', 'evaluation-only date column for stability over time (never a feature)')
    .addHelpText(
      'after',
      '\nEnvironment:\n  SOURCE_DATE_EPOCH=<seconds>  pin createdAt to this instant (and record durationMs 0): the same data, options\n                               and seed then give a byte-identical model file and report\n',
    )
    .action((o: TrainFlags) => guarded(() => trainAction(o)));
}

const flagText = (v: string | boolean | undefined): string | undefined =>
  typeof v === 'string' ? v : undefined;

/** `model train`: check --calibrate and --kind, train with a progress bar on a terminal, print the summary. */
async function trainAction(o: TrainFlags): Promise<void> {
  const kind = o.kind;
  const calibrate = flagText(o.calibrate);
  if (
    calibrate !== undefined &&
    calibrate !== 'none' &&
    calibrate !== 'platt' &&
    calibrate !== 'isotonic' &&
    calibrate !== 'auto'
  )
    throw new LgError(
      'LG_VALIDATION',
      `--calibrate must be none, platt, isotonic or auto, got "${calibrate}"`,
    );
  if (kind !== 'scorecard' && kind !== 'gbdt')
    throw new LgError('LG_VALIDATION', `--kind must be scorecard or gbdt, got "${String(kind)}"`);
  const clock = clockFromEnvironment(process.env);
  const progress = progressReporter();
  try {
    const summary = await runModelTrain(
      trainCommandOptions(o, { kind, calibrate, onProgress: progress.onProgress }),
      clock,
    );
    progress.stop();
    for (const w of summary.warnings) process.stderr.write(`warning: ${w}\n`);
    process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
  } finally {
    progress.stop();
  }
}

/** The flags as runModelTrain's options, each number parsed (and refused) in the order the flags are listed. */
function trainCommandOptions(
  o: TrainFlags,
  checked: {
    kind: ModelKind;
    calibrate: CalibrationMethod | undefined;
    onProgress: ((stage: string, fraction: number) => void) | undefined;
  },
): TrainCommandOptions {
  const str = flagText;
  const { kind, calibrate, onProgress } = checked;
  return {
    data: String(o.data),
    target: String(o.target),
    bad: String(o.bad),
    out: String(o.out),
    kind,
    ...(o.report !== undefined ? { report: String(o.report) } : {}),
    ...(str(o.seed) !== undefined ? { seed: int('seed')(str(o.seed)!) } : {}),
    ...(o.id !== undefined ? { id: String(o.id) } : {}),
    ...(str(o.version) !== undefined ? { version: int('version')(str(o.version)!) } : {}),
    ...(str(o.holdout) !== undefined ? { holdout: float('holdout')(str(o.holdout)!) } : {}),
    ...(o.types !== undefined ? { types: parseTypes(String(o.types)) } : {}),
    ...(o.ignore !== undefined
      ? {
          ignore: String(o.ignore)
            .split(',')
            .map((s) => s.trim()),
        }
      : {}),
    ...(str(o.basePoints) !== undefined ? { basePoints: float('base-points')(str(o.basePoints)!) } : {}),
    ...(str(o.baseOdds) !== undefined ? { baseOdds: float('base-odds')(str(o.baseOdds)!) } : {}),
    ...(str(o.pdo) !== undefined ? { pdo: float('pdo')(str(o.pdo)!) } : {}),
    costs: {
      badAccepted: float('cost-bad-accepted')(str(o.costBadAccepted) ?? String(GERMAN_COSTS.badAccepted)),
      goodDeclined: float('cost-good-declined')(str(o.costGoodDeclined) ?? String(GERMAN_COSTS.goodDeclined)),
    },
    ...(o.tune === true ? { tune: true } : {}),
    ...(str(o.folds) !== undefined ? { folds: int('folds')(str(o.folds)!) } : {}),
    ...(str(o.jobs) !== undefined ? { jobs: int('jobs')(str(o.jobs)!) } : {}),
    ...(calibrate !== undefined ? { calibration: calibrate } : {}),
    ...(str(o.monotone) !== undefined ? { monotone: parseMonotone(str(o.monotone)!) } : {}),
    ...(o.allowProtected === true ? { allowProtected: true } : {}),
    ...(str(o.protected) !== undefined ? { protectedAttributes: list(str(o.protected)!) } : {}),
    ...(str(o.groupColumn) !== undefined ? { groupColumn: str(o.groupColumn)! } : {}),
    ...(str(o.timeColumn) !== undefined ? { timeColumn: str(o.timeColumn)! } : {}),
    ...(onProgress ? { onProgress } : {}),
  };
}

function registerScore(model: Command): void {
  model
    .command('score')
    .exitOverride(usageExit)
    .description('score every row of a CSV: score, pd, reason1..reason4')
    .requiredOption('--model <file>', 'model JSON')
    .requiredOption('--data <file>', 'CSV to score')
    .requiredOption('--out <file>', 'scores CSV to write')
    .action((o: { model: string; data: string; out: string }) =>
      guarded(() => {
        const r = runModelScore(o);
        process.stdout.write(`scored ${r.rows} rows into ${o.out}\n`);
      }),
    );
}

function registerMonitor(model: Command): void {
  model
    .command('monitor')
    .exitOverride(usageExit)
    .description('population stability: PSI of the score and CSI of each feature')
    .requiredOption('--model <file>', 'model JSON')
    .requiredOption('--baseline <file>', 'baseline CSV (e.g. the training population)')
    .requiredOption('--current <file>', 'current CSV')
    .option('--json', 'print JSON')
    .action((o: { model: string; baseline: string; current: string; json?: boolean }) =>
      guarded(() => {
        const r = runModelMonitor(o);
        process.stdout.write(o.json ? `${JSON.stringify(r, null, 2)}\n` : formatMonitorText(r));
      }),
    );
}

function registerCompare(model: Command): void {
  model
    .command('compare')
    .exitOverride(usageExit)
    .description('compare models on one hold-out CSV: AUC, KS, Gini, log loss, Brier and DeLong tests')
    .requiredOption('--models <files...>', 'two or more model JSON files')
    .requiredOption('--data <file>', 'hold-out CSV with the target column')
    .requiredOption('--target <column>', 'target column')
    .requiredOption('--bad <value>', 'target value that marks a bad outcome')
    .option('--json', 'print JSON')
    .action((o: { models: string[]; data: string; target: string; bad: string; json?: boolean }) =>
      guarded(() => {
        const r = runModelCompare(o);
        for (const w of r.warnings) process.stderr.write(`warning: ${w}\n`);
        process.stdout.write(o.json ? `${JSON.stringify(r, null, 2)}\n` : formatComparisonText(r));
      }),
    );
}

function registerRegister(model: Command, openDeps: OpenModelDeps): void {
  model
    .command('register')
    .exitOverride(usageExit)
    .description('store a model file in the registry (immutable id + version)')
    .requiredOption('--model <file>', 'model JSON')
    .option('--id <id>', 'registry id (default: the file id)')
    .option('--version <n>', 'version (default: latest + 1)')
    .action((o: { model: string; id?: string; version?: string }) =>
      guarded(async () => {
        const version = o.version === undefined ? undefined : int('version')(o.version);
        const deps = await openDeps();
        try {
          const r = await runModelRegister(deps.registry, {
            model: o.model,
            ...(o.id ? { id: o.id } : {}),
            ...(version !== undefined ? { version } : {}),
          });
          process.stdout.write(`${JSON.stringify(r)}\n`);
        } finally {
          await deps.close();
        }
      }),
    );
}
