import { Gauge, type Registry } from 'prom-client';
import type { PortfolioService, PortfolioSnapshot } from '../compliance/index.js';
import { lenderDayStart, type LenderCalendar } from '../domain/index.js';

/** One database read serves every gauge of a scrape (the registry collects them concurrently). */
const SHARED_READ_MS = 1000;

/**
 * Portfolio gauges for Prometheus/Grafana, read from the latest stored snapshot at scrape time (so every instance
 * sharing the database exports the same figures, however stale the snapshot; its date is a gauge too).
 */
export function registerPortfolioGauges(
  registry: Registry,
  portfolio: PortfolioService,
  calendar: LenderCalendar,
): void {
  let shared: { at: number; value: Promise<PortfolioSnapshot | null> } | undefined;
  const latest = (): Promise<PortfolioSnapshot | null> => {
    const now = Date.now();
    if (!shared || now - shared.at > SHARED_READ_MS) shared = { at: now, value: portfolio.latest() };
    return shared.value;
  };
  const gauge = <L extends string>(
    spec: { name: string; help: string; labelNames?: readonly L[] },
    fill: (g: Gauge<L>, s: PortfolioSnapshot) => void,
  ) =>
    new Gauge<L>({
      ...spec,
      registers: [registry],
      async collect() {
        const s = await latest();
        this.reset();
        if (s) fill(this, s);
      },
    });

  gauge(
    {
      name: 'lineguard_portfolio_snapshot_timestamp_seconds',
      help:
        "The as-of date of the latest portfolio snapshot (its midnight on the lender's calendar), " +
        'so a dashboard can tell stale figures',
    },
    (g, s) => g.set((lenderDayStart(calendar, s.asOf) ?? Number.NaN) / 1000),
  );
  gauge(
    {
      name: 'lineguard_portfolio_outstanding_minor',
      help: 'Outstanding principal by delinquency bucket, minor units (latest snapshot)',
      labelNames: ['bucket'] as const,
    },
    (g, s) => {
      for (const [bucket, slice] of Object.entries(s.byBucket)) g.set({ bucket }, slice.outstandingMinor);
    },
  );
  gauge(
    {
      name: 'lineguard_portfolio_rate',
      help: 'Rates of the latest snapshot: m1_plus, m2_plus, approval, decline, review, freeze, suspension',
      labelNames: ['rate'] as const,
    },
    (g, s) => {
      const rates: Record<string, number> = {
        m1_plus: s.m1PlusRate,
        m2_plus: s.m2PlusRate,
        approval: s.decisions.approvalRate,
        decline: s.decisions.declineRate,
        review: s.decisions.reviewRate,
        freeze: s.restrictions.freezeRate,
        suspension: s.restrictions.suspensionRate,
      };
      for (const [rate, value] of Object.entries(rates)) g.set({ rate }, value);
    },
  );
  gauge(
    {
      name: 'lineguard_portfolio_roll_rate',
      help: 'Roll rate between adjacent buckets over the 30-day window (latest snapshot)',
      labelNames: ['from', 'to'] as const,
    },
    (g, s) => {
      for (const [key, value] of Object.entries(s.rollRates)) {
        const [from = '', to = ''] = key.split('->');
        g.set({ from, to }, value);
      }
    },
  );
  gauge(
    {
      name: 'lineguard_portfolio_score_psi',
      help: 'Application score PSI against the baseline (latest snapshot; absent before a baseline exists)',
    },
    (g, s) => {
      if (s.score.psi !== null) g.set(s.score.psi);
    },
  );
}
