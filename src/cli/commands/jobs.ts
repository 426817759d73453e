import type { Command } from 'commander';
import { parseIsoDate } from '../../domain/clock.js';
import { LgError } from '../../domain/errors.js';
import type { CoreServices } from '../../core/index.js';
import { EXIT, printJson, runAction } from '../exit.js';

/**
 * `lineguard jobs daily|review --as-of YYYY-MM-DD [--json]`. Exit 0 when the job ran cleanly, 1 when some lines
 * failed in a review (the rest were still reviewed), 2 on bad input.
 */
export function registerJobsCommand(
  program: Command,
  openDeps: () => Promise<{ core: CoreServices; close(): Promise<void> }>,
): Command {
  const jobs = program
    .command('jobs')
    .description('batch jobs over the book: daily delinquency aging and periodic line review');
  const usageExit = (err: { exitCode: number }): never =>
    process.exit(err.exitCode === 0 ? EXIT.OK : EXIT.INVALID_INPUT);

  const asOf = (text: string): string => {
    if (parseIsoDate(text) === undefined)
      throw new LgError('LG_VALIDATION', `--as-of must be a date YYYY-MM-DD, got "${text}"`);
    return text;
  };

  jobs
    .command('daily')
    .exitOverride(usageExit)
    .description(
      'age every open loan as of a date: days past due per loan and line, bucket changes recorded (table + ledger)',
    )
    .requiredOption('--as-of <date>', 'YYYY-MM-DD')
    .option('--json', 'print JSON')
    .action((opts: { asOf: string; json?: boolean }) =>
      runAction(async () => {
        const date = asOf(opts.asOf);
        const deps = await openDeps();
        try {
          const result = await deps.core.runDailyJob(date);
          if (opts.json) printJson(result);
          else {
            process.stdout.write(
              `aged ${result.loansAged} loans and ${result.linesAged} lines as of ${result.asOf}; ${result.bucketChanges.length} bucket changes; ${result.tempLimitsExpired} temporary limits expired\n`,
            );
            for (const c of result.bucketChanges)
              process.stdout.write(`  loan ${c.loanId}: ${c.from} -> ${c.to} (${c.dpd} dpd)\n`);
          }
          return EXIT.OK;
        } finally {
          await deps.close();
        }
      }),
    );

  jobs
    .command('review')
    .exitOverride(usageExit)
    .description(
      're-decide every ACTIVE and DRAW_FROZEN line through the line-review strategy and apply its actions',
    )
    .requiredOption('--as-of <date>', 'YYYY-MM-DD')
    .option('--json', 'print JSON')
    .action((opts: { asOf: string; json?: boolean }) =>
      runAction(async () => {
        const date = asOf(opts.asOf);
        const deps = await openDeps();
        try {
          const result = await deps.core.runReviewJob(date);
          if (opts.json) printJson(result);
          else {
            const outcomes =
              Object.entries(result.outcomes)
                .map(([k, v]) => `${k} ${v}`)
                .join(', ') || 'none';
            process.stdout.write(
              `reviewed ${result.reviewed} lines as of ${result.asOf}: ${outcomes}; ${result.actions.length} actions (${result.held} held for review by the blast-radius guard); ${result.errors.length} errors\n`,
            );
            for (const a of result.actions)
              process.stdout.write(
                `  line ${a.lineId}: ${a.type} ${a.outcome} ${a.prevStatus}->${a.newStatus} [${a.reasons.join(', ')}]\n`,
              );
            for (const e of result.errors)
              process.stdout.write(`  line ${e.lineId}: ${e.code} ${e.message}\n`);
          }
          return result.errors.length > 0 ? EXIT.FAILURE : EXIT.OK;
        } finally {
          await deps.close();
        }
      }),
    );
  return jobs;
}
