import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import type { FastifyRateLimitStore } from '@fastify/rate-limit';
import { batchedRedisCountStore } from '../../src/api/rate-limit-redis.js';

const redisUrl = process.env.LINEGUARD_TEST_REDIS_URL;

type Count = { current: number; ttl: number };

function ask(store: FastifyRateLimitStore, key: string, increment: boolean, windowMs: number) {
  return new Promise<Count>((resolve, reject) => {
    const answer = (error: Error | null, count?: Count) => (error ? reject(error) : resolve(count!));
    if (increment) store.incr(key, answer, windowMs, 100);
    else
      (store as FastifyRateLimitStore & { read: FastifyRateLimitStore['incr'] }).read(
        key,
        answer,
        windowMs,
        100,
      );
  });
}

describe.skipIf(!redisUrl)('request counts in Redis, batched per turn of the event loop', () => {
  let redis: Redis;
  let sent: number;
  const prefix = `lineguard:test:rate-batch:${process.pid}:${Date.now()}:`;

  beforeAll(async () => {
    redis = new Redis(redisUrl ?? '');
    // Count the script calls the store makes (every ioredis command goes through sendCommand).
    const sendCommand = redis.sendCommand.bind(redis);
    sent = 0;
    redis.sendCommand = (command, stream) => {
      if (/^eval/i.test(command.name)) sent += 1;
      return sendCommand(command, stream);
    };
    const Store = batchedRedisCountStore(redis, prefix);
    store = new (Store as unknown as new () => FastifyRateLimitStore)();
    // Redis learns the script on its first call (EVALSHA refused, then EVAL); counted calls come after.
    await ask(store, 'warm', true, 1000);
  });
  let store: FastifyRateLimitStore;
  afterAll(async () => {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  });

  it('counts exactly as the plugin does, every count of a turn in one call', async () => {
    const before = sent;
    const answers = await Promise.all([
      ask(store, 'ip:a', true, 60_000),
      ask(store, 'ip:a', true, 60_000),
      ask(store, 'key:k', true, 5_000),
      ask(store, 'auth:a', false, 60_000),
    ]);
    expect(sent - before).toBe(1);
    expect(answers.map((a) => a.current)).toEqual([1, 2, 1, 0]);
    // The first count starts the window; a later one reads what is left of it; a read of nothing has no window.
    expect(answers[0]!.ttl).toBe(60_000);
    expect(answers[1]!.ttl).toBeGreaterThan(59_000);
    expect(answers[1]!.ttl).toBeLessThanOrEqual(60_000);
    expect(answers[2]!.ttl).toBe(5_000);
    expect(answers[3]!.ttl).toBe(0);
    // A read counts nothing, and sees the counts already made.
    const read = await ask(store, 'ip:a', false, 60_000);
    expect(read.current).toBe(2);
    expect(await redis.get(`${prefix}ip:a`)).toBe('2');
  });

  it('a flood in one turn goes out in calls of at most 512 counts, each counted exactly', async () => {
    const before = sent;
    const answers = await Promise.all(
      Array.from({ length: 1_200 }, () => ask(store, 'ip:flood', true, 60_000)),
    );
    expect(sent - before).toBe(3);
    expect(answers.map((a) => a.current).sort((x, y) => x - y)).toEqual(
      Array.from({ length: 1_200 }, (_, i) => i + 1),
    );
  });

  it('a route child counts under its own keys', async () => {
    const child = store.child({ routeInfo: { method: 'POST', url: '/x' } } as never);
    await ask(child, 'ip:b', true, 60_000);
    expect(await redis.get(`${prefix}POST/x-ip:b`)).toBe('1');
  });

  it('every count of a failed call is answered with the failure', async () => {
    const broken = new Redis('redis://127.0.0.1:1', {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
    });
    broken.on('error', () => undefined);
    const Store = batchedRedisCountStore(broken, prefix);
    const down = new (Store as unknown as new () => FastifyRateLimitStore)();
    const results = await Promise.allSettled([ask(down, 'ip:c', true, 1000), ask(down, 'ip:c', false, 1000)]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    broken.disconnect();
  });
});
