import { chmodSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { LgError } from '../domain/index.js';
import { loadCasesSettings, type CasesSettings } from './cases-config.js';
import { DEFAULT_EVENT_FUTURE_TOLERANCE_MS } from '../monitor/index.js';

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
  /** PostgreSQL: named prepared statements (LINEGUARD_PG_PREPARED, default on; off behind a transaction pooler). */
  readonly postgresPrepared: boolean;
  /** PostgreSQL: how long a statement may go unanswered before it fails (LINEGUARD_PG_QUERY_TIMEOUT_MS; 0: no limit). */
  readonly postgresQueryTimeoutMs: number;
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
  /** The lender's business day (LINEGUARD_LENDER_UTC_OFFSET, e.g. +08:00 for Asia/Shanghai), minutes east of UTC. */
  readonly lenderUtcOffsetMinutes: number;
  readonly blastRadius: {
    readonly maxFractionPerWindow: number;
    readonly windowMs: number;
    readonly minPerWindow: number;
  };
  readonly eventBatchMax: number;
  /**
   * How long a published outbox row is kept before `jobs daily` deletes it (LINEGUARD_OUTBOX_RETENTION_MS, default 7
   * days; 0 keeps every row).
   */
  readonly outboxRetentionMs: number;
  /**
   * How far ahead of this server's clock an app event (POST /v1/events) may be dated (LINEGUARD_EVENT_FUTURE_TOLERANCE_MS,
   * default 5 minutes); later ones are refused with 422 LG_EVENT_IN_FUTURE.
   */
  readonly eventFutureToleranceMs: number;
  /** Request limits (README, Configuration); a maximum of 0 turns that limit off. */
  readonly rateLimit: {
    readonly windowMs: number;
    readonly perKeyMax: number;
    readonly perIpMax: number;
    readonly authFailuresMax: number;
  };
  /** Fastify trustProxy: `true`, or the proxies' addresses/CIDRs whose X-Forwarded-For names the client. */
  readonly trustProxy?: boolean | string;
  /** Bearer token /metrics requires (LINEGUARD_METRICS_TOKEN). */
  readonly metricsToken?: string;
  /** Serve /metrics on this port only, not on the API port (LINEGUARD_METRICS_PORT). */
  readonly metricsPort?: number;
  /** Maximum applicant age (age derived from the resident ID); older applicants are declined (R_AGE_ABOVE_MAX). */
  readonly maxBorrowerAge: number;
  /** Days past due from which a line takes no new draw (core hard rule; 1 = M1 or worse). */
  readonly drawBlockedFromDpd: number;
  /** Case queues, SLAs, cooling-off and four eyes (issue 11; see cases-config.ts). */
  readonly cases: CasesSettings;
  /**
   * LINEGUARD_NAMESPACE (default lineguard): names the deployment's NATS stream, subjects and consumers and its Redis
   * keys, so deployments sharing one NATS or Redis never see each other's messages or features.
   */
  readonly namespace: string;
  /** Ed25519 key that signs ledger checkpoints (PKCS#8 PEM or 32-byte seed); else a file in the data folder. */
  readonly ledgerSigningKey?: string;
  /** Directory witness for signed checkpoints, outside the database (RFC 9162 §8.2). */
  readonly witnessDir: string;
  /** HTTP witness: each signed checkpoint is POSTed there too, with retries and a recorded delivery state. */
  readonly witnessUrl?: string;
  /** How often `serve` signs and publishes a checkpoint; 0 turns it off. */
  readonly checkpointIntervalMs: number;
  /**
   * The credit bureau the core pulls from at application: 'sandbox' (the database-backed SANDBOX bureau, consent
   * enforced) or 'off' (no pulls: bureau attributes are the caller's, as before consent enforcement).
   */
  readonly creditBureau: 'sandbox' | 'off';
  /** Hard inquiries allowed per borrower per 30 days. */
  readonly hardInquiriesMax30d: number;
  /** Days between telling a borrower a delinquency will be reported to the bureau and reporting it. */
  readonly bureauNoticeDays: number;
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
  const { dataDir, sqlitePath, postgresUrl } = resolveStoreLocation(env, overrides);
  const config: Config = {
    production,
    host: env.HOST ?? '0.0.0.0',
    port: overrides.port ?? intFrom(env.PORT, 'PORT', 8080),
    dataDir,
    sqlitePath,
    postgresUrl,
    postgresPrepared: env.LINEGUARD_PG_PREPARED !== '0',
    postgresQueryTimeoutMs: intFrom(
      env.LINEGUARD_PG_QUERY_TIMEOUT_MS,
      'LINEGUARD_PG_QUERY_TIMEOUT_MS',
      30_000,
    ),
    redisUrl: nonEmpty(env.LINEGUARD_REDIS_URL),
    natsUrl: nonEmpty(env.LINEGUARD_NATS_URL),
    masterKey: loadMasterKey(env, { production, dataDir: dirname(sqlitePath), warn }),
    retiredKeys: retiredKeysFrom(env),
    adminKey: nonEmpty(env.LINEGUARD_ADMIN_KEY),
    seedDemo: env.LINEGUARD_SEED_DEMO !== '0',
    requestBytesMax: intFrom(env.LINEGUARD_REQUEST_BYTES_MAX, 'LINEGUARD_REQUEST_BYTES_MAX', 1_048_576),
    borrowerCapMinor: intFrom(env.LINEGUARD_BORROWER_CAP_MINOR, 'LINEGUARD_BORROWER_CAP_MINOR', 20_000_000),
    aprCapPercent: numberFrom(env.LINEGUARD_APR_CAP_PERCENT, 'LINEGUARD_APR_CAP_PERCENT', 24),
    lenderUtcOffsetMinutes: utcOffsetFrom(env.LINEGUARD_LENDER_UTC_OFFSET),
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
    outboxRetentionMs: intFrom(
      env.LINEGUARD_OUTBOX_RETENTION_MS,
      'LINEGUARD_OUTBOX_RETENTION_MS',
      7 * 86_400_000,
    ),
    eventFutureToleranceMs: intFrom(
      env.LINEGUARD_EVENT_FUTURE_TOLERANCE_MS,
      'LINEGUARD_EVENT_FUTURE_TOLERANCE_MS',
      DEFAULT_EVENT_FUTURE_TOLERANCE_MS,
    ),
    rateLimit: {
      windowMs: intFrom(env.LINEGUARD_RATE_LIMIT_WINDOW_MS, 'LINEGUARD_RATE_LIMIT_WINDOW_MS', 60_000),
      perKeyMax: intFrom(env.LINEGUARD_RATE_LIMIT_PER_KEY, 'LINEGUARD_RATE_LIMIT_PER_KEY', 60_000),
      perIpMax: intFrom(env.LINEGUARD_RATE_LIMIT_PER_IP, 'LINEGUARD_RATE_LIMIT_PER_IP', 60_000),
      authFailuresMax: intFrom(
        env.LINEGUARD_RATE_LIMIT_AUTH_FAILURES,
        'LINEGUARD_RATE_LIMIT_AUTH_FAILURES',
        20,
      ),
    },
    trustProxy: trustProxyFrom(nonEmpty(env.LINEGUARD_TRUST_PROXY)),
    metricsToken: metricsTokenFrom(nonEmpty(env.LINEGUARD_METRICS_TOKEN)),
    metricsPort:
      nonEmpty(env.LINEGUARD_METRICS_PORT) === undefined
        ? undefined
        : portFrom(env.LINEGUARD_METRICS_PORT, 'LINEGUARD_METRICS_PORT'),
    maxBorrowerAge: intFrom(env.LINEGUARD_MAX_BORROWER_AGE, 'LINEGUARD_MAX_BORROWER_AGE', 65),
    drawBlockedFromDpd: intFrom(env.LINEGUARD_DRAW_BLOCKED_FROM_DPD, 'LINEGUARD_DRAW_BLOCKED_FROM_DPD', 1),
    cases: loadCasesSettings(env),
    namespace: namespaceFrom(env.LINEGUARD_NAMESPACE),
    ledgerSigningKey: nonEmpty(env.LINEGUARD_LEDGER_SIGNING_KEY),
    witnessDir: resolve(nonEmpty(env.LINEGUARD_WITNESS_DIR) ?? join(dataDir, 'witness')),
    witnessUrl: httpUrlFrom(env.LINEGUARD_WITNESS_URL, 'LINEGUARD_WITNESS_URL'),
    checkpointIntervalMs: intFrom(
      env.LINEGUARD_CHECKPOINT_INTERVAL_MS,
      'LINEGUARD_CHECKPOINT_INTERVAL_MS',
      3_600_000,
    ),
    creditBureau: bureauFrom(env.LINEGUARD_BUREAU),
    hardInquiriesMax30d: intFrom(env.LINEGUARD_HARD_INQUIRIES_MAX_30D, 'LINEGUARD_HARD_INQUIRIES_MAX_30D', 3),
    bureauNoticeDays: intFrom(env.LINEGUARD_BUREAU_NOTICE_DAYS, 'LINEGUARD_BUREAU_NOTICE_DAYS', 7),
    earlyWarning: nonEmpty(env.LINEGUARD_EARLY_WARNING),
  };
  if (config.rateLimit.windowMs === 0)
    throw new LgError('LG_CONFIG_INVALID', 'LINEGUARD_RATE_LIMIT_WINDOW_MS must be positive');
  // Metrics name routes, status counts and process internals: production does not publish them to every caller.
  if (production && config.metricsToken === undefined && config.metricsPort === undefined) {
    throw new LgError(
      'LG_CONFIG_INVALID',
      'production needs LINEGUARD_METRICS_TOKEN (a bearer token for /metrics) or LINEGUARD_METRICS_PORT (a separate metrics listener)',
    );
  }
  if (production && !config.adminKey) {
    warn('LINEGUARD_ADMIN_KEY is not set: create keys with `lineguard keys create --role admin`.');
  }
  return Object.freeze(config);
}

export interface StoreLocation {
  readonly dataDir: string;
  readonly sqlitePath: string;
  readonly postgresUrl?: string;
}

/**
 * Where the store is, read from the same variables as loadConfig but with no side effect and no key: for commands
 * that only read an existing store (`lineguard ledger verify`).
 */
export function resolveStoreLocation(env: Env, overrides: ConfigOverrides = {}): StoreLocation {
  const dataDir = resolve(overrides.dataDir ?? env.LINEGUARD_DATA_DIR ?? '.lineguard');
  const sqlitePath = resolve(overrides.db ?? env.LINEGUARD_DB ?? join(dataDir, 'lineguard.db'));
  const postgresUrl = nonEmpty(env.LINEGUARD_DATABASE_URL);
  if (postgresUrl && !/^postgres(ql)?:\/\//.test(postgresUrl)) {
    throw new LgError('LG_CONFIG_INVALID', 'LINEGUARD_DATABASE_URL must be a postgres:// URL');
  }
  return { dataDir, sqlitePath, postgresUrl };
}

function retiredKeysFrom(env: Env): Buffer[] {
  return (nonEmpty(env.LINEGUARD_RETIRED_KEYS) ?? '')
    .split(',')
    .map((text) => text.trim())
    .filter((text) => text !== '')
    .map((text) => parseKey(text, 'LINEGUARD_RETIRED_KEYS'));
}

/**
 * The data keys the environment gives (LINEGUARD_KEY and LINEGUARD_RETIRED_KEYS), for a tool that reads a database
 * without starting LineGuard (an auditor's `ledger verify`); undefined without LINEGUARD_KEY. Never generates one.
 */
export function dataKeysGiven(env: Env): { masterKey: Buffer; retiredKeys: Buffer[] } | undefined {
  const given = nonEmpty(env.LINEGUARD_KEY);
  return given ? { masterKey: parseKey(given), retiredKeys: retiredKeysFrom(env) } : undefined;
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
  if (existsSync(keyFile)) {
    restrictMode(keyFile, PRIVATE_FILE_MODE);
    return parseKey(readFileSync(keyFile, 'utf8').trim());
  }
  ensurePrivateDir(opts.dataDir);
  const key = randomBytes(32);
  writeFileSync(keyFile, key.toString('hex'), { mode: PRIVATE_FILE_MODE });
  opts.warn(
    `WARNING: LINEGUARD_KEY is not set; generated a development key in ${keyFile}. Never do this in production.`,
  );
  return key;
}

/**
 * Data files hold personal data (PIPL Art. 51: technical measures against unauthorised access) and keys: only the
 * service's own user may read them, whatever the process umask.
 */
export const PRIVATE_FILE_MODE = 0o600;
export const PRIVATE_DIR_MODE = 0o700;

/**
 * Creates the folder (and missing parents) owner-only. A folder that already exists is left as its owner set it
 * (LINEGUARD_DATA_DIR may name a shared place); the files LineGuard puts in it are private either way.
 */
export function ensurePrivateDir(dir: string): void {
  const firstCreated = mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
  if (firstCreated === undefined) return;
  // mkdir's mode passes through the umask; say it exactly, for every folder this call created.
  for (let folder = dir; folder.startsWith(firstCreated); folder = dirname(folder)) {
    restrictMode(folder, PRIVATE_DIR_MODE);
    if (folder === firstCreated) break;
  }
}

/**
 * Before SQLite opens the file: the database created 0600 (SQLite gives its -wal and -shm the database file's
 * mode), in an owner-only folder; files left looser by an earlier version are tightened.
 */
export function preparePrivateSqliteFiles(sqlitePath: string): void {
  if (sqlitePath === ':memory:') return;
  ensurePrivateDir(dirname(sqlitePath));
  closeSync(openSync(sqlitePath, 'a', PRIVATE_FILE_MODE));
  for (const file of [sqlitePath, `${sqlitePath}-wal`, `${sqlitePath}-shm`]) {
    if (existsSync(file)) restrictMode(file, PRIVATE_FILE_MODE);
  }
}

function restrictMode(path: string, mode: number): void {
  try {
    chmodSync(path, mode);
  } catch {
    // Not ours to change (a shared folder such as /tmp): the files inside are still created private.
  }
}

export function parseKey(text: string, name = 'LINEGUARD_KEY'): Buffer {
  const key = /^[0-9a-fA-F]{64}$/.test(text) ? Buffer.from(text, 'hex') : Buffer.from(text, 'base64');
  if (key.length !== 32)
    throw new LgError('LG_CONFIG_INVALID', `${name}: each key must be 32 bytes (64 hex chars or base64)`);
  return key;
}

/** A name NATS subjects, stream names and Redis keys all accept, and that no other namespace's subjects overlap. */
function namespaceFrom(value: string | undefined): string {
  const namespace = nonEmpty(value) ?? 'lineguard';
  if (!/^[a-z][a-z0-9_-]{0,31}$/.test(namespace))
    throw new LgError(
      'LG_CONFIG_INVALID',
      'LINEGUARD_NAMESPACE must be 1-32 of a-z 0-9 _ - starting with a letter',
    );
  return namespace;
}

function httpUrlFrom(value: string | undefined, name: string): string | undefined {
  const given = nonEmpty(value);
  if (given === undefined) return undefined;
  if (!URL.canParse(given) || !/^https?:$/.test(new URL(given).protocol))
    throw new LgError('LG_CONFIG_INVALID', `${name} must be an http:// or https:// URL`);
  return given;
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

function portFrom(value: string | undefined, name: string): number {
  const port = intFrom(value, name, 0);
  if (port > 65_535) throw new LgError('LG_CONFIG_INVALID', `${name} must be a port (0-65535)`);
  return port;
}

function trustProxyFrom(value: string | undefined): boolean | string | undefined {
  if (value === undefined || value === 'false') return undefined;
  return value === 'true' ? true : value;
}

/** A guessable token would make the metrics gate decorative. */
function metricsTokenFrom(value: string | undefined): string | undefined {
  if (value !== undefined && value.length < 16)
    throw new LgError('LG_CONFIG_INVALID', 'LINEGUARD_METRICS_TOKEN must be at least 16 characters');
  return value;
}

function numberFrom(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0)
    throw new LgError('LG_CONFIG_INVALID', `${name} must be a non-negative number`);
  return n;
}

/** A fixed offset from UTC, `Z` or ±hh:mm from -14:00 to +14:00, as minutes east; UTC when unset. */
function utcOffsetFrom(value: string | undefined): number {
  const text = nonEmpty(value);
  if (text === undefined || text === 'Z') return 0;
  const match = /^([+-])(\d{2}):(\d{2})$/.exec(text);
  const minutes = match ? (match[1] === '-' ? -1 : 1) * (Number(match[2]) * 60 + Number(match[3])) : NaN;
  if (!match || Number(match[3]) > 59 || Math.abs(minutes) > 14 * 60)
    throw new LgError('LG_CONFIG_INVALID', 'LINEGUARD_LENDER_UTC_OFFSET must be Z or ±hh:mm (e.g. +08:00)');
  return minutes;
}

function bureauFrom(value: string | undefined): 'sandbox' | 'off' {
  const mode = nonEmpty(value) ?? 'sandbox';
  if (mode !== 'sandbox' && mode !== 'off')
    throw new LgError('LG_CONFIG_INVALID', "LINEGUARD_BUREAU must be 'sandbox' or 'off'");
  return mode;
}
