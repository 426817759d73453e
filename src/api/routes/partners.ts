import { Type, type Static } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import { UUID_PATTERN } from '../../domain/ids.js';
import { LIST_STATUSES, PARTNER_STATUSES, PARTNER_TYPES } from '../../domain/partner.js';
import type { RandomSource } from '../../domain/random.js';
import type { CoreServices } from '../../core/index.js';
import { createApiKey } from '../api-keys.js';
import { actorOf, PARTNER_READERS, READERS, RISK_WRITERS } from '../types.js';

/** 助贷 partners over HTTP: the registry, status changes, partner keys, channel quality, and the partner-scoped view. */
const IdParams = Type.Object({ id: Type.String({ pattern: UUID_PATTERN }) });
type IdParams = Static<typeof IdParams>;
const Day = Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$' });
const literals = <T extends string>(values: readonly T[]) => Type.Union(values.map((v) => Type.Literal(v)));

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

export function partnerRoutes(options: { core: CoreServices; random: RandomSource }): FastifyPluginAsync {
  const { core, random } = options;
  return async (app) => {
    app.post<{ Body: PartnerBody }>(
      '/v1/partners',
      {
        config: { roles: RISK_WRITERS, idempotent: true },
        schema: {
          tags: ['partners'],
          summary: 'Register a partner (platform operator, funder, credit enhancer, ...)',
          body: PartnerBody,
        },
      },
      async (request, reply) =>
        reply.code(201).send(await core.createPartner(request.body, actorOf(request))),
    );

    app.get(
      '/v1/partners',
      { config: { roles: READERS }, schema: { tags: ['partners'], summary: 'The partner registry' } },
      async () => ({ partners: await core.listPartners() }),
    );

    app.get<{ Params: IdParams }>(
      '/v1/partners/:id',
      { config: { roles: READERS }, schema: { tags: ['partners'], summary: 'A partner', params: IdParams } },
      async (request) => core.getPartner(request.params.id),
    );

    app.post<{ Params: IdParams; Body: StatusBody }>(
      '/v1/partners/:id/status',
      {
        config: { roles: RISK_WRITERS, idempotent: true },
        schema: {
          tags: ['partners'],
          summary: 'Suspend, reinstate or terminate: a suspended partner brings no new applications',
          params: IdParams,
          body: StatusBody,
        },
      },
      async (request) =>
        core.setPartnerStatus(request.params.id, { ...request.body, actor: actorOf(request) }),
    );

    // Not idempotent on purpose: a replayed response would keep the plaintext key in the idempotency store. A retry
    // mints a second key; the unused one is revoked like any other.
    app.post<{ Params: IdParams }>(
      '/v1/partners/:id/keys',
      {
        config: { roles: ['admin'] },
        schema: {
          tags: ['partners'],
          summary: "A platform operator's API key: it sees only its channel",
          params: IdParams,
        },
      },
      async (request, reply) => {
        const deps = { clock: core.deps.clock, ids: core.deps.ids, random };
        const key = await core.createPartnerKey(request.params.id, (tx) =>
          createApiKey(tx, deps, 'partner', `partner:${request.params.id}`),
        );
        return reply
          .code(201)
          .send({ keyId: key.id, key: key.key, role: key.role, partnerId: request.params.id });
      },
    );

    app.get<{ Params: IdParams }>(
      '/v1/partners/:id/quality',
      {
        config: { roles: READERS },
        schema: {
          tags: ['partners'],
          summary: 'Channel quality: approval rate, first-payment default, loans by delinquency bucket',
          params: IdParams,
        },
      },
      async (request) => core.channelQuality(request.params.id),
    );

    app.get<{ Params: IdParams }>(
      '/v1/lines/:id/parties',
      {
        config: { roles: READERS },
        schema: {
          tags: ['partners'],
          summary: "The borrower's view: who funds the line and every party that charges them, in zh and en",
          params: IdParams,
        },
      },
      async (request) => core.lineParties(request.params.id),
    );

    app.get(
      '/v1/partner/lines',
      {
        config: { roles: PARTNER_READERS },
        schema: { tags: ['partners'], summary: "The calling partner's lines" },
      },
      async (request) => core.channelLines(await core.partnerOfKey(request.principal?.keyId)),
    );

    app.get<{ Params: IdParams }>(
      '/v1/partner/lines/:id',
      {
        config: { roles: PARTNER_READERS },
        schema: {
          tags: ['partners'],
          summary: "One of the calling partner's lines (404 for any other)",
          params: IdParams,
        },
      },
      async (request) => {
        const partnerId = await core.partnerOfKey(request.principal?.keyId);
        await core.assertChannelLine(partnerId, request.params.id);
        return core.getLine(request.params.id);
      },
    );

    app.get(
      '/v1/partner/applications',
      {
        config: { roles: PARTNER_READERS },
        schema: { tags: ['partners'], summary: "Applications through the calling partner's channel" },
      },
      async (request) => core.channelApplications(await core.partnerOfKey(request.principal?.keyId)),
    );
  };
}
