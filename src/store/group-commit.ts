import { AsyncLocalStorage } from 'node:async_hooks';
import { sql, type Kysely } from 'kysely';
import type { Database } from './schema.js';
import type { DbTx, SyncUnitOptions } from './store-types.js';
import type { SyncSql } from './sync.js';
import type { WalSyncer } from './wal-sync.js';
import { clearTxCaches, finishBatch } from './tx-scope.js';
import { guardedSyncWork, guardedWork } from './idempotency-claim.js';
import type { UnitGuard } from '../domain/index.js';

/**
 * Group commit for the embedded store. SQLite has one writer and, with synchronous=FULL, one fsync per commit; so
 * concurrent units of work are queued and run one after another inside a single database transaction, each under its
 * own SAVEPOINT. A unit that throws rolls back to its savepoint alone; the others commit together, and every caller
 * is answered only after that commit is durable. Batching commits is fair; acknowledging an uncommitted one is not.
 *
 * Units are async (Kysely, any statement) or synchronous (SyncSql on the same connection, for the hottest paths). A
 * batch of synchronous units alone runs without Kysely, start to finish in one turn of the event loop.
 *
 * A unit must only do database work (no waiting on the network), and must not open another transaction.
 *
 * A synchronous unit may be deferrable: bookkeeping nobody is waiting on at once (a stored idempotent response, the
 * outbox relay's published-marks). It does not start a batch of its own but joins the next batch that runs anyway,
 * or, when none comes within `deferMaxMs`, a batch of its own. Its caller still hears only once it is durable. Without
 * this, every batch of draws was followed by a batch of their responses: twice the commits and WAL flushes.
 */
interface Settle {
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
}
type Unit =
  | (Settle & { readonly kind: 'async'; readonly work: (tx: DbTx) => Promise<unknown> })
  | (Settle & { readonly kind: 'sync'; readonly work: (sql: SyncSql) => unknown });

interface Outcome {
  readonly ok: boolean;
  readonly value: unknown;
}

export interface GroupCommitOptions {
  /** Most units in one transaction; bounds the latency of the last one in a batch. */
  readonly batchSizeMax: number;
  /** Longest a deferrable unit waits for a batch to join before it gets one of its own. */
  readonly deferMaxMs: number;
  /** Synchronous SQL on the same connection Kysely writes through. */
  readonly syncSql: SyncSql;
  /**
   * When given, batches of synchronous units commit with synchronous=NORMAL and are answered only after this has
   * flushed the WAL (see wal-sync.ts); the event loop is not blocked on the disk meanwhile. Otherwise (an in-memory
   * database) they commit as the connection is configured.
   */
  readonly walSyncer?: WalSyncer;
}

export type { SyncUnitOptions };

export interface GroupCommitter {
  transaction<T>(work: (tx: DbTx) => Promise<T>, guard?: UnitGuard): Promise<T>;
  transactionSync<T>(work: (sql: SyncSql) => T, options?: SyncUnitOptions): Promise<T>;
  /** Runs every unit queued or deferred so far; resolves once they have all settled (before closing the store). */
  drain(): Promise<void>;
}

// A unit that opened another transaction would wait for a batch that waits for it: refuse loudly instead.
const insideUnit = new AsyncLocalStorage<true>();

/**
 * Runs `work` as if no unit of work were running: for side effects a unit may trigger but must not own (recording an
 * alert about what the unit decided). Work started inside a unit inherits its async context, so without this its
 * own transaction would be refused as nested.
 */
export function outsideUnitOfWork<T>(work: () => T): T {
  return insideUnit.exit(work);
}

export function createGroupCommitter(db: Kysely<Database>, options: GroupCommitOptions): GroupCommitter {
  const context: CommitContext = {
    db,
    options,
    raw: options.syncSql,
    queue: [],
    deferred: [],
    deferTimer: undefined,
    flushing: false,
    flushes: Promise.resolve(),
  };
  return {
    transaction: <T>(work: (tx: DbTx) => Promise<T>, guard?: UnitGuard<T>) =>
      enqueue<T>(context, (s) => ({ ...s, kind: 'async', work: guardedWork(work, guard) })),
    transactionSync: <T>(work: (sql: SyncSql) => T, unitOptions?: SyncUnitOptions<T>) =>
      enqueue<T>(
        context,
        (s) => ({ ...s, kind: 'sync', work: guardedSyncWork(work, unitOptions?.guard) }),
        unitOptions?.deferrable === true,
      ),
    drain: async () => {
      takeDeferred(context);
      // A unit queued behind all the others runs after them; then every flush begun so far must have completed.
      await enqueue<void>(context, (s) => ({ ...s, kind: 'sync', work: () => undefined })).catch(
        () => undefined,
      );
      await context.flushes;
    },
  };
}

/** One committer's queue and batches: what the batch runners share. */
interface CommitContext {
  readonly db: Kysely<Database>;
  readonly options: GroupCommitOptions;
  readonly raw: SyncSql;
  readonly queue: Unit[];
  // Deferrable units waiting for a batch to join, and the timer that gives them one when none comes.
  deferred: Unit[];
  deferTimer: NodeJS.Timeout | undefined;
  flushing: boolean;
  // Every sync batch's WAL flush and settling so far (they may complete out of order, and a mixed batch after them
  // settles first, as it commits with FULL): what drain() waits for.
  flushes: Promise<void>;
}

async function flush(context: CommitContext): Promise<void> {
  const { queue, options } = context;
  context.flushing = true;
  try {
    while (queue.length > 0) {
      takeDeferred(context);
      const batch = queue.splice(0, options.batchSizeMax);
      if (batch.every((unit) => unit.kind === 'sync')) runSyncBatch(context, batch);
      else await runMixedBatch(context, batch);
    }
  } finally {
    context.flushing = false;
  }
}

/** Moves the deferrable units into the queue, behind what is already there. */
function takeDeferred(context: CommitContext): void {
  if (context.deferred.length === 0) return;
  context.queue.push(...context.deferred);
  context.deferred = [];
  clearTimeout(context.deferTimer);
  context.deferTimer = undefined;
}

/** One synchronous unit under its savepoint, on `batchSql` (a fresh object per batch: the key of tx caches). */
function runSyncUnit(raw: SyncSql, unit: Unit & { kind: 'sync' }, batchSql: SyncSql): Outcome {
  raw.run('savepoint lg_unit', []);
  try {
    const value = insideUnit.run(true, () => unit.work(batchSql));
    raw.run('release savepoint lg_unit', []);
    return { ok: true, value };
  } catch (error) {
    raw.run('rollback to savepoint lg_unit', []);
    raw.run('release savepoint lg_unit', []);
    clearTxCaches(batchSql);
    return { ok: false, value: error };
  }
}

function runSyncBatch(context: CommitContext, batch: Unit[]): void {
  const { raw, options } = context;
  const batchSql: SyncSql = { ...raw };
  const outcomes: Outcome[] = [];
  const deferSync = options.walSyncer !== undefined;
  try {
    // Only this batch's own COMMIT skips the fsync; any other write on the connection keeps synchronous=FULL.
    if (deferSync) raw.run('pragma synchronous = NORMAL', []);
    raw.run('begin immediate', []);
    for (const unit of batch) if (unit.kind === 'sync') outcomes.push(runSyncUnit(raw, unit, batchSql));
    finishBatch(batchSql);
    raw.run('commit', []);
  } catch (commitError) {
    try {
      raw.run('rollback', []);
    } catch {
      // Already rolled back by SQLite (e.g. the commit's fsync failed): nothing is open.
    }
    for (const unit of batch) unit.reject(commitError);
    return;
  } finally {
    if (deferSync) restoreFullSync(raw);
  }
  if (!options.walSyncer) {
    settle(batch, outcomes);
    return;
  }
  // Not awaited: the next batch runs while this one's frames are flushed; callers hear only once they are durable.
  const flushed = options.walSyncer.sync().then(
    () => settle(batch, outcomes),
    (syncError: unknown) => {
      for (const unit of batch) unit.reject(syncError);
    },
  );
  context.flushes = Promise.all([context.flushes, flushed]).then(() => undefined);
}

function restoreFullSync(raw: SyncSql): void {
  try {
    raw.run('pragma synchronous = FULL', []);
  } catch {
    // The connection was closed under a queued batch (the store is shutting down): there is nothing to restore.
  }
}

async function runMixedBatch(context: CommitContext, batch: Unit[]): Promise<void> {
  const { db, raw } = context;
  const outcomes: Outcome[] = [];
  try {
    await db.transaction().execute(async (tx) => {
      const batchSql: SyncSql = { ...raw };
      for (const unit of batch) {
        if (unit.kind === 'sync') {
          outcomes.push(runSyncUnit(raw, unit, batchSql));
          finishBatch(batchSql);
          // The two kinds key their transaction caches differently; what one wrote, the other must re-read.
          clearTxCaches(tx);
          continue;
        }
        outcomes.push(await runAsyncUnit(unit, tx));
        clearTxCaches(batchSql);
        if (!outcomes[outcomes.length - 1]?.ok) clearTxCaches(tx);
      }
    });
  } catch (commitError) {
    // The commit itself failed: nothing in the batch is durable, so every unit fails.
    for (const unit of batch) unit.reject(commitError);
    return;
  }
  settle(batch, outcomes);
}

/** One async unit under its savepoint, in the batch's Kysely transaction. */
async function runAsyncUnit(unit: Unit & { kind: 'async' }, tx: DbTx): Promise<Outcome> {
  await sql`savepoint lg_unit`.execute(tx);
  try {
    const value = await insideUnit.run(true, () => unit.work(tx));
    await sql`release savepoint lg_unit`.execute(tx);
    return { ok: true, value };
  } catch (error) {
    await sql`rollback to savepoint lg_unit`.execute(tx);
    await sql`release savepoint lg_unit`.execute(tx);
    return { ok: false, value: error };
  }
}

function settle(batch: Unit[], outcomes: Outcome[]): void {
  batch.forEach((unit, i) => {
    const outcome = outcomes[i];
    if (outcome?.ok) unit.resolve(outcome.value);
    else unit.reject(outcome?.value);
  });
}

function scheduleFlush(context: CommitContext): void {
  // Let every request that arrived in this turn of the event loop join the batch.
  if (!context.flushing) {
    context.flushing = true;
    setImmediate(() => void flush(context));
  }
}

function enqueue<T>(context: CommitContext, make: (settle: Settle) => Unit, deferrable = false): Promise<T> {
  if (insideUnit.getStore()) {
    return Promise.reject(
      new Error('store.transaction called inside another transaction; pass the open tx instead'),
    );
  }
  return new Promise<T>((resolve, reject) => {
    const unit = make({ resolve: resolve as (value: unknown) => void, reject });
    if (!deferrable) {
      context.queue.push(unit);
      scheduleFlush(context);
      return;
    }
    context.deferred.push(unit);
    context.deferTimer ??= setTimeout(() => {
      context.deferTimer = undefined;
      takeDeferred(context);
      scheduleFlush(context);
    }, context.options.deferMaxMs);
  });
}
