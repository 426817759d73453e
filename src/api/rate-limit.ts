import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import rateLimit from '@fastify/rate-limit';
import { Redis } from 'ioredis';
import { LgError } from '../domain/index.js';
import { sha256Hex } from '../domain/index.js';
import { reconnectWhenSilent } from '../monitor/index.js';
import { batchedRedisCountStore } from './rate-limit-redis.js';

/**
 * Request limits (OWASP API4:2023, unrestricted resource consumption; API2:2023, credential stuffing), counted in
 * fixed windows by @fastify/rate-limit. Counts live in process memory, or in Redis when several instances serve
 * one API (scale-out mode), so a client cannot multiply its allowance by the number of instances.
 */
export interface RateLimitOptions {
  readonly windowMs: number;
  /** Requests per window per presented API key (0: no limit). */
  readonly perKeyMax: number;
  /** Requests per window per client address (IPv6 counted per /64; 0: no limit). */
  readonly perIpMax: number;
  /**
   * Failed authentications per window per client address. Past it every authenticated request from that address
   * is refused until the window ends, so guessing keys costs a window per few guesses (0: no limit).
   */
  readonly authFailuresMax: number;
  /** Shares the counts between instances. */
  readonly redisUrl?: string;
  /** Prefix of the Redis keys: the deployment's namespace (LINEGUARD_NAMESPACE) and `:rate:`. */
  readonly nameSpace?: string;
}

type Limiter = ReturnType<FastifyInstance['createRateLimit']>;

export interface InstalledRateLimits {
  /** Called by authentication before it verifies a key: refuses an address that failed too often. */
  beforeAuthentication(request: FastifyRequest, reply: FastifyReply): Promise<void>;
  /** Called by authentication when a presented key was not valid. */
  authenticationFailed(request: FastifyRequest): Promise<void>;
}

const NO_LIMITS: InstalledRateLimits = {
  beforeAuthentication: async () => undefined,
  authenticationFailed: async () => undefined,
};

/**
 * Registers the limits as one onRequest hook for every route (added before any route, so routes other modules add
 * later are covered too). Runs before authentication: a refused request costs no key lookup.
 */
export async function installRateLimits(
  app: FastifyInstance,
  options: RateLimitOptions | undefined,
): Promise<InstalledRateLimits> {
  if (!options) return NO_LIMITS;
  const redis = options.redisUrl ? await connectRedis(options.redisUrl, app) : undefined;
  if (redis) {
    const stopSilenceChecks = reconnectWhenSilent(redis);
    app.addHook('onClose', async () => {
      stopSilenceChecks();
      await redis.quit().catch(() => redis.disconnect());
    });
  }
  await app.register(rateLimit, {
    global: false,
    timeWindow: options.windowMs,
    // A store outage must not stop the API: requests pass uncounted (and the error is logged) until it is back.
    skipOnError: true,
    // Distinct clients counted in memory (least recently seen forgotten first).
    cache: 100_000,
    ...(redis ? { store: batchedRedisCountStore(redis, options.nameSpace ?? 'lineguard:rate:') } : {}),
  });
  const limiter = (
    max: number,
    keyOf: (request: FastifyRequest) => string | undefined,
  ): Limiter | undefined =>
    max > 0
      ? app.createRateLimit({
          max,
          timeWindow: options.windowMs,
          keyGenerator: (request) => keyOf(request) ?? '',
          // A request without the thing counted (no API key) is not counted under an empty key.
          allowList: (request) => keyOf(request) === undefined,
        })
      : undefined;
  const perIp = limiter(options.perIpMax, (request) => `ip:${clientAddress(request.ip)}`);
  const perKey = limiter(options.perKeyMax, (request) => {
    const key = presentedKey(request);
    return key === undefined ? undefined : `key:${sha256Hex(key).slice(0, 32)}`;
  });
  const authFailures = limiter(options.authFailuresMax, (request) => `auth:${clientAddress(request.ip)}`);
  // A request's counts are asked for together: on Redis they go out in one script call with every other count asked
  // for in the same turn of the event loop (rate-limit-redis.ts), not one call per limit. The failed-authentication count is only
  // read here (authentication waits for it); a failure is counted when it happens.
  const authFailuresRead = new WeakMap<FastifyRequest, Promise<LimitResult>>();
  app.addHook('onRequest', async (request, reply) => {
    // Only where authentication will ask for it (a route with roles, a key presented): public routes skip the read.
    if (authFailures && request.routeOptions.config?.roles && presentedKey(request) !== undefined) {
      const read = authFailures(request, { increment: false });
      // Handled here too: a request refused below never asks for it, and an unawaited rejection would crash.
      read.catch(() => undefined);
      authFailuresRead.set(request, read);
    }
    const [byIp, byKey] = await Promise.all([perIp?.(request), perKey?.(request)]);
    if (byIp) refuseOverLimit(byIp, reply, 'this client address', true);
    if (byKey) refuseOverLimit(byKey, reply, 'this API key', true);
  });
  return {
    async beforeAuthentication(request, reply) {
      if (!authFailures) return;
      const read = authFailuresRead.get(request) ?? authFailures(request, { increment: false });
      refuseOverLimit(await read, reply, 'failed authentications from this address', false);
    },
    async authenticationFailed(request) {
      if (authFailures) await authFailures(request);
    },
  };
}

type LimitResult = Awaited<ReturnType<Limiter>>;

/** Refuses the request with 429 and Retry-After once its count (or, when only read, the count so far) is over. */
function refuseOverLimit(result: LimitResult, reply: FastifyReply, what: string, counted: boolean): void {
  if (result.isAllowed) return;
  // Reading without counting: at the limit is already too many (the next failure would pass it).
  const over = counted ? result.isExceeded : result.remaining === 0;
  if (!over) return;
  const retryAfterSeconds = Math.max(1, result.ttlInSeconds);
  void reply.header('retry-after', String(retryAfterSeconds));
  throw new LgError('LG_RATE_LIMITED', `too many requests for ${what}; retry in ${retryAfterSeconds} s`, {
    limit: result.max,
    windowMs: result.timeWindow,
    retryAfterSeconds,
  });
}

function presentedKey(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  const match = header ? /^Bearer\s+(\S+)$/i.exec(header) : null;
  return match?.[1];
}

async function connectRedis(url: string, app: FastifyInstance): Promise<Redis> {
  // No offline queue: while Redis is unreachable a count fails at once (and is skipped) rather than holding requests.
  const redis = new Redis(url, {
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    connectTimeout: 2000,
    // A Redis that stops answering without closing the connection (a partition) must not hold every request: a
    // count unanswered this long fails, and the request passes uncounted (skipOnError), as when Redis is down.
    commandTimeout: 1000,
    lazyConnect: true,
  });
  redis.on('error', (error: Error) => app.log.warn({ err: error }, 'rate-limit Redis unavailable'));
  // Connected before the first request is counted; if Redis is down at start, ioredis keeps reconnecting.
  await redis
    .connect()
    .catch((error: unknown) => app.log.error({ err: error }, 'rate-limit Redis not reachable'));
  return redis;
}

/**
 * The address a limit counts: IPv4 as is (also when mapped into IPv6), IPv6 by its /64 prefix, the block one
 * subscriber is routed (RFC 6177), so rotating through one's own addresses does not reset the count.
 */
export function clientAddress(ip: string): string {
  const lower = ip.toLowerCase();
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
  if (mapped?.[1]) return mapped[1];
  if (!lower.includes(':')) return lower;
  const [head = '', tail] = lower.split('::');
  const headGroups = head === '' ? [] : head.split(':');
  const tailGroups = tail === undefined || tail === '' ? [] : tail.split(':');
  const missing = Math.max(0, 8 - headGroups.length - tailGroups.length);
  const groups =
    tail === undefined ? headGroups : [...headGroups, ...Array<string>(missing).fill('0'), ...tailGroups];
  return `${groups
    .slice(0, 4)
    .map((group) => group.replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
}
