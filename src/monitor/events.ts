import { sha256Hex } from '../domain/index.js';
import { Type, type Static } from '@sinclair/typebox';
import { canonicalJson } from '../domain/index.js';
import { LgError } from '../domain/index.js';
import { canonicalListValue, type ListEntityType } from './list-values.js';

/**
 * Account events the monitor watches (issue 5, DESIGN "Event"). Core events (application, disbursement, repayment)
 * arrive through the outbox; the rest come from the lender's app over POST /v1/events.
 */
export const EVENT_TYPES = [
  'login',
  'login_failed',
  'device_change',
  'password_reset',
  'phone_change',
  'payee_added',
  'transfer_out',
  /** Money arriving in the borrower's own account (payeeId/merchantId = the sender): closes a cash-out loop. */
  'transfer_in',
  'purchase',
  'disbursement',
  'repayment',
  'application',
  /** A credit-report pull; channel = who pulled it, attributes.purpose, attributes.origin ('self' | 'external'). */
  'bureau_inquiry',
  'screen_share_detected',
  'call_in_progress',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/**
 * The types only the core reports, through its outbox in the dbTx of the change (src/core/events.ts CoreEvent): their
 * borrower, line, loan and amount are the core's record. The lender's app may not report them (POST /v1/events answers
 * 422 LG_EVENT_TYPE_RESERVED): a client could invent a loan, or report the core's disbursement a second time and halve
 * the share of it a scam's transfers are measured against.
 */
export const CORE_EVENT_TYPES: ReadonlySet<EventType> = new Set<EventType>([
  'application',
  'disbursement',
  'repayment',
]);

export type AttributeValue = string | number | boolean | null;

/** An event as the monitor keeps it: instants in epoch ms, money in integer minor units. */
export interface MonitorEvent {
  readonly eventId: string;
  readonly type: EventType;
  readonly occurredAt: number;
  readonly userId: string;
  readonly lineId?: string;
  readonly loanId?: string;
  readonly deviceId?: string;
  readonly ip?: string;
  readonly amountMinor?: number;
  readonly currency?: string;
  readonly payeeId?: string;
  readonly payeeCreatedAt?: number;
  readonly merchantId?: string;
  /** ISO 18245 merchant category code (4 digits). */
  readonly merchantCategory?: string;
  readonly channel?: string;
  readonly attributes?: Readonly<Record<string, AttributeValue>>;
}

const Id = Type.String({ minLength: 1, maxLength: 128 });
const IsoInstant = Type.String({ format: 'date-time', maxLength: 40 });

/** The wire shape (TypeBox → JSON Schema, validated by Fastify/Ajv at the edge). */
export const EventInSchema = Type.Object(
  {
    eventId: Id,
    type: Type.Union(
      EVENT_TYPES.map((t) => Type.Literal(t)),
      {
        description:
          'application, disbursement and repayment are the core’s own events (reported through its outbox): POST /v1/events refuses them with 422 LG_EVENT_TYPE_RESERVED',
      },
    ),
    occurredAt: IsoInstant,
    userId: Id,
    lineId: Type.Optional(Id),
    loanId: Type.Optional(Id),
    deviceId: Type.Optional(Id),
    ip: Type.Optional(Type.String({ minLength: 2, maxLength: 64 })),
    /** Integer minor units (fen, cents). */
    amount: Type.Optional(Type.Integer({ minimum: 0, maximum: 1e15 })),
    currency: Type.Optional(Type.String({ pattern: '^[A-Z]{3}$' })),
    payeeId: Type.Optional(Id),
    payeeCreatedAt: Type.Optional(IsoInstant),
    merchantId: Type.Optional(Id),
    merchantCategory: Type.Optional(Type.String({ pattern: '^[0-9]{4}$' })),
    channel: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    attributes: Type.Optional(
      Type.Record(
        Type.String({ maxLength: 64 }),
        Type.Union([Type.String({ maxLength: 512 }), Type.Number(), Type.Boolean(), Type.Null()]),
        {
          maxProperties: 32,
        },
      ),
    ),
  },
  { additionalProperties: false },
);
export type EventIn = Static<typeof EventInSchema>;

/** Which fields each type needs beyond the common ones; checked after the schema, per event. */
const REQUIRED_BY_TYPE: Partial<Record<EventType, readonly (keyof EventIn)[]>> = {
  transfer_out: ['amount', 'currency', 'payeeId'],
  transfer_in: ['amount', 'currency'],
  purchase: ['amount', 'currency', 'merchantId'],
  disbursement: ['amount', 'currency', 'lineId'],
  repayment: ['amount', 'currency'],
  payee_added: ['payeeId'],
  device_change: ['deviceId'],
  bureau_inquiry: ['channel'],
};

export interface EventProblem {
  readonly index: number;
  readonly field: string;
  readonly problem: string;
}

/** Checks what JSON Schema cannot say (per-type required fields, real instants); returns problems naming index and field. */
export function eventProblems(event: EventIn, index: number): EventProblem[] {
  const problems: EventProblem[] = [];
  for (const field of REQUIRED_BY_TYPE[event.type] ?? []) {
    if (event[field] === undefined)
      problems.push({ index, field, problem: `required for type ${event.type}` });
  }
  if (Number.isNaN(Date.parse(event.occurredAt)))
    problems.push({ index, field: 'occurredAt', problem: 'not a valid instant' });
  if (event.payeeCreatedAt !== undefined && Number.isNaN(Date.parse(event.payeeCreatedAt))) {
    problems.push({ index, field: 'payeeCreatedAt', problem: 'not a valid instant' });
  }
  if ((event.amount === undefined) !== (event.currency === undefined)) {
    problems.push({
      index,
      field: event.amount === undefined ? 'amount' : 'currency',
      problem: 'amount and currency go together',
    });
  }
  return problems;
}

function isCoreEventType(type: string | undefined): type is EventType {
  return (CORE_EVENT_TYPES as ReadonlySet<string | undefined>).has(type);
}

/** How far ahead of the clock an app event may be dated by default (a device clock a little fast): 5 minutes. */
export const DEFAULT_EVENT_FUTURE_TOLERANCE_MS = 300_000;

export interface AppEventRules {
  /** The monitor's clock, now (epoch ms). */
  readonly now: number;
  /** How far ahead of `now` an event may be dated (Config.eventFutureToleranceMs). */
  readonly futureToleranceMs: number;
}

/**
 * What the lender's app may report (POST /v1/events), checked before anything of the request is written: no event of a
 * type only the core reports (422 LG_EVENT_TYPE_RESERVED), and none dated more than the tolerance after the clock (422
 * LG_EVENT_IN_FUTURE). occurredAt is the client's word: an event dated ahead is judged when nothing it belongs with is
 * in its windows yet (a transfer dated a day after its draw is out of the scam's six hours), and it would sit in every
 * window as if it had happened. Each refusal names the events by their index in the batch.
 */
export function assertAppEvents(events: readonly MonitorEvent[], rules: AppEventRules): void {
  refuseReservedTypes(events);
  refuseFutureDates(events, rules);
}

function refuseReservedTypes(events: readonly MonitorEvent[]): void {
  const reserved = events.flatMap((e, index) =>
    CORE_EVENT_TYPES.has(e.type) ? [{ index, eventId: e.eventId, type: e.type }] : [],
  );
  if (reserved.length === 0) return;
  throw new LgError(
    'LG_EVENT_TYPE_RESERVED',
    `${named(reserved, (r) => r.type)}: only the core reports ${[...CORE_EVENT_TYPES].join(', ')} events (through its outbox, as each commits); the app reports what happened in the app`,
    reserved,
  );
}

function refuseFutureDates(events: readonly MonitorEvent[], rules: AppEventRules): void {
  const latest = rules.now + rules.futureToleranceMs;
  const ahead = events.flatMap((e, index) =>
    e.occurredAt > latest
      ? [{ index, eventId: e.eventId, occurredAt: isoText(e.occurredAt), latestAccepted: isoText(latest) }]
      : [],
  );
  if (ahead.length === 0) return;
  throw new LgError(
    'LG_EVENT_IN_FUTURE',
    `${named(ahead, (a) => a.occurredAt)}: dated after ${isoText(latest)}, more than ${rules.futureToleranceMs} ms after this server's clock; send events when they have happened, with the device's clock checked against the server's`,
    ahead,
  );
}

/** The first few refused events as `events[i] (what)`, for a message. */
function named<T extends { readonly index: number }>(refused: readonly T[], what: (r: T) => string): string {
  const shown = refused.slice(0, 5).map((r) => `events[${r.index}] (${what(r)})`);
  return refused.length > 5 ? `${shown.join(', ')} and ${refused.length - 5} more` : shown.join(', ');
}

/** An instant as ISO text; one outside what Date can print (a typo'd year) as its epoch ms. */
function isoText(ms: number): string {
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? String(ms) : date.toISOString();
}

/** Parses wire events (already schema-valid) into MonitorEvents, or throws LG_EVENT_INVALID listing every problem. */
export function parseEvents(events: readonly EventIn[]): MonitorEvent[] {
  const problems = events.flatMap((e, i) => eventProblems(e, i));
  if (problems.length > 0) {
    const text = problems
      .slice(0, 5)
      .map((p) => `events[${p.index}].${p.field} ${p.problem}`)
      .join('; ');
    throw new LgError('LG_EVENT_INVALID', text, problems);
  }
  return events.map(fromWire);
}

export function fromWire(e: EventIn): MonitorEvent {
  // Built by assignment in a fixed order, never by deleting keys: `delete` would drop the object into V8's slow
  // dictionary mode, and every later read of it (hashing, features, typologies, rows) would pay for that.
  const out: { -readonly [K in keyof MonitorEvent]: MonitorEvent[K] } = {
    eventId: e.eventId,
    type: e.type,
    occurredAt: Date.parse(e.occurredAt),
    userId: e.userId,
  };
  if (e.lineId !== undefined) out.lineId = e.lineId;
  if (e.loanId !== undefined) out.loanId = e.loanId;
  if (e.deviceId !== undefined) out.deviceId = e.deviceId;
  if (e.ip !== undefined) out.ip = e.ip;
  if (e.amount !== undefined) out.amountMinor = e.amount;
  if (e.currency !== undefined) out.currency = e.currency;
  if (e.payeeId !== undefined) out.payeeId = e.payeeId;
  if (e.payeeCreatedAt !== undefined) out.payeeCreatedAt = Date.parse(e.payeeCreatedAt);
  if (e.merchantId !== undefined) out.merchantId = e.merchantId;
  if (e.merchantCategory !== undefined) out.merchantCategory = e.merchantCategory;
  if (e.channel !== undefined) out.channel = e.channel;
  if (e.attributes !== undefined) out.attributes = e.attributes;
  return out;
}

/** The event fields that key feature windows and links, with the list type whose canonical form they take. */
const CANONICAL_KEYS = [
  ['deviceId', 'device'],
  ['ip', 'ip'],
  ['payeeId', 'payee'],
  ['merchantId', 'merchant'],
  // A channel is an opaque id as a merchant's is: one written with a stray space or an invisible character is one channel.
  ['channel', 'merchant'],
] as const satisfies readonly (readonly [keyof MonitorEvent, ListEntityType])[];

/**
 * The event with its device, IP, payee, merchant and channel in the canonical forms the lists use (list-values.ts): windows,
 * links and typologies key on them, so one address, account or device written two ways (IPv4 and IPv4-mapped IPv6, an
 * account number with spaces, a device id with a stray space or an invisible character) is one key, as it is on a
 * list. A value with no canonical form is kept as sent. The same object when nothing changes (the common case).
 */
export function withCanonicalKeys(e: MonitorEvent): MonitorEvent {
  let out: { -readonly [K in keyof MonitorEvent]: MonitorEvent[K] } | undefined;
  for (const [field, entityType] of CANONICAL_KEYS) {
    const value = e[field];
    if (value === undefined) continue;
    const canonical = canonicalListValue(entityType, value) ?? value;
    if (canonical === value) continue;
    out ??= { ...e };
    out[field] = canonical;
  }
  return out ?? e;
}

export function toWire(e: MonitorEvent): EventIn {
  return stripUndefined({
    eventId: e.eventId,
    type: e.type,
    occurredAt: new Date(e.occurredAt).toISOString(),
    userId: e.userId,
    lineId: e.lineId,
    loanId: e.loanId,
    deviceId: e.deviceId,
    ip: e.ip,
    amount: e.amountMinor,
    currency: e.currency,
    payeeId: e.payeeId,
    payeeCreatedAt: e.payeeCreatedAt === undefined ? undefined : new Date(e.payeeCreatedAt).toISOString(),
    merchantId: e.merchantId,
    merchantCategory: e.merchantCategory,
    channel: e.channel,
    attributes: e.attributes as EventIn['attributes'],
  });
}

const HASHED_FIELDS = [
  'eventId',
  'type',
  'occurredAt',
  'userId',
  'lineId',
  'loanId',
  'deviceId',
  'ip',
  'amountMinor',
  'currency',
  'payeeId',
  'payeeCreatedAt',
  'merchantId',
  'merchantCategory',
  'channel',
] as const satisfies readonly (keyof MonitorEvent)[];

/**
 * Identity of an event's content: the same eventId with another hash is a client bug (LG_EVENT_CONFLICT). Fields in a
 * fixed order (cheaper than canonicalising the whole object on the hot path), attributes canonically.
 */
export function contentHash(e: MonitorEvent): string {
  // One update of the concatenation: the same digest as one update per field, at a fraction of the native calls.
  let text = '';
  for (const field of HASHED_FIELDS) text += `${e[field] ?? ''}\u0001`;
  if (e.attributes !== undefined) text += canonicalJson(e.attributes);
  return sha256Hex(text).slice(0, 32);
}

/** A copy without the undefined keys (a copy, not `delete`, which would leave the object in slow dictionary mode). */
function stripUndefined<T extends object>(value: T): T {
  const out: Partial<T> = {};
  for (const key of Object.keys(value) as (keyof T)[]) if (value[key] !== undefined) out[key] = value[key];
  return out as T;
}

/** A core outbox payload ({eventId, type, occurredAt ISO, userId, lineId, loanId?, amount, currency}) as a MonitorEvent. */
export function fromCorePayload(payload: unknown): MonitorEvent {
  if (typeof payload !== 'object' || payload === null)
    throw new LgError('LG_EVENT_INVALID', 'core event payload is not an object');
  const p = payload as Record<string, unknown>;
  const text = (k: string): string | undefined => (typeof p[k] === 'string' ? (p[k] as string) : undefined);
  const type = text('type');
  if (!isCoreEventType(type)) {
    throw new LgError(
      'LG_EVENT_INVALID',
      `core event type ${String(type)} is not ${[...CORE_EVENT_TYPES].join('|')}`,
    );
  }
  const eventId = text('eventId');
  const userId = text('userId');
  const occurredAt = Date.parse(text('occurredAt') ?? '');
  if (!eventId || !userId || Number.isNaN(occurredAt))
    throw new LgError('LG_EVENT_INVALID', 'core event needs eventId, userId, occurredAt');
  const amount = typeof p.amount === 'number' && Number.isSafeInteger(p.amount) ? p.amount : undefined;
  // A disbursement carries the draw's stated purpose (fund-misuse evidence compares it with where the money went).
  const stated = (p.attributes as Record<string, unknown> | undefined)?.purpose;
  const purpose = typeof stated === 'string' ? stated.slice(0, 64) : undefined;
  return stripUndefined({
    eventId,
    type,
    occurredAt,
    userId,
    lineId: text('lineId'),
    loanId: text('loanId'),
    amountMinor: amount,
    currency: amount === undefined ? undefined : text('currency'),
    // The request's keys as the core took them (its API validated them): an application burst from one IP, a draw
    // from a phone, reach the packs only this way, since only the core reports these types.
    deviceId: text('deviceId'),
    ip: text('ip'),
    payeeId: text('payeeId'),
    channel: 'core',
    attributes: purpose === undefined ? undefined : { purpose },
  });
}
