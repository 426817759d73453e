import type { Bus } from '../bus/bus.js';
import { CORE_EVENTS_TOPIC } from '../bus/index.js';
import type { Clock } from '../domain/clock.js';
import type { IdGenerator } from '../domain/ids.js';
import type { Store } from '../store/db.js';
import type { LineActionPort } from './actions.js';
import { fromCorePayload } from './events.js';
import { MemoryFeatureStore } from './features/memory-store.js';
import { RedisFeatureStore } from './features/redis-store.js';
import type { FeatureStore } from './features/store.js';
import { ListService } from './lists.js';
import { MonitorService, type GroupCommitOptions } from './service.js';
import type { ParameterOverrides } from './typologies/index.js';
import type { AlertFollowUp } from './repository.js';

export {
  MonitorService,
  type EventOutcome,
  type FiredTypology,
  type RaisedAlert,
  type GroupCommitOptions,
  type MonitorServiceDeps,
} from './service.js';
export {
  ListService,
  LIST_KINDS,
  LIST_ENTITY_TYPES,
  sharedHmac,
  keyFingerprint,
  type ListEntry,
  type ListHit,
  type SharedListExport,
} from './lists.js';
export { EntityGraph } from './links.js';
export { FeatureRegistry, FeatureReader, FEATURES, type FeatureDefinition } from './features/registry.js';
export { MemoryFeatureStore } from './features/memory-store.js';
export { RedisFeatureStore } from './features/redis-store.js';
export type { FeatureStore, FeatureEntry, EntityType, Aggregate, WindowQuery } from './features/store.js';
export {
  EVENT_TYPES,
  EventInSchema,
  parseEvents,
  fromCorePayload,
  toWire,
  type MonitorEvent,
  type EventIn,
  type EventType,
} from './events.js';
export {
  DEFAULT_TYPOLOGIES,
  describePack,
  resolveParameters,
  type TypologyPack,
  type ParameterOverrides,
} from './typologies/index.js';
export {
  ANTI_SCAM_WARNING,
  MONITOR_ACTION_TYPES,
  type LineActionPort,
  type LineActionOutcome,
  type ActionTaken,
} from './actions.js';
export {
  listAlerts,
  recordSystemAlert,
  type AlertView,
  type AlertQuery,
  type SystemAlertInput,
} from './alerts.js';
export type { DrawSignals, DrawSignalsRequest } from './signals.js';
export type { AlertFollowUp, AlertRow } from './repository.js';
export type { NewListEntry } from './lists.js';

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
}

/** Builds and starts the monitor (state rebuilt from the store). */
export async function createMonitor(options: CreateMonitorOptions): Promise<MonitorService> {
  const features: FeatureStore = options.redisUrl
    ? new RedisFeatureStore({ url: options.redisUrl, prefix: options.redisPrefix })
    : new MemoryFeatureStore();
  const lists = new ListService(options.store, {
    clock: options.clock,
    ids: options.ids,
    masterKey: options.masterKey,
    retiredMasterKeys: options.retiredMasterKeys,
  });
  const monitor = new MonitorService({
    store: options.store,
    clock: options.clock,
    ids: options.ids,
    lists,
    features,
    lineActions: options.lineActions,
    parameters: options.parameters,
    groupCommit: options.groupCommit,
    onError: options.onError,
    alertFollowUp: options.alertFollowUp,
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
