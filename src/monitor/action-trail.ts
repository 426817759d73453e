import type { IdGenerator } from '../domain/index.js';
import { MONITOR_ACTIONS_TOPIC, type ActionDetail, type AuditTrail, type NewAction } from './ports.js';

/** A monitor action's ledger entry and outbox message: recorded with the action, and again with its outcome. */
export function actionTrail(
  ids: IdGenerator,
  change: {
    readonly kind: 'monitor.action' | 'monitor.action.outcome';
    readonly action: {
      readonly actionId: string;
      readonly status: string;
      readonly detail: ActionDetail;
    } & Partial<Pick<NewAction, 'alertId' | 'eventId' | 'type' | 'userId' | 'lineId'>>;
    readonly at: number;
  },
): AuditTrail {
  const payload = {
    ...change.action,
    reasons: change.action.detail.reasons,
    detail: change.action.detail.detail,
  };
  return {
    ledger: {
      entryId: ids.next(),
      kind: change.kind,
      subjectId: change.action.actionId,
      recordedAt: change.at,
      payload,
    },
    outbox: {
      id: ids.next(),
      topic: MONITOR_ACTIONS_TOPIC,
      payload: { type: change.kind, ...payload },
      at: change.at,
    },
  };
}
