import { describe, expect, it } from 'vitest';
import { dailyJobs } from '../../src/app/daily-jobs.js';
import { loadConfig } from '../../src/app/config.js';
import type { Store } from '../../src/store/db.js';
import { prunePublishedOutbox } from '../../src/store/outbox-relay.js';
import { STORE_FACTORIES } from '../helpers/stores.js';

/**
 * The outbox used to keep every row forever: one per draw, application, repayment and alert, each a second copy of what
 * the ledger and the monitor's events already hold, a disbursement's device, IP and payee in clear among them.
 * `jobs daily` now deletes the rows published before the retention; a row not yet published stays however old.
 */
const DAY = 86_400_000;
const NOW = Date.parse('2026-12-07T00:00:00Z');

async function outboxRow(store: Store, id: string, o: { createdAt: number; publishedAt: number | null }) {
  await store.transaction((tx) =>
    tx
      .insertInto('outbox')
      .values({
        id,
        topic: 'core.events',
        payload: '{}',
        created_at: o.createdAt,
        published_at: o.publishedAt,
      })
      .execute(),
  );
}

async function outboxIds(store: Store): Promise<string[]> {
  const rows = await store.db.selectFrom('outbox').select('id').orderBy('id').execute();
  return rows.map((r) => r.id);
}

for (const factory of STORE_FACTORIES)
  describe.skipIf(!factory.enabled)(`the outbox's retention (${factory.name})`, () => {
    it('deletes the rows published before the cutoff, in batches; keeps the rest and every unpublished row', async () => {
      const store = await factory.open('outbox_retention');
      try {
        for (let i = 0; i < 5; i++)
          await outboxRow(store, `old-published-${i}`, {
            createdAt: NOW - 30 * DAY,
            publishedAt: NOW - 20 * DAY,
          });
        await outboxRow(store, 'old-unpublished', { createdAt: NOW - 30 * DAY, publishedAt: null });
        await outboxRow(store, 'recent-published', { createdAt: NOW - DAY, publishedAt: NOW - DAY });
        await outboxRow(store, 'at-cutoff', { createdAt: NOW - 8 * DAY, publishedAt: NOW - 7 * DAY });

        // Batches of two: 5 rows take three statements.
        expect(await prunePublishedOutbox(store, { publishedBefore: NOW - 7 * DAY, batchRowsMax: 2 })).toBe(
          5,
        );
        expect(await outboxIds(store)).toEqual(['at-cutoff', 'old-unpublished', 'recent-published']);
        expect(await prunePublishedOutbox(store, { publishedBefore: NOW - 7 * DAY })).toBe(0);

        // jobs daily runs it with the core's aging (a stand-in here: the store is bare).
        const ran = await dailyJobs(
          {
            core: { runDailyJob: async () => ({}) as never },
            outbox: { prunePublished: () => prunePublishedOutbox(store, { publishedBefore: NOW }) },
          },
          '2026-12-07',
        );
        expect(ran.outboxRowsPruned).toBe(2);
        expect(await outboxIds(store)).toEqual(['old-unpublished']);
      } finally {
        await store.close();
      }
    });
  });

describe('LINEGUARD_OUTBOX_RETENTION_MS', () => {
  const env = { LINEGUARD_KEY: '01'.repeat(32), LINEGUARD_DATA_DIR: '/tmp/lg-outbox-config' };
  it('defaults to 7 days, takes 0 (keep every row), and refuses what is not a whole number', () => {
    expect(loadConfig(env, {}, () => undefined).outboxRetentionMs).toBe(7 * DAY);
    expect(
      loadConfig({ ...env, LINEGUARD_OUTBOX_RETENTION_MS: '0' }, {}, () => undefined).outboxRetentionMs,
    ).toBe(0);
    expect(() =>
      loadConfig({ ...env, LINEGUARD_OUTBOX_RETENTION_MS: 'a week' }, {}, () => undefined),
    ).toThrow(/LINEGUARD_OUTBOX_RETENTION_MS/);
    // A negative retention would put the cutoff ahead of now and delete every published row.
    expect(() => loadConfig({ ...env, LINEGUARD_OUTBOX_RETENTION_MS: '-1' }, {}, () => undefined)).toThrow(
      /LINEGUARD_OUTBOX_RETENTION_MS/,
    );
  });
});
