import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  MS_PER_DAY,
  addMonthsClampedDay,
  civilFromDay,
  dayFromCivil,
  daysInMonth,
  isoDate,
  isoDay,
  parseIsoDate,
  parseIsoInstant,
} from './clock.js';

/** What isoDate and parseIsoDate were defined as before they did integer arithmetic. */
const viaDate = {
  isoDate: (ms: number): string => new Date(ms).toISOString().slice(0, 10),
  parseIsoDate(text: string): number | undefined {
    if (!/^\d{4}-\d{2}-\d{2}$/.test(text)) return undefined;
    const ms = Date.parse(`${text}T00:00:00Z`);
    if (Number.isNaN(ms) || viaDate.isoDate(ms) !== text) return undefined;
    return ms;
  },
};

const YEAR_0000 = -62_167_219_200_000;
const YEAR_10000 = 253_402_300_800_000;

describe('isoDate', () => {
  it('agrees with Date for every instant in years 0000–9999, fractions and far years too', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.integer({ min: YEAR_0000 - MS_PER_DAY, max: YEAR_10000 + MS_PER_DAY }),
          fc.double({ min: -8.64e15, max: 8.64e15, noNaN: true }),
          fc.constantFrom(0, -0, -1, 0.5, -0.5, YEAR_0000, YEAR_10000 - 1, YEAR_10000),
        ),
        (ms) => {
          expect(isoDate(ms)).toBe(viaDate.isoDate(ms));
        },
      ),
      { numRuns: 5_000 },
    );
  });

  it('throws for an invalid instant, as Date does', () => {
    expect(() => isoDate(Number.NaN)).toThrow(RangeError);
    expect(() => isoDate(9e15)).toThrow(RangeError);
  });
});

describe('parseIsoDate', () => {
  it('agrees with Date.parse on strict YYYY-MM-DD, real dates only', () => {
    const digits = (n: number) =>
      fc.integer({ min: 0, max: 10 ** n - 1 }).map((v) => String(v).padStart(n, '0'));
    const text = fc.oneof(
      fc.tuple(digits(4), digits(2), digits(2)).map(([y, m, d]) => `${y}-${m}-${d}`),
      fc
        .tuple(digits(4), fc.integer({ min: 1, max: 12 }), fc.integer({ min: 28, max: 31 }))
        .map(([y, m, d]) => `${y}-${String(m).padStart(2, '0')}-${d}`),
      fc.string({ maxLength: 12 }),
      fc.constantFrom('2024-02-29', '2023-02-29', '1900-02-29', '2000-02-29', '0000-01-01', '9999-12-31'),
      fc.constantFrom(
        '2024-01-01\n',
        ' 2024-01-01',
        '2024/01/01',
        '+02024-01-01',
        '２０２４-01-01',
        '2024-1-01',
      ),
    );
    fc.assert(
      fc.property(text, (t) => {
        expect(parseIsoDate(t)).toBe(viaDate.parseIsoDate(t));
      }),
      { numRuns: 5_000 },
    );
  });
});

describe('parseIsoInstant', () => {
  it('reads RFC 3339 date-times as Date.parse does, time zones and fractions included', () => {
    const two = (max: number) => fc.integer({ min: 0, max }).map((v) => String(v).padStart(2, '0'));
    const instant = fc
      .record({
        ms: fc.integer({ min: YEAR_0000 + MS_PER_DAY, max: YEAR_10000 - 2 * MS_PER_DAY }),
        separator: fc.constantFrom('T', 't', ' '),
        fraction: fc.constantFrom('', '.5', '.123', '.000001'),
        zone: fc.oneof(
          fc.constantFrom('Z', 'z'),
          fc.tuple(fc.constantFrom('+', '-'), two(23), two(59)).map(([s, h, m]) => `${s}${h}:${m}`),
        ),
      })
      .map(({ ms, separator, fraction, zone }) => {
        const iso = new Date(ms).toISOString();
        return `${iso.slice(0, 10)}${separator}${iso.slice(11, 19)}${fraction}${zone}`;
      });
    fc.assert(
      fc.property(instant, (text) => {
        // Date.parse knows only "T" and an upper-case Z; the forms it reads the same are compared on its reading.
        const canonical = text.replace(/[t ]/, 'T').replace(/z$/, 'Z');
        expect(parseIsoInstant(text)).toBe(Date.parse(canonical));
      }),
      { numRuns: 3_000 },
    );
  });

  it('refuses what Date.parse would read as something else', () => {
    for (const text of [
      '12',
      '1',
      'x 2026',
      '3000',
      'Dec 7 2026',
      'Sun, 06 Dec 2026 23:59:00 GMT',
      '2026-12-07',
      '2026-12-07T00:00:00',
      '2026-12-07T00:00Z',
      '2026-02-30T00:00:00Z',
      '2026-12-07T24:00:00Z',
      '2026-12-31T23:59:60Z',
      '2026-12-07T00:00:00+24:00',
      '2026-12-07T00:00:00.Z',
      ' 2026-12-07T00:00:00Z',
      '2026-12-07T00:00:00Z\n',
      '２０２６-12-07T00:00:00Z',
    ]) {
      expect(parseIsoInstant(text), text).toBeUndefined();
    }
    expect(parseIsoInstant('2026-12-07T08:00:00+0800')).toBe(Date.parse('2026-12-07T00:00:00Z'));
    expect(parseIsoInstant('2026-12-07T08:00:00+08')).toBe(Date.parse('2026-12-07T00:00:00Z'));
    expect(parseIsoInstant('2026-12-07T00:00:00.1239Z')).toBe(Date.parse('2026-12-07T00:00:00.123Z'));
  });
});

describe('integer calendar', () => {
  it('day numbers and calendar dates convert both ways, as Date.UTC counts them', () => {
    fc.assert(
      fc.property(fc.integer({ min: -719_528, max: 2_932_896 }), (day) => {
        const { year, month, day: dayOfMonth } = civilFromDay(day);
        expect(dayFromCivil(year, month, dayOfMonth)).toBe(day);
        const date = new Date(day * MS_PER_DAY);
        expect([year, month, dayOfMonth]).toEqual([
          date.getUTCFullYear(),
          date.getUTCMonth() + 1,
          date.getUTCDate(),
        ]);
        expect(isoDay(day)).toBe(date.toISOString().slice(0, 10));
      }),
      { numRuns: 5_000 },
    );
  });

  it('knows month lengths, leap years included', () => {
    expect([2023, 2024, 1900, 2000].map((y) => daysInMonth(y, 2))).toEqual([28, 29, 28, 29]);
    expect(daysInMonth(2024, 4)).toBe(30);
    expect(daysInMonth(2024, 12)).toBe(31);
  });

  it('steps months with the day clamped to the month end, either way', () => {
    const jan31 = { year: 2024, month: 1, day: 31 };
    expect(isoDay(addMonthsClampedDay(jan31, 1))).toBe('2024-02-29');
    expect(isoDay(addMonthsClampedDay(jan31, 13))).toBe('2025-02-28');
    expect(isoDay(addMonthsClampedDay(jan31, -2))).toBe('2023-11-30');
    expect(isoDay(addMonthsClampedDay({ year: 2024, month: 2, day: 29 }, -1, 31))).toBe('2024-01-31');
  });
});
