import { ManualClock, seededRandom, uuidv7Generator, type Clock, type IdGenerator } from '../domain/index.js';
import { fromWire } from './events.js';
import type { MonitorService } from './service.js';
import { SIMULATED_TYPOLOGIES, type LabelledEvent } from './simulate.js';
import type { ParameterOverrides } from './typologies/index.js';

/** Opens a monitor on a scratch store of its own (src/app wires a temporary SQLite database). */
export type ScratchMonitorFactory = (options: {
  readonly clock: Clock;
  readonly ids: IdGenerator;
  readonly parameters?: ParameterOverrides;
}) => Promise<{ readonly monitor: MonitorService; close(): Promise<void> }>;

export interface TypologyScore {
  readonly typology: string;
  readonly positives: number;
  readonly flagged: number;
  readonly truePositives: number;
  readonly precision: number | null;
  readonly recall: number | null;
  readonly alertsPer1000Users: number;
  /** Where the false positives came from (scenario → borrowers). */
  readonly falsePositivesByScenario: Readonly<Record<string, number>>;
}

export interface EvaluationReport {
  readonly events: number;
  readonly users: number;
  readonly alerts: number;
  readonly alertsPer1000Users: number;
  readonly eventsPerSecond: number;
  readonly typologies: readonly TypologyScore[];
}

/**
 * Replays labelled events through the real pipeline (validation, group commit into a temporary SQLite store, feature
 * windows, links, typologies, alerts) in occurredAt order, the clock following the events (each slice received as of
 * its first event), and scores each typology at
 * the borrower level: a borrower is positive for T when the simulation put them in scenario T, flagged when T raised
 * an alert naming them.
 */
export async function evaluateTypologies(
  events: readonly LabelledEvent[],
  options: { parameters?: ParameterOverrides; batch?: number; open: ScratchMonitorFactory },
): Promise<EvaluationReport> {
  const sorted = [...events].sort((a, b) => Date.parse(a.occurredAt) - Date.parse(b.occurredAt));
  const clock = new ManualClock(Date.parse(sorted[0]?.occurredAt ?? '2025-01-01T00:00:00Z'));
  const ids = uuidv7Generator(clock, seededRandom(7));
  const scratch = await options.open({ clock, ids, parameters: options.parameters });
  const began = performance.now();
  const batch = options.batch ?? 500;
  // Every new alert is answered exactly once (in the outcome of the event that raised it).
  const alerts: { typology_id: string; user_id: string }[] = [];
  try {
    for (let i = 0; i < sorted.length; i += batch) {
      const slice = sorted.slice(i, i + batch);
      // The slice is received as of its first event, so no event is received after it happened: a live monitor
      // receives each as it happens, and what it had received by an instant (a device "known" before a draw, a payee
      // paid before) is read by receivedAt. A later clock would make the slice's early events look received late.
      clock.set(Date.parse(slice[0]?.occurredAt ?? ''));
      const outcomes = await scratch.monitor.ingest(
        slice.map(({ scenario: _s, label: _l, ...wire }) => fromWire(wire)),
      );
      for (const outcome of outcomes.filter((o) => o.status === 'accepted'))
        for (const a of outcome.alerts)
          if (a.new) alerts.push({ typology_id: a.typology, user_id: a.userId });
    }
    const seconds = (performance.now() - began) / 1000;
    return score(sorted, alerts, seconds);
  } finally {
    await scratch.close();
  }
}

function score(
  events: readonly LabelledEvent[],
  alerts: readonly { typology_id: string; user_id: string }[],
  seconds: number,
): EvaluationReport {
  const scenarioOf = new Map<string, string>();
  for (const e of events) scenarioOf.set(e.userId, e.scenario);
  const users = scenarioOf.size;
  const typologies = SIMULATED_TYPOLOGIES.map((typology): TypologyScore => {
    const positives = new Set([...scenarioOf].filter(([, s]) => s === typology).map(([u]) => u));
    const mine = alerts.filter((a) => a.typology_id === typology);
    const flagged = new Set(mine.map((a) => a.user_id));
    const tp = [...flagged].filter((u) => positives.has(u)).length;
    const fpBy: Record<string, number> = {};
    for (const u of flagged)
      if (!positives.has(u)) fpBy[scenarioOf.get(u) ?? '?'] = (fpBy[scenarioOf.get(u) ?? '?'] ?? 0) + 1;
    return {
      typology,
      positives: positives.size,
      flagged: flagged.size,
      truePositives: tp,
      precision: flagged.size === 0 ? null : round(tp / flagged.size),
      recall: positives.size === 0 ? null : round(tp / positives.size),
      alertsPer1000Users: round((mine.length / Math.max(1, users)) * 1000),
      falsePositivesByScenario: fpBy,
    };
  });
  return {
    events: events.length,
    users,
    alerts: alerts.length,
    alertsPer1000Users: round((alerts.length / Math.max(1, users)) * 1000),
    eventsPerSecond: Math.round(events.length / Math.max(seconds, 1e-9)),
    typologies,
  };
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}
