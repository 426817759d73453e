import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createApiKey } from '../api/index.js';
import { seedDemo } from '../core/index.js';
import { acquireAdvisoryLock, anyApiKeyExists } from '../store/index.js';
import type { AppServices } from './app.js';
import { reportDemoScam } from './seed-scam.js';
import { ensurePrivateDir, PRIVATE_FILE_MODE } from './config.js';
import { isoDate, MS_PER_DAY } from '../domain/index.js';

/** The showcase applicant's sandbox credit file: no debt elsewhere, never delinquent, no recent inquiries. */
const CLEAN_FILE = { existingDebtMinor: 0, externalDelinquent: false, inquiries30d: 0 } as const;

/**
 * First-start chores for `lineguard serve`: in development an admin key when none exists (printed once and kept in
 * the data folder, owner-only, so `npm start` works out of the box), and the demo book when the store is empty.
 * Production never generates one: a key printed to a log lives as long as the log does, so the operator brings
 * LINEGUARD_ADMIN_KEY or runs `lineguard keys create --role admin` where only they see the answer.
 */
export async function bootstrapServe(app: AppServices, print: (line: string) => void): Promise<void> {
  // Processes starting together on one empty PostgreSQL: one creates the key and seeds, the others then find them.
  const lock = app.config.postgresUrl
    ? await acquireAdvisoryLock(app.config.postgresUrl, 'lineguard:bootstrap')
    : undefined;
  try {
    await firstStartChores(app, print);
  } finally {
    await lock?.release();
  }
}

async function firstStartChores(app: AppServices, print: (line: string) => void): Promise<void> {
  const anyKey = await anyApiKeyExists(app.store.db);
  if (!anyKey && app.config.production) {
    print(
      'No API key exists: set LINEGUARD_ADMIN_KEY, or run `lineguard keys create --role admin` (the key is shown to you only).',
    );
  } else if (!anyKey) {
    const created = await createApiKey(app.store.db, app, 'admin', 'first start');
    print(`Created an admin API key (shown once): ${created.key}`);
    if (!app.config.production) {
      // On PostgreSQL nothing else creates the data folder.
      ensurePrivateDir(app.config.dataDir);
      const file = join(app.config.dataDir, 'admin.key');
      writeFileSync(file, `${created.key}\n`, { mode: PRIVATE_FILE_MODE });
      chmodSync(file, PRIVATE_FILE_MODE);
      print(`Development only: it is also in ${file}.`);
    }
  }
  if (app.config.seedDemo) {
    const seeded = await seedDemo(app.core, {
      lending: true,
      // Demo borrowers consent on the application page, as real ones must before the core pulls their report.
      beforeApplication: async (nationalId, role) => {
        await app.consents.recordConsent({
          nationalId,
          purpose: 'LOAN_APPROVAL',
          textVersion: 'loan-approval/2026-01',
          channel: 'APP',
          recordedBy: 'demo-seed',
        });
        // The sandbox's synthetic file is keyed by this install's master key: for about one install in three it gave
        // the showcase applicant three recent inquiries, the strategy referred them to review, and the demo had no
        // co-lent line or quoted loan to show.
        if (role === 'showcase' && app.config.creditBureau === 'sandbox')
          await app.consents.placeSandboxFile(nationalId, CLEAN_FILE);
      },
    });
    if (seeded.seeded) {
      print(`Seeded the demo book: ${JSON.stringify(seeded)}`);
      if (seeded.scamVictim) print(await reportDemoScam(app, seeded.scamVictim));
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

/**
 * A month of daily portfolio snapshots for the demo book, as `jobs daily` would have left them. Each is the book as
 * it stood that day: the demo seeds all of its lines and loans today, so the 29 days before show an empty book, as
 * it was.
 */
async function seedPortfolioMonth(app: AppServices): Promise<void> {
  const today = app.clock.now();
  for (let daysAgo = 29; daysAgo >= 0; daysAgo--)
    await app.portfolio.snapshot(isoDate(today - daysAgo * MS_PER_DAY));
}
