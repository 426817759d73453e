import BetterSqlite3 from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import pg from 'pg';
import { Kysely, Migrator, SqliteDialect, sql, type Insertable } from 'kysely';
import type { Database } from './schema.js';
import { migrationProvider } from './migrations/index.js';
import { createGroupCommitter } from './group-commit.js';
import type { Db, Store } from './store-types.js';
import { guardedWork } from './idempotency-claim.js';
import { cachedPrepare, createSyncSql, type SyncSql } from './sync.js';
import { createWalSyncer } from './wal-sync.js';
import { wrapConnections } from './prepared.js';
import { OwnSchemaPostgresDialect } from './pg-introspector.js';
import { startCheckpointer } from './checkpointer.js';
// Installs the ledger's SQL into src/compliance (appendToLedger, verifyLedger) in every process that opens a store.
import './ledger-chain.js';

export type { Db, DbTx, Store, StoreKind, SyncStore } from './store-types.js';
/** A decision as the engine stores it; here (not in engine.ts) because the core's synchronous draw writer names it. */
export type DecisionRow = Insertable<Database['decisions']>;

export interface StoreOptions {
  /** postgres://… selects PostgreSQL. */
  readonly postgresUrl?: string;
  /** SQLite file path (":memory:" for tests). */
  readonly sqlitePath?: string;
  /** Run migrations on open (default true). */
  readonly migrate?: boolean;
  readonly poolSizeMax?: number;
  /** PostgreSQL: told about every connection the pool lost (default: a process warning). */
  readonly onFault?: StoreFaultListener;
  /** PostgreSQL: name the statements so each connection parses them once (prepared.ts; default true). */
  readonly preparedStatements?: boolean;
  /**
   * PostgreSQL: a statement not answered within this many ms fails (503) and its connection is closed (0 or unset:
   * no limit). The bound on a silent network drop: without it a request waits until TCP gives up on the connection.
   */
  readonly queryTimeoutMs?: number;
}

// pg returns int8 as strings; our bigints are epoch ms and minor units, far inside 2^53.
pg.types.setTypeParser(20, (text: string) => {
  const value = Number(text);
  if (!Number.isSafeInteger(value)) throw new Error(`int8 value ${text} exceeds the safe integer range`);
  return value;
});
pg.types.setTypeParser(1700, (text: string) => Number(text));

export async function openStore(options: StoreOptions): Promise<Store> {
  const { postgresUrl } = options;
  if (postgresUrl) {
    const open = (queryTimeoutMs: number) =>
      openPostgres(postgresUrl, {
        poolSizeMax: options.poolSizeMax ?? 10,
        ...(options.onFault ? { onFault: options.onFault } : {}),
        prepared: options.preparedStatements ?? true,
        queryTimeoutMs,
      });
    const queryTimeoutMs = options.queryTimeoutMs ?? 0;
    if (options.migrate === false) return open(queryTimeoutMs);
    // Migrations run without the statement bound: a schema change on a big table may take minutes, and it is not a
    // request a client waits on. The store the process then serves from has the bound.
    const migrating = open(0);
    try {
      await migratePostgres(migrating.db, postgresUrl);
    } finally {
      await migrating.close();
    }
    return open(queryTimeoutMs);
  }
  const store = openSqlite(options.sqlitePath ?? ':memory:');
  if (options.migrate === false) return store;
  try {
    await migrateToLatest(store.db);
  } catch (error) {
    await store.close();
    throw error;
  }
  return store;
}

/** Longest a deferrable unit (a stored idempotent response, an outbox mark) waits to join a batch of other writes. */
const DEFER_MAX_MS = 20;
/** How often the checkpointer thread copies the WAL into the database file. */
const CHECKPOINT_INTERVAL_MS = 100;
/** The writer's own auto-checkpoint (pages of 4 KiB): a safety net far above what the checkpointer lets build up. */
const WRITER_CHECKPOINT_PAGES = 16_000;

function openSqlite(path: string): Store {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const connection = new BetterSqlite3(path);
  // WAL with synchronous=FULL: every commit is fsynced before it returns (durability over speed; see DESIGN). Batches
  // of synchronous units commit with NORMAL and fsync the WAL off the event loop before answering (group-commit.ts).
  connection.pragma('journal_mode = WAL');
  connection.pragma('synchronous = FULL');
  connection.pragma('foreign_keys = ON');
  connection.pragma('busy_timeout = 5000');
  // Each unit of a group commit runs under a SAVEPOINT, whose undo pages go to a sub-journal; keep it in memory
  // rather than in a temp file (durability is unchanged: only the WAL and its fsync make a commit durable).
  connection.pragma('temp_store = MEMORY');
  // Checkpoints run on their own thread (checkpointer.ts); the writer checkpoints itself only if that falls behind.
  const checkpointer =
    path === ':memory:'
      ? undefined
      : startCheckpointer(path, {
          intervalMs: CHECKPOINT_INTERVAL_MS,
          // Not fatal (the writer's own auto-checkpoint is the safety net), but never silent.
          onError: (message) => process.emitWarning(`WAL checkpoint failed: ${message}`, 'LineGuardWarning'),
        });
  if (checkpointer) connection.pragma(`wal_autocheckpoint = ${WRITER_CHECKPOINT_PAGES}`);
  const db = new Kysely<Database>({
    dialect: new SqliteDialect({ database: cachingStatements(connection) }),
  });
  const writerSql = createSyncSql(connection);
  // An in-memory database is private to its connection, so a second connection would see another database.
  const reader = path === ':memory:' ? undefined : lazySqliteReader(path);
  const readDb = reader ? reader.db : db;
  // One writer: concurrent units share a transaction (and its fsync); see group-commit.ts.
  const walSyncer = path === ':memory:' ? undefined : createWalSyncer(`${path}-wal`);
  const committer = createGroupCommitter(db, {
    batchSizeMax: 256,
    deferMaxMs: DEFER_MAX_MS,
    syncSql: writerSql,
    ...(walSyncer ? { walSyncer } : {}),
  });
  return {
    kind: 'sqlite',
    db,
    readDb,
    transaction: committer.transaction,
    sync: {
      transaction: committer.transactionSync,
      read: reader ? reader.sql : writerSql,
      durable: () => (walSyncer ? walSyncer.sync() : Promise.resolve()),
    },
    close: async () => {
      await committer.drain();
      await checkpointer?.close();
      if (reader) await reader.close();
      await db.destroy();
    },
  };
}

/**
 * The read-only connection beside the writer, for Kysely and for synchronous reads. It is opened lazily (on its first
 * query), after the writer has set WAL mode and run the migrations, so the file it opens is already a WAL database
 * with every table.
 */
function lazySqliteReader(path: string): { db: Db; sql: SyncSql; close(): Promise<void> } {
  let opened: { connection: BetterSqlite3.Database; sql: SyncSql } | undefined;
  const open = () => {
    if (!opened) {
      // query_only rather than a read-only open: the connection may still create the WAL index (-shm) if needed.
      const connection = new BetterSqlite3(path, { fileMustExist: true });
      connection.pragma('query_only = ON');
      connection.pragma('busy_timeout = 5000');
      opened = { connection, sql: createSyncSql(connection) };
    }
    return opened;
  };
  const db = new Kysely<Database>({
    dialect: new SqliteDialect({ database: () => Promise.resolve(cachingStatements(open().connection)) }),
  });
  const sql: SyncSql = {
    get: (text, params) => open().sql.get(text, params),
    all: (text, params) => open().sql.all(text, params),
    run: (text, params) => open().sql.run(text, params),
    insert: (table, rows) => open().sql.insert(table, rows),
  };
  const close = async () => {
    await db.destroy();
    if (opened?.connection.open) opened.connection.close();
  };
  return { db, sql, close };
}

/** Kysely prepares a statement for every query; let it reuse them (see cachedPrepare). */
function cachingStatements(connection: BetterSqlite3.Database, cachedMax = 512): BetterSqlite3.Database {
  const prepare = cachedPrepare(connection, cachedMax);
  return new Proxy(connection, {
    get(target, property, receiver) {
      if (property === 'prepare') return prepare;
      const value: unknown = Reflect.get(target, property, receiver);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/** How long a request waits for a pooled connection before the store counts as unavailable (503, not a hang). */
const PG_CONNECT_TIMEOUT_MS = 5_000;
/** Idle pooled connections are closed after this, so a proxy's idle timeout rarely finds one first. */
const PG_IDLE_TIMEOUT_MS = 30_000;

/** What the store reports about connections it lost (the process keeps running; see faults.ts). */
export type StoreFaultListener = (error: Error, where: 'idle' | 'checked-out') => void;

function openPostgres(
  url: string,
  options: { poolSizeMax: number; onFault?: StoreFaultListener; prepared: boolean; queryTimeoutMs: number },
): Store {
  const { poolSizeMax, onFault, prepared, queryTimeoutMs } = options;
  const pool = new pg.Pool({
    connectionString: url,
    max: poolSizeMax,
    connectionTimeoutMillis: PG_CONNECT_TIMEOUT_MS,
    idleTimeoutMillis: PG_IDLE_TIMEOUT_MS,
    keepAlive: true,
    // A partition or a failed-over address leaves connections open and silent: a statement unanswered this long
    // fails, and (pipeline mode) node-postgres closes its connection, which the pool then replaces. The server side
    // gets the same bound: a session left idle in its transaction (its process silent, its close never arriving)
    // is ended by PostgreSQL and its row locks freed for every other process, and a statement running past the time
    // anyone waits for it is cancelled.
    ...(queryTimeoutMs > 0
      ? {
          query_timeout: queryTimeoutMs,
          statement_timeout: queryTimeoutMs,
          idle_in_transaction_session_timeout: queryTimeoutMs,
        }
      : {}),
    // Queries are written without waiting for the previous one's answer: a transaction's begin rides with its first
    // statement (prepared.ts). Kysely still awaits each statement before the next.
    pipeline: true,
  });
  attachFaultHandlers(pool, onFault);
  wrapConnections(pool, { named: prepared });
  const db = new Kysely<Database>({ dialect: new OwnSchemaPostgresDialect({ pool }) });
  return {
    kind: 'postgres',
    db,
    // The pool already runs reads beside transactions.
    readDb: db,
    // PostgreSQL groups concurrent commits itself; row locks and conditional updates keep them correct.
    transaction: (work, guard) => db.transaction().execute(guardedWork(work, guard)),
    close: () => db.destroy(),
  };
}

/**
 * node-postgres emits 'error' on an idle pooled client whose connection drops (pool 'error') and on a checked-out
 * client between queries (client 'error'); an EventEmitter 'error' without a listener stops the process, so a
 * database restart, a failover or a proxy's idle timeout would take down every instance at once. The pool already
 * discards a client that is no longer queryable, and the query in flight rejects on its own (a 503, faults.ts);
 * here the event is only reported, and the next checkout opens a fresh connection: recovery needs nothing else.
 */
function attachFaultHandlers(pool: pg.Pool, onFault: StoreFaultListener | undefined): void {
  const report =
    onFault ??
    ((error: Error) =>
      process.emitWarning(`PostgreSQL connection lost: ${error.message}`, 'LineGuardWarning'));
  pool.on('error', (error) => report(error, 'idle'));
  pool.on('connect', (client) => {
    client.on('error', (error) => report(error, 'checked-out'));
  });
}

/**
 * A PostgreSQL session-level advisory lock held on its own connection until released (or until that connection
 * drops, when the server releases it): start-up chores that several processes may run at once on an empty
 * database (migrations, first-start seeding) run under it, one process after another.
 * The key is derived from `name` and the URL's schema, so isolated schemas (tests) never wait for each other.
 */
export async function acquireAdvisoryLock(url: string, name: string): Promise<{ release(): Promise<void> }> {
  // The wait for the lock may be long (another process migrating); the connection's handshake may not: a database
  // that accepts and then says nothing fails start-up here instead of holding it until TCP gives up.
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: PG_CONNECT_TIMEOUT_MS });
  // A dropped lock connection must not stop the process; the lock is then gone with it.
  client.on('error', (error) =>
    process.emitWarning(`advisory lock connection lost: ${error.message}`, 'LineGuardWarning'),
  );
  await client.connect();
  try {
    const key = `${name}:${searchPathSchema(url) ?? 'public'}`;
    await client.query('select pg_advisory_lock(hashtextextended($1, 0))', [key]);
  } catch (error) {
    await client.end().catch(() => undefined);
    throw error;
  }
  let released = false;
  return {
    async release() {
      if (released) return;
      released = true;
      // Closing the session releases its advisory locks; an explicit unlock first keeps pgbouncer-free setups tidy.
      await client.query('select pg_advisory_unlock_all()').catch(() => undefined);
      await client.end().catch(() => undefined);
    },
  };
}

/** The schema named by `options=-c search_path=…` in a PostgreSQL URL, if any. */
export function searchPathSchema(url: string): string | undefined {
  const options = new URL(url).searchParams.get('options') ?? '';
  return /search_path=([A-Za-z0-9_]+)/.exec(options)?.[1];
}

/**
 * Migrations under an advisory lock: processes starting together on an empty database would otherwise race to
 * create the same tables (and Kysely's own migration table) and all but one would fail.
 */
async function migratePostgres(db: Db, url: string): Promise<void> {
  const lock = await acquireAdvisoryLock(url, 'lineguard:migrate');
  try {
    await migrateToLatest(db, searchPathSchema(url));
  } finally {
    await lock.release();
  }
}

export async function migrateToLatest(db: Db, schema?: string): Promise<void> {
  // Kysely looks for its migration tables in every schema; pin them to ours so isolated schemas migrate on their own.
  const migrator = new Migrator({
    db,
    provider: migrationProvider,
    // Each module owns a range of names (core 1xx, engine 2xx, …), so a module's new migration sorts before others
    // that an existing database already ran; run it anyway rather than refuse to open the database.
    allowUnorderedMigrations: true,
    ...(schema ? { migrationTableSchema: schema } : {}),
  });
  const { error, results } = await migrator.migrateToLatest();
  const failed = results?.find((r) => r.status === 'Error');
  if (error || failed) {
    const name = failed?.migrationName ?? 'unknown';
    throw new Error(`migration ${name} failed: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/**
 * Isolated schemas are named `lg_<name>_<host>_<pid>_<n>`: the machine (a hash of its host name) and the process
 * that made them, so a sweep can tell which ones belong to processes that are gone.
 */
const ISOLATED_SCHEMA = /^lg_[a-z0-9_]+_([0-9a-f]{6})_(\d+)_\d+$/;
const THIS_HOST = createHash('sha256').update(hostname()).digest('hex').slice(0, 6);

/**
 * A fresh, empty PostgreSQL schema for one test suite, so suites running in parallel never see each other's rows.
 * Returns a URL whose connections use that schema.
 */
export async function createIsolatedPostgresSchema(baseUrl: string, name: string): Promise<string> {
  // The name part is cut so the whole stays within PostgreSQL's 63 characters (it would cut the end silently).
  const label = name
    .replace(/[^a-z0-9_]/gi, '_')
    .toLowerCase()
    .slice(0, 32);
  const schema = `lg_${label}_${THIS_HOST}_${process.pid}_${Date.now() % 1_000_000}`;
  await withAdminClient(baseUrl, async (admin) => {
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await admin.query(`CREATE SCHEMA ${schema}`);
  });
  const url = new URL(baseUrl);
  url.searchParams.set('options', `-c search_path=${schema}`);
  return url.toString();
}

/** Drops the schema an isolated-schema URL (from createIsolatedPostgresSchema) points at, once its user is done. */
export async function dropIsolatedPostgresSchema(schemaUrl: string): Promise<void> {
  const schema = searchPathSchema(schemaUrl);
  if (!schema || !ISOLATED_SCHEMA.test(schema)) throw new Error('not an isolated schema URL');
  await withAdminClient(schemaUrl, (admin) => admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`));
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Drops the isolated schemas made on this machine by processes that are no longer running (test workers that have
 * exited, benchmarks that ended), and nothing else: not another machine's, not a live process's, not a schema named
 * any other way. Without it every test run left its schemas behind, and the catalog grew until the suite slowed to
 * several times its speed. Returns the names dropped.
 */
export async function dropOrphanedIsolatedSchemas(baseUrl: string): Promise<string[]> {
  return withAdminClient(baseUrl, async (admin) => {
    const { rows } = await admin.query<{ nspname: string }>(
      "select nspname from pg_namespace where nspname like 'lg\\_%'",
    );
    const orphaned = rows
      .map((r) => r.nspname)
      .filter((schema) => {
        const match = ISOLATED_SCHEMA.exec(schema);
        return match !== null && match[1] === THIS_HOST && !isRunning(Number(match[2]));
      });
    for (const schema of orphaned) await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    return orphaned;
  });
}

/** One short-lived connection for schema administration (tests and benchmarks), closed whatever happens. */
async function withAdminClient<T>(url: string, work: (admin: pg.Client) => Promise<T>): Promise<T> {
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  try {
    return await work(admin);
  } finally {
    await admin.end();
  }
}

export { sql };
