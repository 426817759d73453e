import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import fastifyStatic from '@fastify/static';

/** The built dashboard (web/, `vite build`), found the same way from src/app (tsx) and dist/app (built). */
export const DASHBOARD_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'web', 'dist');

/** The pages the browser may load directly; everything below them is routed in the page (hash routes). */
const PAGE_PATHS = ['/', '/borrower'] as const;

/**
 * Serves the risk console at `/` and the borrower view at `/borrower` next to the API. Assets are content-hashed
 * by Vite, so they are cached for a year; the page itself is never cached, so a new build is picked up at once.
 */
export async function registerDashboard(app: FastifyInstance, root = DASHBOARD_DIR): Promise<void> {
  if (!existsSync(join(root, 'index.html'))) {
    for (const path of PAGE_PATHS) {
      app.get(path, { schema: { hide: true } }, async (_request, reply) =>
        reply
          .code(503)
          .type('text/plain; charset=utf-8')
          .send('The dashboard is not built: run `npm run build` (npm start does it).'),
      );
    }
    return;
  }
  await app.register(fastifyStatic, {
    root: join(root, 'assets'),
    prefix: '/assets/',
    index: false,
    // Through the plugin's own options: a header set in setHeaders is written over by its cache-control.
    maxAge: 365 * 24 * 3_600_000,
    immutable: true,
  });
  for (const path of PAGE_PATHS) {
    app.get(path, { schema: { hide: true } }, async (_request, reply) =>
      // sendFile writes its own cache-control (public, max-age=0) over ours unless told not to.
      reply.header('cache-control', 'no-store').sendFile('index.html', root, { cacheControl: false }),
    );
  }
}
