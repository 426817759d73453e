import type { Command } from 'commander';
import { parseIsoDate } from '../../domain/index.js';
import { LgError } from '../../domain/index.js';
import type { CoreServices } from '../../core/index.js';
import { dailyJobs, type OutboxRetention } from '../../app/index.js';
import type { BureauReporting, PortfolioService } from '../../compliance/index.js';
import type { MonitorService } from '../../monitor/index.js';
import { EXIT, printJson, runAction } from '../exit.js';

type OpenJobsDeps = () => Promise<{
  core: CoreServices;
  portfolio?: PortfolioService;
  bureauReporting?: BureauReporting;
  monitor?: Pick<MonitorService, 'pruneFeed'>;
  outbox?: OutboxRetention;
  close(): Promise<void>;
}>;

type JobDeps = Awaited<ReturnType<OpenJobsDeps>>;

/**
 * `lineguard jobs daily|review [--as-of YYYY-MM-DD] [--json]`: the day is the lender's today unless given (the
 * lender's calendar, LINEGUARD_LENDER_UTC_OFFSET: a job run at 01:00 in Beijing is for that day there, though UTC
 * still reads the day before). Exit 0 when the job ran cleanly, 1 when some lines failed in a review (the rest were
 * still reviewed), 2 on bad input.
 */
export function registerJobsCommand(program: Command, openDeps: OpenJobsDeps): Command {
  const jobs = program
    .command('jobs')
    .description('batch jobs over the book: daily delinquency aging and periodic line review');
  registerDailyJob(jobs, openDeps);
  registerReviewJob(jobs, openDeps);
  return jobs;
}

const usageExit = (err: { exitCode: number }): never =>
  process.exit(err.exitCode === 0 ? EXIT.OK : EXIT.INVALID_INPUT);

const asOf = (text: string | undefined): string | undefined => {
  if (text !== undefined && parseIsoDate(text) === undefined)
    throw new LgError('LG_VALIDATION', `--as-of must be a date YYYY-MM-DD, got "${text}"`);
  return text;
};

interface JobSpec<R> {
  name: string;
  description: string;
  run: (deps: JobDeps, date: string) => Promise<R>;
  describe: (result: R) => string;
  exitCode: (result: R) => number;
}

/** One job subcommand: validate the date, open the app, run (for today there if no date), print, always close. */
function jobCommand<R>(jobs: Command, openDeps: OpenJobsDeps, spec: JobSpec<R>): void {
  jobs
    .command(spec.name)
    .exitOverride(usageExit)
    .description(spec.description)
    .option('--as-of <date>', "YYYY-MM-DD (default: today on the lender's calendar)")
    .option('--json', 'print JSON')
    .action((opts: { asOf?: string; json?: boolean }) =>
      runAction(async () => {
        const given = asOf(opts.asOf);
        const deps = await openDeps();
        try {
          const date = given ?? deps.core.lenderToday();
          const result = await spec.run(deps, date);
          if (opts.json) printJson(result);
          else process.stdout.write(spec.describe(result));
          return spec.exitCode(result);
        } finally {
          await deps.close();
        }
      }),
    );
}

function registerDailyJob(jobs: Command, openDeps: OpenJobsDeps): void {
  jobCommand(jobs, openDeps, {
    name: 'daily',
    description:
      'age every open loan as of a date: days past due per loan and line, bucket changes recorded (table + ledger)',
    run: (deps, date) => dailyJobs(deps, date),
    describe: (result) =>
      `aged ${result.loansAged} loans and ${result.linesAged} lines as of ${result.asOf}; ${result.bucketChanges.length} bucket changes; ${result.tempLimitsExpired} temporary limits expired\n` +
      (result.loansAgedLater > 0
        ? `  ${result.loansAgedLater} loans left as a later day's run aged them (the book is aged past ${result.asOf})\n`
        : '') +
      result.bucketChanges.map((c) => `  loan ${c.loanId}: ${c.from} -> ${c.to} (${c.dpd} dpd)\n`).join('') +
      (result.portfolio
        ? `portfolio snapshot ${result.portfolio.snapshot.asOf}: ${result.portfolio.snapshot.openLoans} open loans, M1+ ${(result.portfolio.snapshot.m1PlusRate * 100).toFixed(2)}%; ${result.portfolio.warnings.length} early warnings\n` +
          result.portfolio.warnings
            .map((w) => `  WARNING ${w.ruleId}: ${w.value} > ${w.threshold} (alert ${w.alertId})\n`)
            .join('')
        : '') +
      (result.bureau
        ? `credit bureau: ${result.bureau.noticesSent} delinquency notices sent, ${result.bureau.reported} reported after their notice period, ${result.bureau.cured} cured before it, ${result.bureau.submissionsSent} submissions sent\n`
        : '') +
      (result.feedRowsPruned
        ? `monitor event feed: ${result.feedRowsPruned} rows every live process had read pruned\n`
        : '') +
      (result.outboxRowsPruned
        ? `outbox: ${result.outboxRowsPruned} rows published before its retention deleted\n`
        : ''),
    exitCode: () => EXIT.OK,
  });
}

function registerReviewJob(jobs: Command, openDeps: OpenJobsDeps): void {
  jobCommand(jobs, openDeps, {
    name: 'review',
    description:
      're-decide every ACTIVE and DRAW_FROZEN line through the line-review strategy and apply its actions',
    run: ({ core }, date) => core.runReviewJob(date),
    describe: (result) => {
      const outcomes =
        Object.entries(result.outcomes)
          .map(([k, v]) => `${k} ${v}`)
          .join(', ') || 'none';
      return (
        `reviewed ${result.reviewed} lines as of ${result.asOf}: ${outcomes}; ${result.actions.length} actions (${result.held} held for review by the blast-radius guard); ${result.errors.length} errors\n` +
        result.actions
          .map(
            (a) =>
              `  line ${a.lineId}: ${a.type} ${a.outcome} ${a.prevStatus}->${a.newStatus} [${a.reasons.join(', ')}]\n`,
          )
          .join('') +
        result.errors.map((e) => `  line ${e.lineId}: ${e.code} ${e.message}\n`).join('')
      );
    },
    // Some lines failed (the rest were still reviewed): a script should notice.
    exitCode: (result) => (result.errors.length > 0 ? EXIT.FAILURE : EXIT.OK),
  });
}
