import type { UnitGuard } from '../../domain/index.js';
import { Type, type Static } from '@sinclair/typebox';
import * as R from './responses.js';
import type { PendingChangeView } from '../../cases/index.js';
import type { FastifyPluginAsync } from 'fastify';
import { LINE_ACTION_TYPES, LgError } from '../../domain/index.js';
import { REPAYMENT_METHODS } from '../../domain/index.js';
import { UUID_PATTERN } from '../../domain/index.js';
import { FUNDING_MODES } from '../../domain/index.js';
import { checkPersonReasons, type CoreServices, type DrawResult } from '../../core/index.js';
import { answeringGuard } from '../idempotency.js';
import { answeringProposal } from './pending-change.js';
import {
  partyOf,
  READERS,
  RISK_WRITERS,
  WRITERS,
  typed,
  type RequestParty,
  type TypedApp,
} from '../types.js';
import { parseInstant } from '../instants.js';

/** The credit-line core over HTTP: applications, lines, actions, explanations, draws, loans, repayments. */
const IdParams = Type.Object({ id: Type.String({ pattern: UUID_PATTERN }) });
type IdParams = Static<typeof IdParams>;

const Currency = Type.String({ pattern: '^[A-Z]{3}$', description: 'ISO 4217' });
const Minor = (description: string) =>
  Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER, description });
/** A person's name: something besides spaces, and no control characters (a NUL or a newline in a stored name). */
const PersonName = Type.String({ minLength: 1, maxLength: 64, pattern: '^(?=.*\\S)[^\\p{Cc}]+$' });
/** A client's address, checked against the lists: an IPv4 or IPv6 address, not a range or a host name. */
const ClientIp = (description?: string) =>
  Type.Union([Type.String({ format: 'ipv4' }), Type.String({ format: 'ipv6' })], {
    ...(description ? { description } : {}),
  });
const AttributeValue = Type.Union([
  Type.String({ maxLength: 256 }),
  Type.Number(),
  Type.Boolean(),
  Type.Null(),
  Type.Array(Type.String({ maxLength: 256 }), { maxItems: 64 }),
]);

const ApplicationBody = Type.Object(
  {
    applicant: Type.Object(
      {
        name: PersonName,
        nationalId: Type.String({
          minLength: 1,
          maxLength: 32,
          description: '18-character resident ID (GB 11643-1999)',
        }),
        phone: Type.String({ minLength: 5, maxLength: 20, pattern: '^\\+?[0-9 -]+$' }),
      },
      { additionalProperties: false },
    ),
    attributes: Type.Record(Type.String({ maxLength: 64 }), AttributeValue, {
      description: 'named inputs declared by the active application strategy',
      maxProperties: 100,
    }),
    currency: Type.Optional(Currency),
    deviceId: Type.Optional(Type.String({ maxLength: 128, description: 'checked against the lists' })),
    ip: Type.Optional(ClientIp('checked against the lists')),
    channel: Type.Optional(
      Type.Object(
        {
          partnerId: Type.String({ pattern: UUID_PATTERN }),
          fundingMode: R.literals(FUNDING_MODES),
          funders: Type.Optional(
            Type.Array(
              Type.Object(
                {
                  partnerId: Type.String({ pattern: UUID_PATTERN }),
                  shareBps: Type.Integer({ minimum: 1, maximum: 10_000 }),
                },
                { additionalProperties: false },
              ),
              { maxItems: 10 },
            ),
          ),
          creditEnhancerId: Type.Optional(Type.String({ pattern: UUID_PATTERN })),
        },
        {
          additionalProperties: false,
          description: '助贷: the platform channel and the funding of the line',
        },
      ),
    ),
    productId: Type.Optional(
      Type.String({ pattern: '^[a-z0-9][a-z0-9-]{1,39}$', description: 'product catalogue id' }),
    ),
  },
  { additionalProperties: false },
);
type ApplicationBody = Static<typeof ApplicationBody>;

const ReasonList = Type.Array(Type.String({ pattern: '^R_[A-Z0-9_]+$' }), {
  minItems: 1,
  maxItems: 8,
  description: 'ordered, most important first',
});

const ActionBody = Type.Object(
  {
    type: R.literals(LINE_ACTION_TYPES.filter((t) => t !== 'GRANT')),
    reasons: ReasonList,
    limitMinor: Type.Optional(Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER })),
    annualRate: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
    appealable: Type.Optional(Type.Boolean()),
    revoke: Type.Optional(Type.Boolean({ description: 'CLOSE for cause: the line ends REVOKED' })),
    tempUntil: Type.Optional(
      Type.String({ format: 'date-time', description: 'TEMP_LIMIT end (default 30 days)' }),
    ),
    note: Type.Optional(Type.String({ maxLength: 1000 })),
  },
  { additionalProperties: false },
);
type ActionBody = Static<typeof ActionBody>;

const DrawBody = Type.Object(
  {
    amountMinor: Minor('amount in minor units'),
    currency: Currency,
    termMonths: Type.Integer({ minimum: 1, maximum: 360 }),
    method: R.literals(REPAYMENT_METHODS),
    purpose: Type.Optional(Type.String({ maxLength: 64 })),
    deviceId: Type.Optional(Type.String({ maxLength: 128 })),
    ip: Type.Optional(ClientIp()),
    payeeId: Type.Optional(Type.String({ maxLength: 128 })),
    quoteId: Type.Optional(
      Type.String({ pattern: UUID_PATTERN, description: 'the loan must match this quote' }),
    ),
  },
  { additionalProperties: false },
);
type DrawBody = Static<typeof DrawBody>;

const RepaymentBody = Type.Object(
  {
    amountMinor: Minor('amount paid in minor units'),
    currency: Currency,
    paidAt: Type.Optional(Type.String({ maxLength: 40, description: 'ISO date or date-time; default now' })),
  },
  { additionalProperties: false },
);
type RepaymentBody = Static<typeof RepaymentBody>;

const ExplanationQuery = Type.Object(
  { lang: Type.Optional(Type.Union([Type.Literal('zh'), Type.Literal('en')])) },
  { additionalProperties: false },
);
type ExplanationQuery = Static<typeof ExplanationQuery>;

/** Four eyes (issue 11): answers a pending change when the action needs a second person, undefined to go ahead. */
export type LineActionGate = (
  lineId: string,
  action: Omit<ActionBody, 'tempUntil'> & { tempUntil?: number },
  maker: RequestParty,
  guard?: UnitGuard<PendingChangeView>,
) => Promise<PendingChangeView | undefined>;

/**
 * The refusal of an action the gate let through whose line changed before the action's lock (core/lines.ts): a lift
 * whose line was restricted for fraud, or a rate change that became a raise.
 */
function refusedAsChangedSinceGate(error: unknown): boolean {
  if (!(error instanceof LgError) || error.code !== 'LG_CONFLICT') return false;
  const details = error.details as { restrictedForFraud?: unknown; rateRaised?: unknown } | undefined;
  return details?.restrictedForFraud === true || details?.rateRaised === true;
}

export function coreRoutes(core: CoreServices, lineActionGate?: LineActionGate): FastifyPluginAsync {
  return async (instance) => {
    const app = typed(instance);
    applicationAndLineRoutes(app, core);
    lineActionRoutes(app, core, lineActionGate);
    drawAndLoanRoutes(app, core);
  };
}

/** Applying for a line, and reading one. */
function applicationAndLineRoutes(app: TypedApp, core: CoreServices): void {
  app.post(
    '/v1/applications',
    {
      // personalData: the request holds the name, ID and phone, the 201 their masked forms.
      config: { roles: WRITERS, idempotent: true, personalData: true },
      schema: {
        tags: ['lines'],
        summary: 'Apply for a credit line: decide, then open an ACTIVE line or decline/refer with reasons',
        body: ApplicationBody,
        response: { 201: R.ApplicationResult, ...R.WRITE_ERRORS },
      },
    },
    async (request, reply) => {
      // The answer is stored with the idempotency key in the application's own transaction, before the reply.
      const answer = answeringGuard(request, reply, () => 201);
      return answer.send(await core.submitApplication(request.body, answer.guard));
    },
  );

  app.get(
    '/v1/lines/:id',
    {
      config: { roles: READERS },
      schema: {
        tags: ['lines'],
        summary: 'A line: limit, available, outstanding, status, rate, masked borrower, recent actions',
        params: IdParams,
        response: { 200: R.LineView, ...R.ITEM_READ_ERRORS },
      },
    },
    async (request) => core.getLine(request.params.id),
  );
}

/** Actions on a line (through four eyes when the gate says so), and the explanation of its decisions. */
function lineActionRoutes(app: TypedApp, core: CoreServices, lineActionGate?: LineActionGate): void {
  app.post(
    '/v1/lines/:id/actions',
    {
      // personalData: the request's note is free text about the borrower; a 202 carries it in the pending change.
      config: { roles: RISK_WRITERS, idempotent: true, personalData: true },
      schema: {
        tags: ['lines'],
        summary: 'A manual line action (recorded with the acting key id)',
        params: IdParams,
        body: ActionBody,
        response: { 201: R.LineActionResult, 202: R.PendingChangeAnswer, ...R.WRITE_ERRORS },
      },
    },
    async (request, reply) => {
      const body = request.body;
      checkPersonReasons(body.type, body.reasons, body.appealable);
      const tempUntil = parseInstant(body.tempUntil, 'tempUntil');
      // Either the gate's proposal or the action commits the key, with its answer, in its own transaction.
      const proposal = answeringProposal(request, reply);
      const gate = () =>
        lineActionGate?.(request.params.id, { ...body, tempUntil }, partyOf(request), proposal.guard);
      const pending = await gate();
      if (pending) return proposal.send(pending);
      const action = answeringGuard(request, reply, () => 201);
      const lifts = lineActionGate !== undefined && (body.type === 'UNFREEZE' || body.type === 'REINSTATE');
      const reprices = lineActionGate !== undefined && body.type === 'RATE_CHANGE';
      const apply = (recheck: boolean) =>
        core.applyLineAction(
          request.params.id,
          {
            type: body.type,
            reasons: body.reasons,
            automated: false,
            actor: request.principal?.actor,
            limitMinor: body.limitMinor,
            annualRate: body.annualRate,
            appealable: body.appealable,
            revoke: body.revoke,
            tempUntil,
            note: body.note,
            unlessRestrictedForFraud: recheck && lifts,
            unlessRateRaised: recheck && reprices,
          },
          action.guard,
        );
      // The gate read the line before the action's transaction: a lift it let through goes ahead only if the line is
      // still not restricted for fraud under the line's lock, a rate change only if it is still no raise. If the line
      // changed (another process froze it, or cut its rate, meanwhile), the gate is asked again on what committed;
      // when it needs no second person either (not a person, four eyes off, a raise under the threshold), the action
      // goes ahead after all.
      try {
        return action.send(await apply(lifts || reprices));
      } catch (error) {
        if (!(lifts || reprices) || !refusedAsChangedSinceGate(error)) throw error;
      }
      const proposed = await gate();
      if (proposed) return proposal.send(proposed);
      return action.send(await apply(false));
    },
  );

  app.get(
    '/v1/lines/:id/explanation',
    {
      config: { roles: READERS },
      schema: {
        tags: ['lines'],
        summary:
          'What the borrower sees: status in plain words, at most 4 reasons, what to do, how to appeal',
        params: IdParams,
        querystring: ExplanationQuery,
        response: { 200: R.LineExplanation, ...R.ITEM_READ_ERRORS },
      },
    },
    async (request) => core.explainLine(request.params.id, request.query.lang ?? 'zh'),
  );
}

/** Drawing on a line, reading a loan, and repaying it. */
function drawAndLoanRoutes(app: TypedApp, core: CoreServices): void {
  app.post(
    '/v1/lines/:id/draws',
    {
      // Before its unit a draw only reads (signals, lists, quote), and its unit always writes its key with its answer.
      config: { roles: WRITERS, idempotent: true, keyReadInUnit: true },
      schema: {
        tags: ['loans'],
        summary:
          'Draw on a line: 201 with the loan when approved, 202 when held, cooled off, challenged or referred',
        params: IdParams,
        body: DrawBody,
        response: { 201: R.DrawResult, 202: R.DrawResult, ...R.WRITE_ERRORS },
      },
    },
    async (request, reply) => {
      // The answer is stored with the idempotency key in the draw's own transaction, before the reply.
      const answer = answeringGuard(request, reply, (result: DrawResult) =>
        result.status === 'APPROVED' ? 201 : 202,
      );
      return answer.send(await core.requestDraw(request.params.id, request.body, answer.guard));
    },
  );

  app.get(
    '/v1/loans/:id',
    {
      config: { roles: READERS },
      schema: {
        tags: ['loans'],
        summary:
          'A loan: schedule with paid amounts, disclosure (APR under US_REGZ, EU_CCD, CN_IRR), dpd, bucket',
        params: IdParams,
        response: { 200: R.LoanView, ...R.ITEM_READ_ERRORS },
      },
    },
    async (request) => core.getLoan(request.params.id),
  );

  app.post(
    '/v1/loans/:id/repayments',
    {
      config: { roles: WRITERS, idempotent: true },
      schema: {
        tags: ['loans'],
        summary: 'Repay: fees, then interest, then principal, oldest instalment first; over-payment is 422',
        params: IdParams,
        body: RepaymentBody,
        response: { 201: R.RepaymentResult, ...R.WRITE_ERRORS },
      },
    },
    async (request, reply) => {
      // The answer is stored with the idempotency key in the repayment's own transaction, before the reply.
      const answer = answeringGuard(request, reply, () => 201);
      return answer.send(await core.repay(request.params.id, request.body, answer.guard));
    },
  );
}
