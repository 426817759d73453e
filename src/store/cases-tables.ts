/** Tables owned by src/cases (see schema.ts for column conventions). */
export interface CasesTables {
  /** A person who operates LineGuard; API keys belong to one (api_keys.user_id). */
  users: {
    id: string;
    name: string;
    role: string;
    created_at: number;
    created_by: string | null;
    disabled_at: number | null;
  };
  /** Short-lived borrower tokens, stored only as SHA-256 (like API keys). */
  borrower_tokens: {
    id: string;
    token_hash: string;
    borrower_id: string;
    created_by: string | null;
    created_at: number;
    expires_at: number;
    revoked_at: number | null;
  };
  /** Everything that waits on a person. One case per (type, subject). */
  cases: {
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
  };
  case_notes: {
    id: string;
    case_id: string;
    author: string;
    text: string;
    created_at: number;
  };
  appeals: {
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
  };
  complaints: {
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
  };
  /** Four eyes: an operation a maker requested that waits for a different checker. */
  pending_changes: {
    id: string;
    operation: string;
    subject_id: string;
    /** JSON: what the apply function needs. */
    payload: string;
    /** JSON: before/after as the maker saw it. */
    diff: string;
    reason: string;
    maker: string;
    /** PENDING | APPROVED | REJECTED | EXPIRED | FAILED */
    state: string;
    checker: string | null;
    decided_at: number | null;
    decision_note: string | null;
    result: string | null;
    expires_at: number;
    created_at: number;
  };
}

/** The column api_keys gains so that a key belongs to a person (migration 501). */
export interface ApiKeyOwnerColumn {
  user_id: string | null;
}
