import { describe, expect, it } from 'vitest';
import { seededRandom } from '../domain/index.js';
import {
  calibratedPd,
  chooseCalibration,
  defaultCalibration,
  fitIsotonic,
  fitPlatt,
  isotonicMinBlockRows,
  reliabilityTable,
  type Calibration,
} from './calibration.js';

function isotonic(c: Calibration): { x: readonly number[]; y: readonly number[] } {
  if (c.method !== 'isotonic') throw new Error('expected an isotonic calibration');
  return c;
}

/** n margins uniform on [−3, 3] and outcomes drawn from pdOf(margin). */
function sample(
  n: number,
  seed: number,
  pdOf: (m: number) => number,
): { margin: number[]; target: number[] } {
  const rng = seededRandom(seed);
  const margin = Array.from({ length: n }, () => 6 * rng.next() - 3);
  const target = margin.map((m) => (rng.next() < pdOf(m) ? 1 : 0));
  return { margin, target };
}

describe('isotonic calibration with a minimum step', () => {
  it('plain PAV (min 1 row) leaves one-row steps at the ends; the default step holds 5% of the rows', () => {
    // A perfectly separated end: the riskiest rows are all bad.
    const margin = Array.from({ length: 400 }, (_, i) => i);
    const target = margin.map((i) => (i >= 396 || (i % 3 === 0 && i > 100) ? 1 : 0));
    const plain = isotonic(fitIsotonic(margin, target, 1));
    expect(plain.y[plain.y.length - 1]).toBeCloseTo(1 - 1e-4, 9);
    const stepped = isotonic(fitIsotonic(margin, target));
    expect(isotonicMinBlockRows(400)).toBe(20);
    expect(stepped.x.length).toBeLessThanOrEqual(20);
    // The top step pools at least 20 rows, so four bad cases no longer make a PD of 0.9999.
    expect(stepped.y[stepped.y.length - 1]!).toBeLessThan(0.6);
  });

  it('stays non-decreasing and keeps the mean: merging never breaks the order', () => {
    const { margin, target } = sample(3000, 3, (m) => 1 / (1 + Math.exp(-m)));
    for (const min of [1, 10, 150, 1000]) {
      const c = isotonic(fitIsotonic(margin, target, min));
      for (let k = 1; k < c.y.length; k++) {
        expect(c.y[k]!).toBeGreaterThanOrEqual(c.y[k - 1]!);
        expect(c.x[k]!).toBeGreaterThan(c.x[k - 1]!);
      }
      if (min > 1) expect(c.x.length).toBeLessThanOrEqual(Math.ceil(3000 / min));
    }
  });

  it('one step when every row would be in a smaller one', () => {
    const c = isotonic(fitIsotonic([1, 2, 3, 4], [0, 1, 0, 1]));
    expect(c).toEqual({ method: 'isotonic', x: [2.5], y: [0.5] });
  });
});

describe('choosing a calibration', () => {
  it('the default: isotonic from 1,000 training rows, Platt below', () => {
    expect(defaultCalibration(999)).toBe('platt');
    expect(defaultCalibration(1000)).toBe('isotonic');
  });

  it('auto picks Platt when the link is logistic, isotonic when it is a step Platt cannot bend to', () => {
    const logistic = sample(4000, 5, (m) => 1 / (1 + Math.exp(-(1.5 * m - 0.5))));
    expect(chooseCalibration('auto', logistic.margin, logistic.target).method).toBe('platt');
    const step = sample(4000, 6, (m) => (m < 1 ? 0.05 : 0.9));
    const chosen = chooseCalibration('auto', step.margin, step.target);
    expect(chosen.method).toBe('isotonic');
    expect(chosen.cvLogLoss.isotonic).toBeLessThan(chosen.cvLogLoss.platt);
    // The chosen one is refitted on all rows: near the observed 5% and 90% away from the step.
    expect(calibratedPd(chosen.calibration, -2)).toBeLessThan(0.1);
    expect(calibratedPd(chosen.calibration, 2.5)).toBeGreaterThan(0.8);
  });

  it('a named method is fitted as asked, with both cross-validated Brier scores and log losses recorded', () => {
    const { margin, target } = sample(500, 7, (m) => 1 / (1 + Math.exp(-m)));
    const platt = chooseCalibration('platt', margin, target);
    const iso = chooseCalibration('isotonic', margin, target);
    expect(platt.method).toBe('platt');
    expect(iso.method).toBe('isotonic');
    expect(platt.cvBrier).toEqual(iso.cvBrier);
    expect(platt.cvLogLoss).toEqual(iso.cvLogLoss);
    expect(platt.cvBrier.platt).toBeGreaterThan(0);
    // Row by row −ln p ≥ 1 − p ≥ (1 − p)² (and the same for goods), so a log loss is never below the Brier score.
    expect(platt.cvLogLoss.platt).toBeGreaterThan(platt.cvBrier.platt);
  });

  it('is deterministic: the same rows give the same choice and the same numbers', () => {
    const { margin, target } = sample(800, 8, (m) => 1 / (1 + Math.exp(-2 * m)));
    expect(chooseCalibration('auto', margin, target)).toEqual(chooseCalibration('auto', margin, target));
  });

  it('calibrated on out-of-fold margins of an overconfident model, the PD follows the bad rate by decile', () => {
    // The model's margin is twice the true log-odds (overconfident); calibration must undo it.
    const fit = sample(5000, 9, (m) => 1 / (1 + Math.exp(-m / 2)));
    const held = sample(20000, 10, (m) => 1 / (1 + Math.exp(-m / 2)));
    for (const method of ['platt', 'isotonic'] as const) {
      const { calibration } = chooseCalibration(method, fit.margin, fit.target);
      const pd = held.margin.map((m) => calibratedPd(calibration, m));
      for (const row of reliabilityTable(pd, held.target)) expect(Math.abs(row.gap)).toBeLessThan(0.03);
    }
    const raw = held.margin.map((m) => 1 / (1 + Math.exp(-m)));
    const rawGaps = reliabilityTable(raw, held.target).map((r) => Math.abs(r.gap));
    expect(Math.max(...rawGaps)).toBeGreaterThan(0.1);
  });
});

describe('Platt calibration', () => {
  it('never lets the PD fall as the margin rises: a reversed relation gives the flat base-rate map', () => {
    // Outcomes that fall as the margin rises: the unconstrained fit has a clearly negative slope.
    const { margin, target } = sample(2000, 5, (m) => 1 / (1 + Math.exp(m)));
    const c = fitPlatt(margin, target);
    if (c.method !== 'platt') throw new Error('expected a Platt calibration');
    expect(c.a).toBe(0);
    const rate = target.reduce((a, b) => a + b, 0) / target.length;
    expect(calibratedPd(c, -3)).toBeCloseTo(rate, 12);
    expect(calibratedPd(c, 3)).toBeCloseTo(rate, 12);
  });

  it('keeps the unconstrained fit when its slope is positive', () => {
    const { margin, target } = sample(4000, 6, (m) => 1 / (1 + Math.exp(-(2 * m - 1))));
    const c = fitPlatt(margin, target);
    if (c.method !== 'platt') throw new Error('expected a Platt calibration');
    expect(c.a).toBeGreaterThan(1.6);
    expect(c.a).toBeLessThan(2.4);
    expect(c.b).toBeGreaterThan(-1.4);
    expect(c.b).toBeLessThan(-0.6);
  });
});
