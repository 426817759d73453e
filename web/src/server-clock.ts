/**
 * The server's time as the console reckons it: the browser's clock corrected by the offset the session measured when
 * it was read (GET /v1/session answers the server's time). A browser whose clock is wrong, or in another zone's
 * idea of now, then still shows an SLA's time left as the server counts it.
 */
let offsetMs = 0;

/** Takes the server's time from a session just read: `serverTime` (ISO), `readAt` the browser's time it came back. */
export function learnServerTime(serverTime: string, readAt: number): void {
  const server = Date.parse(serverTime);
  if (Number.isFinite(server)) offsetMs = server - readAt;
}

/** Now on the server's clock, in epoch milliseconds. */
export function serverNow(): number {
  return Date.now() + offsetMs;
}
