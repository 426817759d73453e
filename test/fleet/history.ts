import { TEST_ADMIN_KEY } from '../helpers/app.js';

/** One HTTP call the fleet driver made, and what (if anything) came back. */
export interface Call {
  readonly method: 'POST' | 'GET';
  readonly path: string;
  readonly body?: unknown;
  readonly idempotencyKey?: string;
  /** undefined: no answer (the connection broke, the process died): the outcome is unknown to the client. */
  status?: number;
  text?: string;
}

/**
 * An acknowledged write: the server answered it with a final status. 5xx and 409 "in flight" are not outcomes (the
 * client must retry), and a 503 says the outcome is unknown.
 */
export function acknowledged(call: Call): boolean {
  if (call.status === undefined || call.status >= 500) return false;
  if (call.status === 409 && call.text?.includes('LG_IDEMPOTENCY_IN_FLIGHT')) return false;
  return true;
}

/** Sends a call to `base`; records the answer in the call (or leaves it unknown on a broken connection). */
export async function send(base: string, call: Call, timeoutMs = 20_000): Promise<Call> {
  const headers: Record<string, string> = { authorization: `Bearer ${TEST_ADMIN_KEY}` };
  if (call.body !== undefined) headers['content-type'] = 'application/json';
  if (call.idempotencyKey) headers['idempotency-key'] = call.idempotencyKey;
  try {
    const res = await fetch(`${base}${call.path}`, {
      method: call.method,
      headers,
      body: call.body === undefined ? undefined : JSON.stringify(call.body),
      signal: AbortSignal.timeout(timeoutMs),
    });
    call.text = await res.text();
    call.status = res.status;
  } catch {
    // Unknown outcome: the process was killed or the connection dropped mid-request.
  }
  return call;
}

/** The JSON of an answered call. */
export function json<T>(call: Call): T {
  return JSON.parse(call.text ?? 'null') as T;
}

/** A small deterministic PRNG for the driver's choices (mulberry32), so a failing run can be repeated. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}
