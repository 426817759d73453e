import { isoDate, MS_PER_DAY, parseIsoDate, type Clock } from '../domain/index.js';

/**
 * How the demo book grows over the days before today instead of on one instant (the app's first start): the clock
 * is set `days` days back before the first borrower applies and only moves forward, a day at a time, to now; after
 * each day the clock passes, what a night runs for it (`dayEnded`: the app's `jobs daily`).
 */
export interface SeedHistory {
  readonly days: number;
  /** Sets the clock `days` days behind now, before anything of the history happens (its one step back). */
  startDaysAgo(days: number): void;
  /** Moves the clock forward to `daysAgo` days behind now: ever fewer, ending at 0. */
  setDaysAgo(daysAgo: number): void;
  dayEnded(date: string): Promise<void>;
}

/**
 * The demo seed's calendar. With a history, it starts `days` days back; advanceTo moves it forward, doing on each day
 * what was put on it and ending each day it leaves. Without one everything happens now, in the order it is asked for.
 * Days are counted back from today (0), today being the clock's day when the calendar is made.
 */
export class SeedCalendar {
  private current: number;
  private readonly todayMs: number;
  private readonly agenda = new Map<number, (() => Promise<void>)[]>();

  /** `lenderDateOf`: the lender's calendar date of an instant, the calendar a loan's due dates are in. */
  constructor(
    clock: Clock,
    private readonly history?: SeedHistory,
    private readonly lenderDateOf: (ms: number) => string = isoDate,
  ) {
    this.todayMs = clock.now();
    this.current = history?.days ?? 0;
    history?.startDaysAgo(this.current);
  }

  /** The day the calendar is on, in days before today. */
  get daysAgo(): number {
    return this.current;
  }

  /**
   * The lender's calendar date the clock reads `daysAgo` days before today: the day a night's job (`dayEnded`) is for,
   * whatever day it is in UTC then.
   */
  dateOf(daysAgo: number): string {
    return this.lenderDateOf(this.todayMs - daysAgo * MS_PER_DAY);
  }

  /**
   * How many days before today a date of the lender's calendar (a due date) is, negative after today: on that many
   * days back the clock reads that date there, the time of day being today's.
   */
  daysAgoOfLenderDate(date: string): number {
    const day = parseIsoDate(date);
    const today = parseIsoDate(this.lenderDateOf(this.todayMs));
    if (day === undefined || today === undefined) throw new RangeError(`not a date: ${date}`);
    return (today - day) / MS_PER_DAY;
  }

  /**
   * Does `task` on the day `daysAgo` days before today: now when the calendar is on or past it (or has no history),
   * else once it gets there. A day after today is today: the calendar ends there.
   */
  async on(daysAgo: number, task: () => Promise<void>): Promise<void> {
    if (!this.history || daysAgo >= this.current) return task();
    const day = Math.max(0, daysAgo);
    this.agenda.set(day, [...(this.agenda.get(day) ?? []), task]);
  }

  /**
   * Moves forward to `daysAgo` days before today, never back: does what is due on the day it is on, then for each day
   * to go ends it, moves the clock into the next and does what is due there.
   */
  async advanceTo(daysAgo: number): Promise<void> {
    const target = Math.max(0, daysAgo);
    for (;;) {
      await this.doDue();
      if (!this.history || this.current <= target) return;
      const ended = this.dateOf(this.current);
      this.current -= 1;
      this.history.setDaysAgo(this.current);
      await this.history.dayEnded(ended);
    }
  }

  private async doDue(): Promise<void> {
    const tasks = this.agenda.get(this.current);
    if (!tasks) return;
    this.agenda.delete(this.current);
    for (const task of tasks) await task();
  }
}
