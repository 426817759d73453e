import { createIsolatedPostgresSchema, openStore, type Store } from '../../src/store/db.js';

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
