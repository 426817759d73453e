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
  };
}
