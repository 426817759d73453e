/**
 * Monitor events the core emits through the outbox (topic core.events) in the same dbTx as the change, so the
 * monitor sees exactly the disbursements, repayments and applications that committed (issue 5: "core events are
 * recorded by the core itself").
 */
/** The outbox topic of the core's events. */
export const CORE_EVENTS_TOPIC = 'core.events';

export interface CoreEvent {
  readonly eventId: string;
  readonly type: 'application' | 'disbursement' | 'repayment';
  readonly occurredAt: string;
  readonly userId: string;
  readonly lineId?: string;
  readonly loanId?: string;
  readonly amount?: number;
  readonly currency?: string;
  readonly deviceId?: string;
  readonly ip?: string;
  readonly payeeId?: string;
  readonly attributes?: Readonly<Record<string, string | number | boolean | null>>;
}

export function coreEvent(fields: Omit<CoreEvent, 'occurredAt'> & { at: number }): CoreEvent {
  // Absent fields are left out rather than deleted afterwards (delete turns an object into a slow dictionary).
  const event: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(fields)) {
    if (key !== 'at' && value !== undefined && value !== null) event[key] = value;
  }
  event.occurredAt = new Date(fields.at).toISOString();
  return event as unknown as CoreEvent;
}
