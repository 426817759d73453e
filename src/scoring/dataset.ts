import { LgError } from '../domain/index.js';
import { seededRandom } from '../domain/index.js';
import type { CsvTable } from './csv.js';

export type FeatureType = 'numeric' | 'categorical';

export interface NumericColumn {
  readonly name: string;
  readonly type: 'numeric';
  /** NaN marks a missing (or unusable) cell. */
  readonly values: Float64Array;
}

export interface CategoricalColumn {
  readonly name: string;
  readonly type: 'categorical';
  /** null marks a missing cell. */
  readonly values: readonly (string | null)[];
}

export type Column = NumericColumn | CategoricalColumn;

/** Features plus a binary target: target[i] = 1 when row i is "bad" (the event a PD model predicts). */
export interface Dataset {
  readonly columns: readonly Column[];
  readonly target: Uint8Array;
  readonly rows: number;
  readonly targetColumn: string;
  readonly badValue: string;
}

export interface PrepareOptions {
  readonly target: string;
  readonly bad: string;
  /** Forces a column's type; otherwise detected from the cells. */
  readonly types?: Readonly<Record<string, FeatureType>>;
  /** Columns left out of modelling (ids, dates...). */
  readonly ignore?: readonly string[];
  /**
   * Share of non-empty cells of a numeric column allowed to be non-numeric (they become missing, with a warning);
   * above it the data is rejected, naming the column and first offending row. Default 0.01.
   */
  readonly maxInvalidShare?: number;
  /** A column is detected as numeric when at least this share of its non-empty cells parse as numbers. Default 0.9. */
  readonly numericDetectShare?: number;
}

export interface PreparedDataset {
  readonly dataset: Dataset;
  readonly warnings: readonly string[];
}

const NUMBER_PATTERN = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

/** Decimal numbers only (no hex, no "Infinity"): a cell either is a plain number or it is not numeric. */
export function parseNumber(text: string): number | undefined {
  const t = text.trim();
  if (!NUMBER_PATTERN.test(t)) return undefined;
  const value = Number(t);
  return Number.isFinite(value) ? value : undefined;
}

export function prepareDataset(table: CsvTable, options: PrepareOptions): PreparedDataset {
  const targetIndex = table.header.indexOf(options.target);
  if (targetIndex < 0) {
    throw new LgError(
      'LG_DATA_INVALID',
      `target column "${options.target}" is not in the header (${table.header.join(', ')})`,
      {
        column: options.target,
      },
    );
  }
  if (table.rows.length === 0)
    throw new LgError('LG_DATA_INVALID', 'the CSV file has a header but no data rows', { row: 1 });
  const target = readTarget(table, targetIndex, options);
  const ignore = new Set(options.ignore ?? []);
  const warnings: string[] = [];
  const columns: Column[] = [];
  table.header.forEach((name, j) => {
    if (j === targetIndex || ignore.has(name)) return;
    const cells = table.rows.map((r) => r[j] ?? '');
    const column = buildColumn(name, cells, options.types?.[name], options, warnings);
    if (column !== undefined) columns.push(column);
  });
  if (columns.length === 0)
    throw new LgError('LG_DATA_INVALID', 'no feature columns besides the target', { column: options.target });
  return {
    dataset: {
      columns,
      target,
      rows: table.rows.length,
      targetColumn: options.target,
      badValue: options.bad,
    },
    warnings,
  };
}

/**
 * The target as 1 = bad, 0 = good. Refused: an empty cell, one class only, and more than two distinct values (a
 * "Bad" beside "bad", or an indeterminate outcome, would silently count as good).
 */
function readTarget(table: CsvTable, index: number, options: PrepareOptions): Uint8Array {
  const target = new Uint8Array(table.rows.length);
  const values = new Set<string>();
  let bads = 0;
  table.rows.forEach((r, i) => {
    const cell = r[index] ?? '';
    if (cell === '') {
      throw new LgError(
        'LG_DATA_INVALID',
        `target column "${options.target}" is empty in data row ${i + 1}`,
        {
          column: options.target,
          row: i + 1,
        },
      );
    }
    values.add(cell);
    if (cell === options.bad) {
      target[i] = 1;
      bads++;
    }
  });
  if (bads === 0 || bads === table.rows.length) {
    const only =
      bads === 0
        ? `no row has the bad value "${options.bad}"`
        : `every row has the bad value "${options.bad}"`;
    throw new LgError('LG_DATA_INVALID', `target column "${options.target}" has one class only: ${only}`, {
      column: options.target,
    });
  }
  if (values.size > 2) {
    const shown = [...values].slice(0, 5).map((v) => `"${v}"`);
    throw new LgError(
      'LG_DATA_INVALID',
      `target column "${options.target}" has ${values.size} distinct values (${shown.join(', ')}${values.size > 5 ? ', …' : ''}); it needs two: the bad value "${options.bad}" and one good value`,
      { column: options.target },
    );
  }
  return target;
}

function buildColumn(
  name: string,
  cells: readonly string[],
  forced: FeatureType | undefined,
  options: PrepareOptions,
  warnings: string[],
): Column | undefined {
  let present = 0;
  let numeric = 0;
  let firstInvalid = -1;
  const parsed = new Float64Array(cells.length);
  cells.forEach((cell, i) => {
    if (cell === '') {
      parsed[i] = Number.NaN;
      return;
    }
    present++;
    const value = parseNumber(cell);
    if (value === undefined) {
      parsed[i] = Number.NaN;
      if (firstInvalid < 0) firstInvalid = i;
    } else {
      parsed[i] = value;
      numeric++;
    }
  });
  if (present === 0) {
    warnings.push(`column "${name}" is empty in every row; left out`);
    return undefined;
  }
  const share = numeric / present;
  const type: FeatureType =
    forced ?? (share >= (options.numericDetectShare ?? 0.9) ? 'numeric' : 'categorical');
  if (type === 'categorical') return { name, type, values: cells.map((c) => (c === '' ? null : c)) };
  const invalid = present - numeric;
  if (invalid > 0) {
    const maxShare = options.maxInvalidShare ?? 0.01;
    const message = `numeric column "${name}" has ${invalid} non-numeric value(s) (${((100 * invalid) / present).toFixed(1)}%), first "${cells[firstInvalid]}" in data row ${firstInvalid + 1}`;
    if (invalid / present > maxShare) {
      throw new LgError(
        'LG_DATA_INVALID',
        `${message}; above the ${(100 * maxShare).toFixed(1)}% allowed — fix the data or declare the column categorical`,
        {
          column: name,
          row: firstInvalid + 1,
        },
      );
    }
    warnings.push(`${message}; treated as missing`);
  }
  return { name, type, values: parsed };
}

/** The rows at `indices`, in that order. */
export function subsetDataset(data: Dataset, indices: readonly number[]): Dataset {
  const columns = data.columns.map((c): Column => {
    if (c.type === 'numeric') return { ...c, values: Float64Array.from(indices, (i) => c.values[i]!) };
    return { ...c, values: indices.map((i) => c.values[i] ?? null) };
  });
  return { ...data, columns, target: Uint8Array.from(indices, (i) => data.target[i]!), rows: indices.length };
}

function shuffled(indices: number[], next: () => number): number[] {
  // Fisher–Yates with the injected seeded source: the same seed gives the same split on every machine.
  for (let i = indices.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [indices[i], indices[j]] = [indices[j]!, indices[i]!];
  }
  return indices;
}

/** Stratified split: each class keeps its share in both parts. Indices come back sorted (original row order). */
export function stratifiedSplit(
  target: Uint8Array,
  testShare: number,
  seed: number,
): { train: number[]; test: number[] } {
  const rng = seededRandom(seed);
  const train: number[] = [];
  const test: number[] = [];
  for (const cls of [0, 1]) {
    const idx: number[] = [];
    target.forEach((t, i) => {
      if (t === cls) idx.push(i);
    });
    shuffled(idx, rng.next);
    const nTest = Math.round(idx.length * testShare);
    // One push per row: push(...idx) overflows the stack past ~125,000 rows of a class.
    idx.forEach((row, k) => (k < nTest ? test : train).push(row));
  }
  return { train: train.sort((a, b) => a - b), test: test.sort((a, b) => a - b) };
}

/** Stratified k folds: returns, per fold, the held-out row indices (sorted). */
export function stratifiedFolds(target: Uint8Array, k: number, seed: number): number[][] {
  const rng = seededRandom(seed);
  const folds: number[][] = Array.from({ length: k }, () => []);
  for (const cls of [0, 1]) {
    const idx: number[] = [];
    target.forEach((t, i) => {
      if (t === cls) idx.push(i);
    });
    shuffled(idx, rng.next).forEach((row, pos) => folds[pos % k]!.push(row));
  }
  return folds.map((f) => f.sort((a, b) => a - b));
}
