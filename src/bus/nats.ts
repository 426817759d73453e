import {
  AckPolicy,
  DeliverPolicy,
  JSONCodec,
  RetentionPolicy,
  StorageType,
  connect,
  nanos,
  type ConsumerMessages,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
  type NatsConnection,
} from 'nats';
import type { Bus, BusHandler, BusMessage } from './bus.js';

export interface NatsBusOptions {
  readonly url: string;
  /**
   * The deployment's namespace (LINEGUARD_NAMESPACE, default lineguard): the stream is its upper-case form, subjects
   * are `<namespace>.<topic>`, and consumers (named per group and topic) live inside that stream, so two deployments
   * on one NATS never consume each other's events. `stream` and `subjectPrefix` override the derived names.
   */
  readonly namespace?: string;
  /** JetStream stream holding every topic (default: the namespace in upper case, LINEGUARD). */
  readonly stream?: string;
  /** Subjects are `<prefix>.<topic>` (default: the namespace, lineguard). */
  readonly subjectPrefix?: string;
  /** JetStream de-duplicates a Nats-Msg-Id seen within this window (default 10 min). */
  readonly duplicateWindowMs?: number;
  /** Messages a worker handles at once (default 256), so group commit can batch them. */
  readonly concurrency?: number;
  /** Redeliver an unacknowledged message after this (default 30 s). */
  readonly ackWaitMs?: number;
  readonly onError?: (error: unknown, context: string) => void;
}

/**
 * NATS JetStream bus: a durable file-backed stream; publish with msgID = the message id, so JetStream drops a
 * re-published duplicate inside the duplicate window (the Nats-Msg-Id header); a durable pull consumer per group, so
 * several workers pulling from the same durable share the work, and an unacked message is redelivered (at least once).
 */
export class NatsBus implements Bus {
  readonly kind = 'nats' as const;
  private readonly codec = JSONCodec<unknown>();
  private readonly running = new Set<ConsumerMessages>();
  private readonly stream: string;
  private readonly prefix: string;

  private constructor(
    private readonly nc: NatsConnection,
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    private readonly options: NatsBusOptions,
  ) {
    const namespace = options.namespace ?? 'lineguard';
    this.stream = options.stream ?? namespace.toUpperCase().replace(/[^A-Z0-9_-]/g, '_');
    this.prefix = options.subjectPrefix ?? namespace;
    void this.watchStatus();
  }

  static async connect(options: NatsBusOptions): Promise<NatsBus> {
    const nc = await connect({
      servers: options.url,
      name: `lineguard:${options.namespace ?? 'lineguard'}`,
      // Never give up reconnecting (the client default stops after 10 tries and closes the connection for good):
      // while NATS is away, the outbox keeps every event and the relay publishes them once it is back.
      maxReconnectAttempts: -1,
      reconnectTimeWait: 1_000,
      // A connection that went silent (a partition, a failover to a new address) raises no error until TCP gives up,
      // about 15 minutes; the client's own PINGs find it out instead: two unanswered, 5 s apart, and it reconnects
      // (the default, two minutes apart, held the outbox for five).
      pingInterval: 5_000,
      maxPingOut: 2,
      // Every JetStream publish and ack is a request, and with async traces each builds an Error (a stack capture)
      // up front in case it times out: a measurable part of a fleet draw's CPU (README, "Scale-out"). A timeout still
      // fails with its NATS code; it only loses the stack of the call that started it.
      noAsyncTraces: true,
    });
    const jsm = await nc.jetstreamManager();
    const bus = new NatsBus(nc, nc.jetstream(), jsm, options);
    await bus.ensureStream();
    return bus;
  }

  /** Connected, or why not (for /health). */
  status(): { ok: boolean; detail?: string } {
    if (this.nc.isClosed()) return { ok: false, detail: 'connection closed' };
    return this.disconnected ? { ok: false, detail: 'disconnected; reconnecting' } : { ok: true };
  }

  /** The stream this bus publishes to (tests, operators). */
  get streamName(): string {
    return this.stream;
  }

  private disconnected = false;

  /** Follows the connection's status events; a reconnect needs nothing from us (pull consumers resume by themselves). */
  private async watchStatus(): Promise<void> {
    for await (const event of this.nc.status()) {
      if (event.type === 'disconnect') {
        this.disconnected = true;
        this.options.onError?.(new Error(`NATS disconnected (${String(event.data)})`), 'nats connection');
      } else if (event.type === 'reconnect') this.disconnected = false;
    }
  }

  async publish(message: BusMessage): Promise<void> {
    await this.js.publish(this.subject(message.topic), this.codec.encode(message.payload), {
      msgID: message.id,
    });
  }

  async subscribe(topic: string, group: string, handler: BusHandler): Promise<() => Promise<void>> {
    const durable = `${group}_${topic}`.replace(/[^A-Za-z0-9_-]/g, '_');
    await this.ensureConsumer(durable, this.subject(topic));
    const consumer = await this.js.consumers.get(this.stream, durable);
    const concurrency = this.options.concurrency ?? 256;
    const messages = await consumer.consume({ max_messages: concurrency });
    this.running.add(messages);
    const loop = (async () => {
      const inFlight = new Set<Promise<void>>();
      for await (const m of messages) {
        const work = this.handle(m, topic, handler).finally(() => inFlight.delete(work));
        inFlight.add(work);
        if (inFlight.size >= concurrency) await Promise.race(inFlight);
      }
      await Promise.all(inFlight);
    })();
    return async () => {
      messages.stop();
      this.running.delete(messages);
      await loop;
    };
  }

  async close(): Promise<void> {
    for (const m of this.running) m.stop();
    this.running.clear();
    await this.nc.drain();
  }

  /** Deletes the stream (tests). */
  async destroy(): Promise<void> {
    await this.jsm.streams.delete(this.stream).catch(() => undefined);
  }

  /**
   * Deletes a deployment's stream, every event and consumer in it, from a connection of its own: how tests and
   * benchmarks leave nothing behind on a shared NATS once the deployment's processes are gone.
   */
  static async deleteStream(options: NatsBusOptions): Promise<void> {
    const bus = await NatsBus.connect(options);
    try {
      await bus.destroy();
    } finally {
      await bus.close();
    }
  }

  private async handle(m: JsMsg, topic: string, handler: BusHandler): Promise<void> {
    try {
      const id = m.headers?.get('Nats-Msg-Id') || `${m.info.stream}:${m.seq}`;
      await handler({ id, topic, payload: this.codec.decode(m.data) });
      m.ack();
    } catch (error) {
      this.options.onError?.(error, `bus handler ${topic}`);
      m.nak(1_000);
    }
  }

  private subject(topic: string): string {
    return `${this.prefix}.${topic}`;
  }

  private async ensureStream(): Promise<void> {
    const config = {
      name: this.stream,
      subjects: [`${this.prefix}.>`],
      storage: StorageType.File,
      retention: RetentionPolicy.Limits,
      duplicate_window: nanos(this.options.duplicateWindowMs ?? 600_000),
    };
    try {
      await this.jsm.streams.info(this.stream);
      await this.jsm.streams.update(this.stream, {
        subjects: config.subjects,
        duplicate_window: config.duplicate_window,
      });
    } catch (error) {
      if (!String((error as Error).message).includes('not found')) throw error;
      await this.jsm.streams.add(config);
    }
  }

  private async ensureConsumer(durable: string, subject: string): Promise<void> {
    try {
      await this.jsm.consumers.info(this.stream, durable);
    } catch (error) {
      if (!String((error as Error).message).includes('not found')) throw error;
      await this.jsm.consumers.add(this.stream, {
        durable_name: durable,
        ack_policy: AckPolicy.Explicit,
        deliver_policy: DeliverPolicy.All,
        filter_subject: subject,
        ack_wait: nanos(this.options.ackWaitMs ?? 30_000),
        max_ack_pending: 10_000,
      });
    }
  }
}
