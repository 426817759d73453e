import { CompiledQuery, type Compilable, type Insertable, type Kysely, type QueryResult } from 'kysely';
import type { Database } from './schema.js';

/**
 * Compiled SQL reused across calls, for the hottest statements (a draw runs about a dozen). Kysely builds an operation
 * tree and compiles it to SQL on every call, which costs more than SQLite takes to run a small insert; the SQL of a
 * statement depends only on its shape (table, columns, row count, dialect), not on its values. So each shape is
 * compiled by Kysely once per dialect and later calls bind new values to the same SQL.
 *
 * Safety: the first compile of a shape checks that the caller's parameter list is exactly what Kysely bound, in the
 * same order; a shape key that does not pin the SQL down would fail loudly there instead of binding values to the
 * wrong placeholders. Values are always bound parameters, never spliced into the text.
 */
const compiledByDialect = new WeakMap<object, Map<string, string>>();

type AnyDb = Kysely<Database>;

export async function runShaped<R>(
  db: AnyDb,
  shape: string,
  build: () => Compilable<R>,
  params: readonly unknown[],
): Promise<QueryResult<R>> {
  return db.executeQuery<R>(CompiledQuery.raw(shapedText(db, shape, build, params), [...params]));
}

/**
 * The SQL text of a shape in db's dialect, compiled by Kysely the first time and checked against the parameters then:
 * runShaped's text, also for a synchronous unit that runs it on its own prepared statements (embedded SQLite).
 */
export function shapedText(
  db: AnyDb,
  shape: string,
  build: () => Compilable<unknown>,
  params: readonly unknown[],
): string {
  // One adapter per dialect instance, shared by every transaction opened on it.
  const adapter = db.getExecutor().adapter;
  let known = compiledByDialect.get(adapter);
  if (!known) compiledByDialect.set(adapter, (known = new Map()));
  const text = known.get(shape);
  if (text !== undefined) return text;
  const compiled = build().compile();
  if (!sameParameters(compiled.parameters, params)) {
    throw new Error(`query shape "${shape}": the given parameters are not the ones Kysely binds`);
  }
  known.set(shape, compiled.sql);
  return compiled.sql;
}

function sameParameters(bound: readonly unknown[], given: readonly unknown[]): boolean {
  return bound.length === given.length && bound.every((value, i) => Object.is(value, given[i]));
}

/**
 * A plain multi-row INSERT through a reused compiled statement. Every row must have the same keys in the same order
 * and no `undefined` value (Kysely would turn those into DEFAULT, a different statement); otherwise it falls back to
 * the builder.
 */
export async function insertRows<T extends keyof Database & string>(
  db: AnyDb,
  table: T,
  rows: readonly Insertable<Database[T]>[],
): Promise<void> {
  const first = rows[0];
  if (first === undefined) return;
  const columns = Object.keys(first);
  const params: unknown[] = [];
  for (const row of rows) {
    const record = row as Record<string, unknown>;
    const keys = Object.keys(record);
    if (keys.length !== columns.length || keys.some((k, i) => k !== columns[i] || record[k] === undefined)) {
      await db
        .insertInto(table)
        .values(rows as never)
        .execute();
      return;
    }
    for (const key of columns) params.push(record[key]);
  }
  const shape = `insert ${table} (${columns.join(',')}) x${rows.length}`;
  await runShaped(db, shape, () => db.insertInto(table).values(rows as never), params);
}
