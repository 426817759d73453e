/**
 * The benchmark's server process: the real LineGuard API (durable SQLite file, WAL + synchronous=FULL, the real
 * engine, the bundled scorecard) with one line with a big limit, and a bare Fastify endpoint on another port that
 * takes the same payload. Prints one JSON line {appPort, barePort, lineId, key, store} when ready.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import { buildServer, createMetricsRegistry } from '../../src/api/server.js';
import { createApiKey, createKeyVerifier } from '../../src/api/api-keys.js';
import { coreRoutes } from '../../src/api/routes/core.js';
import { fieldCryptoFromMasterKey } from '../../src/compliance/crypto.js';
import { systemClock } from '../../src/domain/clock.js';
import { uuidv7Generator } from '../../src/domain/ids.js';
import { cryptoRandom } from '../../src/domain/random.js';
import { createEngineService } from '../../src/engine/service.js';
import { createModelRegistry, resolverFromRegistry } from '../../src/scoring/registry.js';
import { coreEngineFromService, createCoreServices, seedDemo } from '../../src/core/index.js';
import { openStore } from '../../src/store/db.js';

const BIG_LIMIT_MINOR = 1_000_000_000_000;

async function main(): Promise<void> {
  const dir = mkdtempSync(join(process.env.LINEGUARD_BENCH_SQLITE_DIR ?? tmpdir(), 'lg-bench-api-'));
  const store = process.env.LINEGUARD_BENCH_DATABASE_URL
    ? await openStore({ postgresUrl: process.env.LINEGUARD_BENCH_DATABASE_URL })
    : await openStore({ sqlitePath: join(dir, 'lineguard.db') });
  const clock = systemClock;
  const random = cryptoRandom;
  const ids = uuidv7Generator(clock, random);
  const registry = createModelRegistry(store, { clock });
  await registry.register(JSON.parse(readFileSync('models/application-scorecard.json', 'utf8')));
  await registry.loadAll();
  const service = await createEngineService({
    store,
    clock,
    models: resolverFromRegistry(registry),
    strategiesDir: 'strategies',
  });
  // One line drawing thousands of times a second is velocity by definition; the benchmark measures the approve path,
  // so it runs the bundled draw strategy without its velocity (cooling-off) node.
  const draw = await service.getVersion('draw', 1);
  const velocityInputs = new Set(['drawsLast24h', 'minutesSinceLastDraw']);
  const lean = {
    ...draw.document,
    inputs: draw.document.inputs.filter((i) => !velocityInputs.has(i.name)),
    nodes: draw.document.nodes.filter((n) => n.id !== 'velocity'),
  };
  const saved = await service.saveVersion(lean, 'bench');
  await service.activate('draw', saved.version, 'bench');
  const engine = await coreEngineFromService(service, { clock });
  const core = createCoreServices({
    store,
    clock,
    ids,
    crypto: fieldCryptoFromMasterKey(Buffer.alloc(32, 1)),
    engine,
    config: { borrowerCapMinor: BIG_LIMIT_MINOR * 10, aprCapPercent: 24 },
  });
  await seedDemo(core);
  const line = await store.db
    .selectFrom('credit_lines')
    .select(['id'])
    .where('status', '=', 'ACTIVE')
    .orderBy('limit_minor', 'desc')
    .executeTakeFirstOrThrow();
  await core.applyLineAction(line.id, {
    type: 'LIMIT_INCREASE',
    limitMinor: BIG_LIMIT_MINOR,
    reasons: ['R_LIMIT_REVIEW'],
    automated: false,
    actor: 'bench',
  });
  const key = (await createApiKey(store.db, { clock, ids, random }, 'service', 'bench')).key;

  const app = await buildServer({
    store,
    clock,
    metrics: createMetricsRegistry(),
    requestBytesMax: 1_048_576,
    verifyKey: createKeyVerifier(store.db, clock),
    routes: [coreRoutes(core)],
  });
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
    await store.close();
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop());
  process.once('SIGINT', () => void stop());
}

await main();
