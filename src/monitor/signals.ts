import { EVENT_TYPES, type EventType } from './events.js';
import type { FeatureReader } from './features/registry.js';
import type { FeatureStore, SyncFeatureReads, WindowBatchResult, WindowQuery } from './features/store.js';
import type { EntityGraph } from './links.js';
import type { ListEntityType, ListHit } from './lists.js';
import { canonicalListValue } from './list-values.js';

/** What draw signals read: features, windows, links, lists and the open-alert count (the monitor offers them all). */
export interface DrawSignalSource {
  readonly reader: FeatureReader;
  readonly features: Pick<FeatureStore, 'readBatch'>;
  readonly graph: Pick<EntityGraph, 'componentUsers'>;
  openAlertCount(userId: string): number | Promise<number>;
  /** How far ahead of the clock intake accepts an app event (a phone clock running fast). */
  readonly eventFutureToleranceMs: number;
  listHits(entityType: ListEntityType, value: string | undefined, at: number): readonly ListHit[];
}

/** What the engine's `draw` strategy asks the monitor for (the optional monitor features it reads). */
export interface DrawSignalsRequest {
  readonly borrowerId: string;
  readonly lineId?: string;
  readonly deviceId?: string;
  readonly ip?: string;
  /** epoch ms; the draw instant */
  readonly at: number;
  /** Leave `alertsOpen` out: the caller reads it itself (the core's draw unit, under the line's lock). */
  readonly withoutOpenAlerts?: boolean;
}

export type DrawSignals = Readonly<Record<string, number | boolean>>;

const MINUTE = 60_000;
const DAY = 86_400_000;

/**
 * Heuristic weights of the scam score (0..1) the draw strategy can threshold; each term is a signal of the 安全账户
 * script (domain.md §3: live call/screen share, new payee, new device, credential change, dormant-to-draw).
 */
export const SCAM_SCORE_WEIGHTS = {
  callInProgress: 0.45,
  payeeAddedLast24h: 0.2,
  newDevice: 0.15,
  credentialChange24h: 0.1,
  dormant: 0.1,
} as const;

export const SIGNAL_PARAMETERS = {
  /** A call or screen share reported within this counts as still in progress. */
  callActiveMs: 30 * MINUTE,
  /** Devices seen in this history (before the last 24 h) are known. */
  deviceHistoryMs: 30 * DAY,
  /** No draw within this = dormant. */
  dormantMs: 60 * DAY,
} as const;

const USER_FEATURES = [
  'userLogins1h',
  'userLoginFailures1h',
  'userDeviceChanges24h',
  'userPasswordResets24h',
  'userPhoneChanges24h',
  'userPayeesAdded24h',
  'userDistinctDevices24h',
  'userDistinctIps24h',
  'userDisbursements24h',
  'userDisbursedSum24h',
  'userDisbursedSum30d',
  'userTransferOutSum24h',
  'userApplications30d',
  'userInquiries30d',
  'userDistinctInquirers30d',
  'userSinceCallOrShare1h',
  'userSinceDisbursement90d',
] as const;

/** What a draw's signals are computed from: the feature values and whether the device is new. */
interface DrawReads {
  /** USER_FEATURES' values, in order. */
  readonly user: readonly (number | null)[];
  /** undefined when the request names no device / IP. */
  readonly deviceDistinctUsers24h: number | null | undefined;
  readonly ipDistinctUsers24h: number | null | undefined;
  readonly newDevice: boolean;
  /** Calls or screen shares received by the draw but dated after it (within the future tolerance). */
  readonly callsAhead: number;
  /** The borrower has events in the device history (before the last 24 h). */
  readonly hasHistory: boolean;
  /** How long the borrower has used the draw's device (ms, within the device history); undefined when not told. */
  readonly onDeviceMs: number | null | undefined;
}

/** The monitor features a draw decision reads, all as of `at` (20+ features; bench/ingest measures the p99). */
export async function computeDrawSignals(
  monitor: DrawSignalSource,
  sent: DrawSignalsRequest,
): Promise<DrawSignals> {
  // The draw's device and IP are looked up as events are keyed (withCanonicalKeys).
  const req = canonicalRequest(sent);
  // The memory store answers every read at once: no promise per feature on the draw path.
  const sync = monitor.reader.syncReads;
  const reads = sync ? readSync(monitor, sync, req) : await readAsync(monitor, req);
  // From the shared store on PostgreSQL (another process may have raised or closed an alert); memory on SQLite.
  const open = req.withoutOpenAlerts ? undefined : monitor.openAlertCount(req.borrowerId);
  return signalsFrom(monitor, req, reads, typeof open === 'number' || open === undefined ? open : await open);
}

function readSync(monitor: DrawSignalSource, sync: SyncFeatureReads, req: DrawSignalsRequest): DrawReads {
  const { at, borrowerId } = req;
  const windows = deviceWindows(req);
  const historyEvents = sync.aggregateSync(windows.history, COUNT) ?? 0;
  return {
    user: USER_FEATURES.map((name) => monitor.reader.valueSync(name, borrowerId, at)),
    deviceDistinctUsers24h: req.deviceId
      ? monitor.reader.valueSync('deviceDistinctUsers24h', req.deviceId, at)
      : undefined,
    ipDistinctUsers24h: req.ip ? monitor.reader.valueSync('ipDistinctUsers24h', req.ip, at) : undefined,
    newDevice: isNewDeviceFrom(
      historyEvents,
      sync.distinctValuesSync(windows.history, 'deviceId'),
      () => sync.distinctValuesSync(windows.recent, 'deviceId'),
      req.deviceId,
    ),
    hasHistory: historyEvents > 0,
    callsAhead: sync.aggregateSync(callsAheadWindow(monitor, req), COUNT) ?? 0,
    onDeviceMs: req.deviceId
      ? sync.aggregateSync(onDeviceWindow(req), sinceFirstSeenOn(req.deviceId))
      : undefined,
  };
}

/**
 * The same reads from a shared store, as ONE batch (a single Redis script): the features, and what the new-device
 * check compares, as indexes rather than events (the borrower may have thousands of events in the history).
 */
async function readAsync(monitor: DrawSignalSource, req: DrawSignalsRequest): Promise<DrawReads> {
  const { at, borrowerId } = req;
  const { reader } = monitor;
  const windows = deviceWindows(req);
  const reads = USER_FEATURES.map((name) => reader.readOf(name, borrowerId, at));
  if (req.deviceId) reads.push(reader.readOf('deviceDistinctUsers24h', req.deviceId, at));
  if (req.ip) reads.push(reader.readOf('ipDistinctUsers24h', req.ip, at));
  if (req.deviceId) reads.push({ query: onDeviceWindow(req), aggregate: sinceFirstSeenOn(req.deviceId) });
  reads.push({ query: windows.history, aggregate: COUNT });
  reads.push({ query: callsAheadWindow(monitor, req), aggregate: COUNT });
  const result = await monitor.features.readBatch({
    aggregates: reads,
    values: [
      { query: windows.history, field: 'deviceId' },
      // The last 24 h's devices only matter when the draw names none (isNewDeviceFrom).
      ...(req.deviceId ? [] : [{ query: windows.recent, field: 'deviceId' as const }]),
    ],
  });
  const next = batchCursor(result);
  const user = USER_FEATURES.map(() => next());
  const deviceDistinctUsers24h = req.deviceId ? next() : undefined;
  const ipDistinctUsers24h = req.ip ? next() : undefined;
  const onDeviceMs = req.deviceId ? next() : undefined;
  const historyEvents = next() ?? 0;
  const callsAhead = next() ?? 0;
  const [historyDevices = [], recentDevices = []] = result.values;
  return {
    user,
    deviceDistinctUsers24h,
    ipDistinctUsers24h,
    newDevice: isNewDeviceFrom(historyEvents, historyDevices, () => recentDevices, req.deviceId),
    hasHistory: historyEvents > 0,
    callsAhead,
    onDeviceMs,
  };
}

/** The batch's aggregates, one after another, in the order they were asked for. */
function batchCursor(result: WindowBatchResult): () => number | null {
  let i = 0;
  return () => result.aggregates[i++] ?? null;
}

function signalsFrom(
  monitor: DrawSignalSource,
  req: DrawSignalsRequest,
  reads: DrawReads,
  alertsOpen: number | undefined,
): DrawSignals {
  const { at, borrowerId } = req;
  const out: Record<string, number | boolean> = {};
  USER_FEATURES.forEach((name, i) => (out[name] = reads.user[i] ?? -1));
  if (req.deviceId) out.deviceDistinctUsers24h = reads.deviceDistinctUsers24h ?? 0;
  if (req.ip) out.ipDistinctUsers24h = reads.ipDistinctUsers24h ?? 0;

  const newDevice = reads.newDevice;
  const sinceCall = reads.user[USER_FEATURES.indexOf('userSinceCallOrShare1h')];
  const callInProgress =
    (sinceCall !== null && sinceCall !== undefined && sinceCall <= SIGNAL_PARAMETERS.callActiveMs) ||
    reads.callsAhead > 0;
  const payeeAdded = out.userPayeesAdded24h as number;
  const credential = (out.userPasswordResets24h as number) + (out.userPhoneChanges24h as number) > 0;
  const dormant =
    out.userSinceDisbursement90d === -1 ||
    (out.userSinceDisbursement90d as number) > SIGNAL_PARAMETERS.dormantMs;
  const w = SCAM_SCORE_WEIGHTS;
  const scamScore =
    (callInProgress ? w.callInProgress : 0) +
    (payeeAdded > 0 ? w.payeeAddedLast24h : 0) +
    (newDevice ? w.newDevice : 0) +
    (credential ? w.credentialChange24h : 0) +
    (dormant ? w.dormant : 0);

  out.userNewDevice24h = newDevice;
  const deviceAgeDays = deviceAgeDaysOf(reads);
  if (deviceAgeDays !== undefined) out.deviceAgeDays = deviceAgeDays;
  out.payeeAddedLast24h = payeeAdded > 0;
  out.callInProgress = callInProgress;
  out.scamScore = Math.round(Math.min(1, scamScore) * 100) / 100;
  if (alertsOpen !== undefined) out.alertsOpen = alertsOpen;
  out.componentUsers = monitor.graph.componentUsers(`user:${borrowerId}`);
  out.userListedBlack = monitor.listHits('user', borrowerId, at).some((h) => h.list === 'black');
  out.deviceListedBlack = req.deviceId
    ? monitor.listHits('device', req.deviceId, at).some((h) => h.list === 'black')
    : false;
  return out;
}

/**
 * The borrower's windows isNewDevice compares: the device history before the last 24 h, as the monitor had received
 * it by then (a login dated back and sent now does not make a new phone known), and the last 24 h.
 */
function deviceWindows(req: DrawSignalsRequest): { history: WindowQuery; recent: WindowQuery } {
  const dayAgo = req.at - DAY;
  return {
    history: {
      entity: 'user',
      id: req.borrowerId,
      types: EVENT_TYPES,
      fromMs: req.at - SIGNAL_PARAMETERS.deviceHistoryMs,
      toMs: dayAgo,
      knownAt: dayAgo,
    },
    recent: { entity: 'user', id: req.borrowerId, types: EVENT_TYPES, fromMs: dayAgo, toMs: req.at },
  };
}

/**
 * True when the draw's device (or, when the draw names none, any device of the last 24 h) was not used by the
 * borrower in the history before; a borrower with no history has no new device.
 */
function isNewDeviceFrom(
  historyEvents: number,
  historyDevices: Iterable<string | undefined>,
  recentDevices: () => Iterable<string>,
  deviceId: string | undefined,
): boolean {
  if (historyEvents === 0) return false;
  const known = knownDevices(historyDevices);
  if (deviceId) return !known.has(deviceId);
  for (const device of recentDevices()) if (!known.has(device)) return true;
  return false;
}

const COUNT = { kind: 'count' } as const;

/**
 * Calls and screen shares dated after the draw but received by it: intake accepts an app event dated up to the future
 * tolerance ahead (a phone clock running fast), and a call reported so is in progress now, though the windows read
 * as of the draw (`userSinceCallOrShare1h`) end before it.
 */
function callsAheadWindow(monitor: DrawSignalSource, req: DrawSignalsRequest): WindowQuery {
  return {
    entity: 'user',
    id: req.borrowerId,
    types: CALL_TYPES,
    fromMs: req.at,
    toMs: req.at + monitor.eventFutureToleranceMs,
    knownAt: req.at,
  };
}

const CALL_TYPES = ['call_in_progress', 'screen_share_detected'] as const satisfies readonly EventType[];

/**
 * The borrower's events over the device history, as the monitor had received them by the draw: when it first
 * received one on the draw's device says since when it has seen the borrower on it (a login dated back and sent now
 * does not age the phone).
 */
function onDeviceWindow(req: DrawSignalsRequest): WindowQuery {
  return {
    entity: 'user',
    id: req.borrowerId,
    types: EVENT_TYPES,
    fromMs: req.at - SIGNAL_PARAMETERS.deviceHistoryMs,
    toMs: req.at,
    knownAt: req.at,
  };
}

function sinceFirstSeenOn(deviceId: string) {
  return { kind: 'sinceFirstSeenOn', deviceId } as const;
}

/**
 * `deviceAgeDays`: days since the monitor first saw the borrower on the draw's device, 0 for a device never seen with
 * them, and at most the device history's length (older use is out of its reach). Told only when the new-device check can tell
 * (the draw names a device, and the borrower has a history before the last 24 h): a borrower the monitor has never
 * seen has no device the strategy could call new, as `userNewDevice24h` says.
 */
function deviceAgeDaysOf(reads: DrawReads): number | undefined {
  if (reads.onDeviceMs === undefined || !reads.hasHistory) return undefined;
  return Math.round(((reads.onDeviceMs ?? 0) / DAY) * 100) / 100;
}

/** The request with its device and IP in canonical form; the same object when they already are. */
function canonicalRequest(req: DrawSignalsRequest): DrawSignalsRequest {
  const deviceId =
    req.deviceId === undefined ? undefined : (canonicalListValue('device', req.deviceId) ?? req.deviceId);
  const ip = req.ip === undefined ? undefined : (canonicalListValue('ip', req.ip) ?? req.ip);
  return deviceId === req.deviceId && ip === req.ip ? req : { ...req, deviceId, ip };
}

/** The devices a history shows (an empty id is no device). */
function knownDevices(ids: Iterable<string | undefined>): Set<string> {
  const known = new Set<string>();
  for (const id of ids) if (id) known.add(id);
  return known;
}
