import type { MonitorEvent } from '../../src/monitor/events.js';

export const KILL9_T0 = Date.parse('2025-04-01T00:00:00Z');
export const KILL9_USERS = 50;

/** Event i of the crash test: deterministic, so a re-send carries identical content. */
export function kill9Event(i: number): MonitorEvent {
  const userId = `k-u${i % KILL9_USERS}`;
  const occurredAt = KILL9_T0 + i * 1_000;
  if (i % 10 === 0)
    return {
      eventId: `k${i}`,
      type: 'purchase',
      occurredAt,
      userId,
      merchantId: `m${i % 7}`,
      amountMinor: 1_234 + i,
      currency: 'CNY',
      deviceId: `d-${userId}`,
    };
  if (i % 97 === 0)
    return {
      eventId: `k${i}`,
      type: 'bureau_inquiry',
      occurredAt,
      userId,
      channel: 'partner-k',
      attributes: { purpose: 'LOAN_APPROVAL', origin: 'self' },
    };
  return {
    eventId: `k${i}`,
    type: 'login',
    occurredAt,
    userId,
    deviceId: `d-${userId}`,
    ip: `10.1.0.${i % 200}`,
  };
}
