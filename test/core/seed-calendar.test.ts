import { describe, expect, it } from 'vitest';
import { LaggingClock, ManualClock, MS_PER_DAY, dateAtOffset } from '../../src/domain/clock.js';
import { SeedCalendar } from '../../src/core/seed-calendar.js';

const NOW = Date.UTC(2026, 10, 20, 20, 0, 0);

/** A calendar over a lagging clock, as the app's demo seed runs it, recording what happens at which instant. */
function replay(days: number, lenderOffsetMinutes = 0) {
  const base = new ManualClock(NOW);
  const clock = new LaggingClock(base);
  const log: string[] = [];
  const calendar = new SeedCalendar(
    clock,
    {
      days,
      startDaysAgo: (days) => clock.startBehind(days * MS_PER_DAY),
      setDaysAgo: (daysAgo) => clock.setLag(daysAgo * MS_PER_DAY),
      dayEnded: async (date) => {
        log.push(`ended ${date} at ${new Date(clock.now()).toISOString()}`);
      },
    },
    (ms) => dateAtOffset(ms, lenderOffsetMinutes),
  );
  return { base, clock, log, calendar };
}

describe('the demo seed calendar', () => {
  it('starts `days` back, moves forward a day at a time ending each, and ends at real time', async () => {
    const { clock, log, calendar } = replay(3);
    expect(clock.now()).toBe(NOW - 3 * MS_PER_DAY);
    await calendar.advanceTo(1);
    expect(clock.now()).toBe(NOW - MS_PER_DAY);
    // Never back: asked for an earlier day, it stays where it is.
    await calendar.advanceTo(2);
    expect(calendar.daysAgo).toBe(1);
    await calendar.advanceTo(-5);
    expect(clock.lag).toBe(0);
    expect(clock.now()).toBe(NOW);
    // Each night runs once the clock has moved into the next day.
    expect(log).toEqual([
      'ended 2026-11-17 at 2026-11-18T20:00:00.000Z',
      'ended 2026-11-18 at 2026-11-19T20:00:00.000Z',
      'ended 2026-11-19 at 2026-11-20T20:00:00.000Z',
    ]);
  });

  it('does a task on its day, after the night before it, now if its day has come; a day after today is today', async () => {
    const { clock, log, calendar } = replay(4);
    const at = (name: string) => async () => {
      log.push(`${name} at ${new Date(clock.now()).toISOString()}`);
    };
    await calendar.on(2, at('two days back'));
    await calendar.on(-3, at('after today'));
    await calendar.on(6, at('before the start'));
    await calendar.advanceTo(0);
    expect(log).toEqual([
      'before the start at 2026-11-16T20:00:00.000Z',
      'ended 2026-11-16 at 2026-11-17T20:00:00.000Z',
      'ended 2026-11-17 at 2026-11-18T20:00:00.000Z',
      'two days back at 2026-11-18T20:00:00.000Z',
      'ended 2026-11-18 at 2026-11-19T20:00:00.000Z',
      'ended 2026-11-19 at 2026-11-20T20:00:00.000Z',
      'after today at 2026-11-20T20:00:00.000Z',
    ]);
  });

  it("counts a due date back on the lender's calendar: the clock reads that date there on that day", () => {
    // 20:00 UTC is 04:00 the next day in Shanghai: the lender's today is 11-21.
    const { calendar } = replay(10, 480);
    expect(calendar.daysAgoOfLenderDate('2026-11-21')).toBe(0);
    expect(calendar.daysAgoOfLenderDate('2026-11-18')).toBe(3);
    expect(calendar.daysAgoOfLenderDate('2026-11-25')).toBe(-4);
    expect(replay(10).calendar.daysAgoOfLenderDate('2026-11-18')).toBe(2);
  });

  it("ends the lender's days: the night's job is for the day the clock was on there", async () => {
    // 20:00 UTC is 04:00 the next day in Shanghai: three days back the lender's day was 11-18, not 11-17.
    const { log, calendar } = replay(3, 480);
    expect(calendar.dateOf(0)).toBe('2026-11-21');
    await calendar.advanceTo(0);
    expect(log).toEqual([
      'ended 2026-11-18 at 2026-11-18T20:00:00.000Z',
      'ended 2026-11-19 at 2026-11-19T20:00:00.000Z',
      'ended 2026-11-20 at 2026-11-20T20:00:00.000Z',
    ]);
  });

  it('without a history, everything happens now, in order', async () => {
    const clock = new ManualClock(NOW);
    const calendar = new SeedCalendar(clock);
    const done: number[] = [];
    await calendar.on(5, async () => void done.push(1));
    await calendar.on(-5, async () => void done.push(2));
    await calendar.advanceTo(3);
    expect(done).toEqual([1, 2]);
    expect(calendar.daysAgo).toBe(0);
  });

  it('a lagging clock never moves its now backwards: a lag change that would is refused, the clock unchanged', () => {
    const base = new ManualClock(NOW);
    const clock = new LaggingClock(base);
    clock.setLag(0);
    const read = clock.now();
    expect(() => clock.setLag(1)).toThrow(RangeError);
    expect(clock.now()).toBe(read);
    expect(clock.lag).toBe(0);
    // A replay starts behind once; from there the lag only shrinks, and the clock cannot be sent back again.
    clock.startBehind(3 * MS_PER_DAY);
    clock.setLag(MS_PER_DAY);
    base.advance(1);
    const later = clock.now();
    expect(() => clock.setLag(MS_PER_DAY + 1)).toThrow(RangeError);
    expect(() => clock.startBehind(2 * MS_PER_DAY)).toThrow(RangeError);
    clock.setLag(0);
    expect(() => clock.startBehind(MS_PER_DAY)).toThrow(RangeError);
    expect(clock.now()).toBeGreaterThan(later);
  });

  it('a lagging clock refuses a lag that is not whole non-negative ms', () => {
    const clock = new LaggingClock(new ManualClock(NOW));
    expect(() => clock.setLag(-1)).toThrow(RangeError);
    expect(() => clock.setLag(0.5)).toThrow(RangeError);
    expect(() => clock.startBehind(0.5)).toThrow(RangeError);
    clock.startBehind(MS_PER_DAY);
    expect(clock.now()).toBe(NOW - MS_PER_DAY);
  });
});
