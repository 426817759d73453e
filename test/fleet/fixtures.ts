import type { MonitorEvent } from '../../src/monitor/events.js';
import type { TypologyPack } from '../../src/monitor/typologies/index.js';
import type { Store } from '../../src/store/db.js';
import { eventToRow } from '../../src/store/monitor.js';
import { sql } from 'kysely';
import { DAY, HOUR, T0 } from '../monitor/helpers.js';

/** What the fleet suites share: a typology that alerts on every login, and a unit of another writer left open. */

/** A test pack: an alert per borrower per hour of logins (one alert a test can raise at will). */
export const LOGIN_ALERT: TypologyPack = {
  id: 'TEST_LOGIN_ALERT',
  version: 1,
  title: 'login alert',
  description: 'test pack: an alert per borrower per hour of logins',
  triggers: ['login'],
  parameters: { alertDedupWindowMs: { default: HOUR, description: 'one alert an hour' } },
  rules: [{ id: 'login', description: 'any login' }],
  reasons: ['R_ACCOUNT_TAKEOVER'],
  severity: 'low',
  actions: [],
  evaluate: async (ctx) => ({ rules: ['login'], eventIds: [ctx.event.eventId], features: {} }),
};

/** A unit of another writer that stores `event` and its feed row, left open until `commit`. */
export async function openFeedUnit(store: Store, event: MonitorEvent): Promise<{ commit(): Promise<void> }> {
  let release: () => void = () => undefined;
  const held = new Promise<void>((resolve) => {
    release = resolve;
  });
  let inserted: () => void = () => undefined;
  const insertedOnce = new Promise<void>((resolve) => {
    inserted = resolve;
  });
  const unit = store.db.transaction().execute(async (tx) => {
    const row = eventToRow({ event, receivedAt: T0 - DAY, hash: event.eventId, resultJson: '{}' });
    await tx.insertInto('monitor_events').values(row).execute();
    await sql`insert into monitor_event_feed (event_id, writer) values (${event.eventId}, 'slow-writer')`.execute(
      tx,
    );
    inserted();
    await held;
  });
  await Promise.race([insertedOnce, unit]);
  return {
    async commit() {
      release();
      await unit;
    },
  };
}
