import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/**
 * WAL checkpoints on a thread of their own. A checkpoint copies committed WAL frames into the database file and fsyncs
 * it; run by the writer (SQLite's auto-checkpoint), it stalls the commit that happens to cross the threshold, and with
 * it the event loop. Here a second connection on a worker thread runs PASSIVE checkpoints on a timer: SQLite lets a
 * checkpointer copy frames while the writer goes on appending, and the writer rewinds the WAL once everything in it
 * has been copied. The writer keeps a far larger auto-checkpoint threshold as a safety net, for when this falls behind.
 *
 * The worker's code is plain JavaScript evaluated from a string, so it runs the same from TypeScript sources (tests,
 * `node --import tsx`) and from the compiled build.
 */
const WORKER_SOURCE = `
const { workerData, parentPort } = require('node:worker_threads');
const Database = require(workerData.sqliteModule);
const db = new Database(workerData.path, { fileMustExist: true });
db.pragma('busy_timeout = 1000');
const checkpoint = () => {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch (error) {
    parentPort.postMessage({ error: String(error && error.message ? error.message : error) });
  }
};
const timer = setInterval(checkpoint, workerData.intervalMs);
parentPort.on('message', (message) => {
  if (message !== 'stop') return;
  clearInterval(timer);
  checkpoint();
  db.close();
  parentPort.postMessage('stopped');
});
`;

export interface Checkpointer {
  close(): Promise<void>;
}

export interface CheckpointerOptions {
  readonly intervalMs: number;
  readonly onError?: (message: string) => void;
}

export function startCheckpointer(path: string, options: CheckpointerOptions): Checkpointer {
  const sqliteModule = createRequire(import.meta.url).resolve('better-sqlite3');
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: { path, sqliteModule, intervalMs: options.intervalMs },
  });
  // It must never keep a process alive on its own; close() stops it properly.
  worker.unref();
  worker.on('message', (message: unknown) => {
    if (typeof message === 'object' && message !== null && 'error' in message)
      options.onError?.(String(message.error));
  });
  worker.on('error', (error) => options.onError?.(error.message));
  return {
    close: () =>
      new Promise<void>((resolve) => {
        const done = () => void worker.terminate().then(() => resolve());
        const timeout = setTimeout(done, 2_000);
        worker.once('exit', () => {
          clearTimeout(timeout);
          resolve();
        });
        worker.once('message', (message) => {
          if (message === 'stopped') {
            clearTimeout(timeout);
            done();
          }
        });
        worker.postMessage('stop');
      }),
  };
}
