import type { Decision, DecisionContext, LineActionType } from '../domain/index.js';
import type { ActionClass, BlastRadiusGuard, EngineService } from '../engine/index.js';
import type { CoreEngine, DecisionRecord as CoreDecisionRecord } from '../core/index.js';
import type { FieldCrypto } from '../compliance/index.js';
import { decisionWrites, recordDecision, type DbTx } from '../store/index.js';

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

/**
 * How the core's decision records are written, with the engine's own recordDecision (decision row + ledger entry,
 * inside the core's dbTx) or, for a synchronous unit that stores them itself, their rows: sealed with `crypto`.
 */
export function coreDecisionWriters(
  crypto: FieldCrypto,
): Pick<CoreEngine, 'recordDecision' | 'decisionWrites'> {
  return {
    recordDecision: (tx, r) => recordDecision(tx as DbTx, engineRecord(r), crypto),
    decisionWrites: (r) => decisionWrites(engineRecord(r), crypto),
  };
}

/**
 * Adapts the engine service to the port the core uses. Decision rows are written with coreDecisionWriters: the
 * contexts and traces sealed with `crypto` (src/compliance/sealed-decisions.ts).
 */
export function coreEngineFromService(
  engine: EngineService,
  options: { readonly crypto: FieldCrypto; readonly guard?: BlastRadiusGuard },
): CoreEngine {
  return {
    decide(strategyId: string, context: DecisionContext, opts?: { subjectKey?: string }): Decision {
      return engine.decide(strategyId, context, opts);
    },
    ...coreDecisionWriters(options.crypto),
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
