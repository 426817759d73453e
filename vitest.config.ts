import { defineConfig } from 'vitest/config';

// One runner for unit tests (next to the code) and integration/conformance tests (test/).
// Service-backed tests read their URLs from the environment and skip with a message when absent.
export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Drops the PostgreSQL schemas of test processes that have exited, before and after the run.
    globalSetup: ['test/global-setup.ts'],
  },
});
