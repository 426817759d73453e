import { PostgresAdapter, sql, type Kysely, type Migration } from 'kysely';

/** How many hash chains the ledger has on PostgreSQL (src/compliance/ledger.ts: LEDGER_CHAINS); SQLite uses chain 1. */
const CHAINS = 16;
const GENESIS = '0'.repeat(64);
/** SHA-256 of nothing: the root of the empty Merkle tree (RFC 9162 §2.1.1). */
const EMPTY_ROOT = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

/**
 * The partitioned ledger (issue 13) and its stored Merkle tree (issue 16). In the compliance range (6xx), at 650 so
 * that the module's next migrations (604, …) do not collide with it.
 *
 * - ledger_entries gains `chain` and `chain_seq`: every entry belongs to one of several hash chains, prev_hash links
 *   it to the previous entry of ITS chain, chain_seq is its position there. The old single chain becomes chain 1
 *   (chain_seq = seq), so an existing database verifies unchanged.
 * - ledger_head gets one row per chain (id = chain number); row 1 is the old head.
 * - PostgreSQL draws the global seq from a sequence (appenders no longer share one row); it starts after the last seq.
 * - ledger_tree / ledger_tree_nodes / ledger_leaf_index: the Merkle log's integrated prefix and its complete
 *   subtree hashes, so proofs read O(log n) stored nodes instead of the whole ledger.
 * - ledger_checkpoints remember the chain heads they signed and the last seq they cover.
 * - ledger_witness_deliveries: whether each checkpoint reached each HTTP witness.
 */
export const ledgerMigrations: Record<string, Migration> = {
  '650_ledger_partitions': {
    async up(db: Kysely<unknown>) {
      const postgres = db.getExecutor().adapter instanceof PostgresAdapter;
      await db.schema
        .alterTable('ledger_entries')
        .addColumn('chain', 'integer', (c) => c.notNull().defaultTo(1))
        .execute();
      await db.schema
        .alterTable('ledger_entries')
        .addColumn('chain_seq', 'bigint', (c) => c.notNull().defaultTo(0))
        .execute();
      await sql`update ledger_entries set chain_seq = seq`.execute(db);
      for (let chain = 2; chain <= CHAINS; chain++)
        await sql`insert into ledger_head (id, seq, hash) values (${chain}, 0, ${GENESIS})`.execute(db);
      if (postgres) {
        await sql`create sequence ledger_seq`.execute(db);
        await sql`select setval('ledger_seq', coalesce((select max(seq) from ledger_entries), 0) + 1, false)`.execute(
          db,
        );
      }
      await db.schema.alterTable('ledger_checkpoints').addColumn('last_seq', 'bigint').execute();
      await db.schema.alterTable('ledger_checkpoints').addColumn('chains', 'text').execute();
      await db.schema
        .createTable('ledger_tree')
        .addColumn('id', 'integer', (c) => c.primaryKey())
        .addColumn('size', 'bigint', (c) => c.notNull())
        .addColumn('last_seq', 'bigint', (c) => c.notNull())
        .addColumn('root', 'text', (c) => c.notNull())
        .addColumn('chains', 'text', (c) => c.notNull())
        .execute();
      await sql`insert into ledger_tree (id, size, last_seq, root, chains) values (1, 0, 0, ${EMPTY_ROOT}, '[]')`.execute(
        db,
      );
      await db.schema
        .createTable('ledger_tree_nodes')
        .addColumn('level', 'integer', (c) => c.notNull())
        .addColumn('idx', 'bigint', (c) => c.notNull())
        .addColumn('hash', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('ledger_tree_nodes_pk', ['level', 'idx'])
        .execute();
      await db.schema
        .createTable('ledger_leaf_index')
        .addColumn('seq', 'bigint', (c) => c.primaryKey())
        .addColumn('leaf_index', 'bigint', (c) => c.notNull().unique())
        .execute();
      await db.schema
        .createTable('ledger_witness_deliveries')
        .addColumn('tree_size', 'bigint', (c) => c.notNull())
        .addColumn('witness', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull())
        .addColumn('last_error', 'text')
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('ledger_witness_deliveries_pk', ['tree_size', 'witness'])
        .execute();
    },
  },
  '651_ledger_chain_head_index': {
    // The embedded store's synchronous writer finds its chain's last entry once per group-commit batch
    // (store/ledger-chain.ts readHeadSync: `where chain = ? order by "seq" desc limit 1`, where "seq" names the selected
    // chain_seq). Without an index on (chain, chain_seq) SQLite scanned and sorted the whole ledger for it: a cost per
    // batch that grew with the ledger (4.3 ms at 16,000 entries; about 9-19% of a draw's CPU in bench:api). With it the
    // read is one index seek. SQLite only: PostgreSQL keeps its heads in ledger_head and never runs that read.
    async up(db: Kysely<unknown>) {
      if (db.getExecutor().adapter instanceof PostgresAdapter) return;
      await db.schema
        .createIndex('ledger_entries_chain_seq')
        .on('ledger_entries')
        .columns(['chain', 'chain_seq'])
        .execute();
    },
  },
};
