import { LgError } from '../domain/index.js';
import type { PortfolioSnapshot } from './portfolio.js';

/**
 * Early-warning rules over consecutive snapshots: rising delinquency, roll rates, score drift (PSI > 0.25 is the
 * usual "significant shift" line), and spikes in freezes or declines — the over-restriction a blanket control causes
 * (a wave of frozen lines hurts borrowers as surely as a wave of bad loans hurts the lender).
 */
export interface EarlyWarningThresholds {
  /** Outstanding in M1 or worse over all outstanding. */
  readonly m1PlusRate: number;
  /** Rise of m1PlusRate since the previous snapshot (absolute). */
  readonly m1PlusRise: number;
  /** The roll rate from the second bucket to the third (M1->M2 by default). */
  readonly rollM1M2: number;
  readonly psi: number;
  /** Freezes in the window over the previous snapshot's, and the smallest count that can spike. */
  readonly freezeSpikeRatio: number;
  readonly freezeMin: number;
  readonly suspensionSpikeRatio: number;
  /** Rise of the decline rate (absolute), given at least declineMinApplications applications. */
  readonly declineRise: number;
  readonly declineMinApplications: number;
}

export const DEFAULT_THRESHOLDS: EarlyWarningThresholds = Object.freeze({
  m1PlusRate: 0.05,
  m1PlusRise: 0.01,
  rollM1M2: 0.3,
  psi: 0.25,
  freezeSpikeRatio: 2,
  freezeMin: 5,
  suspensionSpikeRatio: 2,
  declineRise: 0.15,
  declineMinApplications: 20,
});

/** Thresholds from LINEGUARD_EARLY_WARNING (a JSON object overriding some of the defaults). */
export function parseThresholds(text: string | undefined): EarlyWarningThresholds {
  if (!text) return DEFAULT_THRESHOLDS;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new LgError('LG_CONFIG_INVALID', 'LINEGUARD_EARLY_WARNING must be a JSON object of thresholds');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new LgError('LG_CONFIG_INVALID', 'LINEGUARD_EARLY_WARNING must be a JSON object of thresholds');
  const out: Record<string, number> = { ...DEFAULT_THRESHOLDS };
  for (const [key, v] of Object.entries(value)) {
    if (!(key in DEFAULT_THRESHOLDS))
      throw new LgError('LG_CONFIG_INVALID', `LINEGUARD_EARLY_WARNING: unknown threshold '${key}'`, {
        known: Object.keys(DEFAULT_THRESHOLDS),
      });
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0)
      throw new LgError('LG_CONFIG_INVALID', `LINEGUARD_EARLY_WARNING: ${key} must be a number >= 0`);
    out[key] = v;
  }
  return Object.freeze(out) as unknown as EarlyWarningThresholds;
}

export interface Breach {
  readonly ruleId: string;
  readonly value: number;
  readonly threshold: number;
  /** The figures behind it, for the alert. */
  readonly detail: Record<string, unknown>;
}

export function evaluateEarlyWarnings(
  current: PortfolioSnapshot,
  previous: PortfolioSnapshot | null,
  t: EarlyWarningThresholds,
): Breach[] {
  const breaches: Breach[] = [];
  const add = (ruleId: string, value: number, threshold: number, detail: Record<string, unknown>) =>
    breaches.push({ ruleId, value, threshold, detail: { asOf: current.asOf, ...detail } });
  if (current.m1PlusRate > t.m1PlusRate)
    add('M1_PLUS_RATE', current.m1PlusRate, t.m1PlusRate, { outstandingMinor: current.outstandingMinor });
  if (previous && current.m1PlusRate - previous.m1PlusRate > t.m1PlusRise)
    add('M1_PLUS_RISING', current.m1PlusRate - previous.m1PlusRate, t.m1PlusRise, {
      previous: previous.m1PlusRate,
      current: current.m1PlusRate,
      previousAsOf: previous.asOf,
    });
  const [, roll] = Object.entries(current.rollRates);
  if (roll && roll[1] > t.rollM1M2)
    add(`ROLL_${roll[0].replace('->', '_TO_')}`, roll[1], t.rollM1M2, { roll: roll[0] });
  if (current.score.psi !== null && current.score.psi > t.psi)
    add('SCORE_PSI', current.score.psi, t.psi, {
      scores: current.score.count,
      baselineAsOf: current.score.baselineAsOf,
    });
  spike(
    add,
    'FREEZE_SPIKE',
    current.restrictions.freezes,
    previous?.restrictions.freezes,
    t.freezeSpikeRatio,
    t.freezeMin,
  );
  spike(
    add,
    'SUSPENSION_SPIKE',
    current.restrictions.suspensions,
    previous?.restrictions.suspensions,
    t.suspensionSpikeRatio,
    t.freezeMin,
  );
  if (
    previous &&
    // A rise needs a base on both sides: from an empty window any first decline would look like a spike.
    current.decisions.applications >= t.declineMinApplications &&
    previous.decisions.applications >= t.declineMinApplications &&
    current.decisions.declineRate - previous.decisions.declineRate > t.declineRise
  )
    add('DECLINE_SPIKE', current.decisions.declineRate - previous.decisions.declineRate, t.declineRise, {
      previous: previous.decisions.declineRate,
      current: current.decisions.declineRate,
      applications: current.decisions.applications,
    });
  return breaches;
}

function spike(
  add: (ruleId: string, value: number, threshold: number, detail: Record<string, unknown>) => void,
  ruleId: string,
  now: number,
  before: number | undefined,
  ratioMax: number,
  minCount: number,
): void {
  if (before === undefined || now < minCount) return;
  const ratio = now / Math.max(before, 1);
  if (ratio > ratioMax) add(ruleId, ratio, ratioMax, { current: now, previous: before });
}
