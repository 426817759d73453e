/**
 * Event transport (DESIGN: bus/ — in-process default, NATS JetStream for scale-out). Delivery is at least once: a
 * consumer must be idempotent (the monitor is, by eventId). One interface, two implementations, one conformance
 * suite (test/monitor/bus.conformance.test.ts).
 */
export interface BusMessage {
  /** De-duplication id (the eventId for monitor events); the same id published twice is delivered once. */
  readonly id: string;
  readonly topic: string;
  readonly payload: unknown;
}

export type BusHandler = (message: BusMessage) => Promise<void>;

export interface Bus {
  readonly kind: 'in-process' | 'nats';
  /** Resolves once the bus has accepted the message durably (in-process: once the subscribers have handled it). */
  publish(message: BusMessage): Promise<void>;
  /**
   * Subscribes a worker to a topic in a consumer group: each message goes to one worker of the group; several
   * workers in one group share the work. Returns a function that stops this worker.
   */
  subscribe(topic: string, group: string, handler: BusHandler): Promise<() => Promise<void>>;
  close(): Promise<void>;
}
