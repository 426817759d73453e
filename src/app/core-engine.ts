import type { Decision, DecisionContext, LineActionType } from '../domain/index.js';
import type { ActionClass, BlastRadiusGuard, EngineService } from '../engine/index.js';
import type { CoreDecisionWrites, CoreEngine, DecisionRecord as CoreDecisionRecord } from '../core/index.js';
import { decisionWrites, recordDecision, type DbTx } from '../store/index.js';

/** Stores the core's decision record through the engine's own recordDecision (decision row + ledger entry). */
export function recordCoreDecision(tx: DbTx, r: CoreDecisionRecord): Promise<void> {
  return recordDecision(tx, engineRecord(r));
}

function engineRecord(r: CoreDecisionRecord) {
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
    ...(r.coreRules ? { coreRules: r.coreRules } : {}),
  };
}

/** The decision row and its ledger entry, for a writer that stores them itself (a synchronous unit). */
export function coreDecisionWrites(r: CoreDecisionRecord): CoreDecisionWrites {
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
    checkInputs: (strategyId: string, values: DecisionContext): void =>
      engine.checkInputs(strategyId, values),
  };
}
