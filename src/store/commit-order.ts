import { CompiledQuery } from 'kysely';
import { BEFORE_ANY_COMMIT, type CommitPageCursor } from '../domain/index.js';
import type { Store } from './store-types.js';

/**
 * Reads in commit order on PostgreSQL (src/domain/commit-order.ts): rows stamped with the id of the transaction that
 * wrote them (an xid8 column: monitor_event_feed.xid, changed_xid on monitor_alerts, applications, draws and
 * line_actions), read by snapshot.
 */

/** The snapshot a statement reads in, as text ('xmin:xmax:xip,…'): within one statement it is one snapshot. */
export const CURRENT_SNAPSHOT_SQL = 'pg_current_snapshot()';

/** Where a follower that starts now stands: its first read returns what commits from here on. */
export async function currentSnapshot(store: Store): Promise<string> {
  // A store with one writer follows no one: its followers' place is never read.
  if (store.kind !== 'postgres') return BEFORE_ANY_COMMIT;
  const result = await store.db.executeQuery<{ snapshot: string }>(
    CompiledQuery.raw(`select ${CURRENT_SNAPSHOT_SQL}::text as "snapshot"`, []),
  );
  const snapshot = result.rows[0]?.snapshot;
  if (snapshot === undefined) throw new Error('PostgreSQL answered no snapshot');
  return snapshot;
}

/** A table followed in commit order: its rows aliased "t" in `from`. */
export interface FollowedRows {
  /** The FROM clause, the followed table aliased "t" (joins allowed). */
  readonly from: string;
  /** The transaction-id column ("t"."xid") and the id that orders rows within one transaction ("t"."event_id"). */
  readonly xid: string;
  readonly id: string;
  /** What a page returns of each row (besides "xid" as text and "id"). */
  readonly columns: string;
  /** Which rows are followed, over "t" (literals, or parameters from $6 on); 'true' for all. */
  readonly where: string;
  /** More columns of the page's head row, which every page has (even an empty one); from $6 on too. */
  readonly head?: string;
}

/**
 * One page of the rows a read returns (CommitPageCursor: $1 seen, $2 now or null, $3 and $4 the last row returned,
 * $5 the page's size; a caller's own parameters from $6), in (transaction id, id) order. Its head row carries the
 * read's snapshot as "snapshot" (the current one on a first page); an empty page is that row alone, its row columns
 * null.
 *
 * The rows of a transaction `now` sees as ended and `seen` did not: one `seen` had in progress (its xip, a short list)
 * or one that began at or after its xmax. Two ordered index range reads, not one from `seen`'s xmin: a transaction
 * open for an hour keeps xmin where it was, and the rows of the hour after it are not read again. A later page's
 * statement may see a transaction end after `now`; pg_visible_in_snapshot leaves its rows to the next read (in `now`'s
 * in-progress list, or at or past its xmax).
 */
export function commitOrderPageSql(rows: FollowedRows): string {
  const branch = (which: string) => `(select ${rows.xid} as "xid_order", ${rows.xid}::text as "xid",
      ${rows.id} as "id", ${rows.columns}
    from ${rows.from}
    where ${which} and (${rows.xid}, ${rows.id}) > ($3::xid8, $4)
      and pg_visible_in_snapshot(${rows.xid}, "h"."snap") and (${rows.where})
    order by ${rows.xid}, ${rows.id} limit $5)`;
  return `select "h"."snap"::text as "snapshot"${rows.head ? `, ${rows.head}` : ''}, "p".*
  from (select coalesce($2::pg_snapshot, ${CURRENT_SNAPSHOT_SQL}) as "snap") as "h"
  left join lateral (
    ${branch(`${rows.xid} = any (array(select pg_snapshot_xip($1::pg_snapshot)))`)}
    union all
    ${branch(`${rows.xid} >= pg_snapshot_xmax($1::pg_snapshot)`)}
  ) as "p" on true
  order by "p"."xid_order", "p"."id"
  limit $5`;
}

/** The parameters $1 to $5 of a commitOrderPageSql page. */
export function commitPageParams(cursor: CommitPageCursor, limit: number): unknown[] {
  return [cursor.seen, cursor.now, cursor.afterXid, cursor.afterId, limit];
}

/** What every page's rows carry: null on the one row of an empty page, which carries only its head. */
export interface CommitPageRow {
  readonly snapshot: string;
  readonly xid: string | null;
  readonly id: string | null;
}

/** A page's head row (its first): every page has one, even an empty page; `what` names the read in the error. */
export function pageHead<R extends CommitPageRow>(rows: readonly R[], what: string): R {
  const head = rows[0];
  if (!head) throw new Error(`a page of ${what} came back without its head row`);
  return head;
}
