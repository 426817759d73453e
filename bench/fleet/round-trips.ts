import pg from 'pg';
import { Redis } from 'ioredis';

/**
 * The reference a fleet draw is compared with: the Node CPU (user + system, µs) of one bare round trip to PostgreSQL
 * (a one-parameter SELECT on a pg.Client, no Kysely, no pool) and to Redis (PING), sequential, in this process, before
 * any load. Every statement a request sends costs its process at least this, however little it does; on a VM where a
 * loopback socket write wakes another process on another core this is far from free. A draw's CPU divided by it says
 * how many bare round trips the draw costs.
 */
export async function roundTripCpuMicros(
  pgUrl: string,
  redisUrl: string | undefined,
  count = 3_000,
): Promise<{ postgres: number; redis?: number }> {
  const client = new pg.Client({ connectionString: pgUrl });
  await client.connect();
  let postgres: number;
  try {
    postgres = await cpuPer(count, (i) => client.query('select $1::int as n', [i]));
  } finally {
    await client.end();
  }
  if (!redisUrl) return { postgres };
  const redis = new Redis(redisUrl, { lazyConnect: true });
  await redis.connect();
  try {
    return { postgres, redis: await cpuPer(count, () => redis.ping()) };
  } finally {
    redis.disconnect();
  }
}

async function cpuPer(count: number, roundTrip: (i: number) => Promise<unknown>): Promise<number> {
  // Warm up (JIT, socket buffers) before measuring.
  for (let i = 0; i < 300; i++) await roundTrip(i);
  const before = process.cpuUsage();
  for (let i = 0; i < count; i++) await roundTrip(i);
  const used = process.cpuUsage(before);
  return Math.round((used.user + used.system) / count);
}
