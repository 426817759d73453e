import type { FastifyReply, FastifyRequest } from 'fastify';
import type { PendingChangeView } from '../../cases/index.js';
import { answeringGuard } from '../idempotency.js';

/**
 * The guard for a four-eyes gate's proposal on an idempotent route: when the gate holds the change for a second
 * person, its unit commits the key with the route's 202 `{ pendingChange }`. The route's own write takes a guard of
 * its own over the same request; only the unit that commits first writes the key.
 */
export function answeringProposal(request: FastifyRequest, reply: FastifyReply) {
  return answeringGuard(
    request,
    reply,
    () => 202,
    (pendingChange: PendingChangeView) => ({ pendingChange }),
  );
}
