import { Type, type Static } from '@sinclair/typebox';
import * as R from './responses.js';
import type { FastifyPluginAsync } from 'fastify';
import {
  LgError,
  REASON_CODES,
  lenderDayOf,
  personMayGive,
  saysWhy,
  type LenderCalendar,
} from '../../domain/index.js';
import type { Clock } from '../../domain/index.js';
import type {
  AlertEvidenceRows,
  LineHistoryRow,
  LineSearch,
  LineSummaryRow,
  OverviewRows,
  OverviewWindow,
} from '../../store/index.js';
import { READERS, typed } from '../types.js';

/** The reads the risk console needs; the store implements them (src/store/console.ts), the app wires them. */
export interface ConsoleReads {
  overview(window: OverviewWindow): Promise<OverviewRows>;
  searchLines(search: LineSearch): Promise<{ items: LineSummaryRow[]; nextCursor: string | null }>;
  lineHistory(lineId: string, rowsMax: number): Promise<LineHistoryRow>;
  alertEvidence(alertId: string, rowsMax: number): Promise<AlertEvidenceRows | null>;
}

export interface ConsoleRouteDeps {
  readonly reads: ConsoleReads;
  readonly clock: Clock;
  /** The lender's calendar (UTC when absent): the day the session says it is. */
  readonly calendar?: LenderCalendar;
}

const MINUTE_MS = 60_000;
const LATENCY_SAMPLE_MAX = 10_000;
const HISTORY_ROWS_MAX = 200;

/** A reason code as the console offers it: its texts, and what a person's reasons are checked against. */
const ReasonView = Type.Object({
  code: Type.String(),
  category: Type.String(),
  /** Lower is more important (the order the console lists them in). */
  priority: Type.Number(),
  zh: Type.String(),
  en: Type.String(),
  appealable: Type.Boolean(),
  /** False for the codes only automation gives (an engine that failed closed, the blast-radius guard). */
  personMayGive: Type.Boolean(),
  /** False for a favourable word alone: an adverse outcome needs at least one code that says why. */
  saysWhy: Type.Boolean(),
});
const ReasonList = Type.Object({ items: Type.Array(ReasonView) });
const REASON_LIST: Static<typeof ReasonList> = {
  items: Object.values(REASON_CODES).map((r) => ({
    code: r.code,
    category: r.category,
    priority: r.priority,
    zh: r.zh,
    en: r.en,
    appealable: r.appealable,
    personMayGive: personMayGive(r.code),
    saysWhy: saysWhy(r.code),
  })),
};

const OverviewQuery = Type.Object(
  { windowMinutes: Type.Optional(Type.Integer({ minimum: 1, maximum: 1440, default: 60 })) },
  { additionalProperties: false },
);
const LinesQuery = Type.Object(
  {
    q: Type.Optional(Type.String({ minLength: 4, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$' })),
    status: Type.Optional(
      Type.Union(
        ['PENDING', 'ACTIVE', 'DRAW_FROZEN', 'SUSPENDED', 'CLOSED', 'REVOKED'].map((s) => Type.Literal(s)),
      ),
    ),
    after: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })),
  },
  { additionalProperties: false },
);
const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });

const SessionResponse = Type.Object({
  keyId: Type.String(),
  role: Type.String(),
  // By the server's clock, on LINEGUARD_LENDER_UTC_OFFSET's calendar: the day a date the API takes means (a
  // simulation's range), whatever the browser's own date says.
  lenderToday: Type.String({ format: 'date' }),
  // The server's clock: the console counts an SLA's time left by it, not by the browser's.
  serverTime: Type.String({ format: 'date-time' }),
});
const Count = Type.Integer({ minimum: 0 });
const OverviewResponse = Type.Object({
  asOf: Type.String({ format: 'date-time' }),
  windowMinutes: Type.Integer(),
  decisions: Type.Array(Type.Object({ kind: Type.String(), outcome: Type.String(), count: Count })),
  perMinute: Type.Array(Type.Object({ startMs: Type.Number(), outcome: Type.String(), count: Count })),
  rates: Type.Object({
    approval: Type.Union([Type.Number(), Type.Null()]),
    decline: Type.Union([Type.Number(), Type.Null()]),
    freeze: Type.Union([Type.Number(), Type.Null()]),
  }),
  latencyMs: Type.Object({
    p50: Type.Union([Type.Number(), Type.Null()]),
    p99: Type.Union([Type.Number(), Type.Null()]),
    sample: Count,
  }),
  lines: Type.Array(Type.Object({ status: Type.String(), count: Count })),
  actions: Type.Array(Type.Object({ type: Type.String(), outcome: Type.String(), count: Count })),
  openAlerts: Type.Array(Type.Object({ severity: Type.String(), count: Count })),
  ledger: Type.Union([Type.Object({ seq: Type.Integer(), hash: Type.String() }), Type.Null()]),
});
const LineSummary = Type.Object({
  id: Type.String(),
  borrowerId: Type.String(),
  status: Type.String(),
  currency: Type.String(),
  limitMinor: Type.Integer(),
  availableMinor: Type.Integer(),
  outstandingMinor: Type.Integer(),
  dpd: Type.Integer(),
  bucket: Type.String(),
  updatedAt: Type.Number(),
});
const LinesResponse = Type.Object({
  items: Type.Array(LineSummary),
  nextCursor: Type.Union([Type.String(), Type.Null()]),
});
const HistoryResponse = Type.Object({
  actions: Type.Array(
    Type.Object({
      id: Type.String(),
      type: Type.String(),
      outcome: Type.String(),
      reasons: Type.Array(Type.String()),
      automated: Type.Boolean(),
      actor: Type.Union([Type.String(), Type.Null()]),
      prevStatus: Type.String(),
      newStatus: Type.String(),
      prevLimitMinor: Type.Integer(),
      newLimitMinor: Type.Integer(),
      createdAt: Type.String({ format: 'date-time' }),
    }),
  ),
  loans: Type.Array(
    Type.Object({
      id: Type.String(),
      principalMinor: Type.Integer(),
      status: Type.String(),
      createdAt: Type.String({ format: 'date-time' }),
    }),
  ),
  alerts: Type.Array(
    Type.Object({
      alertId: Type.String(),
      typologyId: Type.String(),
      severity: Type.String(),
      status: Type.String(),
      createdAt: Type.String({ format: 'date-time' }),
    }),
  ),
});
const EventView = Type.Object({
  eventId: Type.String(),
  type: Type.String(),
  occurredAt: Type.String({ format: 'date-time' }),
  userId: Type.String(),
  deviceId: Type.Union([Type.String(), Type.Null()]),
  ip: Type.Union([Type.String(), Type.Null()]),
  payeeId: Type.Union([Type.String(), Type.Null()]),
  amountMinor: Type.Union([Type.Integer(), Type.Null()]),
  currency: Type.Union([Type.String(), Type.Null()]),
});
const AlertEvidenceResponse = Type.Object({
  alert: Type.Object({
    alertId: Type.String(),
    typologyId: Type.String(),
    severity: Type.String(),
    status: Type.String(),
    userId: Type.String(),
    lineId: Type.Union([Type.String(), Type.Null()]),
    eventId: Type.String(),
    occurredAt: Type.String({ format: 'date-time' }),
    createdAt: Type.String({ format: 'date-time' }),
    reasons: Type.Array(Type.String()),
    evidence: Type.Object({
      eventIds: Type.Array(Type.String()),
      features: Type.Record(Type.String(), Type.Unknown()),
      rules: Type.Array(Type.String()),
    }),
  }),
  timeline: Type.Array(EventView),
  shared: Type.Array(EventView),
});

/** The risk console's reads: who is signed in, the live overview, line search and a line's history. */
export function consoleRoutes(deps: ConsoleRouteDeps): FastifyPluginAsync {
  return async (instance) => {
    const app = typed(instance);
    app.get(
      '/v1/session',
      {
        // Staff only: a partner's key reaches /v1/partner/ and nothing else (README), not even this.
        config: { roles: READERS },
        schema: {
          tags: ['console'],
          summary: 'Who is signed in with this key, and their role',
          response: { 200: SessionResponse, ...R.READ_ERRORS },
        },
      },
      async (request) => {
        if (!request.principal)
          throw new LgError('LG_UNAUTHENTICATED', 'send Authorization: Bearer <api key>');
        const now = deps.clock.now();
        return {
          keyId: request.principal.keyId,
          role: request.principal.role,
          lenderToday: lenderDayOf(deps.calendar ?? {}, now),
          serverTime: new Date(now).toISOString(),
        };
      },
    );

    app.get(
      '/v1/reasons',
      {
        config: { roles: READERS },
        schema: {
          tags: ['console'],
          summary:
            "The reason-code catalogue: each code's borrower texts (Chinese, English), whether it can be appealed, and " +
            "the rules a person's reasons follow (the console's case outcomes offer and check them)",
          response: { 200: ReasonList, ...R.READ_ERRORS },
        },
      },
      async () => REASON_LIST,
    );

    app.get(
      '/v1/console/overview',
      {
        config: { roles: READERS },
        schema: {
          tags: ['console'],
          summary:
            'Decisions by outcome per minute, rates, latency percentiles, lines, open alerts, ledger head',
          querystring: OverviewQuery,
          response: { 200: OverviewResponse, ...R.READ_ERRORS },
        },
      },
      async (request) => overview(deps, request.query.windowMinutes ?? 60),
    );

    app.get(
      '/v1/console/lines',
      {
        config: { roles: READERS },
        schema: {
          tags: ['console'],
          summary: 'Search lines by line or borrower id (prefix) and status, paginated by cursor',
          querystring: LinesQuery,
          response: { 200: LinesResponse, ...R.READ_ERRORS },
        },
      },
      async (request) => {
        const { q, status, after, limit } = request.query;
        return deps.reads.searchLines({ query: q, status, after, limit: limit ?? 50 });
      },
    );

    app.get(
      '/v1/console/lines/:id/history',
      {
        config: { roles: READERS },
        schema: {
          tags: ['console'],
          summary: "A line's actions with reasons, its loans and its alerts, newest first",
          params: IdParams,
          response: { 200: HistoryResponse, ...R.ITEM_READ_ERRORS },
        },
      },
      async (request) => history(deps, request.params.id),
    );

    app.get(
      '/v1/console/alerts/:id',
      {
        config: { roles: READERS },
        schema: {
          tags: ['console'],
          summary:
            "An alert's evidence: features and rules that fired, the borrower's event timeline, shared entities",
          params: IdParams,
          response: { 200: AlertEvidenceResponse, ...R.ITEM_READ_ERRORS },
        },
      },
      async (request) => alertEvidence(deps, request.params.id),
    );
  };
}

async function alertEvidence(
  deps: ConsoleRouteDeps,
  alertId: string,
): Promise<Static<typeof AlertEvidenceResponse>> {
  const rows = await deps.reads.alertEvidence(alertId, HISTORY_ROWS_MAX);
  if (!rows) throw new LgError('LG_NOT_FOUND', `no alert ${alertId}`);
  const iso = (ms: number): string => new Date(ms).toISOString();
  const event = (e: AlertEvidenceRows['timeline'][number]): Static<typeof EventView> => ({
    ...e,
    occurredAt: iso(e.occurredAt),
  });
  const evidence = JSON.parse(rows.alert.evidence) as {
    eventIds?: string[];
    features?: Record<string, unknown>;
    rules?: string[];
  };
  return {
    alert: {
      ...rows.alert,
      occurredAt: iso(rows.alert.occurredAt),
      createdAt: iso(rows.alert.createdAt),
      reasons: parseReasons(rows.alert.reasons),
      evidence: {
        eventIds: evidence.eventIds ?? [],
        features: evidence.features ?? {},
        rules: evidence.rules ?? [],
      },
    },
    timeline: rows.timeline.map(event),
    shared: rows.shared.map(event),
  };
}

async function overview(
  deps: ConsoleRouteDeps,
  windowMinutes: number,
): Promise<Static<typeof OverviewResponse>> {
  const now = deps.clock.now();
  const rows = await deps.reads.overview({
    now,
    windowMs: windowMinutes * MINUTE_MS,
    bucketMs: MINUTE_MS,
    latencySampleMax: LATENCY_SAMPLE_MAX,
  });
  const latencies = [...rows.latenciesMs].sort((a, b) => a - b);
  return {
    asOf: new Date(now).toISOString(),
    windowMinutes,
    decisions: [...rows.decisionsByKindOutcome],
    perMinute: [...rows.buckets],
    rates: rates(rows),
    latencyMs: {
      p50: percentile(latencies, 0.5),
      p99: percentile(latencies, 0.99),
      sample: latencies.length,
    },
    lines: [...rows.linesByStatus],
    actions: [...rows.actionsByType],
    openAlerts: [...rows.openAlertsBySeverity],
    ledger: rows.ledgerHead,
  };
}

/**
 * Approval and decline rates are over application decisions in the window; the freeze rate is restrictive actions
 * applied in the window over the lines that could be restricted (the over-restriction signal the article warns of).
 */
function rates(rows: OverviewRows): Static<typeof OverviewResponse>['rates'] {
  const applications = rows.decisionsByKindOutcome.filter((d) => d.kind === 'application');
  const total = applications.reduce((sum, d) => sum + d.count, 0);
  const of = (outcome: string): number =>
    applications.filter((d) => d.outcome === outcome).reduce((sum, d) => sum + d.count, 0);
  const restrictive = new Set(['FREEZE_DRAW', 'SUSPEND', 'CLOSE', 'LIMIT_DECREASE']);
  const restrictions = rows.actionsByType
    .filter((a) => restrictive.has(a.type) && a.outcome === 'APPLIED')
    .reduce((sum, a) => sum + a.count, 0);
  const openLines = rows.linesByStatus
    .filter((l) => l.status !== 'CLOSED' && l.status !== 'REVOKED')
    .reduce((sum, l) => sum + l.count, 0);
  return {
    approval: total === 0 ? null : of('APPROVE') / total,
    decline: total === 0 ? null : of('DECLINE') / total,
    freeze: openLines === 0 ? null : restrictions / openLines,
  };
}

/** Nearest-rank percentile of an ascending list; null when empty. */
function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1));
  return sorted[rank] ?? null;
}

async function history(deps: ConsoleRouteDeps, lineId: string): Promise<Static<typeof HistoryResponse>> {
  const rows = await deps.reads.lineHistory(lineId, HISTORY_ROWS_MAX);
  const iso = (ms: number): string => new Date(ms).toISOString();
  return {
    actions: rows.actions.map((a) => ({
      ...a,
      reasons: parseReasons(a.reasons),
      createdAt: iso(a.createdAt),
    })),
    loans: rows.loans.map((l) => ({ ...l, createdAt: iso(l.createdAt) })),
    alerts: rows.alerts.map((a) => ({ ...a, createdAt: iso(a.createdAt) })),
  };
}

function parseReasons(text: string): string[] {
  const parsed: unknown = JSON.parse(text);
  if (!Array.isArray(parsed)) return [];
  return parsed.map((r: unknown) =>
    typeof r === 'string'
      ? r
      : typeof r === 'object' && r !== null && 'code' in r
        ? String(r.code)
        : String(r),
  );
}
