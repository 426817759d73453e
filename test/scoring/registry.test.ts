import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/domain/clock.js';
import { LgError } from '../../src/domain/errors.js';
import { createModelRegistry, resolverFromRegistry } from '../../src/scoring/index.js';
import { createModelRepository } from '../../src/store/index.js';
import { readCsvTable } from '../../src/scoring/csv.js';
import { scorerFromModel } from '../../src/scoring/scorer.js';
import { rowRecord } from '../../src/scoring/train.js';
import { Migrator } from 'kysely';
import { createIsolatedPostgresSchema, openStore, type Store } from '../../src/store/db.js';
import { migrationProvider } from '../../src/store/migrations/index.js';

const modelJson = JSON.parse(readFileSync('models/application-scorecard.json', 'utf8')) as Record<
  string,
  unknown
>;
const german = readCsvTable(readFileSync('data/german_credit.csv', 'utf8'));
const pgUrl = process.env.LINEGUARD_TEST_DATABASE_URL;

function suite(name: string, open: () => Promise<Store>): void {
  describe(`model registry on ${name}`, () => {
    let store: Store;
    beforeAll(async () => {
      store = await open();
    });
    afterAll(async () => {
      await store?.close();
    });

    it('registers, lists, gets, resolves synchronously, and keeps versions immutable', async () => {
      const clock = new ManualClock(Date.UTC(2025, 0, 2));
      const registry = createModelRegistry(createModelRepository(store), { clock });
      const first = await registry.register(modelJson, { registeredBy: 'alice' });
      expect(first).toEqual({
        id: 'application-scorecard',
        version: 1,
        kind: 'scorecard',
        registeredBy: 'alice',
        registeredAt: Date.UTC(2025, 0, 2),
      });
      const second = await registry.register(modelJson);
      expect(second.version).toBe(2);
      await registry.register(modelJson, { id: 'other-card', version: 7 });
      await expect(registry.register(modelJson, { version: 1 })).rejects.toMatchObject({
        code: 'LG_CONFLICT',
      });
      await expect(registry.register({ format: 'nope' })).rejects.toBeInstanceOf(LgError);
      expect((await registry.list()).map((m) => `${m.id}@${m.version}`)).toEqual([
        'application-scorecard@1',
        'application-scorecard@2',
        'other-card@7',
      ]);
      expect((await registry.latest('application-scorecard'))!.version).toBe(2);
      expect((await registry.get('other-card', 7))!.id).toBe('other-card');
      expect(await registry.get('other-card', 8)).toBeUndefined();

      // A fresh process: the resolver serves the cache filled by loadAll().
      const fresh = createModelRegistry(createModelRepository(store));
      const resolve = resolverFromRegistry(fresh);
      expect(resolve('application-scorecard')).toBeUndefined();
      expect(await fresh.loadAll()).toBe(3);
      // Without a version the active one (the first registered; registering version 2 did not move it) resolves.
      expect(resolve('application-scorecard')!.version).toBe(1);
      await registry.activate('application-scorecard', 2, 'alice');
      await fresh.loadAll();
      const scorer = resolve('application-scorecard')!;
      expect(scorer.version).toBe(2);
      expect(resolve('other-card', 7)!.id).toBe('other-card');
      expect(resolve('missing')).toBeUndefined();
      // Same numbers as the model file scored directly (and so as the CLI).
      const direct = scorerFromModel(modelJson);
      for (let i = 0; i < 20; i++)
        expect(scorer.score(rowRecord(german, i))).toEqual(direct.score(rowRecord(german, i)));
    });
  });
}

suite('SQLite', () => openStore({ sqlitePath: ':memory:' }));
if (pgUrl) {
  suite('PostgreSQL', async () => {
    const url = await createIsolatedPostgresSchema(pgUrl, 'scoring_registry');
    const store = await openStore({ postgresUrl: url, migrate: false });
    // Kysely's Migrator looks for its lock table in every schema unless told which one; with other suites' isolated
    // schemas present, migrateToLatest() in db.ts skips creating it here. Pin the schema (reported to the lead).
    const schema = decodeURIComponent(new URL(url).searchParams.get('options') ?? '').split('=')[1]!;
    const { error } = await new Migrator({
      db: store.db,
      provider: migrationProvider,
      migrationTableSchema: schema,
    }).migrateToLatest();
    if (error) throw error;
    return store;
  });
}
describe.skipIf(!!pgUrl)('model registry on PostgreSQL', () => {
  it.skip('skipped: set LINEGUARD_TEST_DATABASE_URL to run against PostgreSQL', () => undefined);
});
