import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInstallationKey } from '../api/index.js';
import { seedDemo, type SeedHistory } from '../core/index.js';
import { acquireAdvisoryLock, anyApiKeyExists } from '../store/index.js';
import type { AppServices } from './app.js';
import { reportDemoScam } from './seed-scam.js';
import { dailyJobs } from './daily-jobs.js';
import { ensurePrivateDir, PRIVATE_FILE_MODE } from './config.js';
import { MS_PER_DAY } from '../domain/index.js';

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
      'No API key exists: set LINEGUARD_ADMIN_KEY, or run `lineguard users create --name <you> --role admin` and `lineguard keys create --user <id>` (the key is shown to you only).',
    );
  } else if (!anyKey) {
    const created = await createInstallationKey(app.store.db, app, 'first start');
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
  if (app.config.seedDemo) await seedDemoBook(app, print);
  startCheckpoints(app, print);
}

/**
 * The demo book on an empty store, grown over the DEMO_HISTORY_DAYS before today as the clock passes them (see
 * demoHistory), then today's portfolio snapshot: the book as it stands, the scam and all.
 */
async function seedDemoBook(app: AppServices, print: (line: string) => void): Promise<void> {
  const seeded = await seedDemo(app.core, {
    lending: true,
    history: demoHistory(app),
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
  })
    // Real time again whatever happened, before anything else runs (the history ends at 0 lag anyway).
    .finally(() => app.clock.setLag(0));
  if (!seeded.seeded) return;
  print(`Seeded the demo book: ${JSON.stringify(seeded)}`);
  if (seeded.scamVictim) print(await reportDemoScam(app, seeded.scamVictim));
  // The case jobs the timer runs (SLA breaches of the month's review cases and the like) are done before the server
  // listens rather than at its timer's first tick, then today's snapshot is the book as it stands.
  await app.cases.runJobs();
  await app.portfolio.snapshot(app.core.lenderToday());
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
 * How far back the demo book starts. More than a month, so that the loans drawn first have an instalment fall due
 * before today (and one of them is past due), and were on the book when the 30-day window of today's snapshot opened
 * (its roll rates follow those loans); the dashboard's "portfolio over time" shows the last 30 days.
 */
export const DEMO_HISTORY_DAYS = 35;

/**
 * The demo's history: the app's clock is set DEMO_HISTORY_DAYS days back before the first borrower applies and then
 * only moves forward, a day at a time, to real time (its lag shrinks to 0), so time never runs backwards from the
 * seed's first instant on and whatever runs after the seed runs at real time. After each day the clock passes, the
 * case jobs run (their timer's, so the day's SLA breaches are recorded that day) and `jobs daily` runs for it, as a
 * nightly batch would have: aging, accrual, the portfolio snapshot and its early warnings, the bureau notices. Rows
 * written before the seed (the admin key, the bundled models and strategies) keep the real instant of the first
 * start.
 */
function demoHistory(app: AppServices): SeedHistory {
  return {
    days: DEMO_HISTORY_DAYS,
    startDaysAgo: (days) => app.clock.startBehind(days * MS_PER_DAY),
    setDaysAgo: (daysAgo) => app.clock.setLag(daysAgo * MS_PER_DAY),
    dayEnded: async (date) => {
      // What the case jobs timer would have done during the day (a review case past its SLA escalated), then the night.
      await app.cases.runJobs();
      await dailyJobs(
        {
          core: app.core,
          portfolio: app.portfolio,
          bureauReporting: app.consents.reporting,
          monitor: app.monitor,
          outbox: app.outbox,
        },
        date,
      );
    },
  };
}
