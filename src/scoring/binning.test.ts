import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { binCategorical, binNumeric, binSlotOf, woeIv } from './binning.js';
import { readCsvTable } from './csv.js';
import { prepareDataset, type CategoricalColumn, type NumericColumn } from './dataset.js';

const german = prepareDataset(readCsvTable(readFileSync('data/german_credit.csv', 'utf8')), {
  target: 'class',
  bad: 'bad',
}).dataset;
const credit = prepareDataset(readCsvTable(readFileSync('data/credit_data.csv', 'utf8')), {
  target: 'Status',
  bad: 'bad',
}).dataset;
const column = <T>(ds: typeof german, name: string): T => ds.columns.find((c) => c.name === name) as T;

describe('WOE / IV (bad in the numerator: higher WOE = riskier)', () => {
  it('German CheckingAccountStatus: IV 0.666 and the published WOE vector', () => {
    const b = binCategorical(column<CategoricalColumn>(german, 'CheckingAccountStatus'), german.target);
    expect(b.iv).toBeCloseTo(0.666, 3);
    const woe = Object.fromEntries(b.bins.map((x) => [x.label, x.woe]));
    expect(woe['lt.0']).toBeCloseTo(0.818, 3);
    expect(woe['0.to.200']).toBeCloseTo(0.401, 3);
    expect(woe['gt.200']).toBeCloseTo(-0.405, 3);
    expect(woe['none']).toBeCloseTo(-1.176, 3);
    const counts = Object.fromEntries(b.bins.map((x) => [x.label, [x.goods, x.bads]]));
    expect(counts['lt.0']).toEqual([139, 135]);
    expect(counts['none']).toEqual([348, 46]);
  });

  it('smooths (+0.5) only where a count is zero', () => {
    expect(woeIv(10, 20, 100, 200).woe).toBeCloseTo(Math.log(10 / 100 / (20 / 200)), 12);
    expect(woeIv(0, 20, 100, 200).woe).toBeCloseTo(Math.log(0.5 / 100 / (20.5 / 200)), 12);
    expect(Number.isFinite(woeIv(5, 0, 100, 200).woe)).toBe(true);
  });

  it('woePrior shrinks a bin towards WOE 0, more for a small bin, and keeps the sign', () => {
    // Prior pseudo-rows at the population bad rate (100 / 300): 10 of them add 3.33 bads and 6.67 goods.
    expect(woeIv(10, 20, 100, 200, 10).woe).toBeCloseTo(
      Math.log((10 + 10 / 3) / 100 / ((20 + 20 / 3) / 200)),
      12,
    );
    const raw = woeIv(8, 2, 100, 200).woe;
    const shrunk = woeIv(8, 2, 100, 200, 10).woe;
    expect(shrunk).toBeGreaterThan(0);
    expect(shrunk).toBeLessThan(raw);
    const bigShrunk = woeIv(80, 20, 100, 200, 10).woe;
    expect(bigShrunk / woeIv(80, 20, 100, 200).woe).toBeGreaterThan(shrunk / raw);
    expect(Number.isFinite(woeIv(0, 20, 100, 200, 3).woe)).toBe(true);
    expect(woeIv(0, 0, 100, 200, 3).woe).toBe(0);
  });

  it('default binning has no shrinkage; woePrior applies to every bin of the binning', () => {
    const col = column<CategoricalColumn>(german, 'CheckingAccountStatus');
    const plain = binCategorical(col, german.target);
    const shrunk = binCategorical(col, german.target, { woePrior: 20 });
    expect(shrunk.groups).toEqual(plain.groups);
    shrunk.bins.forEach((b, k) => {
      expect(Math.abs(b.woe)).toBeLessThan(Math.abs(plain.bins[k]!.woe));
      expect(Math.sign(b.woe)).toBe(Math.sign(plain.bins[k]!.woe));
    });
  });
});

describe('numeric binning', () => {
  const strictly = (rates: number[], up: boolean): boolean =>
    rates.every((r, i) => i === 0 || (up ? r > rates[i - 1]! : r < rates[i - 1]!));

  it.each([
    ['german', 'Duration'],
    ['german', 'Amount'],
    ['german', 'Age'],
    ['credit', 'Seniority'],
    ['credit', 'Income'],
  ])('%s %s: bad rates strictly monotone, every bin above the minimum size', (set, name) => {
    const ds = set === 'german' ? german : credit;
    const col = column<NumericColumn>(ds, name);
    for (const trend of ['ascending', 'descending', 'auto'] as const) {
      const b = binNumeric(col, ds.target, { trend, minBinShare: 0.05 });
      const rates = b.bins.map((x) => x.badRate);
      expect(strictly(rates, b.trend === 'ascending')).toBe(true);
      if (trend !== 'auto') expect(b.trend).toBe(trend);
      const present = col.values.filter((v) => !Number.isNaN(v)).length;
      if (b.bins.length > 1)
        for (const x of b.bins) expect(x.count).toBeGreaterThanOrEqual(Math.ceil(0.05 * present));
    }
  });

  it('auto picks the trend with the higher IV', () => {
    const col = column<NumericColumn>(german, 'Duration');
    const asc = binNumeric(col, german.target, { trend: 'ascending' });
    const desc = binNumeric(col, german.target, { trend: 'descending' });
    const auto = binNumeric(col, german.target, { trend: 'auto' });
    expect(auto.iv).toBe(Math.max(asc.iv, desc.iv));
    expect(auto.trend).toBe('ascending'); // longer loans are riskier
  });

  it('property: monotone and min-size on random data', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 50 }), fc.boolean()), { minLength: 40, maxLength: 300 }),
        (rows) => {
          const target = Uint8Array.from(rows, ([, bad]) => (bad ? 1 : 0));
          const bads = target.reduce((a, b) => a + b, 0);
          fc.pre(bads > 0 && bads < rows.length);
          const col: NumericColumn = {
            name: 'x',
            type: 'numeric',
            values: Float64Array.from(rows, ([x]) => x),
          };
          const b = binNumeric(col, target, { preBins: 10, minBinShare: 0.1 });
          const rates = b.bins.map((x) => x.badRate);
          const up = b.trend === 'ascending';
          return (
            rates.every((r, i) => i === 0 || (up ? r > rates[i - 1]! : r < rates[i - 1]!)) &&
            (b.bins.length === 1 || b.bins.every((x) => x.count >= Math.ceil(0.1 * rows.length)))
          );
        },
      ),
      { numRuns: 200 },
    );
  });

  it('missing gets its own bin; unseen text gets WOE 0', () => {
    const b = binNumeric(column<NumericColumn>(credit, 'Income'), credit.target);
    expect(b.missing.count).toBe(381);
    expect(b.missing.woe).not.toBe(0);
    expect(binSlotOf(b, '')).toBe(b.bins.length);
    expect(binSlotOf(b, null)).toBe(b.bins.length);
    expect(binSlotOf(b, 'n/a')).toBe(b.bins.length + 1);
    expect(b.unseen.woe).toBe(0);
  });
});

describe('categorical binning', () => {
  it('pools small levels and maps unseen levels to the unseen bin (WOE 0)', () => {
    const b = binCategorical(column<CategoricalColumn>(german, 'Purpose'), german.target, {
      minBinShare: 0.05,
    });
    const all = b.groups.flat();
    expect(all).toContain('Retraining');
    for (const x of b.bins) expect(x.count).toBeGreaterThanOrEqual(50);
    expect(binSlotOf(b, 'Spaceship')).toBe(b.bins.length + 1);
    expect(binSlotOf(b, 'NewCar')).toBeLessThan(b.bins.length);
  });

  it('groups levels of similar bad rate under ChiMerge', () => {
    const b = binCategorical(column<CategoricalColumn>(german, 'CheckingAccountStatus'), german.target, {
      chiMergeCategorical: 50,
    });
    expect(b.bins.length).toBeLessThan(4);
    const rates = b.bins.map((x) => x.badRate);
    expect([...rates].sort((a, c) => a - c)).toEqual(rates);
  });
});
