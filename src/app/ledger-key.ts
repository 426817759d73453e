import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { generateKeyPairSync } from 'node:crypto';
import { join } from 'node:path';
import { LgError } from '../domain/index.js';
import { signerFromText, type LedgerSigner } from '../compliance/index.js';

export const LEDGER_KEY_FILE = 'ledger-signing.pem';

/**
 * The checkpoint signing key: LINEGUARD_LEDGER_SIGNING_KEY, else `ledger-signing.pem` in the data folder, generated
 * on first start. Production never generates one: a key that appears by itself proves nothing to an auditor.
 */
export function loadLedgerSigner(opts: {
  readonly given?: string;
  readonly dataDir: string;
  readonly production: boolean;
  readonly warn: (message: string) => void;
}): LedgerSigner {
  try {
    if (opts.given) return signerFromText(opts.given);
    const file = join(opts.dataDir, LEDGER_KEY_FILE);
    if (existsSync(file)) return signerFromText(readFileSync(file, 'utf8'));
    if (opts.production)
      throw new LgError(
        'LG_CONFIG_INVALID',
        `LINEGUARD_LEDGER_SIGNING_KEY (or ${file}) is required in production: an Ed25519 key (PKCS#8 PEM or 32-byte seed)`,
      );
    mkdirSync(opts.dataDir, { recursive: true });
    const { privateKey } = generateKeyPairSync('ed25519');
    writeFileSync(file, privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600 });
    opts.warn(`generated a ledger signing key in ${file}; publish its public key (lineguard ledger key)`);
    return signerFromText(readFileSync(file, 'utf8'));
  } catch (error) {
    if (error instanceof LgError) throw error;
    throw new LgError(
      'LG_CONFIG_INVALID',
      `the ledger signing key is not usable: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}
