import type {
  BureauSubmissionRecord,
  ConsentRecord,
  CreditDisputeRecord,
  DelinquencyNoticeRecord,
  InquiryRecord,
} from '../compliance/index.js';

/** Tables owned by src/compliance (see schema.ts for column conventions). */
export interface ComplianceTables {
  /** Signed checkpoints of the ledger's Merkle tree (RFC 9162 signed tree heads), also published to the witness. */
  ledger_checkpoints: {
    tree_size: number;
    root_hash: string;
    issued_at: number;
    origin: string;
    key_id: string;
    signature: string;
    /** The largest ledger seq in the tree (null on checkpoints signed before the tree was stored). */
    last_seq: number | null;
    /** The chain heads signed with it, canonical JSON [{chain, length, hash}] (null on single-chain checkpoints). */
    chains: string | null;
  };
  /**
   * One row: how far the Merkle log is integrated (size leaves, the last of them ledger seq last_seq), its root (hex)
   * and the chain heads at that point (canonical JSON [{chain, length, hash}]).
   */
  ledger_tree: { id: number; size: number; last_seq: number; root: string; chains: string };
  /** Complete subtree hashes of the Merkle log: level 0 are leaf hashes, node idx covers leaves [idx·2^level, …). */
  ledger_tree_nodes: { level: number; idx: number; hash: string };
  /** Which leaf of the Merkle log each ledger entry is. */
  ledger_leaf_index: { seq: number; leaf_index: number };
  /** Whether each signed checkpoint reached each HTTP witness ('delivered' or 'pending', with the last error). */
  ledger_witness_deliveries: {
    tree_size: number;
    witness: string;
    state: string;
    attempts: number;
    last_error: string | null;
    updated_at: number;
  };
  /**
   * Consent records (PIPL Art. 13-14; 征信业管理条例 Art. 18): who agreed to what purpose, under which text version,
   * through which channel, until when, and whether withdrawn. `subject_hash` is the HMAC lookup hash of the national
   * ID, so a consent can precede the borrower row (it is given on the application page).
   */
  consents: ConsentRecord;
  /** Every credit-report inquiry asked of the bureau connector, pulled or refused, with who and why. */
  bureau_inquiries: InquiryRecord;
  /** The SANDBOX bureau's reports (demo and test borrowers); never a real credit report. */
  sandbox_bureau_reports: {
    subject_hash: string;
    report: string;
    updated_at: number;
  };
  /** Daily portfolio snapshots (`jobs daily`): one row per as-of date, metrics as canonical JSON. */
  portfolio_snapshots: {
    as_of: string;
    metrics: string;
    created_at: number;
  };
  /** The score distribution PSI is measured against: deciles of the first window with enough scored applications. */
  portfolio_baselines: {
    name: string;
    /** JSON: {edges: number[], proportions: number[], count, asOf} */
    baseline: string;
    created_at: number;
  };
  /** Early-warning breaches, one per rule and date (a rerun of the job raises no second alert). */
  early_warnings: {
    as_of: string;
    rule_id: string;
    value: number;
    threshold: number;
    alert_id: string | null;
    detail: string;
    created_at: number;
  };
  /** Notices that a delinquency will be reported to the bureau, given before it is (征信业管理条例 Art. 15). */
  delinquency_notices: DelinquencyNoticeRecord;
  /** What LineGuard sends the credit bureau (delinquencies, corrections): an outbox, PENDING until sent. */
  bureau_submissions: BureauSubmissionRecord;
  /** What the SANDBOX bureau received: its side of bureau_submissions (never a real bureau). */
  sandbox_bureau_submissions: {
    id: string;
    subject_hash: string;
    kind: string;
    payload: string;
    received_at: number;
  };
  /** Credit-report disputes (异议) and how they ended; each has a CREDIT_REPORT_DISPUTE case. */
  credit_disputes: CreditDisputeRecord;
}
