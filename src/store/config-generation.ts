import { sql } from 'kysely';
import type { Db, DbTx } from './db.js';

/**
 * The configuration generation: one integer every running instance polls. A change to what decides (a strategy
 * activation, an overlay, a model activation) bumps it in its own dbTx, so a reader that sees the new number also
 * sees the change (DESIGN: shared truth lives in the shared store; a cache states its staleness bound).
 */
export async function bumpConfigGeneration(tx: DbTx): Promise<void> {
  // An UPDATE takes the row lock on PostgreSQL: concurrent changes bump in turn, none is lost.
  await sql`update config_generation set generation = generation + 1 where id = 1`.execute(tx);
}

export async function readConfigGeneration(db: Db | DbTx): Promise<number> {
  const row = await db
    .selectFrom('config_generation')
    .select('generation')
    .where('id', '=', 1)
    .executeTakeFirst();
  return Number(row?.generation ?? 0);
}
