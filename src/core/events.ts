/**
 * Monitor events the core emits through the outbox (topic core.events) in the same dbTx as the change, so the
 * monitor sees exactly the disbursements, repayments and applications that committed (issue 5: "core events are
 * recorded by the core itself").
 */
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
  const { at, ...rest } = fields;
  const event: Record<string, unknown> = { ...rest, occurredAt: new Date(at).toISOString() };
  for (const key of Object.keys(event))
    if (event[key] === undefined || event[key] === null) delete event[key];
  return event as unknown as CoreEvent;
}
