/**
 * Population stability: PSI of the score between a baseline and a current population, and CSI (the same index) of
 * each model feature over the model's own bins (regular, missing, unseen). Verdicts follow the usual thresholds
 * (< 0.1 stable, 0.1–0.25 watch, > 0.25 act); empty bins are smoothed so the index stays finite.
 */
import { LgError } from '../domain/index.js';
import { allBins, binSlotOf, intervalIndex, numericLabel, quantileCuts } from './binning.js';
import type { CsvTable } from './csv.js';
import { psiFromCounts, psiVerdict, type StabilityVerdict } from './metrics.js';
import type { ModelScorerWithText } from './scorer.js';
import { rowRecord } from './train.js';

export interface StabilityBin {
  readonly label: string;
  readonly baselineCount: number;
  readonly currentCount: number;
  readonly baselineShare: number;
  readonly currentShare: number;
}

export interface StabilityEntry {
  readonly name: string;
  readonly index: number;
  readonly verdict: StabilityVerdict;
  readonly bins: readonly StabilityBin[];
}

export interface MonitorResult {
  readonly modelId: string;
  readonly modelVersion: number;
  readonly baselineRows: number;
  readonly currentRows: number;
  readonly score: StabilityEntry;
  readonly features: readonly StabilityEntry[];
  /** The worst verdict over the score and every feature. */
  readonly verdict: StabilityVerdict;
}

function requireColumns(table: CsvTable, names: readonly string[], which: string): void {
  for (const name of names) {
    if (!table.header.includes(name)) {
      throw new LgError('LG_DATA_INVALID', `${which} data has no column "${name}" that the model needs`, {
        column: name,
      });
    }
  }
  if (table.rows.length === 0) throw new LgError('LG_DATA_INVALID', `${which} data has no rows`, { row: 1 });
}

function entry(
  name: string,
  labels: readonly string[],
  base: readonly number[],
  cur: readonly number[],
): StabilityEntry {
  const nb = base.reduce((a, b) => a + b, 0);
  const nc = cur.reduce((a, b) => a + b, 0);
  const index = psiFromCounts(base, cur);
  return {
    name,
    index,
    verdict: psiVerdict(index),
    bins: labels.map((label, k) => ({
      label,
      baselineCount: base[k]!,
      currentCount: cur[k]!,
      baselineShare: base[k]! / nb,
      currentShare: cur[k]! / nc,
    })),
  };
}

const RANK: Record<StabilityVerdict, number> = { stable: 0, watch: 1, act: 2 };

export function monitorModel(
  scorer: ModelScorerWithText,
  baseline: CsvTable,
  current: CsvTable,
  scoreBins = 10,
): MonitorResult {
  const names = scorer.model.features.map((f) => f.name);
  requireColumns(baseline, names, 'baseline');
  requireColumns(current, names, 'current');
  const scoresOf = (t: CsvTable): Float64Array =>
    Float64Array.from(t.rows, (_, i) => scorer.scoreOnly(rowRecord(t, i)).score);
  const bScores = scoresOf(baseline);
  const cScores = scoresOf(current);
  // Score bins are the baseline's deciles, so each holds ~10% of the baseline by construction.
  const cuts = quantileCuts(Float64Array.from(bScores).sort(), scoreBins);
  const count = (scores: Float64Array): number[] => {
    const out = new Array<number>(cuts.length + 1).fill(0);
    for (const s of scores) out[intervalIndex(cuts, s)]!++;
    return out;
  };
  const labels = Array.from({ length: cuts.length + 1 }, (_, k) => numericLabel(cuts, k));
  const score = entry('score', labels, count(bScores), count(cScores));
  const features = scorer.model.features.map((f) => {
    const slots = allBins(f.binning).length;
    const tally = (t: CsvTable): number[] => {
      const out = new Array<number>(slots).fill(0);
      const j = t.header.indexOf(f.name);
      for (const r of t.rows) out[binSlotOf(f.binning, r[j] ?? '')]!++;
      return out;
    };
    return entry(
      f.name,
      allBins(f.binning).map((b) => b.label),
      tally(baseline),
      tally(current),
    );
  });
  const worst = [score, ...features].reduce<StabilityVerdict>(
    (w, e) => (RANK[e.verdict] > RANK[w] ? e.verdict : w),
    'stable',
  );
  return {
    modelId: scorer.id,
    modelVersion: scorer.version,
    baselineRows: baseline.rows.length,
    currentRows: current.rows.length,
    score,
    features,
    verdict: worst,
  };
}

export function formatMonitorText(r: MonitorResult): string {
  const lines = [
    `model ${r.modelId} v${r.modelVersion}: baseline ${r.baselineRows} rows, current ${r.currentRows} rows — overall ${r.verdict}`,
    `score PSI ${r.score.index.toFixed(4)} (${r.score.verdict})`,
    'feature CSI:',
    ...[...r.features]
      .sort((a, b) => b.index - a.index)
      .map((f) => `  ${f.name.padEnd(28)} ${f.index.toFixed(4)}  ${f.verdict}`),
  ];
  return `${lines.join('\n')}\n`;
}
