import type {
  FastifyBaseLogger,
  FastifyInstance,
  FastifyTypeProvider,
  RawReplyDefaultExpression,
  RawRequestDefaultExpression,
  RawServerDefault,
} from 'fastify';
import type { Static, TSchema } from '@sinclair/typebox';
import { ErrorBody } from './routes/responses.js';
import type { IdempotencyClaim, UnitGuard } from '../domain/index.js';
import type { FourEyesParty } from '../cases/index.js';

/** Staff roles (issue 11): risk_analyst writes strategies/models/overlays, analyst works cases, supervisor checks;
 * partner is a 助贷 platform operator's key (issue 15). */
export const ROLES = [
  'admin',
  'risk_analyst',
  'analyst',
  'supervisor',
  'service',
  'auditor',
  'partner',
] as const;
export type Role = (typeof ROLES)[number];
/** A borrower token is not a staff key: it reaches only the /v1/me routes, and only the borrower's own data. */
export const BORROWER = 'borrower' as const;
export type RouteRole = Role | typeof BORROWER;

export interface Principal {
  /** The API key (or borrower token) id. */
  readonly keyId: string;
  readonly role: RouteRole;
  /** The person the key belongs to, when it belongs to one. */
  readonly userId?: string;
  /** The borrower a borrower token speaks for. */
  readonly borrowerId?: string;
  /** Who to record: `user:<id>` for a person's key, `key:<id>` for an unowned key, `borrower:<id>`. */
  readonly actor: string;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Roles allowed on this route; absent means public (health, docs, metrics). */
    roles?: readonly RouteRole[];
    /** The route is a retryable write: it requires an Idempotency-Key header and replays the first response. */
    idempotent?: boolean;
    /**
     * An idempotent route whose every answer before the key commits is a client or server error, whose work before
     * its unit only reads, and whose unit always writes the key with its answer (answeringGuard): the key is not read
     * before the handler (a statement fewer); a repeat finds it taken in its unit, or fails earlier, and either way is
     * answered from the key row (src/api/idempotency.ts).
     */
    keyReadInUnit?: boolean;
    /**
     * An idempotent route whose request or answer carries personal data (a credit report, a national ID, a name, a
     * phone, a bank account): its key row keeps the request's hash and the answer sealed (src/api/idempotency.ts).
     */
    personalData?: boolean;
    /** A readiness report whose 503 body is the report (which dependency is down), not the error shape. */
    readinessReport?: boolean;
  }
  interface FastifyRequest {
    principal?: Principal;
    /** An idempotent route's key; its handler passes it (guardOf) to the unit of work that makes the write. */
    idempotencyClaim?: IdempotencyClaim;
  }
}

/** Role sets used across routes, so that who-may-do-what reads the same everywhere. */
export const WRITERS: readonly Role[] = ['admin', 'service'];
export const RISK_WRITERS: readonly Role[] = ['admin', 'risk_analyst'];
export const READERS: readonly Role[] = [
  'admin',
  'risk_analyst',
  'analyst',
  'supervisor',
  'service',
  'auditor',
];
/** People who work cases, and those who check them. */
export const CASE_WORKERS: readonly Role[] = ['admin', 'analyst', 'supervisor', 'risk_analyst'];
export const CHECKERS: readonly Role[] = ['admin', 'supervisor'];
/**
 * The roles whose keys can propose a change that needs a second person (RISK_WRITERS, CASE_WORKERS, an admin's key
 * request) or decide one (CHECKERS): such a key must belong to a person, since four eyes compares people.
 */
export const FOUR_EYES_ROLES: readonly Role[] = ['admin', 'risk_analyst', 'analyst', 'supervisor'];
export const BORROWERS: readonly RouteRole[] = [BORROWER];
/** A 助贷 platform operator's key: only the partner-scoped routes, and only its own channel's records. */
export const PARTNER_READERS: readonly Role[] = ['partner'];

/**
 * Who did it, as every record names them (issue 11): the person behind the key (`user:<id>`), or the key itself
 * (`key:<id>`) for a key that belongs to no user; `anonymous` only on routes without authentication.
 */
export function actorOf(request: { principal?: { actor?: string; keyId?: string } }): string {
  return (
    request.principal?.actor ?? (request.principal?.keyId ? `key:${request.principal.keyId}` : 'anonymous')
  );
}

/** The actor and the key of a request (null: none, as from the CLI): who makes or decides a four-eyes change. */
export type RequestParty = FourEyesParty;

/**
 * Who makes or decides a four-eyes change: the actor (actorOf) and the key the request came with. Four eyes needs the
 * key: whoever issued it was shown its secret and could have acted with it (src/cases/four-eyes.ts).
 */
export function partyOf(request: { principal?: { actor?: string; keyId?: string } }): RequestParty {
  return { actor: actorOf(request), keyId: request.principal?.keyId ?? null };
}

/**
 * What an idempotent route's handler hands to its service, which hands it to the store's transaction: the key then
 * commits in the same unit as the write it guards (domain/unit-guard.ts). Undefined on a route without a key.
 */
export function guardOf<T = unknown>(request: {
  idempotencyClaim?: IdempotencyClaim;
}): UnitGuard<T> | undefined {
  return request.idempotencyClaim ? { idempotency: request.idempotencyClaim } : undefined;
}

/**
 * Fastify's type provider for TypeBox (the interface @fastify/type-provider-typebox exports, stated here rather than
 * added as a dependency for its six lines): a route's body, params, query and headers are typed from its schemas and
 * its answers are checked against its response schemas. An answer is only read by the serializer, so it may be
 * readonly (the modules hand out readonly arrays).
 */
export interface TypeBoxTypeProvider extends FastifyTypeProvider {
  validator: this['schema'] extends TSchema ? Static<this['schema']> : unknown;
  serializer: this['schema'] extends TSchema ? ReadonlyDeep<Static<this['schema']>> : unknown;
}

type ReadonlyDeep<T> = T extends readonly (infer U)[]
  ? readonly ReadonlyDeep<U>[]
  : T extends object
    ? { readonly [K in keyof T]: ReadonlyDeep<T[K]> }
    : T;

export type TypedApp = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  FastifyBaseLogger,
  TypeBoxTypeProvider
>;

/**
 * A route group's view of the app: its routes are typed from their schemas. The shared ErrorBody schema their error
 * responses refer to is added here when the app does not have it yet (a route group mounted on a bare Fastify).
 */
export function typed(app: FastifyInstance): TypedApp {
  if (!app.getSchema('ErrorBody')) app.addSchema(ErrorBody);
  return app.withTypeProvider<TypeBoxTypeProvider>();
}
