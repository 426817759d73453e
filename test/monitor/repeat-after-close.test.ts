import { describe, expect, it } from 'vitest';
import { DAY, MIN, T0, ev, history, money, openTestMonitor } from './helpers.js';

/**
 * A typology's dedupe window joins repeated firings of one incident into one alert. A CLOSED alert is an incident an
 * analyst has finished with: a new firing after it is a new incident, with its own alert and its own actions (a
 * repeat victim of the safe-account scam is common, and the cooling-off sweep stops only for an alert raised since
 * the draw).
 */
describe('a firing after its alert was closed', () => {
  const scam = (t0: number, payeeId: string) => {
    const u = { userId: 'v', deviceId: 'dev-v' };
    return [
      ev('call_in_progress', t0 - 20 * MIN, u),
      ev('disbursement', t0, { ...u, lineId: 'line-v', ...money(30_000) }),
      ev('transfer_out', t0 + 10 * MIN, { ...u, payeeId, payeeCreatedAt: t0 + 5 * MIN, ...money(28_000) }),
    ];
  };

  it('raises a new alert with its actions; an alert still open or acknowledged absorbs it', async () => {
    const t = await openTestMonitor({
      deps: { lineActions: { applyLineAction: async () => ({ status: 'APPLIED' }) } },
    });
    try {
      const first = (await t.monitor.ingest([...history('v'), ...scam(T0, 'safe-1')])).at(-1);
      const alert = first?.alerts[0];
      expect(alert?.new).toBe(true);
      expect(first?.actions.length).toBeGreaterThan(0);

      // Acknowledged (an analyst is on it): the same incident firing again joins it.
      await t.monitor.setAlertStatus(alert?.alertId ?? '', 'ACKNOWLEDGED');
      const again = (await t.monitor.ingest(scam(T0 + DAY, 'safe-2'))).at(-1);
      expect(again?.alerts.map((a) => [a.alertId, a.new])).toEqual([[alert?.alertId, false]]);

      await t.monitor.setAlertStatus(alert?.alertId ?? '', 'CLOSED');
      const second = (await t.monitor.ingest(scam(T0 + 2 * DAY, 'safe-3'))).at(-1);
      expect(second?.alerts).toHaveLength(1);
      expect(second?.alerts[0]?.new).toBe(true);
      expect(second?.alerts[0]?.alertId).not.toBe(alert?.alertId);
      expect(second?.actions.map((a) => a.type)).toEqual(first?.actions.map((a) => a.type));
    } finally {
      await t.close();
    }
  });
});
