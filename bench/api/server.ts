/**
 * The benchmark's server process: the real LineGuard API (durable SQLite file, WAL + synchronous=FULL, the real
 * engine, the bundled scorecard) with one line with a big limit, and a bare Fastify endpoint on another port that
 * takes the same payload. Prints one JSON line {appPort, barePort, lineId, key, store} when ready.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import { createApiKey } from '../../src/api/api-keys.js';
import { loadConfig } from '../../src/app/config.js';
import { createApp, createHttpServer } from '../../src/app/app.js';
import { seedDemo } from '../../src/core/index.js';

const BIG_LIMIT_MINOR = 1_000_000_000_000;

async function main(): Promise<void> {
  const dir = mkdtempSync(join(process.env.LINEGUARD_BENCH_SQLITE_DIR ?? tmpdir(), 'lg-bench-api-'));
  // The application exactly as `lineguard serve` wires it (engine, scorecard, monitor signals, outbox relay).
  const config = loadConfig(
    {
      LINEGUARD_KEY: '01'.repeat(32),
      LINEGUARD_DATA_DIR: dir,
      LINEGUARD_DATABASE_URL: process.env.LINEGUARD_BENCH_DATABASE_URL,
      LINEGUARD_BORROWER_CAP_MINOR: String(BIG_LIMIT_MINOR * 10),
    },
    {},
    () => undefined,
  );
  const services = await createApp(config);
  const { store, engine } = services;
  // One line drawing thousands of times a second is velocity by definition; the benchmark measures the approve path,
  // so it runs the bundled draw strategy without its velocity (cooling-off) node.
  const draw = await engine.getVersion('draw', 1);
  const velocityInputs = new Set(['drawsLast24h', 'minutesSinceLastDraw']);
  const lean = {
    ...draw.document,
    inputs: draw.document.inputs.filter((i) => !velocityInputs.has(i.name)),
    nodes: draw.document.nodes.filter((n) => n.id !== 'velocity'),
  };
  const saved = await engine.saveVersion(lean, 'bench');
  await engine.activate('draw', saved.version, 'bench');
  await seedDemo(services.core);
  const line = await store.db
    .selectFrom('credit_lines')
    .select(['id'])
    .where('status', '=', 'ACTIVE')
    .orderBy('limit_minor', 'desc')
    .executeTakeFirstOrThrow();
  await services.core.applyLineAction(line.id, {
    type: 'LIMIT_INCREASE',
    limitMinor: BIG_LIMIT_MINOR,
    reasons: ['R_LIMIT_REVIEW'],
    automated: false,
    actor: 'bench',
  });
  const key = (await createApiKey(store.db, services, 'service', 'bench')).key;

  const app = await createHttpServer(services);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const bare = Fastify({ logger: false });
  bare.post('/bare', async (request) => ({ ok: true, received: request.body !== undefined }));
  await bare.listen({ port: 0, host: '127.0.0.1' });
  const port = (s: { server: { address(): unknown } }): number => {
    const address = s.server.address() as { port?: number } | string | null;
    return typeof address === 'object' && address?.port ? address.port : 0;
  };
  process.stdout.write(
    `${JSON.stringify({ appPort: port(app), barePort: port(bare), lineId: line.id, key, store: store.kind })}\n`,
  );
  const stop = async () => {
    await app.close();
    await bare.close();
    await services.close();
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop());
  process.once('SIGINT', () => void stop());
}

await main();
