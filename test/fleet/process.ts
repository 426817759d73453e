import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TEST_ADMIN_KEY } from '../helpers/app.js';

const ROOT = join(import.meta.dirname, '..', '..');
/** The CLI from source (tsx), so the suite tests this checkout rather than whatever dist/ was last built from. */
const CLI = join(ROOT, 'src', 'cli', 'main.ts');
export const FLEET_MASTER_KEY = 'cd'.repeat(32);
/** Longest a process may take to start (migrations, seeding, on a machine shared with other suites). */
const START_MS_MAX = 120_000;

/** A `lineguard serve` child process. */
export interface ServeProcess {
  readonly child: ChildProcess;
  /** Everything it printed to stdout, line by line. */
  readonly lines: string[];
  /** Resolves with the base URL once it listens; rejects if it exits first. */
  readonly ready: Promise<string>;
  /** Resolves with the exit code (null when killed by a signal). */
  readonly exited: Promise<number | null>;
  kill(signal?: NodeJS.Signals): void;
}

/** Starts `lineguard serve --port 0` with the given environment (on top of test defaults). */
export function startServe(env: Record<string, string>): ServeProcess {
  const dataDir = mkdtempSync(join(tmpdir(), 'lg-fleet-'));
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, 'serve', '--port', '0'], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      HOST: '127.0.0.1',
      LINEGUARD_KEY: FLEET_MASTER_KEY,
      LINEGUARD_ADMIN_KEY: TEST_ADMIN_KEY,
      LINEGUARD_DATA_DIR: dataDir,
      NODE_NO_WARNINGS: '1',
      ...env,
    },
  });
  const lines: string[] = [];
  let stderr = '';
  let resolveReady: (url: string) => void = () => undefined;
  let rejectReady: (error: Error) => void = () => undefined;
  const ready = new Promise<string>((resolve, reject) => {
    resolveReady = resolve;
    rejectReady = reject;
  });
  let buffer = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    buffer += chunk.toString();
    let nl: number;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      lines.push(line);
      const listening = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(line);
      if (listening?.[1]) resolveReady(listening[1]);
    }
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const exited = new Promise<number | null>((resolve) =>
    child.on('exit', (code) => {
      clearTimeout(startTimer);
      rejectReady(new Error(`lineguard serve exited (${code}) before listening: ${stderr}`));
      resolve(code);
    }),
  );
  // A process that neither listens nor exits is a failed start, not a reason to hang the suite.
  const startTimer = setTimeout(() => {
    rejectReady(new Error(`lineguard serve did not listen within ${START_MS_MAX} ms: ${stderr}`));
    child.kill('SIGKILL');
  }, START_MS_MAX);
  void ready.then(
    () => clearTimeout(startTimer),
    () => clearTimeout(startTimer),
  );
  return {
    child,
    lines,
    ready,
    exited,
    kill(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    },
  };
}

/** Stops a process (SIGTERM, then SIGKILL if it lingers) and waits for it. */
export async function stopServe(p: ServeProcess): Promise<void> {
  p.kill('SIGTERM');
  const timer = setTimeout(() => p.kill('SIGKILL'), 10_000);
  await p.exited;
  clearTimeout(timer);
}
