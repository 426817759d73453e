import { describe, expect, it } from 'vitest';
import { EntityGraph } from '../../src/monitor/links.js';
import { HOUR, T0, ev, openTestMonitor } from './helpers.js';

describe('entity links', () => {
  it('joins borrowers through shared devices and payees (union-find components)', () => {
    const g = new EntityGraph();
    g.add(ev('login', T0, { userId: 'a', deviceId: 'd1' }));
    g.add(ev('login', T0, { userId: 'b', deviceId: 'd1' }));
    g.add(
      ev('transfer_out', T0, { userId: 'b', deviceId: 'd2', payeeId: 'p1', amountMinor: 1, currency: 'CNY' }),
    );
    g.add(
      ev('transfer_out', T0, { userId: 'c', deviceId: 'd3', payeeId: 'p1', amountMinor: 1, currency: 'CNY' }),
    );
    g.add(ev('login', T0, { userId: 'z', deviceId: 'd9', ip: '10.0.0.1' }));
    g.add(ev('login', T0, { userId: 'y', deviceId: 'd8', ip: '10.0.0.1' }));
    expect(g.componentUsers('user:a')).toBe(3);
    expect(g.componentUsers('device:d3')).toBe(3);
    expect(g.componentUsers('user:z')).toBe(1); // IP links are off by default (carrier NAT)
    expect(g.componentUsers('user:nobody')).toBe(0);
    const withIps = new EntityGraph({ linkDevices: true, linkIps: true, linkPayees: true });
    withIps.add(ev('login', T0, { userId: 'z', deviceId: 'd9', ip: '10.0.0.1' }));
    withIps.add(ev('login', T0, { userId: 'y', deviceId: 'd8', ip: '10.0.0.1' }));
    expect(withIps.componentUsers('ip:10.0.0.1')).toBe(2);
  });

  it('counts distinct borrowers on a device in 24 h, point in time', async () => {
    const t = await openTestMonitor();
    await t.monitor.ingest(
      ['a', 'b', 'c'].map((userId, i) => ev('login', T0 + i * 10 * HOUR, { userId, deviceId: 'tab' })),
    );
    const r = t.monitor.reader;
    expect(await r.value('deviceDistinctUsers24h', 'tab', T0)).toBe(1);
    expect(await r.value('deviceDistinctUsers24h', 'tab', T0 + 20 * HOUR)).toBe(3);
    expect(await r.value('deviceDistinctUsers24h', 'tab', T0 + 30 * HOUR)).toBe(2);
    const signals = await t.monitor.drawSignals({ borrowerId: 'a', deviceId: 'tab', at: T0 + 20 * HOUR });
    expect(signals.deviceDistinctUsers24h).toBe(3);
    expect(signals.componentUsers).toBe(3);
    await t.close();
  });
});
