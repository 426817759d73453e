/**
 * `lineguard model activate|aliases|activations`: the explicit, recorded change of which registered version an
 * unversioned model reference scores with (issue 12: registering never changes live decisions; activating does,
 * in one dbTx with its ledger entry, and every running instance picks it up within a second).
 * The actions are exported so tests run them in-process.
 */
import type { Command } from 'commander';
import type { ModelRegistry } from '../../scoring/index.js';
import { EXIT, printJson, runAction } from '../exit.js';
import { positiveInt } from '../options.js';

export type OpenRegistryDeps = () => Promise<{ registry: ModelRegistry; close(): Promise<void> }>;

interface Out {
  log(text: string): void;
}

const stdout: Out = { log: (text) => process.stdout.write(`${text}\n`) };

function cliActor(): string {
  return process.env.USER ? `cli:${process.env.USER}` : 'cli';
}

export async function modelActivateCommand(
  registry: ModelRegistry,
  options: { id: string; version: number; by?: string },
  out: Out = stdout,
): Promise<number> {
  const activation = await registry.activate(options.id, options.version, options.by ?? cliActor());
  out.log(
    `model '${activation.id}' now scores with version ${activation.version} (was ${activation.previousVersion ?? 'none'})`,
  );
  return EXIT.OK;
}

export async function modelAliasesCommand(
  registry: ModelRegistry,
  options: { json?: boolean },
  out: Out = stdout,
): Promise<number> {
  const aliases = await registry.aliases();
  if (options.json) out.log(JSON.stringify(aliases, null, 2));
  else for (const [id, version] of Object.entries(aliases).sort()) out.log(`${id}\t${version}`);
  return EXIT.OK;
}

async function withRegistry(
  openDeps: OpenRegistryDeps,
  work: (registry: ModelRegistry) => Promise<number>,
): Promise<number> {
  const deps = await openDeps();
  try {
    return await work(deps.registry);
  } finally {
    await deps.close();
  }
}

/** Adds the registry subcommands to the `model` command. */
export function registerModelRegistryCommands(model: Command, openDeps: OpenRegistryDeps): void {
  model
    .command('activate')
    .description('make a registered version the one strategies without a pinned version score with')
    .requiredOption('--id <id>', 'model id')
    .requiredOption('--version <n>', 'registered version', positiveInt)
    .action((options: { id: string; version: number }) =>
      runAction(() => withRegistry(openDeps, (registry) => modelActivateCommand(registry, options))),
    );
  model
    .command('aliases')
    .description('the active version of every model')
    .option('--json', 'print JSON')
    .action((options: { json?: boolean }) =>
      runAction(() => withRegistry(openDeps, (registry) => modelAliasesCommand(registry, options))),
    );
  model
    .command('activations')
    .description('who activated which version of a model, and when')
    .requiredOption('--id <id>', 'model id')
    .action((options: { id: string }) =>
      runAction(async () =>
        withRegistry(openDeps, async (registry) => {
          printJson(await registry.activations(options.id));
          return EXIT.OK;
        }),
      ),
    );
}
