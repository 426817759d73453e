import { CompiledQuery, PostgresAdapter, sql } from 'kysely';
import { canonicalJson } from '../domain/index.js';
import {
  SINGLE_CHAIN,
  chainOf,
  chainRows,
  entryLeafAround,
  useLedgerStorage,
  type ChainHead,
  type LedgerAppend,
  type LedgerStorage,
} from '../compliance/index.js';
import type { Db, DbTx } from './store-types.js';
import { insertRows, runShaped } from './shaped.js';
import type { SyncSql } from './sync.js';
import { registerBatchFinisher, txScopedCache } from './tx-scope.js';

/**
 * The SQL of the ledger's hash chains (the port is LedgerStorage in src/compliance/ports.ts; the chaining itself —
 * which chain, the hashes — stays in src/compliance/ledger.ts). Installed into src/compliance when this file loads,
 * and src/store/db.ts loads it, so every process that opens a store can append: appendToLedger keeps its
 * `(tx, entries)` signature for the many modules that call it inside their own transactions.
 */

/** The chain head this transaction already locked and read (forgotten when a unit of work rolls back). */
const heads = txScopedCache<ChainHead>();
function isPostgres(tx: DbTx): boolean {
  return tx.getExecutor().adapter instanceof PostgresAdapter;
}

/**
 * PostgreSQL: locking a chain's head and reserving `$2` seqs for chain `$1` in one statement. The UPDATE … RETURNING
 * takes the row lock (and a transaction id) before nextval runs, which the checkpoint horizon relies on
 * (src/store/ledger.ts).
 */
const RESERVATION_SQL =
  `with "h" as (update "ledger_head" set "seq" = "seq" where "id" = $1 returning "seq", "hash") ` +
  `select "h"."seq" as "head_seq", "h"."hash" as "head_hash", ` +
  `array(select nextval('ledger_seq') from generate_series(1, $2::int + 0 * "h"."seq")) as "seqs" from "h"`;

interface ReservationRow {
  readonly head_seq: number | string;
  readonly head_hash: string;
  readonly seqs: readonly (number | string)[];
}

/**
 * The chain an append of `entries` would lock in this transaction, when it has not locked one yet (PostgreSQL): a
 * statement may then append them itself with appendSql. Undefined when the transaction already holds a head (one head
 * per transaction, so two can never deadlock on heads) or there is nothing to append.
 */
export function chainToReserve(tx: DbTx, entries: readonly LedgerAppend[]): number | undefined {
  const first = entries[0];
  return first && isPostgres(tx) && !heads.get(tx) ? chainOf(first.subjectId) : undefined;
}

/** appendSql's parameters per entry: its leaf before and after the seq, then five of its columns (appendParams). */
const APPEND_PARAMS_PER_ENTRY = 7;

/**
 * PostgreSQL: a whole append — lock the chain's head, draw the seqs, hash the entries, insert them, move the head — as
 * WITH clauses of a unit's statement, so a unit that writes its rows in one statement (src/store/core-draws.ts)
 * appends in it too instead of in a statement of its own. The hashes are PostgreSQL's `sha256` over exactly the bytes
 * chainRows hashes (prev_hash, then the leaf with the seq drawn here: entryLeafAround), so `ledger verify` checks
 * these entries as it checks any. The head is locked with FOR UPDATE (a row lock, which assigns the transaction id)
 * before nextval runs, as reserve's UPDATE does, and updated once at the end (a row may change only once per
 * statement). Parameters from `$first`: the chain, then APPEND_PARAMS_PER_ENTRY per entry (appendParams). Answers
 * the new head as `ledger_length` and `ledger_hash`.
 */
export function appendSql(
  first: number,
  count: number,
): { readonly withClauses: string[]; readonly columns: string } {
  const chain = `$${first}`;
  const param = (entry: number, index: number) => `$${first + 1 + entry * APPEND_PARAMS_PER_ENTRY + index}`;
  const clauses = [
    `"lh" as (select "seq", "hash" from "ledger_head" where "id" = ${chain} for update)`,
    `"ls" as (select array(select nextval('ledger_seq') from generate_series(1, ${count} + 0 * "lh"."seq") order by 1) as "seqs" from "lh")`,
  ];
  const tuples: string[] = [];
  for (let k = 0; k < count; k++) {
    const prev = k === 0 ? `"lh"` : `"le${k - 1}"`;
    const seq = `"ls"."seqs"[${k + 1}]`;
    clauses.push(
      `"le${k}" as (select ${seq} as "seq", ${prev}."hash" as "prev", encode(sha256(convert_to(${prev}."hash" || ${param(k, 0)} || ${seq}::text || ${param(k, 1)}, 'UTF8')), 'hex') as "hash" from ${prev}, "ls")`,
    );
    const row = (column: string) => `(select "${column}" from "le${k}")`;
    tuples.push(
      `(${row('seq')}, ${param(k, 2)}, ${param(k, 3)}, ${param(k, 4)}, ${param(k, 5)}, ${param(k, 6)}, ${row('prev')}, ${row('hash')}, ${chain}, (select "seq" from "lh") + ${k + 1})`,
    );
  }
  clauses.push(
    `"li" as (insert into "ledger_entries" ("seq", "entry_id", "kind", "subject_id", "payload", "recorded_at", "prev_hash", "hash", "chain", "chain_seq") values ${tuples.join(', ')})`,
    `"lu" as (update "ledger_head" set "seq" = "lh"."seq" + ${count}, "hash" = "le${count - 1}"."hash" from "lh", "le${count - 1}" where "ledger_head"."id" = ${chain} returning "ledger_head"."seq", "ledger_head"."hash")`,
  );
  return {
    withClauses: clauses,
    columns: `(select "seq" from "lu") as "ledger_length", (select "hash" from "lu") as "ledger_hash"`,
  };
}

/** The parameters of appendSql: the chain, then each entry's leaf around its seq and its columns. */
export function appendParams(chain: number, entries: readonly LedgerAppend[]): unknown[] {
  const params: unknown[] = [chain];
  for (const entry of entries) {
    const fields = {
      entry_id: entry.entryId,
      kind: entry.kind,
      subject_id: entry.subjectId,
      payload: canonicalJson(entry.payload),
      recorded_at: entry.recordedAt,
    };
    const { before, after } = entryLeafAround(fields);
    params.push(
      before,
      after,
      fields.entry_id,
      fields.kind,
      fields.subject_id,
      fields.payload,
      fields.recorded_at,
    );
  }
  return params;
}

/** What appendSql's statement answered: the chain's new head, which this transaction's later appends chain onto. */
export function appendedInStatement(
  tx: DbTx,
  chain: number,
  row: { readonly ledger_length?: number | string | null; readonly ledger_hash?: string | null },
): void {
  if (row.ledger_length == null || !row.ledger_hash)
    throw new Error(`ledger_head row of chain ${chain} is missing`);
  heads.set(tx, { chain, length: Number(row.ledger_length), hash: row.ledger_hash });
}

/**
 * Locks the head of the transaction's chain (first call) and reserves `count` global seqs, ascending.
 * PostgreSQL: one statement (RESERVATION_SQL). SQLite: one writer, seq = the chain's length + 1.
 */
async function reserve(
  tx: DbTx,
  subjectId: string,
  count: number,
): Promise<{ head: ChainHead; seqs: number[] }> {
  const cached = heads.get(tx);
  if (!isPostgres(tx)) {
    const head = cached ?? (await lockHead(tx, SINGLE_CHAIN));
    return { head, seqs: Array.from({ length: count }, (_, i) => head.length + i + 1) };
  }
  if (cached) {
    const result = await sql<{
      seq: number | string;
    }>`select nextval('ledger_seq') as seq from generate_series(1, ${count})`.execute(tx);
    return { head: cached, seqs: result.rows.map((r) => Number(r.seq)).sort((a, b) => a - b) };
  }
  const chain = chainOf(subjectId);
  const result = await tx.executeQuery<ReservationRow>(CompiledQuery.raw(RESERVATION_SQL, [chain, count]));
  const row = result.rows[0];
  if (!row) throw new Error(`ledger_head row of chain ${chain} is missing`);
  const head = { chain, length: Number(row.head_seq), hash: row.head_hash };
  heads.set(tx, head);
  return { head, seqs: row.seqs.map(Number).sort((a, b) => a - b) };
}

/**
 * PostgreSQL: locks now the chain head this transaction's appends will use (the one it holds already, or else
 * `subjectId`'s, which its first append would take), for a caller about to take another lock that it keeps while it
 * appends: the blast-radius guard's (store/core-lines.ts lockGuardAdmissions). Every holder of that lock then holds its
 * head already and never waits for one, so a transaction that appended before taking it (the review job: its
 * decision's entry first) cannot deadlock with one that would append after. SQLite: nothing (one writer).
 */
export async function holdLedgerChain(tx: DbTx, subjectId: string): Promise<void> {
  if (!isPostgres(tx) || heads.get(tx)) return;
  heads.set(tx, await lockHead(tx, chainOf(subjectId)));
}

async function lockHead(tx: DbTx, chain: number): Promise<ChainHead> {
  // SQLite already serialises writers; the UPDATE keeps the statement the same on both dialects.
  const result = await sql<{
    seq: number;
    hash: string;
  }>`update ledger_head set seq = seq where id = ${chain} returning seq, hash`.execute(tx);
  const row = result.rows[0];
  if (!row) throw new Error(`ledger_head row of chain ${chain} is missing`);
  return { chain, length: Number(row.seq), hash: row.hash };
}

/**
 * PostgreSQL appends of up to this many entries are one statement of their own (appendSql): the head locked, seqs
 * drawn, entries hashed and inserted, head moved. Larger ones (a bulk import) keep the two-statement path, whose
 * text does not grow a WITH clause per entry.
 */
const ONE_STATEMENT_APPEND_MAX = 16;

/** PostgreSQL: an append as one statement, on the chain this transaction holds or the first subject's. */
async function appendInOneStatement(tx: DbTx, entries: readonly LedgerAppend[]): Promise<void> {
  const chain = heads.get(tx)?.chain ?? chainOf(entries[0]!.subjectId);
  const { withClauses, columns } = appendSql(1, entries.length);
  const text = `with ${withClauses.join(', ')} select ${columns}`;
  const result = await tx.executeQuery<{ ledger_length: number | string; ledger_hash: string }>(
    CompiledQuery.raw(text, appendParams(chain, entries)),
  );
  appendedInStatement(tx, chain, result.rows[0] ?? {});
}

async function append(tx: DbTx, entries: readonly LedgerAppend[]): Promise<void> {
  const first = entries[0];
  if (!first) return;
  if (isPostgres(tx) && entries.length <= ONE_STATEMENT_APPEND_MAX) {
    await appendInOneStatement(tx, entries);
    return;
  }
  const reserved = await reserve(tx, first.subjectId, entries.length);
  const { rows, head } = chainRows(reserved.head, reserved.seqs, entries);
  if (isPostgres(tx)) await insertAndMoveHead(tx, rows, head);
  else {
    await insertRows(tx, 'ledger_entries', rows);
    await runShaped(
      tx,
      'ledger set head',
      () =>
        tx.updateTable('ledger_head').set({ seq: head.length, hash: head.hash }).where('id', '=', head.chain),
      [head.length, head.hash, head.chain],
    );
  }
  heads.set(tx, head);
}

type EntryRow = ReturnType<typeof chainRows>['rows'][number];

/**
 * PostgreSQL: the entries and the chain head's move in ONE statement (one round trip fewer per append):
 * `with e as (insert …) update ledger_head …`. Its text depends only on how many entries there are, so it is compiled
 * once per count (runShaped), the insert's part by Kysely, with the head's three parameters numbered after it.
 */
async function insertAndMoveHead(tx: DbTx, rows: readonly EntryRow[], head: ChainHead): Promise<void> {
  const params = [...rows.flatMap((row) => Object.values(row)), head.length, head.hash, head.chain];
  await runShaped(
    tx,
    `ledger append and head x${rows.length}`,
    () => {
      const insert = tx
        .insertInto('ledger_entries')
        .values([...rows])
        .compile();
      const n = insert.parameters.length;
      const text = `with e as (${insert.sql}) update "ledger_head" set "seq" = $${n + 1}, "hash" = $${n + 2} where "id" = $${n + 3}`;
      return {
        compile: () => CompiledQuery.raw(text, [...insert.parameters, head.length, head.hash, head.chain]),
      };
    },
    params,
  );
}

/**
 * A synchronous unit (embedded SQLite, one writer, one chain: the head needs no lock). The head is kept in memory for
 * the batch and written to ledger_head once, by the batch finisher, before the batch commits.
 */
function appendSync(sql: SyncSql, entries: readonly LedgerAppend[]): void {
  if (entries.length === 0) return;
  const current = syncHeads.get(sql) ?? readHeadSync(sql);
  const seqs = entries.map((_, i) => current.length + i + 1);
  const { rows, head } = chainRows(current, seqs, entries);
  sql.insert('ledger_entries', rows);
  syncHeads.set(sql, head);
  headBehind.add(sql);
}

/** The chain head a synchronous batch has reached (forgotten when a unit rolls back: readHeadSync finds it again). */
const syncHeads = txScopedCache<ChainHead>();
/** Batches that appended since ledger_head was last written; kept through rollbacks, which may undo only some. */
const headBehind = new WeakSet<SyncSql>();

registerBatchFinisher((sql) => {
  if (!headBehind.has(sql)) return;
  const head = syncHeads.get(sql) ?? readHeadSync(sql);
  sql.run('update "ledger_head" set "seq" = ?, "hash" = ? where "id" = ?', [
    head.length,
    head.hash,
    head.chain,
  ]);
  headBehind.delete(sql);
});

/**
 * The head as this transaction sees it. ledger_head lags behind the batch's own appends until the finisher runs, so
 * after a unit rolled back (and the cached head with it) the last entry may be further on; a last entry behind
 * ledger_head means rows were deleted, and chaining onto ledger_head keeps that gap visible to `ledger verify`.
 */
function readHeadSync(sql: SyncSql): ChainHead {
  const head = sql.get<{ seq: number; hash: string }>(
    'select "seq", "hash" from "ledger_head" where "id" = ?',
    [SINGLE_CHAIN],
  );
  if (!head) throw new Error('ledger_head row is missing');
  const last = sql.get<{ seq: number; hash: string }>(
    'select "chain_seq" as "seq", "hash" from "ledger_entries" where "chain" = ? order by "seq" desc limit 1',
    [SINGLE_CHAIN],
  );
  const newer = last && Number(last.seq) > Number(head.seq) ? last : head;
  return { chain: SINGLE_CHAIN, length: Number(newer.seq), hash: newer.hash };
}

// The verifiers walk whole tables a page at a time, by primary key, ascending.
const entriesAfter = (db: Db, afterSeq: number, limit: number) =>
  db
    .selectFrom('ledger_entries')
    .selectAll()
    .where('seq', '>', afterSeq)
    .orderBy('seq')
    .limit(limit)
    .execute();

const chainHeads = (db: Db) =>
  db.selectFrom('ledger_head').select(['id', 'seq', 'hash']).orderBy('id').execute();

const decisionsAfter = (db: Db, afterId: string, limit: number) =>
  db.selectFrom('decisions').selectAll().where('id', '>', afterId).orderBy('id').limit(limit).execute();

const linesAfter = (db: Db, afterId: string, limit: number) =>
  db.selectFrom('credit_lines').selectAll().where('id', '>', afterId).orderBy('id').limit(limit).execute();

const loansAfter = (db: Db, afterId: string, limit: number) =>
  db.selectFrom('loans').selectAll().where('id', '>', afterId).orderBy('id').limit(limit).execute();

const disputesAfter = (db: Db, afterId: string, limit: number) =>
  db
    .selectFrom('credit_disputes')
    .select([
      'id',
      'borrower_id',
      'target_kind',
      'target_id',
      'claim',
      'text',
      'state',
      'outcome_zh',
      'outcome_en',
      'correction_id',
    ])
    .where('id', '>', afterId)
    .orderBy('id')
    .limit(limit)
    .execute();

const submissionsAfter = (db: Db, afterId: string, limit: number) =>
  db
    .selectFrom('bureau_submissions')
    .select(['id', 'kind', 'borrower_id', 'bureau', 'payload', 'subject_hash', 'status'])
    .where('id', '>', afterId)
    .orderBy('id')
    .limit(limit)
    .execute();

const appealsAfter = (db: Db, afterId: string, limit: number) =>
  db
    .selectFrom('appeals')
    .select([
      'id',
      'borrower_id',
      'line_id',
      'target_kind',
      'target_id',
      'text',
      'documents',
      'state',
      'deadline_at',
      'outcome_zh',
      'outcome_en',
    ])
    .where('id', '>', afterId)
    .orderBy('id')
    .limit(limit)
    .execute();

const complaintsAfter = (db: Db, afterId: string, limit: number) =>
  db
    .selectFrom('complaints')
    .select([
      'id',
      'borrower_id',
      'category',
      'text',
      'state',
      'due_at',
      'extended_at',
      'extension_reason',
      'resolution_zh',
      'resolution_en',
    ])
    .where('id', '>', afterId)
    .orderBy('id')
    .limit(limit)
    .execute();

const caseNotesAfter = (db: Db, afterId: string, limit: number) =>
  db
    .selectFrom('case_notes')
    .select(['id', 'case_id', 'author', 'text'])
    .where('id', '>', afterId)
    .orderBy('id')
    .limit(limit)
    .execute();

const changesAfter = (db: Db, afterId: string, limit: number) =>
  db
    .selectFrom('pending_changes')
    .select([
      'id',
      'operation',
      'subject_id',
      'payload',
      'diff',
      'reason',
      'maker',
      'state',
      'checker',
      'decision_note',
    ])
    .where('id', '>', afterId)
    .orderBy('id')
    .limit(limit)
    .execute();

const lineActionsAfter = (db: Db, afterId: string, limit: number) =>
  db
    .selectFrom('line_actions')
    .select([
      'id',
      'line_id',
      'type',
      'outcome',
      'reasons',
      'trace_id',
      'automated',
      'actor',
      'appealable',
      'prev_status',
      'new_status',
      'prev_limit_minor',
      'new_limit_minor',
      'new_rate',
      'note',
    ])
    .where('id', '>', afterId)
    .orderBy('id')
    .limit(limit)
    .execute();

const consentsAfter = (db: Db, afterId: string, limit: number) =>
  db.selectFrom('consents').selectAll().where('id', '>', afterId).orderBy('id').limit(limit).execute();

const inquiriesAfter = (db: Db, afterId: string, limit: number) =>
  db
    .selectFrom('bureau_inquiries')
    .selectAll()
    .where('id', '>', afterId)
    .orderBy('id')
    .limit(limit)
    .execute();

/** The port's handles are opaque to src/compliance: they are this store's database, dbTx or synchronous unit. */
const ledgerStorage: LedgerStorage = {
  append,
  appendSync,
  entriesAfter,
  chainHeads,
  decisionsAfter,
  linesAfter,
  loansAfter,
  disputesAfter,
  submissionsAfter,
  appealsAfter,
  complaintsAfter,
  caseNotesAfter,
  changesAfter,
  lineActionsAfter,
  consentsAfter,
  inquiriesAfter,
};

useLedgerStorage(ledgerStorage);
