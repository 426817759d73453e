import { Command } from 'commander';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { CoreServices } from '../../core/index.js';
import { registerJobsCommand } from './jobs.js';

function program(core: Partial<CoreServices>) {
  const closed = { count: 0 };
  const p = new Command('lineguard').exitOverride();
  registerJobsCommand(p, async () => ({
    core: core as CoreServices,
    close: async () => {
      closed.count += 1;
    },
  }));
  return { p, closed };
}

/** What the command prints to stdout, captured. */
function capturedStdout(): string[] {
  const out: string[] = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => (out.push(String(chunk)), true));
  return out;
}

/** A core whose daily job records that it aged the book (in `order`) and aged `loans` loans. */
function agingCore(order: string[], loans: number): CoreServices {
  return {
    runDailyJob: async (asOf: string) => {
      order.push('age');
      return {
        asOf,
        loansAged: loans,
        loansAgedLater: 0,
        linesAged: loans,
        bucketChanges: [],
        tempLimitsExpired: 0,
      };
    },
  } as Partial<CoreServices> as CoreServices;
}

describe('lineguard jobs', () => {
  afterEach(() => {
    vi.restoreAllMocks();
    process.exitCode = undefined;
  });

  it('runs the daily job and prints JSON', async () => {
    const out = capturedStdout();
    const runDailyJob = vi.fn(async (asOf: string) => ({
      asOf,
      loansAged: 3,
      loansAgedLater: 0,
      linesAged: 1,
      bucketChanges: [],
      tempLimitsExpired: 0,
    }));
    const { p, closed } = program({ runDailyJob });
    await p.parseAsync(['node', 'lineguard', 'jobs', 'daily', '--as-of', '2025-03-01', '--json']);
    expect(runDailyJob).toHaveBeenCalledWith('2025-03-01');
    expect(JSON.parse(out.join(''))).toMatchObject({ asOf: '2025-03-01', loansAged: 3 });
    expect(process.exitCode).toBe(0);
    expect(closed.count).toBe(1);
  });

  it('the daily job gives delinquency notices and reports to the bureau after the aging', async () => {
    const out = capturedStdout();
    const order: string[] = [];
    const core = agingCore(order, 1);
    const bureauReporting = {
      run: async () => {
        order.push('bureau');
        return { noticesSent: 2, reported: 1, cured: 0, submissionsSent: 1 };
      },
      flush: async () => 0,
      noticesOf: async () => [],
      reseal: async () => ({
        keyId: 'k0',
        submissionsChecked: 0,
        submissionsSealed: 0,
        submissionsUnopenable: 0,
      }),
    };
    const p = new Command('lineguard').exitOverride();
    registerJobsCommand(p, async () => ({ core, bureauReporting, close: async () => undefined }));
    await p.parseAsync(['node', 'lineguard', 'jobs', 'daily', '--as-of', '2025-03-01']);
    expect(order).toEqual(['age', 'bureau']);
    expect(out.join('')).toContain('credit bureau: 2 delinquency notices sent, 1 reported');
  });

  it('the daily job prunes the monitor event feed after the rest, and says how many rows went', async () => {
    const out = capturedStdout();
    const order: string[] = [];
    const core = agingCore(order, 0);
    const monitor = {
      pruneFeed: async () => {
        order.push('feed');
        return 1_250;
      },
    };
    const p = new Command('lineguard').exitOverride();
    registerJobsCommand(p, async () => ({ core, monitor, close: async () => undefined }));
    await p.parseAsync(['node', 'lineguard', 'jobs', 'daily', '--as-of', '2025-03-01']);
    expect(order).toEqual(['age', 'feed']);
    expect(out.join('')).toContain('monitor event feed: 1250 rows every live process had read pruned');
  });

  it('refuses a bad date with exit 2, and exits 1 when a review had errors', async () => {
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const { p } = program({});
    await p.parseAsync(['node', 'lineguard', 'jobs', 'daily', '--as-of', '2025-02-30']);
    expect(process.exitCode).toBe(2);
    const review = program({
      runReviewJob: async (asOf) => ({
        asOf,
        reviewed: 2,
        outcomes: { APPROVE: 1 },
        actions: [],
        held: 0,
        errors: [{ lineId: 'l1', code: 'LG_CONFLICT', message: 'x' }],
      }),
    });
    await review.p.parseAsync(['node', 'lineguard', 'jobs', 'review', '--as-of', '2025-03-01']);
    expect(process.exitCode).toBe(1);
  });
});
