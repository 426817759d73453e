import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { LgError } from '../domain/index.js';
import { readCsvTable } from './csv.js';
import { gbdtContributions, encodeValue } from './gbdt.js';
import { logLoss } from './metrics.js';
import { scoreFromLogit } from './scaling.js';
import { scorerFromModel } from './scorer.js';
import { rowRecord, trainModel } from './train.js';

const germanCsv = readFileSync('data/german_credit.csv');
const creditCsv = readFileSync('data/credit_data.csv');
const germanTable = readCsvTable(germanCsv.toString('utf8'));
const creditTable = readCsvTable(creditCsv.toString('utf8'));

describe('scorecard model', async () => {
  const out = await trainModel({
    csv: germanCsv,
    target: 'class',
    bad: 'bad',
    seed: 42,
    id: 'g',
    now: Date.UTC(2025, 0, 1),
  });
  const model = out.model;
  if (model.kind !== 'scorecard') throw new Error('expected a scorecard');

  it('records what governance needs', () => {
    expect(model.createdAt).toBe('2025-01-01T00:00:00.000Z');
    expect(model.training.dataSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(model.training.metrics.holdout!.rows).toBe(300);
    expect(model.features.find((f) => f.name === 'CheckingAccountStatus')!.reasonCode).toBe(
      'R_CHECKING_ACCOUNT',
    );
    for (const f of model.scorecard.features) expect(f.coefficient).toBeGreaterThan(0);
  });

  it('score = base points + sum of integer bin points, consistent with the regression pd', () => {
    const k = model.scorecard.features.length;
    for (let i = 0; i < 50; i++) {
      const s = out.scorer.score(rowRecord(germanTable, i));
      expect(Number.isInteger(s.score)).toBe(true);
      const z = Math.log(s.pd / (1 - s.pd));
      expect(Math.abs(s.score - scoreFromLogit(z, model.scaling))).toBeLessThanOrEqual((k + 1) / 2);
      const lost = s.reasons.map((r) => r.pointsLost);
      expect([...lost].sort((a, b) => b - a)).toEqual(lost);
      expect(s.reasons.length).toBeLessThanOrEqual(4);
    }
  });

  it('a JSON round trip gives identical scores, pds and reasons', () => {
    const again = scorerFromModel(JSON.parse(JSON.stringify(model)));
    for (let i = 0; i < germanTable.rows.length; i++) {
      const row = rowRecord(germanTable, i);
      expect(again.score(row)).toEqual(out.scorer.score(row));
    }
  });

  it('training is deterministic', async () => {
    const twice = await trainModel({
      csv: germanCsv,
      target: 'class',
      bad: 'bad',
      seed: 42,
      id: 'g',
      now: Date.UTC(2025, 0, 1),
    });
    expect(twice.model.kind === 'scorecard' && twice.model.scorecard).toEqual(model.scorecard);
  });

  it('scores engine-style inputs (numbers, missing, unseen) like CSV text', () => {
    const row = rowRecord(germanTable, 3);
    const typed: Record<string, unknown> = {
      ...row,
      Duration: Number(row.Duration),
      Amount: Number(row.Amount),
      Age: Number(row.Age),
    };
    expect(out.scorer.score(typed)).toEqual(out.scorer.score(row));
    const odd = out.scorer.score({ ...row, Purpose: 'Spaceship', Age: undefined });
    expect(Number.isFinite(odd.score)).toBe(true);
  });

  it('rejects malformed model files with LG_MODEL_INVALID', () => {
    const bad = JSON.parse(JSON.stringify(model)) as Record<string, unknown>;
    (bad.scorecard as { features: { points: number[] }[] }).features[0]!.points.pop();
    expect(() => scorerFromModel(bad)).toThrow(LgError);
    expect(() => scorerFromModel({ format: 'nope' })).toThrow(/format/);
    expect(() => scorerFromModel('{not json')).toThrow(LgError);
  });
});

describe('GBDT model', async () => {
  const out = await trainModel({
    csv: creditCsv,
    target: 'Status',
    bad: 'bad',
    kind: 'gbdt',
    seed: 42,
    now: 0,
    gbdt: { maxDepth: 2, minChildWeight: 8 },
  });
  const model = out.model;
  if (model.kind !== 'gbdt') throw new Error('expected a gbdt');

  it('beats a trivial model on credit_data held out', () => {
    const h = out.holdout!;
    const rate = h.target.reduce((a, b) => a + b, 0) / h.target.length;
    expect(model.training.metrics.holdout!.auc).toBeGreaterThan(0.8);
    expect(logLoss(h.pd, h.target)).toBeLessThan(
      logLoss(new Float64Array(h.pd.length).fill(rate), h.target) - 0.1,
    );
  });

  it('Saabas contributions add up to the margin and give reasons in points', () => {
    const row = rowRecord(creditTable, 2);
    const bins = model.features.map((f, j) => encodeValue(model.gbdt.encoders[j]!, row[f.name]));
    const { margin, contributions } = gbdtContributions(model.gbdt, bins);
    const roots = model.gbdt.trees.reduce((a, t) => a + t[0]!.value, 0);
    expect(model.gbdt.baseMargin + roots + contributions.reduce((a, b) => a + b, 0)).toBeCloseTo(margin, 9);
    const s = out.scorer.score(row);
    expect(s.pd).toBeCloseTo(1 / (1 + Math.exp(-margin)), 12);
    for (const r of s.reasons) expect(r.pointsLost).toBeGreaterThan(0);
  });

  it('a JSON round trip gives identical scores', () => {
    const again = scorerFromModel(JSON.stringify(model));
    for (let i = 0; i < 300; i++)
      expect(again.score(rowRecord(creditTable, i))).toEqual(out.scorer.score(rowRecord(creditTable, i)));
  });
});
