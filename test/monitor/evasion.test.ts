import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { LineActionPort } from '../../src/monitor/actions.js';
import type { MonitorEvent } from '../../src/monitor/events.js';
import {
  DAY,
  FEATURE_STORES,
  HOUR,
  MIN,
  T0,
  ev,
  history,
  money,
  openTestMonitor,
  type TestMonitor,
} from './helpers.js';

/**
 * A fraudster who has read the typologies (the code is open) and controls what their own app reports: when it says
 * something happened, the order its events arrive in, how an amount is split, how an id is spelled, which line it
 * names. Each case is an evasion (or a spoof against someone else) that was reproduced before its fix.
 */
for (const features of FEATURE_STORES)
  describe.skipIf(!features.enabled)(`evasions (${features.name} features)`, () => {
    let t: TestMonitor;
    const applied: { lineId: string; type: string }[] = [];
    const port: LineActionPort = {
      async applyLineAction(lineId, action) {
        applied.push({ lineId, type: action.type });
        return { status: 'APPLIED' };
      },
    };
    beforeEach(async () => {
      applied.length = 0;
      t = await openTestMonitor({ features: features.open(), deps: { lineActions: port } });
    });
    afterEach(async () => {
      await t.monitor.features.clear();
      await t.close();
      await t.monitor.features.close();
    });

    const fired = async (events: MonitorEvent[]): Promise<string[]> => {
      const outcomes = await t.monitor.ingest(events);
      return outcomes.flatMap((o) => o.typologies.map((f) => f.id));
    };

    /** A takeover of carol's account: the attacker's device, a password reset, a new payee, a draw. */
    const takeover = () => {
      const a = { userId: 'carol', deviceId: 'dev-attacker', ip: '203.0.113.9' };
      return [
        ev('login', T0 - 30 * MIN, a),
        ev('password_reset', T0 - 25 * MIN, a),
        ev('payee_added', T0 - 10 * MIN, { ...a, payeeId: 'mule-1' }),
        ev('disbursement', T0, { ...a, lineId: 'line-carol', ...money(20_000) }),
      ];
    };

    it('one event dated years ahead does not prune every borrower’s history (a takeover is still seen)', async () => {
      await t.monitor.ingest(history('carol'));
      // Another borrower's app, its clock set ten years ahead: the retention horizon followed it and pruned every
      // window, link and id older than 91 days before 2035, so carol had no history and the takeover looked like a
      // new borrower.
      await t.monitor.ingest([ev('login', T0 + 3650 * DAY, { userId: 'mallory', deviceId: 'dev-m' })]);
      expect(await fired(takeover())).toContain('ACCOUNT_TAKEOVER');
    });
  });
