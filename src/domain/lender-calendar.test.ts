import { describe, expect, it } from 'vitest';
import { lenderDayEnd, lenderDayOf, lenderDayStart, lenderMonthBounds } from './lender-calendar.js';

const BEIJING = { lenderUtcOffsetMinutes: 480 };
const NEW_YORK = { lenderUtcOffsetMinutes: -300 };
const UTC = {};

describe("the lender's calendar", () => {
  it('dates an instant by the day where the lender is', () => {
    // 17:00 UTC on 7 December is 01:00 on 8 December in Beijing, 12:00 on the 7th in New York.
    const at = Date.UTC(2026, 11, 7, 17, 0);
    expect(lenderDayOf(BEIJING, at)).toBe('2026-12-08');
    expect(lenderDayOf(NEW_YORK, at)).toBe('2026-12-07');
    expect(lenderDayOf(UTC, at)).toBe('2026-12-07');
    expect(lenderDayOf(NEW_YORK, Date.UTC(2026, 11, 8, 4, 59, 59, 999))).toBe('2026-12-07');
    expect(lenderDayOf(NEW_YORK, Date.UTC(2026, 11, 8, 5))).toBe('2026-12-08');
  });

  it("a day runs from the lender's midnight to the next, its end excluded", () => {
    expect(lenderDayStart(BEIJING, '2026-12-08')).toBe(Date.UTC(2026, 11, 7, 16));
    expect(lenderDayEnd(BEIJING, '2026-12-08')).toBe(Date.UTC(2026, 11, 8, 16));
    expect(lenderDayStart(NEW_YORK, '2026-12-08')).toBe(Date.UTC(2026, 11, 8, 5));
    expect(lenderDayEnd(UTC, '2026-12-31')).toBe(Date.UTC(2027, 0, 1));
    const start = lenderDayStart(BEIJING, '2026-12-08') ?? NaN;
    expect(lenderDayOf(BEIJING, start)).toBe('2026-12-08');
    expect(lenderDayOf(BEIJING, start - 1)).toBe('2026-12-07');
    expect(lenderDayOf(BEIJING, (lenderDayEnd(BEIJING, '2026-12-08') ?? NaN) - 1)).toBe('2026-12-08');
    for (const bad of ['2026-02-30', '2026-12-8', '', 'today'])
      expect([lenderDayStart(BEIJING, bad), lenderDayEnd(BEIJING, bad)]).toEqual([undefined, undefined]);
  });

  it("a month runs from its first day's midnight there to the next month's", () => {
    expect(lenderMonthBounds(BEIJING, '2026-12')).toEqual({
      from: Date.UTC(2026, 10, 30, 16),
      to: Date.UTC(2026, 11, 31, 16),
    });
    expect(lenderMonthBounds(UTC, '2028-02')).toEqual({
      from: Date.UTC(2028, 1, 1),
      to: Date.UTC(2028, 2, 1),
    });
    expect(lenderMonthBounds(NEW_YORK, '2026-11')).toEqual({
      from: Date.UTC(2026, 10, 1, 5),
      to: Date.UTC(2026, 11, 1, 5),
    });
    for (const bad of ['2026-13', '2026-00', '2026-1', '2026-12-01', ''])
      expect(lenderMonthBounds(BEIJING, bad)).toBeUndefined();
  });
});
