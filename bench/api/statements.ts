/**
 * The SQL statements one draw sends to PostgreSQL over HTTP (each one a round trip, and the socket writes and reads
 * are a large share of a draw's CPU there). The app as the benchmark wires it (setup.ts), one API key, a few warm-up
 * draws, then `--draws N` draws one at a time, each with its own idempotency key; prints the statements of the last
 * draw and the mean count per draw.
 *
 * LINEGUARD_BENCH_DATABASE_URL=postgres://… node --import tsx bench/api/statements.ts [--draws 20]
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { createApiKey } from '../../src/api/api-keys.js';
import { createHttpServer } from '../../src/app/app.js';
import { DRAW_INPUT } from './payload.js';
import { prepareDrawBench } from './setup.js';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const value = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  return Number.isFinite(value) && value > 0 ? value : fallback;
}

if (!process.env.LINEGUARD_BENCH_DATABASE_URL)
  throw new Error('set LINEGUARD_BENCH_DATABASE_URL to a PostgreSQL URL');
let sent: string[] = [];
const query = pg.Client.prototype.query;
pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
  const first = args[0] as string | { text?: string };
  sent.push(typeof first === 'string' ? first : (first?.text ?? '?'));
  return (query as (...a: unknown[]) => unknown).apply(this, args);
} as typeof pg.Client.prototype.query;

const { services, lineId } = await prepareDrawBench();
const key = (await createApiKey(services.store.db, services, 'service', 'bench')).key;
const app = await createHttpServer(services);
const draw = async () => {
  const response = await app.inject({
    method: 'POST',
    url: `/v1/lines/${lineId}/draws`,
    headers: { authorization: `Bearer ${key}`, 'idempotency-key': randomUUID() },
    payload: DRAW_INPUT,
  });
  if (response.statusCode >= 300) throw new Error(`draw: ${response.statusCode} ${response.body}`);
};
for (let i = 0; i < 5; i++) await draw();
await new Promise((resolve) => setTimeout(resolve, 500));
const draws = arg('draws', 20);
let total = 0;
for (let i = 0; i < draws; i++) {
  sent = [];
  await draw();
  total += sent.length;
}
const last = sent;
await app.close();
await services.close();
console.log(
  last.map((text, i) => `${String(i + 1).padStart(3)} ${text.replace(/\s+/g, ' ').slice(0, 220)}`).join('\n'),
);
console.log(`statements per draw: ${(total / draws).toFixed(1)} (last draw: ${last.length})`);
