import type { Decision, DecisionContext, LineActionType } from '../domain/decision.js';
import type { Clock } from '../domain/clock.js';
import type { DbTx } from '../store/db.js';
import type { EngineService } from '../engine/service.js';
import type { BlastRadiusGuard } from '../engine/guard.js';
import { recordDecision } from '../engine/store.js';
import type { CoreEngine, DecisionRecord } from './deps.js';

/** Declared inputs of the active versions are re-read at most this often (a new version changes them). */
const INPUTS_TTL_MS = 30_000;

/**
 * Adapts the engine service to the port the core uses. Decision rows are written with the engine's own
 * recordDecision (decision row + ledger entry) inside the core's dbTx.
 */
export async function coreEngineFromService(
  engine: EngineService,
  options: { guard?: BlastRadiusGuard; clock: Clock },
): Promise<CoreEngine & { refreshInputs(): Promise<void> }> {
  let inputs = new Map<string, ReadonlySet<string>>();
  let loadedAt = Number.NEGATIVE_INFINITY;
  let loading: Promise<void> | undefined;

  async function refreshInputs(): Promise<void> {
    const next = new Map<string, ReadonlySet<string>>();
    for (const summary of await engine.list()) {
      if (summary.activeVersion === null) continue;
      const version = await engine.getVersion(summary.id, summary.activeVersion);
      next.set(summary.id, new Set(version.document.inputs.map((i) => i.name)));
    }
    inputs = next;
    loadedAt = options.clock.now();
  }
  await refreshInputs();

  return {
    decide(strategyId: string, context: DecisionContext, opts?: { subjectKey?: string }): Decision {
      return engine.decide(strategyId, context, opts);
    },
    async recordDecision(tx: DbTx, r: DecisionRecord): Promise<void> {
      await recordDecision(tx, {
        id: r.decisionId,
        kind: r.kind,
        borrowerId: r.subjectId,
        lineId: r.lineId,
        subjectKey: r.subjectId,
        context: r.context,
        decision: r.decision,
        latencyMs: r.latencyMs,
        decidedAt: r.decidedAt,
      });
    },
    admit(actionType: LineActionType, activeLineCount: number): boolean {
      return options.guard ? options.guard.admit(actionType, activeLineCount) : true;
    },
    inputsOf(strategyId: string): ReadonlySet<string> | undefined {
      if (options.clock.now() - loadedAt > INPUTS_TTL_MS && loading === undefined) {
        loading = refreshInputs()
          .catch(() => undefined)
          .finally(() => {
            loading = undefined;
          });
      }
      return inputs.get(strategyId);
    },
    refreshInputs,
  };
}
