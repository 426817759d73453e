import Fastify, { type FastifyError, type FastifyInstance, type FastifyPluginAsync } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { LgError, isLgError } from '../domain/errors.js';
import type { Clock } from '../domain/clock.js';
import type { Store } from '../store/db.js';
import { RETRY_AFTER_SECONDS, isStoreUnavailableError } from '../store/faults.js';
import { createIdempotency } from './idempotency.js';
import type { Principal } from './types.js';

export interface ServerOptions {
  readonly store: Store;
  readonly clock: Clock;
  readonly metrics: Registry;
  readonly requestBytesMax: number;
  readonly verifyKey: (key: string) => Promise<Principal | null>;
  /** Route plugins, each a module's public HTTP face. */
  readonly routes: readonly FastifyPluginAsync[];
  readonly health?: () => Promise<Record<string, unknown>>;
  readonly logger?: boolean;
  /** Extra static or page routes (the dashboard). */
  readonly beforeRoutes?: (app: FastifyInstance) => Promise<void>;
}

export async function buildServer(options: ServerOptions): Promise<FastifyInstance> {
  const app = Fastify({
    logger: options.logger ? { level: 'info' } : false,
    bodyLimit: options.requestBytesMax,
    return503OnClosing: true,
  });
  installValidators(app);
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler((request, reply) => {
    const error = new LgError('LG_ROUTE_NOT_FOUND', `no route ${request.method} ${request.url}`);
    void reply.code(error.status).send(error.toBody());
  });
  installMetrics(app, options.metrics);
  installAuth(app, options.verifyKey);
  installIdempotency(app, options.store, options.clock);
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'LineGuard API',
        version: '0.1.0',
        description: 'Risk control for revolving credit lines.',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  app.get('/metrics', { schema: { hide: true } }, async (_request, reply) => {
    void reply.type(options.metrics.contentType);
    return options.metrics.metrics();
  });
  app.get(
    '/health',
    { schema: { tags: ['ops'], summary: 'Liveness and a check of each dependency' } },
    async (_request, reply) => {
      const report = options.health ? await options.health() : {};
      // A dependency reported down (`down: [...]`) makes the instance not ready: 503, so a balancer routes around it.
      const down = Array.isArray(report.down) ? report.down : [];
      if (down.length > 0) void reply.code(503).header('retry-after', String(RETRY_AFTER_SECONDS));
      return { status: down.length > 0 ? 'degraded' : 'ok', ...report };
    },
  );
  if (options.beforeRoutes) await options.beforeRoutes(app);
  for (const routes of options.routes) await app.register(routes);
  return app;
}

function errorHandler(
  this: FastifyInstance,
  error: FastifyError | LgError | Error,
  request: import('fastify').FastifyRequest,
  reply: import('fastify').FastifyReply,
) {
  const lg = toLgError(error);
  if (lg.status === 503) void reply.header('retry-after', String(RETRY_AFTER_SECONDS));
  if (lg.status >= 500) request.log.error({ err: error }, 'request failed');
  void reply.code(lg.status).send(lg.toBody());
}

/**
 * Two validators: path parameters, query strings and headers arrive as text, so they are coerced to their declared
 * types (GET /v1/strategies/x/versions/2); bodies are JSON and are never coerced, so "amountMinor": "100" is a 400
 * rather than a silently accepted number. Both report every failing path, not only the first.
 */
function installValidators(app: FastifyInstance): void {
  const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;
  const make = (coerce: boolean): Ajv =>
    addFormats(
      new Ajv({
        allErrors: true,
        coerceTypes: coerce ? 'array' : false,
        removeAdditional: false,
        useDefaults: true,
        strict: false,
        // `strict: false` also drops Ajv's default strictNumbers: without it 1e400 (Infinity) passes as a number.
        strictNumbers: true,
        addUsedSchema: false,
      }),
    );
  const bodies = make(false);
  const textParts = make(true);
  app.setValidatorCompiler(({ schema, httpPart }) =>
    httpPart === 'body' ? bodies.compile(schema) : finiteAfterCoercion(textParts.compile(schema)),
  );
}

interface TextPartValidator {
  (data: unknown): boolean;
  errors?: ErrorObject[] | null;
}

/**
 * Ajv coerces the text "1e309" in a path or query string to Infinity and then skips minimum and maximum for it, so
 * a non-finite number would reach the handler (and the database). A coerced value must be finite as well as valid.
 */
function finiteAfterCoercion(validate: ValidateFunction): TextPartValidator {
  const checked: TextPartValidator = (data) => {
    if (!validate(data)) {
      checked.errors = validate.errors;
      return false;
    }
    const field = nonFiniteMember(data);
    checked.errors =
      field === undefined
        ? null
        : [
            {
              instancePath: `/${field}`,
              schemaPath: '#/type',
              keyword: 'type',
              params: {},
              message: 'must be a finite number',
            },
          ];
    return field === undefined;
  };
  return checked;
}

/** The name of a top-level member (or member's item) that is a non-finite number. */
function nonFiniteMember(data: unknown): string | undefined {
  if (typeof data !== 'object' || data === null) return undefined;
  for (const [name, value] of Object.entries(data)) {
    const items: unknown[] = Array.isArray(value) ? value : [value];
    if (items.some((item) => typeof item === 'number' && !Number.isFinite(item))) return name;
  }
  return undefined;
}

/** Maps everything that can go wrong to the closed error set; no stack or internal message leaves the server. */
export function toLgError(error: unknown): LgError {
  if (isLgError(error)) return error;
  if (isStoreUnavailableError(error))
    return new LgError(
      'LG_STORE_UNAVAILABLE',
      'the database is unreachable; retry shortly with the same Idempotency-Key (a write that did commit is not repeated)',
    );
  const fe = error as Partial<FastifyError> & {
    validation?: { instancePath?: string; message?: string; params?: unknown }[];
    validationContext?: string;
  };
  if (fe.validation) {
    const details = fe.validation.map((v) => ({
      path: `${fe.validationContext ?? 'body'}${v.instancePath ?? ''}`,
      problem: v.message ?? 'invalid',
      params: v.params,
    }));
    return new LgError(
      'LG_VALIDATION',
      `request ${details.map((d) => `${d.path} ${d.problem}`).join('; ')}`,
      details,
    );
  }
  switch (fe.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new LgError('LG_PAYLOAD_TOO_LARGE', 'request body is larger than the limit');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new LgError('LG_UNSUPPORTED_MEDIA_TYPE', 'send application/json');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new LgError('LG_BAD_JSON', 'request body is not valid JSON');
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new LgError('LG_VALIDATION', 'content-length does not match the body');
  }
  if (fe instanceof SyntaxError || (typeof fe.statusCode === 'number' && fe.statusCode === 400)) {
    return new LgError('LG_BAD_JSON', 'request body could not be parsed');
  }
  if (typeof fe.statusCode === 'number' && fe.statusCode === 413)
    return new LgError('LG_PAYLOAD_TOO_LARGE', 'request body is larger than the limit');
  if (typeof fe.statusCode === 'number' && fe.statusCode === 503)
    return new LgError('LG_UNAVAILABLE', 'server is shutting down');
  return new LgError('LG_INTERNAL', 'internal error; it has been logged');
}

function installAuth(app: FastifyInstance, verifyKey: ServerOptions['verifyKey']): void {
  app.addHook('onRequest', async (request) => {
    const roles = request.routeOptions.config?.roles;
    if (!roles) return;
    const header = request.headers.authorization;
    const match = header ? /^Bearer\s+(\S+)$/i.exec(header) : null;
    if (!match?.[1]) throw new LgError('LG_UNAUTHENTICATED', 'send Authorization: Bearer <api key>');
    const principal = await verifyKey(match[1]);
    if (!principal) throw new LgError('LG_UNAUTHENTICATED', 'the API key is not valid');
    if (!roles.includes(principal.role)) {
      throw new LgError(
        'LG_FORBIDDEN',
        `role ${principal.role} may not do this; needs one of ${roles.join(', ')}`,
      );
    }
    request.principal = principal;
  });
}

function installIdempotency(app: FastifyInstance, store: Store, clock: Clock): void {
  const idempotency = createIdempotency(store, clock);
  // Wrap the handlers of idempotent routes so their writes carry the key in the same transaction.
  app.addHook('onRoute', (route) => {
    const config = route.config as { idempotent?: boolean } | undefined;
    if (!config?.idempotent) return;
    const handler = route.handler;
    route.handler = function guardedHandler(this: FastifyInstance, request, reply) {
      return idempotency.runGuarded(request, () => handler.call(this, request, reply));
    };
  });
  app.addHook('preHandler', async (request, reply) => {
    if (!request.routeOptions.config?.idempotent) return;
    await idempotency.claim(request, reply);
  });
  app.addHook('onSend', async (request, reply, payload) => {
    if (!request.routeOptions.config?.idempotent) return payload;
    return idempotency.record(request, reply, payload);
  });
}

function installMetrics(app: FastifyInstance, registry: Registry): void {
  const duration = new Histogram({
    name: 'lineguard_http_request_duration_seconds',
    help: 'HTTP request latency by route and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [registry],
  });
  app.addHook('onResponse', async (request, reply) => {
    duration.observe(
      {
        method: request.method,
        route: request.routeOptions.url ?? 'unmatched',
        status: String(reply.statusCode),
      },
      reply.elapsedTime / 1000,
    );
  });
}

export function createMetricsRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'lineguard_' });
  return registry;
}
