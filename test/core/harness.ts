import { readFileSync } from 'node:fs';
import { ManualClock } from '../../src/domain/clock.js';
import { openEngine } from '../../src/app/engine.js';
import type { EngineService } from '../../src/engine/index.js';
import { coreEngineFromService } from '../../src/app/core-engine.js';
import { createModelRegistry, resolverFromRegistry } from '../../src/scoring/index.js';
import { createModelRepository } from '../../src/store/index.js';
import type {
  Decision,
  DecisionContext,
  LineActionType,
  Outcome,
  RequestedLineAction,
} from '../../src/domain/decision.js';
import { uuidv7Generator } from '../../src/domain/ids.js';
import { seededRandom } from '../../src/domain/random.js';
import { residentIdCheckChar } from '../../src/domain/national-id.js';
import { coreDecisionWriters } from '../../src/app/core-engine.js';
import { createFieldCrypto, type FieldCrypto } from '../../src/compliance/crypto.js';
import { TEST_MASTER_KEY } from '../helpers/stores.js';
import type { Store } from '../../src/store/db.js';
import type { FastifyInstance } from 'fastify';
import { buildServer, createMetricsRegistry } from '../../src/api/server.js';
import { createKeyVerifier } from '../../src/api/api-keys.js';
import { coreRoutes } from '../../src/api/routes/core.js';
import { quoteRoutes } from '../../src/api/routes/quotes.js';
import { createLendingStore } from '../../src/store/lending.js';
import { createCoreStore } from '../../src/store/core.js';
import {
  createCoreServices,
  type CoreDeps,
  type CoreEngine,
  type CoreServices,
  type GuardTrip,
} from '../../src/core/index.js';

/** 2025-03-01T00:00:00Z */
export const T0 = Date.UTC(2025, 2, 1);

/** A checksum-valid resident ID for a birth date (YYYYMMDD) and sequence. */
export function residentId(birth: string, seq = 123, region = '110101'): string {
  const first17 = `${region}${birth}${String(seq).padStart(3, '0')}`;
  return first17 + residentIdCheckChar(first17);
}

export interface ScriptedDecision {
  outcome: Outcome;
  reasons?: string[];
  limitMinor?: number;
  annualRate?: number;
  actions?: RequestedLineAction[];
  values?: Record<string, unknown>;
}

/**
 * A programmable engine double: each strategy answers with what the test scripted (default: approve). Decision rows
 * go through the engine's real recordDecision, so the ledger and decisions table are exercised as in production.
 */
export class ScriptedEngine implements CoreEngine {
  readonly calls: { strategyId: string; context: DecisionContext }[] = [];
  script: Record<string, (ctx: DecisionContext) => ScriptedDecision> = {};
  guardCeiling = Number.POSITIVE_INFINITY;
  admitted = 0;
  declared: Record<string, ReadonlySet<string> | undefined> = {};

  decide(strategyId: string, context: DecisionContext): Decision {
    this.calls.push({ strategyId, context });
    const s = this.script[strategyId]?.(context) ?? {
      outcome: 'APPROVE',
      limitMinor: 5_000_000,
      annualRate: 0.18,
    };
    return {
      strategyId,
      strategyVersion: 1,
      engineVersion: 'scripted',
      outcome: s.outcome,
      reasons: s.reasons ?? [],
      limitMinor: s.limitMinor,
      annualRate: s.annualRate,
      actions: s.actions ?? [],
      values: s.values ?? {},
      trace: [],
    };
  }
  readonly recordDecision: CoreEngine['recordDecision'];
  readonly decisionWrites: CoreEngine['decisionWrites'];

  /** `crypto` seals the decisions it records, as the app's does. */
  constructor(crypto: FieldCrypto) {
    ({ recordDecision: this.recordDecision, decisionWrites: this.decisionWrites } =
      coreDecisionWriters(crypto));
  }

  admit(_type: LineActionType): boolean {
    if (this.admitted >= this.guardCeiling) return false;
    this.admitted += 1;
    return true;
  }
  inputsOf(strategyId: string): ReadonlySet<string> | undefined {
    return this.declared[strategyId];
  }
}

export interface Harness {
  readonly core: CoreServices;
  readonly deps: CoreDeps;
  readonly engine: ScriptedEngine;
  readonly clock: ManualClock;
  readonly trips: GuardTrip[];
}

export function makeCore(
  store: Store,
  options: {
    engine?: CoreEngine;
    clock?: ManualClock;
    seed?: number;
    borrowerCapMinor?: number;
    lenderUtcOffsetMinutes?: number;
  } = {},
): Harness {
  const clock = options.clock ?? new ManualClock(T0);
  // Seeded like the ids: the same script writes the very same sealed values (test/core/draw-writers.test.ts).
  const nonces = seededRandom((options.seed ?? 7) + 1);
  const crypto = createFieldCrypto({
    current: { masterKey: TEST_MASTER_KEY },
    nonce: (bytes) => Buffer.from(nonces.bytes(bytes)),
  });
  const engine = new ScriptedEngine(crypto);
  const trips: GuardTrip[] = [];
  const deps: CoreDeps = {
    store,
    coreStore: createCoreStore(store),
    clock,
    ids: uuidv7Generator(clock, seededRandom(options.seed ?? 7)),
    crypto,
    engine: options.engine ?? engine,
    config: {
      borrowerCapMinor: options.borrowerCapMinor ?? 20_000_000,
      aprCapPercent: 24,
      ...(options.lenderUtcOffsetMinutes === undefined
        ? {}
        : { lenderUtcOffsetMinutes: options.lenderUtcOffsetMinutes }),
    },
    lending: createLendingStore(store),
    onGuardTrip: (trip) => {
      trips.push(trip);
    },
  };
  return { core: createCoreServices(deps), deps, engine, clock, trips };
}

/**
 * The core deciding with the real engine: the bundled strategies and the bundled application scorecard, registered
 * and active, on the harness's clock and store. Given a harness, the core shares its clock and ids (its scripted core
 * may then write to the same store); `engine` saves and activates other strategy versions.
 */
export async function coreWithBundledEngine(
  store: Store,
  h: Harness = makeCore(store),
): Promise<{ h: Harness; core: CoreServices; engine: EngineService }> {
  const registry = createModelRegistry(createModelRepository(store), { clock: h.clock });
  await registry.register(JSON.parse(readFileSync('models/application-scorecard.json', 'utf8')));
  await registry.loadAll();
  const engine = await openEngine({
    store,
    crypto: h.deps.crypto,
    clock: h.clock,
    models: resolverFromRegistry(registry),
    strategiesDir: 'strategies',
  });
  return {
    h,
    core: createCoreServices({ ...h.deps, engine: coreEngineFromService(engine, { crypto: h.deps.crypto }) }),
    engine,
  };
}

export const ADULT = { name: '王小明', nationalId: residentId('19900307', 123), phone: '13812345678' };

export async function openLine(h: Harness, limitMinor = 5_000_000, applicant = ADULT): Promise<string> {
  h.engine.script.application = () => ({ outcome: 'APPROVE', limitMinor, annualRate: 0.18 });
  const result = await h.core.submitApplication({ applicant, attributes: { monthlyIncomeMinor: 1_000_000 } });
  if (!result.line) throw new Error(`application not approved: ${result.outcome}`);
  return result.line.id;
}

/** The platform server (auth, idempotency, errors) around the core's routes (and quotes), as `serve` builds it. */
export function coreServer(store: Store, h: Harness, core: CoreServices = h.core): Promise<FastifyInstance> {
  return buildServer({
    store,
    clock: h.clock,
    metrics: createMetricsRegistry(),
    requestBytesMax: 16_384,
    verifyKey: createKeyVerifier(store.db, h.clock),
    routes: [coreRoutes(core), quoteRoutes(core)],
    crypto: h.deps.crypto,
  });
}
