/**
 * Probability calibration: maps a model's margin (log-odds of bad) to a calibrated PD, fitted on out-of-fold
 * predictions of the training data only (Platt 1999 logistic scaling; isotonic regression by pool-adjacent-violators,
 * Zadrozny & Elkan 2002). Fitting on in-sample predictions would learn the model's own overfit, so the caller passes
 * margins each row got from a model that never saw it.
 */
import { sigmoid } from './logistic.js';

export type CalibrationMethod = 'none' | 'platt' | 'isotonic';

export type Calibration =
  | { readonly method: 'platt'; readonly a: number; readonly b: number }
  | {
      readonly method: 'isotonic';
      /** Increasing margins (block means) and the PD at each; linear in between, flat beyond the ends. */
      readonly x: readonly number[];
      readonly y: readonly number[];
    };

/**
 * The calibration used when tuning gives out-of-fold margins for free: isotonic from 1,000 training rows (Platt's
 * sigmoid bends away from the observed rate in the top decile of both bundled sets), Platt below, where isotonic steps
 * would follow noise (Niculescu-Mizil & Caruana 2005).
 */
export function defaultCalibration(trainingRows: number): Exclude<CalibrationMethod, 'none'> {
  return trainingRows >= 1000 ? 'isotonic' : 'platt';
}

/** Platt scaling pd = sigmoid(a · margin + b), by Newton's method on the log loss (a tiny ridge keeps it stable). */
export function fitPlatt(margin: ArrayLike<number>, target: ArrayLike<number>): Calibration {
  let a = 1;
  let b = 0;
  for (let iter = 0; iter < 50; iter++) {
    let ga = 0;
    let gb = 0;
    let haa = 1e-6;
    let hab = 0;
    let hbb = 1e-6;
    for (let i = 0; i < margin.length; i++) {
      const m = margin[i]!;
      const p = sigmoid(a * m + b);
      const r = p - target[i]!;
      const w = Math.max(p * (1 - p), 1e-12);
      ga += r * m;
      gb += r;
      haa += w * m * m;
      hab += w * m;
      hbb += w;
    }
    const det = haa * hbb - hab * hab;
    if (!(Math.abs(det) > 1e-18)) break;
    const da = (hbb * ga - hab * gb) / det;
    const db = (haa * gb - hab * ga) / det;
    a -= da;
    b -= db;
    if (Math.abs(da) + Math.abs(db) < 1e-10) break;
  }
  return { method: 'platt', a, b };
}

/** Isotonic (non-decreasing) fit of the bad rate on the margin, by pool-adjacent-violators over sorted margins. */
export function fitIsotonic(margin: ArrayLike<number>, target: ArrayLike<number>): Calibration {
  const order = Array.from({ length: margin.length }, (_, i) => i).sort((p, q) => margin[p]! - margin[q]!);
  const blocks: { sumX: number; sumY: number; n: number }[] = [];
  for (const i of order) {
    blocks.push({ sumX: margin[i]!, sumY: target[i]!, n: 1 });
    while (blocks.length >= 2) {
      const top = blocks[blocks.length - 1]!;
      const prev = blocks[blocks.length - 2]!;
      if (prev.sumY / prev.n < top.sumY / top.n) break;
      blocks.splice(blocks.length - 2, 2, {
        sumX: prev.sumX + top.sumX,
        sumY: prev.sumY + top.sumY,
        n: prev.n + top.n,
      });
    }
  }
  // Keep the PD away from exactly 0 or 1: a calibrated PD of 0 would make a log loss infinite and a price free.
  const clampPd = (p: number): number => Math.min(1 - 1e-4, Math.max(1e-4, p));
  return {
    method: 'isotonic',
    x: blocks.map((bl) => bl.sumX / bl.n),
    y: blocks.map((bl) => clampPd(bl.sumY / bl.n)),
  };
}

export function fitCalibration(
  method: Exclude<CalibrationMethod, 'none'>,
  margin: ArrayLike<number>,
  target: ArrayLike<number>,
): Calibration {
  return method === 'platt' ? fitPlatt(margin, target) : fitIsotonic(margin, target);
}

export function calibratedPd(calibration: Calibration | undefined, margin: number): number {
  if (calibration === undefined) return sigmoid(margin);
  if (calibration.method === 'platt') return sigmoid(calibration.a * margin + calibration.b);
  const { x, y } = calibration;
  if (margin <= x[0]!) return y[0]!;
  if (margin >= x[x.length - 1]!) return y[y.length - 1]!;
  let lo = 0;
  let hi = x.length - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >>> 1;
    if (x[mid]! <= margin) lo = mid;
    else hi = mid;
  }
  const t = (margin - x[lo]!) / (x[hi]! - x[lo]! || 1);
  return y[lo]! + t * (y[hi]! - y[lo]!);
}

export function brierScore(pd: ArrayLike<number>, target: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < pd.length; i++) s += (pd[i]! - target[i]!) ** 2;
  return s / pd.length;
}

export interface ReliabilityRow {
  /** Decile 1 = the lowest predicted PDs. */
  readonly decile: number;
  readonly count: number;
  readonly meanPd: number;
  readonly observedBadRate: number;
  /** observed − expected, in probability (0.02 = 2 points). */
  readonly gap: number;
}

/** Expected (mean PD) versus observed bad rate by decile of predicted PD (ties kept in one decile). */
export function reliabilityTable(
  pd: ArrayLike<number>,
  target: ArrayLike<number>,
  bins = 10,
): ReliabilityRow[] {
  const n = pd.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => pd[a]! - pd[b]!);
  const out: ReliabilityRow[] = [];
  let start = 0;
  for (let k = 0; k < bins && start < n; k++) {
    let end = k === bins - 1 ? n : Math.max(start + 1, Math.round(((k + 1) * n) / bins));
    while (end < n && pd[order[end]!] === pd[order[end - 1]!]) end++;
    let sumPd = 0;
    let bads = 0;
    for (let q = start; q < end; q++) {
      sumPd += pd[order[q]!]!;
      bads += target[order[q]!]!;
    }
    const count = end - start;
    out.push({
      decile: out.length + 1,
      count,
      meanPd: sumPd / count,
      observedBadRate: bads / count,
      gap: bads / count - sumPd / count,
    });
    start = end;
  }
  return out;
}
