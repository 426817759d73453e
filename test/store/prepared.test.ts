import { afterEach, describe, expect, it } from 'vitest';
import pg from 'pg';
import { CompiledQuery, sql } from 'kysely';
import { createIsolatedPostgresSchema, openStore, type Store } from '../../src/store/db.js';
import { COMMITS_ITS_TRANSACTION, NAMED_PER_CONNECTION } from '../../src/store/prepared.js';
import { toLgError } from '../../src/api/server.js';
import { TEST_DATABASE_URL } from '../helpers/stores.js';

/**
 * Named prepared statements on PostgreSQL (src/store/prepared.ts): parsed once per connection, bounded, recovering
 * from a schema change under them, and off when asked.
 */
describe.skipIf(!TEST_DATABASE_URL)('prepared statements (postgres)', () => {
  let store: Store | undefined;
  let url = '';
  afterEach(async () => {
    await store?.close();
    store = undefined;
  });

  /** One connection, so every query below runs on the session whose prepared statements it inspects. */
  const open = async (preparedStatements?: boolean) => {
    url = await createIsolatedPostgresSchema(TEST_DATABASE_URL ?? '', 'prepared');
    store = await openStore({
      postgresUrl: url,
      poolSizeMax: 1,
      ...(preparedStatements === undefined ? {} : { preparedStatements }),
    });
    await sql`create table probe (id integer primary key, a text)`.execute(store.db);
    await sql`insert into probe (id, a) values (1, 'one'), (2, 'two')`.execute(store.db);
    return store;
  };
  const preparedCount = async (s: Store) =>
    Number(
      (await sql<{ n: string }>`select count(*) as n from pg_prepared_statements`.execute(s.db)).rows[0]?.n,
    );
  const byId = (s: Store, id: number) =>
    sql<Record<string, unknown>>`select * from probe where id = ${id}`.execute(s.db).then((r) => r.rows);

  it('parses a parameterised statement once per connection and reuses it', async () => {
    const s = await open();
    expect(await byId(s, 1)).toEqual([{ id: 1, a: 'one' }]);
    expect(await byId(s, 2)).toEqual([{ id: 2, a: 'two' }]);
    const statements = (
      await sql<{ statement: string }>`select statement from pg_prepared_statements`.execute(s.db)
    ).rows.map((r) => r.statement);
    expect(statements.filter((text) => text.includes('from probe where id'))).toHaveLength(1);
  });

  it('names at most NAMED_PER_CONNECTION texts on a connection; the rest still run, unnamed', async () => {
    const s = await open();
    for (let i = 0; i < NAMED_PER_CONNECTION + 20; i++) {
      const rows = await sql<{ v: number }>`select ${i}::int + ${sql.raw(String(i))} as v`.execute(s.db);
      expect(rows.rows[0]?.v).toBe(2 * i);
    }
    expect(await preparedCount(s)).toBe(NAMED_PER_CONNECTION);
  });

  /** Another process (a rolling upgrade's migration) adds a column to the probe table. */
  const addColumn = async (column: string) => {
    const other = new pg.Client({ connectionString: url });
    await other.connect();
    await other.query(`alter table probe add column ${column} text`);
    await other.end();
  };

  it('a schema change under a prepared statement: retried at once outside a transaction', async () => {
    const s = await open();
    expect(await byId(s, 1)).toEqual([{ id: 1, a: 'one' }]);
    await addColumn('b');
    expect(await byId(s, 1)).toEqual([{ id: 1, a: 'one', b: null }]);
  });

  it('… inside a transaction the unit fails once (it is aborted), and the next one prepares it again', async () => {
    const s = await open();
    const inUnit = () =>
      s.transaction(async (tx) => (await sql`select * from probe where id = ${1}`.execute(tx)).rows);
    expect(await inUnit()).toEqual([{ id: 1, a: 'one' }]);
    await addColumn('c');
    const failed = await inUnit().then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failed).toMatchObject({
      message: expect.stringMatching(/cached plan must not change result type/),
    });
    // Answered as "retry" (nothing was written), not as the server's fault.
    expect(toLgError(failed)).toMatchObject({ code: 'LG_STORE_UNAVAILABLE', status: 503 });
    expect(await inUnit()).toEqual([{ id: 1, a: 'one', c: null }]);
  });

  it('prepares nothing when turned off (LINEGUARD_PG_PREPARED=0)', async () => {
    const s = await open(false);
    expect(await byId(s, 1)).toEqual([{ id: 1, a: 'one' }]);
    expect(await preparedCount(s)).toBe(0);
  });

  // A transaction's begin rides with its first statement, and a statement marked COMMITS_ITS_TRANSACTION carries the
  // COMMIT behind it (src/store/prepared.ts).
  const lastStatement = (
    tx: Parameters<Parameters<Store['transaction']>[0]>[0],
    text: string,
    values: unknown[],
  ) => tx.executeQuery(CompiledQuery.raw(COMMITS_ITS_TRANSACTION + text, values));
  /** The probe's rows as another connection sees them: committed ones only. */
  const rowsElsewhere = async () => {
    const other = new pg.Client({ connectionString: url });
    await other.connect();
    try {
      return (await other.query<{ id: number; a: string }>('select id, a from probe order by id')).rows;
    } finally {
      await other.end();
    }
  };
  const rows = async (s: Store) =>
    (await sql<{ id: number; a: string }>`select id, a from probe order by id`.execute(s.db)).rows;

  it('a statement sent with its COMMIT commits what the transaction wrote before it', async () => {
    const s = await open();
    const answer = await s.transaction(async (tx) => {
      await sql`update probe set a = 'uno' where id = ${1}`.execute(tx);
      return (await lastStatement(tx, 'insert into probe (id, a) values ($1, $2) returning id', [3, 'three']))
        .rows;
    });
    expect(answer).toEqual([{ id: 3 }]);
    // Seen from another connection, so committed (the unit's own connection would see its open transaction too).
    expect(await rowsElsewhere()).toEqual([
      { id: 1, a: 'uno' },
      { id: 2, a: 'two' },
      { id: 3, a: 'three' },
    ]);
    // The connection is out of the transaction: the next unit begins and commits its own.
    await s.transaction(async (tx) => sql`update probe set a = 'dos' where id = ${2}`.execute(tx));
    expect((await rowsElsewhere())[1]).toEqual({ id: 2, a: 'dos' });
  });

  it('a failing statement sent with its COMMIT rolls back the whole transaction and fails the unit', async () => {
    const s = await open();
    const failed = await s
      .transaction(async (tx) => {
        await sql`update probe set a = 'uno' where id = ${1}`.execute(tx);
        await lastStatement(tx, 'insert into probe (id, a) values ($1, $2)', [2, 'duplicate']);
      })
      .then(
        () => undefined,
        (error: unknown) => error,
      );
    expect(failed).toMatchObject({ code: '23505' });
    expect(await rows(s)).toEqual([
      { id: 1, a: 'one' },
      { id: 2, a: 'two' },
    ]);
    expect(await s.transaction(async (tx) => (await sql`select 1 as one`.execute(tx)).rows)).toEqual([
      { one: 1 },
    ]);
  });

  it('a COMMIT that fails behind its statement fails the unit (a constraint checked at COMMIT)', async () => {
    const s = await open();
    await sql`create table parent (id integer primary key)`.execute(s.db);
    await sql`create table child (parent_id integer references parent(id) deferrable initially deferred)`.execute(
      s.db,
    );
    const failed = await s
      .transaction(async (tx) => {
        await sql`update probe set a = 'uno' where id = ${1}`.execute(tx);
        await lastStatement(tx, 'insert into child (parent_id) values ($1)', [42]);
      })
      .then(
        () => undefined,
        (error: unknown) => error,
      );
    expect(failed).toMatchObject({ code: '23503' });
    expect((await rows(s))[0]).toEqual({ id: 1, a: 'one' });
  });

  it('… a stale prepared statement sent with its COMMIT is not retried outside the transaction', async () => {
    const s = await open();
    const insert = (id: number) =>
      s.transaction(async (tx) => {
        await sql`update probe set a = ${`before ${id}`} where id = ${1}`.execute(tx);
        return (await lastStatement(tx, 'insert into probe (id, a) values ($1, $2) returning *', [id, 'x']))
          .rows;
      });
    expect(await insert(3)).toEqual([{ id: 3, a: 'x' }]);
    await addColumn('d');
    await expect(insert(4)).rejects.toMatchObject({ message: expect.stringMatching(/cached plan/) });
    // Neither half of the failed unit committed; the retry does both.
    expect((await rows(s)).map((r) => r.id)).toEqual([1, 2, 3]);
    expect((await rows(s))[0]?.a).toBe('before 3');
    expect(await insert(4)).toEqual([{ id: 4, a: 'x', d: null }]);
  });
});
