import {
  LgError,
  canonicalJson,
  type Clock,
  type DelinquencyBucket,
  type IdGenerator,
} from '../domain/index.js';
import { sha256Hex } from '../domain/index.js';
import type { ComplianceStore } from './ports.js';
import type { FieldCrypto } from './crypto.js';
import { monthlyReport, type MonthlyReport } from './monthly-report.js';
import { evaluateEarlyWarnings, type Breach, type EarlyWarningThresholds } from './early-warning.js';
import {
  PSI_BASELINE_MIN_SCORES,
  baselineOf,
  computeSnapshot,
  type PortfolioSnapshot,
  type ScoreBaseline,
} from './portfolio.js';

export interface EarlyWarning extends Breach {
  readonly asOf: string;
  readonly alertId: string | null;
}

export interface PortfolioService {
  /** Computes, stores and evaluates the snapshot of a date; a rerun replaces it and raises no second alert. */
  snapshot(asOf: string): Promise<{ snapshot: PortfolioSnapshot; warnings: EarlyWarning[] }>;
  latest(): Promise<PortfolioSnapshot | null>;
  get(asOf: string): Promise<PortfolioSnapshot>;
  list(range: { from?: string; to?: string; limit?: number }): Promise<PortfolioSnapshot[]>;
  warnings(range: { from?: string; to?: string }): Promise<EarlyWarning[]>;
  /** The regulator-style report of a month (YYYY-MM). */
  monthlyReport(month: string): Promise<MonthlyReport>;
}

export interface PortfolioDeps {
  readonly store: ComplianceStore;
  readonly clock: Clock;
  readonly ids: IdGenerator;
  readonly thresholds: EarlyWarningThresholds;
  readonly buckets?: readonly DelinquencyBucket[];
  /** The lender's calendar (LINEGUARD_LENDER_UTC_OFFSET, minutes east of UTC): the days snapshots and months are. */
  readonly lenderUtcOffsetMinutes?: number;
  /** Opens the sealed application results the score distribution is read from. */
  readonly crypto: FieldCrypto;
  /** Raises an alert (a case for an analyst) with the figures; returns its id. */
  readonly raiseAlert: (breach: Breach & { asOf: string }) => Promise<string>;
}

const BASELINE_NAME = 'application-score';
export const SNAPSHOTS_LIST_MAX = 400;

const parsedSnapshot = (metrics: string | undefined): PortfolioSnapshot | null =>
  metrics === undefined ? null : (JSON.parse(metrics) as PortfolioSnapshot);

export function createPortfolioService(deps: PortfolioDeps): PortfolioService {
  const db = deps.store;
  return {
    snapshot: (asOf) => takeSnapshot(deps, asOf),
    latest: async () => parsedSnapshot(await db.latestSnapshot()),
    async get(asOf) {
      const snap = parsedSnapshot(await db.snapshotOf(asOf));
      if (!snap) throw new LgError('LG_NOT_FOUND', `no portfolio snapshot for ${asOf}`);
      return snap;
    },
    async list(range) {
      const rows = await db.snapshots(
        range.from ?? '0000-00-00',
        range.to ?? '9999-99-99',
        Math.min(range.limit ?? 100, SNAPSHOTS_LIST_MAX),
      );
      return rows.map((metrics) => JSON.parse(metrics) as PortfolioSnapshot);
    },
    async warnings(range) {
      const rows = await db.warnings(range.from ?? '0000-00-00', range.to ?? '9999-99-99', 1000);
      return rows.map((r) => ({
        asOf: r.as_of,
        ruleId: r.rule_id,
        value: Number(r.value),
        threshold: Number(r.threshold),
        alertId: r.alert_id,
        detail: JSON.parse(r.detail) as Record<string, unknown>,
      }));
    },
    monthlyReport: (month) => monthlyReport(db, month, deps),
  };
}

/** Computes the snapshot, records it with its new breaches in one unit, then raises their alerts. */
async function takeSnapshot(
  deps: PortfolioDeps,
  asOf: string,
): Promise<{ snapshot: PortfolioSnapshot; warnings: EarlyWarning[] }> {
  const now = deps.clock.now();
  const { snap, fresh } = await computeWithBaseline(deps, asOf);
  const breaches = evaluateEarlyWarnings(
    snap,
    parsedSnapshot(await deps.store.snapshotBefore(asOf)),
    deps.thresholds,
  );
  const recorded = await recordSnapshot(deps, { asOf, snap, fresh, breaches, now });
  const warnings = await raiseAlerts(deps, asOf, recorded);
  return { snapshot: snap, warnings };
}

/** The date's snapshot against the stored score baseline, or the baseline this window founds when there is none. */
async function computeWithBaseline(
  deps: PortfolioDeps,
  asOf: string,
): Promise<{ snap: PortfolioSnapshot; fresh: ScoreBaseline | null }> {
  const storedText = await deps.store.baseline(BASELINE_NAME);
  const stored = storedText === undefined ? null : (JSON.parse(storedText) as ScoreBaseline);
  const { snapshot: computed, scores } = await computeSnapshot(deps.store, asOf, {
    buckets: deps.buckets,
    baseline: stored,
    calendar: deps,
    crypto: deps.crypto,
  });
  // The model file carries no score distribution: the first window with enough scored applications is the baseline.
  const fresh = !stored && scores.length >= PSI_BASELINE_MIN_SCORES ? baselineOf(scores, asOf) : null;
  const snap: PortfolioSnapshot = fresh
    ? { ...computed, score: { ...computed.score, psi: 0, baselineAsOf: asOf } }
    : computed;
  return { snap, fresh };
}

/** Stores the snapshot (and a founded baseline) and the breaches not yet recorded for the date; returns those. */
async function recordSnapshot(
  deps: PortfolioDeps,
  taken: {
    asOf: string;
    snap: PortfolioSnapshot;
    fresh: ScoreBaseline | null;
    breaches: readonly Breach[];
    now: number;
  },
): Promise<Breach[]> {
  const { asOf, fresh, breaches, now } = taken;
  const metrics = canonicalJson(taken.snap);
  return deps.store.unit(async (tx) => {
    await tx.upsertSnapshot(asOf, metrics, now);
    if (fresh) await tx.insertBaselineIfAbsent(BASELINE_NAME, canonicalJson(fresh), now);
    const known = new Set(await tx.warningRuleIds(asOf));
    const newBreaches = breaches.filter((b) => !known.has(b.ruleId));
    for (const b of newBreaches)
      await tx.insertWarning({
        asOf,
        ruleId: b.ruleId,
        value: b.value,
        threshold: b.threshold,
        detail: canonicalJson(b.detail),
        at: now,
      });
    await tx.appendLedger([
      {
        entryId: deps.ids.next(),
        kind: 'portfolio.snapshot',
        subjectId: `portfolio:${asOf}`,
        recordedAt: now,
        payload: { asOf, metricsSha256: sha256Hex(metrics), warnings: newBreaches.map((b) => b.ruleId) },
      },
    ]);
    return newBreaches;
  });
}

// Alerts after commit, each its own write (as the blast-radius guard's): a breach is recorded even if raising
// its alert fails, and the alert id is attached once it exists.
async function raiseAlerts(
  deps: PortfolioDeps,
  asOf: string,
  recorded: readonly Breach[],
): Promise<EarlyWarning[]> {
  const warnings: EarlyWarning[] = [];
  for (const b of recorded) {
    const alertId = await deps.raiseAlert({ ...b, asOf });
    await deps.store.setWarningAlert(asOf, b.ruleId, alertId);
    warnings.push({ ...b, asOf, alertId });
  }
  return warnings;
}
