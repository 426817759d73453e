import { isLgError } from '../domain/index.js';

/** Exit codes that mean something to a script. */
export const EXIT = {
  OK: 0,
  FAILURE: 1,
  INVALID_INPUT: 2,
  VERIFICATION_FAILED: 3,
  /** Nothing disagrees, but not everything could be proven: sealed values under a data key not held (facts.ts). */
  UNVERIFIABLE: 4,
} as const;

/** Runs a command action, printing a one-line error and choosing the exit code (no stack traces for expected errors). */
export async function runAction(action: () => Promise<number | void>): Promise<void> {
  try {
    const code = await action();
    process.exitCode = code ?? EXIT.OK;
  } catch (error) {
    if (isLgError(error)) {
      process.stderr.write(`error ${error.code}: ${error.message}\n`);
      if (error.details !== undefined) process.stderr.write(`${JSON.stringify(error.details)}\n`);
      process.exitCode = error.status < 500 ? EXIT.INVALID_INPUT : EXIT.FAILURE;
      return;
    }
    process.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = EXIT.FAILURE;
  }
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}
