import type { Kysely, Transaction } from 'kysely';
import type { Database } from './schema.js';
import type { SyncSql } from './sync.js';
import type { UnitGuard } from '../domain/index.js';

/**
 * The store's types, apart from the code that opens it (db.ts) so that the group committer and the transaction scope (tx-scope.ts) can
 * name a transaction without importing the module that creates them (no import cycle).
 */
export type StoreKind = 'sqlite' | 'postgres';
export type Db = Kysely<Database>;
export type DbTx = Transaction<Database>;

export interface Store {
  readonly kind: StoreKind;
  readonly db: Db;
  /**
   * For plain reads outside any transaction that must not queue behind the writer's open batch (idempotency lookups,
   * immutable facts). On a SQLite file it is a second, read-only connection: WAL lets readers run beside the writer
   * and each read sees every commit that completed before it started, never uncommitted rows. Elsewhere it is `db`.
   * Never use it for a read whose result decides a write: that read belongs inside the unit of work.
   */
  readonly readDb: Db;
  /**
   * Runs `work` in one database transaction; everything it writes commits together or not at all, with the guard's
   * idempotency key when one is given (idempotency-claim.ts).
   */
  transaction<T>(work: (tx: DbTx) => Promise<T>, guard?: UnitGuard<T>): Promise<T>;
  /** Embedded SQLite only: synchronous SQL for the hottest paths (see sync.ts). */
  readonly sync?: SyncStore;
  close(): Promise<void>;
}

export interface SyncStore {
  /**
   * store.transaction for a synchronous unit: same batch, same commit, same rollback-to-savepoint on a throw. A
   * deferrable unit joins the next batch rather than starting one (bookkeeping nobody waits on; group-commit.ts).
   */
  transaction<T>(work: (sql: SyncSql) => T, options?: SyncUnitOptions<T>): Promise<T>;
  /** Synchronous reads on the reader connection (the same rules as readDb). */
  readonly read: SyncSql;
  /**
   * Resolves once everything committed before the call is on disk. A synchronous batch is visible to readers as soon
   * as it commits but durable only after its WAL flush; whatever leaves the process (the outbox relay) waits here.
   */
  durable(): Promise<void>;
}

export interface SyncUnitOptions<T = unknown> {
  /** Join the next batch instead of starting one (see group-commit.ts). */
  readonly deferrable?: boolean;
  /** Written with the unit, as for Store.transaction. */
  readonly guard?: UnitGuard<T>;
}
