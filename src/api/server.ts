import { STATUS_CODES } from 'node:http';
import { Type } from '@sinclair/typebox';
import type { Socket } from 'node:net';
import Fastify, {
  LogController,
  type FastifyError,
  type FastifyInstance,
  type FastifyPluginAsync,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import helmet, { type HelmetOptions } from 'helmet';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { timingSafeEqual } from 'node:crypto';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { LgError, isLgError } from '../domain/index.js';
import type { Clock } from '../domain/index.js';
import type { Store } from '../store/index.js';
import { RETRY_AFTER_SECONDS, isRetryableTransactionError, isStoreUnavailableError } from '../store/index.js';
import { createIdempotency } from './idempotency.js';
import type { FieldCrypto } from '../compliance/index.js';
import type { Principal } from './types.js';
import { assertBodyShape, assertNoNul } from './body-shape.js';
import { installRateLimits, type InstalledRateLimits, type RateLimitOptions } from './rate-limit.js';
import { ErrorBody, HealthReport } from './routes/responses.js';

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
  /** Request limits per API key, per client address and on failed authentication; absent: none (tests, benches). */
  readonly rateLimit?: RateLimitOptions;
  /** Fastify's trustProxy: which proxies' X-Forwarded-For names the client (the address limits count). */
  readonly trustProxy?: boolean | string;
  /**
   * Who may read /metrics on this server: `open` (development default), `token` (Authorization: Bearer <token>),
   * or `elsewhere` (served only by createMetricsServer on its own port, not here). Absent: open.
   */
  readonly metricsAccess?: MetricsAccess;
  /**
   * The field crypto (Config.masterKey and the retired keys) that seals the idempotency records of routes with personal
   * data (`personalData`); a server with such a route refuses to start without it.
   */
  readonly crypto?: FieldCrypto;
}

export type MetricsAccess =
  | { readonly kind: 'open' }
  | { readonly kind: 'token'; readonly token: string }
  | { readonly kind: 'elsewhere' };

export interface RouteEntry {
  readonly method: string;
  readonly url: string;
}

const ROUTE_TABLES = new WeakMap<FastifyInstance, RouteEntry[]>();

/** Every route the server serves, its plugins' included (the fuzz test covers each one, new routes too). */
export function routeTable(app: FastifyInstance): readonly RouteEntry[] {
  return ROUTE_TABLES.get(app) ?? [];
}

export async function buildServer(options: ServerOptions): Promise<FastifyInstance> {
  const app = Fastify({
    logger: options.logger ? { level: 'info', serializers: { req: requestLogLine } } : false,
    logController: new OneLinePerRequest(),
    bodyLimit: options.requestBytesMax,
    // Fastify's own 503, 414, bad-URL and client-error answers are not in our error shape: ours replace them.
    return503OnClosing: false,
    frameworkErrors: frameworkErrorHandler,
    clientErrorHandler,
    trustProxy: options.trustProxy ?? false,
  });
  const routes: RouteEntry[] = [];
  ROUTE_TABLES.set(app, routes);
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) routes.push({ method, url: route.url });
  });
  installShutdownRefusal(app);
  await installSecurityHeaders(app);
  // A JSON API: a text/plain body is a 415 like any other type, not a string handed to a route.
  app.removeContentTypeParser('text/plain');
  installValidators(app);
  // Before schema validation, on every route: a body too deep or holding 1e400 is a coded 400 (issue 12), and so is
  // U+0000 anywhere in the request (PostgreSQL refuses it in text: it was a 500 there).
  app.addHook('preValidation', async (request) => {
    assertNoNul(request.params, 'params');
    assertNoNul(request.query, 'querystring');
    if (request.body !== undefined) assertBodyShape(request.body);
  });
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler((request, reply) => {
    const error = new LgError('LG_ROUTE_NOT_FOUND', `no route ${request.method} ${request.url}`);
    void reply.code(error.status).send(error.toBody());
  });
  installErrorShapeGuard(app);
  installMetrics(app, options.metrics);
  const limits = await installRateLimits(app, options.rateLimit);
  installAuth(app, options.verifyKey, limits);
  installIdempotency(app, options);
  // The one error shape, shared by every route's error responses and published as components.schemas.ErrorBody.
  app.addSchema(ErrorBody);
  await app.register(swagger, {
    // Shared schemas keep their $id as their name under components.schemas (the default numbers them def-0, …).
    refResolver: {
      buildLocalReference: (json, _baseUri, _fragment, i) =>
        typeof json.$id === 'string' ? json.$id : `def-${i}`,
    },
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
  const metricsAccess = options.metricsAccess ?? { kind: 'open' };
  if (metricsAccess.kind !== 'elsewhere') registerMetricsRoute(app, options.metrics, metricsAccess);
  app.get(
    '/health',
    {
      config: { readinessReport: true },
      schema: {
        tags: ['ops'],
        summary: 'Liveness and a check of each dependency',
        // 503 answers the same report (which dependency is down); a server shutting down answers the error shape.
        response: {
          200: HealthReport,
          429: Type.Ref(ErrorBody),
          503: Type.Union([HealthReport, Type.Ref(ErrorBody)]),
        },
      },
    },
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

/**
 * Security headers on every answer (OWASP Secure Headers): nosniff, no framing, no referrer leaks, HSTS, and a
 * Content-Security-Policy that lets a page load only this origin's scripts, which covers /docs (Swagger UI loads
 * its bundle from /docs/static, with no inline script) and the dashboard to be served at / from the same origin.
 * Swagger UI sets inline style attributes and data: images, hence those two allowances; the server speaks plain
 * HTTP behind TLS termination, so no upgrade-insecure-requests.
 */
async function installSecurityHeaders(app: FastifyInstance): Promise<void> {
  const headers = securityHeaders({
    frameguard: { action: 'deny' },
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        scriptSrcAttr: ["'none'"],
        styleSrc: ["'self'", "'unsafe-inline'"],
        imgSrc: ["'self'", 'data:'],
        fontSrc: ["'self'", 'data:'],
        connectSrc: ["'self'"],
        objectSrc: ["'none'"],
        baseUri: ["'self'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
      },
    },
  });
  app.addHook('onRequest', (_request, reply, done) => {
    reply.headers(headers);
    done();
  });
}

/**
 * The headers helmet sets for `options`, worked out once: they depend on the options only (no nonces here), and
 * @fastify/helmet built helmet's middleware again on every request (about 4% of a draw's CPU).
 */
function securityHeaders(options: HelmetOptions): Record<string, string> {
  const headers: Record<string, string> = {};
  const capture = {
    setHeader: (name: string, value: string | number | readonly string[]) => {
      headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : String(value);
    },
    removeHeader: () => undefined,
  };
  helmet(options)(
    {} as Parameters<ReturnType<typeof helmet>>[0],
    capture as unknown as Parameters<ReturnType<typeof helmet>>[1],
    (error?: unknown) => {
      if (error) throw error;
    },
  );
  return headers;
}

function registerMetricsRoute(
  app: FastifyInstance,
  registry: Registry,
  access: Exclude<MetricsAccess, { kind: 'elsewhere' }>,
): void {
  app.get('/metrics', { schema: { hide: true } }, async (request, reply) => {
    if (access.kind === 'token') assertMetricsToken(request.headers.authorization, access.token);
    void reply.type(registry.contentType);
    return registry.metrics();
  });
}

/** Compares in constant time: the token is a secret and the endpoint is reachable by anyone on the port. */
function assertMetricsToken(header: string | undefined, token: string): void {
  const presented = Buffer.from(/^Bearer\s+(\S+)$/i.exec(header ?? '')?.[1] ?? '');
  const expected = Buffer.from(token);
  if (presented.length !== expected.length || !timingSafeEqual(presented, expected)) {
    throw new LgError('LG_UNAUTHENTICATED', 'send Authorization: Bearer <metrics token>');
  }
}

/**
 * /metrics alone on its own listener (LINEGUARD_METRICS_PORT), for a port only the monitoring network reaches.
 * Same error shape and security headers as the API; a token may still be required.
 */
export async function createMetricsServer(
  registry: Registry,
  options: { readonly token?: string; readonly logger?: boolean } = {},
): Promise<FastifyInstance> {
  const app = Fastify({
    logger: options.logger ? { level: 'info' } : false,
    frameworkErrors: frameworkErrorHandler,
  });
  await installSecurityHeaders(app);
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler((request, reply) => {
    const error = new LgError('LG_ROUTE_NOT_FOUND', `no route ${request.method} ${request.url}`);
    void reply.code(error.status).send(error.toBody());
  });
  registerMetricsRoute(
    app,
    registry,
    options.token ? { kind: 'token', token: options.token } : { kind: 'open' },
  );
  return app;
}

function errorHandler(
  this: FastifyInstance,
  error: FastifyError | LgError | Error,
  request: FastifyRequest,
  reply: FastifyReply,
) {
  const lg = toLgError(error);
  if (lg.status === 503) void reply.header('retry-after', String(RETRY_AFTER_SECONDS));
  if (lg.status >= 500) request.log.error({ err: error }, 'request failed');
  void reply.code(lg.status).send(lg.toBody());
}

/**
 * Requests that reach the server once shutdown began (a keep-alive connection still open) get a coded 503 that
 * closes the connection, so a load balancer retries them elsewhere. Registered first: no auth or work runs for them.
 */
function installShutdownRefusal(app: FastifyInstance): void {
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onRequest', async (_request, reply) => {
    if (!closing) return;
    void reply.header('connection', 'close');
    throw new LgError('LG_UNAVAILABLE', 'the server is shutting down; retry the request');
  });
}

/**
 * The last word on every failure answer: a route or plugin that sends its own 4xx/5xx body (a static-file plugin's
 * page, a hand-written text reply) is rewritten into the one error shape, with the status of its code. Registered
 * before the idempotency hook, so a replayed failure is the shaped one.
 */
function installErrorShapeGuard(app: FastifyInstance): void {
  app.addHook('onSend', async (request, reply, payload) => {
    if (reply.statusCode < 400 || request.method === 'HEAD') return payload;
    if (typeof payload === 'string' && payload.startsWith(ERROR_BODY_PREFIX)) return payload;
    // A readiness report (/health) answers 503 with the report itself: balancers and operators read which is down.
    if (request.routeOptions.config?.readinessReport) return payload;
    // A stream (a file) that is not sent must still be closed.
    if (payload !== null && typeof payload === 'object' && 'destroy' in payload)
      (payload as { destroy: () => void }).destroy();
    const lg =
      reply.statusCode >= 500
        ? reply.statusCode === 503
          ? new LgError('LG_UNAVAILABLE', 'the service is not available; retry later')
          : new LgError('LG_INTERNAL', 'internal error; it has been logged')
        : clientStatusError(reply.statusCode);
    void reply.code(lg.status).type('application/json; charset=utf-8');
    return JSON.stringify(lg.toBody());
  });
}

/** How every body LgError.toBody() serialises to begins (its keys are written in this order). */
const ERROR_BODY_PREFIX = '{"error":{"code":"LG_';

/** Errors the router raises before any route runs (a path parameter past maxParamLength, a malformed URL). */
function frameworkErrorHandler(error: FastifyError, _request: FastifyRequest, reply: FastifyReply): void {
  const lg = toLgError(error);
  void reply.code(lg.status).send(lg.toBody());
}

/**
 * Bytes Node's HTTP parser refused (not HTTP, headers over 16 KiB, a request that never finished): no request
 * object exists, so the answer is written to the socket by hand, in the same error shape, and the socket closed.
 */
function clientErrorHandler(error: NodeJS.ErrnoException, socket: Socket): void {
  // A reset connection has no one left to answer (https://nodejs.org/api/http.html#event-clienterror).
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const lg =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? new LgError('LG_HEADERS_TOO_LARGE', 'the request line and headers are larger than 16 KiB')
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? new LgError('LG_REQUEST_TIMEOUT', 'the request did not arrive in time')
        : new LgError('LG_BAD_REQUEST', 'the request is not valid HTTP/1.1');
  const body = JSON.stringify(lg.toBody());
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${lg.status} ${STATUS_CODES[lg.status] ?? 'Error'}\r\n` +
        `Content-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
        `Connection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
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
  if (isRetryableTransactionError(error))
    return new LgError(
      'LG_STORE_UNAVAILABLE',
      'the database rolled this request back for a reason of timing (a deadlock, a schema change under it); nothing was written: retry with the same Idempotency-Key',
    );
  const fe = error as Partial<FastifyError> & {
    validation?: { instancePath?: string; message?: string; params?: unknown }[];
    validationContext?: string;
  };
  if (fe.validation) {
    if (fe.validationContext === 'headers' && missesIdempotencyKey(fe.validation))
      return new LgError(
        'LG_IDEMPOTENCY_KEY_REQUIRED',
        'this write needs an Idempotency-Key header (1-255 of A-Z a-z 0-9 . _ : -)',
      );
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
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return new LgError('LG_URI_TOO_LONG', 'a path parameter is longer than the router accepts');
    case 'FST_ERR_BAD_URL':
      return new LgError('LG_BAD_REQUEST', 'the request path is not valid percent-encoded UTF-8');
  }
  if (fe instanceof SyntaxError || (typeof fe.statusCode === 'number' && fe.statusCode === 400)) {
    return new LgError('LG_BAD_JSON', 'request body could not be parsed');
  }
  if (typeof fe.statusCode === 'number' && fe.statusCode === 413)
    return new LgError('LG_PAYLOAD_TOO_LARGE', 'request body is larger than the limit');
  if (typeof fe.statusCode === 'number' && fe.statusCode === 503)
    return new LgError('LG_UNAVAILABLE', 'server is shutting down');
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500)
    return clientStatusError(fe.statusCode);
  return new LgError('LG_INTERNAL', 'internal error; it has been logged');
}

function missesIdempotencyKey(validation: readonly { params?: unknown }[]): boolean {
  return validation.some(
    (v) =>
      typeof v.params === 'object' &&
      v.params !== null &&
      (v.params as { missingProperty?: unknown }).missingProperty === 'idempotency-key',
  );
}

/** Any other 4xx a plugin raises keeps its meaning in the closed set (a plugin's own message may say too much). */
function clientStatusError(status: number): LgError {
  switch (status) {
    case 401:
      return new LgError('LG_UNAUTHENTICATED', 'send Authorization: Bearer <api key>');
    case 403:
      return new LgError('LG_FORBIDDEN', 'not allowed');
    case 404:
      return new LgError('LG_NOT_FOUND', 'not found');
    case 409:
      return new LgError('LG_CONFLICT', 'the request conflicts with the current state');
    case 408:
      return new LgError('LG_REQUEST_TIMEOUT', 'the request did not arrive in time');
    case 414:
      return new LgError('LG_URI_TOO_LONG', 'the request URI is too long');
    case 415:
      return new LgError('LG_UNSUPPORTED_MEDIA_TYPE', 'send application/json');
    case 429:
      return new LgError('LG_RATE_LIMITED', 'too many requests; retry later');
    case 431:
      return new LgError('LG_HEADERS_TOO_LARGE', 'the request headers are too large');
    default:
      return new LgError('LG_BAD_REQUEST', 'the request could not be processed as sent');
  }
}

function installAuth(
  app: FastifyInstance,
  verifyKey: ServerOptions['verifyKey'],
  limits: InstalledRateLimits,
): void {
  app.addHook('onRequest', async (request, reply) => {
    const roles = request.routeOptions.config?.roles;
    if (!roles) return;
    const header = request.headers.authorization;
    const match = header ? /^Bearer\s+(\S+)$/i.exec(header) : null;
    if (!match?.[1]) throw new LgError('LG_UNAUTHENTICATED', 'send Authorization: Bearer <api key>');
    // An address that guessed too many keys is refused before another guess is checked (OWASP API2:2023).
    await limits.beforeAuthentication(request, reply);
    const principal = await verifyKey(match[1]);
    if (!principal) {
      await limits.authenticationFailed(request);
      throw new LgError('LG_UNAUTHENTICATED', 'the API key is not valid');
    }
    if (!roles.includes(principal.role)) {
      throw new LgError(
        'LG_FORBIDDEN',
        `role ${principal.role} may not do this; needs one of ${roles.join(', ')}`,
      );
    }
    request.principal = principal;
  });
}

function installIdempotency(
  app: FastifyInstance,
  options: Pick<ServerOptions, 'store' | 'clock' | 'metrics' | 'crypto'>,
): void {
  const unguarded = new Counter({
    name: 'lineguard_idempotent_writes_unguarded_total',
    help: 'Successful answers of idempotent routes whose write did not commit the Idempotency-Key with it (should stay 0)',
    labelNames: ['route'] as const,
    registers: [options.metrics],
  });
  const idempotency = createIdempotency(options.store, options.clock, {
    crypto: options.crypto,
    onUnguarded: (route) => unguarded.inc({ route }),
  });
  // An idempotent route declares its key header; its handler passes request.idempotencyClaim to its unit of work.
  app.addHook('onRoute', (route) => {
    const config = route.config as { idempotent?: boolean; personalData?: boolean } | undefined;
    if (!config?.idempotent) return;
    // Fail at start, not at the first request: a route with personal data cannot keep its record in clear.
    if (config.personalData && !options.crypto)
      throw new Error(
        `${route.url} keeps personal data in its idempotency record: give buildServer the crypto`,
      );
    route.schema = { ...route.schema, headers: withIdempotencyKeyHeader(route.schema?.headers) };
  });
  app.addHook('preHandler', async (request, reply) => {
    if (!request.routeOptions.config?.idempotent) return;
    await idempotency.claim(request, reply);
    const unitClaim = idempotency.unitClaim(request);
    if (unitClaim) request.idempotencyClaim = unitClaim;
  });
  app.addHook('onSend', async (request, reply, payload) => {
    if (!request.routeOptions.config?.idempotent) return payload;
    return idempotency.record(request, reply, payload);
  });
}

/**
 * A retryable write declares its Idempotency-Key header (so /openapi.json and the generated client state it). Its
 * absence is still answered LG_IDEMPOTENCY_KEY_REQUIRED (see toLgError) and its form is checked by the idempotency
 * guard, as before.
 */
export const IDEMPOTENCY_KEY_HEADER = Type.Object({
  'idempotency-key': Type.String({
    description: 'one key per logical write (1-255 of A-Z a-z 0-9 . _ : -); a retry sends the same key',
  }),
});

function withIdempotencyKeyHeader(headers: unknown): unknown {
  if (headers === undefined) return IDEMPOTENCY_KEY_HEADER;
  const declared = headers as { properties?: object; required?: string[] };
  return {
    ...declared,
    properties: { ...declared.properties, ...IDEMPOTENCY_KEY_HEADER.properties },
    required: [...(declared.required ?? []), 'idempotency-key'],
  };
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
  // The event-loop delay histogram samples on a native timer: every 10 ms by default, 100 wake-ups a second that
  // keep an idle process (and the GC threads its allocations wake) busy. Every 100 ms still gives the percentiles a
  // dashboard reads, from 600 samples a minute.
  collectDefaultMetrics({ register: registry, prefix: 'lineguard_', eventLoopMonitoringPrecision: 100 });
  return registry;
}

/**
 * What a request log line carries: method and path, never the query string (a list check takes the identifier it
 * checks there; PIPL Art. 51: no personal identifier in a log line).
 */
/**
 * One log line per request, written once it has been answered (method, path without query, status, time taken),
 * rather than Fastify's two: half the synchronous writes to stdout on the hot path.
 */
class OneLinePerRequest extends LogController {
  override incomingRequest(): void {}

  override requestCompleted(
    error: Error | null | undefined,
    request: FastifyRequest,
    reply: FastifyReply,
  ): void {
    if (this.isLogDisabled(request)) return;
    const line = { req: request, status: reply.statusCode, ms: Math.round(reply.elapsedTime * 10) / 10 };
    if (error) request.log.error({ ...line, err: error }, 'request errored');
    else request.log.info(line, 'request');
  }
}

export function requestLogLine(request: { method: string; url: string }): { method: string; url: string } {
  const query = request.url.indexOf('?');
  return { method: request.method, url: query < 0 ? request.url : request.url.slice(0, query) };
}
