/** Tables owned by src/monitor (see schema.ts for column conventions). */
export interface MonitorTables {
  /** Every accepted event, once (event_id is the client's idempotency key), with the answer it was first given. */
  monitor_events: {
    event_id: string;
    type: string;
    occurred_at: number;
    received_at: number;
    user_id: string;
    line_id: string | null;
    loan_id: string | null;
    device_id: string | null;
    ip: string | null;
    amount_minor: number | null;
    currency: string | null;
    payee_id: string | null;
    payee_created_at: number | null;
    merchant_id: string | null;
    merchant_category: string | null;
    channel: string | null;
    attributes: string | null;
    /** SHA-256 of the canonical event, so a re-sent id with different content is a conflict, not a duplicate. */
    content_hash: string;
    /** The first answer (typologies fired, alerts, actions) as canonical JSON; replayed for a repeated eventId. */
    result: string;
  };
  monitor_alerts: {
    alert_id: string;
    typology_id: string;
    typology_version: number;
    severity: string;
    /** OPEN | ACKNOWLEDGED | CLOSED */
    status: string;
    user_id: string;
    line_id: string | null;
    event_id: string;
    occurred_at: number;
    created_at: number;
    /** When the status last changed (null: never since it was raised). */
    status_at: number | null;
    reasons: string;
    /** {eventIds, features, rules} that fired the typology. */
    evidence: string;
    actions: string;
  };
  monitor_actions: {
    action_id: string;
    alert_id: string;
    event_id: string;
    type: string;
    user_id: string;
    line_id: string | null;
    /** PENDING (recorded, not yet applied) | DONE | BLOCKED (guard refused) | FAILED | SKIPPED (no line) */
    status: string;
    detail: string;
    created_at: number;
    updated_at: number;
  };
  monitor_list_entries: {
    entry_id: string;
    /** black | grey | white */
    list_kind: string;
    entity_type: string;
    /** raw:<normalised value> for our own entries, hmac:<partnerId>:<hex> for entries a partner shared. */
    match_key: string;
    reason: string;
    source: string;
    added_by: string;
    added_at: number;
    expires_at: number | null;
    removed_at: number | null;
  };
  /** Sharing keys agreed with partner institutions, sealed with AES-256-GCM under a key derived from the master key. */
  monitor_sharing_keys: {
    partner_id: string;
    key_sealed: string;
    fingerprint: string;
    created_at: number;
  };
}
