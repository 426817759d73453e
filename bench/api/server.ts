/**
 * The benchmark's server process: the real LineGuard API (durable SQLite file, the real engine, the bundled scorecard)
 * with one line with a big limit (setup.ts), and a bare Fastify endpoint on another port that takes the same payload.
 * Prints one JSON line {appPort, barePort, lineId, key, store} when ready.
 */
import Fastify from 'fastify';
import { createApiKey } from '../../src/api/api-keys.js';
import { createHttpServer } from '../../src/app/app.js';
import { prepareDrawBench } from './setup.js';

async function main(): Promise<void> {
  const { services, lineId } = await prepareDrawBench();
  const key = (await createApiKey(services.store.db, services, 'service', 'bench')).key;

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
    `${JSON.stringify({ appPort: port(app), barePort: port(bare), lineId, key, store: services.store.kind })}\n`,
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
