import { Type, type Static } from '@sinclair/typebox';
import * as R from './responses.js';
import type { FastifyPluginAsync } from 'fastify';
import { UUID_PATTERN } from '../../domain/index.js';
import { LIST_STATUSES, PARTNER_STATUSES, PARTNER_TYPES } from '../../domain/index.js';
import type { RandomSource } from '../../domain/index.js';
import type { CoreServices } from '../../core/index.js';
import { createApiKey } from '../api-keys.js';
import type { DbTx } from '../../store/index.js';
import { actorOf, PARTNER_READERS, READERS, RISK_WRITERS, typed, type TypedApp } from '../types.js';
import { answeringGuard } from '../idempotency.js';

/** 助贷 partners over HTTP: the registry, status changes, partner keys, channel quality, and the partner-scoped view. */
const IdParams = Type.Object({ id: Type.String({ pattern: UUID_PATTERN }) });
type IdParams = Static<typeof IdParams>;
/** A calendar day (`format: 'date'` refuses 2026-02-30 and 2026-13-45, which the digit pattern alone let through). */
const Day = Type.String({ format: 'date', pattern: '^\\d{4}-\\d{2}-\\d{2}$' });
const { literals } = R;

const PartnerBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 120 }),
    type: literals(PARTNER_TYPES),
    licenceNo: Type.String({ minLength: 1, maxLength: 64 }),
    contractStart: Day,
    contractEnd: Day,
    feeRateBps: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: 3_600,
        description: 'what it charges the borrower a year, bps of principal',
      }),
    ),
    concentrationMax: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 1 })),
    listStatus: Type.Optional(literals(LIST_STATUSES)),
  },
  { additionalProperties: false },
);
type PartnerBody = Static<typeof PartnerBody>;

const StatusBody = Type.Object(
  { status: literals(PARTNER_STATUSES), reason: Type.String({ minLength: 1, maxLength: 500 }) },
  { additionalProperties: false },
);
type StatusBody = Static<typeof StatusBody>;

interface PartnerRouteDeps {
  readonly core: CoreServices;
  readonly random: RandomSource;
}

export function partnerRoutes(options: { core: CoreServices; random: RandomSource }): FastifyPluginAsync {
  return async (instance) => {
    const app = typed(instance);
    partnerRegistryRoutes(app, options);
    partnerKeyRoutes(app, options);
    partnerInsightRoutes(app, options);
    partnerScopedRoutes(app, options);
  };
}

/** The registry: register, list, read, and change a partner's status. */
function partnerRegistryRoutes(app: TypedApp, { core }: PartnerRouteDeps): void {
  app.post(
    '/v1/partners',
    {
      config: { roles: RISK_WRITERS, idempotent: true },
      schema: {
        tags: ['partners'],
        summary: 'Register a partner (platform operator, funder, credit enhancer, ...)',
        body: PartnerBody,
        response: { 201: R.PartnerView, ...R.WRITE_ERRORS },
      },
    },
    async (request, reply) => {
      // The answer is stored with the idempotency key in the registration's own transaction, before the reply.
      const answer = answeringGuard(request, reply, () => 201);
      return answer.send(await core.createPartner(request.body, actorOf(request), answer.guard));
    },
  );

  app.get(
    '/v1/partners',
    {
      config: { roles: READERS },
      schema: {
        tags: ['partners'],
        summary: 'The partner registry',
        response: { 200: Type.Object({ partners: Type.Array(R.PartnerView) }), ...R.READ_ERRORS },
      },
    },
    async () => ({ partners: await core.listPartners() }),
  );

  app.get(
    '/v1/partners/:id',
    {
      config: { roles: READERS },
      schema: {
        tags: ['partners'],
        summary: 'A partner',
        params: IdParams,
        response: { 200: R.PartnerView, ...R.ITEM_READ_ERRORS },
      },
    },
    async (request) => core.getPartner(request.params.id),
  );

  app.post(
    '/v1/partners/:id/status',
    {
      config: { roles: RISK_WRITERS, idempotent: true },
      schema: {
        tags: ['partners'],
        summary: 'Suspend, reinstate or terminate: a suspended partner brings no new applications',
        params: IdParams,
        body: StatusBody,
        response: { 200: R.PartnerView, ...R.WRITE_ERRORS },
      },
    },
    async (request, reply) => {
      // The answer is stored with the idempotency key in the status change's own transaction, before the reply.
      const answer = answeringGuard(request, reply, () => 200);
      const change = { ...request.body, actor: actorOf(request) };
      return answer.send(await core.setPartnerStatus(request.params.id, change, answer.guard));
    },
  );
}

/** A platform operator's own API key. */
function partnerKeyRoutes(app: TypedApp, { core, random }: PartnerRouteDeps): void {
  // Not idempotent on purpose: a replayed response would keep the plaintext key in the idempotency store. A retry
  // mints a second key; the unused one is revoked like any other.
  app.post(
    '/v1/partners/:id/keys',
    {
      config: { roles: ['admin'] },
      schema: {
        tags: ['partners'],
        summary: "A platform operator's API key: it sees only its channel",
        params: IdParams,
        response: {
          201: Type.Object({
            keyId: Type.String(),
            key: Type.String(),
            role: R.RoleName,
            partnerId: Type.String(),
          }),
          ...R.WRITE_ERRORS,
        },
      },
    },
    async (request, reply) => {
      const deps = { clock: core.deps.clock, ids: core.deps.ids, random };
      // The core hands back the store's transaction it opened (opaque to the core): the key commits with its link.
      const key = await core.createPartnerKey(request.params.id, (tx) =>
        createApiKey(tx as DbTx, deps, 'partner', `partner:${request.params.id}`),
      );
      return reply
        .code(201)
        .send({ keyId: key.id, key: key.key, role: key.role, partnerId: request.params.id });
    },
  );
}

/** What a partner's channel brings (its quality) and who funds and charges a line (its parties). */
function partnerInsightRoutes(app: TypedApp, { core }: PartnerRouteDeps): void {
  app.get(
    '/v1/partners/:id/quality',
    {
      config: { roles: READERS },
      schema: {
        tags: ['partners'],
        summary: 'Channel quality: approval rate, first-payment default, loans by delinquency bucket',
        params: IdParams,
        response: { 200: R.ChannelQuality, ...R.ITEM_READ_ERRORS },
      },
    },
    async (request) => core.channelQuality(request.params.id),
  );

  app.get(
    '/v1/lines/:id/parties',
    {
      config: { roles: READERS },
      schema: {
        tags: ['partners'],
        summary: "The borrower's view: who funds the line and every party that charges them, in zh and en",
        params: IdParams,
        response: { 200: R.LineParties, ...R.ITEM_READ_ERRORS },
      },
    },
    async (request) => core.lineParties(request.params.id),
  );
}

/** The partner-scoped view: the calling partner's own lines and applications. */
function partnerScopedRoutes(app: TypedApp, { core }: PartnerRouteDeps): void {
  app.get(
    '/v1/partner/lines',
    {
      config: { roles: PARTNER_READERS },
      schema: {
        tags: ['partners'],
        summary: "The calling partner's lines",
        response: {
          200: Type.Array(
            Type.Object({
              id: Type.String(),
              status: Type.String(),
              currency: Type.String(),
              limitMinor: Type.Integer(),
              availableMinor: Type.Integer(),
              outstandingMinor: Type.Integer(),
              annualRate: Type.Number(),
              fundingMode: Type.Optional(Type.Union([Type.String(), Type.Null()])),
              createdAt: Type.String(),
            }),
          ),
          ...R.READ_ERRORS,
        },
      },
    },
    async (request) => core.channelLines(await core.partnerOfKey(request.principal?.keyId)),
  );

  app.get(
    '/v1/partner/lines/:id',
    {
      config: { roles: PARTNER_READERS },
      schema: {
        tags: ['partners'],
        summary:
          "One of the calling partner's lines (404 for any other); its actions without the lender's notes, actors or traces",
        params: IdParams,
        response: { 200: R.PartnerLineView, ...R.ITEM_READ_ERRORS },
      },
    },
    async (request) => {
      const partnerId = await core.partnerOfKey(request.principal?.keyId);
      await core.assertChannelLine(partnerId, request.params.id);
      return partnerLineView(await core.getLine(request.params.id));
    },
  );

  app.get(
    '/v1/partner/applications',
    {
      config: { roles: PARTNER_READERS },
      schema: {
        tags: ['partners'],
        summary: "Applications through the calling partner's channel",
        response: {
          200: Type.Array(
            Type.Object({
              id: Type.String(),
              outcome: Type.String(),
              lineId: Type.Union([Type.String(), Type.Null()]),
              createdAt: Type.String(),
            }),
          ),
          ...R.READ_ERRORS,
        },
      },
    },
    async (request) => core.channelApplications(await core.partnerOfKey(request.principal?.keyId)),
  );
}

/** The line as its partner may see it (R.PartnerActionView): each action stripped here, not left to the serialiser. */
function partnerLineView(line: Static<typeof R.LineView>): Static<typeof R.PartnerLineView> {
  return {
    ...line,
    recentActions: line.recentActions.map(
      ({ note: _note, noteUnreadable: _unreadable, actor: _actor, traceId: _trace, ...shown }) => shown,
    ),
  };
}
