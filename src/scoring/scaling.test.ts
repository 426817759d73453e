import { describe, expect, it } from 'vitest';
import { DEFAULT_SCALING, pdFromScore, scoreFromPd } from './scaling.js';

describe('points scaling', () => {
  it('base 600 at 1:19 bad:good, PDO 50: p=0.05 scores 600 and p=1/39 scores 650', () => {
    const s = { basePoints: 600, baseOdds: 19, pdo: 50 };
    expect(scoreFromPd(0.05, s)).toBeCloseTo(600, 9);
    expect(scoreFromPd(1 / 39, s)).toBeCloseTo(650, 9);
    expect(scoreFromPd(0.1, s)).toBeCloseTo(546.1, 1);
    expect(scoreFromPd(0.5, s)).toBeCloseTo(387.6036, 3);
  });

  it('default: 600 points at 50:1 good:bad, 20 points double the odds', () => {
    expect(DEFAULT_SCALING).toEqual({ basePoints: 600, baseOdds: 50, pdo: 20 });
    expect(scoreFromPd(1 / 51, DEFAULT_SCALING)).toBeCloseTo(600, 9);
    expect(scoreFromPd(1 / 101, DEFAULT_SCALING)).toBeCloseTo(620, 9);
    expect(pdFromScore(600, DEFAULT_SCALING)).toBeCloseTo(1 / 51, 12);
  });
});
