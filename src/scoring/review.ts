/**
 * The model-review figures beyond discrimination: fairness by an evaluation-only group column and stability of the
 * score over time. Both are computed on the evaluation part (hold-out, else training) and never feed the model.
 */
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
  readonly verdict: StabilityVerdict;
}

/** "2024-03-17", "2024-03-17T10:00Z", "2024/03" → "2024-03"; anything else is its own period. */
export function periodOf(value: string): string {
  const m = /^(\d{4})[-/](\d{1,2})/.exec(value.trim());
  return m ? `${m[1]}-${m[2]!.padStart(2, '0')}` : value.trim() === '' ? '(missing)' : value.trim();
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
        verdict: psiVerdict(psi),
      };
    });
}
