import { LgError } from '../domain/index.js';

/** Everything that waits on a person is one of these (issue 11 "Cases and queues"). */
export const CASE_TYPES = [
  'REVIEW_APPLICATION',
  'HELD_DRAW',
  'GUARD_HELD_ACTION',
  'ALERT',
  'APPEAL',
  'COMPLAINT',
  'CREDIT_REPORT_DISPUTE',
  'REINSTATEMENT',
] as const;
export type CaseType = (typeof CASE_TYPES)[number];

export const CASE_STATES = ['OPEN', 'ASSIGNED', 'PENDING_CUSTOMER', 'ESCALATED', 'RESOLVED'] as const;
export type CaseState = (typeof CASE_STATES)[number];

/**
 * The transition table. RESOLVED is final: a wrong resolution is corrected by a new case (an appeal, a complaint),
 * never by rewriting history. ASSIGNED → ASSIGNED is a reassignment.
 */
const TRANSITIONS: Readonly<Record<CaseState, readonly CaseState[]>> = {
  OPEN: ['ASSIGNED', 'ESCALATED', 'RESOLVED'],
  ASSIGNED: ['ASSIGNED', 'OPEN', 'PENDING_CUSTOMER', 'ESCALATED', 'RESOLVED'],
  PENDING_CUSTOMER: ['ASSIGNED', 'ESCALATED', 'RESOLVED'],
  // ESCALATED → OPEN: a case whose pending change was refused, with no one to give it back to, returns to the queue.
  ESCALATED: ['OPEN', 'ASSIGNED', 'RESOLVED'],
  RESOLVED: [],
};

export function canTransition(from: CaseState, to: CaseState): boolean {
  return TRANSITIONS[from].includes(to);
}

export function assertTransition(caseId: string, from: string, to: CaseState): void {
  if (!(CASE_STATES as readonly string[]).includes(from) || !canTransition(from as CaseState, to))
    throw new LgError('LG_CASE_TRANSITION_ILLEGAL', `a case cannot go from ${from} to ${to}`, {
      caseId,
      from,
      to,
      allowed: TRANSITIONS[from as CaseState] ?? [],
    });
}

/** 1 = critical … 4 = low. */
export type Priority = 1 | 2 | 3 | 4;

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/**
 * SLA defaults (issue 11): a critical fraud alert 1 hour; a held draw 30 minutes (the borrower is waiting for money);
 * a REVIEW application 24 hours; an appeal 7 days; a complaint 15 days (the NFRA rule for consumer complaints at
 * banking institutions, 银行业保险业消费投诉处理管理办法 Art. 18, extendable once by 15 days); a credit-report dispute
 * 20 days (征信业管理条例 Art. 25 sets 20 days for a dispute). Guard-held actions restrict real borrowers in bulk:
 * 1 hour. Other alerts 24 hours; a reinstatement 7 days.
 */
export const SLA_DEFAULTS_MS: Readonly<Record<CaseType | 'ALERT_CRITICAL', number>> = {
  ALERT_CRITICAL: HOUR_MS,
  ALERT: DAY_MS,
  HELD_DRAW: 30 * 60_000,
  REVIEW_APPLICATION: DAY_MS,
  GUARD_HELD_ACTION: HOUR_MS,
  APPEAL: 7 * DAY_MS,
  COMPLAINT: 15 * DAY_MS,
  CREDIT_REPORT_DISPUTE: 20 * DAY_MS,
  REINSTATEMENT: 7 * DAY_MS,
};
export const COMPLAINT_EXTENSION_MS = 15 * DAY_MS;

export type SlaPolicy = Readonly<Record<CaseType | 'ALERT_CRITICAL', number>>;

export function slaPolicy(overrides: Partial<SlaPolicy> = {}): SlaPolicy {
  return Object.freeze({ ...SLA_DEFAULTS_MS, ...overrides });
}

export function slaKey(type: CaseType, severity?: string): CaseType | 'ALERT_CRITICAL' {
  return type === 'ALERT' && severity === 'critical' ? 'ALERT_CRITICAL' : type;
}

/**
 * The policy's SLA key for a stored case. The row keeps no severity, but an ALERT's priority is defaultPriority's of
 * its severity, which gives priority 1 to a critical alert alone: the one with the 1-hour SLA.
 */
export function slaKeyOfCase(row: { readonly type: string; readonly priority: number }): string {
  if (row.type !== 'ALERT') return row.type;
  return Number(row.priority) === defaultPriority('ALERT', 'critical')
    ? slaKey('ALERT', 'critical')
    : 'ALERT';
}

export function defaultPriority(type: CaseType, severity?: string): Priority {
  if (type === 'ALERT') return severity === 'critical' ? 1 : severity === 'high' ? 2 : 3;
  if (type === 'HELD_DRAW' || type === 'GUARD_HELD_ACTION') return 1;
  if (type === 'REVIEW_APPLICATION' || type === 'APPEAL') return 2;
  return 3;
}

/** Alert dispositions are labels: they feed the false-positive rate per typology and per rule. */
export const DISPOSITIONS = ['CONFIRMED_FRAUD', 'FALSE_POSITIVE', 'CUSTOMER_ERROR', 'INCONCLUSIVE'] as const;
export type Disposition = (typeof DISPOSITIONS)[number];

/** The outcomes each case type accepts; anything else is 422 LG_CASE_OUTCOME_INVALID. */
export const OUTCOMES_BY_TYPE: Readonly<Record<CaseType, readonly string[]>> = {
  REVIEW_APPLICATION: ['APPROVE', 'DECLINE'],
  HELD_DRAW: ['RELEASE', 'CANCEL'],
  GUARD_HELD_ACTION: ['APPLY', 'DISMISS'],
  ALERT: DISPOSITIONS,
  APPEAL: ['UPHELD', 'REJECTED'],
  COMPLAINT: ['RESOLVED'],
  CREDIT_REPORT_DISPUTE: ['CORRECTED', 'REJECTED'],
  REINSTATEMENT: ['REINSTATE', 'KEEP'],
};

export function assertOutcome(caseId: string, type: CaseType, outcome: string): void {
  if (!OUTCOMES_BY_TYPE[type].includes(outcome))
    throw new LgError(
      'LG_CASE_OUTCOME_INVALID',
      `a ${type} case resolves with one of ${OUTCOMES_BY_TYPE[type].join(', ')}`,
      {
        caseId,
        outcome,
        allowed: OUTCOMES_BY_TYPE[type],
      },
    );
}

/** Complaint categories (issue 11), the NFRA complaint classification in plain words. */
export const COMPLAINT_CATEGORIES = [
  'FEES_PRICING',
  'CLOSURE_OR_LIMIT',
  'COLLECTION',
  'PRIVACY',
  'CREDIT_REPORT',
  'FRAUD_SCAM',
  'SERVICE',
] as const;
export type ComplaintCategory = (typeof COMPLAINT_CATEGORIES)[number];
