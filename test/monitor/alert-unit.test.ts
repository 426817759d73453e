import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { verifyLedger } from '../../src/compliance/index.js';
import type { LineActionPort } from '../../src/monitor/index.js';
import type { Store } from '../../src/store/db.js';
import type { AlertFollowUp } from '../../src/store/monitor.js';
import { STORE_FACTORIES } from '../helpers/stores.js';
import { MIN, T0, ev, history, money, openTestMonitor } from './helpers.js';

/** A scam pattern that fires SCAM_SAFE_ACCOUNT_TRANSFER (HOLD, COOLDOWN, FREEZE_DRAW) on its last event. */
function scam(userId: string) {
  const u = { userId, deviceId: `dev-${userId}` };
  return [
    ...history(userId, `dev-${userId}`),
    ev('screen_share_detected', T0 - 10 * MIN, u),
    ev('disbursement', T0, { ...u, lineId: `line-${userId}`, ...money(40_000) }),
    ev('payee_added', T0 + MIN, { ...u, payeeId: `safe-${userId}` }),
    ev('transfer_out', T0 + 5 * MIN, {
      ...u,
      payeeId: `safe-${userId}`,
      payeeCreatedAt: T0 + MIN,
      ...money(39_000),
    }),
  ];
}

async function counts(store: Store, userId: string) {
  const alerts = await store.db
    .selectFrom('monitor_alerts')
    .select('alert_id')
    .where('user_id', '=', userId)
    .execute();
  const ids = alerts.map((a) => a.alert_id);
  const ledger =
    ids.length === 0
      ? []
      : await store.db
          .selectFrom('ledger_entries')
          .select(['kind', 'subject_id'])
          .where('kind', '=', 'alert.raised')
          .where('subject_id', 'in', ids)
          .execute();
  const outbox = await store.db
    .selectFrom('outbox')
    .select(['topic', 'payload'])
    .where('topic', 'in', ['monitor.alerts', 'monitor.actions'])
    .execute();
  const events = await store.db
    .selectFrom('monitor_events')
    .select('event_id')
    .where('user_id', '=', userId)
    .execute();
  return {
    alerts: ids,
    ledger,
    outbox: outbox.filter((o) => (JSON.parse(o.payload) as { userId?: string }).userId === userId),
    events: events.length,
  };
}

/** Alerts and monitor actions are written like every core change: with a ledger entry and an outbox row, in one unit. */
for (const factory of STORE_FACTORIES) {
  describe.skipIf(!factory.enabled)(`alerts and actions in one unit on ${factory.name}`, () => {
    // A store per test: test monitors draw ids from the same seed.
    let store: Store;
    beforeEach(async () => {
      store = await factory.open('alertunit');
    });
    afterEach(async () => store?.close());

    it('raising an alert writes the alert, its ledger entry and its outbox row together', async () => {
      const t = await openTestMonitor({ store });
      const outcomes = await t.monitor.ingest(scam('unit-ok'));
      await t.monitor.close();
      const raised = outcomes.flatMap((o) => o.alerts).filter((a) => a.new);
      expect(raised).toHaveLength(1);
      const c = await counts(store, 'unit-ok');
      expect(c.alerts).toEqual([raised[0]?.alertId]);
      expect(c.ledger).toEqual([{ kind: 'alert.raised', subject_id: raised[0]?.alertId }]);
      const topics = c.outbox.map((o) => o.topic).sort();
      // One alert and its three actions (HOLD, COOLDOWN, FREEZE_DRAW skipped: no line-action port).
      expect(topics).toEqual(['monitor.actions', 'monitor.actions', 'monitor.actions', 'monitor.alerts']);
      const actionLedger = await store.db
        .selectFrom('ledger_entries')
        .select('kind')
        .where('kind', '=', 'monitor.action')
        .execute();
      expect(actionLedger.length).toBeGreaterThanOrEqual(3);
      expect((await verifyLedger(store.db)).ok).toBe(true);
    });

    it('a failure in the unit writes none of them (nor the events), and the alert can be raised again', async () => {
      const failing: AlertFollowUp = {
        inTx: () => Promise.reject(new Error('injected: the case insert failed')),
        inSync: () => {
          throw new Error('injected: the case insert failed');
        },
      };
      const events = scam('unit-fail');
      const t = await openTestMonitor({ store, alertFollowUp: failing });
      await expect(t.monitor.ingest(events)).rejects.toThrow('injected');
      await t.monitor.close();
      expect(await counts(store, 'unit-fail')).toEqual({ alerts: [], ledger: [], outbox: [], events: 0 });
      // Nothing was remembered either: the same events, with a working unit, raise the alert once.
      const again = await openTestMonitor({ store });
      const outcomes = await again.monitor.ingest(events);
      await again.monitor.close();
      expect(outcomes.flatMap((o) => o.alerts).filter((a) => a.new)).toHaveLength(1);
      const c = await counts(store, 'unit-fail');
      expect(c.alerts).toHaveLength(1);
      expect(c.ledger).toHaveLength(1);
      expect(c.outbox.filter((o) => o.topic === 'monitor.alerts')).toHaveLength(1);
    });

    it('a disposition and a line action outcome are recorded with their ledger entry and outbox row', async () => {
      const port: LineActionPort = { applyLineAction: () => Promise.resolve({ status: 'APPLIED' }) };
      const t = await openTestMonitor({ store, deps: { lineActions: port } });
      const outcomes = await t.monitor.ingest(scam('unit-disp'));
      const alertId = outcomes.flatMap((o) => o.alerts).find((a) => a.new)?.alertId as string;
      await t.monitor.setAlertStatus(alertId, 'CLOSED');
      // The same status again changes nothing and records nothing.
      await t.monitor.setAlertStatus(alertId, 'CLOSED');
      await t.monitor.close();
      const kinds = await store.db
        .selectFrom('ledger_entries')
        .select(['kind', 'payload'])
        .where('kind', 'in', ['alert.status', 'monitor.action.outcome'])
        .execute();
      const mine = kinds.filter((k) => k.payload.includes(alertId) || k.payload.includes('"DONE"'));
      expect(mine.filter((k) => k.kind === 'alert.status')).toHaveLength(1);
      expect(mine.filter((k) => k.kind === 'monitor.action.outcome').length).toBeGreaterThanOrEqual(1);
      const freeze = await store.db
        .selectFrom('monitor_actions')
        .select('status')
        .where('alert_id', '=', alertId)
        .where('type', '=', 'FREEZE_DRAW')
        .executeTakeFirstOrThrow();
      expect(freeze.status).toBe('DONE');
      expect(await t.monitor.openAlertCount('unit-disp')).toBe(0);
      expect((await verifyLedger(store.db)).ok).toBe(true);
    });
  });
}
