/**
 * `lineguard strategy validate|simulate|activate`. Exit codes: 0 ok, 2 invalid input (bad file, invalid strategy,
 * bad date or option), 1 anything else. The actions are exported so tests run them in-process.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { isLgError, LgError, type ErrorCode, type LenderCalendar } from '../../domain/index.js';
import type { EngineService } from '../../engine/index.js';
import type { SimulationReport } from '../../engine/index.js';
import { parseStrategySource, checkStrategy } from '../../engine/index.js';
import { parseSimulationBound } from '../../api/index.js';

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_INVALID_INPUT = 2;

export type OpenEngineDeps = () => Promise<{
  engine: EngineService;
  /** The lender's calendar a simulation's dates are days of (UTC when absent). */
  calendar?: LenderCalendar;
  close(): Promise<void>;
}>;

interface Out {
  log(text: string): void;
  error(text: string): void;
}

const consoleOut: Out = { log: (t) => console.log(t), error: (t) => console.error(t) };

const INVALID_INPUT_CODES: ReadonlySet<ErrorCode> = new Set([
  'LG_VALIDATION',
  'LG_STRATEGY_INVALID',
  'LG_CONTEXT_INVALID',
  'LG_NOT_FOUND',
  'LG_STRATEGY_NOT_FOUND',
  // activate: the version scores with a model the registry does not hold
  'LG_MODEL_NOT_FOUND',
]);

export function exitCodeFor(error: unknown): number {
  return isLgError(error) && INVALID_INPUT_CODES.has(error.code) ? EXIT_INVALID_INPUT : EXIT_FAILURE;
}

function readStrategyFile(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new LgError(
      'LG_VALIDATION',
      `cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
    );
  }
  return parseStrategySource(text);
}

/** Validates a strategy file; prints every problem with its JSON path. */
export function validateCommand(file: string, out: Out = consoleOut): number {
  const doc = readStrategyFile(file);
  const problems = checkStrategy(doc);
  if (problems.length > 0) {
    for (const p of problems) out.error(`${file}: ${p.path || '/'}: ${p.message}`);
    return EXIT_INVALID_INPUT;
  }
  const nodes = (doc as { nodes: unknown[] }).nodes.length;
  out.log(`${file}: ok (strategy '${(doc as { id: string }).id}', ${nodes} nodes)`);
  return EXIT_OK;
}

export async function simulateCommand(
  engine: EngineService,
  options: { strategy: string; from: string; to: string; json?: boolean; calendar?: LenderCalendar },
  out: Out = consoleOut,
): Promise<number> {
  const doc = readStrategyFile(options.strategy);
  const report = await engine.simulate(doc, {
    from: parseSimulationBound(options.from, 'from', options.calendar),
    to: parseSimulationBound(options.to, 'to', options.calendar),
  });
  out.log(options.json ? JSON.stringify(report, null, 2) : formatReport(report));
  return EXIT_OK;
}

export async function activateCommand(
  engine: EngineService,
  options: { id: string; version: string },
  out: Out = consoleOut,
): Promise<number> {
  const version = Number(options.version);
  if (!Number.isInteger(version) || version < 1)
    throw new LgError('LG_VALIDATION', `--version must be a positive integer, got '${options.version}'`);
  const record = await engine.activate(
    options.id,
    version,
    process.env.USER ? `cli:${process.env.USER}` : 'cli',
  );
  out.log(`strategy '${record.strategyId}' version ${record.version} is now active`);
  return EXIT_OK;
}

const pct = (x: number): string => `${(x * 100).toFixed(2)}%`;

export function formatReport(r: SimulationReport): string {
  const lines = [
    `strategy ${r.strategyId}: ${r.decisions} decisions replayed from ${new Date(r.from).toISOString()} to ${new Date(r.to).toISOString()}`,
    `changed outcomes: ${r.changed}; context errors: ${r.contextErrors}; engine errors ${r.engineErrors.before} -> ${r.engineErrors.after}`,
    `approval rate ${pct(r.approvalRate.before)} -> ${pct(r.approvalRate.after)}; freeze rate ${pct(r.freezeRate.before)} -> ${pct(r.freezeRate.after)}`,
    `limit total ${r.limitTotalMinor.before} -> ${r.limitTotalMinor.after} (minor units)`,
    `strategy alone, before the core's rules: changed ${r.strategy.changed}; approval rate ${pct(r.strategy.approvalRate.before)} -> ${pct(r.strategy.approvalRate.after)}; limit total ${r.strategy.limitTotalMinor.before} -> ${r.strategy.limitTotalMinor.after}`,
    `core's rules changed ${r.coreRules.before} -> ${r.coreRules.after}; not replayable ${r.coreRules.notReplayable}; stored before they were recorded ${r.coreRules.unrecorded}`,
    'outcome change matrix (rows: before, columns: after):',
  ];
  if (r.unreadable.count > 0) lines.splice(1, 0, unreadableLine(r.unreadable));
  if (r.missingFacts.count > 0) lines.splice(1, 0, missingFactsLine(r.missingFacts));
  const outcomes = Object.keys(r.outcomeMatrix) as (keyof typeof r.outcomeMatrix)[];
  lines.push(`  ${''.padEnd(10)}${outcomes.map((o) => o.padStart(10)).join('')}`);
  for (const before of outcomes)
    lines.push(
      `  ${before.padEnd(10)}${outcomes.map((after) => String(r.outcomeMatrix[before][after]).padStart(10)).join('')}`,
    );
  for (const c of r.parameterChanges)
    lines.push(
      `parameter ${c.name}: ${c.before ?? '(none)'} -> ${c.after ?? '(none)'}${c.overlaidReplays > 0 ? ` (an overlay set it in ${c.overlaidReplays} replays)` : ''}`,
    );
  if (r.reasonShifts.length > 0)
    lines.push(
      `reason shifts: ${r.reasonShifts.map((s) => `${s.code} ${s.delta > 0 ? '+' : ''}${s.delta}`).join(', ')}`,
    );
  lines.push(
    `newly declined: ${r.newlyDeclined.length}${r.truncated ? '+' : ''}; newly frozen: ${r.newlyFrozen.length}`,
  );
  for (const s of [...r.newlyDeclined, ...r.newlyFrozen].slice(0, 20)) {
    lines.push(
      `  ${s.borrowerId ?? '-'} line ${s.lineId ?? '-'}: ${s.before} -> ${s.after} (${s.reasonsAfter.join(', ')})`,
    );
  }
  return lines.join('\n');
}

/** The decisions a simulation could not read, named so what its figures leave out is seen (not silently dropped). */
function unreadableLine(u: SimulationReport['unreadable']): string {
  const shown = u.decisionIds.slice(0, 20);
  const more = u.count > shown.length ? `, and ${u.count - shown.length} more` : '';
  return `left out ${u.count} decisions whose sealed inputs no held key opens (LG_SEALED_DATA_UNREADABLE; in none of the figures): ${shown.join(', ')}${more}`;
}

/** The decisions left out for lacking an input the candidate reads (recorded before the core kept that fact). */
function missingFactsLine(m: SimulationReport['missingFacts']): string {
  const inputs = Object.entries(m.inputs)
    .map(([name, n]) => `${name} ${n}`)
    .join(', ');
  return `left out ${m.count} decisions recorded without an input the candidate reads (${inputs}; in none of the figures)`;
}

async function withEngine(
  openDeps: OpenEngineDeps,
  work: (engine: EngineService, calendar: LenderCalendar | undefined) => Promise<number>,
): Promise<number> {
  const deps = await openDeps();
  try {
    return await work(deps.engine, deps.calendar);
  } finally {
    await deps.close();
  }
}

function report(error: unknown): number {
  console.error(`error: ${error instanceof Error ? error.message : String(error)}`);
  if (isLgError(error) && error.code === 'LG_STRATEGY_INVALID') {
    for (const p of (error.details as { errors?: { path: string; message: string }[] })?.errors ?? [])
      console.error(`  ${p.path || '/'}: ${p.message}`);
  }
  return exitCodeFor(error);
}

export function registerStrategyCommand(program: Command, openDeps: OpenEngineDeps): void {
  const strategy = program
    .command('strategy')
    .description('Validate, simulate and activate decision strategies');
  strategy
    .command('validate')
    .argument('<file>', 'strategy document (JSON or YAML)')
    .description('Check a strategy document against the schema, expressions, names and reason codes')
    .action((file: string) => {
      try {
        process.exitCode = validateCommand(file);
      } catch (error) {
        process.exitCode = report(error);
      }
    });
  strategy
    .command('simulate')
    .requiredOption('--strategy <file>', 'candidate strategy document')
    .requiredOption('--from <date>', "start (YYYY-MM-DD, a day on the lender's calendar, or an ISO instant)")
    .requiredOption('--to <date>', 'end, inclusive when a date')
    .option('--json', 'print the report as JSON')
    .description('Replay stored decisions of a period through a candidate and report the change')
    .action(async (options: { strategy: string; from: string; to: string; json?: boolean }) => {
      try {
        process.exitCode = await withEngine(openDeps, (engine, calendar) =>
          simulateCommand(engine, { ...options, calendar }),
        );
      } catch (error) {
        process.exitCode = report(error);
      }
    });
  strategy
    .command('activate')
    .requiredOption('--id <id>', 'strategy id')
    .requiredOption('--version <n>', 'version to activate (an older one rolls back)')
    .description('Make a stored version the active one')
    .action(async (options: { id: string; version: string }) => {
      try {
        process.exitCode = await withEngine(openDeps, (engine) => activateCommand(engine, options));
      } catch (error) {
        process.exitCode = report(error);
      }
    });
}
