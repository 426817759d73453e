import type { Clock } from '../domain/clock.js';
import type { Store } from '../store/db.js';
import { unitContext } from '../store/unit-context.js';
import type { Bus } from './bus.js';

/** Ids per UPDATE … IN (…): far below both stores' bound-parameter limits. */
const MARK_CHUNK = 500;
const MARK_PUBLISHED_SQLITE =
  'update "outbox" set "published_at" = ? where "id" in (select "value" from json_each(?))';

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
    private readonly store: Store,
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
    const rows = await this.store.readDb
      .selectFrom('outbox')
      .select(['id', 'topic', 'payload'])
      .where('published_at', 'is', null)
      .orderBy('created_at')
      .orderBy('id')
      .limit(this.options.batchSize ?? 500)
      .execute();
    if (rows.length === 0) return 0;
    // A row is visible once its batch commits but durable only after the WAL flush: nothing leaves before that.
    await this.store.sync?.durable();
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
    // Never part of a request's unit of work (kick() may be called from inside one).
    await unitContext.exit(() => this.markPublished(done));
    return done.length;
  }

  /** Through the store's unit of work, so on SQLite the mark joins the next group commit instead of paying its own. */
  private async markPublished(ids: readonly string[]): Promise<void> {
    const at = this.clock.now();
    const chunks: string[][] = [];
    for (let i = 0; i < ids.length; i += MARK_CHUNK) chunks.push(ids.slice(i, i + MARK_CHUNK));
    const sync = this.store.sync;
    if (sync) {
      // One statement text whatever the count (ids as a JSON array), so it is prepared once and stays cached.
      // Deferrable: a row published but not yet marked is at worst published again, and consumers dedupe by event id.
      await sync.transaction(
        (sql) => {
          for (const chunk of chunks) sql.run(MARK_PUBLISHED_SQLITE, [at, JSON.stringify(chunk)]);
        },
        { deferrable: true },
      );
      return;
    }
    await this.store.transaction(async (tx) => {
      for (const chunk of chunks)
        await tx.updateTable('outbox').set({ published_at: at }).where('id', 'in', chunk).execute();
    });
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
