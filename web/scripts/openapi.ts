/**
 * Writes the API's OpenAPI document (as `GET /openapi.json` serves it) to a file, from an app over a throwaway
 * SQLite file, so the dashboard's typed client can be generated without a running server:
 *   node --import tsx web/scripts/openapi.ts tmp/openapi.json && openapi-typescript tmp/openapi.json -o web/src/api/openapi.d.ts
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/app/config.js';
import { createApp, createHttpServer } from '../../src/app/app.js';

export async function openApiDocument(): Promise<unknown> {
  const dataDir = mkdtempSync(join(tmpdir(), 'lg-openapi-'));
  const config = loadConfig(
    { LINEGUARD_KEY: 'ab'.repeat(32), LINEGUARD_SEED_DEMO: '0', LINEGUARD_DATA_DIR: dataDir },
    {},
    () => undefined,
  );
  const app = await createApp(config);
  const server = await createHttpServer(app);
  try {
    await server.ready();
    const response = await server.inject({ method: 'GET', url: '/openapi.json' });
    return response.json();
  } finally {
    await server.close();
    await app.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop() ?? '')) {
  const out = process.argv[2] ?? 'tmp/openapi.json';
  writeFileSync(out, `${JSON.stringify(await openApiDocument(), null, 2)}\n`);
}
