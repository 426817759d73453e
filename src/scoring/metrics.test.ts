import { describe, expect, it } from 'vitest';
import {
  bayesThreshold,
  evaluate,
  expectedCost,
  GERMAN_COSTS,
  ks,
  logLoss,
  psi,
  psiFromCounts,
  psiVerdict,
  rocAuc,
  scoreBands,
} from './metrics.js';

describe('metrics', () => {
  it('PSI of the reference vector is 0.0405', () => {
    expect(psi([0.25, 0.25, 0.25, 0.25], [0.2, 0.3, 0.3, 0.2])).toBeCloseTo(0.040547, 6);
    expect(Number(psi([0.25, 0.25, 0.25, 0.25], [0.2, 0.3, 0.3, 0.2]).toFixed(4))).toBe(0.0405);
  });

  it('PSI stays finite with an empty bin, and verdicts follow 0.1 / 0.25', () => {
    const v = psiFromCounts([10, 10, 0], [5, 5, 10]);
    expect(Number.isFinite(v)).toBe(true);
    expect(psiVerdict(0.05)).toBe('stable');
    expect(psiVerdict(0.1)).toBe('watch');
    expect(psiVerdict(0.25)).toBe('watch');
    expect(psiVerdict(0.2501)).toBe('act');
  });

  it('AUC handles ties with midranks', () => {
    expect(rocAuc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1])).toBe(0.75);
    expect(rocAuc([0.5, 0.5, 0.5, 0.5], [0, 1, 0, 1])).toBe(0.5);
    expect(rocAuc([0.2, 0.5, 0.5, 0.9], [0, 0, 1, 1])).toBe(0.875);
  });

  it('KS, log loss, Gini', () => {
    expect(ks([0.1, 0.2, 0.8, 0.9], [0, 0, 1, 1])).toBe(1);
    expect(logLoss([0.5, 0.5], [0, 1])).toBeCloseTo(Math.LN2, 12);
    const m = evaluate([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]);
    expect(m.gini).toBeCloseTo(0.5, 12);
  });

  it('expected cost at the Bayes threshold 1/6; the trivial German baselines cost 0.7 and 1.5', () => {
    expect(bayesThreshold(GERMAN_COSTS)).toBeCloseTo(1 / 6, 12);
    const target = Array.from({ length: 1000 }, (_, i) => (i < 300 ? 1 : 0));
    expect(
      expectedCost(
        target.map(() => 1),
        target,
      ),
    ).toBeCloseTo(0.7, 12);
    expect(
      expectedCost(
        target.map(() => 0),
        target,
      ),
    ).toBeCloseTo(1.5, 12);
  });

  it('score bands cover every row, lowest score first', () => {
    const score = Array.from({ length: 100 }, (_, i) => 500 + i);
    const target = score.map((s) => (s < 530 ? 1 : 0));
    const bands = scoreBands(score, target, 10);
    expect(bands.reduce((a, b) => a + b.count, 0)).toBe(100);
    expect(bands[0]!.badRate).toBe(1);
    expect(bands[9]!.badRate).toBe(0);
    expect(bands[9]!.cumulativeBadShare).toBe(1);
  });
});
