import { Type, type Static } from '@sinclair/typebox';
import * as R from './responses.js';
import type { FastifyPluginAsync } from 'fastify';
import type { Clock } from '../../domain/index.js';
import type { IdGenerator } from '../../domain/index.js';
import type { RandomSource } from '../../domain/index.js';
import { UUID_PATTERN } from '../../domain/index.js';
import { LgError } from '../../domain/index.js';
import { findUser, type Store } from '../../store/index.js';
import type { FourEyes } from '../../cases/index.js';
import {
  createUser,
  createUserKey,
  hashApiKey,
  listUsers,
  mintBorrowerToken,
  newApiKeySecret,
  revokeApiKey,
  rotateOwnKey,
  BORROWER_TOKEN_TTL_MS_MAX,
} from '../api-keys.js';
import { actorOf, READERS, ROLES, type Role, typed, type TypedApp } from '../types.js';
import { answeringGuard } from '../idempotency.js';

/** People, their keys, and borrower tokens (issue 11). */
export interface UserRoutesDeps {
  readonly store: Store;
  readonly clock: Clock;
  readonly ids: IdGenerator;
  readonly random: RandomSource;
  readonly fourEyes: FourEyes;
}

const IdParams = Type.Object({ id: Type.String({ pattern: UUID_PATTERN }) });
type IdParams = Static<typeof IdParams>;
const UserBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 100 }),
    role: R.literals(ROLES),
  },
  { additionalProperties: false },
);
const KeyBody = Type.Object(
  {
    userId: Type.String({ pattern: UUID_PATTERN }),
    label: Type.Optional(Type.String({ maxLength: 200 })),
    reason: Type.Optional(
      Type.String({ minLength: 1, maxLength: 1000, description: 'why (an admin key needs a second person)' }),
    ),
  },
  { additionalProperties: false },
);
const OwnKeyBody = Type.Object(
  {
    label: Type.Optional(Type.String({ maxLength: 200 })),
    revokeKeyId: Type.Optional(
      Type.String({
        pattern: UUID_PATTERN,
        description: 'one of your own keys to revoke in the same transaction',
      }),
    ),
  },
  { additionalProperties: false },
);
const TokenBody = Type.Object(
  { ttlSeconds: Type.Optional(Type.Integer({ minimum: 60, maximum: BORROWER_TOKEN_TTL_MS_MAX / 1000 })) },
  { additionalProperties: false },
);

const ADMINS: readonly Role[] = ['admin'];
const tags = ['users'];

export function userRoutes(deps: UserRoutesDeps): FastifyPluginAsync {
  return async (instance) => {
    const app = typed(instance);
    userAccountRoutes(app, deps);
    apiKeyCreationRoutes(app, deps);
    ownKeyRoutes(app, deps);
    credentialRoutes(app, deps);
  };
}

/** People: add a user, list users. */
function userAccountRoutes(app: TypedApp, deps: UserRoutesDeps): void {
  app.post(
    '/v1/users',
    {
      config: { roles: ADMINS, idempotent: true },
      schema: {
        tags,
        summary: 'Create a user (a person with a role)',
        body: UserBody,
        response: { 201: R.UserView, ...R.WRITE_ERRORS },
      },
    },
    async (request, reply) => {
      // The answer is stored with the idempotency key in the user's own transaction, before the reply.
      const answer = answeringGuard(request, reply, () => 201);
      const input = { ...request.body, actor: actorOf(request) };
      return answer.send(await createUser(deps.store, deps, input, answer.guard));
    },
  );

  app.get(
    '/v1/users',
    {
      config: { roles: ['admin', 'auditor'] },
      schema: {
        tags,
        summary: 'Users',
        response: { 200: Type.Object({ items: Type.Array(R.UserView) }), ...R.READ_ERRORS },
      },
    },
    async () => ({ items: await listUsers(deps.store.db) }),
  );
}

/** Issuing an API key for a user (an admin key through four eyes). */
function apiKeyCreationRoutes(app: TypedApp, deps: UserRoutesDeps): void {
  // Not an idempotent route on purpose: a replayed answer would have to store the key itself, and a key is shown
  // once and stored only as a hash. A retry makes a second key; the first can be revoked.
  app.post(
    '/v1/keys',
    {
      config: { roles: ADMINS },
      schema: {
        tags,
        summary: "Create a key for a user (shown once); an admin's key waits for a second admin",
        body: KeyBody,
        response: {
          201: Type.Object({
            active: Type.Boolean(),
            id: Type.String(),
            key: Type.String(),
            role: R.RoleName,
            userId: Type.Optional(Type.String()),
          }),
          202: Type.Object({
            id: Type.String(),
            key: Type.String(),
            role: Type.String(),
            userId: Type.String(),
            active: Type.Boolean(),
            pendingChange: R.PendingChangeView,
          }),
          ...R.WRITE_ERRORS,
        },
      },
    },
    async (request, reply) => {
      const body = request.body;
      const user = await findUser(deps.store.db, body.userId);
      if (!user) throw new LgError('LG_NOT_FOUND', `no user ${body.userId}`);
      if (user.role === 'admin' && deps.fourEyes.requires('api_key.create_admin')) {
        const key = newApiKeySecret(deps.random);
        const keyId = deps.ids.next();
        const change = await deps.fourEyes.propose({
          operation: 'api_key.create_admin',
          subjectId: user.id,
          payload: { keyId, keyHash: hashApiKey(key), userId: user.id, label: body.label ?? '' },
          diff: { create: { keyId, userId: user.id, role: 'admin' } },
          reason: body.reason ?? 'admin key',
          maker: actorOf(request),
          makerKeyId: request.principal?.keyId ?? null,
        });
        return reply
          .code(202)
          .send({ id: keyId, key, role: 'admin', userId: user.id, active: false, pendingChange: change });
      }
      const created = await createUserKey(deps.store, deps, {
        userId: body.userId,
        label: body.label,
        actor: actorOf(request),
      });
      return reply.code(201).send({ ...created, active: true });
    },
  );
}

/**
 * A person issues themselves a new key, which no one else is shown (issued_by is themselves), optionally revoking one
 * of their own. The new key records the key the request came with: whoever was shown that key (an admin who issued
 * it) could have made this one, so four eyes still counts them (rotateOwnKey). Not idempotent for the reason /v1/keys
 * is not: a replay would have to store the secret.
 */
function ownKeyRoutes(app: TypedApp, deps: UserRoutesDeps): void {
  app.post(
    '/v1/session/keys',
    {
      config: { roles: READERS },
      // The body is optional: no body means no label and nothing revoked.
      preValidation: async (request) => {
        if (request.body === undefined || request.body === null) request.body = {};
      },
      schema: {
        tags,
        summary:
          'Issue yourself a new key (shown once, seen by no one else), optionally revoking one of your own keys',
        body: OwnKeyBody,
        response: {
          201: Type.Object({
            id: Type.String(),
            key: Type.String(),
            role: R.RoleName,
            userId: Type.String(),
            revokedKeyId: Type.Optional(Type.String()),
          }),
          ...R.WRITE_ERRORS,
        },
      },
    },
    async (request, reply) => {
      const userId = request.principal?.userId;
      const withKeyId = request.principal?.keyId;
      if (userId === undefined || withKeyId === undefined)
        throw new LgError('LG_FORBIDDEN', 'only a key that belongs to a user can issue that user a new key');
      const created = await rotateOwnKey(deps.store, deps, {
        userId,
        withKeyId,
        label: request.body.label,
        revokeKeyId: request.body.revokeKeyId,
      });
      return reply.code(201).send({ ...created, userId });
    },
  );
}

/** Revoking a key, and minting a borrower's short-lived token. */
function credentialRoutes(app: TypedApp, deps: UserRoutesDeps): void {
  app.delete(
    '/v1/keys/:id',
    {
      config: { roles: ADMINS },
      schema: {
        tags,
        summary: 'Revoke a key: refused by every instance within one second',
        params: IdParams,
        response: {
          200: Type.Object({ keyId: Type.String(), revokedAt: Type.String() }),
          ...R.WRITE_ERRORS,
        },
      },
    },
    async (request) => revokeApiKey(deps.store, deps, { keyId: request.params.id, actor: actorOf(request) }),
  );

  app.post(
    '/v1/borrowers/:id/tokens',
    {
      config: { roles: ['service'] },
      // The body is optional: no body means the default lifetime.
      preValidation: async (request) => {
        if (request.body === undefined || request.body === null) request.body = {};
      },
      schema: {
        tags,
        summary: 'Mint a short-lived token with which one borrower reads only their own data (/v1/me/…)',
        params: IdParams,
        body: TokenBody,
        response: {
          201: Type.Object({
            token: Type.String(),
            tokenId: Type.String(),
            borrowerId: Type.String(),
            expiresAt: Type.String(),
          }),
          ...R.WRITE_ERRORS,
        },
      },
    },
    async (request, reply) =>
      reply.code(201).send(
        await mintBorrowerToken(deps.store, deps, {
          borrowerId: request.params.id,
          ttlMs: request.body.ttlSeconds === undefined ? undefined : request.body.ttlSeconds * 1000,
          actor: actorOf(request),
        }),
      ),
  );
}
