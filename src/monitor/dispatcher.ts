import type { Clock, IdGenerator } from '../domain/index.js';
import { actionTrail } from './action-trail.js';
import { MONITOR_ACTOR, type LineActionPort } from './actions.js';
import type { ActionOutcomeWrite, MonitorActionStore, PendingLineAction } from './ports.js';

export interface DispatcherDeps {
  readonly store: MonitorActionStore;
  readonly clock: Clock;
  readonly ids: IdGenerator;
  readonly lineActions?: LineActionPort;
  readonly onError?: (error: unknown, context: string) => void;
}

/**
 * Line actions go to the core after their group commits, one at a time, in order; each outcome (DONE, BLOCKED,
 * FAILED) is written with its ledger entry and outbox row. Actions a stopped process left PENDING resume on start.
 */
export class ActionDispatcher {
  private chain: Promise<void> = Promise.resolve();

  constructor(private readonly deps: DispatcherDeps) {}

  get wired(): boolean {
    return this.deps.lineActions !== undefined;
  }

  async resume(): Promise<void> {
    this.dispatch(await this.deps.store.pendingLineActions());
  }

  dispatch(actions: readonly PendingLineAction[]): void {
    const port = this.deps.lineActions;
    if (!port || actions.length === 0) return;
    this.chain = this.chain.then(async () => {
      for (const action of actions) await this.apply(port, action);
    });
  }

  /** Resolves once every dispatched action has its outcome recorded. */
  idle(): Promise<void> {
    return this.chain;
  }

  private async apply(port: LineActionPort, action: PendingLineAction): Promise<void> {
    let status: ActionOutcomeWrite['status'];
    let detail: string;
    try {
      const outcome = await port.applyLineAction(action.lineId, {
        type: action.type,
        reasons: action.reasons,
        automated: true,
        traceId: action.actionId,
        actor: MONITOR_ACTOR,
      });
      status = outcome.status === 'APPLIED' ? 'DONE' : 'BLOCKED';
      detail = outcome.detail ?? '';
    } catch (error) {
      status = 'FAILED';
      detail = error instanceof Error ? error.message : String(error);
      this.deps.onError?.(error, `line action ${action.actionId}`);
    }
    const updatedAt = this.deps.clock.now();
    const outcome = { actionId: action.actionId, status, detail: { reasons: action.reasons, detail } };
    await this.deps.store
      .recordActionOutcome({
        ...outcome,
        updatedAt,
        audit: actionTrail(this.deps.ids, { kind: 'monitor.action.outcome', action: outcome, at: updatedAt }),
      })
      .catch((e: unknown) => this.deps.onError?.(e, 'action status'));
  }
}
