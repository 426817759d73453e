import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { AppServices } from '../../app/index.js';
import { monthBounds, monthlyReportCsv } from '../../compliance/index.js';
import { LgError } from '../../domain/index.js';
import { printJson, runAction } from '../exit.js';

/** `lineguard report monthly --month YYYY-MM [--format json|csv] [--out FILE]`. */
export function registerReportCommand(program: Command, openApp: () => Promise<AppServices>): void {
  program
    .command('report')
    .description('regulator-style reports')
    .command('monthly')
    .description(
      'lines by status and bucket, restrictions with reasons, inquiries by purpose, consents (JSON or CSV)',
    )
    .requiredOption('--month <YYYY-MM>', "the calendar month (the lender's: LINEGUARD_LENDER_UTC_OFFSET)")
    .option('--format <format>', 'json | csv', 'json')
    .option('--out <file>', 'write to a file instead of stdout')
    .action((opts: { month: string; format: string; out?: string }) =>
      runAction(async () => {
        // Checked before the app opens; the month's bounds are on the app's calendar, the text is a month on any.
        monthBounds(opts.month, {});
        if (opts.format !== 'json' && opts.format !== 'csv')
          throw new LgError('LG_VALIDATION', '--format must be json or csv');
        const app = await openApp();
        try {
          const report = await app.portfolio.monthlyReport(opts.month);
          const text =
            opts.format === 'csv' ? monthlyReportCsv(report) : `${JSON.stringify(report, null, 2)}\n`;
          if (opts.out) writeFileSync(opts.out, text);
          else if (opts.format === 'csv') process.stdout.write(text);
          else printJson(report);
        } finally {
          await app.close();
        }
      }),
    );
}
