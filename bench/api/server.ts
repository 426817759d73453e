/**
 * The benchmark's server process: the real LineGuard API (durable SQLite file, the real engine, the bundled scorecard)
 * with one line with a big limit (setup.ts); a bare Fastify endpoint on another port that takes the same payload; and,
 * on SQLite, the storage floor (floor.ts) behind two more Fastify endpoints: the same payload, the rows of one draw
 * written raw and durably, no LineGuard logic, once on the event loop and once on a writer thread (floor.ts).
 * Prints one JSON line {appPort, barePort, floorPort, floorThreadPort, lineId, key, store} when ready (the floor ports
 * are 0 on PostgreSQL).
 */
import Fastify, { type FastifyInstance } from 'fastify';
import { createApiKey } from '../../src/api/api-keys.js';
import { createHttpServer } from '../../src/app/app.js';
import { openDrawFloorAfterOneDraw, type DrawFloor } from './floor.js';
import { DRAW_INPUT } from './payload.js';
import { prepareDrawBench } from './setup.js';

async function floorServer(floor: DrawFloor): Promise<FastifyInstance> {
  const server = Fastify({ logger: false });
  server.post('/floor', async (request) => {
    await floor.write();
    return { ok: true, received: request.body !== undefined };
  });
  await server.listen({ port: 0, host: '127.0.0.1' });
  return server;
}

async function main(): Promise<void> {
  const { services, lineId, dataDir } = await prepareDrawBench();
  const key = (await createApiKey(services.store.db, services, 'service', 'bench')).key;
  const sqlite = services.store.kind === 'sqlite';
  const app = await createHttpServer(services);
  let templates = 0;
  const drawOverHttp = async (): Promise<string> => {
    const res = await app.inject({
      method: 'POST',
      url: `/v1/lines/${lineId}/draws`,
      headers: { authorization: `Bearer ${key}`, 'idempotency-key': `floor-template-${++templates}` },
      payload: DRAW_INPUT,
    });
    const loanId = (res.json() as { loan?: { id?: string } }).loan?.id;
    if (res.statusCode !== 201 || !loanId) throw new Error(`the floor's template draw failed: ${res.body}`);
    return loanId;
  };
  const floor = sqlite
    ? await openDrawFloorAfterOneDraw(services, drawOverHttp, lineId, dataDir, 'event-loop')
    : undefined;
  const floorApp = floor ? await floorServer(floor) : undefined;
  const floorThread = sqlite
    ? await openDrawFloorAfterOneDraw(services, drawOverHttp, lineId, dataDir, 'thread')
    : undefined;
  const floorThreadApp = floorThread ? await floorServer(floorThread) : undefined;

  await app.listen({ port: 0, host: '127.0.0.1' });
  const bare = Fastify({ logger: false });
  bare.post('/bare', async (request) => ({ ok: true, received: request.body !== undefined }));
  // The process's CPU time, so the runner can report CPU per request beside throughput (steadier on a shared machine).
  bare.get('/cpu', async () => process.cpuUsage());
  await bare.listen({ port: 0, host: '127.0.0.1' });
  const port = (s: { server: { address(): unknown } }): number => {
    const address = s.server.address() as { port?: number } | string | null;
    return typeof address === 'object' && address?.port ? address.port : 0;
  };
  process.stdout.write(
    `${JSON.stringify({
      appPort: port(app),
      barePort: port(bare),
      floorPort: floorApp ? port(floorApp) : 0,
      floorThreadPort: floorThreadApp ? port(floorThreadApp) : 0,
      lineId,
      key,
      store: services.store.kind,
    })}\n`,
  );
  const stop = async () => {
    await app.close();
    await bare.close();
    await floorApp?.close();
    await floor?.close();
    await floorThreadApp?.close();
    await floorThread?.close();
    await services.close();
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop());
  process.once('SIGINT', () => void stop());
}

await main();
