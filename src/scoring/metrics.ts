import { LgError } from '../domain/index.js';
import { brierScore, logLoss } from './calibration.js';

export { logLoss };

/**
 * Model-quality and stability metrics. Inputs use pd = probability of bad (higher = riskier) and target 1 = bad.
 */

/** ROC AUC by the Mann–Whitney rank statistic; tied predictions count one half (midranks). */
export function rocAuc(pd: ArrayLike<number>, target: ArrayLike<number>): number {
  const n = pd.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => pd[a]! - pd[b]!);
  let rankSumBad = 0;
  let bads = 0;
  let i = 0;
  while (i < n) {
    let j = i;
    while (j + 1 < n && pd[order[j + 1]!] === pd[order[i]!]) j++;
    const midrank = (i + j) / 2 + 1;
    for (let p = i; p <= j; p++) {
      if (target[order[p]!] === 1) {
        rankSumBad += midrank;
        bads++;
      }
    }
    i = j + 1;
  }
  const goods = n - bads;
  if (bads === 0 || goods === 0) return Number.NaN;
  return (rankSumBad - (bads * (bads + 1)) / 2) / (bads * goods);
}

export const gini = (auc: number): number => 2 * auc - 1;

export interface CurvePoint {
  /** Threshold on pd: predict bad when pd >= threshold. */
  readonly threshold: number;
  /** False-positive rate (goods flagged), true-positive rate (bads flagged). */
  readonly fpr: number;
  readonly tpr: number;
}

/** ROC points from the strictest threshold down, tied predictions as one step; starts at (0,0), ends at (1,1). */
export function rocCurve(pd: ArrayLike<number>, target: ArrayLike<number>): CurvePoint[] {
  const n = pd.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => pd[b]! - pd[a]!);
  let bads = 0;
  for (let i = 0; i < n; i++) bads += target[i]!;
  const goods = n - bads;
  const points: CurvePoint[] = [{ threshold: Infinity, fpr: 0, tpr: 0 }];
  let tp = 0;
  let fp = 0;
  let i = 0;
  while (i < n) {
    const t = pd[order[i]!]!;
    while (i < n && pd[order[i]!] === t) {
      if (target[order[i]!] === 1) tp++;
      else fp++;
      i++;
    }
    points.push({ threshold: t, fpr: goods === 0 ? 0 : fp / goods, tpr: bads === 0 ? 0 : tp / bads });
  }
  return points;
}

/** Kolmogorov–Smirnov: the largest gap between the cumulative bad and good distributions. */
export function ks(pd: ArrayLike<number>, target: ArrayLike<number>): number {
  return rocCurve(pd, target).reduce((m, p) => Math.max(m, p.tpr - p.fpr), 0);
}

export interface CostMatrix {
  /** Cost of accepting an applicant who turns bad (German Statlog: 5). */
  readonly badAccepted: number;
  /** Cost of declining an applicant who would have been good (German Statlog: 1). */
  readonly goodDeclined: number;
}

export const GERMAN_COSTS: CostMatrix = { badAccepted: 5, goodDeclined: 1 };

/**
 * Refuses a cost that is not a positive number: a zero one puts the Bayes cut-off at 0 or 1 (decline everyone, or no
 * one), a negative one moves it out of [0, 1], and the expected cost would then rank models by nothing real.
 */
export function checkCosts(costs: CostMatrix): void {
  for (const [what, value] of [
    ['bad accepted (--cost-bad-accepted)', costs.badAccepted],
    ['good declined (--cost-good-declined)', costs.goodDeclined],
  ] as const)
    if (!(Number.isFinite(value) && value > 0))
      throw new LgError('LG_VALIDATION', `the cost of a ${what} must be a number > 0, got ${value}`);
}

/** Bayes threshold: decline when pd > goodDeclined / (goodDeclined + badAccepted) (1/6 for 5:1). */
export const bayesThreshold = (c: CostMatrix): number => c.goodDeclined / (c.goodDeclined + c.badAccepted);

/** Expected cost per applicant when declining every pd above the threshold (default: the Bayes threshold). */
export function expectedCost(
  pd: ArrayLike<number>,
  target: ArrayLike<number>,
  costs: CostMatrix = GERMAN_COSTS,
  threshold = bayesThreshold(costs),
): number {
  let cost = 0;
  for (let i = 0; i < pd.length; i++) {
    const decline = pd[i]! > threshold;
    if (target[i] === 1 && !decline) cost += costs.badAccepted;
    if (target[i] === 0 && decline) cost += costs.goodDeclined;
  }
  return cost / pd.length;
}

export interface ScoreBand {
  readonly band: number;
  readonly minScore: number;
  readonly maxScore: number;
  readonly count: number;
  readonly bads: number;
  readonly badRate: number;
  /** Share of all bads in this band and the riskier (lower-score) bands. */
  readonly cumulativeBadShare: number;
}

/** Bad rate by score band: `bands` bands of near-equal size by score (ties kept together), lowest score first. */
export function scoreBands(score: ArrayLike<number>, target: ArrayLike<number>, bands = 10): ScoreBand[] {
  const n = score.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => score[a]! - score[b]!);
  let totalBads = 0;
  for (let i = 0; i < n; i++) totalBads += target[i]!;
  const out: ScoreBand[] = [];
  let start = 0;
  let cumBads = 0;
  for (let b = 0; b < bands && start < n; b++) {
    let end = Math.max(start + 1, Math.round(((b + 1) * n) / bands));
    while (end < n && score[order[end]!] === score[order[end - 1]!]) end++;
    if (b === bands - 1) end = n;
    let bads = 0;
    for (let p = start; p < end; p++) bads += target[order[p]!]!;
    cumBads += bads;
    out.push({
      band: out.length + 1,
      minScore: score[order[start]!]!,
      maxScore: score[order[end - 1]!]!,
      count: end - start,
      bads,
      badRate: bads / (end - start),
      cumulativeBadShare: totalBads === 0 ? 0 : cumBads / totalBads,
    });
    start = end;
  }
  return out;
}

export interface ModelMetrics {
  readonly rows: number;
  readonly badRate: number;
  readonly auc: number;
  readonly gini: number;
  readonly ks: number;
  readonly logLoss: number;
  /** Mean squared error of the PD (Brier 1950); lower is better. */
  readonly brier: number;
  readonly expectedCost: number;
  readonly costThreshold: number;
}

export function evaluate(
  pd: ArrayLike<number>,
  target: ArrayLike<number>,
  costs: CostMatrix = GERMAN_COSTS,
): ModelMetrics {
  const auc = rocAuc(pd, target);
  let bads = 0;
  for (let i = 0; i < target.length; i++) bads += target[i]!;
  return {
    rows: pd.length,
    badRate: bads / pd.length,
    auc,
    gini: gini(auc),
    ks: ks(pd, target),
    logLoss: logLoss(pd, target),
    brier: brierScore(pd, target),
    expectedCost: expectedCost(pd, target, costs),
    costThreshold: bayesThreshold(costs),
  };
}

/** Proportions used in place of an empty bin, so PSI stays finite (toad's PSI has no ε and returns inf). */
export const PSI_EPSILON = 1e-4;

/**
 * Population stability index Σ (a − e)·ln(a / e) over bins of proportions; a zero proportion is replaced by ε only
 * where it is zero (other bins are untouched, so PSI([.25]*4, [.2,.3,.3,.2]) = 0.040547 exactly).
 */
export function psi(expected: readonly number[], actual: readonly number[], epsilon = PSI_EPSILON): number {
  if (expected.length !== actual.length)
    throw new Error('psi: expected and actual need the same number of bins');
  let s = 0;
  for (let i = 0; i < expected.length; i++) {
    const e = Math.max(expected[i]!, epsilon);
    const a = Math.max(actual[i]!, epsilon);
    if (expected[i] === 0 && actual[i] === 0) continue;
    s += (a - e) * Math.log(a / e);
  }
  return s;
}

export function psiFromCounts(
  expected: readonly number[],
  actual: readonly number[],
  epsilon = PSI_EPSILON,
): number {
  const se = expected.reduce((a, b) => a + b, 0);
  const sa = actual.reduce((a, b) => a + b, 0);
  return psi(
    expected.map((c) => (se === 0 ? 0 : c / se)),
    actual.map((c) => (sa === 0 ? 0 : c / sa)),
    epsilon,
  );
}

export type StabilityVerdict = 'stable' | 'watch' | 'act';

/** The industry rule of thumb (also OptBinning's ScorecardMonitoring): < 0.1 stable, 0.1–0.25 watch, > 0.25 act. */
export function psiVerdict(value: number): StabilityVerdict {
  if (value < 0.1) return 'stable';
  if (value <= 0.25) return 'watch';
  return 'act';
}
