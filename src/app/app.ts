import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import type { Registry } from 'prom-client';
import { preparePrivateSqliteFiles, type Config } from './config.js';
import { LaggingClock, systemClock, type Clock } from '../domain/index.js';
import { cryptoRandom, type RandomSource } from '../domain/index.js';
import { uuidv7Generator, type IdGenerator } from '../domain/index.js';
import { outsideUnitOfWork } from '../store/index.js';
import { acquireAdvisoryLock, openStore, type Store } from '../store/index.js';
import { createCoreStore } from '../store/index.js';
import { healthReport, statusProbe, storeProbe, type HealthProbe } from './health.js';
import { buildServer, createMetricsRegistry } from '../api/index.js';
import { createKeyVerifier, ensureApiKey } from '../api/index.js';
import { createModelRegistry, resolverFromRegistry, type ModelRegistry } from '../scoring/index.js';
import { createModelRepository, createOutboxSource, prunePublishedOutbox } from '../store/index.js';
import type { OutboxRetention } from './daily-jobs.js';
import {
  createBlastRadiusGuard,
  type BlastRadiusGuard,
  type BlastRadiusTrip,
  type EngineService,
} from '../engine/index.js';
import { createEngineMetrics } from './engine-metrics.js';
import { openEngine } from './engine.js';
import { coreEngineFromService } from './core-engine.js';
import { strategyRoutes } from '../api/index.js';
import { coreRoutes } from '../api/index.js';
import { monitorRoutes } from '../api/index.js';
import { consoleRoutes } from '../api/index.js';
import { disputeRoutes, modelRoutes } from '../api/index.js';
import { readAlertEvidence, readLineHistory, readOverview, searchLines } from '../store/index.js';
import { createLendingStore } from '../store/index.js';
import { registerDashboard } from './dashboard.js';
import { listingRoutes } from '../api/index.js';
import { productRoutes } from '../api/index.js';
import { quoteRoutes } from '../api/index.js';
import { partnerRoutes } from '../api/index.js';
import { fieldCryptoFromMasterKey, type FieldCrypto } from '../compliance/index.js';
import { createCoreServices, type CoreServices } from '../core/index.js';
import type { LineActionPort, MonitorService } from '../monitor/index.js';
import { createAlertBook, createMonitor, subscribeCoreEvents } from './monitor.js';

/** For the CLI's eval-typologies: a replay on a scratch store. */
export { evaluateTypologies } from './monitor.js';
import { InProcessBus, NatsBus, OutboxRelay, type Bus } from '../bus/index.js';
import { wireCases, type CasesWiring } from './cases.js';
import type { FourEyesGates } from './four-eyes-ops.js';
import type { AlertBook } from '../cases/index.js';
import {
  createConsentServices,
  createLedgerEvidence,
  createPortfolioService,
  directoryWitness,
  httpWitness,
  parseThresholds,
  type ConsentServices,
  type LedgerEvidence,
  type PortfolioService,
} from '../compliance/index.js';
import { ledgerRoutes } from '../api/index.js';
import { loadLedgerSigner } from './ledger-key.js';
import { createLedgerLogStore } from '../store/index.js';
import { consentRoutes } from '../api/index.js';
import type { ApplicationBureauPort } from '../core/index.js';
import { portfolioRoutes } from '../api/index.js';
import { registerPortfolioGauges } from './portfolio-metrics.js';
import { createComplianceStore } from '../store/index.js';

/**
 * How often every process checks the configuration generation (one integer) and reloads strategies, overlays and
 * model aliases another process changed: an activation decides everywhere within this plus one reload (issue 12).
 */
const ENGINE_REFRESH_MS = 500;
/** How often a process on a shared PostgreSQL re-reads the black/grey/white lists. */
const LISTS_REFRESH_MS = 5_000;

/** The repository root (this file is src/app/app.ts or dist/app/app.js). */
export const PACKAGE_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The application scorecard the bundled `application` strategy runs, trained from data/german_credit.csv. */
export const BUNDLED_MODELS = [
  { id: 'application-scorecard', file: join(PACKAGE_ROOT, 'models', 'application-scorecard.json') },
];

/**
 * The one place that reads config and wires adapters to the core. Everything else receives what it needs.
 */
export interface AppServices {
  readonly config: Config;
  readonly store: Store;
  /**
   * The field crypto (Config.masterKey, the retired keys still opening): what seals personal data at rest — borrowers,
   * decision contexts and traces, disputes, idempotency records of routes with personal data.
   */
  readonly crypto: FieldCrypto;
  /**
   * The process's clock (AppOptions.clock, else the system's), which every module reads. It runs behind only while the
   * demo seed replays its history on a first start (bootstrap.ts), and is back to 0 lag before the server listens.
   */
  readonly clock: LaggingClock;
  readonly random: RandomSource;
  readonly ids: IdGenerator;
  readonly metrics: Registry;
  readonly models: ModelRegistry;
  readonly engine: EngineService;
  readonly core: CoreServices;
  readonly monitor: MonitorService;
  readonly bus: Bus;
  /** Signed checkpoints and proofs over the ledger (RFC 9162). */
  readonly evidence: LedgerEvidence;
  /** Consent records and the credit-bureau gateway. */
  readonly consents: ConsentServices;
  /** Daily portfolio snapshots and early warnings. */
  readonly portfolio: PortfolioService;
  /** The outbox's retention (jobs daily). */
  readonly outbox: OutboxRetention;
  readonly routes: FastifyPluginAsync[];
  /** People in the loop: case queues, the borrower's side, four eyes (issue 11). */
  readonly cases: CasesWiring;
  close(): Promise<void>;
}

export interface AppOptions {
  readonly clock?: Clock;
  readonly random?: RandomSource;
  /** Called when the blast-radius guard stops automated restrictions (the monitor raises an alert). */
  readonly onGuardTrip?: (trip: BlastRadiusTrip) => void;
}

export async function createApp(config: Config, options: AppOptions = {}): Promise<AppServices> {
  const clock = new LaggingClock(options.clock ?? systemClock);
  const random = options.random ?? cryptoRandom;
  const ids = uuidv7Generator(clock, random);
  if (!config.postgresUrl) preparePrivateSqliteFiles(config.sqlitePath);
  // Processes starting together on one empty PostgreSQL take turns through the first-start chores (bundled models,
  // strategies, keys); migrations take their own lock inside openStore.
  const startup = config.postgresUrl
    ? await acquireAdvisoryLock(config.postgresUrl, 'lineguard:startup')
    : undefined;
  const store = await openStore(
    config.postgresUrl
      ? {
          postgresUrl: config.postgresUrl,
          preparedStatements: config.postgresPrepared,
          queryTimeoutMs: config.postgresQueryTimeoutMs,
        }
      : { sqlitePath: config.sqlitePath },
  ).catch(async (error: unknown) => {
    await startup?.release();
    throw error;
  });
  try {
    const crypto = fieldCryptoFromMasterKey(config.masterKey, config.retiredKeys);
    return await wireApp({ config, options, store, crypto, clock, random, ids });
  } catch (error) {
    await store.close();
    throw error;
  } finally {
    await startup?.release();
  }
}

/** What every wiring step starts from: the configuration, the open store, the process's clock, ids and randomness. */
interface AppBase {
  readonly config: Config;
  readonly options: AppOptions;
  readonly store: Store;
  readonly crypto: FieldCrypto;
  readonly clock: LaggingClock;
  readonly random: RandomSource;
  readonly ids: IdGenerator;
}

/** Wires every module over the open store, in the order each needs the others; `closers` run in order on close. */
async function wireApp(base: AppBase): Promise<AppServices> {
  const { config, store, crypto, clock, random, ids } = base;
  const closers: (() => Promise<void>)[] = [];
  const decisioning = await wireDecisioning(base);
  const { metrics, models, engine, cases } = decisioning;
  const { monitor, consents, complianceStore, coreServices, core } = await wireMonitorAndCore(
    base,
    decisioning,
  );
  const gates = cases.gates();
  const bus = await startEventDelivery({ base, monitor, closers });
  watchOtherProcesses({ store, engine, monitor, closers });
  const evidence = openLedgerEvidence(config, store, clock);
  const portfolio = createPortfolioService({
    store: complianceStore,
    clock,
    ids,
    thresholds: parseThresholds(config.earlyWarning),
    lenderUtcOffsetMinutes: config.lenderUtcOffsetMinutes,
    crypto,
    raiseAlert: (breach) =>
      decisioning.alerts.recordSystemAlert({
        typologyId: `EARLY_WARNING_${breach.ruleId}`,
        severity: 'high',
        reasons: [],
        evidence: breach,
      }),
  });
  registerPortfolioGauges(metrics, portfolio, config);
  const routes = appRoutes({
    base,
    modules: { engine, monitor, models, coreServices, core, evidence, consents, portfolio, cases },
    gates,
  });
  cases.start();
  closers.unshift(() => cases.stop());
  return {
    config,
    store,
    crypto,
    clock,
    random,
    ids,
    metrics,
    models,
    engine,
    core,
    monitor,
    bus,
    evidence,
    consents,
    portfolio,
    outbox: outboxRetention(base),
    routes,
    cases,
    async close() {
      for (const close of closers) await close();
      await store.close();
    },
  };
}

/** The first-start chores, the case wiring, the alert book, the blast-radius guard and the decision engine. */
interface Decisioning {
  readonly metrics: Registry;
  readonly models: ModelRegistry;
  readonly cases: CasesWiring;
  readonly alerts: AlertBook;
  readonly guard: BlastRadiusGuard;
  readonly engine: EngineService;
}

async function wireDecisioning(base: AppBase): Promise<Decisioning> {
  const { config, store, crypto, clock, random, ids } = base;
  const metrics = createMetricsRegistry();
  if (config.adminKey) await ensureApiKey(store.db, { clock, ids }, config.adminKey, 'admin');
  const models = await loadModels(store, clock, ids);
  const cases = wireCases({
    store,
    crypto,
    clock,
    ids,
    random,
    metrics,
    settings: config.cases,
    lenderUtcOffsetMinutes: config.lenderUtcOffsetMinutes,
  });
  // Alerts (src/cases) are raised by the monitor's typologies and by the platform itself (guard, early warnings).
  const alerts = createAlertBook(store, { clock, ids });
  const guard = guardOfAutomatedRestrictions(base, alerts);
  const engine = await openEngine({
    store,
    crypto,
    clock,
    ids,
    models: resolverFromRegistry(models),
    metrics: createEngineMetrics(metrics),
    guard,
    reloadModels: () => models.loadAll(),
  });
  return { metrics, models, cases, alerts, guard, engine };
}

/** One guard for every automated restriction (core line actions, review job, monitor typologies). */
function guardOfAutomatedRestrictions(base: AppBase, alerts: AlertBook): BlastRadiusGuard {
  return createBlastRadiusGuard({
    ...base.config.blastRadius,
    clock: base.clock,
    onTrip: (trip) => {
      // The guard trips inside the unit of work of the action it holds back: the alert is its own write, and a
      // failure to record it is reported, never left as an unhandled rejection (which would stop the process).
      outsideUnitOfWork(() =>
        alerts.recordSystemAlert({
          typologyId: 'BLAST_RADIUS_GUARD',
          severity: 'critical',
          reasons: ['R_BLAST_RADIUS_GUARD'],
          evidence: trip,
        }),
      ).catch((error: unknown) =>
        process.emitWarning(
          `could not record the blast-radius guard alert: ${error instanceof Error ? error.message : String(error)}`,
          'LineGuardWarning',
        ),
      );
      base.options.onGuardTrip?.(trip);
    },
  });
}

/** The monitor, consent and the core, tied to each other and bound into the case wiring. */
interface MonitorAndCore {
  readonly monitor: MonitorService;
  readonly complianceStore: ReturnType<typeof createComplianceStore>;
  readonly consents: ConsentServices;
  /** The core as built, before the case wiring wraps it. */
  readonly coreServices: CoreServices;
  /** The core as routes and the monitor call it. */
  readonly core: CoreServices;
}

async function wireMonitorAndCore(base: AppBase, decisioning: Decisioning): Promise<MonitorAndCore> {
  const { config, store, crypto, clock, ids } = base;
  const { cases, alerts, engine, models } = decisioning;
  // The monitor acts on lines through the core, and the core reads the monitor's signals: tie the knot late.
  const late: { core?: CoreServices } = {};
  const monitor = await createMonitor({
    store,
    clock,
    ids,
    masterKey: config.masterKey,
    retiredMasterKeys: config.retiredKeys,
    redisUrl: config.redisUrl,
    redisPrefix: `${config.namespace}:f`,
    lineActions: lineActionsThroughLateCore(late),
    alertFollowUp: cases.service.alertFollowUp,
    alerts,
    eventFutureToleranceMs: config.eventFutureToleranceMs,
  });
  const complianceStore = createComplianceStore(store);
  const consents = createConsentServices({
    store: complianceStore,
    clock,
    ids,
    crypto,
    hardInquiriesMax30d: config.hardInquiriesMax30d,
    bureauNoticeDays: config.bureauNoticeDays,
    lenderUtcOffsetMinutes: config.lenderUtcOffsetMinutes,
  });
  cases.bindDisputes(consents.disputes, consents.reporting);
  const coreServices = createCoreServices({
    store,
    coreStore: createCoreStore(store),
    clock,
    ids,
    crypto,
    engine: coreEngineFromService(engine, { crypto, guard: decisioning.guard }),
    bureau: config.creditBureau === 'sandbox' ? applicationBureau(consents) : undefined,
    config: {
      borrowerCapMinor: config.borrowerCapMinor,
      aprCapPercent: config.aprCapPercent,
      lenderUtcOffsetMinutes: config.lenderUtcOffsetMinutes,
      maxBorrowerAge: config.maxBorrowerAge,
      drawBlockedFromDpd: config.drawBlockedFromDpd,
    },
    drawSignals: (input) => monitor.drawSignals(input),
    // The core looks the lists up itself, at application and at draw, from the shared store.
    lists: monitor.lists,
    lending: createLendingStore(store),
    // A degrading 助贷 channel lands in the analysts' queue like any alert (the case sweep opens its case).
    raiseChannelAlert: (alert) =>
      alerts.recordSystemAlert({
        typologyId: 'CHANNEL_QUALITY',
        severity: 'high',
        reasons: [],
        evidence: alert,
      }),
  });
  // Work a request leaves for a person opens its case at once (the case jobs' sweep is the safety net).
  const core = cases.wrapCore(coreServices);
  late.core = core;
  cases.bindCore(coreServices);
  cases.bindMonitor(monitor);
  cases.bindModules(engine, monitor, models);
  return { monitor, complianceStore, consents, coreServices, core };
}

/** The monitor's line actions, through a core wired after the monitor (`late.core`, set once the core exists). */
function lineActionsThroughLateCore(late: { readonly core?: CoreServices }): LineActionPort {
  return {
    async applyLineAction(lineId, action) {
      if (!late.core) throw new Error('the core is not wired yet');
      const result = await late.core.applyLineAction(lineId, action);
      return result.outcome === 'APPLIED'
        ? { status: 'APPLIED' }
        : {
            status: 'BLOCKED',
            detail: `held for review by the blast-radius guard (action ${result.actionId})`,
          };
    },
  };
}

/** Deletes the outbox rows published more than Config.outboxRetentionMs ago by the process's clock (0: none). */
function outboxRetention({ config, store, clock }: AppBase): OutboxRetention {
  return {
    prunePublished: async () =>
      config.outboxRetentionMs === 0
        ? 0
        : prunePublishedOutbox(store, { publishedBefore: clock.now() - config.outboxRetentionMs }),
  };
}

/** Core events (applications, disbursements, repayments) leave through the outbox after commit. */
async function startEventDelivery(wiring: {
  readonly base: AppBase;
  readonly monitor: MonitorService;
  readonly closers: (() => Promise<void>)[];
}): Promise<Bus> {
  const { base, monitor, closers } = wiring;
  const { config, store, clock } = base;
  const bus: Bus = config.natsUrl
    ? await NatsBus.connect({ url: config.natsUrl, namespace: config.namespace })
    : new InProcessBus();
  const unsubscribe = await subscribeCoreEvents(bus, monitor);
  const relay = new OutboxRelay(createOutboxSource(store), bus, clock);
  relay.start();
  closers.push(
    () => relay.stop(),
    () => unsubscribe(),
    () => monitor.close(),
    () => bus.close(),
    () => monitor.features.close(),
  );
  return bus;
}

/**
 * Other processes share the database (servers on PostgreSQL, the CLI on the same SQLite file): pick up what
 * they activated, overlaid or pointed a model alias at.
 */
function watchOtherProcesses(wiring: {
  readonly store: Store;
  readonly engine: EngineService;
  readonly monitor: MonitorService;
  readonly closers: (() => Promise<void>)[];
}): void {
  const { store, engine, monitor, closers } = wiring;
  const stopWatching = engine.watch(ENGINE_REFRESH_MS);
  closers.unshift(async () => stopWatching());
  if (store.kind === 'postgres') {
    // …and list entries another process added or removed (README: caches and their staleness bounds).
    const listsRefresher = setInterval(
      () => void monitor.lists.load().catch(() => undefined),
      LISTS_REFRESH_MS,
    );
    listsRefresher.unref();
    closers.unshift(async () => clearInterval(listsRefresher));
  }
}

/** Signed checkpoints and proofs over the ledger, with the signing key and the witnesses the config names. */
function openLedgerEvidence(config: Config, store: Store, clock: Clock): LedgerEvidence {
  return createLedgerEvidence({
    log: createLedgerLogStore(store),
    clock,
    signer: loadLedgerSigner({
      given: config.ledgerSigningKey,
      dataDir: dirname(config.sqlitePath),
      production: config.production,
      warn: (message) => process.emitWarning(message, 'LineGuardWarning'),
    }),
    witnesses: [
      directoryWitness(config.witnessDir),
      ...(config.witnessUrl ? [httpWitness(config.witnessUrl)] : []),
    ],
  });
}

/** Every module the HTTP routes serve. */
interface RoutedModules {
  readonly engine: EngineService;
  readonly monitor: MonitorService;
  readonly models: ModelRegistry;
  readonly coreServices: CoreServices;
  readonly core: CoreServices;
  readonly evidence: LedgerEvidence;
  readonly consents: ConsentServices;
  readonly portfolio: PortfolioService;
  readonly cases: CasesWiring;
}

/** The route groups, in the order the server registers them (the order of /openapi.json's paths). */
function appRoutes(wiring: {
  readonly base: AppBase;
  readonly modules: RoutedModules;
  readonly gates: FourEyesGates;
}): FastifyPluginAsync[] {
  const { config, store, clock, random } = wiring.base;
  const { engine, monitor, models, coreServices, core, evidence, consents, portfolio, cases } =
    wiring.modules;
  const { gates } = wiring;
  return [
    strategyRoutes({ engine, gates, calendar: config }),
    coreRoutes(core, (lineId, action, maker, guard) => gates.lineAction(lineId, action, maker, guard)),
    monitorRoutes({ monitor, eventBatchMax: config.eventBatchMax, listGates: gates }),
    consoleRoutes({
      clock,
      calendar: config,
      reads: {
        overview: (window) => readOverview(store.readDb, window),
        searchLines: (search) => searchLines(store.readDb, search),
        lineHistory: (lineId, rowsMax) => readLineHistory(store.readDb, lineId, rowsMax),
        alertEvidence: (alertId, rowsMax) => readAlertEvidence(store.readDb, alertId, rowsMax),
      },
    }),
    listingRoutes(coreServices.deps.coreStore),
    productRoutes(core),
    quoteRoutes(core),
    partnerRoutes({ core, random }),
    ledgerRoutes(evidence),
    modelRoutes({ models, gates }),
    consentRoutes(consents),
    portfolioRoutes({ portfolio }),
    disputeRoutes({ cases: cases.service, consents }),
    ...cases.routes(),
  ];
}

/** The core's application pull: a hard LOAN_APPROVAL inquiry under the applicant's consent. */
function applicationBureau(consents: ConsentServices): ApplicationBureauPort {
  return {
    async pullForApplication(subject) {
      const result = await consents.bureau.pull({
        subjectHashes: subject.subjectHashes,
        borrowerId: subject.borrowerId,
        purpose: 'LOAN_APPROVAL',
        kind: 'hard',
        requestedBy: 'core:application',
        reason: 'credit line application',
      });
      return result.status === 'PULLED'
        ? { status: 'PULLED', inquiryId: result.inquiryId, attributes: result.attributes }
        : result;
    },
  };
}

/** Registers the bundled models on first start, then loads every registered model into the resolver's cache. */
async function loadModels(store: Store, clock: Clock, ids: IdGenerator): Promise<ModelRegistry> {
  const registry = createModelRegistry(createModelRepository(store), { clock, ids });
  await registry.loadAll();
  for (const bundled of BUNDLED_MODELS) {
    if (registry.cached(bundled.id)) continue;
    await registry.register(JSON.parse(readFileSync(bundled.file, 'utf8')), {
      id: bundled.id,
      version: 1,
      registeredBy: 'bundled',
    });
  }
  await registry.loadAll();
  return registry;
}

export async function createHttpServer(app: AppServices, logger = false): Promise<FastifyInstance> {
  return buildServer({
    store: app.store,
    clock: app.clock,
    metrics: app.metrics,
    requestBytesMax: app.config.requestBytesMax,
    verifyKey: createKeyVerifier(app.store.db, app.clock),
    routes: app.routes,
    // Seals the idempotency records of routes with personal data (a credit-report pull, an application, ...).
    crypto: app.crypto,
    logger,
    beforeRoutes: registerDashboard,
    // Counts on a shared Redis are the deployment's own, as its stream and feature keys are.
    rateLimit: {
      ...app.config.rateLimit,
      redisUrl: app.config.redisUrl,
      nameSpace: `${app.config.namespace}:rate:`,
    },
    trustProxy: app.config.trustProxy,
    metricsAccess:
      app.config.metricsPort !== undefined
        ? { kind: 'elsewhere' }
        : app.config.metricsToken !== undefined
          ? { kind: 'token', token: app.config.metricsToken }
          : { kind: 'open' },
    health: async () => ({ store: app.store.kind, ...(await healthReport(healthProbes(app))) }),
  });
}

/** What /health checks: the store always, the feature store and the bus when they are shared services. */
function healthProbes(app: AppServices): HealthProbe[] {
  const probes: (HealthProbe | undefined)[] = [
    storeProbe(app.store),
    app.config.redisUrl ? statusProbe('redis', app.monitor.features as object) : undefined,
    app.config.natsUrl ? statusProbe('nats', app.bus as object) : undefined,
  ];
  return probes.filter((probe): probe is HealthProbe => probe !== undefined);
}
