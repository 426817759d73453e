/**
 * Data-sized arrays never go through a call's argument list: V8 overflows its stack at about 125,000 arguments, so
 * `Math.min(...scores)` or `push(...rows)` crashed a run on a large file.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../src/domain/random.js';
import { stratifiedSplit } from '../../src/scoring/dataset.js';
import { renderReport } from '../../src/scoring/report.js';
import { fairnessByGroup } from '../../src/scoring/review.js';
import { trainModel } from '../../src/scoring/train.js';

const ROWS = 300_000;

/** ROWS synthetic scored rows: score and PD from one latent risk, outcomes drawn from the PD. */
function bigScoredPart(): { score: Float64Array; pd: Float64Array; target: Uint8Array } {
  const rng = seededRandom(3);
  const score = new Float64Array(ROWS);
  const pd = new Float64Array(ROWS);
  const target = new Uint8Array(ROWS);
  for (let i = 0; i < ROWS; i++) {
    const risk = 6 * rng.next() - 4;
    pd[i] = 1 / (1 + Math.exp(-risk));
    score[i] = Math.round(600 - 20 * risk);
    target[i] = rng.next() < pd[i]! ? 1 : 0;
  }
  return { score, pd, target };
}

describe('large evaluation parts', () => {
  it('the report renders a 300,000-row hold-out', async () => {
    const out = await trainModel({
      csv: readFileSync('data/german_credit.csv'),
      target: 'class',
      bad: 'bad',
      seed: 42,
      now: 0,
    });
    const html = renderReport({ ...out, holdout: bigScoredPart() });
    expect(html).toContain('Score distribution');
  });

  it('the stratified split of 300,000 rows keeps every row once', () => {
    const { target } = bigScoredPart();
    const split = stratifiedSplit(target, 0.3, 1);
    expect(split.train.length + split.test.length).toBe(ROWS);
    expect(new Set([...split.train, ...split.test]).size).toBe(ROWS);
  });

  it('fairness by a group column with a value per row', () => {
    const { pd, target } = bigScoredPart();
    const groups = Array.from({ length: ROWS }, (_, i) => `g${i}`);
    const f = fairnessByGroup('ref', groups, pd, target, 0.2);
    expect(f.groups).toHaveLength(ROWS);
    expect(f.minAdverseImpactRatio).toBe(0);
  });
});
