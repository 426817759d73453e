import type { LedgerRow } from '../compliance/index.js';

/** Tables every module leans on: api keys, idempotency records, the ledger, the outbox. */
export interface PlatformTables {
  api_keys: {
    id: string;
    key_hash: string;
    role: string;
    label: string;
    created_at: number;
    revoked_at: number | null;
  };
  idempotency_keys: {
    scope: string;
    idem_key: string;
    request_hash: string;
    /** 'in_flight' while the first request runs, 'done' once its response is stored. */
    state: string;
    status_code: number | null;
    response_body: string | null;
    created_at: number;
  };
  /** The ledger's entries, as src/compliance/ledger.ts declares them. */
  ledger_entries: LedgerRow;
  /**
   * One row per hash chain (id = chain number): its length (`seq`) and last hash, locked by every append to that
   * chain so the chain never forks under concurrency.
   */
  ledger_head: {
    id: number;
    seq: number;
    hash: string;
  };
  outbox: {
    id: string;
    topic: string;
    payload: string;
    created_at: number;
    published_at: number | null;
  };
}
