import type BetterSqlite3 from 'better-sqlite3';

/**
 * Synchronous SQL on an embedded SQLite connection, for the hottest units of work (a draw). better-sqlite3 runs every
 * statement synchronously anyway; going through Kysely costs an operation tree, a compile and a promise per
 * statement, several times what SQLite takes to insert a small row. A synchronous unit also runs start to finish in
 * one turn of the event loop, so nothing can interleave with it.
 *
 * SQLite only: the text is SQLite SQL with `?` placeholders. Values are always bound, never spliced into the text.
 */
export interface SyncSql {
  get<R>(text: string, params: readonly unknown[]): R | undefined;
  all<R>(text: string, params: readonly unknown[]): R[];
  run(text: string, params: readonly unknown[]): number;
  /** A multi-row INSERT of rows that all have the same keys in the same order (the first row's). */
  insert(table: string, rows: readonly object[]): void;
}

/**
 * connection.prepare with the statements kept per SQL text: preparing is a large share of a small query's cost. Safe
 * because a connection runs one statement at a time and its statements are never iterated concurrently.
 */
export function cachedPrepare(
  connection: BetterSqlite3.Database,
  cachedMax: number,
): (text: string) => BetterSqlite3.Statement {
  const cache = new Map<string, BetterSqlite3.Statement>();
  return (text) => {
    let statement = cache.get(text);
    if (!statement) {
      if (cache.size >= cachedMax) cache.clear();
      statement = connection.prepare(text);
      cache.set(text, statement);
    }
    return statement;
  };
}

export function createSyncSql(connection: BetterSqlite3.Database, cachedMax = 256): SyncSql {
  const prepare = cachedPrepare(connection, cachedMax);
  const insertTexts = new Map<string, string>();
  return {
    get: <R>(text: string, params: readonly unknown[]) => prepare(text).get(...params) as R | undefined,
    all: <R>(text: string, params: readonly unknown[]) => prepare(text).all(...params) as R[],
    run: (text, params) => prepare(text).run(...params).changes,
    insert(table, rows) {
      const first = rows[0] as Record<string, unknown> | undefined;
      if (first === undefined) return;
      const columns = Object.keys(first);
      const params: unknown[] = [];
      for (const row of rows) {
        const record = row as Record<string, unknown>;
        for (const column of columns) {
          const value = record[column];
          // undefined would bind as NULL silently; a row missing a column is a programming error.
          if (value === undefined) throw new Error(`insert into ${table}: column ${column} is undefined`);
          params.push(value);
        }
      }
      const shape = `${table}(${columns.join(',')})x${rows.length}`;
      let text = insertTexts.get(shape);
      if (text === undefined) {
        const tuple = `(${columns.map(() => '?').join(',')})`;
        text = `insert into "${table}" (${columns.map((c) => `"${c}"`).join(',')}) values ${Array(rows.length).fill(tuple).join(',')}`;
        if (insertTexts.size >= cachedMax) insertTexts.clear();
        insertTexts.set(shape, text);
      }
      prepare(text).run(...params);
    },
  };
}
