/**
 * Issue 17: a tuned scorecard's PD comes from Platt or isotonic calibration fitted on its out-of-fold margins, the one
 * with the lower cross-validated log loss (`auto`). The synthetic set below is one where the untuned scorecard's own
 * PD is far off: two informative features among 40 of ten levels each and 1,500 training rows, so the regression on
 * in-sample WOE believes the noise features' bins and its PD spreads too wide at both ends.
 */
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../src/domain/random.js';
import {
  chiSquareSurvival,
  hosmerLemeshow,
  reliabilityTable,
  wilsonInterval,
} from '../../src/scoring/calibration.js';
import { formatCsv } from '../../src/scoring/csv.js';
import { readFileSync } from 'node:fs';
import { trainModel, type TrainRequest } from '../../src/scoring/train.js';

function overfitProneCsv(rows: number, seed: number): string {
  const rng = seededRandom(seed);
  const header = ['target', ...Array.from({ length: 40 }, (_, j) => `f${j}`)];
  const out: string[][] = [];
  for (let i = 0; i < rows; i++) {
    const levels = Array.from({ length: 40 }, () => Math.floor(rng.next() * 10));
    const logOdds = -1.2 + 0.35 * (levels[0]! - 4.5) + 0.2 * (levels[1]! - 4.5);
    out.push([rng.next() < 1 / (1 + Math.exp(-logOdds)) ? 'bad' : 'good', ...levels.map((l) => `L${l}`)]);
  }
  return formatCsv(header, out);
}

// 3,500 held-out rows: 350 per decile, a binomial standard error of at most 2.7 points.
const request: TrainRequest = {
  csv: overfitProneCsv(5000, 17),
  target: 'target',
  bad: 'bad',
  kind: 'scorecard',
  holdoutShare: 0.7,
  seed: 3,
  now: 0,
};

/** 99.9% per decile: the chance that any of 10 deciles of a calibrated PD falls outside is then about 1% (Bonferroni). */
const Z_FAMILY_1_PERCENT = 3.29;

describe('scorecard calibration', () => {
  it("the scorecard's own PD is miscalibrated on this set (so the next test can fail)", async () => {
    const raw = (await trainModel({ ...request, calibration: 'none' })).holdout!;
    expect(hosmerLemeshow(reliabilityTable(raw.pd, raw.target)).pValue).toBeLessThan(1e-6);
  });

  it('`--calibrate auto` puts it within sampling error in every decile, by out-of-fold margins alone', async () => {
    const out = await trainModel({ ...request, calibration: 'auto' });
    const info = out.model.training.calibration!;
    expect(info.requested).toBe('auto');
    expect(out.model.calibration?.method).toBe(info.method);
    const h = out.holdout!;
    const table = reliabilityTable(h.pd, h.target);
    for (const row of table) {
      const bads = Math.round(row.observedBadRate * row.count);
      const { low, high } = wilsonInterval(bads, row.count, Z_FAMILY_1_PERCENT);
      expect(row.meanPd).toBeGreaterThanOrEqual(low);
      expect(row.meanPd).toBeLessThanOrEqual(high);
    }
    expect(hosmerLemeshow(table).pValue).toBeGreaterThan(0.01);
  });

  it('on German credit (700 training rows) the method is the lower cross-validated log loss, not a row-count rule', async () => {
    const out = await trainModel({
      csv: readFileSync('data/german_credit.csv'),
      target: 'class',
      bad: 'bad',
      kind: 'scorecard',
      tune: true,
      folds: 3,
      seed: 42,
      now: 0,
    });
    const info = out.model.training.calibration!;
    expect(info.requested).toBe('auto');
    const { platt, isotonic } = info.cvLogLoss!;
    expect(info.method).toBe(isotonic < platt ? 'isotonic' : 'platt');
  });

  it('an explicit --calibrate none still gives the own PD', async () => {
    const out = await trainModel({ ...request, calibration: 'none' });
    expect(out.model.calibration).toBeUndefined();
    expect(out.model.training.calibration).toBeUndefined();
  });
});

describe('calibration statistics', () => {
  it('chi-square survival matches the tables at the 5% critical values', () => {
    expect(chiSquareSurvival(3.841, 1)).toBeCloseTo(0.05, 4);
    expect(chiSquareSurvival(15.507, 8)).toBeCloseTo(0.05, 4);
    expect(chiSquareSurvival(18.307, 10)).toBeCloseTo(0.05, 4);
    expect(chiSquareSurvival(2.558, 10)).toBeCloseTo(0.99, 4);
    expect(chiSquareSurvival(0, 10)).toBe(1);
  });

  it('Hosmer–Lemeshow sums (O − E)² / (n p̄ (1 − p̄)) over the groups, with as many degrees of freedom', () => {
    const table = [
      { decile: 1, count: 100, meanPd: 0.1, observedBadRate: 0.16, gap: 0.06 },
      { decile: 2, count: 100, meanPd: 0.5, observedBadRate: 0.45, gap: -0.05 },
    ];
    const hl = hosmerLemeshow(table);
    expect(hl.statistic).toBeCloseTo(36 / 9 + 25 / 25, 9);
    expect(hl.df).toBe(2);
    expect(hl.pValue).toBeCloseTo(Math.exp(-hl.statistic / 2), 9);
  });

  it('the Wilson interval of 30 bads in 100 is [21.9%, 39.6%] and stays in [0, 1] at the ends', () => {
    const { low, high } = wilsonInterval(30, 100);
    expect(low).toBeCloseTo(0.2189, 3);
    expect(high).toBeCloseTo(0.3958, 3);
    expect(wilsonInterval(0, 20).low).toBe(0);
    expect(wilsonInterval(20, 20).high).toBe(1);
  });
});
