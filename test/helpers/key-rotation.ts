import { createApp, type AppServices } from '../../src/app/app.js';
import { loadConfig, type Env } from '../../src/app/config.js';

/**
 * What the suites that rotate the data key share: two keys, one book (its data folder and, on PostgreSQL, its
 * schema) opened again with another key current and the old one retired, and a borrower's consent recorded in it.
 */
export const KEY_A = 'a1'.repeat(32);
export const KEY_B = 'b2'.repeat(32);

/** The book opened with `key` current and `retired` held, the sandbox bureau on, no demo data; `env` on top. */
export async function openBookWith(
  book: Env,
  key: string,
  retired: readonly string[] = [],
  env: Env = {},
): Promise<AppServices> {
  return createApp(
    loadConfig(
      {
        ...book,
        LINEGUARD_KEY: key,
        LINEGUARD_RETIRED_KEYS: retired.join(','),
        LINEGUARD_SEED_DEMO: '0',
        LINEGUARD_BUREAU: 'sandbox',
        ...env,
      },
      {},
      () => undefined,
    ),
  );
}

/** A consent to the purpose's current text, recorded in the app. */
export const consentFor = (
  app: AppServices,
  nationalId: string,
  purpose: 'LOAN_APPROVAL' | 'POST_LOAN_MGMT',
) =>
  app.consents.recordConsent({
    nationalId,
    purpose,
    textVersion: purpose === 'LOAN_APPROVAL' ? 'loan-approval/2026-01' : 'post-loan/2026-01',
    channel: 'APP',
    recordedBy: 'test',
  });
