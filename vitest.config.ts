import { defineConfig } from 'vitest/config';

// One runner for unit tests (next to the code) and integration/conformance tests (test/).
// Service-backed tests read their URLs from the environment and skip with a message when absent.
export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // A run leaves nothing behind: it drops the PostgreSQL schemas of exited test processes, before and after, and
    // works in a temporary directory of its own, removed at the end.
    globalSetup: ['test/global-setup.ts'],
  },
});
