/**
 * The API's tables over the database: staff keys, users, borrower tokens and idempotency records. The API decides
 * (roles, checks, ledger payloads); these functions only read and write rows, each in the caller's db or dbTx.
 */
import { sql, type Insertable, type Selectable } from 'kysely';
import type { Db, DbTx, Store } from './db.js';
import { runShaped } from './shaped.js';
import type { Database } from './schema.js';

type DbLike = Db | DbTx;

export type ApiKeyRow = Insertable<Database['api_keys']>;
export type UserRow = Selectable<Database['users']>;
export type BorrowerTokenRow = Selectable<Database['borrower_tokens']>;
export type IdempotencyRow = Selectable<Database['idempotency_keys']>;

/** The store answers a trivial query (the health probe). */
export async function pingStore(store: Store): Promise<void> {
  await sql`select 1`.execute(store.db);
}

// ---- staff keys and users

export async function insertApiKey(db: DbLike, row: ApiKeyRow): Promise<void> {
  await db.insertInto('api_keys').values(row).execute();
}

/** Inserts the key unless one with the same hash exists (seeding from configuration is idempotent). */
export async function insertApiKeyIfAbsent(db: DbLike, row: ApiKeyRow): Promise<void> {
  await db
    .insertInto('api_keys')
    .values(row)
    .onConflict((oc) => oc.column('key_hash').doNothing())
    .execute();
}

/**
 * Records `issuer` as the issuer of the unowned key with this hash when it names none (a key seeded before issuers
 * were recorded): the configured key is the installation's own, whenever it was stored.
 */
export async function markUnownedKeyIssuer(db: DbLike, keyHash: string, issuer: string): Promise<void> {
  await db
    .updateTable('api_keys')
    .set({ issued_by: issuer })
    .where('key_hash', '=', keyHash)
    .where('user_id', 'is', null)
    .where('issued_by', 'is', null)
    .execute();
}

export async function anyApiKeyExists(db: DbLike): Promise<boolean> {
  return (await db.selectFrom('api_keys').select('id').limit(1).executeTakeFirst()) !== undefined;
}

/** Sets revoked_at on a key not yet revoked; 'absent' or 'already-revoked' when nothing changed. */
export async function revokeApiKeyRow(
  tx: DbTx,
  keyId: string,
  at: number,
): Promise<'revoked' | 'absent' | 'already-revoked'> {
  const updated = await tx
    .updateTable('api_keys')
    .set({ revoked_at: at })
    .where('id', '=', keyId)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  if (Number(updated.numUpdatedRows) === 1) return 'revoked';
  const exists = await tx.selectFrom('api_keys').select('id').where('id', '=', keyId).executeTakeFirst();
  return exists ? 'already-revoked' : 'absent';
}

/** A key's owner and whether it is revoked, by its id (never its hash or secret). */
export async function findApiKeyById(
  db: DbLike,
  keyId: string,
): Promise<{ id: string; user_id: string | null; revoked_at: number | null } | undefined> {
  return db
    .selectFrom('api_keys')
    .select(['id', 'user_id', 'revoked_at'])
    .where('id', '=', keyId)
    .executeTakeFirst();
}

export async function insertUser(tx: DbLike, row: Insertable<Database['users']>): Promise<void> {
  await tx.insertInto('users').values(row).execute();
}

export async function findUser(db: DbLike, id: string): Promise<UserRow | undefined> {
  return db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function listUserRows(db: DbLike, limit: number): Promise<UserRow[]> {
  return db.selectFrom('users').selectAll().orderBy('id').limit(limit).execute();
}

/** The key with this hash, with its owner's disabled mark (null: no owner, or an enabled one). */
export async function findStaffKey(db: DbLike, keyHash: string) {
  return db
    .selectFrom('api_keys')
    .leftJoin('users', 'users.id', 'api_keys.user_id')
    .select([
      'api_keys.id as id',
      'api_keys.role as role',
      'api_keys.key_hash as key_hash',
      'api_keys.revoked_at as revoked_at',
      'api_keys.user_id as user_id',
      'users.disabled_at as disabled_at',
    ])
    .where('api_keys.key_hash', '=', keyHash)
    .executeTakeFirst();
}

// ---- borrower tokens

export async function borrowerExists(db: DbLike, borrowerId: string): Promise<boolean> {
  const row = await db.selectFrom('borrowers').select('id').where('id', '=', borrowerId).executeTakeFirst();
  return row !== undefined;
}

export async function insertBorrowerToken(
  db: DbLike,
  row: Insertable<Database['borrower_tokens']>,
): Promise<void> {
  await db.insertInto('borrower_tokens').values(row).execute();
}

export async function findBorrowerToken(
  db: DbLike,
  tokenHash: string,
): Promise<BorrowerTokenRow | undefined> {
  return db.selectFrom('borrower_tokens').selectAll().where('token_hash', '=', tokenHash).executeTakeFirst();
}

// ---- idempotency records

/** Rows per multi-row upsert: far below SQLite's and PostgreSQL's bound-parameter limits (7 parameters a row). */
const RESPONSES_PER_STATEMENT = 100;

const LOAD_SQL = 'select * from "idempotency_keys" where "scope" = ? and "idem_key" = ?';
const INSERT_RESPONSE_SQL =
  'insert into "idempotency_keys" ("scope", "idem_key", "request_hash", "state", "status_code", "response_body", "created_at") values (?, ?, ?, ?, ?, ?, ?) on conflict ("scope", "idem_key")';
const STORE_RESPONSE_SQL = {
  over: `${INSERT_RESPONSE_SQL} do update set "state" = excluded."state", "status_code" = excluded."status_code", "response_body" = excluded."response_body"`,
  beside: `${INSERT_RESPONSE_SQL} do nothing`,
} as const;

/**
 * The committed record of a key, read without waiting for the writer's open batch (synchronously on SQLite's reader,
 * else on readDb): only committed rows are seen.
 */
export async function loadIdempotencyRow(
  store: Store,
  scope: string,
  key: string,
): Promise<IdempotencyRow | undefined> {
  if (store.sync) return store.sync.read.get<IdempotencyRow>(LOAD_SQL, [scope, key]);
  // Every idempotent write reads it first: reuse the compiled SQL (shaped.ts).
  const result = await runShaped(
    store.readDb,
    'idempotency row',
    () =>
      store.readDb
        .selectFrom('idempotency_keys')
        .selectAll()
        .where('scope', '=', scope)
        .where('idem_key', '=', key),
    [scope, key],
  );
  return result.rows[0];
}

/**
 * Where a finished response goes: `over` the key row its own request committed (the claim row, or the answer its
 * unit stored when the reply differs), or `beside` any row, for a request that committed nothing (a refusal before its
 * unit): such a response must never replace the key of another request that took it meanwhile (another process, the
 * same key), whose client is owed that request's answer.
 */
export type ResponsePlacement = keyof typeof STORE_RESPONSE_SQL;

/** Stores finished responses: one synchronous unit on SQLite, multi-row statements elsewhere. */
export async function storeIdempotentResponses(
  store: Store,
  rows: readonly IdempotencyRow[],
  placement: ResponsePlacement,
): Promise<void> {
  if (rows.length === 0) return;
  if (store.sync) {
    // Not deferrable: the replies wait for it. It joins the batch the writer is about to commit (group-commit.ts).
    await store.sync.transaction((syncSql) => {
      for (const row of rows) syncSql.run(STORE_RESPONSE_SQL[placement], Object.values(row));
    });
    return;
  }
  // Every idempotent write stores its response: reuse the compiled SQL per row count (shaped.ts).
  const upsert = (db: Db, chunk: readonly IdempotencyRow[]) =>
    runShaped(
      db,
      `idempotent responses ${placement} x${chunk.length}`,
      () => {
        const insert = db.insertInto('idempotency_keys').values(chunk);
        return placement === 'beside'
          ? insert.onConflict((oc) => oc.columns(['scope', 'idem_key']).doNothing())
          : insert.onConflict((oc) =>
              oc.columns(['scope', 'idem_key']).doUpdateSet((eb) => ({
                state: 'done',
                status_code: eb.ref('excluded.status_code'),
                response_body: eb.ref('excluded.response_body'),
              })),
            );
      },
      // Kysely binds each row's values in its key order, then (over) the update's 'done'.
      [...chunk.flatMap((row) => Object.values(row)), ...(placement === 'over' ? ['done'] : [])],
    );
  // On PostgreSQL one statement is atomic by itself: no BEGIN and COMMIT round trips for the usual case. (SQLite's
  // writes go through its group committer, whose batch may be open on the one connection.)
  if (store.kind === 'postgres' && rows.length <= RESPONSES_PER_STATEMENT) {
    await upsert(store.db, rows);
    return;
  }
  await store.transaction(async (tx) => {
    for (let i = 0; i < rows.length; i += RESPONSES_PER_STATEMENT)
      await upsert(tx, rows.slice(i, i + RESPONSES_PER_STATEMENT));
  });
}

/** Where a page of key rows starts: after this one, in primary-key order. */
export interface KeyRowCursor {
  readonly scope: string;
  readonly key: string;
}

/**
 * Key rows whose request hash starts with `hashPrefix` (the sealed rows of routes with personal data), after `after` in
 * primary-key order: what a key rotation re-seals, a page at a time.
 */
export function idempotencyRowsWithHashPrefix(
  store: Store,
  hashPrefix: string,
  page: { readonly after: KeyRowCursor | undefined; readonly limit: number },
): Promise<IdempotencyRow[]> {
  const { after, limit } = page;
  let query = store.db
    .selectFrom('idempotency_keys')
    .selectAll()
    .where('request_hash', 'like', `${hashPrefix}%`);
  if (after)
    query = query.where((eb) =>
      eb.or([
        eb('scope', '>', after.scope),
        eb.and([eb('scope', '=', after.scope), eb('idem_key', '>', after.key)]),
      ]),
    );
  return query.orderBy('scope').orderBy('idem_key').limit(limit).execute();
}

/** A key row's hash and body, as read and as they are to be written. */
export interface KeyRowReseal extends KeyRowCursor {
  readonly read: { readonly request_hash: string; readonly response_body: string | null };
  readonly sealed: { readonly request_hash: string; readonly response_body: string | null };
}

/**
 * Writes re-sealed key rows in one transaction, each only if it still holds what was read (compare-and-set: a response
 * stored over its key meanwhile is never overwritten with the older, empty body; the next run re-seals it). Answers how
 * many were written.
 */
export function resealIdempotencyRows(store: Store, reseals: readonly KeyRowReseal[]): Promise<number> {
  if (reseals.length === 0) return Promise.resolve(0);
  return store.transaction(async (tx) => {
    let written = 0;
    for (const reseal of reseals) {
      const { read } = reseal;
      const row = tx
        .updateTable('idempotency_keys')
        .set(reseal.sealed)
        .where('scope', '=', reseal.scope)
        .where('idem_key', '=', reseal.key)
        .where('request_hash', '=', read.request_hash);
      const updated = await (
        read.response_body === null
          ? row.where('response_body', 'is', null)
          : row.where('response_body', '=', read.response_body)
      ).executeTakeFirst();
      written += Number(updated.numUpdatedRows);
    }
    return written;
  });
}
