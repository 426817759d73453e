import type { Decision, DecisionContext, LineActionType } from '../domain/decision.js';
import type { DbTx } from '../store/db.js';
import type { EngineService } from '../engine/service.js';
import type { ActionClass, BlastRadiusGuard } from '../engine/guard.js';
import { decisionWrites, recordDecision } from '../engine/store.js';
import type { CoreDecisionWrites, CoreEngine, DecisionRecord } from './deps.js';

/** Stores the core's decision record through the engine's own recordDecision (decision row + ledger entry). */
export function recordCoreDecision(tx: DbTx, r: DecisionRecord): Promise<void> {
  return recordDecision(tx, engineRecord(r));
}

function engineRecord(r: DecisionRecord) {
  return {
    id: r.decisionId,
    kind: r.kind,
    borrowerId: r.subjectId,
    lineId: r.lineId,
    subjectKey: r.subjectId,
    context: r.context,
    decision: r.decision,
    latencyMs: r.latencyMs,
    decidedAt: r.decidedAt,
  };
}

/** The decision row and its ledger entry, for a writer that stores them itself (a synchronous unit). */
export function coreDecisionWrites(r: DecisionRecord): CoreDecisionWrites {
  return decisionWrites(engineRecord(r));
}

/**
 * Adapts the engine service to the port the core uses. Decision rows are written with the engine's own
 * recordDecision (decision row + ledger entry) inside the core's dbTx.
 */
export function coreEngineFromService(
  engine: EngineService,
  options: { guard?: BlastRadiusGuard } = {},
): CoreEngine {
  return {
    decide(strategyId: string, context: DecisionContext, opts?: { subjectKey?: string }): Decision {
      return engine.decide(strategyId, context, opts);
    },
    recordDecision: recordCoreDecision,
    decisionWrites: coreDecisionWrites,
    admit(
      actionType: LineActionType,
      activeLineCount: number,
      fleetAdmitted?: number,
      actionClass?: ActionClass,
    ): boolean {
      return options.guard
        ? options.guard.admit(actionType, activeLineCount, fleetAdmitted, actionClass)
        : true;
    },
    ...(options.guard ? { guardWindowMs: options.guard.windowMs } : {}),
    // The active version's declared inputs, read from the engine itself so a new version applies at once.
    inputsOf: (strategyId: string): ReadonlySet<string> | undefined => engine.inputsOf(strategyId),
  };
}
