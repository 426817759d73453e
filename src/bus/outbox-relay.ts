import type { Clock } from '../domain/index.js';
import type { Bus } from './bus.js';

/** An unpublished outbox row. */
export interface OutboxMessage {
  readonly id: string;
  readonly topic: string;
  /** JSON text. */
  readonly payload: string;
}

/** The outbox as the relay sees it (src/store/outbox-relay.ts implements it; src/app wires it). */
export interface OutboxSource {
  /** The oldest unpublished rows that committed, in commit order, at most `limit`. */
  unpublished(limit: number): Promise<OutboxMessage[]>;
  /** Resolves once everything committed before the call is durable (a batch may be visible before it is on disk). */
  durable(): Promise<void>;
  /** Marks rows published, in a unit of its own (never a request's). */
  markPublished(ids: readonly string[], at: number): Promise<void>;
}

export interface OutboxRelayOptions {
  /** Rows per poll (default 500). */
  readonly batchSize?: number;
  /** Poll interval when idle (default 200 ms); `kick()` polls at once after a commit. */
  readonly pollMs?: number;
  readonly onError?: (error: unknown, context: string) => void;
}

/**
 * The transactional outbox relay (DESIGN: "events leave through the outbox after commit, never before"): reads
 * unpublished rows in order, publishes each (message id = the payload's eventId, else the row id, so a re-publish after
 * a crash between publish and mark is dropped as a duplicate), then marks them published.
 */
export class OutboxRelay {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<number> | undefined;
  private stopped = true;
  private again = false;

  constructor(
    private readonly outbox: OutboxSource,
    private readonly bus: Bus,
    private readonly clock: Clock,
    private readonly options: OutboxRelayOptions = {},
  ) {}

  start(): void {
    this.stopped = false;
    this.tick();
  }

  /** Polls now (call after a commit that wrote outbox rows). */
  kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    if (this.timer) clearTimeout(this.timer);
    this.tick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** Publishes one batch; returns how many rows it published. */
  async runOnce(): Promise<number> {
    // Only committed rows are ever published, so the reader (which never waits for the writer's open batch) will do.
    const rows = await this.outbox.unpublished(this.options.batchSize ?? 500);
    if (rows.length === 0) return 0;
    // A row is visible once its batch commits but durable only after the WAL flush: nothing leaves before that.
    await this.outbox.durable();
    const results = await Promise.allSettled(
      rows.map((row) => {
        const payload = JSON.parse(row.payload) as unknown;
        const eventId =
          typeof payload === 'object' && payload !== null
            ? (payload as { eventId?: unknown }).eventId
            : undefined;
        return this.bus.publish({
          id: typeof eventId === 'string' ? eventId : row.id,
          topic: row.topic,
          payload,
        });
      }),
    );
    const done = rows.filter((_, i) => results[i]?.status === 'fulfilled').map((r) => r.id);
    for (const failed of results)
      if (failed.status === 'rejected') this.options.onError?.(failed.reason, 'outbox publish');
    // Never part of a request's unit of work (kick() may be called from inside one): the source sees to that.
    await this.outbox.markPublished(done, this.clock.now());
    return done.length;
  }

  private tick(): void {
    this.timer = undefined;
    this.running = this.runOnce()
      .catch((error: unknown) => {
        this.options.onError?.(error, 'outbox relay');
        return 0;
      })
      .finally(() => {
        this.running = undefined;
      });
    void this.running.then((n) => {
      if (this.stopped) return;
      const full = n >= (this.options.batchSize ?? 500);
      const delay = full || this.again ? 0 : (this.options.pollMs ?? 200);
      this.again = false;
      this.timer = setTimeout(() => this.tick(), delay);
    });
  }
}
