import type { UnitGuard } from '../domain/index.js';
/**
 * What the engine reads and writes, as records of its own (strategies, versions, overlays, decisions), and the port
 * through which it does: src/store/engine.ts implements it, src/app/ wires it. The engine never sees a row or a query.
 */
import type { CoreRules, Decision, DecisionContext } from '../domain/index.js';
import type { ParamValue, StrategyDocument } from './types.js';

export const DECISION_KINDS = ['application', 'draw', 'review', 'event', 'simulation'] as const;
export type DecisionKind = (typeof DECISION_KINDS)[number];

export type VersionStatus = 'draft' | 'active' | 'retired';

export interface StrategyVersionRecord {
  readonly strategyId: string;
  readonly version: number;
  readonly status: VersionStatus;
  readonly document: StrategyDocument;
  readonly createdBy: string;
  readonly createdAt: number;
  readonly activatedBy: string | null;
  readonly activatedAt: number | null;
}

export interface StrategySummary {
  readonly id: string;
  readonly name: string;
  readonly activeVersion: number | null;
  readonly latestVersion: number;
  readonly updatedAt: number;
}

export interface StrategyActivation {
  readonly version: number;
  readonly previousVersion: number | null;
  readonly activatedBy: string;
  readonly activatedAt: number;
}

export interface DecisionRecord {
  readonly id: string;
  readonly kind: DecisionKind;
  readonly borrowerId?: string | null;
  readonly lineId?: string | null;
  /** The key the split node hashed (usually the borrower id), so a replay takes the same arm. */
  readonly subjectKey?: string | null;
  /** The inputs exactly as the engine saw them. */
  readonly context: DecisionContext;
  readonly decision: Decision;
  readonly latencyMs: number;
  readonly decidedAt: number;
  /** What the core did to the decision before answering (an application's or a draw's), stored with it. */
  readonly coreRules?: CoreRules;
}

export interface StoredDecision extends DecisionRecord {
  readonly strategyId: string;
  readonly strategyVersion: number;
  readonly engineVersion: string;
  /**
   * True when `coreRules` was inferred from the application's or draw's row, for a decision stored before the core
   * recorded its rules (only hard rules and the bureau referral can be told from there).
   */
  readonly coreRulesInferred?: boolean;
}

export interface Overlay {
  readonly name: string;
  readonly value: ParamValue;
  readonly description: string | null;
  readonly updatedBy: string;
  readonly updatedAt: number;
}

export interface OverlayChange {
  readonly name: string;
  readonly value: ParamValue;
  readonly previousValue: ParamValue | null;
  readonly changedBy: string;
  readonly changedAt: number;
}

/** Where a replay page ends: the next page starts after this (decided_at, id). */
export interface ReplayCursor {
  readonly decidedAt: number;
  readonly id: string;
}

export interface ReplayPage {
  readonly strategyId: string;
  readonly range: { readonly from: number; readonly to: number };
  readonly after: ReplayCursor | undefined;
  readonly pageSize: number;
}

/**
 * A stored decision whose inputs cannot be read: sealed at rest and opened by no key held here (altered, copied from
 * another decision's row, or sealed under a key since dropped). A replay cannot run it; a simulation names it.
 */
export interface UnreadableDecision {
  readonly id: string;
  readonly decidedAt: number;
  /** Why (what reading the decision answers: LG_SEALED_DATA_UNREADABLE's message). */
  readonly unreadable: string;
}

/** One row of a replay page: a stored decision, or in its place one whose inputs cannot be read. */
export type ReplayRow = StoredDecision | UnreadableDecision;

/** The stored decisions a simulation replays, and the overlay changes in force when each was made. */
export interface DecisionHistory {
  /**
   * Stored decisions of a strategy in [from, to), simulations excluded, oldest first, paged by (decidedAt, id); one
   * whose sealed inputs cannot be opened is in the page as an UnreadableDecision, so the rest of the period replays.
   */
  decisionsForReplay(page: ReplayPage): Promise<ReplayRow[]>;
  overlayHistory(name?: string): Promise<OverlayChange[]>;
}

/**
 * The engine's configuration and decision record. Every write (a saved version, an activation, an overlay change) is
 * one database transaction with its ledger entry; an activation or an overlay change also bumps the configuration
 * generation, so every other instance reloads. `unitGuard` is what commits with a write beyond its own rows (the
 * request's idempotency key). Reads of what decides (`configGeneration`, `activeVersions`,
 * `overlays`) see committed rows only.
 */
export interface EngineRepository extends DecisionHistory {
  countStrategies(): Promise<number>;
  configGeneration(): Promise<number>;
  activeVersions(): Promise<StrategyVersionRecord[]>;
  overlays(): Promise<Overlay[]>;
  /** Saves a new draft version (max + 1) of a validated document. */
  saveVersion(
    doc: StrategyDocument,
    input: { by: string; at: number; entryId: string },
    unitGuard?: UnitGuard<StrategyVersionRecord>,
  ): Promise<StrategyVersionRecord>;
  /** Makes `version` the live one; the old active version is retired. LG_STRATEGY_NOT_FOUND / LG_NOT_FOUND. */
  activateVersion(
    input: {
      id: string;
      version: number;
      by: string;
      at: number;
      activationId: string;
    },
    unitGuard?: UnitGuard<StrategyVersionRecord>,
  ): Promise<StrategyVersionRecord>;
  findVersion(id: string, version: number): Promise<StrategyVersionRecord | undefined>;
  listVersions(id: string): Promise<StrategyVersionRecord[]>;
  listStrategies(): Promise<StrategySummary[]>;
  activationHistory(id: string): Promise<StrategyActivation[]>;
  putOverlay(
    input: {
      name: string;
      value: ParamValue;
      description?: string;
      by: string;
      at: number;
      historyId: string;
    },
    unitGuard?: UnitGuard<Overlay>,
  ): Promise<Overlay>;
  getDecision(id: string): Promise<StoredDecision | undefined>;
}

/** Decision monitoring (issue 3): what the engine reports; the app backs it with its metrics registry. */
export interface EngineMetrics {
  observe(decision: Decision, latencySeconds: number): void;
  guardTrip(actionType: string): void;
}
