import { Type, type Static } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import { LgError } from '../../domain/errors.js';
import { EventInSchema, parseEvents } from '../../monitor/events.js';
import { FEATURES } from '../../monitor/features/registry.js';
import {
  LIST_ENTITY_TYPES,
  LIST_KINDS,
  type ListEntityType,
  type SharedListExport,
} from '../../monitor/lists.js';
import { listAlerts } from '../../cases/index.js';
import type { MonitorService } from '../../monitor/service.js';
import { describePack } from '../../monitor/typologies/index.js';
import { actorOf, READERS, RISK_WRITERS, WRITERS } from '../types.js';
import { EpochMs, instantText, parseInstant } from '../instants.js';

export interface MonitorRoutesDeps {
  readonly monitor: MonitorService;
  /** Config.eventBatchMax: larger batches get 413 LG_BATCH_TOO_LARGE before any validation work. */
  readonly eventBatchMax: number;
  /** Four eyes (issue 11): a pending change when adding or removing a list entry needs a second person. */
  readonly listGates?: {
    listAdd(
      entry: Omit<Static<typeof NewEntry>, 'expiresAt'> & { expiresAt?: number },
      actor: string,
    ): Promise<object | undefined>;
    listRemove(entryId: string, actor: string): Promise<object | undefined>;
  };
}

const EventsBody = Type.Object(
  { events: Type.Array(EventInSchema, { minItems: 1 }) },
  { additionalProperties: false },
);
const ListKind = Type.Union(LIST_KINDS.map((k) => Type.Literal(k)));
const ListEntity = Type.Union(LIST_ENTITY_TYPES.map((k) => Type.Literal(k)));
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

/** The monitor's HTTP face: events in, alerts, typologies, features, lists. */
export function monitorRoutes(deps: MonitorRoutesDeps): FastifyPluginAsync {
  const { monitor } = deps;
  return async (app) => {
    app.post(
      '/v1/events',
      {
        config: { roles: WRITERS },
        schema: {
          tags: ['monitor'],
          summary:
            'Ingest one event or a batch {events: [...]}; durable before answered; repeated eventIds answered with the first result',
          body: EventsBody,
        },
        // One event or a batch: normalise to {events} before validation so errors name body/events/<index>/<field>.
        preValidation: async (request) => {
          const body = request.body as Record<string, unknown> | null;
          const isBatch = body !== null && typeof body === 'object' && Array.isArray(body.events);
          (request as { lgSingleEvent?: boolean }).lgSingleEvent = !isBatch;
          if (!isBatch) request.body = { events: [body] };
          const n = (request.body as { events: unknown[] }).events.length;
          if (n > deps.eventBatchMax)
            throw new LgError(
              'LG_BATCH_TOO_LARGE',
              `a batch holds at most ${deps.eventBatchMax} events; got ${n}`,
            );
        },
      },
      async (request) => {
        const { events } = request.body as Static<typeof EventsBody>;
        const outcomes = await monitor.ingest(parseEvents(events));
        return (request as { lgSingleEvent?: boolean }).lgSingleEvent ? outcomes[0] : { results: outcomes };
      },
    );

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
        },
      },
      async (request) => {
        const q = request.query as {
          status?: string;
          typology?: string;
          userId?: string;
          limit?: number;
          cursor?: string;
        };
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
        },
      },
      async (request) => {
        const { alertId } = request.params as { alertId: string };
        const { status } = request.body as { status: 'OPEN' | 'ACKNOWLEDGED' | 'CLOSED' };
        await monitor.setAlertStatus(alertId, status);
        return { alertId, status };
      },
    );

    app.get(
      '/v1/typologies',
      {
        config: { roles: READERS },
        schema: { tags: ['monitor'], summary: 'Typology packs with effective parameters' },
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

    app.get(
      '/v1/features',
      { config: { roles: READERS }, schema: { tags: ['monitor'], summary: 'The feature registry' } },
      async () => ({
        items: FEATURES.map((f) => ({ ...f, eventTypes: [...f.eventTypes] })),
      }),
    );

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
        },
      },
      async (request) => {
        const { name } = request.params as { name: string };
        const { entityId, asOf } = request.query as { entityId: string; asOf?: string };
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
        },
      },
      async (request) => {
        const q = request.query as { borrowerId: string; deviceId?: string; ip?: string; at?: string };
        return monitor.drawSignals({
          borrowerId: q.borrowerId,
          deviceId: q.deviceId,
          ip: q.ip,
          at: parseInstant(q.at, 'at') ?? Date.now(),
        });
      },
    );

    registerListRoutes(app, monitor, deps.listGates);
  };
}

function paramsOf(monitor: MonitorService, id: string, names: readonly string[]) {
  return Object.fromEntries(names.map((n) => [n, monitor.parameter(id, n) as number | readonly string[]]));
}

function registerListRoutes(
  app: Parameters<FastifyPluginAsync>[0],
  monitor: MonitorService,
  listGates?: MonitorRoutesDeps['listGates'],
): void {
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
      },
    },
    async (request) => {
      const q = request.query as {
        list?: (typeof LIST_KINDS)[number];
        entityType?: ListEntityType;
        includeExpired?: string;
        limit?: number;
        cursor?: string;
      };
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
      },
    },
    async (request) => {
      const q = request.query as { entityType: ListEntityType; value: string };
      return { hits: monitor.lists.check(q.entityType, q.value, Date.now()) };
    },
  );

  app.post(
    '/v1/lists',
    { config: { roles: RISK_WRITERS, idempotent: true }, schema: { tags: ['lists'], body: NewEntry } },
    async (request, reply) => {
      const body = request.body as Static<typeof NewEntry>;
      const expiresAt = parseInstant(body.expiresAt, 'expiresAt');
      const pending = await listGates?.listAdd({ ...body, expiresAt }, request.principal?.actor ?? '');
      if (pending) return reply.code(202).send({ pendingChange: pending });
      const entry = await monitor.lists.add({
        ...body,
        expiresAt,
        addedBy: actorOf(request),
      });
      void reply.code(201);
      return publicEntry(entry);
    },
  );

  app.delete(
    '/v1/lists/:entryId',
    {
      config: { roles: RISK_WRITERS },
      schema: { tags: ['lists'], params: Type.Object({ entryId: Type.String({ maxLength: 64 }) }) },
    },
    async (request, reply) => {
      const entryId = (request.params as { entryId: string }).entryId;
      const pending = await listGates?.listRemove(entryId, request.principal?.actor ?? '');
      if (pending) return reply.code(202).send({ pendingChange: pending });
      await monitor.lists.remove(entryId, actorOf(request));
      void reply.code(204);
    },
  );

  app.put(
    '/v1/lists/partners/:partnerId/key',
    {
      config: { roles: ['admin'] },
      schema: {
        tags: ['lists'],
        summary:
          'Store the sharing key agreed with a partner (>= 32 bytes, hex or base64); answers its fingerprint only',
        params: Type.Object({
          partnerId: Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_.-]+$' }),
        }),
        body: Type.Object({ key: Type.String({ minLength: 43, maxLength: 256 }) }),
      },
    },
    async (request) => {
      const { partnerId } = request.params as { partnerId: string };
      const { key } = request.body as { key: string };
      const bytes =
        /^[0-9a-fA-F]+$/.test(key) && key.length % 2 === 0
          ? Buffer.from(key, 'hex')
          : Buffer.from(key, 'base64');
      return monitor.lists.setPartnerKey(partnerId, bytes);
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
      },
    },
    async (request) => {
      const b = request.body as {
        partnerId: string;
        list?: (typeof LIST_KINDS)[number];
        entityType?: ListEntityType;
      };
      return monitor.lists.exportFor(b.partnerId, { list: b.list, entityType: b.entityType });
    },
  );

  app.post(
    '/v1/lists/import',
    { config: { roles: ['admin'], idempotent: true }, schema: { tags: ['lists'], body: SharedExport } },
    async (request) => monitor.lists.importFrom(request.body as SharedListExport, actorOf(request)),
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
