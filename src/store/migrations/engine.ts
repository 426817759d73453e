import { sql, type Kysely, type Migration } from 'kysely';

/** Migrations of src/engine; names in its range keep the global order stable. */
export const engineMigrations: Record<string, Migration> = {
  '201_engine_strategies': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('strategies')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('active_version', 'integer')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('strategy_versions')
        .addColumn('strategy_id', 'text', (c) => c.notNull().references('strategies.id'))
        .addColumn('version', 'integer', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('document', 'text', (c) => c.notNull())
        .addColumn('created_by', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('activated_by', 'text')
        .addColumn('activated_at', 'bigint')
        .addPrimaryKeyConstraint('strategy_versions_pk', ['strategy_id', 'version'])
        .execute();
      await db.schema
        .createTable('strategy_activations')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('strategy_id', 'text', (c) => c.notNull())
        .addColumn('version', 'integer', (c) => c.notNull())
        .addColumn('previous_version', 'integer')
        .addColumn('activated_by', 'text', (c) => c.notNull())
        .addColumn('activated_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('strategy_activations_strategy')
        .on('strategy_activations')
        .columns(['strategy_id', 'activated_at'])
        .execute();
    },
  },
  '202_engine_decisions': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('decisions')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('borrower_id', 'text')
        .addColumn('line_id', 'text')
        .addColumn('subject_key', 'text')
        .addColumn('strategy_id', 'text', (c) => c.notNull())
        .addColumn('strategy_version', 'integer', (c) => c.notNull())
        .addColumn('engine_version', 'text', (c) => c.notNull())
        .addColumn('context', 'text', (c) => c.notNull())
        .addColumn('outcome', 'text', (c) => c.notNull())
        .addColumn('reasons', 'text', (c) => c.notNull())
        .addColumn('result', 'text', (c) => c.notNull())
        .addColumn('trace', 'text', (c) => c.notNull())
        .addColumn('engine_error', 'integer', (c) => c.notNull())
        .addColumn('latency_ms', 'double precision', (c) => c.notNull())
        .addColumn('decided_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('decisions_strategy_time')
        .on('decisions')
        .columns(['strategy_id', 'decided_at'])
        .execute();
      await db.schema
        .createIndex('decisions_borrower')
        .on('decisions')
        .columns(['borrower_id', 'decided_at'])
        .execute();
      await db.schema
        .createIndex('decisions_line')
        .on('decisions')
        .columns(['line_id', 'decided_at'])
        .execute();
    },
  },
  '203_engine_overlays': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('overlays')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('value', 'text', (c) => c.notNull())
        .addColumn('description', 'text')
        .addColumn('updated_by', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('overlay_history')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('value', 'text', (c) => c.notNull())
        .addColumn('previous_value', 'text')
        .addColumn('changed_by', 'text', (c) => c.notNull())
        .addColumn('changed_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('overlay_history_name')
        .on('overlay_history')
        .columns(['name', 'changed_at'])
        .execute();
    },
  },
  '210_engine_config_generation': {
    async up(db: Kysely<unknown>) {
      // One row every instance polls: bumped in the dbTx of any change to what decides (activation, overlay, model
      // alias), so a process sees another's change by reading one integer (issue 12, "activation seen everywhere").
      await db.schema
        .createTable('config_generation')
        .addColumn('id', 'integer', (c) => c.primaryKey())
        .addColumn('generation', 'bigint', (c) => c.notNull())
        .execute();
      await sql`insert into config_generation (id, generation) values (1, 0)`.execute(db);
    },
  },
  '220_engine_decision_core_rules': {
    async up(db: Kysely<unknown>) {
      // What the core did to a decision before answering (hard rules, the bureau referral, the borrower's room, a
      // draw's APR check), so a simulation replays it; null on older rows (their application or draw row says).
      await db.schema.alterTable('decisions').addColumn('core_rules', 'text').execute();
    },
  },
};
