/**
 * Issue 12, "Reasons contradicted the applicant": every reason a model gives must be true of that applicant. For the
 * bundled model and models trained on both bundled data sets, every (row, reason) pair is checked against the row's own
 * bin, and the cases the issue found (seniority 8–12 years told "short", a small amount told "high", more than seven
 * years employed told "short") are checked by value, independently of how the code is chosen.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { allBins, binSlotOf, toLevel, toNumber } from '../../src/scoring/binning.js';
import { readCsvTable, type CsvTable } from '../../src/scoring/csv.js';
import { encodeValue } from '../../src/scoring/gbdt.js';
import type { ModelFeature } from '../../src/scoring/model-file.js';
import { riskDirection, specOfModelFeature } from '../../src/scoring/reasons.js';
import { scorerFromModel, type ModelScorerWithText } from '../../src/scoring/scorer.js';
import { scalingConstants } from '../../src/scoring/scaling.js';
import { rowRecord, trainModel } from '../../src/scoring/train.js';

const sets = [
  { name: 'german', file: 'data/german_credit.csv', target: 'class' },
  { name: 'credit', file: 'data/credit_data.csv', target: 'Status' },
] as const;

const bundled = scorerFromModel(JSON.parse(readFileSync('models/application-scorecard.json', 'utf8')));

/** The claim a code makes about the applicant's value, checked against the feature's training bins. */
function checkReason(feature: ModelFeature, raw: unknown, code: string): string | undefined {
  const spec = specOfModelFeature(feature);
  const slot = binSlotOf(feature.binning, raw);
  const regular = slot < feature.binning.bins.length;
  const woe = allBins(feature.binning)[slot]!.woe;
  const level = toLevel(raw);
  if (code === spec.neutral) return undefined;
  if (!regular) return `${code} on a missing or unrecognised value`;
  if (!(woe > 0)) return `${code} on a bin no riskier than the population (WOE ${woe})`;
  if (spec.levels !== undefined && level !== undefined && spec.levels[level] === code) return undefined;
  const direction = riskDirection(feature.binning);
  if (code === spec.high && direction === 'rises') return undefined;
  if (code === spec.low && direction === 'falls') return undefined;
  return `${code} is not a claim that holds for ${feature.name} = ${String(raw)}`;
}

function everyReason(scorer: ModelScorerWithText, table: CsvTable): { checked: number; wrong: string[] } {
  const byName = new Map(scorer.model.features.map((f) => [f.name, f]));
  let checked = 0;
  const wrong: string[] = [];
  for (let i = 0; i < table.rows.length; i++) {
    const row = rowRecord(table, i);
    const s = scorer.score(row);
    for (const r of s.reasons) {
      checked++;
      const feature = byName.get(r.feature)!;
      const problem = checkReason(feature, row[r.feature], r.code);
      if (problem !== undefined) wrong.push(`row ${i + 1}: ${problem}`);
      if (!(r.pointsLost > 0))
        wrong.push(`row ${i + 1}: ${r.feature} cited with ${r.pointsLost} points lost`);
    }
  }
  return { checked, wrong };
}

describe.each(sets)('reasons are true of the applicant on $name', async ({ file, target }) => {
  const bytes = readFileSync(file);
  const table = readCsvTable(bytes.toString('utf8'));
  const models = await Promise.all(
    (['scorecard', 'gbdt'] as const).map(async (kind) => ({
      kind,
      scorer: (await trainModel({ csv: bytes, target, bad: 'bad', kind, seed: 42, now: 0 })).scorer,
    })),
  );
  const all = file.includes('german') ? [...models, { kind: 'bundled', scorer: bundled }] : models;

  it.each(all)("every (row, reason) pair of the $kind model matches the row's bin", ({ scorer }) => {
    const { checked, wrong } = everyReason(scorer, table);
    expect(checked).toBeGreaterThan(table.rows.length);
    expect(wrong.slice(0, 5)).toEqual([]);
  });

  it.each(all)('the $kind model never calls a long job short or a small amount high', ({ scorer }) => {
    const amounts = table.rows.map((_, i) => toNumber(rowRecord(table, i).Amount)!).sort((a, b) => a - b);
    const medianAmount = amounts[Math.floor(amounts.length / 2)]!;
    for (let i = 0; i < table.rows.length; i++) {
      const row = rowRecord(table, i);
      for (const r of scorer.score(row).reasons) {
        if (r.code === 'R_EMPLOYMENT_SHORT') {
          if (row.Seniority !== undefined) expect(toNumber(row.Seniority)).toBeLessThan(8);
          if (row.EmploymentDuration !== undefined) expect(row.EmploymentDuration).toBe('lt.1');
        }
        // "High" must at least mean above the median amount applicants asked for.
        if (r.code === 'R_LOAN_AMOUNT') expect(toNumber(row.Amount)).toBeGreaterThan(medianAmount);
      }
    }
  });
});

describe('GBDT reasons: points lost against the best value of the feature', async () => {
  const bytes = readFileSync('data/credit_data.csv');
  const table = readCsvTable(bytes.toString('utf8'));
  const { scorer, model } = await trainModel({
    csv: bytes,
    target: 'Status',
    bad: 'bad',
    kind: 'gbdt',
    seed: 42,
    now: 0,
  });
  if (model.kind !== 'gbdt') throw new Error('expected gbdt');

  it('equals a brute-force search over every bin of the feature', () => {
    const marginOf = (bins: number[]): number => {
      let m = model.gbdt.baseMargin;
      for (const tree of model.gbdt.trees) {
        let node = tree[0]!;
        while (node.feature !== undefined) {
          const b = bins[node.feature]!;
          const left =
            b === model.gbdt.encoders[node.feature]!.missing
              ? node.missingLeft === true
              : b <= node.threshold!;
          node = tree[(left ? node.left : node.right)!]!;
        }
        m += node.value;
      }
      return m;
    };
    const { factor } = scalingConstants(model.scaling);
    for (let i = 0; i < 40; i++) {
      const row = rowRecord(table, i);
      const bins = model.features.map((f, j) => encodeValue(model.gbdt.encoders[j]!, row[f.name]));
      const own = marginOf(bins);
      const expected = model.features
        .map((f, j) => {
          let best = own;
          for (let b = 0; b <= model.gbdt.encoders[j]!.missing; b++)
            best = Math.min(best, marginOf(bins.map((x, k) => (k === j ? b : x))));
          return { feature: f.name, lost: Math.round(factor * (own - best) * 100) / 100 };
        })
        .filter((e) => e.lost > 0)
        .sort((a, b) => b.lost - a.lost || (a.feature < b.feature ? -1 : 1))
        .slice(0, 4);
      const got = scorer.score(row).reasons.map((r) => ({ feature: r.feature, lost: r.pointsLost }));
      expect(got).toEqual(expected);
    }
  });
});

describe('old model files', () => {
  it('a file whose Seniority carries R_EMPLOYMENT_SHORT as its only code no longer tells 10 years "short"', async () => {
    const bytes = readFileSync('data/credit_data.csv');
    const { model } = await trainModel({ csv: bytes, target: 'Status', bad: 'bad', seed: 42, now: 0 });
    const legacy = {
      ...model,
      features: model.features.map(({ reasonCodes: _codes, ...f }) =>
        f.name === 'Seniority' ? { ...f, reasonCode: 'R_EMPLOYMENT_SHORT' } : f,
      ),
    };
    const scorer = scorerFromModel(legacy);
    const table = readCsvTable(bytes.toString('utf8'));
    let cited = 0;
    for (let i = 0; i < table.rows.length; i++) {
      const row = rowRecord(table, i);
      const seniority = toNumber(row.Seniority)!;
      for (const r of scorer.score(row).reasons)
        if (r.feature === 'Seniority') {
          cited++;
          if (seniority >= 8) expect(r.code).toBe('R_EMPLOYMENT_DURATION');
        }
    }
    expect(cited).toBeGreaterThan(100);
  });
});
