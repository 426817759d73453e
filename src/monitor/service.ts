import type { Clock, IdGenerator } from '../domain/index.js';
import { AccountMemory } from './account-memory.js';
import type { LineActionPort } from './actions.js';
import { ActionDispatcher } from './dispatcher.js';
import { Evaluator, type TypologyReads } from './evaluation.js';
import { assertAppEvents, DEFAULT_EVENT_FUTURE_TOLERANCE_MS, type MonitorEvent } from './events.js';
import { FeatureReader, FeatureRegistry } from './features/registry.js';
import { MemoryFeatureStore } from './features/memory-store.js';
import { isSharedFeatureStore, type FeatureStore } from './features/store.js';
import { EventIntake, type EventOutcome, type GroupCommitOptions } from './intake.js';
import type { EntityGraph, LinkOptions } from './links.js';
import type { ListEntityType, ListHit, ListService } from './lists.js';
import type { AlertPort, MonitorActionStore, MonitorIntakeStore } from './ports.js';
import { computeDrawSignals, type DrawSignals, type DrawSignalsRequest } from './signals.js';
import type { ParamValue, ParameterOverrides, TypologyPack } from './typologies/index.js';

export type { EventOutcome, GroupCommitOptions } from './intake.js';
export type { FiredTypology, RaisedAlert } from './evaluation.js';

export interface MonitorServiceDeps {
  /** The intake's store (src/store/monitor.ts), with whatever commits beside each group (cases for new alerts). */
  readonly intakeStore: MonitorIntakeStore;
  readonly actionStore: MonitorActionStore;
  /** Alert state and dispositions (src/cases/alerts.ts). */
  readonly alerts: AlertPort;
  readonly clock: Clock;
  readonly ids: IdGenerator;
  readonly lists: ListService;
  /** Default: the embedded memory store, rebuilt from the events table on start. */
  readonly features?: FeatureStore;
  readonly lineActions?: LineActionPort;
  readonly typologies?: readonly TypologyPack[];
  readonly parameters?: ParameterOverrides;
  readonly registry?: FeatureRegistry;
  readonly links?: LinkOptions;
  readonly groupCommit?: GroupCommitOptions;
  /** On a shared database, how often to follow the other processes (default FOLLOW_EVERY_MS). */
  readonly followEveryMs?: number;
  readonly onError?: (error: unknown, context: string) => void;
  /**
   * How far ahead of the clock an app event may be dated (Config.eventFutureToleranceMs; default
   * DEFAULT_EVENT_FUTURE_TOLERANCE_MS); later ones are refused with LG_EVENT_IN_FUTURE.
   */
  readonly eventFutureToleranceMs?: number;
}

/** How often a process on a shared database learns what the others ingested and raised (ms). */
export const FOLLOW_EVERY_MS = 1_000;

/**
 * The monitor's face: durable intake (intake.ts), evaluation of typologies over a narrow read port (evaluation.ts),
 * alerts through the alert port (src/cases), line actions through the dispatcher (dispatcher.ts). It only wires the
 * parts and answers the questions the API and the core ask.
 */
export class MonitorService {
  readonly registry: FeatureRegistry;
  readonly features: FeatureStore;
  readonly reader: FeatureReader;
  readonly graph: EntityGraph;
  readonly typologies: readonly TypologyPack[];
  private readonly memory: AccountMemory;
  private readonly evaluator: Evaluator;
  private readonly dispatcher: ActionDispatcher;
  private readonly intake: EventIntake;
  private following: NodeJS.Timeout | undefined;
  private followRunning = false;

  constructor(private readonly deps: MonitorServiceDeps) {
    this.registry = deps.registry ?? new FeatureRegistry();
    this.features = deps.features ?? new MemoryFeatureStore();
    this.reader = new FeatureReader(this.registry, this.features);
    this.memory = new AccountMemory(deps.links);
    this.graph = this.memory.graph;
    this.dispatcher = new ActionDispatcher({
      store: deps.actionStore,
      clock: deps.clock,
      ids: deps.ids,
      lineActions: deps.lineActions,
      onError: deps.onError,
    });
    this.evaluator = new Evaluator({
      reads: this.typologyReads(),
      alerts: deps.alerts,
      ids: deps.ids,
      typologies: deps.typologies,
      parameters: deps.parameters,
      lineActionsWired: this.dispatcher.wired,
      onError: deps.onError,
    });
    this.typologies = this.evaluator.typologies;
    this.intake = new EventIntake({
      store: deps.intakeStore,
      clock: deps.clock,
      features: this.features,
      memory: this.memory,
      evaluator: this.evaluator,
      alerts: deps.alerts,
      dispatcher: this.dispatcher,
      groupCommit: deps.groupCommit,
      onError: deps.onError,
    });
  }

  /** Rebuilds memory state (lists, windows, links, known ids, alert state) from the store, then resumes pending actions. */
  async start(): Promise<void> {
    await this.deps.lists.load();
    await this.intake.rebuild();
    await this.deps.alerts.load();
    await this.dispatcher.resume();
    if (this.deps.intakeStore.sharedWriters) {
      this.following = setInterval(() => void this.follow(), this.deps.followEveryMs ?? FOLLOW_EVERY_MS);
      this.following.unref();
    }
  }

  /**
   * Learns what the other processes on a shared database ingested and raised since the last call (links, lines, known
   * ids, alert dedupe): the memory a decision reads from lags the fleet by at most one interval (README); then tells
   * the store how far it has read the events' feed, which keeps the rest for it (pruneFeed). The timer calls it; a test
   * may too. Never runs twice at once.
   */
  async follow(): Promise<void> {
    if (this.followRunning) return;
    this.followRunning = true;
    try {
      await this.intake.catchUp();
      await this.deps.alerts.follow();
    } catch (error) {
      this.deps.onError?.(error, 'following the other processes');
    } finally {
      // Even when the read failed: the process is alive, and the feed after its cursor is still its to read.
      await this.renewFollower();
      this.followRunning = false;
    }
  }

  private async renewFollower(): Promise<void> {
    try {
      await this.intake.renewFollower();
    } catch (error) {
      this.deps.onError?.(error, 'renewing the feed follower');
    }
  }

  /** Deletes the rows of the events' feed (monitor_event_feed) that no live process still has to read (jobs daily). */
  pruneFeed(): Promise<number> {
    return this.deps.intakeStore.pruneFeed();
  }

  /**
   * Accepts events; resolves after they are durable, with one outcome per event in request order. For events whose
   * source is trusted: the core's (through the bus), a replay's. What the lender's app reports goes through
   * ingestAppEvents.
   */
  ingest(events: readonly MonitorEvent[]): Promise<EventOutcome[]> {
    return this.intake.ingest(events);
  }

  /** What the lender's app reports (POST /v1/events): refused whole, before anything is written, unless assertAppEvents holds. */
  async ingestAppEvents(events: readonly MonitorEvent[]): Promise<EventOutcome[]> {
    assertAppEvents(events, {
      now: this.deps.clock.now(),
      futureToleranceMs: this.eventFutureToleranceMs,
    });
    return this.intake.ingest(events);
  }

  /**
   * On a shared database whose feature windows are this process's own (PostgreSQL without Redis), a draw first
   * catches up with what the other processes committed (one read shared by the draws that ask meanwhile): the call
   * reported to another process a moment ago counts. With Redis the windows are shared already, and only the link
   * graph's `componentUsers` may lag, by one follow interval (README).
   */
  async drawSignals(request: DrawSignalsRequest): Promise<DrawSignals> {
    if (this.deps.intakeStore.sharedWriters && !isSharedFeatureStore(this.features))
      await this.intake.catchUp();
    return computeDrawSignals(this, request);
  }

  /** How far ahead of the clock an app event may be dated: a draw's signals count calls reported that far ahead. */
  get eventFutureToleranceMs(): number {
    return this.deps.eventFutureToleranceMs ?? DEFAULT_EVENT_FUTURE_TOLERANCE_MS;
  }

  get lists(): ListService {
    return this.deps.lists;
  }

  get alerts(): AlertPort {
    return this.deps.alerts;
  }

  /** The alert listing (what `listAlerts(monitor.db, …)` pages through); alerts live in src/cases. */
  get db(): Pick<AlertPort, 'list'> {
    return this.deps.alerts;
  }

  /** The borrower's open alerts, as a draw decision reads them. */
  openAlertCount(userId: string): number | Promise<number> {
    return this.deps.alerts.openCount(userId);
  }

  listHits(entityType: ListEntityType, value: string | undefined, at: number): ListHit[] {
    return value === undefined ? [] : this.deps.lists.check(entityType, value, at);
  }

  lineOf(userId: string): string | undefined {
    return this.memory.lineOf(userId);
  }

  parameter(typologyId: string, name: string): ParamValue | undefined {
    return this.evaluator.parameter(typologyId, name);
  }

  /** Changes an alert's status (case management); keeps the open-alert count the engine reads in step. */
  setAlertStatus(alertId: string, status: 'OPEN' | 'ACKNOWLEDGED' | 'CLOSED'): Promise<void> {
    return this.deps.alerts.setStatus(alertId, status);
  }

  /** Waits for queued events and line actions, then refuses new work. */
  async close(): Promise<void> {
    clearInterval(this.following);
    await this.intake.close();
    await this.dispatcher.idle();
  }

  /** Number of distinct events the monitor holds (tests, health). */
  get eventCount(): number {
    return this.intake.eventCount;
  }

  private typologyReads(): TypologyReads {
    return {
      features: this.reader,
      graph: this.memory.graph,
      window: (query) => this.features.events(query),
      listHits: (entityType, value, at) => this.deps.lists.check(entityType, value, at),
      lineOf: (userId, named) => this.memory.lineOf(userId, named),
    };
  }
}
