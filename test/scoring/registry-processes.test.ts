/**
 * A model registered or activated through one process is scored by the others without a restart: every process's
 * engine polls the configuration generation, which an alias move bumps, and its reload loads every registered model
 * it has not cached yet (src/engine/service.ts reload, src/app/app.ts reloadModels). Two handles on one database, as
 * two processes have.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/domain/clock.js';
import { seededRandom } from '../../src/domain/random.js';
import { uuidv7Generator } from '../../src/domain/ids.js';
import { createModelRegistry, resolverFromRegistry, type ModelRegistry } from '../../src/scoring/index.js';
import { createModelRepository } from '../../src/store/index.js';
import {
  createIsolatedPostgresSchema,
  dropIsolatedPostgresSchema,
  openStore,
  type Store,
} from '../../src/store/db.js';
import { openEngine } from '../../src/app/engine.js';
import type { EngineService } from '../../src/engine/index.js';
import { TEST_DATABASE_URL, TEST_FIELD_CRYPTO } from '../helpers/stores.js';

const modelJson = JSON.parse(readFileSync('models/application-scorecard.json', 'utf8')) as Record<
  string,
  unknown
>;

interface Process {
  readonly store: Store;
  readonly registry: ModelRegistry;
  readonly engine: EngineService;
}

async function processOn(store: Store, seed: number): Promise<Process> {
  const clock = new ManualClock(Date.UTC(2025, 6, 1));
  const ids = uuidv7Generator(clock, seededRandom(seed));
  const registry = createModelRegistry(createModelRepository(store), { clock, ids });
  await registry.loadAll();
  const engine = await openEngine({
    store,
    crypto: TEST_FIELD_CRYPTO,
    clock,
    ids,
    models: resolverFromRegistry(registry),
    reloadModels: () => registry.loadAll(),
  });
  return { store, registry, engine };
}

const BACKENDS = [
  {
    name: 'a SQLite file',
    enabled: true,
    async open(): Promise<{ first: Store; second: Store; cleanup?: () => Promise<void> }> {
      const path = join(mkdtempSync(join(tmpdir(), 'lg-models-')), 'lineguard.db');
      const first = await openStore({ sqlitePath: path });
      return { first, second: await openStore({ sqlitePath: path }) };
    },
  },
  {
    name: 'PostgreSQL',
    enabled: Boolean(TEST_DATABASE_URL),
    async open(): Promise<{ first: Store; second: Store; cleanup?: () => Promise<void> }> {
      const url = await createIsolatedPostgresSchema(TEST_DATABASE_URL ?? '', 'models_procs');
      const first = await openStore({ postgresUrl: url });
      const second = await openStore({ postgresUrl: url, migrate: false });
      return { first, second, cleanup: () => dropIsolatedPostgresSchema(url) };
    },
  },
];

for (const backend of BACKENDS) {
  describe.skipIf(!backend.enabled)(`models across processes on ${backend.name}`, () => {
    let stores: Awaited<ReturnType<(typeof BACKENDS)[number]['open']>>;
    let here: Process;
    let there: Process;

    beforeAll(async () => {
      stores = await backend.open();
      here = await processOn(stores.first, 1);
      there = await processOn(stores.second, 2);
    });
    afterAll(async () => {
      await stores?.second.close();
      await stores?.first.close();
      await stores?.cleanup?.();
    });

    it('a first version registered at one process is scored at the other after its next poll', async () => {
      await here.registry.register(modelJson, { id: 'card-x', registeredBy: 'alice' });
      expect(there.registry.cached('card-x')).toBeUndefined();
      expect(await there.engine.refreshIfChanged()).toBe(true);
      expect(there.registry.cached('card-x')?.version).toBe(1);
    });

    it('an activation at one process moves what the other scores with after its next poll', async () => {
      await here.registry.register(modelJson, { id: 'card-x', version: 2, registeredBy: 'alice' });
      // Registering a later version moves no alias, so the other process still scores version 1, as it should.
      await there.engine.refreshIfChanged();
      expect(there.registry.cached('card-x')?.version).toBe(1);
      await here.registry.activate('card-x', 2, 'bob');
      expect(await there.engine.refreshIfChanged()).toBe(true);
      expect(there.registry.cached('card-x')?.version).toBe(2);
      expect(there.registry.cached('card-x', 1)?.version).toBe(1);
    });
  });
}
