import type { FieldCrypto } from './crypto.js';
import { resealPairs, type NamedResealCounts } from './reseal.js';
import { openPair, sealPair, sealedPair } from './sealed-pair.js';
import type { ComplianceStore, CreditDisputeRecord } from './ports.js';

/**
 * A credit-report dispute at rest (PIPL Art. 51; 征信业管理条例 Art. 25): the claim (the value the borrower says their
 * report should show) and the text they wrote are personal data about their finances. Both are sealed as one token in
 * the `claim` column (sealed-pair.ts), the text riding with the claim; the dispute's `credit_dispute.raised` ledger
 * entry carries the commitment to the claim and the text as `claimHmac` instead of the claim (entries written before
 * sealing carry the claim; a dispute sealed before riders were committed, a commitment to the claim alone), and the
 * ledger's fact check proves the opened claim against either (facts.ts).
 */
export const DISPUTE_STATEMENT = sealedPair(
  { table: 'credit_disputes', committed: 'claim', rider: 'text' },
  'dispute',
);

/**
 * A decided dispute's outcome, the reviewer's words to the borrower in Chinese and English: free text that can name the
 * borrower, their phone, their debts. Both are sealed as one token in the `outcome_zh` column, the English riding with
 * it; the `credit_dispute.decided` ledger entry carries the commitment to both texts as `outcomeHmac` instead of the
 * texts (entries written before sealing carry the texts; an outcome sealed before riders were committed, a commitment
 * to the Chinese text alone). An open dispute has no outcome (both null): nothing is
 * sealed. Outcomes written before sealing are read as they are, and `keys rotate-data` seals them.
 */
export const DISPUTE_OUTCOME = sealedPair(
  { table: 'credit_disputes', committed: 'outcome_zh', rider: 'outcome_en' },
  'dispute',
);

type Sealable = Pick<CreditDisputeRecord, 'id' | 'claim' | 'text'>;
type WithOutcome = Pick<CreditDisputeRecord, 'id' | 'outcome_zh' | 'outcome_en'>;

/** A decision's outcome texts as stored (sealed), and the commitment its ledger entry carries. */
export function sealOutcome(
  crypto: FieldCrypto,
  disputeId: string,
  texts: { readonly zh: string; readonly en: string },
): { outcome_zh: string; outcome_en: string; outcomeHmac: string } {
  const sealed = sealPair(crypto, DISPUTE_OUTCOME, disputeId, { committed: texts.zh, rider: texts.en });
  return { outcome_zh: sealed.committed, outcome_en: sealed.rider, outcomeHmac: sealed.commitment };
}

/**
 * The row with its outcome texts as written (an open dispute's stay null); throws LG_SEALED_DATA_UNREADABLE when they
 * cannot be opened.
 */
export function openOutcome<T extends WithOutcome>(crypto: FieldCrypto | undefined, row: T): T {
  const opened = openOutcomeTexts(crypto, row);
  return opened ? { ...row, outcome_zh: opened.zh, outcome_en: opened.en } : row;
}

/**
 * A decided dispute's outcome texts as written and (when sealed) the commitment its decided entry carries; null for
 * an open dispute. Throws LG_SEALED_DATA_UNREADABLE when they cannot be opened.
 */
export function openOutcomeTexts(
  crypto: FieldCrypto | undefined,
  row: WithOutcome,
): { zh: string; en: string; commitment: string | undefined } | null {
  if (row.outcome_zh === null) return null;
  const opened = openPair(crypto, DISPUTE_OUTCOME, row.id, {
    committed: row.outcome_zh,
    rider: row.outcome_en ?? '',
  });
  return { zh: opened.committed, en: opened.rider, commitment: opened.commitment };
}

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

/**
 * What a rotation of disputes reports (reseal.ts): disputesChecked, disputesSealed, disputesUnopenable for the claims
 * and texts; outcomesChecked, outcomesSealed, outcomesUnopenable for the decided ones' outcome texts.
 */
export type DisputeResealResult = NamedResealCounts<'disputes'> & NamedResealCounts<'outcomes'>;

/**
 * Key rotation for disputes (reseal.ts): each claim and each outcome is sealed again with its commitment key; clear
 * ones are sealed now.
 */
export async function resealDisputes(
  store: Pick<ComplianceStore, 'disputePairs' | 'outcomePairs'>,
  crypto: FieldCrypto,
  pageSize: number,
): Promise<DisputeResealResult> {
  const statements = await resealPairs(
    { pair: DISPUTE_STATEMENT, rows: store.disputePairs, counted: 'disputes' },
    crypto,
    pageSize,
  );
  const outcomes = await resealPairs(
    { pair: DISPUTE_OUTCOME, rows: store.outcomePairs, counted: 'outcomes' },
    crypto,
    pageSize,
  );
  return { ...statements, ...outcomes };
}
