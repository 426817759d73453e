import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { readCsvTable } from './csv.js';
import { prepareDataset } from './dataset.js';
import { DEFAULT_SCALING } from './scaling.js';
import { trainScorecard } from './scorecard.js';

const german = prepareDataset(readCsvTable(readFileSync('data/german_credit.csv', 'utf8')), {
  target: 'class',
  bad: 'bad',
}).dataset;

describe('scorecard feature selection', () => {
  const nonPositive = (reason: string): boolean => reason.startsWith('non-positive coefficient');

  it('drops non-positive coefficients by default, and keeps them with dropNonPositive: false', () => {
    const dropping = trainScorecard(german, { minIv: 0 }, DEFAULT_SCALING);
    expect(dropping.selection.some((s) => nonPositive(s.reason))).toBe(true);
    for (const f of dropping.part.features) expect(f.coefficient).toBeGreaterThan(0);

    const keeping = trainScorecard(german, { minIv: 0, dropNonPositive: false }, DEFAULT_SCALING);
    expect(keeping.selection.some((s) => nonPositive(s.reason))).toBe(false);
    expect(keeping.part.features.length).toBeGreaterThan(dropping.part.features.length);
    expect(keeping.part.features.some((f) => f.coefficient <= 0)).toBe(true);
  });
});
