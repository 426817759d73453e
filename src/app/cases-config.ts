import { LgError } from '../domain/index.js';
import {
  CASE_TYPES,
  FOUR_EYES_DEFAULTS,
  FOUR_EYES_OPERATIONS,
  slaPolicy,
  type FourEyesConfig,
} from '../cases/index.js';
import type { CaseConfig } from '../cases/index.js';

/** Settings of the case queues and four eyes, read from the environment once at start (part of Config). */
export interface CasesSettings {
  readonly cases: CaseConfig;
  readonly fourEyes: FourEyesConfig;
  /** How often the case jobs (intake, SLA, cooling-off releases, change expiry) run; 0 turns the timer off. */
  readonly jobsIntervalMs: number;
}

type Env = Readonly<Record<string, string | undefined>>;

const HOUR_MS = 3_600_000;

function intFrom(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined || value.trim() === '') return fallback;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0)
    throw new LgError('LG_CONFIG_INVALID', `${name} must be a non-negative integer`);
  return n;
}

/** LINEGUARD_CASE_SLA_MS: a JSON object of case type (or ALERT_CRITICAL) to milliseconds, e.g. {"HELD_DRAW":900000}. */
function slaFrom(text: string | undefined) {
  if (text === undefined || text.trim() === '') return slaPolicy();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new LgError('LG_CONFIG_INVALID', 'LINEGUARD_CASE_SLA_MS must be a JSON object');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new LgError('LG_CONFIG_INVALID', 'LINEGUARD_CASE_SLA_MS must be a JSON object');
  const known = new Set<string>([...CASE_TYPES, 'ALERT_CRITICAL']);
  const overrides: Record<string, number> = {};
  for (const [key, value] of Object.entries(parsed)) {
    if (!known.has(key))
      throw new LgError('LG_CONFIG_INVALID', `LINEGUARD_CASE_SLA_MS: unknown case type ${key}`);
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0)
      throw new LgError(
        'LG_CONFIG_INVALID',
        `LINEGUARD_CASE_SLA_MS.${key} must be a positive integer of milliseconds`,
      );
    overrides[key] = value;
  }
  return slaPolicy(overrides);
}

/** LINEGUARD_FOUR_EYES: comma-separated operations that need a second person, or "none"; default all of them. */
function fourEyesOperations(text: string | undefined): ReadonlySet<string> {
  if (text === undefined || text.trim() === '') return FOUR_EYES_DEFAULTS.operations;
  if (text.trim() === 'none') return new Set();
  const ops = text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const unknown = ops.filter((op) => !(FOUR_EYES_OPERATIONS as readonly string[]).includes(op));
  if (unknown.length > 0)
    throw new LgError(
      'LG_CONFIG_INVALID',
      `LINEGUARD_FOUR_EYES: unknown operations ${unknown.join(', ')}; one of ${FOUR_EYES_OPERATIONS.join(', ')}`,
    );
  return new Set(ops);
}

export function loadCasesSettings(env: Env): CasesSettings {
  return Object.freeze({
    cases: Object.freeze({
      sla: slaFrom(env.LINEGUARD_CASE_SLA_MS),
      challengeWindowMs: intFrom(
        env.LINEGUARD_CHALLENGE_WINDOW_MS,
        'LINEGUARD_CHALLENGE_WINDOW_MS',
        15 * 60_000,
      ),
      coolingOffMs: intFrom(env.LINEGUARD_COOLING_OFF_MS, 'LINEGUARD_COOLING_OFF_MS', 24 * HOUR_MS),
      intakeLookbackMs: intFrom(
        env.LINEGUARD_CASE_INTAKE_LOOKBACK_MS,
        'LINEGUARD_CASE_INTAKE_LOOKBACK_MS',
        7 * 24 * HOUR_MS,
      ),
    }),
    fourEyes: Object.freeze({
      operations: fourEyesOperations(env.LINEGUARD_FOUR_EYES),
      limitIncreaseThresholdMinor: intFrom(
        env.LINEGUARD_FOUR_EYES_LIMIT_MINOR,
        'LINEGUARD_FOUR_EYES_LIMIT_MINOR',
        FOUR_EYES_DEFAULTS.limitIncreaseThresholdMinor,
      ),
      drawReleaseThresholdMinor: intFrom(
        env.LINEGUARD_FOUR_EYES_DRAW_MINOR,
        'LINEGUARD_FOUR_EYES_DRAW_MINOR',
        FOUR_EYES_DEFAULTS.drawReleaseThresholdMinor,
      ),
      rateRaiseThresholdBps: intFrom(
        env.LINEGUARD_FOUR_EYES_RATE_RAISE_BPS,
        'LINEGUARD_FOUR_EYES_RATE_RAISE_BPS',
        FOUR_EYES_DEFAULTS.rateRaiseThresholdBps,
      ),
      ttlMs: intFrom(env.LINEGUARD_FOUR_EYES_TTL_MS, 'LINEGUARD_FOUR_EYES_TTL_MS', FOUR_EYES_DEFAULTS.ttlMs),
    }),
    jobsIntervalMs: intFrom(env.LINEGUARD_CASE_JOBS_MS, 'LINEGUARD_CASE_JOBS_MS', 1_000),
  });
}
