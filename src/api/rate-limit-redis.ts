import type { FastifyRateLimitStore, FastifyRateLimitStoreCtor } from '@fastify/rate-limit';
import type { Redis } from 'ioredis';

/**
 * The request counts in Redis (scale-out mode), as a store for @fastify/rate-limit that sends every count asked for in
 * one turn of the event loop as ONE script call. A request asks for up to three counts (its address, its key, the
 * failed authentications of its address), and concurrent requests ask together; the plugin's own Redis store sends
 * one EVALSHA per count, which cost a fleet process about as much CPU as the rest of a draw's Redis traffic. The
 * counting is the plugin's, exactly: a fixed window per key, started by the first count (INCR, then PEXPIRE), and a
 * read that counts nothing (GET and PTTL). The script runs atomically, so concurrent instances still count exactly.
 *
 * The keys of one call may hash to different slots, so this needs one Redis, not a Redis Cluster (as LineGuard's
 * other Redis uses do).
 */
const BATCH_LUA = `
local out = {}
for i, key in ipairs(KEYS) do
  local window = tonumber(ARGV[2 * i])
  if ARGV[2 * i - 1] == 'i' then
    local current = redis.call('INCR', key)
    local ttl = window
    if current == 1 then
      redis.call('PEXPIRE', key, window)
    else
      ttl = redis.call('PTTL', key)
    end
    out[2 * i - 1] = current
    out[2 * i] = ttl
  else
    local current = redis.call('GET', key)
    local ttl = 0
    if current then
      ttl = redis.call('PTTL', key)
      if ttl < 0 then ttl = 0 end
    end
    out[2 * i - 1] = tonumber(current or 0)
    out[2 * i] = ttl
  end
end
return out
`;

const SCRIPT = 'lgRateCounts';
/**
 * Counts per call at most: a flood of requests in one turn goes out in several calls, so no call's arguments grow
 * without bound (a script's keys are spread into one function call on this side, and block Redis while it runs).
 */
const BATCH_MAX = 512;

/** What the plugin's stores answer: the count in the window and the window's milliseconds left. */
type Answer = Parameters<FastifyRateLimitStore['incr']>[1];

interface Asked {
  readonly key: string;
  readonly increment: boolean;
  readonly windowMs: number;
  readonly answer: Answer;
}

/** The plugin hands a route's own limits their route (its rateLimit settings merged with the route's). */
interface RouteLimits {
  readonly routeInfo?: { readonly method: string; readonly url: string };
}

type RunScript = (numberOfKeys: number, ...keysThenArgs: (string | number)[]) => Promise<unknown>;

/**
 * The plugin's `store` option: a class it constructs itself (with its settings, which this store does not need).
 * `prefix` is the deployment's namespace; every key is the one the plugin's own Redis store would use, so instances of
 * either kind count together.
 */
export function batchedRedisCountStore(redis: Redis, prefix: string): FastifyRateLimitStoreCtor {
  const batcher = new CountBatcher(redis);
  class BatchedRedisCountStore implements FastifyRateLimitStore {
    private keyPrefix = prefix;

    incr(key: string, answer: Answer, timeWindow: number): void {
      batcher.ask({ key: this.keyPrefix + key, increment: true, windowMs: timeWindow, answer });
    }

    read(key: string, answer: Answer, timeWindow: number): void {
      batcher.ask({ key: this.keyPrefix + key, increment: false, windowMs: timeWindow, answer });
    }

    /** A route's own limits count under the route's keys, as the plugin's stores do. */
    child(routeOptions: object): FastifyRateLimitStore {
      const { routeInfo } = routeOptions as RouteLimits;
      const store = new BatchedRedisCountStore();
      store.keyPrefix = `${this.keyPrefix}${routeInfo?.method ?? ''}${routeInfo?.url ?? ''}-`;
      return store;
    }
  }
  return BatchedRedisCountStore;
}

/** Collects the counts asked for in one turn of the event loop and sends them as one script call. */
class CountBatcher {
  private asked: Asked[] = [];
  private readonly run: RunScript;

  constructor(redis: Redis) {
    redis.defineCommand(SCRIPT, { lua: BATCH_LUA });
    const command = (redis as unknown as Record<string, RunScript | undefined>)[SCRIPT];
    if (!command) throw new Error(`redis script ${SCRIPT} is not defined`);
    this.run = command.bind(redis);
  }

  ask(a: Asked): void {
    // Everything asked for in this turn goes out together, once its I/O callbacks (other requests) have run.
    if (this.asked.length === 0) setImmediate(() => this.send());
    this.asked.push(a);
    if (this.asked.length >= BATCH_MAX) this.send();
  }

  private send(): void {
    if (this.asked.length === 0) return;
    const batch = this.asked;
    this.asked = [];
    const keys = batch.map((a) => a.key);
    const args = batch.flatMap((a) => [a.increment ? 'i' : 'r', a.windowMs]);
    this.run(keys.length, ...keys, ...args).then(
      (reply) => answerAll(batch, reply),
      (error: unknown) => {
        const failure = error instanceof Error ? error : new Error(String(error));
        for (const a of batch) a.answer(failure);
      },
    );
  }
}

function answerAll(batch: readonly Asked[], reply: unknown): void {
  const counts = Array.isArray(reply) ? reply : [];
  batch.forEach((a, i) => {
    const current = Number(counts[2 * i]);
    const ttl = Number(counts[2 * i + 1]);
    if (!Number.isFinite(current) || !Number.isFinite(ttl))
      a.answer(new Error('the rate-count script answered no count'));
    else a.answer(null, { current, ttl });
  });
}
