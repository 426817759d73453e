import type { Selectable } from 'kysely';
import { appendToLedger, type LedgerAppend } from '../compliance/index.js';
import type { ListKeyPair, ListStore, LiveListMatch, StoredListEntry } from '../monitor/index.js';
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
 * Live entries by (entity type, match key), through the (entity_type, match_key) index. On the embedded store a
 * synchronous read on the reader connection: this runs before every draw, where a query builder and a promise per
 * query cost more than the read itself. There the pairs are one row-value list, `(entity_type, match_key) in (values
 * …)`, which SQLite probes pair by pair; two separate IN lists (types × keys) cost it several times more per draw.
 * The Kysely path asks for every type × key (a superset: the caller keeps only the pairs it asked for).
 */
async function liveMatches(
  store: Store,
  q: { pairs: readonly ListKeyPair[]; at: number },
): Promise<LiveListMatch[]> {
  const read = store.sync?.read;
  if (read) {
    const params: unknown[] = [];
    for (const pair of q.pairs) params.push(pair.entityType, pair.matchKey);
    params.push(q.at);
    return read
      .all<LiveRow>(
        `select "entry_id", "list_kind", "entity_type", "match_key", "reason", "source" from "monitor_list_entries" ` +
          `where ("entity_type", "match_key") in (values ${q.pairs.map(() => '(?, ?)').join(', ')}) ` +
          'and "removed_at" is null and ("expires_at" is null or "expires_at" > ?)',
        params,
      )
      .map(matchOfRow);
  }
  const types = [...new Set(q.pairs.map((p) => p.entityType))];
  const keys = [...new Set(q.pairs.map((p) => p.matchKey))];
  // Every draw runs this: reuse the compiled SQL per shape (shaped.ts) instead of building and compiling it again.
  const result = await runShaped(
    store.readDb,
    `live list matches ${types.length}x${keys.length}`,
    () =>
      store.readDb
        .selectFrom('monitor_list_entries')
        .select(['entry_id', 'list_kind', 'entity_type', 'match_key', 'reason', 'source'])
        .where('entity_type', 'in', types)
        .where('match_key', 'in', keys)
        .where('removed_at', 'is', null)
        .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', q.at)])),
    [...types, ...keys, q.at],
  );
  return (result.rows as LiveRow[]).map(matchOfRow);
}

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
    insertEntries: (entries, ledger, guard) =>
      store.transaction(async (tx) => {
        const rows = entries.map(rowOfEntry);
        for (let i = 0; i < rows.length; i += INSERT_CHUNK_ROWS)
          await insertRows(tx, 'monitor_list_entries', rows.slice(i, i + INSERT_CHUNK_ROWS));
        await appendToLedger(tx, ledger);
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
