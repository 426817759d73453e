import { Type, type Static } from '@sinclair/typebox';
import * as R from './responses.js';
import type { FastifyPluginAsync } from 'fastify';
import { UUID_PATTERN } from '../../domain/index.js';
import { REPAYMENT_METHODS } from '../../domain/index.js';
import type { CoreServices } from '../../core/index.js';
import { READERS, WRITERS, typed } from '../types.js';
import { answeringGuard } from '../idempotency.js';

/** Quotes before the draw (PBoC [2021] No. 3): price without booking; a draw may cite the quote id. */
const IdParams = Type.Object({ id: Type.String({ pattern: UUID_PATTERN }) });
type IdParams = Static<typeof IdParams>;

const QuoteBody = Type.Object(
  {
    amountMinor: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }),
    currency: Type.String({ pattern: '^[A-Z]{3}$' }),
    termMonths: Type.Integer({ minimum: 1, maximum: 360 }),
    method: R.literals(REPAYMENT_METHODS),
    purpose: Type.Optional(Type.String({ maxLength: 64 })),
  },
  { additionalProperties: false },
);
type QuoteBody = Static<typeof QuoteBody>;

export function quoteRoutes(core: CoreServices): FastifyPluginAsync {
  return async (instance) => {
    const app = typed(instance);
    app.post(
      '/v1/lines/:id/quotes',
      {
        config: { roles: WRITERS, idempotent: true },
        schema: {
          tags: ['loans'],
          summary:
            'Quote a draw without booking it: schedule, interest, fees, APR (CN_IRR, US_REGZ, EU_CCD, simple), daily rate, early-repayment cost, key facts zh/en',
          params: IdParams,
          body: QuoteBody,
          response: { 201: R.QuoteView, ...R.WRITE_ERRORS },
        },
      },
      async (request, reply) => {
        // The answer is stored with the idempotency key in the quote's own transaction, before the reply.
        const answer = answeringGuard(request, reply, () => 201);
        return answer.send(await core.createQuote(request.params.id, request.body, answer.guard));
      },
    );

    app.get(
      '/v1/quotes/:id',
      {
        config: { roles: READERS },
        schema: {
          tags: ['loans'],
          summary: 'A stored quote, as it was given',
          params: IdParams,
          response: { 200: R.QuoteView, ...R.ITEM_READ_ERRORS },
        },
      },
      async (request) => core.getQuote(request.params.id),
    );
  };
}
