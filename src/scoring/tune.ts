/**
 * Hyper-parameter tuning by stratified k-fold cross-validated AUC on the TRAINING rows only (the hold-out part is
 * never seen), seeded so a rerun chooses the same settings. Every candidate's fold scores are kept for the model file
 * and the report (SR 11-7: document how the model was developed, including the alternatives considered).
 *
 * GBDT: a staged grid (coordinate search, as in the usual XGBoost tuning recipe) — tree structure first (depth ×
 * minimum child weight), then row and column subsampling around the best, then a smaller learning rate; the number
 * of rounds is chosen inside every fold by early stopping on that fold's validation log loss, and the final model uses
 * the mean of the folds' best rounds. The untuned defaults are one more candidate. The out-of-fold margins that
 * calibration is fitted on come from k more fits, one per fold, with the final settings (the chosen ones at that mean
 * round count, no early stopping): a fold's predictions at its own best round were chosen by the log loss of the very
 * rows they predict, and came from a model of another length than the final one, so a calibration fitted on them
 * learnt a margin-to-PD map the final model does not follow (on German credit, Platt slopes about 5% too steep). The
 * fits of one stage do not depend on each other, so they run on worker threads (fold-fits.ts); the stages, which start
 * from the best so far, run one after another, and the result is the same on any number of threads.
 *
 * Scorecard: a full grid over binning granularity (minimum bin share) and the L2 strength of the regression.
 */
import { LgError } from '../domain/index.js';
import { stratifiedFolds, type Dataset } from './dataset.js';
import { foldParts, startFoldFitter, tuneJobs, type FoldFit, type FoldFitter } from './fold-fits.js';
import { DEFAULT_GBDT, type GbdtParams } from './gbdt.js';
import { rocAuc } from './metrics.js';
import { scorecardPd, trainScorecard, type ScorecardParams } from './scorecard.js';
import { DEFAULT_SCALING } from './scaling.js';
import type { TuneCandidate } from './model-file.js';

// Declared with the model file it is written into (importing it from here made a cycle: gbdt -> model-file -> tune).
export type { TuneCandidate };

export const DEFAULT_TUNE_FOLDS = 5;

export interface TuneOptions {
  readonly folds?: number;
  readonly seed: number;
  /** Called after every fold fit with (fits done, fits planned); on threads, in the order the fits finish. */
  readonly onProgress?: (done: number, total: number) => void;
  /**
   * GBDT fold fits on up to this many worker threads (default LINEGUARD_TUNE_JOBS, else every available core; 1 = in
   * this thread). The results are the same whatever the number.
   */
  readonly jobs?: number;
}

export interface TuneResult<P> {
  readonly params: P;
  readonly meanAuc: number;
  readonly folds: number;
  readonly candidates: readonly TuneCandidate[];
  /**
   * Out-of-fold margin (log-odds of bad) of every training row under the chosen settings: for the GBDT, from fold
   * models fitted as the final model is (see tuneGbdt).
   */
  readonly oofMargin: Float64Array;
}

/** GBDT tuning says how many worker threads it ran on (0 = this thread); not part of the result proper. */
export interface GbdtTuneResult extends TuneResult<GbdtParams> {
  readonly threads: number;
}

interface Evaluated<P> {
  readonly candidate: TuneCandidate;
  readonly params: P;
  readonly oofMargin: Float64Array;
  /** Mean of the unrounded fold AUCs: what candidates are ranked by (the recorded ones are rounded to 4 decimals). */
  readonly exactMeanAuc: number;
}

const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
const round4 = (x: number): number => Math.round(x * 1e4) / 1e4;

function describe(params: object): Record<string, number | string> {
  const out: Record<string, number | string> = {};
  for (const [k, v] of Object.entries(params)) if (typeof v === 'number' || typeof v === 'string') out[k] = v;
  return out;
}

/**
 * Candidates whose fold scores tie within 1e-12 keep the earlier (simpler, listed first) one. Ranked on unrounded
 * fold AUCs: rounding each fold to 4 decimals before averaging can reorder two candidates closer than 5e-5.
 */
const better = <P>(a: Evaluated<P>, b: Evaluated<P> | undefined): boolean =>
  b === undefined || a.exactMeanAuc > b.exactMeanAuc + 1e-12;

/**
 * Refuses k folds that cannot each hold a bad and a good row (stratifiedFolds deals each class round-robin, so that
 * needs k of each): such a fold's AUC is NaN, every comparison with NaN is false, and the first candidate would be
 * "chosen" on nothing.
 */
export function requireFoldsHoldBothClasses(target: Uint8Array, folds: number): void {
  let bads = 0;
  for (const t of target) bads += t;
  const goods = target.length - bads;
  if (bads < folds || goods < folds)
    throw new LgError(
      'LG_DATA_INVALID',
      `tuning with ${folds} folds needs at least ${folds} bad and ${folds} good training rows; the training part has ${bads} bad and ${goods} good (use fewer folds or more data)`,
      { folds, bads, goods },
    );
}

/** The GBDT stages: structure, then sampling around the best, then a smaller learning rate. */
export const GBDT_TUNE_STAGES = {
  base: { learningRate: 0.1, rounds: 500, subsample: 0.8, colsample: 0.8, patience: 30 },
  structure: [1, 2, 3, 4].flatMap((maxDepth) =>
    [1, 10].map((minChildWeight) => ({ maxDepth, minChildWeight })),
  ),
  /**
   * The untuned settings compete too, so the chosen settings' k-fold AUC is never below theirs. Laid over the
   * defaults and the caller's settings: inside a fold, early stopping uses the fold's own validation part.
   */
  untuned: { validationShare: 0, refit: false },
  sampling: [0.6, 1].flatMap((subsample) => [0.5, 1].map((colsample) => ({ subsample, colsample }))),
  learningRate: [{ learningRate: 0.05, rounds: 1000, patience: 50 }],
} as const;

/**
 * Fits planned by tuneGbdt (an upper bound: the learning-rate stage is skipped when the best has that rate): the
 * candidates' fold fits and one more per fold with the final settings for the out-of-fold margins.
 */
export function gbdtTuneFits(folds = DEFAULT_TUNE_FOLDS): number {
  const s = GBDT_TUNE_STAGES;
  return folds * (1 + s.structure.length + s.sampling.length + s.learningRate.length + 1);
}

/** The most fold fits tuneGbdt asks for at once (the untuned candidate with the structure stage). */
const largestGbdtBatch = (folds: number): number => folds * (1 + GBDT_TUNE_STAGES.structure.length);

/**
 * Threads for the fits of a run of `widest` fits at most (a worker more than there are fits would only cost its
 * start-up); the fits go back to the caller's order, so the result does not depend on it.
 */
function gbdtFitter(
  data: Dataset,
  folds: number[][],
  options: TuneOptions,
  widest: number,
): Promise<FoldFitter> {
  return startFoldFitter(data, folds, options.seed, Math.min(tuneJobs(options.jobs), widest));
}

/** A candidate from its k fold fits: the recorded (rounded) scores, the exact mean it is ranked by, its OOF margins. */
function evaluated(
  params: GbdtParams,
  fits: readonly FoldFit[],
  folds: readonly number[][],
  data: Dataset,
): Evaluated<GbdtParams> {
  const oofMargin = new Float64Array(data.rows);
  const foldAuc = fits.map((fit, f) => {
    folds[f]!.forEach((row, i) => {
      oofMargin[row] = fit.valMargin[i]!;
    });
    return rocAuc(
      fit.valMargin,
      Uint8Array.from(folds[f]!, (row) => data.target[row]!),
    );
  });
  const { monotone: _monotone, ...shown } = params;
  const candidate = {
    params: describe(shown),
    foldAuc: foldAuc.map(round4),
    meanAuc: round4(mean(foldAuc)),
    foldRounds: fits.map((fit) => fit.bestRounds),
  };
  return { candidate, params, oofMargin, exactMeanAuc: mean(foldAuc) };
}

/**
 * The stages in order. Within a stage every candidate starts from the same best-so-far, so its fits are one batch
 * (parallel on threads); candidates are recorded and compared in the order listed, as one after another would.
 */
async function stagedSearch(
  data: Dataset,
  base: GbdtParams,
  folds: number[][],
  fitter: FoldFitter,
  progress: () => void,
  skipped: (fits: number) => void,
): Promise<{ chosen: Evaluated<GbdtParams>; candidates: TuneCandidate[] }> {
  const k = folds.length;
  const seen: TuneCandidate[] = [];
  const evaluateAll = async (list: readonly GbdtParams[]): Promise<Evaluated<GbdtParams>[]> => {
    const jobs = list.flatMap((params) => folds.map((_, fold) => ({ params, fold })));
    const fits = await fitter.fitAll(jobs, progress);
    return list.map((params, c) => {
      const e = evaluated(params, fits.slice(c * k, (c + 1) * k), folds, data);
      seen.push(e.candidate);
      return e;
    });
  };
  let best: Evaluated<GbdtParams> | undefined;
  const keepBest = (es: readonly Evaluated<GbdtParams>[]): void => {
    for (const e of es) if (better(e, best)) best = e;
  };
  const stage = async (variants: readonly GbdtParams[]): Promise<void> => {
    const from = best!.params;
    keepBest(await evaluateAll(variants.map((v) => ({ ...from, ...v }))));
  };
  // First candidate: what `model train` without --tune fits (the caller's settings over the defaults). Nothing is
  // chosen yet, so the structure variants start from the stage base, and both go in one batch.
  const start: GbdtParams = { ...base, ...GBDT_TUNE_STAGES.base };
  const [defaults, ...structure] = await evaluateAll([
    { ...DEFAULT_GBDT, ...base, ...GBDT_TUNE_STAGES.untuned },
    ...GBDT_TUNE_STAGES.structure.map((v) => ({ ...start, ...v })),
  ]);
  keepBest(structure);
  // The defaults join after the structure stage: sampling and learning-rate variants start from the best so far.
  keepBest([defaults!]);
  await stage(GBDT_TUNE_STAGES.sampling);
  // The last stage is for a smaller rate than the best's: when the defaults won, they have 0.05 already, and the
  // stage would refit the same settings (early stopping ends them long before the larger round cap).
  const rate = (p: GbdtParams): number => p.learningRate ?? DEFAULT_GBDT.learningRate;
  const smaller = GBDT_TUNE_STAGES.learningRate.filter((v) => v.learningRate < rate(best!.params));
  skipped(k * (GBDT_TUNE_STAGES.learningRate.length - smaller.length));
  if (smaller.length > 0) await stage(smaller);
  return { chosen: best!, candidates: seen };
}

export async function tuneGbdt(
  data: Dataset,
  base: GbdtParams,
  options: TuneOptions,
): Promise<GbdtTuneResult> {
  const k = options.folds ?? DEFAULT_TUNE_FOLDS;
  requireFoldsHoldBothClasses(data.target, k);
  const folds = stratifiedFolds(data.target, k, options.seed + 11);
  const fitter = await gbdtFitter(data, folds, options, largestGbdtBatch(k));
  const total = gbdtTuneFits(k);
  let done = 0;
  const progress = (): void => options.onProgress?.(++done, total);
  try {
    const { chosen, candidates } = await stagedSearch(data, base, folds, fitter, progress, (fits) => {
      done += fits;
    });
    // The final fit has no validation part: it trains for the folds' mean best round count on all training rows.
    const rounds = Math.max(1, Math.round(mean(chosen.candidate.foldRounds!)));
    const params: GbdtParams = { ...chosen.params, rounds, validationShare: 0 };
    return {
      params,
      meanAuc: chosen.candidate.meanAuc,
      folds: k,
      candidates,
      oofMargin: await finalSettingsOof(data, params, folds, fitter, progress),
      threads: fitter.threads,
    };
  } finally {
    await fitter.close();
  }
}

export const SCORECARD_TUNE_GRID: readonly ScorecardParams[] = [0.03, 0.05, 0.1].flatMap((minBinShare) =>
  [1, 3, 10, 30].map((l2) => ({ minBinShare, l2 })),
);

export function tuneScorecard(
  data: Dataset,
  base: ScorecardParams,
  options: TuneOptions,
): TuneResult<ScorecardParams> {
  const k = options.folds ?? DEFAULT_TUNE_FOLDS;
  requireFoldsHoldBothClasses(data.target, k);
  const parts = foldParts(data, stratifiedFolds(data.target, k, options.seed + 11));
  const total = k * SCORECARD_TUNE_GRID.length;
  let done = 0;
  let best: Evaluated<ScorecardParams> | undefined;
  const seen: TuneCandidate[] = [];
  for (const variant of SCORECARD_TUNE_GRID) {
    const params = { ...base, ...variant };
    const oofMargin = new Float64Array(data.rows);
    const foldAuc: number[] = [];
    for (const part of parts) {
      const pd = scorecardPd(trainScorecard(part.fit, params, DEFAULT_SCALING), part.val);
      foldAuc.push(rocAuc(pd, part.val.target));
      part.rows.forEach((row, i) => {
        oofMargin[row] = Math.log(pd[i]! / (1 - pd[i]!));
      });
      options.onProgress?.(++done, total);
    }
    const candidate = {
      params: describe(params),
      foldAuc: foldAuc.map(round4),
      meanAuc: round4(mean(foldAuc)),
    };
    seen.push(candidate);
    const e = { candidate, params, oofMargin, exactMeanAuc: mean(foldAuc) };
    if (better(e, best)) best = e;
  }
  return {
    params: best!.params,
    meanAuc: best!.candidate.meanAuc,
    folds: k,
    candidates: seen,
    oofMargin: best!.oofMargin,
  };
}

/**
 * Out-of-fold margins from one fit per fold with the final model's settings, fitted as trainGbdt fits the final
 * model (mode `final`): nothing in a fold's fit looks at the fold's labels, so the margins are what the final model
 * gives rows it never saw, the distribution a calibration fitted on them is applied to.
 */
async function finalSettingsOof(
  data: Dataset,
  params: GbdtParams,
  folds: readonly (readonly number[])[],
  fitter: FoldFitter,
  progress: () => void,
): Promise<Float64Array> {
  const jobs = folds.map((_, fold) => ({ params, fold, mode: 'final' as const }));
  const fits = await fitter.fitAll(jobs, progress);
  const out = new Float64Array(data.rows);
  fits.forEach((fit, f) =>
    folds[f]!.forEach((row, i) => {
      out[row] = fit.valMargin[i]!;
    }),
  );
  return out;
}

/**
 * Out-of-fold margins for calibrating an untuned model: k fits with the given settings, each fitted as trainGbdt
 * fits the final model (its own early-stopping part carved from the fold's fit rows, then the refit), on threads as
 * tuneGbdt.
 */
export async function oofGbdtMargins(
  data: Dataset,
  params: GbdtParams,
  options: TuneOptions,
): Promise<Float64Array> {
  const k = options.folds ?? DEFAULT_TUNE_FOLDS;
  const folds = stratifiedFolds(data.target, k, options.seed + 11);
  const fitter = await gbdtFitter(data, folds, options, k);
  try {
    let done = 0;
    return await finalSettingsOof(data, params, folds, fitter, () => options.onProgress?.(++done, k));
  } finally {
    await fitter.close();
  }
}

export function oofScorecardMargins(
  data: Dataset,
  params: ScorecardParams,
  options: TuneOptions,
): Float64Array {
  const k = options.folds ?? DEFAULT_TUNE_FOLDS;
  const parts = foldParts(data, stratifiedFolds(data.target, k, options.seed + 11));
  const out = new Float64Array(data.rows);
  parts.forEach((part, f) => {
    const pd = scorecardPd(trainScorecard(part.fit, params, DEFAULT_SCALING), part.val);
    part.rows.forEach((row, i) => {
      out[row] = Math.log(pd[i]! / (1 - pd[i]!));
    });
    options.onProgress?.(f + 1, k);
  });
  return out;
}
