import { Command, InvalidArgumentError } from 'commander';
import { loadConfig, resolveStoreLocation, type ConfigOverrides } from '../app/index.js';
import { createApp, createHttpServer, evaluateTypologies, type AppServices } from '../app/index.js';
import { createMetricsServer } from '../api/index.js';
import { verifyLedger } from '../compliance/index.js';
import { openStore } from '../store/index.js';
import { openReadOnlySqlite } from '../store/index.js';
import { EXIT, printJson, runAction } from './exit.js';
import { positiveInt } from './options.js';
import { registerAprCommand } from './commands/apr.js';
import { registerStrategyCommand } from './commands/strategy.js';
import { registerModelCommand } from './commands/model.js';
import { registerModelRegistryCommands } from './commands/model-registry.js';
import { registerJobsCommand } from './commands/jobs.js';
import { registerMonitorCommand } from './commands/monitor.js';
import { registerProductsCommand } from './commands/products.js';
import { bootstrapServe } from '../app/index.js';
import { registerCasesCommand, registerKeyCommands } from './commands/cases.js';
import { auditCrypto, installationKeys, registerLedgerCommands, verifyAgainst } from './commands/ledger.js';
import { registerReportCommand } from './commands/report.js';
import { describeRotation, rotateData } from './commands/rotate-data.js';

function parsePort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new InvalidArgumentError('port must be 0-65535');
  return port;
}

export function buildProgram(): Command {
  const program = new Command('lineguard')
    .description('LineGuard: risk control for revolving credit lines')
    .option(
      '--db <path>',
      'SQLite database file (env LINEGUARD_DB); LINEGUARD_DATABASE_URL selects PostgreSQL',
    )
    .showHelpAfterError()
    .exitOverride((err) => {
      process.exit(err.exitCode === 0 ? EXIT.OK : EXIT.INVALID_INPUT);
    });

  const openApp = async (overrides: ConfigOverrides = {}): Promise<AppServices> => {
    const global = program.opts<{ db?: string }>();
    const config = loadConfig(process.env, { ...overrides, db: overrides.db ?? global.db }, (m) =>
      process.stderr.write(`${m}\n`),
    );
    return createApp(config);
  };

  registerServeCommand(program, openApp);
  const keys = registerKeysCommand(program, openApp);
  const ledger = registerLedgerVerifyCommand(program, openApp);
  registerLedgerCommands(ledger, () => openApp());
  registerReportCommand(program, () => openApp());
  registerAprCommand(program);
  const openAppDeps = appDepsOpener(openApp);
  registerStrategyCommand(program, openAppDeps);
  registerModelRegistryCommands(registerModelCommand(program, openAppDeps), openAppDeps);
  registerJobsCommand(program, openAppDeps);
  registerMonitorCommand(program, openAppDeps, (events) => evaluateTypologies(events));
  registerKeyCommands(keys, () => openApp());
  registerCasesCommand(program, () => openApp());
  registerProductsCommand(program, openAppDeps);

  return program;
}

/** Opens the application over the configured store, with the global --db unless the command gives its own. */
type OpenApp = (overrides?: ConfigOverrides) => Promise<AppServices>;

/** `lineguard serve`. */
function registerServeCommand(program: Command, openApp: OpenApp): void {
  program
    .command('serve')
    .description('serve the HTTP API over the configured store (first start: admin key and demo book)')
    .option('--port <n>', 'port (env PORT, default 8080)', parsePort)
    .option('--db <path>', 'SQLite database file')
    .action((opts: { port?: number; db?: string }) =>
      runAction(async () => {
        const app = await openApp({ port: opts.port, db: opts.db });
        // A start-up failure must end the process (its open pools would otherwise keep it alive, never serving).
        await bootstrapServe(app, (line) => process.stdout.write(`${line}\n`)).catch(
          async (error: unknown) => {
            await app.close();
            throw error;
          },
        );
        const server = await createHttpServer(app, true);
        // LINEGUARD_METRICS_PORT: /metrics on its own listener (and not on the API port).
        const metricsServer =
          app.config.metricsPort === undefined
            ? undefined
            : await createMetricsServer(app.metrics, { token: app.config.metricsToken, logger: true });
        const shutdown = async () => {
          await server.close();
          await metricsServer?.close();
          await app.close();
          process.exit(EXIT.OK);
        };
        process.once('SIGINT', () => void shutdown());
        process.once('SIGTERM', () => void shutdown());
        await server.listen({ port: app.config.port, host: app.config.host });
        await metricsServer?.listen({ port: app.config.metricsPort, host: app.config.host });
        return new Promise<void>(() => undefined);
      }),
    );
}

/** `lineguard keys rotate-data` (the keys command; `keys create` and `keys revoke` join it in commands/cases.ts). */
function registerKeysCommand(program: Command, openApp: OpenApp): Command {
  const keys = program.command('keys').description('manage API keys and rotate the data key');
  keys
    .command('rotate-data')
    .description(
      're-seal personal data (borrowers, decision contexts and traces, disputes, bureau submissions, draws, appeals and complaints, sealed idempotency records) and partner sharing keys under LINEGUARD_KEY, sealing what was stored in clear before; run with the old key in LINEGUARD_RETIRED_KEYS, then drop it',
    )
    .option('--page <n>', 'rows per transaction', positiveInt, 500)
    .option('--json', 'print JSON')
    .action((opts: { page: number; json?: boolean }) =>
      runAction(async () => {
        const app = await openApp();
        try {
          const result = await rotateData(app, opts.page);
          if (opts.json) printJson(result);
          else process.stdout.write(describeRotation(result));
        } finally {
          await app.close();
        }
      }),
    );

  return keys;
}

/** `lineguard ledger verify` (the ledger command, for the other ledger commands to join later). */
function registerLedgerVerifyCommand(program: Command, openApp: OpenApp): Command {
  const ledger = program.command('ledger').description('the tamper-evident decision ledger');
  ledger
    .command('verify')
    .description(
      're-hash the whole chain; exit 0 when intact, 3 naming the first bad entry otherwise, 2 when there is no database',
    )
    .option('--db <path>', 'SQLite database file to verify (opened read-only; it must exist)')
    .option('--json', 'print JSON')
    .option(
      '--against <dir|url>',
      'also check every signed checkpoint the witness holds (a directory, or an http(s) URL serving them) and the fact tables; exit 4 when nothing disagrees but sealed values under a data key not given cannot be proven',
    )
    .option(
      '--key <key>',
      'with --against: the trusted public key (file or text; default: this installation)',
    )
    .option(
      '--no-facts',
      'with --against: skip re-deriving decisions, lines, loans, disputes and bureau submissions from the ledger',
    )
    .action((opts: { db?: string; json?: boolean; against?: string; key?: string; facts: boolean }) =>
      runAction(async () => {
        // An auditor's check: the store is only read (never created or migrated). No data key is needed; with one
        // (LINEGUARD_KEY, or this installation's when its checkpoint key is trusted) the fact check also proves the
        // sealed values against the ledger's commitments (decision contexts, dispute claims and outcomes, bureau
        // submissions: src/compliance/facts.ts).
        const location = resolveStoreLocation(process.env, {
          db: opts.db ?? program.opts<{ db?: string }>().db,
        });
        const db = location.postgresUrl
          ? (await openStore({ postgresUrl: location.postgresUrl, migrate: false })).db
          : await openReadOnlySqlite(location.sqlitePath);
        try {
          if (opts.against) {
            const installation = installationKeys(openApp);
            const crypto = opts.facts ? await auditCrypto(opts.key, installation) : undefined;
            return await verifyAgainst(db, async () => (await installation()).publicKey, {
              ...opts,
              against: opts.against,
              ...(crypto ? { crypto } : {}),
            });
          }
          const result = await verifyLedger(db);
          if (opts.json) printJson(result);
          else if (result.ok) process.stdout.write(`ledger intact: ${result.entriesChecked} entries\n`);
          else
            process.stdout.write(
              `ledger BROKEN at seq ${result.firstBad?.seq} (${result.firstBad?.entryId ?? '-'}): ${result.firstBad?.problem}\n`,
            );
          return result.ok ? EXIT.OK : EXIT.VERIFICATION_FAILED;
        } finally {
          await db.destroy();
        }
      }),
    );

  return ledger;
}

/** What the module commands open: the application's services, and how to close them. */
function appDepsOpener(openApp: OpenApp) {
  return async () => {
    const app = await openApp();
    return {
      engine: app.engine,
      calendar: app.config,
      registry: app.models,
      core: app.core,
      monitor: app.monitor,
      outbox: app.outbox,
      portfolio: app.portfolio,
      bureauReporting: app.consents.reporting,
      close: () => app.close(),
    };
  };
}

await buildProgram().parseAsync(process.argv);
