/**
 * Following what other processes committed to a shared database (PostgreSQL), in commit order: the monitor's event
 * feed, the alerts' dedupe state, the case intake's sweep. A follower's place is a PostgreSQL snapshot (pg_snapshot,
 * as text): it has read the rows of every transaction that snapshot sees as ended. A read takes a newer snapshot and
 * returns the rows of the transactions it sees ended and the old one did not: those that were still running at the old
 * one (its in-progress list) and those that began after it. Then the new snapshot is the follower's place.
 *
 * Not the oldest running transaction (the snapshot's xmin) alone: one transaction left open anywhere on the cluster (an
 * operator's session, another application's long write) holds xmin back, and a follower placed there reads every row
 * committed since again on every read, for as long as it stays open.
 */

/**
 * A place before every transaction ('xmin:xmax:' with both at the first normal transaction id): a read from it returns
 * every row. A follower's place until it has started from the current snapshot.
 */
export const BEFORE_ANY_COMMIT = '3:3:';

/** Where one page of a read starts. */
export interface CommitPageCursor {
  /** The follower's place: the rows of every transaction this snapshot sees as ended have been read. */
  readonly seen: string;
  /** The snapshot the read is taken against; null on its first page, which takes the current one. */
  readonly now: string | null;
  /** The last row this read has returned: its transaction id ('0' before the first page) and its id ('' then). */
  readonly afterXid: string;
  readonly afterId: string;
}

/** A read's first page from the follower's place `seen`. */
export function firstCommitPage(seen: string): CommitPageCursor {
  return { seen, now: null, afterXid: '0', afterId: '' };
}

/** The page after `last`, in the read whose snapshot is `now` (what its first page answered). */
export function nextCommitPage(
  read: CommitPageCursor,
  now: string,
  last: { readonly xid: string; readonly id: string },
): CommitPageCursor {
  return { seen: read.seen, now, afterXid: last.xid, afterId: last.id };
}

/** What readInCommitOrder needs of one page: the read's snapshot, the page's rows and where its last row stands. */
export interface CommitOrderPage<R> {
  readonly snapshot: string;
  readonly rows: readonly R[];
  /** The last row's transaction id and id; undefined when the page is empty. */
  readonly last: { readonly xid: string; readonly id: string } | undefined;
}

/**
 * One read in commit order from the follower's place `from.seen`: pages of at most `pageSize`, every one against the
 * first page's snapshot (or `from.now`, one another table's read already took), each page's rows handed to `take` in
 * order. Answers that snapshot, the follower's new place, once `take` has had every page: a place moved before the
 * last page would skip the rows of the pages not read. Undefined when `readPage` stopped the read (answered undefined).
 */
export async function readInCommitOrder<R>(
  from: { readonly seen: string; readonly now?: string },
  pageSize: number,
  readPage: (cursor: CommitPageCursor) => Promise<CommitOrderPage<R> | undefined>,
  take: (rows: readonly R[]) => Promise<void> | void,
): Promise<string | undefined> {
  let cursor: CommitPageCursor = { ...firstCommitPage(from.seen), now: from.now ?? null };
  for (;;) {
    const page = await readPage(cursor);
    if (!page) return undefined;
    await take(page.rows);
    if (!page.last || page.rows.length < pageSize) return page.snapshot;
    cursor = nextCommitPage(cursor, page.snapshot, page.last);
  }
}
