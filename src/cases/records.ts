/**
 * The records of src/cases, one per row of the tables it owns, declared here so src/cases needs nothing of src/store
 * (issue 10). src/store/cases-tables.ts declares those tables with these records, so a stored row passes through as
 * it is and a column exists in one place.
 */

/** Everything that waits on a person. One case per (type, subject). */
export interface CaseRow {
  id: string;
  type: string;
  priority: number;
  state: string;
  subject_id: string;
  line_id: string | null;
  borrower_id: string | null;
  typology_id: string | null;
  /** JSON array of the rule ids that fired (alerts), for stats per rule. */
  rule_ids: string;
  assignee: string | null;
  sla_due_at: number;
  escalated_at: number | null;
  sla_breached: number;
  created_at: number;
  updated_at: number;
  resolved_at: number | null;
  resolved_by: string | null;
  outcome: string | null;
  /** JSON: what the outcome did (action ids, loan id, reasons, texts). */
  outcome_detail: string | null;
}

export interface CaseNoteRow {
  id: string;
  case_id: string;
  author: string;
  text: string;
  created_at: number;
}

export interface AppealRow {
  id: string;
  borrower_id: string;
  /** null for an appeal against a decision that opened no line (a declined application). */
  line_id: string | null;
  /** 'line_action' | 'decision' */
  target_kind: string;
  target_id: string;
  text: string;
  /** JSON array of document references. */
  documents: string;
  /** OPEN | UPHELD | REJECTED */
  state: string;
  deadline_at: number;
  outcome_zh: string | null;
  outcome_en: string | null;
  case_id: string;
  created_at: number;
  resolved_at: number | null;
}

export interface ComplaintRow {
  id: string;
  borrower_id: string;
  category: string;
  text: string;
  /** OPEN | RESOLVED */
  state: string;
  due_at: number;
  extended_at: number | null;
  extension_reason: string | null;
  resolution_zh: string | null;
  resolution_en: string | null;
  case_id: string;
  created_at: number;
  resolved_at: number | null;
}

/** Four eyes: an operation a maker requested that waits for a different checker. */
export interface PendingChangeRow {
  id: string;
  operation: string;
  subject_id: string;
  /** JSON: what the apply function needs. */
  payload: string;
  /** JSON: before/after as the maker saw it. */
  diff: string;
  reason: string;
  maker: string;
  /** The API key the maker proposed with (null: the CLI, or proposed before migration 502). */
  maker_key_id: string | null;
  /** PENDING | APPROVED | REJECTED | EXPIRED | FAILED */
  state: string;
  checker: string | null;
  /** The API key the checker decided with (null: the CLI, undecided, or decided before migration 503). */
  checker_key_id: string | null;
  decided_at: number | null;
  decision_note: string | null;
  result: string | null;
  expires_at: number;
  created_at: number;
}

/** A page of the case queue: filters and keyset paging (src/store/cases.ts listCases). */
export interface CaseFilter {
  readonly type?: string;
  readonly state?: string;
  readonly assignee?: string;
  readonly lineId?: string;
  readonly borrowerId?: string;
  readonly dueBefore?: number;
  readonly limit: number;
  /** The last id of the previous page (ids are UUIDv7: newest first). */
  readonly before?: string;
}

/**
 * Rows of other modules' tables the cases read as evidence or to scope a request (src/store/case-evidence.ts). The
 * columns the cases act on are named; the rest are carried into the evidence as they are.
 */
export interface CaseLineRecord {
  id: string;
  borrower_id: string;
  status: string;
  currency: string;
  limit_minor: number;
  available_minor: number;
  outstanding_minor: number;
  annual_rate: number;
  [column: string]: unknown;
}

export interface CaseLineActionRecord {
  id: string;
  line_id: string;
  type: string;
  /** APPLIED, or REVIEW when the blast-radius guard held it back (the line was left as it was). */
  outcome: string;
  /** The decision the action was taken on, if any. */
  trace_id: string | null;
  /** Who took it: a person (`user:<id>`), or the job or monitor that acted; null when not recorded. */
  actor: string | null;
  /** JSON array of reason codes. */
  reasons: string;
  /** The limit a GRANT, LIMIT_* or TEMP_LIMIT asked for (what a held cut applies when a person applies it). */
  requested_limit_minor: number | null;
  /** The person's note, sealed at rest (compliance/sealed-line-actions.ts); null without one. */
  note: string | null;
  [column: string]: unknown;
}

export interface CaseDrawRecord {
  id: string;
  line_id: string;
  borrower_id: string;
  status: string;
  [column: string]: unknown;
}

export interface CaseDecisionOwner {
  id: string;
  borrower_id: string | null;
  line_id: string | null;
  outcome: string;
  reasons: string;
  decided_at: number;
}

/** A stored evidence row carried into a case's evidence as it is. */
export type CaseEvidenceRow = Record<string, unknown>;

export interface CaseLedgerEntry {
  seq: number;
  kind: string;
  payload: string;
  recorded_at: number;
}

/** An alert row as the monitor stores it (src/store/monitor.ts): what a case opened for an alert reads. */
export interface CaseAlertRecord {
  alert_id: string;
  typology_id: string;
  severity: string;
  status: string;
  user_id: string;
  line_id: string | null;
  created_at: number;
  /** JSON {eventIds, features, rules} that fired the typology. */
  evidence: string;
  /** JSON array of reason codes. */
  reasons: string;
}

/** Another alert on the same borrower, as a case's evidence lists it. */
export type CaseAlertSummary = Pick<
  CaseAlertRecord,
  'alert_id' | 'typology_id' | 'severity' | 'status' | 'created_at' | 'evidence'
>;
