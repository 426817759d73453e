import { EVENT_TYPES } from '../events.js';
import { COMMON_PARAMETERS } from './common.js';
import { DAY, HOUR, type TypologyContext, type TypologyHit, type TypologyPack } from './types.js';

/**
 * Device farms and rings (群控, 中介代办; domain.md §3 F6): one device or IP used by many borrowers, a burst of
 * applications from one IP, or a large group of borrowers joined by shared devices and payees. Every borrower the
 * finding implicates gets an alert.
 */
export const deviceFarm: TypologyPack = {
  id: 'DEVICE_FARM',
  version: 1,
  title: 'Device farm / ring',
  description:
    'deviceUsersMin or more borrowers on one device within deviceWindowMs; or ipUsersMin borrowers and ipApplicationsMin ' +
    'applications from one IP within the hour; or an application from a link-graph component of componentUsersMin borrowers.',
  triggers: ['application', 'login', 'device_change'],
  parameters: {
    ...COMMON_PARAMETERS,
    deviceUsersMin: { default: 4, description: 'borrowers on one device (families share 2-3)' },
    deviceWindowMs: { default: 7 * DAY, description: 'window for device sharing' },
    ipUsersMin: { default: 5, description: 'borrowers on one IP within ipWindowMs' },
    ipApplicationsMin: { default: 4, description: 'applications from one IP within ipWindowMs' },
    ipWindowMs: { default: HOUR, description: 'window for IP bursts' },
    componentUsersMin: { default: 6, description: 'borrowers joined by shared devices/payees' },
  },
  rules: [
    {
      id: 'farm.sharedDevice',
      description: '>= deviceUsersMin borrowers on one device within deviceWindowMs',
    },
    {
      id: 'farm.ipBurst',
      description:
        '>= ipUsersMin borrowers and >= ipApplicationsMin applications from one IP within ipWindowMs',
    },
    { id: 'farm.ring', description: 'application from a component of >= componentUsersMin borrowers' },
  ],
  reasons: ['R_DEVICE_FARM'],
  severity: 'high',
  actions: ['CHALLENGE'],
  evaluate,
};

async function evaluate(ctx: TypologyContext): Promise<TypologyHit | null> {
  const { at, event } = ctx;
  const rules: string[] = [];
  const related = new Set<string>();
  const eventIds = new Set<string>([event.eventId]);
  const features: Record<string, number | null> = {};
  if (event.deviceId) {
    const onDevice = await ctx.window(
      'device',
      event.deviceId,
      EVENT_TYPES,
      at - ctx.num('deviceWindowMs'),
      at,
    );
    const users = new Set<string>();
    for (const e of onDevice) users.add(e.userId);
    features.deviceUsers = users.size;
    if (users.size >= ctx.num('deviceUsersMin')) {
      rules.push('farm.sharedDevice');
      users.forEach((u) => related.add(u));
      onDevice.slice(-10).forEach((e) => eventIds.add(e.eventId));
    }
  }
  if (event.ip) {
    const onIp = await ctx.window('ip', event.ip, EVENT_TYPES, at - ctx.num('ipWindowMs'), at);
    const users = new Set(onIp.map((e) => e.userId));
    const applications = onIp.filter((e) => e.type === 'application');
    features.ipUsers = users.size;
    features.ipApplications = applications.length;
    if (users.size >= ctx.num('ipUsersMin') && applications.length >= ctx.num('ipApplicationsMin')) {
      rules.push('farm.ipBurst');
      applications.forEach((e) => related.add(e.userId));
      applications.slice(-10).forEach((e) => eventIds.add(e.eventId));
    }
  }
  if (event.type === 'application') {
    const size = ctx.graph.componentUsers(`user:${event.userId}`);
    features.componentUsers = size;
    if (size >= ctx.num('componentUsersMin')) rules.push('farm.ring');
  }
  if (rules.length === 0) return null;
  related.delete(event.userId);
  return { rules, eventIds: [...eventIds], features, relatedUsers: [...related] };
}
