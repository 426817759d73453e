/**
 * The plain benchmark baseline: logistic regression on one-hot categorical levels and standardised numeric values
 * (median-imputed, with a missing indicator when training had missing cells). Every statistic is fitted on the
 * training rows only; unseen levels get all-zero indicators.
 */
import type { Dataset } from './dataset.js';
import {
  fitLogistic,
  predictLogistic,
  type Design,
  type LogisticFit,
  type LogisticOptions,
} from './logistic.js';

type ColumnEncoder =
  | { kind: 'numeric'; median: number; mean: number; sd: number; missingFlag: boolean }
  | { kind: 'categorical'; levels: Map<string, number> };

export interface OneHotEncoder {
  readonly encoders: readonly ColumnEncoder[];
  readonly width: number;
}

export function fitOneHot(data: Dataset): OneHotEncoder {
  let width = 0;
  const encoders = data.columns.map((c): ColumnEncoder => {
    if (c.type === 'numeric') {
      const present = Float64Array.from(c.values.filter((v) => !Number.isNaN(v))).sort();
      const median = present.length === 0 ? 0 : present[Math.floor(present.length / 2)]!;
      const filled = Array.from(c.values, (v) => (Number.isNaN(v) ? median : v));
      const mean = filled.reduce((a, b) => a + b, 0) / filled.length;
      const sd = Math.sqrt(filled.reduce((a, b) => a + (b - mean) ** 2, 0) / filled.length) || 1;
      const missingFlag = present.length < c.values.length;
      width += missingFlag ? 2 : 1;
      return { kind: 'numeric', median, mean, sd, missingFlag };
    }
    const levels = new Map<string, number>();
    for (const v of c.values)
      if (!levels.has(v ?? '\u0000missing')) levels.set(v ?? '\u0000missing', levels.size);
    width += levels.size;
    return { kind: 'categorical', levels };
  });
  return { encoders, width };
}

export function encodeOneHot(enc: OneHotEncoder, data: Dataset): Design {
  const x = new Float64Array(data.rows * enc.width);
  let offset = 0;
  data.columns.forEach((c, j) => {
    const e = enc.encoders[j]!;
    if (e.kind === 'numeric' && c.type === 'numeric') {
      for (let i = 0; i < data.rows; i++) {
        const v = c.values[i]!;
        x[i * enc.width + offset] = ((Number.isNaN(v) ? e.median : v) - e.mean) / e.sd;
        if (e.missingFlag) x[i * enc.width + offset + 1] = Number.isNaN(v) ? 1 : 0;
      }
      offset += e.missingFlag ? 2 : 1;
    } else if (e.kind === 'categorical' && c.type === 'categorical') {
      for (let i = 0; i < data.rows; i++) {
        const k = e.levels.get(c.values[i] ?? '\u0000missing');
        if (k !== undefined) x[i * enc.width + offset + k] = 1;
      }
      offset += e.levels.size;
    } else throw new Error(`column ${c.name} changed type between training and scoring`);
  });
  return { x, rows: data.rows, cols: enc.width };
}

export interface OneHotLogistic {
  readonly encoder: OneHotEncoder;
  readonly fit: LogisticFit;
}

export function trainOneHotLogistic(data: Dataset, options: LogisticOptions = {}): OneHotLogistic {
  const encoder = fitOneHot(data);
  return { encoder, fit: fitLogistic(encodeOneHot(encoder, data), data.target, options) };
}

export function predictOneHotLogistic(model: OneHotLogistic, data: Dataset): Float64Array {
  return predictLogistic(model.fit, encodeOneHot(model.encoder, data));
}
