import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../../src/store/db.js';
import { listAlerts } from '../../src/cases/index.js';
import { STORE_FACTORIES } from '../helpers/stores.js';
import { MIN, T0, ev, history, money, openTestMonitor } from './helpers.js';

/** Events, alerts and actions through the same Kysely code on SQLite and PostgreSQL. */
for (const factory of STORE_FACTORIES) {
  describe.skipIf(!factory.enabled)(`monitor on ${factory.name}`, () => {
    let store: Store;
    beforeAll(async () => {
      store = await factory.open('monitor');
    });
    afterAll(async () => store?.close());

    it('stores events once, raises alerts with actions, lists them, and rebuilds after restart', async () => {
      const t = await openTestMonitor({ store });
      const u = { userId: 'pg-alice', deviceId: 'dev-pg-alice' };
      const events = [
        ...history('pg-alice', 'dev-pg-alice'),
        ev('screen_share_detected', T0 - 10 * MIN, u),
        ev('disbursement', T0, { ...u, lineId: 'line-pg', ...money(40_000) }),
        ev('payee_added', T0 + MIN, { ...u, payeeId: 'safe-pg' }),
        ev('transfer_out', T0 + 5 * MIN, {
          ...u,
          payeeId: 'safe-pg',
          payeeCreatedAt: T0 + MIN,
          ...money(39_000),
        }),
      ];
      const first = await t.monitor.ingest(events);
      const again = await t.monitor.ingest(events);
      expect(again.map((o) => o.status)).toEqual(events.map(() => 'duplicate'));
      expect(again[again.length - 1]?.alerts).toEqual(first[first.length - 1]?.alerts);
      const page = await listAlerts(t.monitor.db, {
        userId: 'pg-alice',
      });
      expect(page.items).toHaveLength(1);
      expect(page.items[0]).toMatchObject({
        typology: { id: 'SCAM_SAFE_ACCOUNT_TRANSFER', version: 2 },
        severity: 'critical',
        status: 'OPEN',
        lineId: 'line-pg',
      });
      expect(page.items[0]?.actions.map((a) => [a.type, a.status])).toEqual([
        ['HOLD', 'DONE'],
        ['COOLDOWN', 'DONE'],
        ['FREEZE_DRAW', 'SKIPPED'],
      ]);
      await t.monitor.close();
      const restarted = await openTestMonitor({ store });
      expect(restarted.monitor.eventCount).toBe(events.length);
      expect(await restarted.monitor.openAlertCount('pg-alice')).toBe(1);
      const dup = await restarted.monitor.ingest([events[events.length - 1]!]);
      expect(dup[0]).toMatchObject({
        status: 'duplicate',
        typologies: [{ id: 'SCAM_SAFE_ACCOUNT_TRANSFER' }],
      });
      await restarted.monitor.close();
    });
  });
}
