import type { AppealRow, CaseNoteRow, CaseRow, ComplaintRow, PendingChangeRow } from '../cases/index.js';

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
  cases: CaseRow;
  case_notes: CaseNoteRow;
  appeals: AppealRow;
  complaints: ComplaintRow;
  /** Four eyes: an operation a maker requested that waits for a different checker. */
  pending_changes: PendingChangeRow;
}

/**
 * The columns api_keys gains so that a key belongs to a person (migration 501) and names who issued it, who was shown
 * its secret (migration 502: an actor, `user:<id>`; null for a bootstrap key or one made before the migration).
 */
export interface ApiKeyOwnerColumn {
  user_id: string | null;
  issued_by: string | null;
  /**
   * The key a user's own key was made with (POST /v1/session/keys; migration 504): whoever was shown that key's secret
   * could have made this one. null for a key someone issued (issued_by says who saw it) or one made before 504.
   */
  issued_with_key_id: string | null;
}
