/**
 * The fold fits of GBDT tuning and out-of-fold calibration, in this thread or on worker threads. Every fold fit is a
 * pure function of the data, the fold's rows, the settings and its seed, so the fits of one batch can run in any order
 * on any thread and give the same numbers; the caller gets them back in the order it asked for them.
 *
 * Why threads: a tuning run is 70 fits of the same training rows, and one after another on the main thread they use
 * one core however many the machine has (a 10,000 × 25 set: 37 s of CPU, 78 s of wall time on a loaded 2-core VM).
 *
 * The worker runs ./fold-worker.js from the build, or ./fold-worker.ts from the sources (tests, `node --import tsx`).
 * A worker thread does not get tsx's hooks from the parent on Node 20 (its `--import tsx` registers them on the main
 * thread only), so for the .ts entry the worker registers tsx itself, found from here. The bootstrap is plain
 * JavaScript evaluated from a string, as in src/store/checkpointer.ts. When no worker can start (no tsx, a sandbox
 * without threads), the fits run in this thread: same results, slower.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { LgError } from '../domain/index.js';
import { subsetDataset, type Dataset } from './dataset.js';
import { fitGbdtWithValidation, gbdtMargins, trainGbdt, type GbdtParams } from './gbdt.js';

export interface FoldPart {
  readonly fit: Dataset;
  readonly val: Dataset;
  readonly rows: readonly number[];
}

/** Per fold: the other folds' rows to fit on, the fold's own rows to validate on (original order both). */
export function foldParts(data: Dataset, folds: readonly (readonly number[])[]): FoldPart[] {
  const all = [...data.target.keys()];
  return folds.map((fold) => {
    const held = new Set(fold);
    return {
      fit: subsetDataset(
        data,
        all.filter((i) => !held.has(i)),
      ),
      val: subsetDataset(data, fold),
      rows: fold,
    };
  });
}

export interface FoldFit {
  readonly bestRounds: number;
  /** Margins of the fold's validation rows at the best round (out-of-fold predictions). */
  readonly valMargin: Float64Array;
}

export interface FoldJob {
  readonly params: GbdtParams;
  readonly fold: number;
  /**
   * How the fold's model is fitted. `validate` (tuning): early stopping on the fold's own rows, so the rounds are
   * chosen per fold and the margins are those at the best round. `final` (calibration): exactly as `trainGbdt` fits
   * the final model from these settings (its own validation part and refit, or a fixed number of rounds), never
   * looking at the fold's labels, so the margins are what the final model's would be on rows it did not see.
   */
  readonly mode?: 'validate' | 'final';
}

/** One fold fit, seeded by the run's seed plus the fold number whichever thread runs it. */
export function fitFold(parts: readonly FoldPart[], job: FoldJob, seed: number): FoldFit {
  const part = parts[job.fold]!;
  if (job.mode === 'final') {
    const fit = trainGbdt(part.fit, job.params, seed + job.fold);
    return { bestRounds: fit.bestRounds, valMargin: gbdtMargins(fit.part, part.val) };
  }
  const fit = fitGbdtWithValidation(part.fit, part.val, job.params, seed + job.fold);
  return { bestRounds: fit.bestRounds, valMargin: fit.valMargin };
}

/** What a worker is started with: the data once, structured-cloned (typed arrays included), never per fit. */
export interface FoldWorkerData {
  readonly data: Dataset;
  readonly folds: readonly (readonly number[])[];
  readonly seed: number;
}

/** Main thread -> worker: one fit. Worker -> main thread: ready, one fit's result, or its error. */
export interface FoldRequest extends FoldJob {
  readonly id: number;
}
export type FoldReply =
  | { readonly ready: true }
  | { readonly id: number; readonly bestRounds: number; readonly valMargin: Float64Array }
  | { readonly id: number; readonly error: string };

export interface FoldFitter {
  /** Worker threads the fits run on; 0 = this thread. */
  readonly threads: number;
  /** Runs the jobs and returns their fits in the jobs' order; onFit is called once per finished fit. */
  fitAll(jobs: readonly FoldJob[], onFit: () => void): Promise<FoldFit[]>;
  /** Stops the workers (also after a failure): they must never keep the process alive. */
  close(): Promise<void>;
}

export const TUNE_JOBS_ENV = 'LINEGUARD_TUNE_JOBS';

/** Threads for fold fits: the caller's number, else LINEGUARD_TUNE_JOBS, else every available core. 1 = no workers. */
export function tuneJobs(requested?: number, env: NodeJS.ProcessEnv = process.env): number {
  if (requested !== undefined) {
    if (!(Number.isInteger(requested) && requested >= 1))
      throw new LgError('LG_VALIDATION', `jobs must be a positive integer, got ${requested}`);
    return requested;
  }
  const text = env[TUNE_JOBS_ENV];
  if (text === undefined || text.trim() === '') return availableParallelism();
  const value = Number(text);
  if (!(Number.isInteger(value) && value >= 1))
    throw new LgError('LG_CONFIG_INVALID', `${TUNE_JOBS_ENV} must be a positive integer, got "${text}"`);
  return value;
}

/** The fits one after another in this thread: today's path, and the fallback. */
export function inThreadFitter(
  data: Dataset,
  folds: readonly (readonly number[])[],
  seed: number,
): FoldFitter {
  const parts = foldParts(data, folds);
  return {
    threads: 0,
    // async: a failing fit rejects the promise instead of throwing at the caller's feet.
    fitAll: async (jobs, onFit) =>
      jobs.map((job) => {
        const fit = fitFold(parts, job, seed);
        onFit();
        return fit;
      }),
    close: () => Promise.resolve(),
  };
}

const BOOTSTRAP = `
const { workerData } = require('node:worker_threads');
(async () => {
  if (workerData.tsLoader !== undefined) (await import(workerData.tsLoader)).register();
  await import(workerData.entry);
})().catch((error) => setImmediate(() => { throw error; }));
`;

export interface WorkerEntry {
  readonly entry: string;
  /** tsx's ESM API, for the .ts entry only. */
  readonly tsLoader?: string;
}

/** The worker's module beside this one (.js in dist, .ts in the sources), or undefined when it cannot be loaded. */
export function foldWorkerEntry(from: string = import.meta.url): WorkerEntry | undefined {
  const ts = from.endsWith('.ts');
  const entry = new URL(`./fold-worker.${ts ? 'ts' : 'js'}`, from).href;
  if (!ts) return { entry };
  try {
    return { entry, tsLoader: import.meta.resolve('tsx/esm/api') };
  } catch {
    return undefined;
  }
}

/** A started worker; `lost` is set if it fails or exits afterwards (the pool checks it when it takes the worker). */
interface StartedWorker {
  readonly worker: Worker;
  lost?: Error;
}

const asError = (error: unknown): Error => (error instanceof Error ? error : new Error(String(error)));

/** One worker, resolved once it has built its fold parts, rejected if it fails or exits before. */
function startWorker(entry: WorkerEntry, workerData: FoldWorkerData): Promise<StartedWorker> {
  const worker = new Worker(BOOTSTRAP, { eval: true, workerData: { ...entry, ...workerData } });
  const started: StartedWorker = { worker };
  return new Promise((resolve, reject) => {
    // Stays on for the worker's life: an 'error' event nobody listens to would crash the process.
    const lose = (error: unknown): void => {
      started.lost ??= asError(error);
      reject(started.lost);
      void worker.terminate();
    };
    const ready = (reply: FoldReply): void => {
      if (!('ready' in reply)) return;
      worker.off('message', ready);
      resolve(started);
    };
    worker
      .on('message', ready)
      .on('error', lose)
      .on('exit', (code) => lose(`exited with code ${code}`));
  });
}

interface Pending {
  readonly request: FoldRequest;
  readonly resolve: (fit: FoldFit) => void;
  readonly reject: (error: Error) => void;
}

/** Workers that take the next queued fit as soon as they are free. */
class WorkerPool implements FoldFitter {
  private readonly queue: Pending[] = [];
  private readonly idle: Worker[];
  private readonly running = new Map<Worker, Pending>();
  private nextId = 0;
  private failure: Error | undefined;

  private readonly workers: readonly Worker[];

  constructor(started: readonly StartedWorker[]) {
    this.workers = started.map((s) => s.worker);
    this.idle = [...this.workers];
    for (const s of started) {
      const w = s.worker;
      w.on('message', (reply: FoldReply) => this.settle(w, reply));
      w.on('error', (error) => this.fail(error));
      w.on('exit', (code) => this.fail(new Error(`a fold-fit worker exited (code ${code})`)));
      // Lost between its start and now (events run on this thread, so none can slip in after this check).
      if (s.lost !== undefined) this.fail(s.lost);
    }
  }

  get threads(): number {
    return this.workers.length;
  }

  fitAll(jobs: readonly FoldJob[], onFit: () => void): Promise<FoldFit[]> {
    return Promise.all(
      jobs.map((job) =>
        this.fit(job).then((fit) => {
          onFit();
          return fit;
        }),
      ),
    );
  }

  async close(): Promise<void> {
    this.fail(new Error('the fold-fit workers were stopped'));
    await Promise.all(this.workers.map((w) => w.terminate()));
  }

  private fit(job: FoldJob): Promise<FoldFit> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.queue.push({
        request: { id: this.nextId++, ...job },
        resolve,
        reject,
      });
      this.dispatch();
    });
  }

  private dispatch(): void {
    while (this.idle.length > 0 && this.queue.length > 0) {
      const worker = this.idle.pop()!;
      const pending = this.queue.shift()!;
      this.running.set(worker, pending);
      worker.postMessage(pending.request);
    }
  }

  private settle(worker: Worker, reply: FoldReply): void {
    const pending = this.running.get(worker);
    if (pending === undefined || 'ready' in reply) return;
    this.running.delete(worker);
    this.idle.push(worker);
    if ('error' in reply) pending.reject(new Error(reply.error));
    else pending.resolve({ bestRounds: reply.bestRounds, valMargin: reply.valMargin });
    this.dispatch();
  }

  /** A worker lost mid-run fails every fit not yet answered: the run stops rather than hang or run short. */
  private fail(error: Error): void {
    this.failure ??= error;
    for (const p of [...this.running.values(), ...this.queue.splice(0)]) p.reject(this.failure);
    this.running.clear();
  }
}

/**
 * Fold fits on up to `jobs` worker threads, each given the data once; in this thread when jobs is 1 or no worker
 * starts. Close the fitter when done, also after a failure.
 */
export async function startFoldFitter(
  data: Dataset,
  folds: readonly (readonly number[])[],
  seed: number,
  jobs: number,
  entry: WorkerEntry | undefined = foldWorkerEntry(),
): Promise<FoldFitter> {
  if (jobs <= 1 || entry === undefined) return inThreadFitter(data, folds, seed);
  const started = await Promise.allSettled(
    Array.from({ length: jobs }, () => startWorker(entry, { data, folds, seed })),
  );
  const workers = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  if (workers.length === 0) return inThreadFitter(data, folds, seed);
  return new WorkerPool(workers);
}
