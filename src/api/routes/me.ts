import { Type, type Static } from '@sinclair/typebox';
import * as R from './responses.js';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { LgError } from '../../domain/index.js';
import { UUID_PATTERN } from '../../domain/index.js';
import type { CoreServices } from '../../core/index.js';
import { COMPLAINT_CATEGORIES, type CaseService } from '../../cases/index.js';
import { BORROWERS, typed, type TypedApp } from '../types.js';
import { answeringGuard } from '../idempotency.js';

/**
 * The borrower's own view, with a borrower token (issue 11). Every route reads the borrower from the token, never
 * from the request; someone else's line, appeal, complaint or draw answers 404, never 403.
 */
export interface MeRoutesDeps {
  readonly cases: CaseService;
  readonly core: () => CoreServices;
}

const IdParams = Type.Object({ id: Type.String({ pattern: UUID_PATTERN }) });
type IdParams = Static<typeof IdParams>;
const LangQuery = Type.Object(
  { lang: Type.Optional(Type.Union([Type.Literal('zh'), Type.Literal('en')])) },
  { additionalProperties: false },
);
type LangQuery = Static<typeof LangQuery>;
const AppealBody = Type.Object(
  {
    actionId: Type.Optional(
      Type.String({ pattern: UUID_PATTERN, description: 'the line action appealed against' }),
    ),
    decisionId: Type.Optional(
      Type.String({ pattern: UUID_PATTERN, description: 'or the decision appealed against' }),
    ),
    text: Type.String({ minLength: 1, maxLength: 4000 }),
    documents: Type.Optional(
      Type.Array(
        Type.String({ minLength: 1, maxLength: 256, description: 'a reference to an uploaded document' }),
        {
          maxItems: 20,
        },
      ),
    ),
  },
  { additionalProperties: false },
);
const ComplaintBody = Type.Object(
  {
    category: R.literals(COMPLAINT_CATEGORIES),
    text: Type.String({ minLength: 1, maxLength: 4000 }),
  },
  { additionalProperties: false },
);
type ComplaintBody = Static<typeof ComplaintBody>;

const tags = ['me'];

/** The borrower a /v1/me route speaks for: from the token, never from the request. */
export function borrowerOf(request: FastifyRequest): string {
  const id = request.principal?.borrowerId;
  // The route's roles admit only borrower tokens, which always carry their borrower.
  if (!id) throw new LgError('LG_FORBIDDEN', 'this route needs a borrower token');
  return id;
}

/** What every /v1/me route shares: the borrower's face of the case service and the one borrowers-only config. */
interface MeRouteContext {
  readonly me: CaseService['borrower'];
  readonly config: { roles: typeof BORROWERS };
}

export function meRoutes(deps: MeRoutesDeps): FastifyPluginAsync {
  const me = deps.cases.borrower;
  const config = { roles: BORROWERS };
  return async (instance) => {
    const app = typed(instance);
    const context: MeRouteContext = { me, config };
    meLineRoutes(app, context);
    meAppealRoutes(app, context);
    meComplaintRoutes(app, context);
    meDrawRoutes(app, context);
  };
}

/** The borrower's lines and the explanation of a decision on one. */
function meLineRoutes(app: TypedApp, { me, config }: MeRouteContext): void {
  app.get(
    '/v1/me/lines',
    {
      config,
      schema: {
        tags,
        summary: 'Your credit lines',
        response: {
          200: Type.Object({
            items: Type.Array(
              Type.Object({
                id: Type.String(),
                status: Type.String(),
                currency: Type.String(),
                limitMinor: Type.Integer(),
                availableMinor: Type.Integer(),
                outstandingPrincipalMinor: Type.Integer(),
                annualRate: Type.Number(),
              }),
            ),
          }),
          ...R.READ_ERRORS,
        },
      },
    },
    async (request) => me.lines(borrowerOf(request)),
  );

  app.get(
    '/v1/me/lines/:id/explanation',
    {
      config,
      schema: {
        tags,
        summary: 'Why your line is as it is, what you can do, how to appeal (and your open appeals)',
        params: IdParams,
        querystring: LangQuery,
        response: {
          200: R.MyLineExplanation,
          ...R.ITEM_READ_ERRORS,
        },
      },
    },
    async (request) =>
      // The cases module answers the core's explanation widened to a record (src/cases/borrower.ts); its members
      // are the core's LineExplanation plus the open appeals, which the contract test checks on every answer.
      (await me.explanation(borrowerOf(request), request.params.id, request.query.lang ?? 'zh')) as Static<
        typeof R.MyLineExplanation
      >,
  );
}

/** The borrower's appeals: list, lodge, read. */
function meAppealRoutes(app: TypedApp, { me, config }: MeRouteContext): void {
  app.get(
    '/v1/me/appeals',
    {
      config,
      schema: {
        tags,
        summary: 'Your appeals with state, deadline and outcome',
        querystring: LangQuery,
        response: { 200: Type.Object({ items: Type.Array(R.AppealListItem) }), ...R.READ_ERRORS },
      },
    },
    async (request) => me.appeals(borrowerOf(request), request.query.lang ?? 'zh'),
  );

  app.post(
    '/v1/me/appeals',
    {
      // personalData: the request holds the borrower's appeal in their own words, the 201 its documents.
      config: { ...config, idempotent: true, personalData: true },
      schema: {
        tags,
        summary: 'Appeal against a line action or a decision',
        body: AppealBody,
        response: { 201: R.AppealView, ...R.WRITE_ERRORS },
      },
    },
    async (request, reply) => {
      // The answer is stored with the idempotency key in the appeal's own transaction, before the reply.
      const answer = answeringGuard(request, reply, () => 201);
      return answer.send(await me.fileAppeal(borrowerOf(request), request.body, answer.guard));
    },
  );

  app.get(
    '/v1/me/appeals/:id',
    {
      config,
      schema: {
        tags,
        summary: 'One of your appeals',
        params: IdParams,
        querystring: LangQuery,
        response: { 200: R.AppealView, ...R.ITEM_READ_ERRORS },
      },
    },
    async (request) => me.appeal(borrowerOf(request), request.params.id, request.query.lang ?? 'zh'),
  );
}

/** The borrower's complaints: list, lodge, read. */
function meComplaintRoutes(app: TypedApp, { me, config }: MeRouteContext): void {
  app.get(
    '/v1/me/complaints',
    {
      config,
      schema: {
        tags,
        summary: 'Your complaints',
        querystring: LangQuery,
        response: { 200: Type.Object({ items: Type.Array(R.ComplaintListItem) }), ...R.READ_ERRORS },
      },
    },
    async (request) => me.complaints(borrowerOf(request), request.query.lang ?? 'zh'),
  );

  app.post(
    '/v1/me/complaints',
    {
      // personalData: the request holds the borrower's complaint in their own words.
      config: { ...config, idempotent: true, personalData: true },
      schema: {
        tags,
        summary: 'File a complaint; acknowledged at once with its 15-day deadline',
        body: ComplaintBody,
        response: { 201: R.ComplaintView, ...R.WRITE_ERRORS },
      },
    },
    async (request, reply) => {
      // The answer is stored with the idempotency key in the complaint's own transaction, before the reply.
      const answer = answeringGuard(request, reply, () => 201);
      return answer.send(await me.fileComplaint(borrowerOf(request), request.body, answer.guard));
    },
  );

  app.get(
    '/v1/me/complaints/:id',
    {
      config,
      schema: {
        tags,
        summary: 'One of your complaints',
        params: IdParams,
        querystring: LangQuery,
        response: { 200: R.ComplaintView, ...R.ITEM_READ_ERRORS },
      },
    },
    async (request) => me.complaint(borrowerOf(request), request.params.id, request.query.lang ?? 'zh'),
  );
}

/** Cancelling one of the borrower's own draws. */
function meDrawRoutes(app: TypedApp, { me, config }: MeRouteContext): void {
  app.post(
    '/v1/me/draws/:id/cancel',
    {
      config: { ...config, idempotent: true },
      schema: {
        tags,
        summary: 'Cancel a draw during its cooling-off',
        params: IdParams,
        response: { 200: Type.Object({ drawId: Type.String(), status: Type.String() }), ...R.WRITE_ERRORS },
      },
    },
    async (request, reply) => {
      // The answer is stored with the idempotency key in the cancellation's own transaction, before the reply.
      const answer = answeringGuard(request, reply, () => 200);
      return answer.send(await me.cancelDraw(borrowerOf(request), request.params.id, answer.guard));
    },
  );
}
