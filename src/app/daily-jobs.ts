import type { BureauReporting, PortfolioService } from '../compliance/index.js';
import type { CoreServices } from '../core/index.js';
import type { MonitorService } from '../monitor/index.js';

/** What `dailyJobs` runs on: the core, and the portfolio and bureau reporting when the process has them. */
export interface DailyJobsDeps {
  readonly core: Pick<CoreServices, 'runDailyJob'>;
  readonly portfolio?: Pick<PortfolioService, 'snapshot'>;
  readonly bureauReporting?: Pick<BureauReporting, 'run'>;
  /** The monitor, whose events' feed (PostgreSQL) is pruned behind the processes following it. */
  readonly monitor?: Pick<MonitorService, 'pruneFeed'>;
  /** The outbox, whose rows published longer ago than its retention are deleted. */
  readonly outbox?: OutboxRetention;
}

/** The outbox's retention (AppServices.outbox): deletes the rows published before Config.outboxRetentionMs ago. */
export interface OutboxRetention {
  prunePublished(): Promise<number>;
}

/**
 * The night's batch for a day, `lineguard jobs daily --as-of <date>`, and each past day of the demo's history
 * (bootstrap.ts): the book aged as of the date, then the portfolio snapshot and its early-warning rules on the book
 * the aging just updated, then the bureau reporting (newly delinquent loans: the borrower is told first; reported
 * once the notice period has passed), then the monitor's events' feed pruned of the rows every live process has
 * read (the events themselves are kept), and the outbox of the rows published past its retention.
 */
export async function dailyJobs(deps: DailyJobsDeps, date: string) {
  const aged = await deps.core.runDailyJob(date);
  const portfolio = deps.portfolio ? await deps.portfolio.snapshot(date) : undefined;
  const bureau = deps.bureauReporting ? await deps.bureauReporting.run() : undefined;
  const feedRowsPruned = deps.monitor ? await deps.monitor.pruneFeed() : undefined;
  const outboxRowsPruned = deps.outbox ? await deps.outbox.prunePublished() : undefined;
  return { ...aged, portfolio, bureau, feedRowsPruned, outboxRowsPruned };
}
