import { LgError } from '../../domain/index.js';
import { EVENT_TYPES, type EventType } from '../events.js';
import {
  syncReadsOf,
  type Aggregate,
  type EntityType,
  type FeatureStore,
  type SyncFeatureReads,
  type WindowQuery,
} from './store.js';

/**
 * The feature registry (domain.md §6 C.13–15): every feature the engine or a typology reads is declared here by name
 * with its entity, window, aggregate, the events it reads, why it exists (PIPL Art. 6 minimum necessary: a feature
 * without a purpose has no business being computed) and where the data comes from.
 */
export interface FeatureDefinition {
  readonly name: string;
  readonly entity: EntityType;
  readonly windowMs: number;
  readonly aggregate: FeatureAggregate;
  readonly eventTypes: readonly EventType[];
  readonly purpose: string;
  readonly source: 'app events' | 'core events' | 'bureau gateway' | 'app and core events';
}

/**
 * What a named feature aggregates: a value of one entity's window. A borrower's time on a device is a pair's, read by
 * the draw signals beside the new-device check (signals.ts), as that check is.
 */
export type FeatureAggregate = Exclude<Aggregate, { readonly kind: 'sinceFirstSeenOn' }>;

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
export const MAX_FEATURE_WINDOW_MS = 90 * DAY;

const ALL: readonly EventType[] = EVENT_TYPES;
const count = { kind: 'count' } as const;
const sum = { kind: 'sum' } as const;
const max = { kind: 'max' } as const;
const since = { kind: 'timeSince' } as const;
const distinct = (of: 'userId' | 'deviceId' | 'ip' | 'payeeId' | 'merchantId' | 'channel') =>
  ({ kind: 'distinct', of }) as const;

function def(
  name: string,
  entity: EntityType,
  windowMs: number,
  aggregate: FeatureAggregate,
  eventTypes: readonly EventType[],
  purpose: string,
  source: FeatureDefinition['source'] = 'app events',
): FeatureDefinition {
  return { name, entity, windowMs, aggregate, eventTypes, purpose, source };
}

export const FEATURES: readonly FeatureDefinition[] = [
  def('userLogins1h', 'user', HOUR, count, ['login'], 'login velocity (ATO, credential stuffing)'),
  def('userLoginFailures1h', 'user', HOUR, count, ['login_failed'], 'failed logins before a draw (ATO)'),
  def('userDeviceChanges24h', 'user', DAY, count, ['device_change'], 'device change before a draw (ATO)'),
  def('userPasswordResets24h', 'user', DAY, count, ['password_reset'], 'recovery-route abuse (ATO)'),
  def('userPhoneChanges24h', 'user', DAY, count, ['phone_change'], 'SIM swap / phone rebinding (ATO)'),
  def('userPayeesAdded24h', 'user', DAY, count, ['payee_added'], 'new payee before a transfer (scam, ATO)'),
  def(
    'userDistinctDevices24h',
    'user',
    DAY,
    distinct('deviceId'),
    ALL,
    'devices used by one borrower (ATO, farms)',
  ),
  def(
    'userDistinctIps24h',
    'user',
    DAY,
    distinct('ip'),
    ALL,
    'IPs used by one borrower (impossible travel, ATO)',
  ),
  def(
    'userDisbursements24h',
    'user',
    DAY,
    count,
    ['disbursement'],
    'draw velocity (scam victims draw repeatedly)',
    'core events',
  ),
  def(
    'userDisbursedSum24h',
    'user',
    DAY,
    sum,
    ['disbursement'],
    'money drawn today (scam, cash-out)',
    'core events',
  ),
  def(
    'userDisbursedSum30d',
    'user',
    30 * DAY,
    sum,
    ['disbursement'],
    'money drawn this month (misuse ratio)',
    'core events',
  ),
  def('userTransferOutSum24h', 'user', DAY, sum, ['transfer_out'], 'outflow after a draw (scam, misuse)'),
  def('userTransferOutMax24h', 'user', DAY, max, ['transfer_out'], 'largest single outflow (scam)'),
  def('userRepaidSum30d', 'user', 30 * DAY, sum, ['repayment'], 'repayment behaviour', 'core events'),
  def(
    'userApplications30d',
    'user',
    30 * DAY,
    count,
    ['application'],
    'application velocity (stacking)',
    'core events',
  ),
  def(
    'userInquiries30d',
    'user',
    30 * DAY,
    count,
    ['bureau_inquiry'],
    'credit-report pulls (stacking)',
    'bureau gateway',
  ),
  def(
    'userDistinctInquirers30d',
    'user',
    30 * DAY,
    distinct('channel'),
    ['bureau_inquiry'],
    'lenders pulling the report (stacking)',
    'bureau gateway',
  ),
  def('userPurchases7d', 'user', 7 * DAY, count, ['purchase'], 'spending pattern (cash-out)'),
  def(
    'userSinceCallOrShare1h',
    'user',
    HOUR,
    since,
    ['call_in_progress', 'screen_share_detected'],
    'coached draw: call or screen share in progress (scam)',
  ),
  def(
    'userSinceDisbursement90d',
    'user',
    90 * DAY,
    since,
    ['disbursement'],
    'dormancy before a draw (scam)',
    'core events',
  ),
  def(
    'deviceDistinctUsers24h',
    'device',
    DAY,
    distinct('userId'),
    ALL,
    'accounts sharing one device (device farm)',
  ),
  def(
    'deviceDistinctUsers7d',
    'device',
    7 * DAY,
    distinct('userId'),
    ALL,
    'accounts sharing one device (device farm)',
  ),
  def('ipDistinctUsers24h', 'ip', DAY, distinct('userId'), ALL, 'accounts sharing one IP (farm, proxy)'),
  def(
    'ipApplications1h',
    'ip',
    HOUR,
    count,
    ['application'],
    'application burst from one IP (ring)',
    'core events',
  ),
  def(
    'payeeDistinctUsers7d',
    'payee',
    7 * DAY,
    distinct('userId'),
    ['transfer_out'],
    'mule account receiving from many borrowers',
  ),
  def(
    'merchantDistinctUsers24h',
    'merchant',
    DAY,
    distinct('userId'),
    ['purchase'],
    'merchant traffic (cash-out merchant)',
  ),
  def(
    'channelInquiries1h',
    'channel',
    HOUR,
    count,
    ['bureau_inquiry'],
    'credit-report pull rate per channel (report abuse)',
    'bureau gateway',
  ),
  def(
    'channelInquiries24h',
    'channel',
    DAY,
    count,
    ['bureau_inquiry'],
    'credit-report pull rate per channel (report abuse)',
    'bureau gateway',
  ),
];

export class FeatureRegistry {
  private readonly byName: ReadonlyMap<string, FeatureDefinition>;

  constructor(readonly definitions: readonly FeatureDefinition[] = FEATURES) {
    for (const d of definitions) {
      if (d.windowMs < MINUTE || d.windowMs > MAX_FEATURE_WINDOW_MS)
        throw new Error(`feature ${d.name}: window must be 1 min..90 days`);
    }
    this.byName = new Map(definitions.map((d) => [d.name, d]));
  }

  get(name: string): FeatureDefinition {
    const found = this.byName.get(name);
    if (!found) throw new LgError('LG_NOT_FOUND', `no feature named ${name}`);
    return found;
  }

  list(): readonly FeatureDefinition[] {
    return this.definitions;
  }
}

/** Reads registered features by name, as of any instant (and, optionally, as known at another). */
export class FeatureReader {
  private readonly sync: SyncFeatureReads | undefined;

  constructor(
    private readonly registry: FeatureRegistry,
    private readonly store: FeatureStore,
  ) {
    this.sync = syncReadsOf(store);
  }

  async value(name: string, entityId: string, asOf: number, knownAt?: number): Promise<number | null> {
    const read = this.readOf(name, entityId, asOf, knownAt);
    return this.store.aggregate(read.query, read.aggregate);
  }

  /** The window and aggregate that give a feature's value (for a WindowBatch of several features). */
  readOf(
    name: string,
    entityId: string,
    asOf: number,
    knownAt?: number,
  ): { readonly query: WindowQuery; readonly aggregate: Aggregate } {
    const d = this.registry.get(name);
    return { query: windowOf(d, entityId, asOf, knownAt), aggregate: d.aggregate };
  }

  /** The store's synchronous reads when it has them (then valueSync may be used too), found once at construction. */
  get syncReads(): SyncFeatureReads | undefined {
    return this.sync;
  }

  /** value() without a promise, for stores that answer synchronously (the draw path reads 20+ features per draw). */
  valueSync(name: string, entityId: string, asOf: number, knownAt?: number): number | null {
    if (!this.sync) throw new Error(`the ${this.store.kind} feature store has no synchronous reads`);
    const d = this.registry.get(name);
    return this.sync.aggregateSync(windowOf(d, entityId, asOf, knownAt), d.aggregate);
  }

  /** Several features in one read of the store (one round trip on a shared store). */
  async values(
    requests: readonly { name: string; entityId: string }[],
    asOf: number,
  ): Promise<Record<string, number | null>> {
    const { aggregates } = await this.store.readBatch({
      aggregates: requests.map((r) => this.readOf(r.name, r.entityId, asOf)),
    });
    const out: Record<string, number | null> = {};
    requests.forEach((r, i) => (out[r.name] = aggregates[i] ?? null));
    return out;
  }
}

/** The window a feature reads for one entity as of an instant. */
function windowOf(
  d: FeatureDefinition,
  entityId: string,
  asOf: number,
  knownAt: number | undefined,
): WindowQuery {
  return {
    entity: d.entity,
    id: entityId,
    types: d.eventTypes,
    fromMs: asOf - d.windowMs,
    toMs: asOf,
    knownAt,
  };
}
