import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import {
  createIsolatedPostgresSchema,
  dropIsolatedPostgresSchema,
  migrateToLatest,
  openStore,
  searchPathSchema,
  type Store,
} from '../../src/store/db.js';
import { TEST_DATABASE_URL } from '../helpers/stores.js';

/**
 * A store's migrations look only at its own schema. Kysely's stock PostgreSQL introspector lists the columns of every
 * schema on the database and resolves each schema and table by name while it does; a schema another session drops
 * meanwhile (another deployment, a test suite that just finished) failed that listing with `schema "…" does not exist`
 * or `column "…" of relation "…" does not exist`, and a process failed to start: CI's two-processes start-up suite
 * did so once, on a schema the demo-book suite had just dropped. The listing also grew with every schema on the
 * database, and ran three times per start.
 */
describe.skipIf(!TEST_DATABASE_URL)('migrations on a PostgreSQL database other sessions change', () => {
  const base = TEST_DATABASE_URL ?? '';
  let url: string;
  let store: Store;
  let admin: pg.Client;

  beforeAll(async () => {
    url = await createIsolatedPostgresSchema(base, 'introspect_own');
    store = await openStore({ postgresUrl: url });
    admin = new pg.Client({ connectionString: base });
    await admin.connect();
  });
  afterAll(async () => {
    await store.close();
    await dropIsolatedPostgresSchema(url);
    await admin.end();
  });

  it("lists only the tables of its own schema, with Kysely's migration tables", async () => {
    const other = await createIsolatedPostgresSchema(base, 'introspect_other');
    const otherSchema = searchPathSchema(other) ?? '';
    await admin.query(`create table ${otherSchema}.kysely_migration (name text primary key)`);
    try {
      const tables = await store.db.introspection.getTables({ withInternalKyselyTables: true });
      expect(new Set(tables.map((t) => t.schema))).toEqual(new Set([searchPathSchema(url)]));
      const names = tables.map((t) => t.name);
      expect(names).toEqual(
        expect.arrayContaining(['kysely_migration', 'kysely_migration_lock', 'credit_lines']),
      );
      const lines = tables.find((t) => t.name === 'credit_lines');
      expect(lines?.columns.find((c) => c.name === 'id')).toMatchObject({ isNullable: false });
    } finally {
      await dropIsolatedPostgresSchema(other);
    }
  });

  it('migrates while other sessions create and drop schemas', { timeout: 30_000 }, async () => {
    const churnSchemas = Array.from({ length: 8 }, (_, i) => i).map(
      (i) => `lg_introspect_churn_${process.pid}_${i}`,
    );
    let stop = false;
    const churn = (async () => {
      for (let i = 0; !stop; i++) {
        const schema = churnSchemas[i % churnSchemas.length] ?? '';
        await admin.query(
          `drop schema if exists ${schema} cascade; create schema ${schema};` +
            Array.from({ length: 20 }, (_, t) => t)
              .map((t) => `create table ${schema}.t${t} (id serial primary key, a text, b int, c jsonb);`)
              .join(''),
        );
      }
    })();
    const failures: string[] = [];
    try {
      const until = Date.now() + 4_000;
      // The listing the migrator makes three times per start, many times over, and the migration itself.
      while (Date.now() < until) {
        await store.db.introspection
          .getTables({ withInternalKyselyTables: true })
          .catch((error: Error) => failures.push(error.message));
      }
      await migrateToLatest(store.db, searchPathSchema(url));
    } finally {
      stop = true;
      await churn;
      for (const schema of churnSchemas) await admin.query(`drop schema if exists ${schema} cascade`);
    }
    expect(failures).toEqual([]);
  });
});
