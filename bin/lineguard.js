#!/usr/bin/env node
// Thin launcher: the compiled CLI lives in dist/ (built by `npm install` through the `prepare` script).
import('../dist/cli/main.js').catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(70);
});
