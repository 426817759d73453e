import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { formatCsv, readCsvTable } from './csv.js';
import { prepareDataset, stratifiedSplit, subsetDataset } from './dataset.js';
import {
  encodeValue,
  fitGbdtEncoders,
  fitGbdtWithValidation,
  gbdtMargins,
  nearUniqueCategoricals,
  predictGbdt,
  trainGbdt,
  type GbdtParams,
} from './gbdt.js';
import { rocAuc } from './metrics.js';

/** Rows of (a, b, noise) with the given bad count per (a, b) cell out of 100. */
function cells(bads: Record<string, number>): ReturnType<typeof prepareDataset>['dataset'] {
  const rows: string[][] = [];
  for (const [cell, badCount] of Object.entries(bads)) {
    const [a, b] = cell.split('') as [string, string];
    for (let i = 0; i < 100; i++) rows.push([i < badCount ? 'bad' : 'good', a, b, String(i % 7)]);
  }
  return prepareDataset(readCsvTable(formatCsv(['y', 'a', 'b', 'noise'], rows)), {
    target: 'y',
    bad: 'bad',
    types: { a: 'numeric', b: 'numeric', noise: 'numeric' },
  }).dataset;
}

/** One full Newton step: leaf = −G/H with no shrinkage or penalty, every row, every feature. */
const newtonStep: GbdtParams = {
  rounds: 1,
  learningRate: 1,
  lambda: 0,
  minChildWeight: 0,
  subsample: 1,
  colsample: 1,
  validationShare: 0,
};

describe('GBDT histograms', () => {
  it('one depth-2 round gives each (a, b) cell its exact Newton step from the base rate', () => {
    // Four cells with distinct bad rates: the root split and both child splits must read true gradient sums, the
    // larger child's histogram coming from parent − smaller child.
    const rates = { '00': 10, '01': 30, '10': 50, '11': 80 };
    const data = cells(rates);
    const part = trainGbdt(data, { ...newtonStep, maxDepth: 2 }, 1).part;
    const p0 = (10 + 30 + 50 + 80) / 400;
    const margins = gbdtMargins(part, data);
    Object.values(rates).forEach((bad, cell) => {
      const expected = Math.log(p0 / (1 - p0)) + (bad / 100 - p0) / (p0 * (1 - p0));
      expect(margins[cell * 100]).toBeCloseTo(expected, 9);
    });
    expect(part.trees[0]!.filter((n) => n.feature !== undefined).map((n) => n.feature)).not.toContain(2);
  });

  it('a feature subset (colsample) reads the bins of the features drawn, not their positions in the row', () => {
    // b carries no signal at all (each level of b has the same rows' outcomes), a carries all of it.
    const data = cells({ '00': 10, '01': 10, '10': 60, '11': 60 });
    // colsample 0.3 of 3 features: one feature per tree, seeded.
    const part = trainGbdt(
      data,
      { ...newtonStep, rounds: 40, learningRate: 0.1, maxDepth: 1, colsample: 0.3 },
      3,
    ).part;
    const roots = part.trees.map((t) => t[0]!);
    expect(roots.filter((r) => r.feature === 0).length).toBeGreaterThan(0);
    for (const r of roots.filter((n) => n.feature === 0)) expect(r.threshold).toBe(0);
    // A tree that drew b sees b's (flat) histogram and stays a leaf.
    expect(roots.filter((r) => r.feature === 1)).toEqual([]);
  });
});

/** German credit split 70/30 (seed 42), with or without a unique-per-row reference column (a customer reference). */
function germanParts(withReference: boolean): {
  train: ReturnType<typeof prepareDataset>['dataset'];
  test: ReturnType<typeof prepareDataset>['dataset'];
} {
  const table = readCsvTable(readFileSync('data/german_credit.csv', 'utf8'));
  const withRef = withReference
    ? readCsvTable(
        formatCsv(
          [...table.header, 'CustomerRef'],
          table.rows.map((r, i) => [...r, `R${String(i).padStart(5, '0')}`]),
        ),
      )
    : table;
  const { dataset } = prepareDataset(withRef, { target: 'class', bad: 'bad' });
  const split = stratifiedSplit(dataset.target, 0.3, 42);
  return { train: subsetDataset(dataset, split.train), test: subsetDataset(dataset, split.test) };
}

describe('GBDT categorical levels', () => {
  it('a unique reference column costs no held-out AUC: its levels are unseen in training as they are at scoring', () => {
    // Ranked by their own row's label, the references let the trees fit the training rows on them, while every
    // held-out applicant's reference is unseen: the held-out AUC fell to about 0.50.
    const plain = germanParts(false);
    const withRef = germanParts(true);
    const aucPlain = rocAuc(predictGbdt(trainGbdt(plain.train, {}, 42).part, plain.test), plain.test.target);
    const aucRef = rocAuc(
      predictGbdt(trainGbdt(withRef.train, {}, 42).part, withRef.test),
      withRef.test.target,
    );
    expect(aucPlain).toBeGreaterThan(0.7);
    expect(Math.abs(aucRef - aucPlain)).toBeLessThan(0.01);
  });

  it('a level with fewer than 10 training rows goes to the missing/unseen bin in training too', () => {
    // Levels: r (9 rows, all bad), s (10 rows, all bad), c and d (100 rows each), plus 5 missing.
    const rows: string[][] = [];
    for (let i = 0; i < 9; i++) rows.push(['bad', 'r']);
    for (let i = 0; i < 10; i++) rows.push(['bad', 's']);
    for (let i = 0; i < 100; i++) rows.push([i < 10 ? 'bad' : 'good', 'c']);
    for (let i = 0; i < 100; i++) rows.push([i < 40 ? 'bad' : 'good', 'd']);
    for (let i = 0; i < 5; i++) rows.push(['good', '']);
    const data = prepareDataset(readCsvTable(formatCsv(['y', 'lvl'], rows)), {
      target: 'y',
      bad: 'bad',
      types: { lvl: 'categorical' },
    }).dataset;
    const [enc] = fitGbdtEncoders(data, 64);
    expect(enc!.type).toBe('categorical');
    expect(encodeValue(enc!, 'r')).toBe(enc!.missing);
    expect(encodeValue(enc!, 'never-seen')).toBe(enc!.missing);
    expect(encodeValue(enc!, null)).toBe(enc!.missing);
    expect([encodeValue(enc!, 'c'), encodeValue(enc!, 'd'), encodeValue(enc!, 's')]).toEqual([0, 1, 2]);
  });

  it('a column with no level of 10 training rows still has a valid missing bin and never splits', () => {
    const { train } = germanParts(true);
    const encoders = fitGbdtEncoders(train, 64);
    const ref = encoders[encoders.length - 1]!;
    expect(ref).toEqual({ type: 'categorical', levels: {}, missing: 1 });
    const part = trainGbdt(train, {}, 42).part;
    const refIndex = encoders.length - 1;
    expect(part.trees.flat().some((n) => n.feature === refIndex)).toBe(false);
  });
});

describe('GBDT early stopping', () => {
  /** The German training part (70%), with or without a unique-per-row reference column. */
  const germanTrainingPart = (withReference: boolean): ReturnType<typeof prepareDataset>['dataset'] =>
    germanParts(withReference).train;

  it('names a categorical column with a level of its own in most rows (an ID) as one it cannot learn from', () => {
    expect(nearUniqueCategoricals(germanTrainingPart(true))).toEqual(['CustomerRef']);
    expect(nearUniqueCategoricals(germanTrainingPart(false))).toEqual([]);
  });

  it('watches a validation part whose labels the categorical encoders never saw', () => {
    // Encoders fitted on the validation rows too ranked each validation row's own reference by its own label, and the
    // validation log loss collapsed to ~0.02. A level of one row is no longer ranked at all (MIN_LEVEL_ROWS), which
    // hides that leak, so the encoders are also checked to be the fit part's own.
    const { train } = germanParts(true);
    const split = stratifiedSplit(train.target, 0.2, 43);
    const fitPart = subsetDataset(train, split.train);
    const fitted = fitGbdtWithValidation(fitPart, subsetDataset(train, split.test), { rounds: 1 }, 42);
    expect(fitted.part.encoders).toEqual(fitGbdtEncoders(fitPart, 64));
    const plain = trainGbdt(germanTrainingPart(false), {}, 42);
    const withRef = trainGbdt(germanTrainingPart(true), {}, 42);
    const best = (t: { validationLogLoss: number[] }): number =>
      t.validationLogLoss.reduce((a, b) => Math.min(a, b), Infinity);
    expect(best(withRef)).toBeGreaterThan(0.9 * best(plain));
  });
});
