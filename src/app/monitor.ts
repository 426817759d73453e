import { CORE_EVENTS_TOPIC, type Bus } from '../bus/index.js';
import { AlertBook } from '../cases/index.js';
import type { Clock, IdGenerator } from '../domain/index.js';
import {
  evaluateTypologies as replayTypologies,
  fromCorePayload,
  ListService,
  MemoryFeatureStore,
  MonitorService,
  RedisFeatureStore,
  type EvaluationReport,
  type FeatureStore,
  type GroupCommitOptions,
  type LabelledEvent,
  type LineActionPort,
  type MonitorServiceDeps,
  type ParameterOverrides,
} from '../monitor/index.js';
import {
  alertStore,
  monitorActionStore,
  monitorIntakeStore,
  monitorListStore,
  openStore,
  type AlertFollowUp,
  type Store,
} from '../store/index.js';

/** Wires the monitor to its adapters: the store's ports, the alert book of src/cases, the feature store, the bus. */

export interface MonitorPortsOptions {
  readonly clock: Clock;
  readonly ids: IdGenerator;
  /** Commits with every group's new alerts (cases opened for alerts). */
  readonly alertFollowUp?: AlertFollowUp;
}

/** The alert book (src/cases) over the store. */
export function createAlertBook(store: Store, deps: { clock: Clock; ids: IdGenerator }): AlertBook {
  return new AlertBook(alertStore(store), deps);
}

/** The store-backed ports of a MonitorService. */
export function monitorPorts(
  store: Store,
  options: MonitorPortsOptions,
): Pick<MonitorServiceDeps, 'intakeStore' | 'actionStore' | 'alerts'> {
  return {
    intakeStore: monitorIntakeStore(store, options.alertFollowUp),
    actionStore: monitorActionStore(store),
    alerts: createAlertBook(store, options),
  };
}

export function createListService(
  store: Store,
  deps: { clock: Clock; ids: IdGenerator; masterKey: Buffer; retiredMasterKeys?: readonly Buffer[] },
): ListService {
  return new ListService(monitorListStore(store), deps);
}

export interface CreateMonitorOptions {
  readonly store: Store;
  readonly clock: Clock;
  readonly ids: IdGenerator;
  /** Config.masterKey: seals the list-sharing keys agreed with partners. */
  readonly masterKey: Buffer;
  /** Config.retiredKeys: still open sharing keys sealed before a key rotation. */
  readonly retiredMasterKeys?: readonly Buffer[];
  /** Config.redisUrl: features in Redis instead of memory. */
  readonly redisUrl?: string;
  readonly redisPrefix?: string;
  readonly lineActions?: LineActionPort;
  readonly parameters?: ParameterOverrides;
  readonly groupCommit?: GroupCommitOptions;
  readonly onError?: (error: unknown, context: string) => void;
  readonly alertFollowUp?: AlertFollowUp;
  /** The alert book the rest of the app raises system alerts through (default: a new one). */
  readonly alerts?: AlertBook;
  /** Config.eventFutureToleranceMs: how far ahead of the clock an app event may be dated. */
  readonly eventFutureToleranceMs?: number;
}

/** Builds and starts the monitor (state rebuilt from the store). */
export async function createMonitor(options: CreateMonitorOptions): Promise<MonitorService> {
  const { store, clock, ids } = options;
  const features: FeatureStore = options.redisUrl
    ? new RedisFeatureStore({ url: options.redisUrl, prefix: options.redisPrefix })
    : new MemoryFeatureStore();
  const lists = createListService(store, {
    clock,
    ids,
    masterKey: options.masterKey,
    retiredMasterKeys: options.retiredMasterKeys,
  });
  const ports = monitorPorts(store, { clock, ids, alertFollowUp: options.alertFollowUp });
  const monitor = new MonitorService({
    ...ports,
    alerts: options.alerts ?? ports.alerts,
    clock,
    ids,
    lists,
    features,
    lineActions: options.lineActions,
    parameters: options.parameters,
    groupCommit: options.groupCommit,
    onError: options.onError,
    eventFutureToleranceMs: options.eventFutureToleranceMs,
  });
  await monitor.start();
  return monitor;
}

/** Feeds core events (outbox → bus, topic 'core.events') into the monitor; returns the unsubscribe function. */
export function subscribeCoreEvents(
  bus: Bus,
  monitor: MonitorService,
  group = 'monitor',
): Promise<() => Promise<void>> {
  return bus.subscribe(CORE_EVENTS_TOPIC, group, async (message) => {
    await monitor.ingest([fromCorePayload(message.payload)]);
  });
}

/**
 * Replays labelled events through the real pipeline (validation, group commit into a temporary SQLite store, feature
 * windows, links, typologies, alerts) and scores each typology (src/monitor/evaluate.ts).
 */
export function evaluateTypologies(
  events: readonly LabelledEvent[],
  options: { parameters?: ParameterOverrides; batch?: number } = {},
): Promise<EvaluationReport> {
  return replayTypologies(events, {
    ...options,
    open: async ({ clock, ids, parameters }) => {
      const store = await openStore({ sqlitePath: ':memory:' });
      const lists = createListService(store, { clock, ids, masterKey: Buffer.alloc(32, 7) });
      const monitor = new MonitorService({
        ...monitorPorts(store, { clock, ids }),
        clock,
        ids,
        lists,
        parameters,
        groupCommit: { eventsMax: 1000, delayMs: 0 },
      });
      await monitor.start();
      return {
        monitor,
        async close() {
          await monitor.close();
          await store.close();
        },
      };
    },
  });
}
