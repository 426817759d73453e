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

describe('model-file validation of GBDT parts that would score wrongly', async () => {
  const { model } = await trainModel({
    csv: germanCsv,
    target: 'class',
    bad: 'bad',
    kind: 'gbdt',
    seed: 42,
    gbdt: { rounds: 20, validationShare: 0 },
    now: 0,
  });
  if (model.kind !== 'gbdt') throw new Error('expected a gbdt');
  const numeric = model.gbdt.encoders.findIndex((e) => e.type === 'numeric');
  const categorical = model.gbdt.encoders.findIndex((e) => e.type === 'categorical');
  type Tampered = Record<string, unknown> & {
    features: { name: string }[];
    gbdt: {
      baseMargin: number;
      encoders: Record<string, unknown>[];
      trees: Record<string, unknown>[][];
    };
  };
  const tampered = (edit: (m: Tampered) => void): Tampered => {
    const m = copy(model) as Tampered;
    edit(m);
    return m;
  };
  const splits = (m: Tampered): Record<string, unknown>[] =>
    m.gbdt.trees.flatMap((t) => t.filter((n) => n.feature !== undefined));

  it('accepts the trained model', () => {
    expect(() => parseModelFile(copy(model))).not.toThrow();
  });

  it.each([
    [
      'a numeric missing bin that is not the bin after the last cut',
      (m: Tampered) => (m.gbdt.encoders[numeric]!.missing = 1),
      /encoders\[\d+\]\.missing must be the number of cuts \+ 1/,
    ],
    [
      'numeric cuts out of order',
      (m: Tampered) => (m.gbdt.encoders[numeric]!.cuts as number[]).reverse(),
      /encoders\[\d+\]\.cuts must be strictly increasing/,
    ],
    [
      'a category bin beyond the missing bin (300 wraps to 44 in a byte)',
      (m: Tampered) => {
        const levels = m.gbdt.encoders[categorical]!.levels as Record<string, number>;
        levels[Object.keys(levels)[0]!] = 300;
      },
      /encoders\[\d+\]\.levels\..* must be a bin from 0 to/,
    ],
    [
      'a negative split threshold',
      (m: Tampered) => splits(m).forEach((n) => (n.threshold = -5)),
      /threshold must be a bin from 0 to/,
    ],
    [
      'two features with one name',
      (m: Tampered) => (m.features[1]!.name = m.features[0]!.name),
      /features\[1\]\.name repeats/,
    ],
    [
      'missingLeft that is not a boolean',
      (m: Tampered) => (splits(m)[0]!.missingLeft = 'yes'),
      /missingLeft must be a boolean/,
    ],
    [
      'leaf values whose sum overflows to Infinity',
      (m: Tampered) => {
        m.gbdt.baseMargin = 1e308;
        m.gbdt.trees[0]![0]!.value = 1e308;
      },
      /gbdt margin can overflow/,
    ],
  ])('refuses %s', (_, edit, message) => {
    expect(() => parseModelFile(tampered(edit))).toThrow(message);
  });
});
