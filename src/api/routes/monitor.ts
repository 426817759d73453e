import type { UnitGuard } from '../../domain/index.js';
import { Type, type Static } from '@sinclair/typebox';
import * as R from './responses.js';
import type { PendingChangeView } from '../../cases/index.js';
import type { FastifyPluginAsync } from 'fastify';
import { LgError } from '../../domain/index.js';
import { EVENT_TYPES, EventInSchema, parseEvents } from '../../monitor/index.js';
import { FEATURES } from '../../monitor/index.js';
import { LIST_ENTITY_TYPES, LIST_KINDS } from '../../monitor/index.js';
import { listAlerts } from '../../cases/index.js';
import type { MonitorService, SharedListExport } from '../../monitor/index.js';
import { describePack } from '../../monitor/index.js';
import {
  actorOf,
  partyOf,
  READERS,
  RISK_WRITERS,
  WRITERS,
  typed,
  type RequestParty,
  type TypedApp,
} from '../types.js';
import { answeringGuard } from '../idempotency.js';
import { answeringProposal } from './pending-change.js';
import { EpochMs, instantText, parseInstant } from '../instants.js';

export interface MonitorRoutesDeps {
  readonly monitor: MonitorService;
  /** Config.eventBatchMax: larger batches get 413 LG_BATCH_TOO_LARGE before any validation work. */
  readonly eventBatchMax: number;
  /** Four eyes (issue 11): a pending change when adding or removing a list entry needs a second person. */
  readonly listGates?: {
    listAdd(
      entry: Omit<Static<typeof NewEntry>, 'expiresAt'> & { expiresAt?: number },
      maker: RequestParty,
      guard?: UnitGuard<PendingChangeView>,
    ): Promise<PendingChangeView | undefined>;
    listRemove(entryId: string, maker: RequestParty): Promise<PendingChangeView | undefined>;
    /** An import of a partner's shared list adds entries (`list.add`); `summary` is what the checker reads. */
    listImport(
      shared: SharedListExport,
      summary: ListImportSummary,
      maker: RequestParty,
      guard?: UnitGuard<PendingChangeView>,
    ): Promise<PendingChangeView | undefined>;
    /** Replacing a partner's sharing key unhooks the entries imported under the old one (`list.remove`). */
    partnerKeyReplacement(
      replacement: PartnerKeyReplacement,
      maker: RequestParty,
    ): Promise<PendingChangeView | undefined>;
  };
}

/** What ListService.assertImportable answers about an import: counts per list and entity type, never the HMACs. */
type ListImportSummary = ReturnType<MonitorService['lists']['assertImportable']>;
/** What ListService.partnerKeyReplacement answers: the new key sealed, both fingerprints, the entries it unhooks. */
type PartnerKeyReplacement = NonNullable<
  Awaited<ReturnType<MonitorService['lists']['partnerKeyReplacement']>>
>;

const EventsBody = Type.Object(
  { events: Type.Array(EventInSchema, { minItems: 1 }) },
  { additionalProperties: false },
);
const ListKind = R.literals(LIST_KINDS);
const EventTypeSchema = R.literals(EVENT_TYPES);
const ListEntity = R.literals(LIST_ENTITY_TYPES);
/**
 * A list entry as the list routes answer with it (`value`: as given, or a person identifier's keyed hash; none for a
 * partner's entry).
 */
const ListEntryView = Type.Object({
  reason: Type.String(),
  source: Type.String(),
  addedBy: Type.String(),
  addedAt: Type.Union([Type.String(), Type.Null()]),
  expiresAt: Type.Union([Type.String(), Type.Null()]),
  partnerId: Type.Optional(Type.String()),
  value: Type.Optional(Type.String()),
  entryId: Type.String(),
  list: Type.String(),
  entityType: Type.String(),
});
const IsoInstant = Type.String({ format: 'date-time' });
/** A page size: query strings are coerced to numbers by the server's validator. */
const PageLimit = Type.Integer({ minimum: 1, maximum: 1000 });
const NewEntry = Type.Object(
  {
    list: ListKind,
    entityType: ListEntity,
    value: Type.String({ minLength: 1, maxLength: 256 }),
    reason: Type.String({ minLength: 1, maxLength: 500 }),
    source: Type.String({ minLength: 1, maxLength: 100 }),
    expiresAt: Type.Optional(IsoInstant),
  },
  { additionalProperties: false },
);
const SharedExport = Type.Object({
  partnerId: Type.String({ minLength: 1, maxLength: 64 }),
  algorithm: Type.Literal('HMAC-SHA256'),
  keyFingerprint: Type.String({ pattern: '^[0-9a-f]{16}$' }),
  entries: Type.Array(
    Type.Object({
      list: ListKind,
      entityType: ListEntity,
      hmac: Type.String({ pattern: '^[0-9a-fA-F]{64}$' }),
      reason: Type.String({ maxLength: 500 }),
      source: Type.String({ maxLength: 100 }),
      expiresAt: Type.Optional(EpochMs),
    }),
    { maxItems: 100_000 },
  ),
});

/** Requests that sent one event rather than a batch: they are answered with one outcome. */
const singleEvents = new WeakSet<object>();

/**
 * One event or a batch, normalised to {events} before validation so errors name body/events/<index>/<field>; a batch
 * over the limit is refused before any validation work. The route's body schema validates the result right after.
 */
function asEventBatch(
  body: unknown,
  batchMax: number,
): { batch: Static<typeof EventsBody>; single: boolean } {
  const single = !(
    typeof body === 'object' &&
    body !== null &&
    'events' in body &&
    Array.isArray(body.events)
  );
  const events: unknown[] = single ? [body] : (body as { events: unknown[] }).events;
  if (events.length > batchMax)
    throw new LgError('LG_BATCH_TOO_LARGE', `a batch holds at most ${batchMax} events; got ${events.length}`);
  return { batch: { events } as Static<typeof EventsBody>, single };
}

/** The monitor's HTTP face: events in, alerts, typologies, features, lists. */
export function monitorRoutes(deps: MonitorRoutesDeps): FastifyPluginAsync {
  return async (instance) => {
    const app = typed(instance);
    eventRoutes(app, deps);
    alertRoutes(app, deps);
    typologyRoutes(app, deps);
    featureCatalogueRoutes(app);
    featureValueRoutes(app, deps);
    listReadRoutes(app, deps);
    listCheckRoutes(app, deps);
    listWriteRoutes(app, deps);
    listAdminRoutes(app, deps);
  };
}

function paramsOf(monitor: MonitorService, id: string, names: readonly string[]) {
  return Object.fromEntries(names.map((n) => [n, monitor.parameter(id, n) as number | readonly string[]]));
}

/** Watch-list entries. */
function listReadRoutes(app: TypedApp, deps: MonitorRoutesDeps): void {
  const { monitor } = deps;
  app.get(
    '/v1/lists',
    {
      config: { roles: READERS },
      schema: {
        tags: ['lists'],
        querystring: Type.Object({
          list: Type.Optional(ListKind),
          entityType: Type.Optional(ListEntity),
          includeExpired: Type.Optional(Type.Union([Type.Literal('true'), Type.Literal('false')])),
          limit: Type.Optional(PageLimit),
          cursor: Type.Optional(Type.String({ maxLength: 64 })),
        }),
        response: {
          200: Type.Object({
            items: Type.Array(ListEntryView),
            nextCursor: Type.Union([Type.String(), Type.Null()]),
          }),
          ...R.READ_ERRORS,
        },
      },
    },
    async (request) => {
      const q = request.query;
      const limit = q.limit ?? 100;
      const items = await monitor.lists.query({
        list: q.list,
        entityType: q.entityType,
        includeExpired: q.includeExpired === 'true',
        limit,
        after: q.cursor,
      });
      // A service key (the lender's app) may check identifiers but never read what the lists hold.
      const showValues = request.principal?.role !== 'service';
      return {
        items: items.map((e) => publicEntry(showValues ? e : { ...e, value: undefined })),
        nextCursor: items.length === limit ? (items[items.length - 1]?.entryId ?? null) : null,
      };
    },
  );
}

/** Screening a value against the lists. */
function listCheckRoutes(app: TypedApp, deps: MonitorRoutesDeps): void {
  const { monitor } = deps;
  app.get(
    '/v1/lists/check',
    {
      config: { roles: READERS },
      schema: {
        tags: ['lists'],
        querystring: Type.Object({
          entityType: ListEntity,
          value: Type.String({ minLength: 1, maxLength: 256 }),
        }),
        response: { 200: Type.Object({ hits: Type.Array(R.ListHit) }), ...R.READ_ERRORS },
      },
    },
    async (request) => {
      const q = request.query;
      return { hits: monitor.lists.check(q.entityType, q.value, Date.now()) };
    },
  );
}

/** Adding and removing entries, through four eyes when the list gates say so. */
function listWriteRoutes(app: TypedApp, deps: MonitorRoutesDeps): void {
  const { monitor, listGates } = deps;
  app.post(
    '/v1/lists',
    {
      // personalData: a person ID may come in clear (the list keeps its keyed hash); a payee account is answered.
      config: { roles: RISK_WRITERS, idempotent: true, personalData: true },
      schema: {
        tags: ['lists'],
        body: NewEntry,
        response: {
          201: ListEntryView,
          202: R.PendingChangeAnswer,
          ...R.WRITE_ERRORS,
        },
      },
    },
    async (request, reply) => {
      const body = request.body;
      const expiresAt = parseInstant(body.expiresAt, 'expiresAt');
      // A value that can never match (no valid value of its type) is refused before a checker is asked about it; a
      // person identifier waits for the checker as its keyed hash (the change and its ledger entry are read by every
      // staff role: PIPL Art. 51, no identifier in clear where it is not needed).
      const value = monitor.lists.assertValue(body.entityType, body.value);
      // Either the gate's proposal or the entry commits the key, with its answer, in its own transaction.
      const proposal = answeringProposal(request, reply);
      const pending = await listGates?.listAdd(
        { ...body, value, expiresAt },
        partyOf(request),
        proposal.guard,
      );
      if (pending) return proposal.send(pending);
      const answer = answeringGuard(request, reply, () => 201, publicEntry);
      const entry = await monitor.lists.add({ ...body, expiresAt, addedBy: actorOf(request) }, answer.guard);
      return answer.send(entry);
    },
  );

  app.delete(
    '/v1/lists/:entryId',
    {
      config: { roles: RISK_WRITERS },
      schema: {
        tags: ['lists'],
        params: Type.Object({ entryId: Type.String({ maxLength: 64 }) }),
        response: { 202: R.PendingChangeAnswer, 204: R.NoContent, ...R.WRITE_ERRORS },
      },
    },
    async (request, reply) => {
      const entryId = request.params.entryId;
      const pending = await listGates?.listRemove(entryId, partyOf(request));
      if (pending) return reply.code(202).send({ pendingChange: pending });
      await monitor.lists.remove(entryId, actorOf(request));
      void reply.code(204);
    },
  );
}

/**
 * Admin-only: a partner's list key, and exporting and importing shared lists. An import adds entries and replacing a
 * partner's key unhooks the entries imported under the old one, so both go through four eyes as adding and removing
 * an entry do (`list.add`, `list.remove`).
 */
function listAdminRoutes(app: TypedApp, deps: MonitorRoutesDeps): void {
  const { monitor, listGates } = deps;
  app.put(
    '/v1/lists/partners/:partnerId/key',
    {
      config: { roles: ['admin'] },
      schema: {
        tags: ['lists'],
        summary:
          'Store the sharing key agreed with a partner (>= 32 bytes, hex or base64); answers its fingerprint only. ' +
          "A partner's first key is stored at once, and re-setting the key it has is a no-op (200); replacing its " +
          'key unhooks every entry imported under the old one, so it waits for a second person where four eyes ' +
          'asks (202 list.remove: the key sealed, the diff shows fingerprints only)',
        params: Type.Object({
          partnerId: Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_.-]+$' }),
        }),
        body: Type.Object({ key: Type.String({ minLength: 43, maxLength: 256 }) }),
        response: {
          200: Type.Object({ partnerId: Type.String(), keyFingerprint: Type.String() }),
          202: R.PendingChangeAnswer,
          ...R.WRITE_ERRORS,
        },
      },
    },
    async (request, reply) => {
      const { partnerId } = request.params;
      const { key } = request.body;
      const bytes =
        /^[0-9a-fA-F]+$/.test(key) && key.length % 2 === 0
          ? Buffer.from(key, 'hex')
          : Buffer.from(key, 'base64');
      // Judged against the key stored now (the shared store's); the write refuses one stored since (409).
      const replacement = await monitor.lists.partnerKeyReplacement(partnerId, bytes);
      if (replacement) {
        const pending = await listGates?.partnerKeyReplacement(replacement, partyOf(request));
        if (pending) return reply.code(202).send({ pendingChange: pending });
      }
      return monitor.lists.setPartnerKey(partnerId, bytes, replacement?.previousFingerprint ?? null);
    },
  );

  app.post(
    '/v1/lists/export',
    {
      config: { roles: ['admin'] },
      schema: {
        tags: ['lists'],
        summary: 'Our live entries as HMACs under the partner key (no raw identifier leaves)',
        body: Type.Object({
          partnerId: Type.String({ minLength: 1, maxLength: 64 }),
          list: Type.Optional(ListKind),
          entityType: Type.Optional(ListEntity),
        }),
        response: { 200: R.SharedListExport, ...R.WRITE_ERRORS },
      },
    },
    async (request) => {
      const b = request.body;
      return monitor.lists.exportFor(b.partnerId, { list: b.list, entityType: b.entityType });
    },
  );

  app.post(
    '/v1/lists/import',
    {
      config: { roles: ['admin'], idempotent: true },
      schema: {
        tags: ['lists'],
        summary:
          "Import a partner's shared list (HMACs under the key agreed with it); waits for a second person where " +
          'four eyes asks (202 list.add: the diff counts the entries per list and entity type)',
        body: SharedExport,
        response: {
          200: Type.Object({ imported: Type.Number(), skipped: Type.Number() }),
          202: R.PendingChangeAnswer,
          ...R.WRITE_ERRORS,
        },
      },
    },
    async (request, reply) => {
      const shared = request.body;
      // An import that cannot apply (no key agreed with the partner, a fingerprint not the key's) is refused before a
      // checker is asked about it, with the error the import itself would give.
      const summary = monitor.lists.assertImportable(shared);
      // Either the gate's proposal or the import commits the key, with its answer, in its own transaction.
      const proposal = answeringProposal(request, reply);
      const pending = await listGates?.listImport(shared, summary, partyOf(request), proposal.guard);
      if (pending) return proposal.send(pending);
      // The answer is stored with the idempotency key in the import's own transaction, before the reply (an import
      // that adds nothing writes nothing: its answer is stored after it, as any answer without a unit).
      const answer = answeringGuard(request, reply, () => 200);
      return answer.send(await monitor.lists.importFrom(shared, actorOf(request), answer.guard));
    },
  );
}

function publicEntry(e: {
  entryId: string;
  list: string;
  entityType: string;
  value?: string;
  partnerId?: string;
  reason: string;
  source: string;
  addedBy: string;
  addedAt: number;
  expiresAt?: number;
}) {
  return {
    entryId: e.entryId,
    list: e.list,
    entityType: e.entityType,
    ...(e.value === undefined ? {} : { value: e.value }),
    ...(e.partnerId === undefined ? {} : { partnerId: e.partnerId }),
    reason: e.reason,
    source: e.source,
    addedBy: e.addedBy,
    addedAt: instantText(e.addedAt),
    expiresAt: instantText(e.expiresAt),
  };
}

/** Events in: one event or a batch, each idempotent by eventId. */
function eventRoutes(app: TypedApp, deps: MonitorRoutesDeps): void {
  const { monitor } = deps;
  app.post(
    '/v1/events',
    {
      config: { roles: WRITERS },
      schema: {
        tags: ['monitor'],
        summary:
          'Ingest one event or a batch {events: [...]} of what happened in the app (the core’s own types are refused: 422 LG_EVENT_TYPE_RESERVED); durable before answered; repeated eventIds answered with the first result',
        body: EventsBody,
        response: {
          200: Type.Union([Type.Object({ results: Type.Array(R.EventOutcome) }), R.EventOutcome]),
          ...R.WRITE_ERRORS,
        },
      },
      // One event or a batch: normalise to {events} before validation so errors name body/events/<index>/<field>.
      preValidation: async (request) => {
        const { batch, single } = asEventBatch(request.body, deps.eventBatchMax);
        if (single) singleEvents.add(request);
        request.body = batch;
      },
    },
    async (request) => {
      const outcomes = await monitor.ingestAppEvents(parseEvents(request.body.events));
      const [first] = outcomes;
      return singleEvents.has(request) && first ? first : { results: outcomes };
    },
  );
}

/** Alerts: the queue and their status changes. */
function alertRoutes(app: TypedApp, deps: MonitorRoutesDeps): void {
  const { monitor } = deps;
  app.get(
    '/v1/alerts',
    {
      config: { roles: READERS },
      schema: {
        tags: ['monitor'],
        summary: 'Alerts, newest first, with evidence and actions',
        querystring: Type.Object({
          status: Type.Optional(
            Type.Union([Type.Literal('OPEN'), Type.Literal('ACKNOWLEDGED'), Type.Literal('CLOSED')]),
          ),
          typology: Type.Optional(Type.String({ maxLength: 64 })),
          userId: Type.Optional(Type.String({ maxLength: 128 })),
          limit: Type.Optional(PageLimit),
          cursor: Type.Optional(Type.String({ maxLength: 64 })),
        }),
        response: {
          200: Type.Object({
            items: Type.Array(R.AlertView),
            nextCursor: Type.Union([Type.String(), Type.Null()]),
          }),
          ...R.READ_ERRORS,
        },
      },
    },
    async (request) => {
      const q = request.query;
      return listAlerts(monitor.db, { ...q, before: q.cursor });
    },
  );

  app.post(
    '/v1/alerts/:alertId/status',
    {
      config: { roles: RISK_WRITERS },
      schema: {
        tags: ['monitor'],
        params: Type.Object({ alertId: Type.String({ maxLength: 64 }) }),
        body: Type.Object({
          status: Type.Union([Type.Literal('OPEN'), Type.Literal('ACKNOWLEDGED'), Type.Literal('CLOSED')]),
        }),
        response: {
          200: Type.Object({
            alertId: Type.String(),
            status: Type.Union([Type.Literal('OPEN'), Type.Literal('CLOSED'), Type.Literal('ACKNOWLEDGED')]),
          }),
          ...R.WRITE_ERRORS,
        },
      },
    },
    async (request) => {
      const { alertId } = request.params;
      const { status } = request.body;
      await monitor.setAlertStatus(alertId, status);
      return { alertId, status };
    },
  );
}

/** Typology packs and their effective parameters. */
function typologyRoutes(app: TypedApp, deps: MonitorRoutesDeps): void {
  const { monitor } = deps;
  app.get(
    '/v1/typologies',
    {
      config: { roles: READERS },
      schema: {
        tags: ['monitor'],
        summary: 'Typology packs with effective parameters',
        response: {
          200: Type.Object({
            items: Type.Array(
              Type.Object({
                id: Type.String(),
                version: Type.Number(),
                title: Type.String(),
                description: Type.String(),
                triggers: Type.Array(EventTypeSchema),
                parameters: Type.Record(
                  Type.String(),
                  Type.Object({
                    value: Type.Optional(Type.Union([Type.Number(), Type.Array(Type.String())])),
                    default: Type.Union([Type.Number(), Type.Array(Type.String())]),
                    description: Type.String(),
                  }),
                ),
                rules: Type.Array(Type.Object({ id: Type.String(), description: Type.String() })),
                reasons: Type.Array(Type.String()),
                severity: Type.Union([
                  Type.Literal('low'),
                  Type.Literal('medium'),
                  Type.Literal('high'),
                  Type.Literal('critical'),
                ]),
                actions: Type.Array(
                  Type.Union([
                    Type.Literal('CHALLENGE'),
                    Type.Literal('COOLDOWN'),
                    Type.Literal('HOLD'),
                    Type.Literal('FREEZE_DRAW'),
                    Type.Literal('SUSPEND'),
                  ]),
                ),
              }),
            ),
          }),
          ...R.READ_ERRORS,
        },
      },
    },
    async () => ({
      items: monitor.typologies.map((p) =>
        describePack(
          p,
          Object.fromEntries(
            monitor.typologies.map((t) => [t.id, paramsOf(monitor, t.id, Object.keys(t.parameters))]),
          ),
        ),
      ),
    }),
  );
}

/** The feature catalogue. */
function featureCatalogueRoutes(app: TypedApp): void {
  app.get(
    '/v1/features',
    {
      config: { roles: READERS },
      schema: {
        tags: ['monitor'],
        summary: 'The feature registry',
        response: {
          200: Type.Object({
            items: Type.Array(
              Type.Object({
                eventTypes: Type.Array(EventTypeSchema),
                name: Type.String(),
                entity: Type.Union([
                  Type.Literal('ip'),
                  Type.Literal('channel'),
                  Type.Literal('user'),
                  Type.Literal('device'),
                  Type.Literal('payee'),
                  Type.Literal('merchant'),
                ]),
                windowMs: Type.Number(),
                aggregate: Type.Object({
                  kind: Type.Union([
                    Type.Literal('count'),
                    Type.Literal('sum'),
                    Type.Literal('max'),
                    Type.Literal('distinct'),
                    Type.Literal('timeSince'),
                  ]),
                  of: Type.Optional(
                    Type.Union([
                      Type.Literal('ip'),
                      Type.Literal('channel'),
                      Type.Literal('userId'),
                      Type.Literal('deviceId'),
                      Type.Literal('payeeId'),
                      Type.Literal('merchantId'),
                    ]),
                  ),
                }),
                purpose: Type.String(),
                source: Type.Union([
                  Type.Literal('app events'),
                  Type.Literal('core events'),
                  Type.Literal('bureau gateway'),
                  Type.Literal('app and core events'),
                ]),
              }),
            ),
          }),
          ...R.READ_ERRORS,
        },
      },
    },
    async () => ({
      items: FEATURES.map((f) => ({ ...f, eventTypes: [...f.eventTypes] })),
    }),
  );
}

/** Point-in-time feature values and the signals a draw reads. */
function featureValueRoutes(app: TypedApp, deps: MonitorRoutesDeps): void {
  const { monitor } = deps;
  app.get(
    '/v1/features/:name',
    {
      config: { roles: READERS },
      schema: {
        tags: ['monitor'],
        summary: 'A feature value for one entity as of an instant (default now)',
        params: Type.Object({ name: Type.String({ maxLength: 64 }) }),
        querystring: Type.Object({
          entityId: Type.String({ minLength: 1, maxLength: 128 }),
          asOf: Type.Optional(IsoInstant),
        }),
        response: {
          200: Type.Object({
            name: Type.String(),
            entityId: Type.String(),
            asOf: Type.String(),
            value: Type.Union([Type.Number(), Type.Null()]),
          }),
          ...R.ITEM_READ_ERRORS,
        },
      },
    },
    async (request) => {
      const { name } = request.params;
      const { entityId, asOf } = request.query;
      const at = parseInstant(asOf, 'asOf') ?? Date.now();
      return {
        name,
        entityId,
        asOf: new Date(at).toISOString(),
        value: await monitor.reader.value(name, entityId, at),
      };
    },
  );

  app.get(
    '/v1/monitor/draw-signals',
    {
      config: { roles: READERS },
      schema: {
        tags: ['monitor'],
        summary: 'The monitor features a draw decision reads',
        querystring: Type.Object({
          borrowerId: Type.String({ minLength: 1, maxLength: 128 }),
          deviceId: Type.Optional(Type.String({ maxLength: 128 })),
          ip: Type.Optional(Type.String({ maxLength: 64 })),
          at: Type.Optional(IsoInstant),
        }),
        response: {
          200: Type.Record(Type.String(), Type.Union([Type.Boolean(), Type.Number()])),
          ...R.READ_ERRORS,
        },
      },
    },
    async (request) => {
      const q = request.query;
      return monitor.drawSignals({
        borrowerId: q.borrowerId,
        deviceId: q.deviceId,
        ip: q.ip,
        at: parseInstant(q.at, 'at') ?? Date.now(),
      });
    },
  );
}
