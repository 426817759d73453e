import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { registerDashboard } from './dashboard.js';

/** A built dashboard in a temporary folder: the page and one content-hashed asset. */
function builtDashboard(): string {
  const root = mkdtempSync(join(tmpdir(), 'lg-dashboard-'));
  mkdirSync(join(root, 'assets'));
  writeFileSync(join(root, 'index.html'), '<!doctype html><title>LineGuard</title>');
  writeFileSync(join(root, 'assets', 'index-3f2a1b.js'), 'export {};');
  return root;
}

describe('the dashboard pages', () => {
  it('are never cached, so a new build is picked up at once; content-hashed assets are cached for a year', async () => {
    const app = Fastify();
    await registerDashboard(app, builtDashboard());
    try {
      for (const url of ['/', '/borrower']) {
        const page = await app.inject({ method: 'GET', url });
        expect(page.statusCode, url).toBe(200);
        expect(page.headers['cache-control'], url).toBe('no-store');
      }
      const asset = await app.inject({ method: 'GET', url: '/assets/index-3f2a1b.js' });
      expect(asset.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    } finally {
      await app.close();
    }
  });
});
