import { readFileSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { LgError } from '../../domain/index.js';
import { listAlerts } from '../../cases/index.js';
import {
  simulateTraffic,
  type EvaluationReport,
  type LabelledEvent,
  type MonitorService,
} from '../../monitor/index.js';
import { EXIT, printJson, runAction } from '../exit.js';
import { nonNegativeInt, positiveInt } from '../options.js';

/** What commands that need the live store get from the lead's wiring. */
export interface MonitorCommandDeps {
  readonly monitor: MonitorService;
  close(): Promise<void>;
}

/** simulate-traffic and eval-typologies need no database; `alerts` opens the configured store through openDeps. */
/** Replays labelled events through a monitor on a scratch store (src/app wires it; src/monitor/evaluate.ts scores). */
export type TypologyEvaluator = (events: readonly LabelledEvent[]) => Promise<EvaluationReport>;

export function registerMonitorCommand(
  program: Command,
  openDeps: () => Promise<MonitorCommandDeps>,
  evaluateTypologies: TypologyEvaluator,
): void {
  program
    .command('simulate-traffic')
    .description(
      'write labelled synthetic account events (JSONL): normal borrowers, near-misses and every typology',
    )
    .requiredOption('--users <n>', 'borrowers', positiveInt)
    .requiredOption('--days <n>', 'days of activity', positiveInt)
    .option('--seed <n>', 'random seed', nonNegativeInt, 1)
    .requiredOption('--out <file>', 'output JSONL file')
    .action((opts: { users: number; days: number; seed: number; out: string }) =>
      runAction(async () => {
        const events = simulateTraffic({ users: opts.users, days: opts.days, seed: opts.seed });
        writeFileSync(opts.out, events.map((e) => JSON.stringify(e)).join('\n') + '\n');
        process.stderr.write(`wrote ${events.length} events for ${opts.users} borrowers to ${opts.out}\n`);
      }),
    );

  program
    .command('eval-typologies')
    .description(
      'replay labelled events through the monitor; print precision and recall per typology and alerts per 1,000 borrowers',
    )
    .requiredOption('--events <file>', 'JSONL from simulate-traffic')
    .option('--json', 'print JSON')
    .action((opts: { events: string; json?: boolean }) =>
      runAction(async () => {
        const events = readJsonl(opts.events);
        const report = await evaluateTypologies(events);
        if (opts.json) printJson(report);
        else process.stdout.write(formatReport(report));
        return EXIT.OK;
      }),
    );

  program
    .command('alerts')
    .description('list monitor alerts, newest first')
    .option('--status <s>', 'OPEN | ACKNOWLEDGED | CLOSED')
    .option('--typology <id>', 'typology id')
    .option('--user <id>', 'borrower id')
    .option('--limit <n>', 'page size', positiveInt, 50)
    .option('--json', 'print JSON')
    .action((opts: { status?: string; typology?: string; user?: string; limit: number; json?: boolean }) =>
      runAction(async () => {
        const deps = await openDeps();
        try {
          const page = await listAlerts(deps.monitor.db, {
            status: opts.status,
            typology: opts.typology,
            userId: opts.user,
            limit: opts.limit,
          });
          if (opts.json) printJson(page);
          else
            for (const a of page.items)
              process.stdout.write(
                `${a.createdAt} ${a.alertId} ${a.typology.id} ${a.severity} ${a.status} user=${a.userId}\n`,
              );
        } finally {
          await deps.close();
        }
      }),
    );
}

function readJsonl(file: string): LabelledEvent[] {
  const lines = readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '');
  return lines.map((line, i) => {
    try {
      return JSON.parse(line) as LabelledEvent;
    } catch {
      throw new LgError('LG_DATA_INVALID', `${file}:${i + 1} is not JSON`);
    }
  });
}

export function formatReport(r: EvaluationReport): string {
  const pct = (x: number | null) => (x === null ? '   n/a' : `${(x * 100).toFixed(1).padStart(5)}%`);
  const lines = [
    `events ${r.events}  borrowers ${r.users}  alerts ${r.alerts} (${r.alertsPer1000Users} per 1,000 borrowers)  replay ${r.eventsPerSecond} events/s`,
    'typology                      positives flagged   TP  precision  recall  alerts/1k',
    ...r.typologies.map(
      (t) =>
        `${t.typology.padEnd(29)} ${String(t.positives).padStart(9)} ${String(t.flagged).padStart(7)} ${String(t.truePositives).padStart(4)}     ${pct(t.precision)}  ${pct(t.recall)}  ${String(t.alertsPer1000Users).padStart(8)}` +
        (Object.keys(t.falsePositivesByScenario).length
          ? `  FP from ${JSON.stringify(t.falsePositivesByScenario)}`
          : ''),
    ),
  ];
  return `${lines.join('\n')}\n`;
}
