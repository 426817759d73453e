import { describe, expect, it } from 'vitest';
import { LgError } from './errors.js';
import { DEFAULT_BUCKETS, bucketFor, daysPastDue, parseBuckets } from './delinquency.js';

describe('buckets', () => {
  it('defaults are M0, M1 = 1-30, M2 = 31-60, M3 = 61-90, M3+ = 91+', () => {
    const name = (d: number): string => bucketFor(d).name;
    expect([0, 1, 30, 31, 60, 61, 90, 91, 10_000].map(name)).toEqual([
      'M0',
      'M1',
      'M1',
      'M2',
      'M2',
      'M3',
      'M3',
      'M3+',
      'M3+',
    ]);
    expect(parseBuckets(DEFAULT_BUCKETS)).toEqual(DEFAULT_BUCKETS);
  });

  it('accepts a custom contiguous configuration', () => {
    const b = parseBuckets([
      { name: 'CURRENT', minDays: 0, maxDays: 0 },
      { name: 'SMA-0', minDays: 1, maxDays: 30 },
      { name: 'NPA', minDays: 31 },
    ]);
    expect(bucketFor(45, b).name).toBe('NPA');
    expect(b[2]?.maxDays).toBeNull();
  });

  const bad: [string, unknown][] = [
    ['not a list', { M0: 0 }],
    ['empty', []],
    [
      'gap',
      [
        { name: 'A', minDays: 0, maxDays: 0 },
        { name: 'B', minDays: 2, maxDays: null },
      ],
    ],
    [
      'overlap',
      [
        { name: 'A', minDays: 0, maxDays: 10 },
        { name: 'B', minDays: 5, maxDays: null },
      ],
    ],
    ['not starting at 0', [{ name: 'A', minDays: 1, maxDays: null }]],
    ['closed last', [{ name: 'A', minDays: 0, maxDays: 10 }]],
    [
      'open middle',
      [
        { name: 'A', minDays: 0, maxDays: null },
        { name: 'B', minDays: 1, maxDays: null },
      ],
    ],
    [
      'max < min',
      [
        { name: 'A', minDays: 0, maxDays: -1 },
        { name: 'B', minDays: 0, maxDays: null },
      ],
    ],
    [
      'duplicate',
      [
        { name: 'A', minDays: 0, maxDays: 0 },
        { name: 'A', minDays: 1, maxDays: null },
      ],
    ],
    [
      'fractional',
      [
        { name: 'A', minDays: 0, maxDays: 0.5 },
        { name: 'B', minDays: 1, maxDays: null },
      ],
    ],
    ['bad name', [{ name: '', minDays: 0, maxDays: null }]],
  ];
  for (const [name, spec] of bad) {
    it(`rejects ${name}`, () => {
      expect(() => parseBuckets(spec)).toThrow(LgError);
    });
  }

  it('refuses negative or fractional dpd', () => {
    expect(() => bucketFor(-1)).toThrow();
    expect(() => bucketFor(1.5)).toThrow();
  });
});

describe('daysPastDue', () => {
  const items = [
    { dueDate: '2024-01-15', outstandingMinor: 0 },
    { dueDate: '2024-02-15', outstandingMinor: 500 },
    { dueDate: '2024-03-15', outstandingMinor: 10_000 },
  ];
  it('counts from the oldest unpaid due date', () => {
    expect(daysPastDue(items, '2024-02-15')).toBe(0);
    expect(daysPastDue(items, '2024-02-16')).toBe(1);
    expect(daysPastDue(items, '2024-03-16')).toBe(30);
    expect(daysPastDue(items, '2024-05-15')).toBe(90);
  });
  it('is 0 when everything due is paid or nothing is due', () => {
    expect(
      daysPastDue(
        items.map((i) => ({ ...i, outstandingMinor: 0 })),
        '2025-01-01',
      ),
    ).toBe(0);
    expect(daysPastDue([], '2025-01-01')).toBe(0);
    expect(daysPastDue(items, '2024-01-01')).toBe(0);
  });
  it('does not depend on input order', () => {
    expect(daysPastDue([...items].reverse(), '2024-03-16')).toBe(30);
  });
  it('rejects bad dates', () => {
    expect(() => daysPastDue(items, '2024-13-01')).toThrow(LgError);
    expect(() => daysPastDue([{ dueDate: 'x', outstandingMinor: 1 }], '2024-01-01')).toThrow(LgError);
  });
});
