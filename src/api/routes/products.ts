import { Type, type Static } from '@sinclair/typebox';
import * as R from './responses.js';
import type { FastifyPluginAsync } from 'fastify';
import { DAY_COUNT_BASES } from '../../domain/index.js';
import { PRODUCT_DEFAULTS, type ProductTerms } from '../../domain/index.js';
import { REPAYMENT_METHODS } from '../../domain/index.js';
import { PREPAYMENT_MODES } from '../../domain/index.js';
import { PRODUCT_ID_PATTERN, purposeCatalogue, type CoreServices } from '../../core/index.js';
import { actorOf, READERS, RISK_WRITERS, typed, type TypedApp } from '../types.js';
import { answeringGuard } from '../idempotency.js';

/** The product catalogue over HTTP: list, read every version, create, add a version (versions are never edited). */
const MinorMax = Number.MAX_SAFE_INTEGER;
const Minor = (minimum: number) => Type.Integer({ minimum, maximum: MinorMax });
const Rate = Type.Number({ minimum: 0, maximum: 1, description: 'annual, decimal (0.1825 = 18.25%)' });
const Fee = Type.Object(
  {
    rateBps: Type.Integer({ minimum: 0, maximum: 10_000, description: 'basis points of the principal' }),
    capMinor: Minor(0),
  },
  { additionalProperties: false },
);

const TermsBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 80 }),
    currency: Type.String({ pattern: '^[A-Z]{3}$' }),
    rateMin: Rate,
    rateMax: Rate,
    dayCount: R.literals(DAY_COUNT_BASES),
    termsMonths: Type.Array(Type.Integer({ minimum: 1, maximum: 360 }), { minItems: 1, maxItems: 60 }),
    methods: Type.Array(R.literals(REPAYMENT_METHODS), {
      minItems: 1,
      maxItems: 4,
    }),
    amountMinMinor: Minor(1),
    amountMaxMinor: Minor(1),
    upfrontFee: Type.Optional(Fee),
    periodicFee: Type.Optional(Fee),
    lateFee: Type.Optional(
      Type.Object({ amountMinor: Minor(0), capMinor: Minor(0) }, { additionalProperties: false }),
    ),
    penaltyMultiplier: Type.Optional(
      Type.Number({ minimum: 1, maximum: 1.5, description: '罚息: ≤ 1.5× contract' }),
    ),
    graceDays: Type.Optional(Type.Integer({ minimum: 0, maximum: 30 })),
    aprCapPercent: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 36 })),
    prepayment: Type.Optional(R.literals(PREPAYMENT_MODES)),
    forbidLoanRepayment: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
type TermsBody = Static<typeof TermsBody>;

const CreateBody = Type.Composite(
  [Type.Object({ id: Type.String({ pattern: PRODUCT_ID_PATTERN }) }), TermsBody],
  {
    additionalProperties: false,
  },
);
type CreateBody = Static<typeof CreateBody>;

const VersionBody = Type.Composite(
  [
    Type.Object({ expectedVersion: Type.Optional(Type.Integer({ minimum: 1, maximum: 2_147_483_647 })) }),
    TermsBody,
  ],
  { additionalProperties: false },
);
type VersionBody = Static<typeof VersionBody>;

const IdParams = Type.Object({ id: Type.String({ pattern: PRODUCT_ID_PATTERN }) });
type IdParams = Static<typeof IdParams>;

export function termsOf(body: TermsBody): ProductTerms {
  return {
    name: body.name,
    currency: body.currency,
    rateMin: body.rateMin,
    rateMax: body.rateMax,
    dayCount: body.dayCount,
    termsMonths: body.termsMonths,
    methods: body.methods,
    amountMinMinor: body.amountMinMinor,
    amountMaxMinor: body.amountMaxMinor,
    upfrontFee: body.upfrontFee ?? PRODUCT_DEFAULTS.upfrontFee,
    periodicFee: body.periodicFee ?? PRODUCT_DEFAULTS.periodicFee,
    lateFee: body.lateFee ?? PRODUCT_DEFAULTS.lateFee,
    penaltyMultiplier: body.penaltyMultiplier ?? PRODUCT_DEFAULTS.penaltyMultiplier,
    graceDays: body.graceDays ?? PRODUCT_DEFAULTS.graceDays,
    aprCapPercent: body.aprCapPercent ?? PRODUCT_DEFAULTS.aprCapPercent,
    prepayment: body.prepayment ?? PRODUCT_DEFAULTS.prepayment,
    forbidLoanRepayment: body.forbidLoanRepayment ?? PRODUCT_DEFAULTS.forbidLoanRepayment,
  };
}

export function productRoutes(core: CoreServices): FastifyPluginAsync {
  return async (instance) => {
    const app = typed(instance);
    productCatalogueReadRoutes(app, core);
    productCatalogueWriteRoutes(app, core);
  };
}

/** Reading the catalogue: products, loan purposes, one product with every version. */
function productCatalogueReadRoutes(app: TypedApp, core: CoreServices): void {
  app.get(
    '/v1/products',
    {
      config: { roles: READERS },
      schema: {
        tags: ['products'],
        summary: 'The catalogue: latest version of each',
        response: { 200: Type.Object({ products: Type.Array(R.ProductView) }), ...R.READ_ERRORS },
      },
    },
    async () => ({ products: await core.listProducts() }),
  );

  app.get(
    '/v1/purposes',
    {
      config: { roles: READERS },
      schema: {
        tags: ['products'],
        summary: '资金用途: the purpose catalogue, with the uses consumer credit may not fund',
        response: {
          200: Type.Object({
            purposes: Type.Array(
              Type.Object({
                forbiddenWhere: Type.Optional(Type.Literal('forbidLoanRepayment')),
                code: Type.String(),
                zh: Type.String(),
                en: Type.String(),
                allowed: Type.Boolean(),
              }),
            ),
          }),
          ...R.READ_ERRORS,
        },
      },
    },
    async () => ({ purposes: purposeCatalogue() }),
  );

  app.get(
    '/v1/products/:id',
    {
      config: { roles: READERS },
      schema: {
        tags: ['products'],
        summary: 'A product with every version, newest first',
        params: IdParams,
        response: { 200: Type.Object({ versions: Type.Array(R.ProductView) }), ...R.ITEM_READ_ERRORS },
      },
    },
    async (request) => core.getProduct(request.params.id),
  );
}

/** Changing the catalogue: create a product, retire it, add a version. */
function productCatalogueWriteRoutes(app: TypedApp, core: CoreServices): void {
  app.post(
    '/v1/products',
    {
      config: { roles: RISK_WRITERS, idempotent: true },
      schema: {
        tags: ['products'],
        summary: 'Create a product (version 1)',
        body: CreateBody,
        response: { 201: R.ProductView, ...R.WRITE_ERRORS },
      },
    },
    async (request, reply) => {
      const { id, ...terms } = request.body;
      // The answer is stored with the idempotency key in the product's own transaction, before the reply.
      const answer = answeringGuard(request, reply, () => 201);
      const result = await core.createProduct(
        {
          id,
          terms: termsOf(terms),
          actor: actorOf(request),
        },
        answer.guard,
      );
      return answer.send(result);
    },
  );

  app.post(
    '/v1/products/:id/retire',
    {
      config: { roles: RISK_WRITERS, idempotent: true },
      schema: {
        tags: ['products'],
        summary: 'Retire a product: no new lines; existing lines and booked loans keep their terms',
        params: IdParams,
        response: { 200: R.ProductView, ...R.WRITE_ERRORS },
      },
    },
    async (request, reply) => {
      // The answer is stored with the idempotency key in the retirement's own transaction, before the reply.
      const answer = answeringGuard(request, reply, () => 200);
      return answer.send(await core.retireProduct(request.params.id, actorOf(request), answer.guard));
    },
  );

  app.post(
    '/v1/products/:id/versions',
    {
      config: { roles: RISK_WRITERS, idempotent: true },
      schema: {
        tags: ['products'],
        summary: 'A new version: new lines use it; existing lines keep theirs and booked loans never change',
        params: IdParams,
        body: VersionBody,
        response: { 201: R.ProductView, ...R.WRITE_ERRORS },
      },
    },
    async (request, reply) => {
      const { expectedVersion, ...terms } = request.body;
      // The answer is stored with the idempotency key in the version's own transaction, before the reply.
      const answer = answeringGuard(request, reply, () => 201);
      const result = await core.createProductVersion(
        request.params.id,
        {
          terms: termsOf(terms),
          expectedVersion,
          actor: actorOf(request),
        },
        answer.guard,
      );
      return answer.send(result);
    },
  );
}
