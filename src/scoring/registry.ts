/**
 * The model registry in the store: immutable (id, version) rows holding the model file. The decision engine resolves
 * models synchronously, so `resolverFromRegistry` serves scorers from an in-memory cache filled by `loadAll()` at
 * start and kept current by `register`.
 */
import type { Clock } from '../domain/clock.js';
import { systemClock } from '../domain/clock.js';
import { LgError } from '../domain/errors.js';
import type { ModelResolver } from '../domain/model.js';
import type { Store } from '../store/db.js';
import type { ModelFile } from './model-file.js';
import { scorerFromModel, type ModelScorerWithText } from './scorer.js';
import { parseModelFile } from './validate.js';

export interface RegisteredModel {
  readonly id: string;
  readonly version: number;
  readonly kind: string;
  readonly registeredBy: string;
  readonly registeredAt: number;
}

export interface RegisterOptions {
  /** Registry id (default: the file's id). */
  readonly id?: string;
  /** Version (default: the latest registered version of that id + 1). */
  readonly version?: number;
  readonly registeredBy?: string;
}

export interface ModelRegistry {
  /** Validates and stores a model file; the stored JSON carries the registry id and version. */
  register(model: unknown, options?: RegisterOptions): Promise<RegisteredModel>;
  get(id: string, version: number): Promise<ModelFile | undefined>;
  latest(id: string): Promise<ModelFile | undefined>;
  list(id?: string): Promise<RegisteredModel[]>;
  /** Loads every registered model into the cache behind `resolverFromRegistry`. */
  loadAll(): Promise<number>;
  /** Cached scorer (sync); undefined when not loaded or not registered. */
  cached(id: string, version?: number): ModelScorerWithText | undefined;
}

export function createModelRegistry(store: Store, deps: { clock?: Clock } = {}): ModelRegistry {
  const clock = deps.clock ?? systemClock;
  const cache = new Map<string, Map<number, ModelScorerWithText>>();
  const remember = (scorer: ModelScorerWithText): void => {
    let versions = cache.get(scorer.id);
    if (versions === undefined) {
      versions = new Map();
      cache.set(scorer.id, versions);
    }
    versions.set(scorer.version, scorer);
  };
  const toInfo = (r: {
    id: string;
    version: number;
    kind: string;
    registered_by: string;
    registered_at: number;
  }): RegisteredModel => ({
    id: r.id,
    version: Number(r.version),
    kind: r.kind,
    registeredBy: r.registered_by,
    registeredAt: Number(r.registered_at),
  });

  const registry: ModelRegistry = {
    async register(model, options = {}) {
      const parsed = parseModelFile(model);
      const id = options.id ?? parsed.id;
      if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(id))
        throw new LgError('LG_VALIDATION', `model id "${id}" is not valid`);
      return store.transaction(async (tx) => {
        let version = options.version;
        if (version === undefined) {
          const row = await tx
            .selectFrom('models')
            .select((eb) => eb.fn.max('version').as('v'))
            .where('id', '=', id)
            .executeTakeFirst();
          version = Number(row?.v ?? 0) + 1;
        }
        if (!Number.isInteger(version) || version < 1)
          throw new LgError('LG_VALIDATION', 'model version must be a positive integer');
        const stored = { ...parsed, id, version } as ModelFile;
        const exists = await tx
          .selectFrom('models')
          .select('id')
          .where('id', '=', id)
          .where('version', '=', version)
          .executeTakeFirst();
        if (exists)
          throw new LgError(
            'LG_CONFLICT',
            `model ${id} version ${version} is already registered (versions are immutable)`,
            { id, version },
          );
        const row = {
          id,
          version,
          kind: stored.kind,
          json: JSON.stringify(stored),
          registered_by: options.registeredBy ?? 'cli',
          registered_at: clock.now(),
        };
        await tx.insertInto('models').values(row).execute();
        remember(scorerFromModel(stored));
        return toInfo(row);
      });
    },
    async get(id, version) {
      const row = await store.db
        .selectFrom('models')
        .select('json')
        .where('id', '=', id)
        .where('version', '=', version)
        .executeTakeFirst();
      return row ? parseModelFile(JSON.parse(row.json)) : undefined;
    },
    async latest(id) {
      const row = await store.db
        .selectFrom('models')
        .select('json')
        .where('id', '=', id)
        .orderBy('version', 'desc')
        .limit(1)
        .executeTakeFirst();
      return row ? parseModelFile(JSON.parse(row.json)) : undefined;
    },
    async list(id) {
      let q = store.db
        .selectFrom('models')
        .select(['id', 'version', 'kind', 'registered_by', 'registered_at']);
      if (id !== undefined) q = q.where('id', '=', id);
      const rows = await q.orderBy('id').orderBy('version').execute();
      return rows.map(toInfo);
    },
    async loadAll() {
      const rows = await store.db.selectFrom('models').select('json').execute();
      for (const r of rows) remember(scorerFromModel(JSON.parse(r.json)));
      return rows.length;
    },
    cached(id, version) {
      const versions = cache.get(id);
      if (versions === undefined) return undefined;
      if (version !== undefined) return versions.get(version);
      const latest = Math.max(...versions.keys());
      return versions.get(latest);
    },
  };
  return registry;
}

/** A synchronous ModelResolver over the registry's cache (call `await registry.loadAll()` first). */
export function resolverFromRegistry(registry: ModelRegistry): ModelResolver {
  return (id, version) => registry.cached(id, version);
}
