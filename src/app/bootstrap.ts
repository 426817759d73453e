import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createApiKey } from '../api/api-keys.js';
import { seedDemo } from '../core/index.js';
import type { AppServices } from './app.js';
import { isoDate, MS_PER_DAY } from '../domain/clock.js';

/**
 * First-start chores for `lineguard serve`: an admin key when none exists (printed once; in development also kept
 * in the data folder so `npm start` works out of the box), and the demo book when the store is empty.
 */
export async function bootstrapServe(app: AppServices, print: (line: string) => void): Promise<void> {
  const anyKey = await app.store.db.selectFrom('api_keys').select('id').limit(1).executeTakeFirst();
  if (!anyKey) {
    const created = await createApiKey(app.store.db, app, 'admin', 'first start');
    print(`Created an admin API key (shown once): ${created.key}`);
    if (!app.config.production) {
      const file = join(app.config.dataDir, 'admin.key');
      writeFileSync(file, `${created.key}\n`, { mode: 0o600 });
      print(`Development only: it is also in ${file}.`);
    }
  }
  if (app.config.seedDemo) {
    const seeded = await seedDemo(app.core, {
      // Demo borrowers consent on the application page, as real ones must before the core pulls their report.
      beforeApplication: async (nationalId) => {
        await app.consents.recordConsent({
          nationalId,
          purpose: 'LOAN_APPROVAL',
          textVersion: 'loan-approval/2026-01',
          channel: 'APP',
          recordedBy: 'demo-seed',
        });
      },
    });
    if (seeded.seeded) {
      print(`Seeded the demo book: ${JSON.stringify(seeded)}`);
      await seedPortfolioMonth(app);
    }
  }
  startCheckpoints(app, print);
}

/**
 * Signs a ledger checkpoint at start and then every checkpointIntervalMs, each published to the witness directory
 * (RFC 9162 §8.2): the longer between checkpoints, the more recent history a tamperer could rewrite undetected.
 */
function startCheckpoints(app: AppServices, print: (line: string) => void): void {
  if (app.config.checkpointIntervalMs === 0) return;
  const sign = () =>
    app.evidence
      .checkpoint()
      .catch((error: unknown) =>
        print(
          `could not sign a ledger checkpoint: ${error instanceof Error ? error.message : String(error)}`,
        ),
      );
  void sign();
  setInterval(() => void sign(), app.config.checkpointIntervalMs).unref();
}

/** A month of daily portfolio snapshots for the demo book, as `jobs daily` would have left them. */
async function seedPortfolioMonth(app: AppServices): Promise<void> {
  const today = app.clock.now();
  for (let daysAgo = 29; daysAgo >= 0; daysAgo--)
    await app.portfolio.snapshot(isoDate(today - daysAgo * MS_PER_DAY));
}
