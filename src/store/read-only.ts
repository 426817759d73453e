import BetterSqlite3 from 'better-sqlite3';
import { existsSync } from 'node:fs';
import { Kysely, SqliteDialect, sql } from 'kysely';
import { LgError } from '../domain/index.js';
import type { Database } from './schema.js';

/**
 * A LineGuard SQLite file opened only to read it (an auditor's `lineguard ledger verify`): never created, never
 * migrated, never written, and it needs no data key. A path with no file, or a file without a ledger, is the
 * caller's mistake and says so rather than reporting an empty (and "intact") chain.
 */
export async function openReadOnlySqlite(path: string): Promise<Kysely<Database>> {
  if (!existsSync(path)) throw new LgError('LG_NOT_FOUND', `no database at ${path}`, { path });
  let connection: BetterSqlite3.Database;
  try {
    connection = new BetterSqlite3(path, { readonly: true, fileMustExist: true });
  } catch (error) {
    throw new LgError('LG_VALIDATION', `${path} cannot be opened as a SQLite database: ${message(error)}`, {
      path,
    });
  }
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: connection }) });
  try {
    const { rows } = await sql<{
      name: string;
    }>`select name from sqlite_master where type = 'table' and name = 'ledger_entries'`.execute(db);
    if (rows.length === 0)
      throw new LgError('LG_VALIDATION', `${path} is not a LineGuard database (no ledger)`, { path });
    return db;
  } catch (error) {
    await db.destroy();
    if (error instanceof LgError) throw error;
    throw new LgError('LG_VALIDATION', `${path} is not a readable SQLite database: ${message(error)}`, {
      path,
    });
  }
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
