import { createHash } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { canonicalJson } from '../domain/canonical-json.js';
import { LgError } from '../domain/errors.js';
import type { Clock } from '../domain/clock.js';
import type { Db } from '../store/db.js';

/**
 * Stripe-style idempotency for retryable writes:
 * - the first request with a key claims it ('in_flight') before the handler runs;
 * - a repeat with the same body gets the first response byte-for-byte; with another body, 422;
 * - a repeat while the first is still running gets 409;
 * - a 5xx releases the claim so the client may retry; any other response is kept.
 * Keys are scoped by the caller's API key and the route, so two clients never collide.
 */
export const IDEMPOTENCY_HEADER = 'idempotency-key';
const KEY_PATTERN = /^[A-Za-z0-9._:-]{1,255}$/;

interface Claim {
  readonly scope: string;
  readonly key: string;
}

const claims = new WeakMap<FastifyRequest, Claim>();

export function requestHash(request: FastifyRequest): string {
  return createHash('sha256')
    .update(`${request.method} ${request.url}\n`)
    .update(canonicalJson(request.body ?? null))
    .digest('hex');
}

export function createIdempotencyHooks(db: Db, clock: Clock) {
  async function claim(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const header = request.headers[IDEMPOTENCY_HEADER];
    const key = Array.isArray(header) ? header[0] : header;
    if (!key) throw new LgError('LG_IDEMPOTENCY_KEY_REQUIRED', 'this write needs an Idempotency-Key header (1-255 of A-Z a-z 0-9 . _ : -)');
    if (!KEY_PATTERN.test(key)) throw new LgError('LG_VALIDATION', 'Idempotency-Key must be 1-255 of A-Z a-z 0-9 . _ : -');
    const scope = `${request.principal?.keyId ?? 'anonymous'} ${request.routeOptions.url ?? request.url}`;
    const hash = requestHash(request);
    const inserted = await db
      .insertInto('idempotency_keys')
      .values({ scope, idem_key: key, request_hash: hash, state: 'in_flight', status_code: null, response_body: null, created_at: clock.now() })
      .onConflict((oc) => oc.columns(['scope', 'idem_key']).doNothing())
      .executeTakeFirst();
    if (Number(inserted.numInsertedOrUpdatedRows ?? 0) === 1) {
      claims.set(request, { scope, key });
      return;
    }
    const existing = await db
      .selectFrom('idempotency_keys')
      .selectAll()
      .where('scope', '=', scope)
      .where('idem_key', '=', key)
      .executeTakeFirstOrThrow();
    if (existing.request_hash !== hash) {
      throw new LgError('LG_IDEMPOTENCY_MISMATCH', 'this Idempotency-Key was used with a different request body', { idempotencyKey: key });
    }
    if (existing.state !== 'done' || existing.response_body === null || existing.status_code === null) {
      throw new LgError('LG_IDEMPOTENCY_IN_FLIGHT', 'a request with this Idempotency-Key is still being processed; retry later', { idempotencyKey: key });
    }
    reply.header('idempotent-replayed', 'true');
    reply.code(existing.status_code).type('application/json; charset=utf-8');
    return reply.send(existing.response_body);
  }

  async function record(request: FastifyRequest, reply: FastifyReply, payload: unknown): Promise<unknown> {
    const owned = claims.get(request);
    if (!owned) return payload;
    claims.delete(request);
    const where = db.updateTable('idempotency_keys').where('scope', '=', owned.scope).where('idem_key', '=', owned.key);
    if (reply.statusCode >= 500 || typeof payload !== 'string') {
      await db.deleteFrom('idempotency_keys').where('scope', '=', owned.scope).where('idem_key', '=', owned.key).execute();
      return payload;
    }
    await where.set({ state: 'done', status_code: reply.statusCode, response_body: payload }).execute();
    return payload;
  }

  return { claim, record };
}
