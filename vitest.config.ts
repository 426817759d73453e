import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

// One runner for unit tests (next to the code) and integration/conformance tests (test/).
// Service-backed tests read their URLs from the environment and skip with a message when absent.
export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Vitest's default for a run is one worker fewer than the cores: one worker on a 2-core CI machine. Most suites
    // wait on PostgreSQL, Redis, NATS or child processes rather than compute, so a worker per core keeps both busy
    // (on 2 cores the whole run took 877 s instead of 1,297 s).
    maxWorkers: Math.max(2, availableParallelism()),
    // A run leaves nothing behind: it drops the PostgreSQL schemas of exited test processes, before and after, and
    // works in a temporary directory of its own, removed at the end.
    globalSetup: ['test/global-setup.ts'],
  },
});
