import { MS_PER_DAY, parseIsoDate } from './clock.js';
import { LgError } from './errors.js';

/**
 * Delinquency buckets by days past due (the M0/M1/M2/M3/M3+ convention of Chinese consumer lending; Fineract's
 * DelinquencyRange rows and Frappe's DPD ranges are the same idea). Buckets must cover 0 … ∞ contiguously, without
 * gaps or overlaps, so every loan falls in exactly one.
 */
export interface DelinquencyBucket {
  readonly name: string;
  readonly minDays: number;
  /** Inclusive; null for the open-ended last bucket. */
  readonly maxDays: number | null;
}

export const DEFAULT_BUCKETS: readonly DelinquencyBucket[] = Object.freeze([
  { name: 'M0', minDays: 0, maxDays: 0 },
  { name: 'M1', minDays: 1, maxDays: 30 },
  { name: 'M2', minDays: 31, maxDays: 60 },
  { name: 'M3', minDays: 61, maxDays: 90 },
  { name: 'M3+', minDays: 91, maxDays: null },
]);

export const MAX_BUCKETS = 32;

function invalid(message: string, details: Record<string, unknown>): LgError {
  return new LgError('LG_CONFIG_INVALID', `delinquency buckets: ${message}`, details);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function parseBucket(value: unknown, index: number): DelinquencyBucket {
  if (!isRecord(value)) throw invalid(`bucket ${index} must be an object`, { index });
  const { name, minDays, maxDays } = value;
  if (typeof name !== 'string' || !/^[A-Za-z0-9+_-]{1,16}$/.test(name)) {
    throw invalid(`bucket ${index} needs a name of 1-16 letters, digits, + _ -`, { index, field: 'name' });
  }
  if (!Number.isSafeInteger(minDays) || (minDays as number) < 0) {
    throw invalid(`bucket ${name}: minDays must be an integer >= 0`, { index, field: 'minDays' });
  }
  if (
    maxDays !== null &&
    maxDays !== undefined &&
    (!Number.isSafeInteger(maxDays) || (maxDays as number) < (minDays as number))
  ) {
    throw invalid(`bucket ${name}: maxDays must be an integer >= minDays, or null`, {
      index,
      field: 'maxDays',
    });
  }
  return { name, minDays: minDays as number, maxDays: (maxDays as number | null | undefined) ?? null };
}

/**
 * Validates a bucket configuration (e.g. from YAML/JSON): ordered, starting at 0, each bucket starting the day after
 * the previous one ends, the last open-ended, names unique.
 */
export function parseBuckets(spec: unknown): DelinquencyBucket[] {
  if (!Array.isArray(spec) || spec.length === 0 || spec.length > MAX_BUCKETS) {
    throw invalid(`must be a list of 1 to ${MAX_BUCKETS} buckets`, {});
  }
  const buckets = spec.map(parseBucket);
  const names = new Set<string>();
  let expectedMin = 0;
  buckets.forEach((bucket, index) => {
    if (names.has(bucket.name)) throw invalid(`duplicate name ${bucket.name}`, { index });
    names.add(bucket.name);
    if (bucket.minDays !== expectedMin) {
      throw invalid(`bucket ${bucket.name} must start at ${expectedMin} days (no gaps or overlaps)`, {
        index,
      });
    }
    const last = index === buckets.length - 1;
    if (bucket.maxDays === null && !last) throw invalid(`only the last bucket may be open-ended`, { index });
    if (bucket.maxDays !== null && last)
      throw invalid(`the last bucket must be open-ended (maxDays null)`, { index });
    expectedMin = (bucket.maxDays ?? 0) + 1;
  });
  return buckets;
}

/** The bucket holding `dpd` days past due. */
export function bucketFor(
  dpd: number,
  buckets: readonly DelinquencyBucket[] = DEFAULT_BUCKETS,
): DelinquencyBucket {
  if (!Number.isSafeInteger(dpd) || dpd < 0)
    throw new Error(`days past due must be an integer >= 0, got ${dpd}`);
  const bucket = buckets.find((b) => dpd >= b.minDays && (b.maxDays === null || dpd <= b.maxDays));
  if (bucket === undefined)
    throw new Error(`no delinquency bucket holds ${dpd} days; buckets were not validated`);
  return bucket;
}

export interface DueItem {
  /** YYYY-MM-DD. */
  dueDate: string;
  /** What is still unpaid of this instalment. */
  outstandingMinor: number;
}

/**
 * Days since the oldest instalment that was due before `asOfDate` and is still unpaid; 0 when nothing is overdue.
 * An instalment due on asOfDate itself is not yet late (it can be paid all that day).
 */
export function daysPastDue(installments: readonly DueItem[], asOfDate: string): number {
  const asOfMs = parseIsoDate(asOfDate);
  if (asOfMs === undefined) throw new LgError('LG_VALIDATION', 'asOfDate must be YYYY-MM-DD', { asOfDate });
  let oldest: number | undefined;
  for (const item of installments) {
    const dueMs = parseIsoDate(item.dueDate);
    if (dueMs === undefined)
      throw new LgError('LG_VALIDATION', 'dueDate must be YYYY-MM-DD', { dueDate: item.dueDate });
    if (item.outstandingMinor > 0 && dueMs < asOfMs && (oldest === undefined || dueMs < oldest))
      oldest = dueMs;
  }
  return oldest === undefined ? 0 : Math.round((asOfMs - oldest) / MS_PER_DAY);
}
