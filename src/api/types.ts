import 'fastify';

export const ROLES = ['admin', 'risk_analyst', 'service', 'auditor', 'partner'] as const;
export type Role = (typeof ROLES)[number];

export interface Principal {
  readonly keyId: string;
  readonly role: Role;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Roles allowed on this route; absent means public (health, docs, metrics). */
    roles?: readonly Role[];
    /** The route is a retryable write: it requires an Idempotency-Key header and replays the first response. */
    idempotent?: boolean;
  }
  interface FastifyRequest {
    principal?: Principal;
  }
}

/** Role sets used across routes, so that who-may-do-what reads the same everywhere. */
export const ANY_ROLE: readonly Role[] = ROLES;
export const WRITERS: readonly Role[] = ['admin', 'service'];
export const RISK_WRITERS: readonly Role[] = ['admin', 'risk_analyst'];
export const READERS: readonly Role[] = ['admin', 'risk_analyst', 'service', 'auditor'];
/** A 助贷 platform operator's key: only the partner-scoped routes, and only its own channel's records. */
export const PARTNER_READERS: readonly Role[] = ['partner'];
