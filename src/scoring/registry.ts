/**
 * The model registry in the store: immutable (id, version) rows holding the model file, and per id an alias, the
 * version an unversioned reference (`modelRef: { id }`) resolves to. Registering never moves an alias that exists:
 * live scoring changes only by an explicit, recorded `activate` (issue 12). The decision engine resolves models
 * synchronously, so `resolverFromRegistry` serves scorers from an in-memory cache filled by `loadAll()` at start,
 * kept current by `register`/`activate` here, and reloaded by the engine when another process changed the
 * configuration generation.
 */
import type { Clock } from '../domain/clock.js';
import { systemClock } from '../domain/clock.js';
import { canonicalJson } from '../domain/canonical-json.js';
import { LgError } from '../domain/errors.js';
import { uuidv7Generator, type IdGenerator } from '../domain/ids.js';
import type { ModelResolver } from '../domain/model.js';
import { cryptoRandom } from '../domain/random.js';
import { sha256Hex } from '../domain/sha256.js';
import { appendToLedger } from '../compliance/ledger.js';
import { bumpConfigGeneration } from '../store/config-generation.js';
import type { DbTx, Store } from '../store/db.js';
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

export interface ModelActivation {
  readonly id: string;
  readonly version: number;
  readonly previousVersion: number | null;
  readonly activatedBy: string;
  readonly activatedAt: number;
}

export interface RegisterOptions {
  /** Registry id (default: the file's id). */
  readonly id?: string;
  /** Version (default: the latest registered version of that id + 1). */
  readonly version?: number;
  readonly registeredBy?: string;
}

export interface ModelRegistry {
  /**
   * Validates and stores a model file; the stored JSON carries the registry id and version. The first version of an
   * id becomes its active version (nothing could resolve the id before); later versions wait for `activate`.
   */
  register(model: unknown, options?: RegisterOptions): Promise<RegisteredModel>;
  /** Points the id's alias at a registered version: the explicit, recorded change of live scoring. */
  activate(id: string, version: number, by: string): Promise<ModelActivation>;
  /** The active version of every model id (id -> version). */
  aliases(): Promise<Record<string, number>>;
  activations(id: string): Promise<ModelActivation[]>;
  get(id: string, version: number): Promise<ModelFile | undefined>;
  latest(id: string): Promise<ModelFile | undefined>;
  list(id?: string): Promise<RegisteredModel[]>;
  /** Loads every registered model not yet cached, and every alias, into the cache behind `resolverFromRegistry`. */
  loadAll(): Promise<number>;
  /** Cached scorer (sync): the given version, or without one the active version; undefined when unknown. */
  cached(id: string, version?: number): ModelScorerWithText | undefined;
}

const MODEL_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export function createModelRegistry(
  store: Store,
  deps: { clock?: Clock; ids?: IdGenerator } = {},
): ModelRegistry {
  const clock = deps.clock ?? systemClock;
  const ids = deps.ids ?? uuidv7Generator(clock, cryptoRandom);
  const cache = new Map<string, Map<number, ModelScorerWithText>>();
  let aliasCache = new Map<string, number>();
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

  /** Moves the alias in the caller's dbTx, with its history row, ledger entry and configuration generation. */
  const moveAlias = async (
    tx: DbTx,
    input: { id: string; version: number; by: string; at: number },
  ): Promise<ModelActivation> => {
    const before = await tx
      .selectFrom('model_aliases')
      .select('version')
      .where('id', '=', input.id)
      .executeTakeFirst();
    const previousVersion = before === undefined ? null : Number(before.version);
    const values = { version: input.version, activated_by: input.by, activated_at: input.at };
    await tx
      .insertInto('model_aliases')
      .values({ id: input.id, ...values })
      .onConflict((oc) => oc.column('id').doUpdateSet(values))
      .execute();
    const activationId = ids.next();
    await tx
      .insertInto('model_activations')
      .values({
        id: activationId,
        model_id: input.id,
        version: input.version,
        previous_version: previousVersion,
        activated_by: input.by,
        activated_at: input.at,
      })
      .execute();
    await appendToLedger(tx, [
      {
        entryId: activationId,
        kind: 'model.activated',
        subjectId: input.id,
        recordedAt: input.at,
        payload: { modelId: input.id, version: input.version, previousVersion, activatedBy: input.by },
      },
    ]);
    await bumpConfigGeneration(tx);
    return {
      id: input.id,
      version: input.version,
      previousVersion,
      activatedBy: input.by,
      activatedAt: input.at,
    };
  };

  const registry: ModelRegistry = {
    async register(model, options = {}) {
      const parsed = parseModelFile(model);
      const id = options.id ?? parsed.id;
      if (!MODEL_ID.test(id)) throw new LgError('LG_VALIDATION', `model id "${id}" is not valid`);
      const result = await store.transaction(async (tx) => {
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
        await appendToLedger(tx, [
          {
            entryId: ids.next(),
            kind: 'model.registered',
            subjectId: id,
            recordedAt: row.registered_at,
            payload: {
              modelId: id,
              version,
              kind: row.kind,
              registeredBy: row.registered_by,
              modelSha256: sha256Hex(canonicalJson(stored)),
            },
          },
        ]);
        const alias = await tx
          .selectFrom('model_aliases')
          .select('version')
          .where('id', '=', id)
          .executeTakeFirst();
        const activation =
          alias === undefined
            ? await moveAlias(tx, { id, version, by: row.registered_by, at: row.registered_at })
            : undefined;
        return { row, stored, activation };
      });
      remember(scorerFromModel(result.stored));
      if (result.activation) aliasCache.set(id, result.activation.version);
      return toInfo(result.row);
    },
    async activate(id, version, by) {
      const activation = await store.transaction(async (tx) => {
        const exists = await tx
          .selectFrom('models')
          .select('id')
          .where('id', '=', id)
          .where('version', '=', version)
          .executeTakeFirst();
        if (!exists)
          throw new LgError('LG_MODEL_NOT_FOUND', `model ${id} has no version ${version}`, { id, version });
        return moveAlias(tx, { id, version, by, at: clock.now() });
      });
      await registry.loadAll();
      return activation;
    },
    async aliases() {
      const rows = await store.db.selectFrom('model_aliases').select(['id', 'version']).execute();
      return Object.fromEntries(rows.map((r) => [r.id, Number(r.version)]));
    },
    async activations(id) {
      const rows = await store.db
        .selectFrom('model_activations')
        .selectAll()
        .where('model_id', '=', id)
        .orderBy('activated_at')
        .orderBy('id')
        .execute();
      return rows.map((r) => ({
        id: r.model_id,
        version: Number(r.version),
        previousVersion: r.previous_version === null ? null : Number(r.previous_version),
        activatedBy: r.activated_by,
        activatedAt: Number(r.activated_at),
      }));
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
      const keys = await store.db.selectFrom('models').select(['id', 'version']).execute();
      // Versions are immutable: only those not cached yet are read in full.
      for (const key of keys) {
        if (cache.get(key.id)?.has(Number(key.version))) continue;
        const row = await store.db
          .selectFrom('models')
          .select('json')
          .where('id', '=', key.id)
          .where('version', '=', key.version)
          .executeTakeFirstOrThrow();
        remember(scorerFromModel(JSON.parse(row.json)));
      }
      aliasCache = new Map(Object.entries(await registry.aliases()));
      return keys.length;
    },
    cached(id, version) {
      const versions = cache.get(id);
      if (versions === undefined) return undefined;
      const wanted = version ?? aliasCache.get(id);
      return wanted === undefined ? undefined : versions.get(wanted);
    },
  };
  return registry;
}

/** A synchronous ModelResolver over the registry's cache (call `await registry.loadAll()` first). */
export function resolverFromRegistry(registry: ModelRegistry): ModelResolver {
  return (id, version) => registry.cached(id, version);
}
