import type { Redis } from 'ioredis';

/** How often a client's connection is asked whether it still answers. */
export const SILENCE_CHECK_EVERY_MS = 2_000;
/** How long a check waits for its PING before it counts the connection as dead. */
export const SILENCE_TIMEOUT_MS = 2_000;

/**
 * A Redis connection that went silent (a partition, a failed-over address: open, but nothing comes back) raises no
 * error until TCP gives up on it, about 15 minutes on Linux; until then every command on it times out, so a new
 * Redis behind the same name would never be reached. A PING every `everyMs` that goes unanswered for `timeoutMs`
 * drops the connection and opens a new one (ioredis reconnects by itself after `disconnect(true)`). One command per
 * check while the connection is ready; nothing while it is (re)connecting. Returns the function that stops it.
 */
export function reconnectWhenSilent(
  redis: Redis,
  everyMs = SILENCE_CHECK_EVERY_MS,
  timeoutMs = SILENCE_TIMEOUT_MS,
): () => void {
  let checking = false;
  const check = () => {
    if (checking || redis.status !== 'ready') return;
    checking = true;
    const reconnect = () => {
      if (redis.status === 'ready') redis.disconnect(true);
    };
    const deadline = setTimeout(reconnect, timeoutMs);
    redis
      .ping()
      // The client's own command timeout may be the shorter one: a PING it gave up on counts as unanswered too.
      .catch((error: unknown) => {
        if (error instanceof Error && /timed out/i.test(error.message)) reconnect();
      })
      .finally(() => {
        clearTimeout(deadline);
        checking = false;
      });
  };
  const timer = setInterval(check, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
