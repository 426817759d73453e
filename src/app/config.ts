import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { LgError } from '../domain/errors.js';

/**
 * One configuration, read once at start and frozen. Production (LINEGUARD_ENV=production or NODE_ENV=production)
 * refuses to start without real secrets; embedded development generates a data key with a loud warning.
 */
export interface Config {
  readonly production: boolean;
  readonly host: string;
  readonly port: number;
  readonly dataDir: string;
  readonly sqlitePath: string;
  readonly postgresUrl?: string;
  readonly redisUrl?: string;
  readonly natsUrl?: string;
  /** 32-byte master key for AES-256-GCM and the HMAC lookup keys (derived from it). */
  readonly masterKey: Buffer;
  /**
   * Master keys being rotated out (LINEGUARD_RETIRED_KEYS, comma-separated): they still open and find what they
   * sealed until `lineguard keys rotate-data` has re-sealed everything under masterKey.
   */
  readonly retiredKeys: readonly Buffer[];
  readonly adminKey?: string;
  readonly seedDemo: boolean;
  readonly requestBytesMax: number;
  /** Per-borrower cap on total limits (default 200,000.00 CNY). */
  readonly borrowerCapMinor: number;
  readonly aprCapPercent: number;
  readonly blastRadius: {
    readonly maxFractionPerWindow: number;
    readonly windowMs: number;
    readonly minPerWindow: number;
  };
  readonly eventBatchMax: number;
  /** Ed25519 key that signs ledger checkpoints (PKCS#8 PEM or 32-byte seed); else a file in the data folder. */
  readonly ledgerSigningKey?: string;
  /** Directory witness for signed checkpoints, outside the database (RFC 9162 §8.2). */
  readonly witnessDir: string;
  /** How often `serve` signs and publishes a checkpoint; 0 turns it off. */
  readonly checkpointIntervalMs: number;
  /**
   * The credit bureau the core pulls from at application: 'sandbox' (the database-backed SANDBOX bureau, consent
   * enforced) or 'off' (no pulls: bureau attributes are the caller's, as before consent enforcement).
   */
  readonly creditBureau: 'sandbox' | 'off';
  /** Hard inquiries allowed per borrower per 30 days. */
  readonly hardInquiriesMax30d: number;
  /** Early-warning thresholds overriding the defaults (LINEGUARD_EARLY_WARNING, a JSON object). */
  readonly earlyWarning?: string;
}

export interface ConfigOverrides {
  readonly port?: number;
  readonly db?: string;
  readonly dataDir?: string;
}

export type Env = Readonly<Record<string, string | undefined>>;

export function loadConfig(
  env: Env,
  overrides: ConfigOverrides = {},
  warn: (msg: string) => void = console.warn,
): Config {
  const production = env.LINEGUARD_ENV === 'production' || env.NODE_ENV === 'production';
  const dataDir = resolve(overrides.dataDir ?? env.LINEGUARD_DATA_DIR ?? '.lineguard');
  const sqlitePath = resolve(overrides.db ?? env.LINEGUARD_DB ?? join(dataDir, 'lineguard.db'));
  const postgresUrl = nonEmpty(env.LINEGUARD_DATABASE_URL);
  if (postgresUrl && !/^postgres(ql)?:\/\//.test(postgresUrl)) {
    throw new LgError('LG_CONFIG_INVALID', 'LINEGUARD_DATABASE_URL must be a postgres:// URL');
  }
  const config: Config = {
    production,
    host: env.HOST ?? '0.0.0.0',
    port: overrides.port ?? intFrom(env.PORT, 'PORT', 8080),
    dataDir,
    sqlitePath,
    postgresUrl,
    redisUrl: nonEmpty(env.LINEGUARD_REDIS_URL),
    natsUrl: nonEmpty(env.LINEGUARD_NATS_URL),
    masterKey: loadMasterKey(env, { production, dataDir: dirname(sqlitePath), warn }),
    retiredKeys: (nonEmpty(env.LINEGUARD_RETIRED_KEYS) ?? '')
      .split(',')
      .map((text) => text.trim())
      .filter((text) => text !== '')
      .map((text) => parseKey(text, 'LINEGUARD_RETIRED_KEYS')),
    adminKey: nonEmpty(env.LINEGUARD_ADMIN_KEY),
    seedDemo: env.LINEGUARD_SEED_DEMO !== '0',
    requestBytesMax: intFrom(env.LINEGUARD_REQUEST_BYTES_MAX, 'LINEGUARD_REQUEST_BYTES_MAX', 1_048_576),
    borrowerCapMinor: intFrom(env.LINEGUARD_BORROWER_CAP_MINOR, 'LINEGUARD_BORROWER_CAP_MINOR', 20_000_000),
    aprCapPercent: numberFrom(env.LINEGUARD_APR_CAP_PERCENT, 'LINEGUARD_APR_CAP_PERCENT', 24),
    blastRadius: {
      maxFractionPerWindow: numberFrom(
        env.LINEGUARD_GUARD_MAX_FRACTION,
        'LINEGUARD_GUARD_MAX_FRACTION',
        0.01,
      ),
      windowMs: intFrom(env.LINEGUARD_GUARD_WINDOW_MS, 'LINEGUARD_GUARD_WINDOW_MS', 3_600_000),
      minPerWindow: intFrom(env.LINEGUARD_GUARD_MIN_PER_WINDOW, 'LINEGUARD_GUARD_MIN_PER_WINDOW', 5),
    },
    eventBatchMax: intFrom(env.LINEGUARD_EVENT_BATCH_MAX, 'LINEGUARD_EVENT_BATCH_MAX', 1000),
    ledgerSigningKey: nonEmpty(env.LINEGUARD_LEDGER_SIGNING_KEY),
    witnessDir: resolve(nonEmpty(env.LINEGUARD_WITNESS_DIR) ?? join(dataDir, 'witness')),
    checkpointIntervalMs: intFrom(
      env.LINEGUARD_CHECKPOINT_INTERVAL_MS,
      'LINEGUARD_CHECKPOINT_INTERVAL_MS',
      3_600_000,
    ),
    creditBureau: bureauFrom(env.LINEGUARD_BUREAU),
    hardInquiriesMax30d: intFrom(env.LINEGUARD_HARD_INQUIRIES_MAX_30D, 'LINEGUARD_HARD_INQUIRIES_MAX_30D', 3),
    earlyWarning: nonEmpty(env.LINEGUARD_EARLY_WARNING),
  };
  if (production && !config.adminKey) {
    warn('LINEGUARD_ADMIN_KEY is not set: create keys with `lineguard keys create --role admin`.');
  }
  return Object.freeze(config);
}

function loadMasterKey(
  env: Env,
  opts: { production: boolean; dataDir: string; warn: (m: string) => void },
): Buffer {
  const given = nonEmpty(env.LINEGUARD_KEY);
  if (given) return parseKey(given);
  if (opts.production) {
    throw new LgError(
      'LG_CONFIG_INVALID',
      'LINEGUARD_KEY is required in production (32 bytes, hex or base64)',
    );
  }
  const keyFile = join(opts.dataDir, 'master.key');
  if (existsSync(keyFile)) return parseKey(readFileSync(keyFile, 'utf8').trim());
  mkdirSync(opts.dataDir, { recursive: true });
  const key = randomBytes(32);
  writeFileSync(keyFile, key.toString('hex'), { mode: 0o600 });
  opts.warn(
    `WARNING: LINEGUARD_KEY is not set; generated a development key in ${keyFile}. Never do this in production.`,
  );
  return key;
}

export function parseKey(text: string, name = 'LINEGUARD_KEY'): Buffer {
  const key = /^[0-9a-fA-F]{64}$/.test(text) ? Buffer.from(text, 'hex') : Buffer.from(text, 'base64');
  if (key.length !== 32)
    throw new LgError('LG_CONFIG_INVALID', `${name}: each key must be 32 bytes (64 hex chars or base64)`);
  return key;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value && value.trim() !== '' ? value.trim() : undefined;
}

function intFrom(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0)
    throw new LgError('LG_CONFIG_INVALID', `${name} must be a non-negative integer`);
  return n;
}

function numberFrom(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0)
    throw new LgError('LG_CONFIG_INVALID', `${name} must be a non-negative number`);
  return n;
}

function bureauFrom(value: string | undefined): 'sandbox' | 'off' {
  const mode = nonEmpty(value) ?? 'sandbox';
  if (mode !== 'sandbox' && mode !== 'off')
    throw new LgError('LG_CONFIG_INVALID', "LINEGUARD_BUREAU must be 'sandbox' or 'off'");
  return mode;
}
