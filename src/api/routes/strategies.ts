import type { UnitGuard } from '../../domain/index.js';
import { Type, type Static } from '@sinclair/typebox';
import * as R from './responses.js';
import type { PendingChangeView } from '../../cases/index.js';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { lenderDayEnd, lenderDayStart, parseIsoInstant, type LenderCalendar } from '../../domain/index.js';
import { LgError } from '../../domain/index.js';
import type { EngineService } from '../../engine/index.js';
import {
  actorOf,
  partyOf,
  READERS,
  RISK_WRITERS,
  typed,
  type RequestParty,
  type TypedApp,
} from '../types.js';
import { answeringGuard } from '../idempotency.js';
import { answeringProposal } from './pending-change.js';

/** Strategies, versions, activation, simulation, stored decisions and macro overlays over HTTP (issue 3). */
export interface StrategyRouteDeps {
  readonly engine: EngineService;
  /** The lender's calendar a simulation's dates are days of (UTC when absent). */
  readonly calendar?: LenderCalendar;
  /** Four eyes (issue 11): a pending change when activation or an overlay change needs a second person. */
  readonly gates?: {
    strategyActivation(
      id: string,
      version: number,
      maker: RequestParty,
      guard?: UnitGuard<PendingChangeView>,
    ): Promise<PendingChangeView | undefined>;
    overlay(
      input: OverlayBody,
      maker: RequestParty,
      guard?: UnitGuard<PendingChangeView>,
    ): Promise<PendingChangeView | undefined>;
  };
}

const StrategyIdParams = Type.Object({ id: Type.String({ pattern: '^[A-Za-z][A-Za-z0-9_-]{0,63}$' }) });
/** Versions are `integer` columns: anything above int4 is refused here rather than by PostgreSQL (a 500). */
const Version = Type.Integer({ minimum: 1, maximum: 2_147_483_647 });
const VersionParams = Type.Object({
  id: Type.String({ pattern: '^[A-Za-z][A-Za-z0-9_-]{0,63}$' }),
  version: Version,
});
const DecisionParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });
const StrategyDocumentBody = Type.Object(
  {},
  { additionalProperties: true, description: 'a strategy document; see GET /v1/strategies/schema' },
);
const ActivateBody = Type.Object({ version: Version }, { additionalProperties: false });
const Instant = Type.String({
  minLength: 10,
  maxLength: 40,
  description: 'YYYY-MM-DD (a whole day, UTC) or an ISO 8601 instant',
});
const SimulateBody = Type.Object(
  {
    from: Instant,
    to: Instant,
    document: Type.Optional(
      Type.Object({}, { additionalProperties: true, description: 'candidate strategy document' }),
    ),
    version: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 2_147_483_647,
        description: 'a stored version to simulate instead of a document',
      }),
    ),
    subjectsMax: Type.Optional(Type.Integer({ minimum: 0, maximum: 100_000 })),
  },
  { additionalProperties: false },
);
type SimulateBody = Static<typeof SimulateBody>;
const OverlayBody = Type.Object(
  {
    name: Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_]{0,63}$' }),
    value: Type.Union([Type.Number(), Type.String({ maxLength: 256 }), Type.Boolean()]),
    description: Type.Optional(Type.String({ maxLength: 1000 })),
  },
  { additionalProperties: false },
);
type OverlayBody = Static<typeof OverlayBody>;
const OverlayHistoryQuery = Type.Object(
  { name: Type.Optional(Type.String({ maxLength: 64 })) },
  { additionalProperties: false },
);

const tags = ['strategies'];

/**
 * A date means the whole day on the lender's calendar (LINEGUARD_LENDER_UTC_OFFSET), as every other date does: `from`
 * its midnight there, `to` the next midnight (exclusive). An instant is taken as it is.
 */
export function parseSimulationBound(
  text: string,
  bound: 'from' | 'to',
  calendar: LenderCalendar = {},
): number {
  const day = bound === 'to' ? lenderDayEnd(calendar, text) : lenderDayStart(calendar, text);
  if (day !== undefined) return day;
  const ms = parseIsoInstant(text);
  if (ms === undefined)
    throw new LgError(
      'LG_VALIDATION',
      `'${text}' is not a date (YYYY-MM-DD) or an RFC 3339 date-time with a time zone`,
    );
  return ms;
}

export function strategyRoutes(deps: StrategyRouteDeps): FastifyPluginAsync {
  return async (instance) => {
    const app = typed(instance);
    strategyDocumentRoutes(app, deps);
    strategyVersionRoutes(app, deps);
    strategyActivationRoutes(app, deps);
    strategySimulationRoutes(app, deps);
    overlayRoutes(app, deps);
  };
}

/** Strategies: the list, the document schema, validation, and saving a new version. */
function strategyDocumentRoutes(app: TypedApp, deps: StrategyRouteDeps): void {
  const { engine } = deps;
  app.get(
    '/v1/strategies',
    {
      config: { roles: READERS },
      schema: {
        tags,
        summary: 'List strategies with their active and latest versions',
        response: { 200: Type.Object({ strategies: Type.Array(R.StrategyListing) }), ...R.READ_ERRORS },
      },
    },
    async () => ({
      strategies: await engine.list(),
    }),
  );

  app.get(
    '/v1/strategies/schema',
    {
      config: { roles: READERS },
      schema: {
        tags,
        summary: 'The JSON Schema of a strategy document',
        response: { 200: R.JsonSchemaDocument, ...R.READ_ERRORS },
      },
    },
    async () => engine.schema,
  );

  app.post(
    '/v1/strategies/validate',
    {
      config: { roles: READERS },
      schema: {
        tags,
        summary: 'Validate a strategy document without saving it',
        body: StrategyDocumentBody,
        response: { 200: Type.Object({ valid: Type.Boolean(), id: Type.String() }), ...R.WRITE_ERRORS },
      },
    },
    async (request) => {
      const doc = engine.validate(request.body);
      return { valid: true, id: doc.id };
    },
  );

  app.post(
    '/v1/strategies',
    {
      config: { roles: RISK_WRITERS, idempotent: true },
      schema: {
        tags,
        summary: 'Save a new draft version of a strategy',
        body: StrategyDocumentBody,
        response: { 201: R.StrategyVersionRecord, ...R.WRITE_ERRORS },
      },
    },
    async (request, reply) => {
      // The answer is stored with the idempotency key in the version's own transaction, before the reply.
      const answer = answeringGuard(request, reply, () => 201);
      return answer.send(await engine.saveVersion(request.body, actorOf(request), answer.guard));
    },
  );
}

/** A strategy's stored versions and their activation history. */
function strategyVersionRoutes(app: TypedApp, deps: StrategyRouteDeps): void {
  const { engine } = deps;
  app.get(
    '/v1/strategies/:id/versions',
    {
      config: { roles: READERS },
      schema: {
        tags,
        summary: 'Every version of a strategy',
        params: StrategyIdParams,
        response: {
          200: Type.Object({
            versions: Type.Array(R.StrategyVersionRecord),
            activations: Type.Array(
              Type.Object({
                version: Type.Number(),
                previousVersion: Type.Union([Type.Number(), Type.Null()]),
                activatedBy: Type.String(),
                activatedAt: Type.Number(),
              }),
            ),
          }),
          ...R.ITEM_READ_ERRORS,
        },
      },
    },
    async (request) => {
      const versions = await engine.listVersions(request.params.id);
      if (versions.length === 0)
        throw new LgError('LG_STRATEGY_NOT_FOUND', `no strategy '${request.params.id}'`);
      return { versions, activations: await engine.activations(request.params.id) };
    },
  );

  app.get(
    '/v1/strategies/:id/versions/:version',
    {
      config: { roles: READERS },
      schema: {
        tags,
        summary: 'One version of a strategy',
        params: VersionParams,
        response: { 200: R.StrategyVersionRecord, ...R.ITEM_READ_ERRORS },
      },
    },
    async (request) => engine.getVersion(request.params.id, request.params.version),
  );
}

/** Activating a version, directly or through four eyes. */
function strategyActivationRoutes(app: TypedApp, deps: StrategyRouteDeps): void {
  app.post(
    '/v1/strategies/:id/versions/:version/activate',
    {
      // A retried activation must not undo a newer one made meanwhile: it replays the first answer instead.
      config: { roles: RISK_WRITERS, idempotent: true },
      schema: {
        tags,
        summary: 'Activate a version (rollback = activate an older one)',
        params: VersionParams,
        response: { 200: R.StrategyVersionRecord, 202: R.PendingChangeAnswer, ...R.WRITE_ERRORS },
      },
    },
    async (request, reply) =>
      activateVersion(deps, { request, reply }, request.params.id, request.params.version),
  );

  app.post(
    '/v1/strategies/:id/activate',
    {
      config: { roles: RISK_WRITERS, idempotent: true },
      schema: {
        tags,
        summary: 'Activate a version given in the body',
        params: StrategyIdParams,
        body: ActivateBody,
        response: { 200: R.StrategyVersionRecord, 202: R.PendingChangeAnswer, ...R.WRITE_ERRORS },
      },
    },
    async (request, reply) =>
      activateVersion(deps, { request, reply }, request.params.id, request.body.version),
  );
}

/** Simulation over stored decisions, and reading one decision. */
function strategySimulationRoutes(app: TypedApp, deps: StrategyRouteDeps): void {
  const { engine } = deps;
  app.post(
    '/v1/strategies/:id/simulate',
    {
      config: { roles: RISK_WRITERS },
      schema: {
        tags,
        summary: 'Replay stored decisions of a period through a candidate and report the change',
        params: StrategyIdParams,
        body: SimulateBody,
        response: { 200: R.SimulationReport, ...R.WRITE_ERRORS },
      },
    },
    async (request) => {
      const { id } = request.params;
      const body = request.body;
      const candidate = await candidateOf(engine, id, body);
      return engine.simulate(candidate, {
        from: parseSimulationBound(body.from, 'from', deps.calendar),
        to: parseSimulationBound(body.to, 'to', deps.calendar),
        ...(body.subjectsMax === undefined ? {} : { subjectsMax: body.subjectsMax }),
      });
    },
  );

  app.get(
    '/v1/decisions/:id',
    {
      config: { roles: READERS },
      schema: {
        tags,
        summary: 'A stored decision with its inputs, result and trace',
        params: DecisionParams,
        response: { 200: R.StoredDecision, ...R.ITEM_READ_ERRORS },
      },
    },
    async (request) => {
      const decision = await engine.getDecision(request.params.id);
      if (!decision) throw new LgError('LG_NOT_FOUND', `no decision '${request.params.id}'`);
      return decision;
    },
  );
}

/** Macro overlays: the declared parameters, their values and history. */
function overlayRoutes(app: TypedApp, deps: StrategyRouteDeps): void {
  const { engine } = deps;
  app.get(
    '/v1/overlays',
    {
      config: { roles: READERS },
      schema: {
        tags,
        summary: 'Macro overlay parameters set, and the declared ones with their bounds',
        response: {
          200: Type.Object({
            overlays: Type.Array(R.OverlayInForce),
            declarations: Type.Array(R.OverlayDeclaration),
          }),
          ...R.READ_ERRORS,
        },
      },
    },
    async () => ({
      overlays: engine.overlays(),
      declarations: engine.overlayDeclarations(),
    }),
  );

  app.put(
    '/v1/overlays',
    {
      config: { roles: RISK_WRITERS, idempotent: true },
      schema: {
        tags,
        summary: 'Set a macro overlay parameter (no new strategy version)',
        body: OverlayBody,
        response: { 200: R.Overlay, 202: R.PendingChangeAnswer, ...R.WRITE_ERRORS },
      },
    },
    async (request, reply) => {
      // Either the gate's proposal or the overlay change commits the key, with its answer, in its own transaction.
      const proposal = answeringProposal(request, reply);
      const pending = await deps.gates?.overlay(request.body, partyOf(request), proposal.guard);
      if (pending) return proposal.send(pending);
      const answer = answeringGuard(request, reply, () => 200);
      const overlay = await engine.setOverlay(
        request.body.name,
        request.body.value,
        actorOf(request),
        request.body.description,
        answer.guard,
      );
      return answer.send(overlay);
    },
  );

  app.get(
    '/v1/overlays/history',
    {
      config: { roles: READERS },
      schema: {
        tags,
        summary: 'Every overlay change with who and when',
        querystring: OverlayHistoryQuery,
        response: { 200: Type.Object({ changes: Type.Array(R.OverlayChange) }), ...R.READ_ERRORS },
      },
    },
    async (request) => ({ changes: await engine.overlayHistory(request.query.name) }),
  );
}

/**
 * Activates a version, or holds it for a second person: either the gate's proposal or the activation commits the key,
 * with its answer, in its own transaction.
 */
async function activateVersion(
  deps: StrategyRouteDeps,
  exchange: { request: FastifyRequest; reply: FastifyReply },
  id: string,
  version: number,
): Promise<FastifyReply> {
  const { request, reply } = exchange;
  const proposal = answeringProposal(request, reply);
  const pending = await deps.gates?.strategyActivation(id, version, partyOf(request), proposal.guard);
  if (pending) return proposal.send(pending);
  const answer = answeringGuard(request, reply, () => 200);
  return answer.send(await deps.engine.activate(id, version, actorOf(request), answer.guard));
}

async function candidateOf(engine: EngineService, id: string, body: SimulateBody): Promise<unknown> {
  if ((body.document === undefined) === (body.version === undefined)) {
    throw new LgError('LG_VALIDATION', "give exactly one of 'document' or 'version'");
  }
  if (body.version !== undefined) return (await engine.getVersion(id, body.version)).document;
  const doc = engine.validate(body.document);
  if (doc.id !== id)
    throw new LgError('LG_VALIDATION', `the document's id '${doc.id}' does not match '${id}'`);
  return doc;
}
