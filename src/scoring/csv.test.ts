import { describe, expect, it } from 'vitest';
import { LgError } from '../domain/index.js';
import { formatCsv, parseCsv, readCsvTable } from './csv.js';
import { prepareDataset, stratifiedSplit } from './dataset.js';

function lgError(fn: () => unknown): LgError {
  try {
    fn();
  } catch (error) {
    if (error instanceof LgError) return error;
    throw error;
  }
  throw new Error('expected an LgError');
}

describe('CSV reader (RFC 4180)', () => {
  it('handles quotes, doubled quotes, embedded commas and line breaks, CRLF and a BOM', () => {
    const text = '\ufeffa,b,c\r\n1,"x, y","he said ""hi"""\r\n2,"line\nbreak",\n';
    expect(parseCsv(text)).toEqual([
      ['a', 'b', 'c'],
      ['1', 'x, y', 'he said "hi"'],
      ['2', 'line\nbreak', ''],
    ]);
    const t = formatCsv(
      ['a', 'b'],
      [
        ['x, y', 'q"'],
        [1, ''],
      ],
    );
    expect(parseCsv(t)).toEqual([
      ['a', 'b'],
      ['x, y', 'q"'],
      ['1', ''],
    ]);
  });

  it('rejects an empty file, a ragged row and an unterminated quote', () => {
    expect(lgError(() => readCsvTable('')).code).toBe('LG_DATA_INVALID');
    expect(lgError(() => readCsvTable('a,b\n1,2,3\n')).details).toEqual({ row: 1 });
    expect(lgError(() => parseCsv('a,"b\n')).code).toBe('LG_DATA_INVALID');
  });
});

describe('data preparation', () => {
  const table = (rows: string[]): ReturnType<typeof readCsvTable> =>
    readCsvTable(['y,num,cat', ...rows].join('\n'));

  it('detects numeric and categorical columns, empty cells are missing, types can be forced', () => {
    const t = table(['bad,1,a', 'good,,b', 'good,3,', 'bad,4,a']);
    const { dataset } = prepareDataset(t, { target: 'y', bad: 'bad' });
    expect(dataset.columns.map((c) => c.type)).toEqual(['numeric', 'categorical']);
    expect(Number.isNaN(dataset.columns[0]!.values[1] as number)).toBe(true);
    expect(dataset.columns[1]!.values[2]).toBeNull();
    expect(Array.from(dataset.target)).toEqual([1, 0, 0, 1]);
    const forced = prepareDataset(t, { target: 'y', bad: 'bad', types: { num: 'categorical' } }).dataset;
    expect(forced.columns[0]!.type).toBe('categorical');
  });

  it('names the column for a missing target and a one-class target', () => {
    const t = table(['bad,1,a', 'good,2,b']);
    const missing = lgError(() => prepareDataset(t, { target: 'status', bad: 'bad' }));
    expect(missing.code).toBe('LG_DATA_INVALID');
    expect(missing.details).toEqual({ column: 'status' });
    const one = lgError(() => prepareDataset(t, { target: 'y', bad: 'BAD' }));
    expect(one.message).toMatch(/one class/);
    expect(one.details).toEqual({ column: 'y' });
  });

  it('rejects non-numeric values in a numeric column beyond the threshold, naming column and row', () => {
    const rows = Array.from({ length: 40 }, (_, i) => `${i % 2 ? 'bad' : 'good'},${i},a`);
    rows[7] = 'bad,oops,a';
    rows[9] = 'bad,??,a';
    const e = lgError(() => prepareDataset(table(rows), { target: 'y', bad: 'bad' }));
    expect(e.details).toEqual({ column: 'num', row: 8 });
    expect(e.message).toMatch(/"oops"/);
    // Within the threshold the values become missing, with a warning.
    const ok = prepareDataset(table(rows), { target: 'y', bad: 'bad', maxInvalidShare: 0.1 });
    expect(ok.warnings[0]).toMatch(/num/);
  });

  it('splits stratified and deterministically', () => {
    const target = Uint8Array.from({ length: 1000 }, (_, i) => (i % 10 < 3 ? 1 : 0));
    const a = stratifiedSplit(target, 0.3, 42);
    const b = stratifiedSplit(target, 0.3, 42);
    expect(a).toEqual(b);
    expect(a.test.length).toBe(300);
    expect(a.test.filter((i) => target[i] === 1).length).toBe(90);
    expect(stratifiedSplit(target, 0.3, 43).test).not.toEqual(a.test);
  });
});
