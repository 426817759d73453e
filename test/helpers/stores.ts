import { sql } from 'kysely';
import type { Env } from '../../src/app/config.js';
import { createIsolatedPostgresSchema, openStore, type Store } from '../../src/store/db.js';
import type { Database } from '../../src/store/schema.js';
import { openIdempotencyRecord } from '../../src/api/idempotency.js';
import { openDecision } from '../../src/compliance/sealed-decisions.js';
import { fieldCryptoFromMasterKey, type FieldCrypto } from '../../src/compliance/crypto.js';

/**
 * The field crypto of suites that wire modules themselves (the app makes its own from Config.masterKey): what seals
 * borrowers, decision contexts and traces in their stores.
 */
export const TEST_MASTER_KEY = Buffer.alloc(32, 9);
export const TEST_FIELD_CRYPTO: FieldCrypto = fieldCryptoFromMasterKey(TEST_MASTER_KEY);

/** The PostgreSQL URL for service tests; suites skip (with a message) when it is absent. */
export const TEST_DATABASE_URL = process.env.LINEGUARD_TEST_DATABASE_URL;

if (!TEST_DATABASE_URL) {
  console.warn('LINEGUARD_TEST_DATABASE_URL is not set: PostgreSQL suites are skipped (CI sets it).');
}

export interface StoreFactory {
  readonly name: 'sqlite' | 'postgres';
  readonly enabled: boolean;
  open(label: string): Promise<Store>;
}

/** The stores every conformance suite runs against. */
export const STORE_FACTORIES: readonly StoreFactory[] = [
  { name: 'sqlite', enabled: true, open: async () => openStore({ sqlitePath: ':memory:' }) },
  {
    name: 'postgres',
    enabled: Boolean(TEST_DATABASE_URL),
    open: async (label) =>
      openStore({ postgresUrl: await createIsolatedPostgresSchema(TEST_DATABASE_URL ?? '', label) }),
  },
];

export interface AppStore {
  readonly name: 'sqlite' | 'postgres';
  readonly enabled: boolean;
  /** The environment a test app starts with to run on this store (a fresh isolated schema on PostgreSQL). */
  env(): Promise<Env>;
}

/** The stores app-level suites run on: embedded SQLite always, PostgreSQL (an isolated schema) when CI gives a URL. */
export function appStores(label: string): readonly AppStore[] {
  return [
    { name: 'sqlite', enabled: true, env: async () => ({}) },
    {
      name: 'postgres',
      enabled: Boolean(TEST_DATABASE_URL),
      env: async () => ({
        LINEGUARD_DATABASE_URL: await createIsolatedPostgresSchema(TEST_DATABASE_URL ?? '', label),
      }),
    },
  ];
}

/**
 * After this, a key row can be inserted (with the write it guards) but never updated: no response can be stored after
 * the write's commit. Shows which responses commit with their keys (issue 13).
 */
export async function refuseKeyRowUpdates(store: Store): Promise<void> {
  if (store.kind === 'postgres') {
    await sql`create function refuse_key_update() returns trigger language plpgsql as $$
      begin raise exception 'key rows cannot be updated in this test'; end $$`.execute(store.db);
    await sql`create trigger refuse_key_update before update on idempotency_keys
      for each row execute function refuse_key_update()`.execute(store.db);
    return;
  }
  await sql`create trigger refuse_key_update before update on idempotency_keys
    begin select raise(abort, 'key rows cannot be updated in this test'); end`.execute(store.db);
}

/**
 * A key's stored state and response, as a retry would find it: with `crypto`, a response a route with personal data
 * keeps sealed is opened (src/api/idempotency.ts); without it, as the row holds it.
 */
export async function keyRow(store: Store, key: string, crypto?: FieldCrypto) {
  const row = await store.db
    .selectFrom('idempotency_keys')
    .selectAll()
    .where('idem_key', '=', key)
    .executeTakeFirstOrThrow();
  const response_body = crypto ? openIdempotencyRecord(crypto, row).body : row.response_body;
  return { state: row.state, status_code: row.status_code, response_body };
}

/** How many rows a table holds. */
export async function rowCount(store: Store, table: keyof Database): Promise<number> {
  const row = await store.db
    .selectFrom(table)
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** A decision row's context as decided: opened with `crypto` (contexts are sealed at rest). */
export function decisionContextOf(
  crypto: FieldCrypto,
  row: { readonly id: string; readonly context: string; readonly trace: string },
): Record<string, unknown> {
  return JSON.parse(openDecision(crypto, row).context) as Record<string, unknown>;
}
