import { describe, expect, it } from 'vitest';
import { EntityGraph } from '../../src/monitor/links.js';
import { DAY, HOUR, T0, ev, openTestMonitor } from './helpers.js';

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

  it('forgets links and borrowers not seen since the horizon, and rebuilds the groups from the rest', () => {
    const g = new EntityGraph();
    // A shop device joins a, b and c; later only c and d keep using it; e stays alone.
    g.add(ev('login', T0, { userId: 'a', deviceId: 'shop' }));
    g.add(ev('login', T0, { userId: 'b', deviceId: 'shop' }));
    g.add(ev('login', T0, { userId: 'b', deviceId: 'own-b' }));
    g.add(ev('login', T0, { userId: 'c', deviceId: 'shop' }));
    g.add(ev('login', T0 + 10 * DAY, { userId: 'c', deviceId: 'shop' }));
    g.add(ev('login', T0 + 10 * DAY, { userId: 'd', deviceId: 'shop' }));
    g.add(ev('login', T0 + 10 * DAY, { userId: 'b', deviceId: 'own-b' }));
    g.add(ev('login', T0 + 10 * DAY, { userId: 'e', deviceId: 'own-e' }));
    expect(g.componentUsers('device:shop')).toBe(4);
    expect(g.edgeCount).toBe(6);

    expect(g.prune(T0 + 5 * DAY)).toBe(2); // a–shop and b–shop; c–shop was seen again
    expect(g.componentUsers('device:shop')).toBe(2); // c and d
    expect(g.componentUsers('user:a')).toBe(0); // no event since the horizon: forgotten
    expect(g.componentUsers('user:b')).toBe(1); // still seen, on its own device only
    expect(g.componentUsers('device:own-b')).toBe(1);
    expect(g.componentUsers('user:e')).toBe(1);
    expect(g.edgeCount).toBe(4);
    expect(g.prune(T0 + 5 * DAY)).toBe(0);

    // A forgotten link seen again joins the group again.
    g.add(ev('login', T0 + 11 * DAY, { userId: 'a', deviceId: 'shop' }));
    expect(g.componentUsers('device:shop')).toBe(3);
    expect(g.prune(T0 + 20 * DAY)).toBe(5);
    expect(g.componentUsers('device:shop')).toBe(0);
    expect(g.edgeCount).toBe(0);
  });

  it('the monitor prunes its link graph with the rest of its memory', async () => {
    const t = await openTestMonitor();
    try {
      await t.monitor.ingest([
        ev('login', T0 - 120 * DAY, { userId: 'old', deviceId: 'shared' }),
        ev('login', T0 - 120 * DAY, { userId: 'u', deviceId: 'shared' }),
      ]);
      expect(t.monitor.graph.componentUsers('device:shared')).toBe(2);
      // Later traffic moves the horizon past the first events; u keeps using the device.
      await t.monitor.ingest(
        Array.from({ length: 120 }, (_, d) =>
          ev('login', T0 - (119 - d) * DAY, { userId: 'u', deviceId: 'shared' }),
        ),
      );
      expect(t.monitor.graph.componentUsers('device:shared')).toBe(1);
      expect(t.monitor.graph.componentUsers('user:old')).toBe(0);
    } finally {
      await t.close();
    }
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
