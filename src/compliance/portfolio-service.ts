import type { Clock } from '../domain/clock.js';
import type { IdGenerator } from '../domain/ids.js';
import { canonicalJson } from '../domain/canonical-json.js';
import { LgError } from '../domain/errors.js';
import { sha256Hex } from '../domain/sha256.js';
import type { DelinquencyBucket } from '../domain/delinquency.js';
import type { Store } from '../store/db.js';
import { appendToLedger } from './ledger.js';
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
}

export interface PortfolioDeps {
  readonly store: Store;
  readonly clock: Clock;
  readonly ids: IdGenerator;
  readonly thresholds: EarlyWarningThresholds;
  readonly buckets?: readonly DelinquencyBucket[];
  /** Raises an alert (a case for an analyst) with the figures; returns its id. */
  readonly raiseAlert: (breach: Breach & { asOf: string }) => Promise<string>;
}

const BASELINE_NAME = 'application-score';
export const SNAPSHOTS_LIST_MAX = 400;

export function createPortfolioService(deps: PortfolioDeps): PortfolioService {
  const db = deps.store.db;

  async function baseline(): Promise<ScoreBaseline | null> {
    const row = await db
      .selectFrom('portfolio_baselines')
      .select('baseline')
      .where('name', '=', BASELINE_NAME)
      .executeTakeFirst();
    return row ? (JSON.parse(row.baseline) as ScoreBaseline) : null;
  }

  async function previousOf(asOf: string): Promise<PortfolioSnapshot | null> {
    const row = await db
      .selectFrom('portfolio_snapshots')
      .select('metrics')
      .where('as_of', '<', asOf)
      .orderBy('as_of', 'desc')
      .limit(1)
      .executeTakeFirst();
    return row ? (JSON.parse(row.metrics) as PortfolioSnapshot) : null;
  }

  async function snapshot(asOf: string) {
    const now = deps.clock.now();
    const stored = await baseline();
    const { snapshot: computed, scores } = await computeSnapshot(db, asOf, {
      buckets: deps.buckets,
      baseline: stored,
    });
    // The model file carries no score distribution: the first window with enough scored applications is the baseline.
    const fresh = !stored && scores.length >= PSI_BASELINE_MIN_SCORES ? baselineOf(scores, asOf) : null;
    const snap: PortfolioSnapshot = fresh
      ? { ...computed, score: { ...computed.score, psi: 0, baselineAsOf: asOf } }
      : computed;
    const breaches = evaluateEarlyWarnings(snap, await previousOf(asOf), deps.thresholds);
    const metrics = canonicalJson(snap);
    const recorded = await deps.store.transaction(async (tx) => {
      await tx
        .insertInto('portfolio_snapshots')
        .values({ as_of: asOf, metrics, created_at: now })
        .onConflict((oc) => oc.column('as_of').doUpdateSet({ metrics, created_at: now }))
        .execute();
      if (fresh)
        await tx
          .insertInto('portfolio_baselines')
          .values({ name: BASELINE_NAME, baseline: canonicalJson(fresh), created_at: now })
          .onConflict((oc) => oc.column('name').doNothing())
          .execute();
      const known = await tx
        .selectFrom('early_warnings')
        .select('rule_id')
        .where('as_of', '=', asOf)
        .execute();
      const newBreaches = breaches.filter((b) => !known.some((k) => k.rule_id === b.ruleId));
      for (const b of newBreaches)
        await tx
          .insertInto('early_warnings')
          .values({
            as_of: asOf,
            rule_id: b.ruleId,
            value: b.value,
            threshold: b.threshold,
            alert_id: null,
            detail: canonicalJson(b.detail),
            created_at: now,
          })
          .execute();
      await appendToLedger(tx, [
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
    // Alerts after commit, each its own write (as the blast-radius guard's): a breach is recorded even if raising
    // its alert fails, and the alert id is attached once it exists.
    const warnings: EarlyWarning[] = [];
    for (const b of recorded) {
      const alertId = await deps.raiseAlert({ ...b, asOf });
      await db
        .updateTable('early_warnings')
        .set({ alert_id: alertId })
        .where('as_of', '=', asOf)
        .where('rule_id', '=', b.ruleId)
        .execute();
      warnings.push({ ...b, asOf, alertId });
    }
    return { snapshot: snap, warnings };
  }

  return {
    snapshot,
    async latest() {
      const row = await db
        .selectFrom('portfolio_snapshots')
        .select('metrics')
        .orderBy('as_of', 'desc')
        .limit(1)
        .executeTakeFirst();
      return row ? (JSON.parse(row.metrics) as PortfolioSnapshot) : null;
    },
    async get(asOf) {
      const row = await db
        .selectFrom('portfolio_snapshots')
        .select('metrics')
        .where('as_of', '=', asOf)
        .executeTakeFirst();
      if (!row) throw new LgError('LG_NOT_FOUND', `no portfolio snapshot for ${asOf}`);
      return JSON.parse(row.metrics) as PortfolioSnapshot;
    },
    async list(range) {
      const rows = await db
        .selectFrom('portfolio_snapshots')
        .select('metrics')
        .where('as_of', '>=', range.from ?? '0000-00-00')
        .where('as_of', '<=', range.to ?? '9999-99-99')
        .orderBy('as_of')
        .limit(Math.min(range.limit ?? 100, SNAPSHOTS_LIST_MAX))
        .execute();
      return rows.map((r) => JSON.parse(r.metrics) as PortfolioSnapshot);
    },
    async warnings(range) {
      const rows = await db
        .selectFrom('early_warnings')
        .selectAll()
        .where('as_of', '>=', range.from ?? '0000-00-00')
        .where('as_of', '<=', range.to ?? '9999-99-99')
        .orderBy('as_of')
        .orderBy('rule_id')
        .limit(1000)
        .execute();
      return rows.map((r) => ({
        asOf: r.as_of,
        ruleId: r.rule_id,
        value: Number(r.value),
        threshold: Number(r.threshold),
        alertId: r.alert_id,
        detail: JSON.parse(r.detail) as Record<string, unknown>,
      }));
    },
  };
}
