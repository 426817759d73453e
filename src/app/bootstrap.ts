import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createApiKey } from '../api/api-keys.js';
import { seedDemo } from '../core/index.js';
import { acquireAdvisoryLock } from '../store/db.js';
import type { AppServices } from './app.js';
import { ensurePrivateDir, PRIVATE_FILE_MODE } from './config.js';

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
  const anyKey = await app.store.db.selectFrom('api_keys').select('id').limit(1).executeTakeFirst();
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
    const seeded = await seedDemo(app.core, { lending: true });
    if (seeded.seeded) print(`Seeded the demo book: ${JSON.stringify(seeded)}`);
  }
}
