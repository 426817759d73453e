import { Type, type Static, type TSchema } from '@sinclair/typebox';
import * as R from './responses.js';
import type { FastifyPluginAsync } from 'fastify';
import { UUID_PATTERN } from '../../domain/index.js';
import {
  PAGE_LIMIT_MAX,
  listBorrowerLines,
  listLineDraws,
  listLineLoans,
  type PageQuery,
  type ListingStore,
} from '../../core/index.js';
import { READERS, typed } from '../types.js';
import { parseInstant } from '../instants.js';

/**
 * What a client reads to find out what happened to writes whose answers it lost (a timeout, a crash between commit and
 * reply answered later with 409 `committed: true`): a line's draws and loans, a borrower's lines, paged and by time.
 */
const IdParams = Type.Object({ id: Type.String({ pattern: UUID_PATTERN }) });
type IdParams = Static<typeof IdParams>;
const PageQuerystring = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: PAGE_LIMIT_MAX, default: 100 })),
    after: Type.Optional(
      Type.String({ maxLength: 200, pattern: '^[A-Za-z0-9_-]+$', description: "the previous page's next" }),
    ),
    from: Type.Optional(
      Type.String({ maxLength: 40, description: 'created at or after (RFC 3339 date-time)' }),
    ),
    to: Type.Optional(Type.String({ maxLength: 40, description: 'created before (RFC 3339 date-time)' })),
  },
  { additionalProperties: false },
);
type PageQuerystring = Static<typeof PageQuerystring>;

function pageQuery(q: PageQuerystring): PageQuery {
  return {
    ...(q.limit === undefined ? {} : { limit: q.limit }),
    ...(q.after === undefined ? {} : { after: q.after }),
    ...(q.from === undefined ? {} : { from: parseInstant(q.from, 'from') }),
    ...(q.to === undefined ? {} : { to: parseInstant(q.to, 'to') }),
  };
}

export function listingRoutes(store: ListingStore): FastifyPluginAsync {
  return async (instance) => {
    const app = typed(instance);
    const schema = <T extends TSchema>(tags: string[], summary: string, item: T) => ({
      tags,
      summary,
      params: IdParams,
      querystring: PageQuerystring,
      response: {
        200: Type.Object({ items: Type.Array(item), next: Type.Union([Type.String(), Type.Null()]) }),
        ...R.ITEM_READ_ERRORS,
      },
    });
    app.get(
      '/v1/lines/:id/draws',
      {
        config: { roles: READERS },
        schema: schema(['lines'], "A line's draws, oldest first, a page at a time", R.DrawListItem),
      },
      async (request) => listLineDraws(store, request.params.id, pageQuery(request.query)),
    );
    app.get(
      '/v1/lines/:id/loans',
      {
        config: { roles: READERS },
        schema: schema(['loans'], "A line's loans, oldest first, a page at a time", R.LoanListItem),
      },
      async (request) => listLineLoans(store, request.params.id, pageQuery(request.query)),
    );
    app.get(
      '/v1/borrowers/:id/lines',
      {
        config: { roles: READERS },
        schema: schema(['lines'], "A borrower's lines, oldest first, a page at a time", R.LineListItem),
      },
      async (request) => listBorrowerLines(store, request.params.id, pageQuery(request.query)),
    );
  };
}
