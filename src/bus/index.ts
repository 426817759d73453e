export type { Bus, BusHandler, BusMessage } from './bus.js';
export { InProcessBus } from './in-process.js';
export { NatsBus, type NatsBusOptions } from './nats.js';
export {
  OutboxRelay,
  type OutboxMessage,
  type OutboxRelayOptions,
  type OutboxSource,
} from './outbox-relay.js';

/** The topic the core's outbox rows use for monitor events. */
export const CORE_EVENTS_TOPIC = 'core.events';
