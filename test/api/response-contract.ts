import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { ErrorBody } from '../../src/api/routes/responses.js';

/**
 * Checks answers against the response schemas a route declares, before and after Fastify serialises them.
 *
 * Before: the value a handler returned must fit its schema with every object closed where the schema leaves
 * additionalProperties unsaid. That is what fast-json-stringify does silently (it drops members the schema does not
 * name, and coerces a null or a number into a declared string), so a member a route sends but its schema forgets, or
 * a type it gets wrong, fails here instead of disappearing from the answer.
 * After: the body a client receives must fit the schema as published in /openapi.json.
 */
export interface Violation {
  readonly method: string;
  readonly url: string;
  readonly status: number;
  readonly stage: 'handler' | 'body';
  readonly errors: readonly string[];
}

type JsonSchema = Record<string, unknown>;

export function contractAjv(): Ajv {
  const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;
  const ajv = addFormats(new Ajv({ strict: false, allErrors: true }));
  ajv.addSchema(plain(ErrorBody));
  return ajv;
}

/** The schema as JSON (TypeBox's symbol keys dropped), every object without an additionalProperties rule closed. */
export function closedSchema(schema: unknown): JsonSchema {
  return close(plain(schema)) as JsonSchema;
}

function plain(schema: unknown): JsonSchema {
  return JSON.parse(JSON.stringify(schema)) as JsonSchema;
}

function close(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(close);
  if (typeof node !== 'object' || node === null) return node;
  const entries = Object.entries(node).map(([key, value]) => [key, close(value)] as const);
  const closed: JsonSchema = Object.fromEntries(entries);
  const isObject = closed.type === 'object' || 'properties' in closed;
  if (isObject && !('additionalProperties' in closed) && !('patternProperties' in closed))
    closed.additionalProperties = false;
  return closed;
}

/** The JSON schema a route declares for a status, or undefined when it declares none. */
export function declaredSchema(response: unknown, status: number): unknown {
  if (typeof response !== 'object' || response === null) return undefined;
  const byStatus = response as Record<string, unknown>;
  const schema = byStatus[String(status)] ?? byStatus[`${String(status)[0]}xx`];
  if (typeof schema !== 'object' || schema === null) return undefined;
  const content = (schema as { content?: Record<string, { schema?: unknown }> }).content;
  return content ? content['application/json']?.schema : schema;
}

/**
 * The errors of `body` against the schema /openapi.json (`doc`) publishes for this operation and status; a missing
 * schema is one error.
 */
export function publishedSchemaMisfits(
  doc: object,
  at: { readonly method: string; readonly path: string; readonly status: number },
  body: unknown,
): string[] {
  const ajv = contractAjv();
  ajv.addSchema({ ...doc, $id: 'openapi' });
  const path = at.path.replaceAll('~', '~0').replaceAll('/', '~1');
  const pointer = `openapi#/paths/${path}/${at.method}/responses/${at.status}/content/application~1json/schema`;
  const validate = ajv.getSchema(pointer);
  if (!validate) return [`${at.method} ${at.path}: no schema for ${at.status}`];
  return validate(body) ? [] : describeErrors(validate.errors);
}

export function describeErrors(errors: ErrorObject[] | null | undefined): string[] {
  return (errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? ''} ${JSON.stringify(e.params)}`);
}

/**
 * Adds the handler-stage check to an app that is not ready yet: every answer a route returns is validated against its
 * closed response schema; what does not fit is reported to `sink` (the answer itself is sent unchanged).
 */
export function recordResponseViolations(app: FastifyInstance, sink: (violation: Violation) => void): void {
  const ajv = contractAjv();
  const compiled = new WeakMap<object, ValidateFunction>();
  const validatorFor = (schema: object): ValidateFunction => {
    const known = compiled.get(schema);
    if (known) return known;
    const validate = ajv.compile(closedSchema(schema));
    compiled.set(schema, validate);
    return validate;
  };
  app.addHook('preSerialization', async (request: FastifyRequest, reply, payload) => {
    const schema = declaredSchema(request.routeOptions.schema?.response, reply.statusCode);
    if (typeof schema !== 'object' || schema === null) {
      if (request.routeOptions.schema && !request.routeOptions.schema.hide)
        sink({
          ...where(request, reply.statusCode),
          stage: 'handler',
          errors: ['no schema for this status'],
        });
      return payload;
    }
    const validate = validatorFor(schema);
    if (!validate(JSON.parse(JSON.stringify(payload)) as unknown))
      sink({
        ...where(request, reply.statusCode),
        stage: 'handler',
        errors: describeErrors(validate.errors),
      });
    return payload;
  });
}

function where(request: FastifyRequest, status: number): { method: string; url: string; status: number } {
  return { method: request.method, url: request.routeOptions.url ?? request.url, status };
}
