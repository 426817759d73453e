import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import type { Registry } from 'prom-client';
import type { Config } from './config.js';
import { systemClock, type Clock } from '../domain/clock.js';
import { cryptoRandom, type RandomSource } from '../domain/random.js';
import { uuidv7Generator, type IdGenerator } from '../domain/ids.js';
import { outsideUnitOfWork } from '../store/group-commit.js';
import { openStore, type Store } from '../store/db.js';
import { buildServer, createMetricsRegistry } from '../api/server.js';
import { createKeyVerifier, ensureApiKey } from '../api/api-keys.js';
import { createModelRegistry, resolverFromRegistry, type ModelRegistry } from '../scoring/registry.js';
import {
  createBlastRadiusGuard,
  createEngineMetrics,
  createEngineService,
  type BlastRadiusTrip,
  type EngineService,
} from '../engine/index.js';
import { strategyRoutes } from '../api/routes/strategies.js';
import { coreRoutes } from '../api/routes/core.js';
import { monitorRoutes } from '../api/routes/monitor.js';
import { fieldCryptoFromMasterKey } from '../compliance/crypto.js';
import { coreEngineFromService, createCoreServices, type CoreServices } from '../core/index.js';
import {
  createMonitor,
  subscribeCoreEvents,
  recordSystemAlert,
  type LineActionPort,
  type MonitorService,
} from '../monitor/index.js';
import { InProcessBus, NatsBus, OutboxRelay, type Bus } from '../bus/index.js';
import {
  createConsentServices,
  createLedgerEvidence,
  createPortfolioService,
  directoryWitness,
  parseThresholds,
  type ConsentServices,
  type LedgerEvidence,
  type PortfolioService,
} from '../compliance/index.js';
import { ledgerRoutes } from '../api/routes/ledger.js';
import { loadLedgerSigner } from './ledger-key.js';
import { consentRoutes } from '../api/routes/consent.js';
import type { ApplicationBureauPort } from '../core/index.js';
import { portfolioRoutes } from '../api/routes/portfolio.js';
import { registerPortfolioGauges } from './portfolio-metrics.js';

/** How often a process on a shared PostgreSQL re-reads active strategy versions and overlays. */
const ENGINE_REFRESH_MS = 10_000;

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
  readonly clock: Clock;
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
  readonly routes: FastifyPluginAsync[];
  close(): Promise<void>;
}

export interface AppOptions {
  readonly clock?: Clock;
  readonly random?: RandomSource;
  /** Called when the blast-radius guard stops automated restrictions (the monitor raises an alert). */
  readonly onGuardTrip?: (trip: BlastRadiusTrip) => void;
}

export async function createApp(config: Config, options: AppOptions = {}): Promise<AppServices> {
  const clock = options.clock ?? systemClock;
  const random = options.random ?? cryptoRandom;
  const ids = uuidv7Generator(clock, random);
  const store = await openStore(
    config.postgresUrl ? { postgresUrl: config.postgresUrl } : { sqlitePath: config.sqlitePath },
  );
  try {
    const metrics = createMetricsRegistry();
    if (config.adminKey) await ensureApiKey(store.db, { clock, ids }, config.adminKey, 'admin');
    const models = await loadModels(store, clock);
    const closers: (() => Promise<void>)[] = [];
    // One guard for every automated restriction (core line actions, review job, monitor typologies).
    const guard = createBlastRadiusGuard({
      ...config.blastRadius,
      clock,
      onTrip: (trip) => {
        // The guard trips inside the unit of work of the action it holds back: the alert is its own write, and a
        // failure to record it is reported, never left as an unhandled rejection (which would stop the process).
        outsideUnitOfWork(() =>
          recordSystemAlert(
            store,
            { clock, ids },
            {
              typologyId: 'BLAST_RADIUS_GUARD',
              severity: 'critical',
              reasons: ['R_BLAST_RADIUS_GUARD'],
              evidence: trip,
            },
          ),
        ).catch((error: unknown) =>
          process.emitWarning(
            `could not record the blast-radius guard alert: ${error instanceof Error ? error.message : String(error)}`,
            'LineGuardWarning',
          ),
        );
        options.onGuardTrip?.(trip);
      },
    });
    const engine = await createEngineService({
      store,
      clock,
      ids,
      models: resolverFromRegistry(models),
      metrics: createEngineMetrics(metrics),
      guard,
    });
    // The monitor acts on lines through the core, and the core reads the monitor's signals: tie the knot late.
    const late: { core?: CoreServices } = {};
    const lineActions: LineActionPort = {
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
    const monitor = await createMonitor({
      store,
      clock,
      ids,
      masterKey: config.masterKey,
      retiredMasterKeys: config.retiredKeys,
      redisUrl: config.redisUrl,
      lineActions,
    });
    const crypto = fieldCryptoFromMasterKey(config.masterKey, config.retiredKeys);
    const consents = createConsentServices({
      store,
      clock,
      ids,
      crypto,
      hardInquiriesMax30d: config.hardInquiriesMax30d,
    });
    const core = createCoreServices({
      store,
      clock,
      ids,
      crypto,
      engine: coreEngineFromService(engine, { guard }),
      bureau: config.creditBureau === 'sandbox' ? applicationBureau(consents) : undefined,
      config: { borrowerCapMinor: config.borrowerCapMinor, aprCapPercent: config.aprCapPercent },
      drawSignals: (input) => monitor.drawSignals(input),
    });
    late.core = core;
    // Core events (applications, disbursements, repayments) leave through the outbox after commit.
    const bus: Bus = config.natsUrl ? await NatsBus.connect({ url: config.natsUrl }) : new InProcessBus();
    const unsubscribe = await subscribeCoreEvents(bus, monitor);
    const relay = new OutboxRelay(store, bus, clock);
    relay.start();
    closers.push(
      () => relay.stop(),
      () => unsubscribe(),
      () => monitor.close(),
      () => bus.close(),
      () => monitor.features.close(),
    );
    if (store.kind === 'postgres') {
      // Several processes share one PostgreSQL: pick up versions and overlays another process activated.
      const refresher = setInterval(() => void engine.refresh().catch(() => undefined), ENGINE_REFRESH_MS);
      refresher.unref();
      closers.unshift(async () => clearInterval(refresher));
    }
    const evidence = createLedgerEvidence({
      store,
      clock,
      signer: loadLedgerSigner({
        given: config.ledgerSigningKey,
        dataDir: dirname(config.sqlitePath),
        production: config.production,
        warn: (message) => process.emitWarning(message, 'LineGuardWarning'),
      }),
      witness: directoryWitness(config.witnessDir),
    });
    const portfolio = createPortfolioService({
      store,
      clock,
      ids,
      thresholds: parseThresholds(config.earlyWarning),
      raiseAlert: (breach) =>
        recordSystemAlert(
          store,
          { clock, ids },
          {
            typologyId: `EARLY_WARNING_${breach.ruleId}`,
            severity: 'high',
            reasons: [],
            evidence: breach,
          },
        ),
    });
    registerPortfolioGauges(metrics, portfolio);
    const routes: FastifyPluginAsync[] = [
      strategyRoutes({ engine }),
      coreRoutes(core),
      monitorRoutes({ monitor, eventBatchMax: config.eventBatchMax }),
      ledgerRoutes(evidence),
      consentRoutes(consents),
      portfolioRoutes({ portfolio, db: store.db }),
    ];
    return {
      config,
      store,
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
      routes,
      async close() {
        for (const close of closers) await close();
        await store.close();
      },
    };
  } catch (error) {
    await store.close();
    throw error;
  }
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
async function loadModels(store: Store, clock: Clock): Promise<ModelRegistry> {
  const registry = createModelRegistry(store, { clock });
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
    logger,
    health: async () => {
      await app.store.db.selectFrom('ledger_head').select('seq').executeTakeFirst();
      return { store: app.store.kind };
    },
  });
}
