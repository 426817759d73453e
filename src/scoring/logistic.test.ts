import { describe, expect, it } from 'vitest';
import { fitLogistic } from './logistic.js';

describe('logistic regression (IRLS)', () => {
  it('converges to the closed-form MLE on a binary feature', () => {
    // x = 0: 30 bad of 100; x = 1: 60 bad of 100. MLE: b0 = logit(0.3), b1 = logit(0.6) − logit(0.3).
    const rows: [number, number][] = [];
    for (let i = 0; i < 100; i++) rows.push([0, i < 30 ? 1 : 0]);
    for (let i = 0; i < 100; i++) rows.push([1, i < 60 ? 1 : 0]);
    const fit = fitLogistic(
      { x: Float64Array.from(rows, (r) => r[0]), rows: rows.length, cols: 1 },
      Uint8Array.from(rows, (r) => r[1]),
      { l2: 0 },
    );
    const logit = (p: number): number => Math.log(p / (1 - p));
    expect(fit.converged).toBe(true);
    expect(fit.iterations).toBeLessThan(15);
    expect(fit.intercept).toBeCloseTo(logit(0.3), 8);
    expect(fit.coefficients[0]).toBeCloseTo(logit(0.6) - logit(0.3), 8);
  });

  it('ridge keeps separable data finite and is deterministic', () => {
    const x = Float64Array.from([0, 0, 0, 1, 1, 1]);
    const y = Uint8Array.from([0, 0, 0, 1, 1, 1]);
    const a = fitLogistic({ x, rows: 6, cols: 1 }, y, { l2: 1 });
    const b = fitLogistic({ x, rows: 6, cols: 1 }, y, { l2: 1 });
    expect(a.converged).toBe(true);
    expect(Number.isFinite(a.coefficients[0]!)).toBe(true);
    expect(a).toEqual(b);
  });
});
