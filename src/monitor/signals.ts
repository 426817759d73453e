import { EVENT_TYPES } from './events.js';
import type { MonitorService } from './service.js';

/** What the engine's `draw` strategy asks the monitor for (the optional monitor features it reads). */
export interface DrawSignalsRequest {
  readonly borrowerId: string;
  readonly lineId?: string;
  readonly deviceId?: string;
  readonly ip?: string;
  /** epoch ms; the draw instant */
  readonly at: number;
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

/** The monitor features a draw decision reads, all as of `at` (20+ features; bench/ingest measures the p99). */
export async function computeDrawSignals(monitor: MonitorService, req: DrawSignalsRequest): Promise<DrawSignals> {
  const { at, borrowerId } = req;
  const out: Record<string, number | boolean> = {};
  const values = await Promise.all(USER_FEATURES.map((name) => monitor.reader.value(name, borrowerId, at)));
  USER_FEATURES.forEach((name, i) => (out[name] = values[i] ?? -1));
  if (req.deviceId) out.deviceDistinctUsers24h = (await monitor.reader.value('deviceDistinctUsers24h', req.deviceId, at)) ?? 0;
  if (req.ip) out.ipDistinctUsers24h = (await monitor.reader.value('ipDistinctUsers24h', req.ip, at)) ?? 0;

  const newDevice = await isNewDevice(monitor, req);
  const sinceCall = values[USER_FEATURES.indexOf('userSinceCallOrShare1h')];
  const callInProgress = sinceCall !== null && sinceCall !== undefined && sinceCall <= SIGNAL_PARAMETERS.callActiveMs;
  const payeeAdded = out.userPayeesAdded24h as number;
  const credential = (out.userPasswordResets24h as number) + (out.userPhoneChanges24h as number) > 0;
  const dormant = out.userSinceDisbursement90d === -1 || (out.userSinceDisbursement90d as number) > SIGNAL_PARAMETERS.dormantMs;
  const w = SCAM_SCORE_WEIGHTS;
  const scamScore =
    (callInProgress ? w.callInProgress : 0) +
    (payeeAdded > 0 ? w.payeeAddedLast24h : 0) +
    (newDevice ? w.newDevice : 0) +
    (credential ? w.credentialChange24h : 0) +
    (dormant ? w.dormant : 0);

  out.userNewDevice24h = newDevice;
  out.payeeAddedLast24h = payeeAdded > 0;
  out.callInProgress = callInProgress;
  out.scamScore = Math.round(Math.min(1, scamScore) * 100) / 100;
  out.alertsOpen = monitor.openAlertCount(borrowerId);
  out.componentUsers = monitor.graph.componentUsers(`user:${borrowerId}`);
  out.userListedBlack = monitor.listHits('user', borrowerId, at).some((h) => h.list === 'black');
  out.deviceListedBlack = req.deviceId ? monitor.listHits('device', req.deviceId, at).some((h) => h.list === 'black') : false;
  return out;
}

/** True when the draw's device (or any device of the last 24 h) was not used by the borrower in the history before. */
async function isNewDevice(monitor: MonitorService, req: DrawSignalsRequest): Promise<boolean> {
  const dayAgo = req.at - DAY;
  const history = await monitor.features.events({ entity: 'user', id: req.borrowerId, types: EVENT_TYPES, fromMs: req.at - SIGNAL_PARAMETERS.deviceHistoryMs, toMs: dayAgo });
  if (history.length === 0) return false;
  const known = new Set(history.map((e) => e.deviceId).filter(Boolean));
  if (req.deviceId) return !known.has(req.deviceId);
  const recent = await monitor.features.events({ entity: 'user', id: req.borrowerId, types: EVENT_TYPES, fromMs: dayAgo, toMs: req.at });
  return recent.some((e) => e.deviceId !== undefined && !known.has(e.deviceId));
}
