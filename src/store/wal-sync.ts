import { open } from 'node:fs/promises';

/**
 * Makes committed WAL frames durable off the event loop. A synchronous unit batch commits with synchronous=NORMAL
 * (SQLite writes the frames but does not fsync), then waits here for an fdatasync of the WAL file, run on libuv's
 * thread pool, before any caller is answered. The acknowledged commit is exactly as durable as with synchronous=FULL,
 * but the event loop goes on with the next batch while the disk flushes. Checkpoints still sync inside SQLite.
 *
 * Waiters are coalesced: a sync covers every commit that returned before it started, so while one is in flight,
 * later callers share the single sync that starts after it.
 */
export interface WalSyncer {
  /** Resolves once everything committed before the call is on disk. */
  sync(): Promise<void>;
}

export function createWalSyncer(walPath: string): WalSyncer {
  let inFlight: Promise<void> | undefined;
  let queued: Promise<void> | undefined;

  const syncOnce = async (): Promise<void> => {
    // Opened per sync: the WAL may have been recreated since (SQLite deletes it when the last connection closes).
    const handle = await open(walPath, 'r+');
    try {
      await handle.datasync();
    } finally {
      await handle.close();
    }
  };

  const start = (): Promise<void> => {
    const run = syncOnce().finally(() => {
      if (inFlight === run) inFlight = undefined;
    });
    inFlight = run;
    return run;
  };

  return {
    sync(): Promise<void> {
      if (!inFlight) return start();
      // The sync in flight may have started before our commit: wait for the next one, shared by all who queue now.
      queued ??= inFlight
        .catch(() => undefined)
        .then(() => {
          queued = undefined;
          return start();
        });
      return queued;
    },
  };
}
