import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import pg from 'pg';
import {
  createIsolatedPostgresSchema,
  dropIsolatedPostgresSchema,
  dropOrphanedIsolatedSchemas,
  searchPathSchema,
} from '../../src/store/db.js';
import { TEST_DATABASE_URL } from '../helpers/stores.js';

/**
 * Every PostgreSQL-backed suite works in a schema of its own. Those schemas were never dropped: each run left dozens
 * behind, each with the whole set of tables, and the catalog grew with every run. On one machine, `vitest run
 * test/lending` took 172–177 s with the ~730 schemas a dozen runs of the suite or parts of it had left, and 39 s once
 * they were gone (the whole suite: 10.3 min with about half of them, 7.3 min without). CI runs on the database as
 * the session left it. The sweep that vitest's global set-up and teardown run (test/global-setup.ts) drops the
 * schemas of test processes that have exited, and nothing else.
 */
const schemaOf = (url: string): string => {
  const schema = searchPathSchema(url);
  if (!schema) throw new Error(`no schema in ${url}`);
  return schema;
};

async function query(text: string, values: unknown[] = []): Promise<string[]> {
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await client.connect();
  try {
    const { rows } = await client.query<{ nspname: string }>(text, values);
    return rows.map((r) => r.nspname).sort();
  } finally {
    await client.end();
  }
}

const schemasPresent = (names: readonly string[]) =>
  query('select nspname from pg_namespace where nspname = any($1::text[])', [names]);
async function createSchema(name: string): Promise<void> {
  await query(`create schema if not exists ${name}`);
  await query(`create table if not exists ${name}.t (id int)`);
}

describe.skipIf(!TEST_DATABASE_URL)('isolated test schemas', () => {
  it('drops the schemas of test processes that have exited, and keeps live ones and everything else', async () => {
    const base = TEST_DATABASE_URL ?? '';
    // A schema made by a process that then exits, as every test worker does.
    const exitedUrl = execFileSync(
      process.execPath,
      [
        '--import',
        'tsx',
        '-e',
        `import('./src/store/db.ts').then(async (m) => { process.stdout.write(await m.createIsolatedPostgresSchema(${JSON.stringify(base)}, 'sweep_exited')); })`,
      ],
      { encoding: 'utf8' },
    );
    const exited = schemaOf(exitedUrl);
    const live = schemaOf(await createIsolatedPostgresSchema(base, 'sweep_live'));
    // Schemas that are not this machine's test processes': a deployment's own, and another machine's test schema
    // (same database, a process id that is not running here).
    const deployment = 'lg_sweep_deployment';
    const ownTag = /_([0-9a-f]{6})_\d+_\d+$/.exec(live)?.[1];
    const lookalike = live.replace(
      /_[0-9a-f]{6}_\d+_\d+$/,
      `_${ownTag === '000000' ? 'ffffff' : '000000'}_999999999_1`,
    );
    await Promise.all([createSchema(exited), createSchema(deployment), createSchema(lookalike)]);
    expect(await schemasPresent([exited, live, deployment, lookalike])).toHaveLength(4);

    const dropped = await dropOrphanedIsolatedSchemas(base);

    expect(dropped).toContain(exited);
    expect(await schemasPresent([exited, live, deployment, lookalike])).toEqual(
      [live, deployment, lookalike].sort(),
    );
    for (const schema of [live, deployment, lookalike]) await query(`drop schema ${schema} cascade`);
  });

  it('drops the one schema an isolated URL names, and refuses a URL that names no isolated schema', async () => {
    const base = TEST_DATABASE_URL ?? '';
    const url = await createIsolatedPostgresSchema(base, 'drop_one');
    const schema = schemaOf(url);
    await createSchema(schema);
    await dropIsolatedPostgresSchema(url);
    expect(await schemasPresent([schema])).toEqual([]);
    const deployment = new URL(base);
    deployment.searchParams.set('options', '-c search_path=public');
    await expect(dropIsolatedPostgresSchema(deployment.toString())).rejects.toThrow(/not an isolated schema/);
    await expect(dropIsolatedPostgresSchema(base)).rejects.toThrow(/not an isolated schema/);
  });
});
