import type { Kysely, Migration } from 'kysely';

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
};
