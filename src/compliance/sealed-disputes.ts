import type { FieldCrypto } from './crypto.js';
import { resealPairs, type NamedResealCounts } from './reseal.js';
import { openPair, sealPair, sealedPair } from './sealed-pair.js';
import type { ComplianceStore, CreditDisputeRecord } from './ports.js';

/**
 * A credit-report dispute at rest (PIPL Art. 51; 征信业管理条例 Art. 25): the claim (the value the borrower says their
 * report should show) and the text they wrote are personal data about their finances. Both are sealed as one token in
 * the `claim` column (sealed-pair.ts), the text riding with the claim; the dispute's `credit_dispute.raised` ledger
 * entry carries the commitment to the claim as `claimHmac` instead of the claim (entries written before sealing carry
 * the claim), and the ledger's fact check proves the opened claim against either (facts.ts).
 */
export const DISPUTE_STATEMENT = sealedPair(
  { table: 'credit_disputes', committed: 'claim', rider: 'text' },
  'dispute',
);

type Sealable = Pick<CreditDisputeRecord, 'id' | 'claim' | 'text'>;

/** A new dispute's row as stored (claim and text sealed), and the commitment its ledger entry carries. */
export function sealDisputeRow<T extends Sealable>(
  crypto: FieldCrypto,
  row: T,
): { row: T; claimHmac: string } {
  const sealed = sealPair(crypto, DISPUTE_STATEMENT, row.id, { committed: row.claim, rider: row.text });
  return { row: { ...row, claim: sealed.committed, text: sealed.rider }, claimHmac: sealed.commitment };
}

/** Whether the row keeps its claim sealed (a dispute raised since sealing, or sealed by a rotation). */
export const claimIsSealed = (row: Sealable): boolean => row.text === DISPUTE_STATEMENT.marker;

/** The row with its claim and text as written; throws LG_SEALED_DATA_UNREADABLE when they cannot be opened. */
export function openDisputeRow<T extends Sealable>(crypto: FieldCrypto | undefined, row: T): T {
  const opened = openDispute(crypto, row);
  return { ...row, claim: opened.claim, text: opened.text };
}

/** A stored dispute's claim and text, and (when sealed) the claim's commitment. */
export function openDispute(
  crypto: FieldCrypto | undefined,
  row: Sealable,
): { claim: string; text: string; commitment: string | undefined } {
  const opened = openPair(crypto, DISPUTE_STATEMENT, row.id, { committed: row.claim, rider: row.text });
  return { claim: opened.committed, text: opened.rider, commitment: opened.commitment };
}

/** What a rotation of the disputes reports: disputesChecked, disputesSealed, disputesUnopenable (reseal.ts). */
export type DisputeResealResult = NamedResealCounts<'disputes'>;

/** Key rotation for disputes (reseal.ts): each claim is sealed again with its commitment key; clear ones sealed now. */
export function resealDisputes(
  store: Pick<ComplianceStore, 'disputePairs'>,
  crypto: FieldCrypto,
  pageSize: number,
): Promise<DisputeResealResult> {
  return resealPairs(
    { pair: DISPUTE_STATEMENT, rows: store.disputePairs, counted: 'disputes' },
    crypto,
    pageSize,
  );
}
