/**
 * Comparing models on the same hold-out data: AUC, KS, Gini, log loss and Brier of each, and DeLong's test of the
 * difference of two correlated AUCs (DeLong, DeLong & Clarke-Pearson 1988), computed with the midrank algorithm of
 * Sun & Xu (2014): structural components from the ranks of each class, their covariance across models, and a
 * two-sided normal p-value of the difference.
 */
import { brierScore } from './calibration.js';
import type { CsvTable } from './csv.js';
import { prepareDataset, type FeatureType } from './dataset.js';
import { gini, ks, logLoss, rocAuc } from './metrics.js';
import type { ModelFile } from './model-file.js';

/** 1-based midranks (ties share the mean of their ranks). */
function midranks(values: readonly number[]): Float64Array {
  const n = values.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => values[a]! - values[b]!);
  const out = new Float64Array(n);
  let i = 0;
  while (i < n) {
    let j = i;
    while (j + 1 < n && values[order[j + 1]!] === values[order[i]!]) j++;
    const rank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) out[order[k]!] = rank;
    i = j + 1;
  }
  return out;
}

interface Components {
  readonly auc: number;
  /** Per bad row: share of goods it outranks (V10); per good row: share of bads that outrank it (V01). */
  readonly v10: Float64Array;
  readonly v01: Float64Array;
}

function components(pd: ArrayLike<number>, target: ArrayLike<number>): Components {
  const bads: number[] = [];
  const goods: number[] = [];
  for (let i = 0; i < pd.length; i++) (target[i] === 1 ? bads : goods).push(pd[i]!);
  const m = bads.length;
  const n = goods.length;
  const tx = midranks(bads);
  const ty = midranks(goods);
  const tz = midranks([...bads, ...goods]);
  const v10 = Float64Array.from({ length: m }, (_, i) => (tz[i]! - tx[i]!) / n);
  const v01 = Float64Array.from({ length: n }, (_, j) => 1 - (tz[m + j]! - ty[j]!) / m);
  let sum = 0;
  for (const v of v10) sum += v;
  return { auc: sum / m, v10, v01 };
}

function covariance(a: Float64Array, b: Float64Array): number {
  const n = a.length;
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < n; i++) {
    ma += a[i]!;
    mb += b[i]!;
  }
  ma /= n;
  mb /= n;
  let s = 0;
  for (let i = 0; i < n; i++) s += (a[i]! - ma) * (b[i]! - mb);
  return s / (n - 1);
}

/**
 * Standard normal CDF (erfc by the Numerical Recipes Chebyshev fit, fractional error < 1.2e-7 everywhere). Below 0 it
 * is erfc / 2 itself, so a lower tail keeps that relative accuracy down to the smallest double (z ≈ −38.4; beyond, 0):
 * take an upper tail as normalCdf(−z), never 1 − normalCdf(z), which cancels to 0 past z ≈ 8.3.
 */
export function normalCdf(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.5 * x);
  const erfc =
    t *
    Math.exp(
      -x * x -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t *
                  (0.09678418 +
                    t *
                      (-0.18628806 +
                        t *
                          (0.27886807 +
                            t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return z >= 0 ? 1 - erfc / 2 : erfc / 2;
}

export interface DeLongResult {
  readonly aucA: number;
  readonly aucB: number;
  /** aucA − aucB */
  readonly difference: number;
  readonly standardError: number;
  readonly z: number;
  /**
   * Two-sided p-value of "the two AUCs are equal", 2Φ(−|z|): exact to about 1e-7 relative while it is a double, 0
   * past |z| ≈ 38.4 (formatComparisonText prints anything under 1e-300 as "p < 1e-300").
   */
  readonly pValue: number;
}

export function delongTest(
  pdA: ArrayLike<number>,
  pdB: ArrayLike<number>,
  target: ArrayLike<number>,
): DeLongResult {
  const a = components(pdA, target);
  const b = components(pdB, target);
  const m = a.v10.length;
  const n = a.v01.length;
  if (m < 2 || n < 2) throw new Error('DeLong test needs at least two bad and two good rows');
  const variance =
    (covariance(a.v10, a.v10) + covariance(b.v10, b.v10) - 2 * covariance(a.v10, b.v10)) / m +
    (covariance(a.v01, a.v01) + covariance(b.v01, b.v01) - 2 * covariance(a.v01, b.v01)) / n;
  const difference = a.auc - b.auc;
  const standardError = Math.sqrt(Math.max(variance, 0));
  if (standardError === 0)
    return { aucA: a.auc, aucB: b.auc, difference, standardError, z: 0, pValue: difference === 0 ? 1 : 0 };
  const z = difference / standardError;
  // The lower tail, not 2 · (1 − Φ(|z|)): that printed p = 0 at z = −9.35, where p is 8.8e-21.
  return { aucA: a.auc, aucB: b.auc, difference, standardError, z, pValue: 2 * normalCdf(-Math.abs(z)) };
}

export interface ComparedModel {
  readonly name: string;
  readonly id: string;
  readonly version: number;
  readonly kind: string;
  readonly rows: number;
  readonly auc: number;
  readonly ks: number;
  readonly gini: number;
  readonly logLoss: number;
  readonly brier: number;
}

export interface ComparisonResult {
  readonly rows: number;
  readonly bads: number;
  readonly models: readonly ComparedModel[];
  /** DeLong test of every pair (i < j), difference = AUC of models[i] − AUC of models[j]. */
  readonly delong: readonly (DeLongResult & { readonly a: string; readonly b: string })[];
}

export interface ModelPredictions {
  readonly name: string;
  readonly id: string;
  readonly version: number;
  readonly kind: string;
  readonly pd: Float64Array;
}

/**
 * The hold-out's target (1 = bad), read and checked as training reads its data (prepareDataset): an empty target
 * cell, one class only or a third target value is refused, and so is a numeric model feature with more than 1% of
 * non-numeric cells (fewer become missing, with a warning). A column two models type differently is checked as
 * numeric.
 */
export function comparisonTarget(
  table: CsvTable,
  models: readonly ModelFile[],
  target: string,
  bad: string,
): { target: Uint8Array; warnings: readonly string[] } {
  const types = new Map<string, FeatureType>();
  for (const model of models)
    for (const f of model.features) if (types.get(f.name) !== 'numeric') types.set(f.name, f.type);
  const { dataset, warnings } = prepareDataset(table, {
    target,
    bad,
    types: Object.fromEntries(types),
    ignore: table.header.filter((name) => name !== target && !types.has(name)),
  });
  return { target: dataset.target, warnings };
}

export function compareModels(
  predictions: readonly ModelPredictions[],
  target: Uint8Array,
): ComparisonResult {
  let bads = 0;
  for (const t of target) bads += t;
  const models = predictions.map((p) => {
    const auc = rocAuc(p.pd, target);
    return {
      name: p.name,
      id: p.id,
      version: p.version,
      kind: p.kind,
      rows: target.length,
      auc,
      ks: ks(p.pd, target),
      gini: gini(auc),
      logLoss: logLoss(p.pd, target),
      brier: brierScore(p.pd, target),
    };
  });
  const delong: ComparisonResult['delong'][number][] = [];
  for (let i = 0; i < predictions.length; i++)
    for (let j = i + 1; j < predictions.length; j++)
      delong.push({
        a: predictions[i]!.name,
        b: predictions[j]!.name,
        ...delongTest(predictions[i]!.pd, predictions[j]!.pd, target),
      });
  return { rows: target.length, bads, models, delong };
}

const f4 = (x: number): string => (Number.isFinite(x) ? x.toFixed(4) : 'n/a');

/** The smallest p-value printed as a number: below it a double has lost digits (subnormal) or underflowed to 0. */
const P_FLOOR = 1e-300;

const pText = (p: number): string =>
  p < P_FLOOR ? `p < ${P_FLOOR.toExponential(0)}` : `p = ${p < 1e-4 ? p.toExponential(2) : p.toFixed(4)}`;

export function formatComparisonText(r: ComparisonResult): string {
  const header = ['model', 'kind', 'AUC', 'KS', 'Gini', 'log loss', 'Brier'];
  const rows = r.models.map((m) => [
    m.name,
    m.kind,
    f4(m.auc),
    f4(m.ks),
    f4(m.gini),
    f4(m.logLoss),
    f4(m.brier),
  ]);
  const widths = header.map((h, k) => Math.max(h.length, ...rows.map((row) => row[k]!.length)));
  const line = (cells: readonly string[]): string =>
    cells.map((c, k) => (k < 2 ? c.padEnd(widths[k]!) : c.padStart(widths[k]!))).join('  ');
  const tests = r.delong.map(
    (d) =>
      `DeLong ${d.a} vs ${d.b}: AUC difference ${f4(d.difference)} (SE ${f4(d.standardError)}, z ${d.z.toFixed(2)}), ${pText(d.pValue)}`,
  );
  return `${r.rows} rows, ${r.bads} bad\n${line(header)}\n${rows.map(line).join('\n')}\n${tests.join('\n')}\n`;
}
