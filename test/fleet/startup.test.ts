import { describe, expect, it } from 'vitest';
import { createIsolatedPostgresSchema, openStore } from '../../src/store/db.js';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TEST_DATABASE_URL, rowCount } from '../helpers/stores.js';
import { startServe, stopServe } from './process.js';

const ROUNDS = 5;

/**
 * Two `lineguard serve` processes started at the same instant on an empty PostgreSQL schema, five times: migrations,
 * first-start chores and the demo seed run under advisory locks, so both come up and the demo book is seeded once.
 * Neither has Redis: each keeps its monitor's windows and links in memory, which must hold what the other stored.
 */
describe.skipIf(!TEST_DATABASE_URL)('two processes starting together on an empty PostgreSQL', () => {
  it(`both come up and seed the demo book once (${ROUNDS} rounds)`, { timeout: 450_000 }, async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const url = await createIsolatedPostgresSchema(TEST_DATABASE_URL ?? '', `startup_${round}`);
      // No admin key given: exactly one process creates it and keeps it in its data folder, which does not exist yet.
      const env = () => ({
        LINEGUARD_DATABASE_URL: url,
        LINEGUARD_SEED_DEMO: '1',
        LINEGUARD_ADMIN_KEY: '',
        LINEGUARD_DATA_DIR: join(mkdtempSync(join(tmpdir(), 'lg-startup-')), 'not-yet'),
      });
      const processes = [startServe(env()), startServe(env())];
      try {
        const urls = await Promise.all(processes.map((p) => p.ready));
        const created = processes.flatMap((p) =>
          p.lines.flatMap((l) => /Created an admin API key \(shown once\): (\S+)/.exec(l)?.[1] ?? []),
        );
        expect(created, `round ${round}: admin keys created`).toHaveLength(1);
        for (const base of urls) {
          const health = await fetch(`${base}/health`);
          expect(health.status, `round ${round}`).toBe(200);
          const lines = await fetch(`${base}/v1/strategies`, {
            headers: { authorization: `Bearer ${created[0]}` },
          });
          expect(lines.status, `round ${round}`).toBe(200);
        }
        const seededBy = processes.filter((p) => p.lines.some((l) => l.startsWith('Seeded the demo book')));
        expect(seededBy, `round ${round}: processes that seeded`).toHaveLength(1);
        const store = await openStore({ postgresUrl: url, migrate: false });
        try {
          const count = (table: 'borrowers' | 'api_keys') => rowCount(store, table);
          // The demo seed applies for 20 borrowers plus the co-lent line's borrower and the scam victim; a second
          // seeding would double them.
          expect(await count('borrowers'), `round ${round}`).toBe(22);
          expect(await count('api_keys'), `round ${round}`).toBe(1);
          // The demo's scam is reported whichever process's relay fed the victim's disbursement to its monitor (without
          // Redis each monitor keeps its own windows: the seeding one missed it about one round in five).
          expect(
            seededBy[0]?.lines.find((l) => l.includes('demo scam')),
            `round ${round}: the demo scam`,
          ).toMatch(/fired SCAM_SAFE_ACCOUNT_TRANSFER/);
          // Both processes decide a draw with the same facts about every seeded borrower: the other process learnt
          // the seed's events, though their receipt times lie weeks back (the seed's clock).
          const users = await store.db.selectFrom('monitor_events').select('user_id').distinct().execute();
          const at = new Date().toISOString();
          for (const { user_id: borrowerId } of users) {
            const signals = await Promise.all(
              urls.map(async (base) => {
                const query = new URLSearchParams({ borrowerId, at });
                const res = await fetch(`${base}/v1/monitor/draw-signals?${query.toString()}`, {
                  headers: { authorization: `Bearer ${created[0]}` },
                });
                return res.json();
              }),
            );
            expect(signals[1], `round ${round}: ${borrowerId}'s draw signals at both processes`).toEqual(
              signals[0],
            );
          }
        } finally {
          await store.close();
        }
      } finally {
        await Promise.all(processes.map((p) => stopServe(p)));
      }
    }
  });
});
