/**
 * The outbox as the relay (src/bus/outbox-relay.ts) reads and marks it. Only committed rows are ever read, on the
 * reader connection that never waits for the writer's open batch.
 */
import type { OutboxSource } from '../bus/index.js';
import type { Store } from './db.js';

/** Ids per UPDATE … IN (…): far below both stores' bound-parameter limits. */
const MARK_CHUNK = 500;
const MARK_PUBLISHED_SQLITE =
  'update "outbox" set "published_at" = ? where "id" in (select "value" from json_each(?))';

/** The oldest unpublished rows, in commit order (created_at, id). */
async function unpublishedOutboxRows(store: Store, limit: number) {
  return store.readDb
    .selectFrom('outbox')
    .select(['id', 'topic', 'payload'])
    .where('published_at', 'is', null)
    .orderBy('created_at')
    .orderBy('id')
    .limit(limit)
    .execute();
}

/** Through the store's unit of work, so on SQLite the mark joins the next group commit instead of paying its own. */
async function markOutboxPublished(store: Store, ids: readonly string[], at: number): Promise<void> {
  const chunks: string[][] = [];
  for (let i = 0; i < ids.length; i += MARK_CHUNK) chunks.push(ids.slice(i, i + MARK_CHUNK));
  const sync = store.sync;
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
  await store.transaction(async (tx) => {
    for (const chunk of chunks)
      await tx.updateTable('outbox').set({ published_at: at }).where('id', 'in', chunk).execute();
  });
}

/** Rows per DELETE of the outbox's retention: each a short statement (and on SQLite a unit) of its own. */
const PRUNE_BATCH_ROWS = 5_000;

/**
 * Deletes the rows published before `publishedBefore` (index outbox_unpublished leads with published_at), in batches;
 * never a row not yet published, however old. A published row has done its work: the event is in the ledger and, for
 * the monitor's, in monitor_events; what it kept was a second copy (a disbursement's device, IP and payee in clear
 * among them). Returns how many rows were deleted.
 */
export async function prunePublishedOutbox(
  store: Store,
  o: { readonly publishedBefore: number; readonly batchRowsMax?: number },
): Promise<number> {
  const batch = o.batchRowsMax ?? PRUNE_BATCH_ROWS;
  let deleted = 0;
  for (;;) {
    const result = await store.transaction((tx) =>
      tx
        .deleteFrom('outbox')
        .where('id', 'in', (q) =>
          q.selectFrom('outbox').select('id').where('published_at', '<', o.publishedBefore).limit(batch),
        )
        .executeTakeFirst(),
    );
    const rows = Number(result.numDeletedRows);
    deleted += rows;
    if (rows < batch) return deleted;
  }
}

/** The relay's outbox on `store`. */
export function createOutboxSource(store: Store): OutboxSource {
  return {
    unpublished: (limit) => unpublishedOutboxRows(store, limit),
    durable: async () => store.sync?.durable(),
    markPublished: (ids, at) => markOutboxPublished(store, ids, at),
  };
}
