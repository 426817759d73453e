/**
 * The model-review figures beyond discrimination: fairness by an evaluation-only group column and stability of the
 * score over time. Both are computed on the evaluation part (hold-out, else training) and never feed the model.
 */
import { LgError } from '../domain/index.js';
import { psiFromCounts, psiVerdict, rocAuc, type StabilityVerdict } from './metrics.js';

/** EEOC Uniform Guidelines, 29 CFR 1607.4(D): a selection rate below four-fifths of the highest is adverse impact. */
export const FOUR_FIFTHS = 0.8;

export interface GroupFairness {
  readonly group: string;
  readonly count: number;
  readonly approved: number;
  readonly approvalRate: number;
  readonly badRate: number;
  /** Approval rate over the highest group's approval rate (the adverse-impact ratio). */
  readonly adverseImpactRatio: number;
  readonly belowFourFifths: boolean;
}

export interface FairnessResult {
  readonly column: string;
  /** Approve when pd <= this threshold (the cost-based cut-off the metrics use). */
  readonly pdThreshold: number;
  readonly groups: readonly GroupFairness[];
  readonly minAdverseImpactRatio: number;
}

export function fairnessByGroup(
  column: string,
  groups: readonly string[],
  pd: ArrayLike<number>,
  target: ArrayLike<number>,
  pdThreshold: number,
): FairnessResult {
  const stats = new Map<string, { count: number; approved: number; bads: number }>();
  groups.forEach((g, i) => {
    const key = g === '' ? '(missing)' : g;
    const s = stats.get(key) ?? { count: 0, approved: 0, bads: 0 };
    s.count++;
    if (pd[i]! <= pdThreshold) s.approved++;
    s.bads += target[i]!;
    stats.set(key, s);
  });
  const rows = [...stats.entries()]
    .map(([group, s]) => ({ group, ...s, approvalRate: s.approved / s.count, badRate: s.bads / s.count }))
    .sort((a, b) => (a.group < b.group ? -1 : 1));
  // Folds, not spreads: a group column can have a value per row, past what a call's argument list holds.
  const best = rows.reduce((m, r) => Math.max(m, r.approvalRate), -Infinity);
  const out = rows.map((r) => {
    const air = best === 0 ? 1 : r.approvalRate / best;
    return { ...r, adverseImpactRatio: air, belowFourFifths: air < FOUR_FIFTHS };
  });
  return {
    column,
    pdThreshold,
    groups: out,
    minAdverseImpactRatio: out.reduce((m, g) => Math.min(m, g.adverseImpactRatio), Infinity),
  };
}

export interface PeriodStability {
  readonly period: string;
  readonly count: number;
  readonly badRate: number;
  readonly meanPd: number;
  /** NaN when the period has one class only. */
  readonly auc: number;
  /** PSI of the period's score distribution against the training scores' deciles. */
  readonly psi: number;
  /** No verdict on a period of fewer than MIN_PERIOD_ROWS rows. */
  readonly verdict: StabilityVerdict | 'too few rows';
}

/**
 * The fewest rows a period needs for a PSI verdict. Drawn from the training distribution itself, a period of n rows
 * shows a PSI near χ²(9)/n over the 10 deciles by chance alone; its 95th percentile, 16.9/n, stays under the 0.1
 * "watch" line from about 170 rows, and 200 leaves room for the training scores' own sampling. Smaller periods
 * flagged "watch" or "act" with no drift at all (12 rows per month gave PSI 1.0–4.7).
 */
export const MIN_PERIOD_ROWS = 200;

/** "2024-03-17", "2024-03-17T10:00Z", "2024/03", "2024-3-1" → "2024-03"; undefined when the value is not a date. */
export function monthOf(value: string): string | undefined {
  const m = /^(\d{4})[-/](\d{1,2})(?:$|[-/T ])/.exec(value.trim());
  const month = m ? Number(m[2]) : 0;
  return month >= 1 && month <= 12 ? `${m![1]}-${m![2]!.padStart(2, '0')}` : undefined;
}

/** A row's period: its calendar month, "(missing)" when empty; anything else (refused in training) is its own. */
export function periodOf(value: string): string {
  return value.trim() === '' ? '(missing)' : (monthOf(value) ?? value.trim());
}

/**
 * Refuses a time column with a value that is not a year-first date: "01/02/2024" (day or month first?) or a label
 * would become a "period" of its own, and the report would call it a calendar month. Empty cells are allowed.
 */
export function checkTimeColumn(column: string, values: readonly string[]): void {
  const i = values.findIndex((v) => v.trim() !== '' && monthOf(v) === undefined);
  if (i >= 0)
    throw new LgError(
      'LG_DATA_INVALID',
      `time column "${column}" has "${values[i]}" in data row ${i + 1}, which is not a date; periods are calendar months of year-first dates (2024-03, 2024-03-17, 2024/03/17 or an ISO date-time)`,
      { column, row: i + 1 },
    );
}

function decileCuts(reference: ArrayLike<number>): number[] {
  const sorted = Float64Array.from(reference).sort();
  const cuts: number[] = [];
  for (let k = 1; k < 10; k++) {
    const v = sorted[Math.floor((k * sorted.length) / 10)]!;
    if (cuts.length === 0 || v > cuts[cuts.length - 1]!) cuts.push(v);
  }
  return cuts;
}

function counts(values: readonly number[], cuts: readonly number[]): number[] {
  const out = new Array<number>(cuts.length + 1).fill(0);
  for (const v of values) {
    let k = 0;
    while (k < cuts.length && v >= cuts[k]!) k++;
    out[k]!++;
  }
  return out;
}

export function stabilityOverTime(
  times: readonly string[],
  score: ArrayLike<number>,
  pd: ArrayLike<number>,
  target: ArrayLike<number>,
  referenceScores: ArrayLike<number>,
): PeriodStability[] {
  const cuts = decileCuts(referenceScores);
  const expected = counts(Array.from(referenceScores), cuts);
  const byPeriod = new Map<string, number[]>();
  times.forEach((t, i) => {
    const p = periodOf(t);
    const rows = byPeriod.get(p) ?? [];
    rows.push(i);
    byPeriod.set(p, rows);
  });
  return [...byPeriod.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([period, rows]) => {
      const psi = psiFromCounts(
        expected,
        counts(
          rows.map((i) => score[i]!),
          cuts,
        ),
      );
      return {
        period,
        count: rows.length,
        badRate: rows.reduce((s, i) => s + target[i]!, 0) / rows.length,
        meanPd: rows.reduce((s, i) => s + pd[i]!, 0) / rows.length,
        auc: rocAuc(
          rows.map((i) => pd[i]!),
          rows.map((i) => target[i]!),
        ),
        psi,
        verdict: rows.length < MIN_PERIOD_ROWS ? 'too few rows' : psiVerdict(psi),
      };
    });
}
