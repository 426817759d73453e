import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { LgError } from '../../domain/index.js';
import { parseProductTerms } from '../../domain/index.js';
import type { CoreServices } from '../../core/index.js';
import { EXIT, printJson, runAction } from '../exit.js';

/**
 * `lineguard products list | show <id> | create <id> --file terms.json | version <id> --file terms.json`.
 * Versions are never edited: `version` adds one (new lines use it; booked loans keep their terms). Exit 2 on bad input.
 */
export function registerProductsCommand(
  program: Command,
  openDeps: () => Promise<{ core: CoreServices; close(): Promise<void> }>,
): Command {
  const products = program.command('products').description('the product catalogue: rates, terms, fees, caps');
  const withCore = (work: (core: CoreServices) => Promise<unknown>) =>
    runAction(async () => {
      const deps = await openDeps();
      try {
        printJson(await work(deps.core));
        return EXIT.OK;
      } finally {
        await deps.close();
      }
    });
  const termsFrom = async (file: string) => {
    let json: unknown;
    try {
      json = JSON.parse(await readFile(file, 'utf8')) as unknown;
    } catch (error) {
      throw new LgError('LG_PRODUCT_INVALID', `cannot read ${file} as JSON`, {
        reason: error instanceof Error ? error.message : String(error),
      });
    }
    return parseProductTerms(json);
  };

  products
    .command('list')
    .description('latest version of every product')
    .action(() => withCore(async (core) => core.listProducts()));
  products
    .command('show <id>')
    .description('every version of a product, newest first')
    .action((id: string) => withCore(async (core) => core.getProduct(id)));
  products
    .command('create <id>')
    .requiredOption('--file <path>', 'product terms as JSON')
    .description('create a product (version 1)')
    .action((id: string, opts: { file: string }) =>
      withCore(async (core) => core.createProduct({ id, terms: await termsFrom(opts.file), actor: 'cli' })),
    );
  products
    .command('version <id>')
    .requiredOption('--file <path>', 'product terms as JSON')
    .option('--expected-version <n>', 'refuse if the product moved past this version')
    .description('add a version (existing lines and booked loans keep theirs)')
    .action((id: string, opts: { file: string; expectedVersion?: string }) =>
      withCore(async (core) =>
        core.createProductVersion(id, {
          terms: await termsFrom(opts.file),
          expectedVersion: opts.expectedVersion === undefined ? undefined : Number(opts.expectedVersion),
          actor: 'cli',
        }),
      ),
    );
  return products;
}
