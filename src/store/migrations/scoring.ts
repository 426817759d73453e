import { sql, type Kysely, type Migration } from 'kysely';

/** Migrations of src/scoring; names in its range keep the global order stable. */
export const scoringMigrations: Record<string, Migration> = {
  '300_models': {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('models')
        .addColumn('id', 'text', (c) => c.notNull())
        .addColumn('version', 'integer', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('json', 'text', (c) => c.notNull())
        .addColumn('registered_by', 'text', (c) => c.notNull())
        .addColumn('registered_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('models_pk', ['id', 'version'])
        .execute();
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.dropTable('models').execute();
    },
  },
  '320_model_aliases': {
    async up(db: Kysely<unknown>): Promise<void> {
      // The version of each model that `{ id }` without a version resolves to, moved only by an explicit, recorded
      // activation, so registering a new version never changes live scoring (issue 12).
      await db.schema
        .createTable('model_aliases')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('version', 'integer', (c) => c.notNull())
        .addColumn('activated_by', 'text', (c) => c.notNull())
        .addColumn('activated_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('model_activations')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('model_id', 'text', (c) => c.notNull())
        .addColumn('version', 'integer', (c) => c.notNull())
        .addColumn('previous_version', 'integer')
        .addColumn('activated_by', 'text', (c) => c.notNull())
        .addColumn('activated_at', 'bigint', (c) => c.notNull())
        .execute();
      // An existing database keeps deciding as it did: until now an unversioned reference meant the latest version.
      await sql`insert into model_aliases (id, version, activated_by, activated_at)
        select id, max(version), 'migration:320', 0 from models group by id`.execute(db);
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.dropTable('model_activations').execute();
      await db.schema.dropTable('model_aliases').execute();
    },
  },
};
