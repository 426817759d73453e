import type { UnitGuard } from '../domain/index.js';
/**
 * The model registry in the store: immutable (id, version) rows holding the model file, and per id an alias, the
 * version an unversioned reference (`modelRef: { id }`) resolves to. Registering never moves an alias that exists:
 * live scoring changes only by an explicit, recorded `activate` (issue 12). The decision engine resolves models
 * synchronously, so `resolverFromRegistry` serves scorers from an in-memory cache filled by `loadAll()` at start,
 * kept current by `register`/`activate` here, and reloaded by the engine when another process changed the
 * configuration generation.
 */
import type { Clock } from '../domain/index.js';
import { systemClock } from '../domain/index.js';
import { LgError } from '../domain/index.js';
import { uuidv7Generator, type IdGenerator } from '../domain/index.js';
import type { ModelResolver } from '../domain/index.js';
import { cryptoRandom } from '../domain/index.js';
import type { ModelFile } from './model-file.js';
import type { ModelActivation, ModelRepository, ModelUnit, RegisteredModel } from './registry-port.js';
import { scorerFromModel, type ModelScorerWithText } from './scorer.js';
import { parseModelFile } from './validate.js';

export type { ModelActivation, RegisteredModel } from './registry-port.js';

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
  activate(
    id: string,
    version: number,
    by: string,
    guard?: UnitGuard<ModelActivation>,
  ): Promise<ModelActivation>;
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
  repository: ModelRepository,
  deps: { clock?: Clock; ids?: IdGenerator } = {},
): ModelRegistry {
  const clock = deps.clock ?? systemClock;
  const ids = deps.ids ?? uuidv7Generator(clock, cryptoRandom);
  const cache = createScorerCache();
  const parts: RegistryParts = { repository, cache, clock, ids, self: () => registry };
  const registry: ModelRegistry = {
    ...writeMethods(parts),
    ...readMethods(repository),
    ...cacheMethods(parts),
  };
  return registry;
}

interface RegistryParts {
  readonly repository: ModelRepository;
  readonly cache: ScorerCache;
  readonly clock: Clock;
  readonly ids: IdGenerator;
  /** The registry being built: activate reloads through its loadAll, loadAll reads its aliases. */
  readonly self: () => ModelRegistry;
}

/** Scorers by id and version, and each id's alias (active version): what the synchronous resolver serves. */
function createScorerCache() {
  const versionsById = new Map<string, Map<number, ModelScorerWithText>>();
  let aliases = new Map<string, number>();
  return {
    remember(scorer: ModelScorerWithText): void {
      let versions = versionsById.get(scorer.id);
      if (versions === undefined) {
        versions = new Map();
        versionsById.set(scorer.id, versions);
      }
      versions.set(scorer.version, scorer);
    },
    has: (id: string, version: number): boolean => versionsById.get(id)?.has(version) === true,
    setAlias(id: string, version: number): void {
      aliases.set(id, version);
    },
    replaceAliases(next: Record<string, number>): void {
      aliases = new Map(Object.entries(next));
    },
    scorer(id: string, version: number | undefined): ModelScorerWithText | undefined {
      const versions = versionsById.get(id);
      if (versions === undefined) return undefined;
      const wanted = version ?? aliases.get(id);
      return wanted === undefined ? undefined : versions.get(wanted);
    },
  };
}
type ScorerCache = ReturnType<typeof createScorerCache>;

/** Numbers, checks and stores a version in `unit`; the first version of an id also becomes its alias. */
async function registerIn(
  unit: ModelUnit,
  input: { parsed: ModelFile; id: string; version: number | undefined; by: string },
  deps: { clock: Clock; ids: IdGenerator },
): Promise<{ info: RegisteredModel; stored: ModelFile; activation: ModelActivation | undefined }> {
  const { id, by } = input;
  const { clock, ids } = deps;
  const version = input.version ?? (await unit.latestVersion(id)) + 1;
  if (!Number.isInteger(version) || version < 1)
    throw new LgError('LG_VALIDATION', 'model version must be a positive integer');
  const stored = { ...input.parsed, id, version } as ModelFile;
  if (await unit.isRegistered(id, version))
    throw new LgError(
      'LG_CONFLICT',
      `model ${id} version ${version} is already registered (versions are immutable)`,
      {
        id,
        version,
      },
    );
  const at = clock.now();
  await unit.insertModel({ file: stored, registeredBy: by, registeredAt: at, entryId: ids.next() });
  const activation =
    (await unit.activeVersion(id)) === undefined
      ? await unit.moveAlias({ id, version, by, at, activationId: ids.next() })
      : undefined;
  const info = { id, version, kind: stored.kind, registeredBy: by, registeredAt: at };
  return { info, stored, activation };
}

/** Registering a version and moving an alias, each in one unit, with the cache kept current. */
function writeMethods(parts: RegistryParts): Pick<ModelRegistry, 'register' | 'activate'> {
  const { repository, cache, clock, ids } = parts;
  return {
    async register(model, options = {}) {
      const parsed = parseModelFile(model);
      const id = options.id ?? parsed.id;
      if (!MODEL_ID.test(id)) throw new LgError('LG_VALIDATION', `model id "${id}" is not valid`);
      const by = options.registeredBy ?? 'cli';
      const result = await repository.unit((unit) =>
        registerIn(unit, { parsed, id, version: options.version, by }, { clock, ids }),
      );
      cache.remember(scorerFromModel(result.stored));
      if (result.activation) cache.setAlias(id, result.activation.version);
      return result.info;
    },
    async activate(id, version, by, guard) {
      const activation = await repository.unit(async (unit) => {
        if (!(await unit.isRegistered(id, version)))
          throw new LgError('LG_MODEL_NOT_FOUND', `model ${id} has no version ${version}`, { id, version });
        return unit.moveAlias({ id, version, by, at: clock.now(), activationId: ids.next() });
      }, guard);
      await parts.self().loadAll();
      return activation;
    },
  };
}

function readMethods(
  repository: ModelRepository,
): Pick<ModelRegistry, 'aliases' | 'activations' | 'get' | 'latest' | 'list'> {
  return {
    aliases: () => repository.aliases(),
    activations: (id) => repository.activations(id),
    async get(id, version) {
      const text = await repository.modelText(id, version);
      return text === undefined ? undefined : parseModelFile(JSON.parse(text));
    },
    async latest(id) {
      const text = await repository.modelText(id);
      return text === undefined ? undefined : parseModelFile(JSON.parse(text));
    },
    list: (id) => repository.list(id),
  };
}

function cacheMethods(parts: RegistryParts): Pick<ModelRegistry, 'loadAll' | 'cached'> {
  const { repository, cache } = parts;
  return {
    async loadAll() {
      const keys = await repository.keys();
      // Versions are immutable: only those not cached yet are read in full.
      for (const key of keys) {
        if (cache.has(key.id, key.version)) continue;
        const text = await repository.modelText(key.id, key.version);
        if (text === undefined)
          throw new Error(`model ${key.id} version ${key.version} vanished while loading`);
        cache.remember(scorerFromModel(JSON.parse(text)));
      }
      cache.replaceAliases(await parts.self().aliases());
      return keys.length;
    },
    cached: (id, version) => cache.scorer(id, version),
  };
}

/** A synchronous ModelResolver over the registry's cache (call `await registry.loadAll()` first). */
export function resolverFromRegistry(registry: ModelRegistry): ModelResolver {
  return (id, version) => registry.cached(id, version);
}
