import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import type { Registry } from 'prom-client';
import type { Config } from './config.js';
import { systemClock, type Clock } from '../domain/clock.js';
import { cryptoRandom, type RandomSource } from '../domain/random.js';
import { uuidv7Generator, type IdGenerator } from '../domain/ids.js';
import { openStore, type Store } from '../store/db.js';
import { buildServer, createMetricsRegistry } from '../api/server.js';
import { createKeyVerifier, ensureApiKey } from '../api/api-keys.js';

/**
 * The one place that reads config and wires adapters to the core. Everything else receives what it needs.
 */
export interface AppServices {
  readonly config: Config;
  readonly store: Store;
  readonly clock: Clock;
  readonly random: RandomSource;
  readonly ids: IdGenerator;
  readonly metrics: Registry;
  readonly routes: FastifyPluginAsync[];
  close(): Promise<void>;
}

export interface AppOptions {
  readonly clock?: Clock;
  readonly random?: RandomSource;
}

export async function createApp(config: Config, options: AppOptions = {}): Promise<AppServices> {
  const clock = options.clock ?? systemClock;
  const random = options.random ?? cryptoRandom;
  const ids = uuidv7Generator(clock, random);
  const store = await openStore(config.postgresUrl ? { postgresUrl: config.postgresUrl } : { sqlitePath: config.sqlitePath });
  const metrics = createMetricsRegistry();
  if (config.adminKey) await ensureApiKey(store.db, { clock, ids }, config.adminKey, 'admin');
  const closers: (() => Promise<void>)[] = [];
  const routes: FastifyPluginAsync[] = [];
  return {
    config,
    store,
    clock,
    random,
    ids,
    metrics,
    routes,
    async close() {
      for (const close of closers.reverse()) await close();
      await store.close();
    },
  };
}

export async function createHttpServer(app: AppServices, logger = false): Promise<FastifyInstance> {
  return buildServer({
    db: app.store.db,
    clock: app.clock,
    metrics: app.metrics,
    requestBytesMax: app.config.requestBytesMax,
    verifyKey: createKeyVerifier(app.store.db, app.clock),
    routes: app.routes,
    logger,
    health: async () => {
      await app.store.db.selectFrom('ledger_head').select('seq').executeTakeFirst();
      return { store: app.store.kind };
    },
  });
}
