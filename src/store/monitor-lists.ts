import { sql, type RawBuilder, type Selectable, type SqlBool } from 'kysely';
import { appendToLedger, type LedgerAppend } from '../compliance/index.js';
import type { ListKeyPair, ListKind, ListStore, LiveListMatch, StoredListEntry } from '../monitor/index.js';
import type { Store } from './db.js';
import type { MonitorTables } from './monitor-tables.js';
import { insertRows, runShaped } from './shaped.js';

/** The monitor lists' store (ListStore in src/monitor/lists.ts): entries, partner sharing keys, their ledger entries. */

type ListRow = Selectable<MonitorTables['monitor_list_entries']>;

/** Rows per INSERT: 10 columns a row keeps each statement far below both stores' bound-parameter limits. */
const INSERT_CHUNK_ROWS = 500;

function entryOfRow(row: Omit<ListRow, 'removed_at'>): StoredListEntry {
  return {
    entryId: row.entry_id,
    list: row.list_kind,
    entityType: row.entity_type,
    matchKey: row.match_key,
    reason: row.reason,
    source: row.source,
    addedBy: row.added_by,
    addedAt: Number(row.added_at),
    expiresAt: row.expires_at === null ? null : Number(row.expires_at),
  };
}

function rowOfEntry(e: StoredListEntry): ListRow {
  return {
    entry_id: e.entryId,
    list_kind: e.list,
    entity_type: e.entityType,
    match_key: e.matchKey,
    reason: e.reason,
    source: e.source,
    added_by: e.addedBy,
    added_at: e.addedAt,
    expires_at: e.expiresAt,
    removed_at: null,
  };
}

interface LiveRow {
  readonly entry_id: string;
  readonly list_kind: string;
  readonly entity_type: string;
  readonly match_key: string;
  readonly reason: string;
  readonly source: string;
}

function matchOfRow(row: LiveRow): LiveListMatch {
  return {
    entryId: row.entry_id,
    list: row.list_kind,
    entityType: row.entity_type,
    matchKey: row.match_key,
    reason: row.reason,
    source: row.source,
  };
}

/**
 * The one predicate of a list lookup: the live entries on any of the (entity type, match key) pairs at a time, through
 * the (entity_type, match_key) index. The pairs are ORed equalities, which SQLite answers with one index search per
 * pair and PostgreSQL with a bitmap OR of index scans. (A row-value list, `(entity_type, match_key) in (values …)`,
 * makes SQLite build the list as a subquery on every call: about 7 times as slow per draw, measured on the draw
 * benchmark's database.) As text with `?` placeholders (the synchronous reads) and as a Kysely fragment (everything
 * else); both bind the pairs' values in order, then the time.
 */
function livePairsText(pairCount: number): string {
  const pairs = Array.from({ length: pairCount }, () => '("entity_type" = ? and "match_key" = ?)').join(
    ' or ',
  );
  return `(${pairs || '1 = 0'}) and "removed_at" is null and ("expires_at" is null or "expires_at" > ?)`;
}

function livePairsWhere(pairs: readonly ListKeyPair[], at: number): RawBuilder<SqlBool> {
  const each = pairs.map((p) => sql`("entity_type" = ${p.entityType} and "match_key" = ${p.matchKey})`);
  const any = each.length > 0 ? sql.join(each, sql` or `) : sql`1 = 0`;
  return sql<SqlBool>`(${any}) and "removed_at" is null and ("expires_at" is null or "expires_at" > ${at})`;
}

function livePairsParams(pairs: readonly ListKeyPair[], at: number): unknown[] {
  const params: unknown[] = [];
  for (const pair of pairs) params.push(pair.entityType, pair.matchKey);
  params.push(at);
  return params;
}

/**
 * Live entries on the pairs. On the embedded store a synchronous read on the reader connection: a query builder and a
 * promise per query cost more than the read itself.
 */
async function liveMatches(
  store: Store,
  q: { pairs: readonly ListKeyPair[]; at: number },
): Promise<LiveListMatch[]> {
  const read = store.sync?.read;
  const params = livePairsParams(q.pairs, q.at);
  if (read) {
    return read
      .all<LiveRow>(
        `select "entry_id", "list_kind", "entity_type", "match_key", "reason", "source" from "monitor_list_entries" ` +
          `where ${livePairsText(q.pairs.length)}`,
        params,
      )
      .map(matchOfRow);
  }
  // Every draw runs this: reuse the compiled SQL per shape (shaped.ts) instead of building and compiling it again.
  const result = await runShaped(
    store.readDb,
    `live list matches ${q.pairs.length}`,
    () =>
      store.readDb
        .selectFrom('monitor_list_entries')
        .select(['entry_id', 'list_kind', 'entity_type', 'match_key', 'reason', 'source'])
        .where(livePairsWhere(q.pairs, q.at)),
    params,
  );
  return (result.rows as LiveRow[]).map(matchOfRow);
}

/**
 * Which lists the pairs are on, as one number a statement can carry in a column: each live kind's bit (black 1, grey
 * 2, white 4) counted once, as a max per kind (`sum(distinct …)` sorted into a temporary b-tree on every call). A
 * draw reads it under its line's lock, in the statement that takes the lock on PostgreSQL (store/core-draws.ts): no
 * round trip of its own, and exact against an entry committed before the lock.
 */
const LISTED_ON_BITS = [
  `max(case "list_kind" when 'black' then 1 else 0 end)`,
  `max(case "list_kind" when 'grey' then 2 else 0 end)`,
  `max(case "list_kind" when 'white' then 4 else 0 end)`,
].join(' + ');
const LIST_OF_BIT: readonly (readonly [number, ListKind])[] = [
  [1, 'black'],
  [2, 'grey'],
  [4, 'white'],
];

/** The lists named by a LISTED_ON_BITS value (null: on none). */
export function listsOfBits(bits: number | string | null | undefined): ListKind[] {
  const value = Number(bits ?? 0);
  return LIST_OF_BIT.filter(([bit]) => (value & bit) !== 0).map(([, kind]) => kind);
}

/** The lists the pairs are on, as a scalar subquery for the select list of another statement (Kysely). */
export function listedOnSubquery(pairs: readonly ListKeyPair[], at: number): RawBuilder<number | null> {
  return sql<
    number | null
  >`(select ${sql.raw(LISTED_ON_BITS)} from "monitor_list_entries" where ${livePairsWhere(pairs, at)})`;
}

/** The parameters listedOnSubquery binds, in order. */
export const listedOnParams = livePairsParams;

function entryReads(store: Store): Pick<ListStore, 'liveEntries' | 'queryEntries' | 'clearPersonEntries'> {
  const db = store.db;
  return {
    async liveEntries() {
      const rows = await db
        .selectFrom('monitor_list_entries')
        .selectAll()
        .where('removed_at', 'is', null)
        .execute();
      return rows.map(entryOfRow);
    },
    async queryEntries(q) {
      let query = db.selectFrom('monitor_list_entries').selectAll().where('removed_at', 'is', null);
      if (q.list) query = query.where('list_kind', '=', q.list);
      if (q.entityType) query = query.where('entity_type', '=', q.entityType);
      if (q.after) query = query.where('entry_id', '>', q.after);
      if (!q.includeExpired)
        query = query.where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', q.now)]));
      const rows = await query
        .orderBy('entry_id')
        .limit(Math.min(q.limit ?? 100, 1000))
        .execute();
      return rows.map(entryOfRow);
    },
    async clearPersonEntries(entityTypes) {
      const rows = await db
        .selectFrom('monitor_list_entries')
        .select(['entry_id', 'entity_type', 'match_key'])
        .where('entity_type', 'in', [...entityTypes])
        .where('match_key', 'like', 'raw:%')
        .execute();
      return rows.map((r) => ({ entryId: r.entry_id, entityType: r.entity_type, matchKey: r.match_key }));
    },
  };
}

function entryWrites(store: Store): Pick<ListStore, 'insertEntries' | 'removeEntry' | 'rehashEntries'> {
  return {
    insertEntries: (entries, ledger, answer, guard) =>
      store.transaction(async (tx) => {
        const rows = entries.map(rowOfEntry);
        for (let i = 0; i < rows.length; i += INSERT_CHUNK_ROWS)
          await insertRows(tx, 'monitor_list_entries', rows.slice(i, i + INSERT_CHUNK_ROWS));
        await appendToLedger(tx, ledger);
        return answer;
      }, guard),
    removeEntry: (entryId, removedAt, ledger) =>
      store.transaction(async (tx) => {
        const done = await tx
          .updateTable('monitor_list_entries')
          .set({ removed_at: removedAt })
          .where('entry_id', '=', entryId)
          .where('removed_at', 'is', null)
          .executeTakeFirst();
        if (Number(done.numUpdatedRows) !== 1) return false;
        await appendToLedger(tx, [ledger]);
        return true;
      }),
    rehashEntries: (changes) =>
      store.transaction(async (tx) => {
        const ledger: LedgerAppend[] = [];
        for (const change of changes) {
          const updated = await tx
            .updateTable('monitor_list_entries')
            .set({ match_key: change.to })
            .where('entry_id', '=', change.entryId)
            .where('match_key', '=', change.from)
            .executeTakeFirst();
          if (Number(updated.numUpdatedRows) === 1) ledger.push(change.ledger);
        }
        await appendToLedger(tx, ledger);
      }),
  };
}

function partnerKeys(store: Store): Pick<ListStore, 'partnerKeys' | 'resealPartnerKey' | 'putPartnerKey'> {
  return {
    async partnerKeys() {
      const rows = await store.db.selectFrom('monitor_sharing_keys').selectAll().execute();
      return rows.map((r) => ({
        partnerId: r.partner_id,
        keySealed: r.key_sealed,
        fingerprint: r.fingerprint,
        createdAt: Number(r.created_at),
      }));
    },
    async resealPartnerKey(partnerId, from, to) {
      const updated = await store.transaction((tx) =>
        tx
          .updateTable('monitor_sharing_keys')
          .set({ key_sealed: to })
          .where('partner_id', '=', partnerId)
          .where('key_sealed', '=', from)
          .executeTakeFirst(),
      );
      return Number(updated.numUpdatedRows) === 1;
    },
    putPartnerKey: (key, ledger) =>
      store.transaction(async (tx) => {
        const row = {
          partner_id: key.partnerId,
          key_sealed: key.keySealed,
          fingerprint: key.fingerprint,
          created_at: key.createdAt,
        };
        await tx
          .insertInto('monitor_sharing_keys')
          .values(row)
          .onConflict((oc) =>
            oc.column('partner_id').doUpdateSet({
              key_sealed: row.key_sealed,
              fingerprint: row.fingerprint,
              created_at: row.created_at,
            }),
          )
          .execute();
        await appendToLedger(tx, [ledger]);
      }),
  };
}

/** The ListStore over a store; every write is one unit of work with its ledger entries. */
export function monitorListStore(store: Store): ListStore {
  return {
    ...entryReads(store),
    ...entryWrites(store),
    ...partnerKeys(store),
    liveMatches: (pairs, at) => liveMatches(store, { pairs, at }),
  };
}
