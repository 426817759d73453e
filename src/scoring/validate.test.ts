import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { trainModel } from './train.js';
import { parseModelFile } from './validate.js';

const germanCsv = readFileSync('data/german_credit.csv');

/** A deep copy of a model file as plain JSON, to tamper with. */
const copy = (model: unknown): Record<string, unknown> =>
  JSON.parse(JSON.stringify(model)) as Record<string, unknown>;

describe('model-file validation of the calibration', async () => {
  const { model } = await trainModel({
    csv: germanCsv,
    target: 'class',
    bad: 'bad',
    seed: 42,
    calibration: 'platt',
    now: 0,
  });

  it('accepts the trained Platt map and refuses one whose PD falls as the margin rises', () => {
    expect(() => parseModelFile(copy(model))).not.toThrow();
    const reversed = copy(model);
    const calibration = reversed.calibration as { a: number };
    calibration.a = -Math.abs(calibration.a);
    expect(() => parseModelFile(reversed)).toThrow(/calibration\.a must be >= 0/);
  });
});
