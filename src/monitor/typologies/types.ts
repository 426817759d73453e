import type { EventType, MonitorEvent } from '../events.js';
import type { EntityGraph } from '../links.js';
import type { ListEntityType, ListHit } from '../lists.js';
import type { FeatureReader } from '../features/registry.js';
import type { EntityType, FeatureEntry } from '../features/store.js';
import type { MonitorActionType, Severity } from '../actions.js';

export type ParamValue = number | readonly string[];

export interface ParameterSpec {
  readonly default: ParamValue;
  readonly description: string;
}

/** Read access a typology gets: registered features, raw windows, lists and the link graph — all as of `at`. */
export interface TypologyContext {
  readonly event: MonitorEvent;
  /** The instant the typology is evaluated at (the event's occurredAt, or the borrower's latest instant for a late event). */
  readonly at: number;
  readonly features: FeatureReader;
  /**
   * The entity's events of `types` with fromMs < occurredAt <= toMs, oldest first; with `knownAt`, only those the
   * monitor had received by then. What the borrower was known by (a device, an IP, a payee paid before) is read with
   * knownAt: occurredAt is the client's word, and an event dated back must not age what it names.
   */
  window(
    entity: EntityType,
    id: string,
    types: readonly EventType[],
    fromMs: number,
    toMs: number,
    knownAt?: number,
  ): Promise<FeatureEntry[]>;
  listHits(entityType: ListEntityType, value: string | undefined): readonly ListHit[];
  readonly graph: EntityGraph;
  num(name: string): number;
  strings(name: string): readonly string[];
}

export interface TypologyHit {
  /** Rule ids of the pack that held. */
  readonly rules: readonly string[];
  /** The events that fired it (evidence for analysts). */
  readonly eventIds: readonly string[];
  /** The feature values that fired it. */
  readonly features: Readonly<Record<string, number | boolean | string | null>>;
  /** Other borrowers the same finding implicates (a device farm's accounts); each gets its own alert. */
  readonly relatedUsers?: readonly string[];
  /** Reason codes beyond the pack's own (e.g. R_CALL_IN_PROGRESS when a call was live). */
  readonly extraReasons?: readonly string[];
}

/**
 * A typology pack (in the spirit of Tazama's typology configs): named, versioned, documented, every threshold a
 * parameter with a default, rules with ids, reason codes, severity and actions. `evaluate` is plain code over the
 * context; it reads thresholds only through ctx.num / ctx.strings.
 */
export interface TypologyPack {
  readonly id: string;
  readonly version: number;
  readonly title: string;
  readonly description: string;
  readonly triggers: readonly EventType[];
  readonly parameters: Readonly<Record<string, ParameterSpec>>;
  readonly rules: readonly { readonly id: string; readonly description: string }[];
  readonly reasons: readonly string[];
  readonly severity: Severity;
  readonly actions: readonly MonitorActionType[];
  evaluate(ctx: TypologyContext): Promise<TypologyHit | null>;
}

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;

export function sumAmount(entries: readonly FeatureEntry[]): number {
  return entries.reduce((s, e) => s + (e.amountMinor ?? 0), 0);
}
