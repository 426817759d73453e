import type { Kysely, Migration } from 'kysely';

/** src/compliance's tables: names 6xx. */
export const complianceMigrations: Record<string, Migration> = {
  '601_ledger_checkpoints': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('ledger_checkpoints')
        .addColumn('tree_size', 'bigint', (c) => c.primaryKey())
        .addColumn('root_hash', 'text', (c) => c.notNull())
        .addColumn('issued_at', 'bigint', (c) => c.notNull())
        .addColumn('origin', 'text', (c) => c.notNull())
        .addColumn('key_id', 'text', (c) => c.notNull())
        .addColumn('signature', 'text', (c) => c.notNull())
        .execute();
    },
  },
};
