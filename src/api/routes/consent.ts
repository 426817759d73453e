import { Type } from '@sinclair/typebox';
import * as R from './responses.js';
import type { FastifyPluginAsync } from 'fastify';
import { UUID_PATTERN } from '../../domain/index.js';
import { LgError } from '../../domain/index.js';
import { CONSENT_CHANNELS, CONSENT_PURPOSES, type ConsentServices } from '../../compliance/index.js';
import { parseInstant } from '../instants.js';
import { answeringGuard } from '../idempotency.js';
import {
  guardOf,
  actorOf,
  BORROWERS,
  READERS,
  RISK_WRITERS,
  WRITERS,
  typed,
  type TypedApp,
} from '../types.js';

/** Consent records and credit-report inquiries (征信业管理条例 Art. 18; PIPL Art. 13-15). */
const tags = ['consent'];
const IdParams = Type.Object({ id: Type.String({ pattern: UUID_PATTERN }) });
const { literals } = R;

const ConsentBody = Type.Object(
  {
    nationalId: Type.String({ minLength: 1, maxLength: 32, description: '18-character resident ID' }),
    purpose: literals(CONSENT_PURPOSES),
    textVersion: Type.String({
      minLength: 1,
      maxLength: 64,
      description: 'the consent text shown (see CONSENT_TEXTS)',
    }),
    channel: literals(CONSENT_CHANNELS),
    expiresAt: Type.Optional(Type.String({ format: 'date-time' })),
  },
  { additionalProperties: false },
);
const WithdrawBody = Type.Object(
  { reason: Type.String({ minLength: 1, maxLength: 500 }) },
  { additionalProperties: false },
);
const PullBody = Type.Object(
  {
    borrowerId: Type.String({ pattern: UUID_PATTERN }),
    purpose: literals(CONSENT_PURPOSES),
    kind: literals(['hard', 'soft'] as const),
    reason: Type.String({ minLength: 1, maxLength: 500 }),
  },
  { additionalProperties: false },
);

export function consentRoutes(services: ConsentServices): FastifyPluginAsync {
  return async (instance) => {
    const app = typed(instance);
    consentRecordRoutes(app, services);
    inquiryReadRoutes(app, services);
    bureauInquiryRoutes(app, services);
  };
}

/** Consent records: record, withdraw, and a borrower's consents. */
function consentRecordRoutes(app: TypedApp, services: ConsentServices): void {
  app.post(
    '/v1/consents',
    {
      // personalData: the request holds the national ID (its key row keeps no unkeyed hash of it).
      config: { roles: WRITERS, idempotent: true, personalData: true },
      schema: {
        tags,
        summary: 'Record a consent (purpose, text version shown, channel, expiry); in the ledger',
        body: ConsentBody,
        response: { 201: R.ConsentView, ...R.WRITE_ERRORS },
      },
    },
    async (request, reply) => {
      const body = request.body;
      // The answer is stored with the idempotency key in the consent's own transaction, before the reply.
      const answer = answeringGuard(request, reply, () => 201);
      const consent = await services.recordConsent(
        {
          nationalId: body.nationalId,
          purpose: body.purpose,
          textVersion: body.textVersion,
          channel: body.channel,
          expiresAt: parseInstant(body.expiresAt, 'expiresAt'),
          recordedBy: actorOf(request),
        },
        answer.guard,
      );
      return answer.send(consent);
    },
  );

  app.post(
    '/v1/consents/:id/withdraw',
    {
      config: { roles: WRITERS, idempotent: true },
      schema: {
        tags,
        summary: 'Withdraw a consent: no inquiry under it from now on',
        params: IdParams,
        body: WithdrawBody,
        response: { 200: R.ConsentView, ...R.WRITE_ERRORS },
      },
    },
    async (request, reply) => {
      // The answer is stored with the idempotency key in the withdrawal's own transaction, before the reply.
      const answer = answeringGuard(request, reply, () => 200);
      const consent = await services.withdrawConsent(
        { consentId: request.params.id, reason: request.body.reason, by: actorOf(request) },
        answer.guard,
      );
      return answer.send(consent);
    },
  );

  app.get(
    '/v1/borrowers/:id/consents',
    {
      config: { roles: READERS },
      schema: {
        tags,
        summary: "A borrower's consents with their status",
        params: IdParams,
        response: { 200: Type.Object({ consents: Type.Array(R.ConsentView) }), ...R.ITEM_READ_ERRORS },
      },
    },
    async (request) => ({ consents: await services.consentsOfBorrower(request.params.id) }),
  );
}

/** The credit-report inquiries made about a borrower, as an operator and as the borrower sees them. */
function inquiryReadRoutes(app: TypedApp, services: ConsentServices): void {
  app.get(
    '/v1/borrowers/:id/inquiries',
    {
      config: { roles: READERS },
      schema: {
        tags,
        summary: "A borrower's credit-report inquiries, pulled and refused, newest first",
        params: IdParams,
        response: { 200: Type.Object({ inquiries: Type.Array(R.InquiryView) }), ...R.ITEM_READ_ERRORS },
      },
    },
    async (request) => ({ inquiries: await services.inquiriesOfBorrower(request.params.id) }),
  );

  app.get(
    '/v1/me/inquiries',
    {
      config: { roles: BORROWERS },
      schema: {
        tags: ['me'],
        summary: 'Who pulled your credit report, when and why (pulled and refused), newest first',
        response: { 200: Type.Object({ inquiries: Type.Array(R.InquiryView) }), ...R.READ_ERRORS },
      },
    },
    async (request) => {
      const borrowerId = request.principal?.borrowerId;
      if (!borrowerId) throw new LgError('LG_FORBIDDEN', 'this route needs a borrower token');
      return { inquiries: await services.inquiriesOfBorrower(borrowerId) };
    },
  );
}

/** Pulling a credit report for a borrower (an inquiry that needs their consent). */
function bureauInquiryRoutes(app: TypedApp, services: ConsentServices): void {
  app.post(
    '/v1/bureau/inquiries',
    {
      // personalData: the 201 carries the credit report, kept nowhere else (its key row seals it).
      config: { roles: RISK_WRITERS, idempotent: true, personalData: true },
      schema: {
        tags,
        summary:
          'Pull a credit report for an existing borrower (e.g. POST_LOAN_MGMT); refused without consent',
        body: PullBody,
        response: {
          201: Type.Object({
            status: Type.Literal('PULLED'),
            inquiryId: Type.String(),
            consentId: Type.String(),
            report: Type.Union([R.BureauReport, Type.Null()]),
            attributes: Type.Union([
              Type.Record(Type.String(), Type.Union([Type.Boolean(), Type.Number()])),
              Type.Null(),
            ]),
          }),
          ...R.WRITE_ERRORS,
        },
      },
    },
    async (request, reply) => {
      // Its answer is stored after the commit (the generic path): a pull's 201 carries the bureau's report, fetched
      // after the inquiry commits (a unit never waits on the network), so the inquiry's unit cannot say it.
      const result = await services.pullForBorrower(
        {
          ...request.body,
          requestedBy: actorOf(request),
        },
        guardOf(request),
      );
      // A refused pull is logged (with its inquiry id) and answered with the refusal's stable code.
      if (result.status === 'REFUSED')
        throw new LgError(result.code, `no inquiry was made: ${result.code}`, {
          inquiryId: result.inquiryId,
        });
      return reply.code(201).send(result);
    },
  );
}
