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
