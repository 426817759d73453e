import type { UnitGuard } from '../domain/index.js';
import { performance } from 'node:perf_hooks';
import type { Clock } from '../domain/index.js';
import type { Decider, Decision, DecisionContext } from '../domain/index.js';
import { LgError } from '../domain/index.js';
import { canonicalJson } from '../domain/index.js';
import { cryptoRandom } from '../domain/index.js';
import { uuidv7Generator, type IdGenerator } from '../domain/index.js';
import type { ModelResolver } from '../domain/index.js';
import { compileStrategy, type CompiledStrategy } from './compiler.js';
import type { Value } from './expr/ast.js';
import { applyBlastRadiusGuard, type BlastRadiusGuard } from './guard.js';
import type { ShadowResult } from './runtime.js';
import { OVERLAY_DECLARATIONS, checkOverlay, overlayApplies, type OverlayDeclaration } from './overlays.js';
import { simulateStrategy, type SimulationReport } from './simulate.js';
import type {
  EngineMetrics,
  EngineRepository,
  Overlay,
  OverlayChange,
  StoredDecision,
  StrategyActivation,
  StrategySummary,
  StrategyVersionRecord,
} from './ports.js';
import { STRATEGY_SCHEMA } from './strategy-schema.js';
import type { ParamValue, StrategyDocument } from './types.js';
import { parseStrategySource, validateStrategy } from './validate.js';

export interface EngineServiceOptions {
  /** Where strategies, overlays and decisions are kept (src/store/engine.ts, wired in src/app/). */
  readonly repository: EngineRepository;
  readonly clock: Clock;
  readonly models: ModelResolver;
  readonly metrics?: EngineMetrics;
  /**
   * Bundled strategy documents (JSON or YAML text, in load order), saved and activated when the store has no strategy
   * yet. Finding them on disk is the app's job (src/app/engine.ts).
   */
  readonly bundled?: readonly string[];
  readonly ids?: IdGenerator;
  readonly guard?: BlastRadiusGuard;
  /** Shadow strategies may call shadows at most this deep (default 1: a shadow's own shadows are not run). */
  readonly shadowDepthMax?: number;
  /** Called by every refresh before strategies are compiled: reload what the model resolver serves (new aliases). */
  readonly reloadModels?: () => Promise<unknown>;
}

/** A strategy as listed: what the store says is active, and what this instance decides with right now. */
export interface StrategyListing extends StrategySummary {
  readonly decidingVersion: number | null;
}

/** An overlay as stored, and whether it is applied (declared and within its bounds). */
export interface OverlayInForce extends Overlay {
  readonly inForce: boolean;
}

/** At most this long between two checks of the configuration generation by `watch` (issue 12: seen within 1 s). */
export const CONFIG_POLL_MS_MAX = 500;

/**
 * `subjectKey` feeds champion/challenger splits. `facts`: every fact the caller computed for the decision (the core's
 * recorded context, a superset of `context`), from which each shadow strategy takes the inputs it declares; without
 * it a shadow sees only `context`, what the champion declares.
 */
export interface DecideOptions {
  readonly subjectKey?: string;
  readonly facts?: DecisionContext;
}

export interface EngineService extends Decider {
  decide(strategyId: string, context: DecisionContext, options?: DecideOptions): Decision;
  /** Names of the inputs the active version declares (synchronous; undefined when the strategy is not active). */
  inputsOf(strategyId: string): ReadonlySet<string> | undefined;
  /**
   * Checks a partial context against the active version's inputs (each value declared and of its type; required
   * inputs not asked): what a caller can refuse before it fetches the rest (LG_CONTEXT_INVALID, as decide would).
   */
  checkInputs(strategyId: string, values: DecisionContext): void;
  /** Validates a document (object or JSON/YAML text) without saving it. */
  validate(doc: unknown): StrategyDocument;
  /** `unitGuard` (here and below): the request's idempotency key, committed with the write. */
  saveVersion(
    doc: unknown,
    by: string,
    unitGuard?: UnitGuard<StrategyVersionRecord>,
  ): Promise<StrategyVersionRecord>;
  /**
   * The answer is the version as its unit committed it; the reload after the commit does not change it. Refused as
   * `checkActivation` refuses.
   */
  activate(
    id: string,
    version: number,
    by: string,
    unitGuard?: UnitGuard<StrategyVersionRecord>,
  ): Promise<StrategyVersionRecord>;
  /**
   * What `activate` refuses, judged without activating (a four-eyes gate asks before it proposes): a version that does
   * not exist (LG_NOT_FOUND); one that fails the rules a version is saved under, stored by a release before a rule was
   * added (LG_STRATEGY_INVALID); one whose `modelRef` resolves to no registered model — a pinned version not
   * registered, or an id with no active version — which would fail every decision closed (LG_MODEL_NOT_FOUND, its
   * `details.models` naming each reference and its path).
   */
  checkActivation(id: string, version: number): Promise<void>;
  getVersion(id: string, version: number): Promise<StrategyVersionRecord>;
  listVersions(id: string): Promise<StrategyVersionRecord[]>;
  activations(id: string): Promise<StrategyActivation[]>;
  /** Reloads first if the configuration changed, so what it reports is what this instance decides with. */
  list(): Promise<StrategyListing[]>;
  simulate(
    candidate: unknown,
    range: { from: number; to: number; subjectsMax?: number },
  ): Promise<SimulationReport>;
  getDecision(id: string): Promise<StoredDecision | undefined>;
  overlays(): OverlayInForce[];
  /** The declared overlay parameters with their types and bounds. */
  overlayDeclarations(): readonly OverlayDeclaration[];
  overlayHistory(name?: string): Promise<OverlayChange[]>;
  setOverlay(
    name: string,
    value: ParamValue,
    by: string,
    description?: string,
    unitGuard?: UnitGuard<Overlay>,
  ): Promise<Overlay>;
  /** Runs a decision's restrictive actions through the blast-radius guard (no-op without a guard). */
  guardDecision(decision: Decision, activeLineCount: number): Decision;
  /** Reloads active versions, overlays and models from the store (another process may have changed them). */
  refresh(): Promise<void>;
  /** Reloads when the configuration generation moved since the last load; true when it did. */
  refreshIfChanged(): Promise<boolean>;
  /**
   * Polls the configuration generation every `intervalMs` (at most CONFIG_POLL_MS_MAX) so an activation or overlay
   * made by any process decides here within intervalMs + one reload. Returns the function that stops it.
   */
  watch(intervalMs?: number): () => void;
  readonly schema: typeof STRATEGY_SCHEMA;
}

/** Creates the engine, loading bundled strategies on first start and compiling every active version. */
export async function createEngineService(options: EngineServiceOptions): Promise<EngineService> {
  const service = new Engine(options);
  await service.start();
  return service;
}

class Engine implements EngineService {
  readonly schema = STRATEGY_SCHEMA;
  private active = new Map<string, CompiledStrategy>();
  private readonly inputNames = new WeakMap<CompiledStrategy, ReadonlySet<string>>();
  private overlayMap = new Map<string, Overlay>();
  private readonly paramsCache = new Map<string, Record<string, Value>>();
  private readonly overlaidCache = new Map<string, readonly string[]>();
  private readonly ids: IdGenerator;
  private shadowDepth = 0;
  /** The configuration generation the loaded state reflects (-1: never loaded). */
  private generation = -1;
  private reloading: Promise<void> | undefined;

  private readonly repo: EngineRepository;

  constructor(private readonly options: EngineServiceOptions) {
    this.ids = options.ids ?? uuidv7Generator(options.clock, cryptoRandom);
    this.repo = options.repository;
  }

  async start(): Promise<void> {
    if ((await this.repo.countStrategies()) === 0) await this.loadBundled();
    await this.refresh();
  }

  /**
   * Saved as any version (validated), activated without asking the model registry: the bundled models are registered
   * before the engine starts (src/app), and an installation that runs without them still starts (its application
   * decisions fail closed, as before).
   */
  private async loadBundled(): Promise<void> {
    for (const source of this.options.bundled ?? []) {
      const doc = parseStrategySource(source);
      const saved = await this.saveVersion(doc, 'system:bundled');
      await this.switchTo(saved.strategyId, saved.version, 'system:bundled');
    }
  }

  async refresh(): Promise<void> {
    // One reload at a time; a caller that arrives during one waits for it and then reloads again (it may have been
    // told of a change the running reload started too early to see).
    while (this.reloading) await this.reloading;
    this.reloading = this.reload();
    try {
      await this.reloading;
    } finally {
      this.reloading = undefined;
    }
  }

  async refreshIfChanged(): Promise<boolean> {
    const generation = await this.repo.configGeneration();
    if (generation === this.generation) return false;
    await this.refresh();
    return true;
  }

  watch(intervalMs = CONFIG_POLL_MS_MAX): () => void {
    const every = Math.min(Math.max(1, intervalMs), CONFIG_POLL_MS_MAX);
    let busy = false;
    const timer = setInterval(() => {
      if (busy) return;
      busy = true;
      this.refreshIfChanged()
        .catch((error: unknown) =>
          process.emitWarning(
            `could not reload the engine configuration: ${error instanceof Error ? error.message : String(error)}`,
            'LineGuardWarning',
          ),
        )
        .finally(() => {
          busy = false;
        });
    }, every);
    timer.unref();
    return () => clearInterval(timer);
  }

  /**
   * Generation first: a change that commits after this read is seen by the next poll, never lost. Reads go to the
   * store's read connection: committed rows only, and never queued behind the SQLite writer's open batch.
   */
  private async reload(): Promise<void> {
    const generation = await this.repo.configGeneration();
    await this.options.reloadModels?.();
    const versions = await this.repo.activeVersions();
    const overlays = await this.repo.overlays();
    const active = new Map<string, CompiledStrategy>();
    for (const v of versions) {
      // Versions are immutable: one already compiled is kept (and its caches with it).
      const current = this.active.get(v.strategyId);
      active.set(v.strategyId, current?.meta.version === v.version ? current : compileStrategy(v.document));
    }
    // Swapped together, with no await in between: no decision sees new versions with old overlays.
    this.active = active;
    this.overlayMap = new Map(overlays.map((o) => [o.name, o]));
    this.paramsCache.clear();
    this.overlaidCache.clear();
    this.generation = generation;
  }

  inputsOf(strategyId: string): ReadonlySet<string> | undefined {
    const compiled = this.active.get(strategyId);
    if (compiled === undefined) return undefined;
    let names = this.inputNames.get(compiled);
    if (names === undefined) {
      names = new Set(compiled.doc.inputs.map((input) => input.name));
      this.inputNames.set(compiled, names);
    }
    return names;
  }

  checkInputs(strategyId: string, values: DecisionContext): void {
    const compiled = this.active.get(strategyId);
    if (compiled === undefined)
      throw new LgError('LG_STRATEGY_NOT_ACTIVE', `strategy '${strategyId}' has no active version`);
    compiled.checkGiven(values);
  }

  decide(strategyId: string, context: DecisionContext, options?: DecideOptions): Decision {
    const compiled = this.active.get(strategyId);
    if (compiled === undefined)
      throw new LgError('LG_STRATEGY_NOT_ACTIVE', `strategy '${strategyId}' has no active version`);
    const ctx = compiled.validateContext(context);
    const started = performance.now();
    const decision = compiled.run(ctx, {
      params: this.paramsFor(compiled),
      overlaid: this.overlaidFor(compiled),
      models: this.options.models,
      ...(options?.subjectKey === undefined ? {} : { subjectKey: options.subjectKey }),
      shadow: (id, shadowCtx, subjectKey) => this.runShadow(id, options?.facts ?? shadowCtx, subjectKey),
    });
    this.options.metrics?.observe(decision, (performance.now() - started) / 1000);
    return decision;
  }

  /**
   * A shadow never acts and never throws into the champion: its failures are recorded as what they are. `ctx` is every
   * fact the caller computed (or the champion's context); the shadow is handed the inputs it declares.
   */
  private runShadow(
    id: string,
    ctx: DecisionContext,
    subjectKey: string | undefined,
  ): ShadowResult | undefined {
    if (this.shadowDepth >= (this.options.shadowDepthMax ?? 1)) return undefined;
    const compiled = this.active.get(id);
    if (compiled === undefined)
      return { strategyId: id, strategyVersion: 0, outcome: 'REVIEW', reasons: ['R_ENGINE_ERROR'] };
    this.shadowDepth++;
    try {
      const declared = compiled.names.inputs;
      const own = Object.fromEntries(Object.entries(ctx).filter(([k]) => declared.has(k)));
      const d = compiled.run(compiled.validateContext(own), {
        params: this.paramsFor(compiled),
        overlaid: this.overlaidFor(compiled),
        models: this.options.models,
        ...(subjectKey === undefined ? {} : { subjectKey }),
      });
      return { strategyId: id, strategyVersion: d.strategyVersion, outcome: d.outcome, reasons: d.reasons };
    } catch {
      return {
        strategyId: id,
        strategyVersion: compiled.meta.version,
        outcome: 'REVIEW',
        reasons: ['R_ENGINE_ERROR'],
      };
    } finally {
      this.shadowDepth--;
    }
  }

  private paramsFor(compiled: CompiledStrategy): Record<string, Value> {
    const key = `${compiled.meta.id}@${compiled.meta.version}`;
    let params = this.paramsCache.get(key);
    if (params === undefined) {
      // No prototype: a parameter named like one of Object.prototype's (stored before such names were refused) is an
      // own value like any other, never a no-op write to the prototype.
      params = Object.create(null) as Record<string, Value>;
      for (const [name, decl] of Object.entries(compiled.doc.params ?? {}))
        params[name] = this.overlayValue(name) ?? decl.default;
      this.paramsCache.set(key, params);
    }
    return params;
  }

  /** The declared parameters of `compiled` an overlay sets, sorted (recorded in each decision's trace). */
  private overlaidFor(compiled: CompiledStrategy): readonly string[] {
    const key = `${compiled.meta.id}@${compiled.meta.version}`;
    let names = this.overlaidCache.get(key);
    if (names === undefined) {
      names = Object.keys(compiled.doc.params ?? {})
        .filter((name) => this.overlayValue(name) !== undefined)
        .sort();
      this.overlaidCache.set(key, names);
    }
    return names;
  }

  /** The overlay value applied for `name`: only a declared overlay within its bounds is. */
  private overlayValue(name: string): ParamValue | undefined {
    const overlay = this.overlayMap.get(name);
    return overlay !== undefined && overlayApplies(name, overlay.value) ? overlay.value : undefined;
  }

  validate(doc: unknown): StrategyDocument {
    return validateStrategy(typeof doc === 'string' ? parseStrategySource(doc) : doc);
  }

  async saveVersion(
    doc: unknown,
    by: string,
    unitGuard?: UnitGuard<StrategyVersionRecord>,
  ): Promise<StrategyVersionRecord> {
    const valid = this.validate(doc);
    return this.repo.saveVersion(
      valid,
      { by, at: this.options.clock.now(), entryId: this.ids.next() },
      unitGuard,
    );
  }

  async activate(
    id: string,
    version: number,
    by: string,
    unitGuard?: UnitGuard<StrategyVersionRecord>,
  ): Promise<StrategyVersionRecord> {
    // A version that does not exist is left to the store, which says whether the strategy or the version is missing.
    const record = await this.repo.findVersion(id, version);
    if (record) await this.checkActivatable(record);
    return this.switchTo(id, version, by, unitGuard);
  }

  async checkActivation(id: string, version: number): Promise<void> {
    const record = await this.repo.findVersion(id, version);
    if (!record) throw new LgError('LG_NOT_FOUND', `strategy '${id}' has no version ${version}`);
    await this.checkActivatable(record);
  }

  /**
   * Fails before anything is written. Models are never deleted and an alias only moves to a registered version, so a
   * reference that resolves now still resolves when the activation commits.
   */
  private async checkActivatable(record: StrategyVersionRecord): Promise<void> {
    validateStrategy(record.document);
    await this.options.reloadModels?.(); // a model registered by another process since this one last loaded
    const missing = unresolvedModelRefs(record.document, this.options.models);
    if (missing.length === 0) return;
    const named = missing.map(
      (m) => `${m.id}${m.version === undefined ? ' (active version)' : ` v${m.version}`}`,
    );
    throw new LgError(
      'LG_MODEL_NOT_FOUND',
      `strategy '${record.strategyId}' version ${record.version} scores with ${named.join(', ')}, which is not ` +
        'registered: every decision would fail closed; register (or activate) the model first',
      { strategyId: record.strategyId, version: record.version, models: missing },
    );
  }

  private async switchTo(
    id: string,
    version: number,
    by: string,
    unitGuard?: UnitGuard<StrategyVersionRecord>,
  ): Promise<StrategyVersionRecord> {
    const record = await this.repo.activateVersion(
      { id, version, by, at: this.options.clock.now(), activationId: this.ids.next() },
      unitGuard,
    );
    // Reload rather than patch the map: another process's activation may have committed after ours, and a reload
    // that ran meanwhile must not be overwritten by our older version.
    await this.refresh();
    return record;
  }

  async getVersion(id: string, version: number): Promise<StrategyVersionRecord> {
    const record = await this.repo.findVersion(id, version);
    if (!record) throw new LgError('LG_NOT_FOUND', `strategy '${id}' has no version ${version}`);
    return record;
  }

  listVersions(id: string): Promise<StrategyVersionRecord[]> {
    return this.repo.listVersions(id);
  }

  activations(id: string): Promise<StrategyActivation[]> {
    return this.repo.activationHistory(id);
  }

  async list(): Promise<StrategyListing[]> {
    await this.refreshIfChanged();
    const summaries = await this.repo.listStrategies();
    return summaries.map((s) => ({ ...s, decidingVersion: this.active.get(s.id)?.meta.version ?? null }));
  }

  async simulate(
    candidate: unknown,
    range: { from: number; to: number; subjectsMax?: number },
  ): Promise<SimulationReport> {
    if (!(range.from < range.to))
      throw new LgError('LG_VALIDATION', "simulation range needs 'from' before 'to'");
    const doc = this.validate(candidate);
    const compiled = compileStrategy(doc);
    const declaredBy = new Map(
      (await this.repo.listVersions(compiled.meta.id)).map((v) => [
        v.version,
        new Set(v.document.inputs.map((i) => i.name)),
      ]),
    );
    return simulateStrategy({
      history: this.repo,
      candidate: compiled,
      decidingInputs: (version) => declaredBy.get(version),
      candidateVersion: await this.storedVersionOf(doc),
      live: this.active.get(compiled.meta.id)?.doc,
      models: this.options.models,
      from: range.from,
      to: range.to,
      ...(range.subjectsMax === undefined ? {} : { subjectsMax: range.subjectsMax }),
    });
  }

  /**
   * The stored version `doc` is, or null: a document names a version (`version`) only when it is that version byte for
   * byte (canonical JSON). The console's editor starts from a stored document, `version` included, and an edit of it is
   * no version at all.
   */
  private async storedVersionOf(doc: StrategyDocument): Promise<number | null> {
    if (doc.version === undefined) return null;
    const stored = await this.repo.findVersion(doc.id, doc.version);
    return stored !== undefined && canonicalJson(stored.document) === canonicalJson(doc) ? doc.version : null;
  }

  getDecision(id: string): Promise<StoredDecision | undefined> {
    return this.repo.getDecision(id);
  }

  overlays(): OverlayInForce[] {
    return [...this.overlayMap.values()]
      .sort((a, b) => a.name.localeCompare(b.name))
      .map((o) => ({ ...o, inForce: overlayApplies(o.name, o.value) }));
  }

  overlayDeclarations(): readonly OverlayDeclaration[] {
    return OVERLAY_DECLARATIONS;
  }

  overlayHistory(name?: string): Promise<OverlayChange[]> {
    return this.repo.overlayHistory(name);
  }

  async setOverlay(
    name: string,
    value: ParamValue,
    by: string,
    description?: string,
    unitGuard?: UnitGuard<Overlay>,
  ): Promise<Overlay> {
    if (typeof value === 'number' && !Number.isFinite(value))
      throw new LgError('LG_VALIDATION', 'overlay value must be finite');
    checkOverlay(name, value);
    const overlay = await this.repo.putOverlay(
      {
        name,
        value,
        ...(description === undefined ? {} : { description }),
        by,
        at: this.options.clock.now(),
        historyId: this.ids.next(),
      },
      unitGuard,
    );
    await this.refresh(); // as in activate: never patch in a value older than what a reload may have seen
    return overlay;
  }

  guardDecision(decision: Decision, activeLineCount: number): Decision {
    const guard = this.options.guard;
    if (!guard) return decision;
    const guarded = applyBlastRadiusGuard(decision, guard, activeLineCount);
    if (guarded !== decision) {
      for (const type of (guarded.values.blastRadiusRefused as string[] | undefined) ?? [])
        this.options.metrics?.guardTrip(type);
    }
    return guarded;
  }
}

/** A `modelRef` the resolver has no model for, with the JSON pointer of the reference. */
interface UnresolvedModelRef {
  readonly path: string;
  readonly id: string;
  readonly version?: number;
}

function unresolvedModelRefs(doc: StrategyDocument, models: ModelResolver): UnresolvedModelRef[] {
  const missing: UnresolvedModelRef[] = [];
  doc.nodes.forEach((node, i) => {
    if (node.type !== 'scorecard' && node.type !== 'model') return;
    const ref = node.modelRef;
    if (ref === undefined || models(ref.id, ref.version) !== undefined) return;
    missing.push({
      path: `/nodes/${i}/modelRef`,
      id: ref.id,
      ...(ref.version === undefined ? {} : { version: ref.version }),
    });
  });
  return missing;
}
