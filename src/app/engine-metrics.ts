import { Counter, Histogram, type Registry } from 'prom-client';
import type { EngineMetrics } from '../engine/index.js';

/** Decision monitoring (issue 3): counts by strategy, version and outcome, by reason code, engine errors, latency. */
export function createEngineMetrics(registry: Registry): EngineMetrics {
  const decisions = new Counter({
    name: 'lineguard_decisions_total',
    help: 'Decisions made, by strategy, version and outcome',
    labelNames: ['strategy', 'version', 'outcome'] as const,
    registers: [registry],
  });
  const reasons = new Counter({
    name: 'lineguard_decision_reasons_total',
    help: 'Reason codes cited by decisions',
    labelNames: ['reason'] as const,
    registers: [registry],
  });
  const errors = new Counter({
    name: 'lineguard_engine_errors_total',
    help: 'Decisions that failed closed (REVIEW with R_ENGINE_ERROR)',
    labelNames: ['strategy', 'version'] as const,
    registers: [registry],
  });
  const trips = new Counter({
    name: 'lineguard_blast_radius_refusals_total',
    help: 'Restrictive actions the blast-radius guard turned into REVIEW',
    labelNames: ['action'] as const,
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'lineguard_decision_latency_seconds',
    help: 'In-process strategy evaluation time',
    labelNames: ['strategy'] as const,
    buckets: [0.00001, 0.00002, 0.00005, 0.0001, 0.0002, 0.0005, 0.001, 0.005, 0.02, 0.1],
    registers: [registry],
  });
  return {
    observe(decision, latencySeconds) {
      const version = String(decision.strategyVersion);
      decisions.inc({ strategy: decision.strategyId, version, outcome: decision.outcome });
      for (const reason of decision.reasons) reasons.inc({ reason });
      if (decision.engineError) errors.inc({ strategy: decision.strategyId, version });
      latency.observe({ strategy: decision.strategyId }, latencySeconds);
    },
    guardTrip(actionType) {
      trips.inc({ action: actionType });
    },
  };
}
