/**
 * src/monitor's public face: event intake, feature windows, lists, entity links, typologies and their actions. The
 * ports it needs (ports.ts, ListStore in lists.ts) are implemented in src/store and wired in src/app.
 */
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
  keyPairsOf,
  type ListEntry,
  type ListHit,
  type ListQuery,
  type ListKeyPair,
  type ListKind,
  type ListStore,
  type LiveListMatch,
  type SealedPartnerKey,
  type SharedListExport,
  type StoredListEntry,
} from './lists.js';
export { EntityGraph } from './links.js';
export { FeatureRegistry, FeatureReader, FEATURES, type FeatureDefinition } from './features/registry.js';
export { MemoryFeatureStore } from './features/memory-store.js';
export { RedisFeatureStore } from './features/redis-store.js';
export { reconnectWhenSilent } from './features/redis-silence.js';
export type { FeatureStore, FeatureEntry, EntityType, Aggregate, WindowQuery } from './features/store.js';
export {
  EVENT_TYPES,
  DEFAULT_EVENT_FUTURE_TOLERANCE_MS,
  EventInSchema,
  parseEvents,
  fromCorePayload,
  toWire,
  type AttributeValue,
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
  type Severity,
} from './actions.js';
export {
  MONITOR_ACTIONS_TOPIC,
  MONITOR_ALERTS_TOPIC,
  type FeedPage,
  type ActionDetail,
  type ActionOutcomeWrite,
  type ActionStatus,
  type AlertPage,
  type AlertPort,
  type AlertQuery,
  type AlertRaise,
  type AlertRaised,
  type AlertView,
  type AuditTrail,
  type EventWrite,
  type GroupWrite,
  type KnownEvent,
  type LineMention,
  type MonitorActionStore,
  type MonitorIntakeStore,
  type NewAction,
  type NewAlert,
  type OutboxMessage,
  type PendingLineAction,
  type StoredEvent,
  type StoredSpan,
} from './ports.js';
export { evaluateTypologies, type EvaluationReport, type ScratchMonitorFactory } from './evaluate.js';
export { simulateTraffic, type LabelledEvent } from './simulate.js';
export type { DrawSignals, DrawSignalsRequest } from './signals.js';
export type { NewListEntry } from './lists.js';
