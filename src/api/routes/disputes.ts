import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import { UUID_PATTERN } from '../../domain/index.js';
import type { CaseService } from '../../cases/index.js';
import { DISPUTE_TARGET_KINDS, type ConsentServices } from '../../compliance/index.js';
import { actorOf, BORROWERS, CASE_WORKERS, READERS, WRITERS, typed, type TypedApp } from '../types.js';
import { borrowerOf } from './me.js';
import { answeringGuard } from '../idempotency.js';
import * as R from './responses.js';

/**
 * Credit-report disputes (异议, 征信业管理条例 Art. 25) and the notices that precede a delinquency report (Art. 15).
 * A borrower disputes with their token (/v1/me/…), an operator for a borrower; either opens a CREDIT_REPORT_DISPUTE
 * case (20 days) resolved through POST /v1/cases/{id}/resolve with CORRECTED or REJECTED.
 */
export interface DisputeRoutesDeps {
  readonly cases: CaseService;
  readonly consents: ConsentServices;
}

const IdParams = Type.Object({ id: Type.String({ pattern: UUID_PATTERN }) });
const Target = Type.Object(
  {
    kind: R.literals(DISPUTE_TARGET_KINDS),
    id: Type.String({
      pattern: '^[A-Za-z0-9-]{1,64}$',
      description: 'the inquiry id, the delinquency notice id, or the report item (existingDebtMinor, …)',
    }),
    correctValue: Type.Optional(
      Type.Union([Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER }), Type.Boolean()], {
        description: 'for a REPORT_ITEM: the value you say is right',
      }),
    ),
  },
  { additionalProperties: false },
);
const Text = Type.String({ minLength: 1, maxLength: 4000 });
const MyDisputeBody = Type.Object({ target: Target, text: Text }, { additionalProperties: false });
const DisputeBody = Type.Object(
  { borrowerId: Type.String({ pattern: UUID_PATTERN }), target: Target, text: Text },
  { additionalProperties: false },
);
const Disputes = Type.Object({ items: Type.Array(R.DisputeListItem) });
const BureauNotices = Type.Object({ items: Type.Array(R.BureauNoticeView) });

const tags = ['disputes'];

/** What both dispute route groups share: the services and the dispute reads. */
interface DisputeRouteContext {
  readonly deps: DisputeRoutesDeps;
  readonly disputes: ConsentServices['disputes'];
}

export function disputeRoutes(deps: DisputeRoutesDeps): FastifyPluginAsync {
  const disputes = deps.consents.disputes;
  return async (instance) => {
    const app = typed(instance);
    const context: DisputeRouteContext = { deps, disputes };
    myDisputeRoutes(app, context);
    operatorDisputeRoutes(app, context);
  };
}

/** The borrower's own disputes and bureau notices, with their token. */
function myDisputeRoutes(app: TypedApp, { deps, disputes }: DisputeRouteContext): void {
  app.post(
    '/v1/me/disputes',
    {
      // personalData: the answer holds the borrower's claim about their credit report and its text.
      config: { roles: BORROWERS, idempotent: true, personalData: true },
      schema: {
        tags: ['me'],
        summary:
          'Dispute an inquiry, a reported delinquency or an item of your credit report (answer in 20 days)',
        body: MyDisputeBody,
        response: { 201: R.DisputeView, ...R.WRITE_ERRORS },
      },
    },
    async (request, reply) => {
      // The answer is stored with the idempotency key in the dispute's own transaction, before the reply.
      const answer = answeringGuard(request, reply, () => 201);
      return answer.send(
        await deps.cases.raiseDispute(
          {
            borrowerId: borrowerOf(request),
            target: request.body.target,
            text: request.body.text,
            raisedBy: 'borrower',
          },
          answer.guard,
        ),
      );
    },
  );

  app.get(
    '/v1/me/disputes',
    {
      config: { roles: BORROWERS },
      schema: {
        tags: ['me'],
        summary: 'Your credit-report disputes',
        response: { 200: Disputes, ...R.READ_ERRORS },
      },
    },
    async (request) => ({ items: await disputes.ofBorrower(borrowerOf(request)) }),
  );

  app.get(
    '/v1/me/disputes/:id',
    {
      config: { roles: BORROWERS },
      schema: {
        tags: ['me'],
        summary: 'One of your disputes',
        params: IdParams,
        response: { 200: R.DisputeView, ...R.ITEM_READ_ERRORS },
      },
    },
    async (request) => disputes.get(request.params.id, borrowerOf(request)),
  );

  app.get(
    '/v1/me/bureau-notices',
    {
      config: { roles: BORROWERS },
      schema: {
        tags: ['me'],
        summary: 'Notices that an overdue loan will be reported to the credit bureau, and whether it was',
        response: { 200: BureauNotices, ...R.READ_ERRORS },
      },
    },
    async (request) => ({ items: await deps.consents.reporting.noticesOf(borrowerOf(request)) }),
  );
}

/** An operator's disputes for a borrower, and that borrower's bureau notices. */
function operatorDisputeRoutes(app: TypedApp, { deps, disputes }: DisputeRouteContext): void {
  app.post(
    '/v1/disputes',
    {
      // personalData: the answer holds the borrower's claim about their credit report and its text.
      config: { roles: [...new Set([...WRITERS, ...CASE_WORKERS])], idempotent: true, personalData: true },
      schema: {
        tags,
        summary: "Record a borrower's credit-report dispute (opens its case)",
        body: DisputeBody,
        response: { 201: R.DisputeView, ...R.WRITE_ERRORS },
      },
    },
    async (request, reply) => {
      // The answer is stored with the idempotency key in the dispute's own transaction, before the reply.
      const answer = answeringGuard(request, reply, () => 201);
      return answer.send(
        await deps.cases.raiseDispute(
          {
            borrowerId: request.body.borrowerId,
            target: request.body.target,
            text: request.body.text,
            raisedBy: actorOf(request),
          },
          answer.guard,
        ),
      );
    },
  );

  app.get(
    '/v1/disputes/:id',
    {
      config: { roles: READERS },
      schema: {
        tags,
        summary: 'A credit-report dispute',
        params: IdParams,
        response: { 200: R.DisputeView, ...R.ITEM_READ_ERRORS },
      },
    },
    async (request) => disputes.get(request.params.id),
  );

  app.get(
    '/v1/borrowers/:id/disputes',
    {
      config: { roles: READERS },
      schema: {
        tags,
        summary: "A borrower's credit-report disputes",
        params: IdParams,
        response: { 200: Disputes, ...R.ITEM_READ_ERRORS },
      },
    },
    async (request) => ({ items: await disputes.ofBorrower(request.params.id) }),
  );

  app.get(
    '/v1/borrowers/:id/bureau-notices',
    {
      config: { roles: READERS },
      schema: {
        tags,
        summary: "A borrower's delinquency notices and reports to the bureau",
        params: IdParams,
        response: { 200: BureauNotices, ...R.ITEM_READ_ERRORS },
      },
    },
    async (request) => ({ items: await deps.consents.reporting.noticesOf(request.params.id) }),
  );
}
