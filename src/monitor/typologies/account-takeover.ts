import { EVENT_TYPES, type EventType } from '../events.js';
import { actAfterLatePiece, asOf, COMMON_PARAMETERS, withAct } from './common.js';
import { DAY, HOUR, type TypologyContext, type TypologyHit, type TypologyPack } from './types.js';

/** What a takeover is for: money out, or the way to move it. */
const RISKY_ACTS: readonly EventType[] = ['disbursement', 'transfer_out', 'payee_added'];

/**
 * Account takeover (domain.md §3, F4): a new device or IP, a password reset or phone change, then a draw, a transfer or
 * a new payee within a short window. A device change alone, or a reset on the borrower's usual device, is not enough.
 */
export const accountTakeover: TypologyPack = {
  id: 'ACCOUNT_TAKEOVER',
  version: 1,
  title: 'Account takeover: new device + credential reset + money movement',
  description:
    'A password reset or phone change within credentialWindowMs, from a device (or, with login failures, an IP) the ' +
    'borrower had not used in the preceding lookbackMs (as received by then: an event dated back does not count), ' +
    'followed by a disbursement, transfer out or payee added.',
  // The risky acts, and the evidence that may arrive after them (a reset, a login from the new device reported late).
  triggers: [...RISKY_ACTS, 'password_reset', 'phone_change', 'login', 'login_failed', 'device_change'],
  parameters: {
    ...COMMON_PARAMETERS,
    credentialWindowMs: { default: DAY, description: 'credential change this long before the risky act' },
    lookbackMs: { default: 30 * DAY, description: 'devices/IPs seen in this history are known' },
    minLoginFailures: {
      default: 3,
      description: 'failed logins that, with a new IP, stand in for a new device',
    },
  },
  rules: [
    { id: 'ato.credentialChange', description: 'password reset or phone change within credentialWindowMs' },
    { id: 'ato.newDevice', description: 'a device not seen in the lookback window' },
    { id: 'ato.newIpWithFailures', description: 'a new IP with >= minLoginFailures failed logins' },
    { id: 'ato.riskyAct', description: 'then a disbursement, transfer out or payee added' },
  ],
  reasons: ['R_ACCOUNT_TAKEOVER', 'R_NEW_DEVICE'],
  severity: 'high',
  actions: ['HOLD', 'CHALLENGE', 'FREEZE_DRAW'],
  evaluate,
};

async function evaluate(ctx: TypologyContext): Promise<TypologyHit | null> {
  if (RISKY_ACTS.includes(ctx.event.type)) return judge(ctx);
  // A credential change or a new device's event that arrived after the act: that act is judged again as of its own
  // time (a new phone first seen after the draw, reported in order, is not evidence against the draw).
  const act = await actAfterLatePiece(ctx, RISKY_ACTS);
  return act ? withAct(await judge(asOf(ctx, act.t)), act) : null;
}

async function judge(ctx: TypologyContext): Promise<TypologyHit | null> {
  const { at } = ctx;
  const user = ctx.event.userId;
  const since = at - ctx.num('credentialWindowMs');
  const resets = await ctx.window('user', user, ['password_reset', 'phone_change'], since, at);
  if (resets.length === 0) return null;
  // Known = what the monitor had received before the credential window: a login from the attacker's phone dated back
  // ten days and sent now does not make the phone the borrower's.
  const history = await ctx.window('user', user, EVENT_TYPES, at - ctx.num('lookbackMs'), since, since);
  if (history.length === 0) return null; // no history: a new borrower, not a takeover
  const recent = await ctx.window('user', user, EVENT_TYPES, since, at);
  const knownDevices = new Set(history.map((e) => e.deviceId).filter(Boolean));
  const knownIps = new Set(history.map((e) => e.ip).filter(Boolean));
  const newDevices = recent.filter((e) => e.deviceId && !knownDevices.has(e.deviceId));
  const newIps = recent.filter((e) => e.ip && !knownIps.has(e.ip));
  const failures = recent.filter((e) => e.type === 'login_failed').length;
  const rules = ['ato.credentialChange'];
  if (newDevices.length > 0) rules.push('ato.newDevice');
  else if (newIps.length > 0 && failures >= ctx.num('minLoginFailures')) rules.push('ato.newIpWithFailures');
  else return null;
  rules.push('ato.riskyAct');
  return {
    rules,
    eventIds: [...resets, ...newDevices.slice(0, 5), ctx.event].map((e) => e.eventId),
    features: {
      credentialChanges: resets.length,
      newDevice: newDevices[0]?.deviceId ?? null,
      newIp: newIps[0]?.ip ?? null,
      loginFailures: failures,
      hoursSinceCredentialChange: Math.round(((at - (resets[resets.length - 1]?.t ?? at)) / HOUR) * 10) / 10,
    },
  };
}
