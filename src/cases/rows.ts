import type { CaseRow, CaseNoteRow } from './records.js';
import { defaultPriority, slaKey, type CaseType, type SlaPolicy } from './model.js';

export interface NewCase {
  readonly type: CaseType;
  readonly subjectId: string;
  readonly lineId?: string | null;
  readonly borrowerId?: string | null;
  readonly typologyId?: string | null;
  readonly ruleIds?: readonly string[];
  /** Alert severity (critical alerts get the 1-hour SLA). */
  readonly severity?: string;
  /** When the machine left the work (the SLA runs from then, not from when intake noticed). */
  readonly since: number;
}

export function newCaseRow(id: string, input: NewCase, sla: SlaPolicy, now: number): CaseRow {
  return {
    id,
    type: input.type,
    priority: defaultPriority(input.type, input.severity),
    state: 'OPEN',
    subject_id: input.subjectId,
    line_id: input.lineId ?? null,
    borrower_id: input.borrowerId ?? null,
    typology_id: input.typologyId ?? null,
    rule_ids: JSON.stringify(input.ruleIds ?? []),
    assignee: null,
    sla_due_at: input.since + sla[slaKey(input.type, input.severity)],
    escalated_at: null,
    sla_breached: 0,
    created_at: now,
    updated_at: now,
    resolved_at: null,
    resolved_by: null,
    outcome: null,
    outcome_detail: null,
  };
}

export interface CaseView {
  readonly id: string;
  readonly type: string;
  readonly priority: number;
  readonly state: string;
  readonly subjectId: string;
  readonly lineId: string | null;
  readonly borrowerId: string | null;
  readonly typologyId: string | null;
  readonly ruleIds: string[];
  readonly assignee: string | null;
  readonly slaDueAt: string;
  readonly slaBreached: boolean;
  readonly escalatedAt: string | null;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly resolvedAt: string | null;
  readonly resolvedBy: string | null;
  readonly outcome: string | null;
  readonly outcomeDetail: unknown;
}

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(Number(ms)).toISOString());

export function caseView(row: CaseRow): CaseView {
  return {
    id: row.id,
    type: row.type,
    priority: Number(row.priority),
    state: row.state,
    subjectId: row.subject_id,
    lineId: row.line_id,
    borrowerId: row.borrower_id,
    typologyId: row.typology_id,
    ruleIds: JSON.parse(row.rule_ids) as string[],
    assignee: row.assignee,
    slaDueAt: new Date(Number(row.sla_due_at)).toISOString(),
    slaBreached: Number(row.sla_breached) === 1,
    escalatedAt: iso(row.escalated_at),
    createdAt: new Date(Number(row.created_at)).toISOString(),
    updatedAt: new Date(Number(row.updated_at)).toISOString(),
    resolvedAt: iso(row.resolved_at),
    resolvedBy: row.resolved_by,
    outcome: row.outcome,
    outcomeDetail: row.outcome_detail === null ? null : (JSON.parse(row.outcome_detail) as unknown),
  };
}

/** A note on a case, as the API shows it. */
export type NoteView = ReturnType<typeof noteView>;

export function noteView(row: CaseNoteRow) {
  return {
    id: row.id,
    author: row.author,
    text: row.text,
    at: new Date(Number(row.created_at)).toISOString(),
  };
}
