import type { FieldCrypto } from './crypto.js';
import { openPair, sealPair, sealedColumn, sealedPair } from './sealed-pair.js';

/**
 * A decision's context and trace at rest (PIPL Art. 51): an application's context holds the applicant's bureau figures
 * (existing debt, delinquency, inquiries) and its trace repeats what the rules read; a draw's holds the borrower's
 * account facts and the monitor's signals. Both are sealed as one token in the `context` column (sealed-pair.ts), the
 * trace riding with the context; the decision's ledger entry carries the commitment to the clear canonical context and
 * trace as `contextHmac` (to the context alone in a decision sealed before riders were committed). Entries written
 * before sealing carry `contextSha256`, the SHA-256 of the clear context, which `ledger verify` still proves once the
 * context is opened (facts.ts).
 */
export const DECISION_INPUTS = sealedPair(
  { table: 'decisions', committed: 'context', rider: 'trace' },
  'decision',
);

/**
 * A decision's result (its outcome, limit, rate and actions, and the strategy's values: the applicant's score and PD,
 * whatever else the strategy computed from the bureau figures) sealed alone in the `result` column, its own token: the
 * ledger entry carries the commitment to it as `resultHmac`, so `ledger verify` proves the score as decided, not only
 * the limit, rate and actions the entry holds in clear. A decision stored before results were sealed holds its result
 * in clear, and its entry no `resultHmac`; it is read as it is, and `keys rotate-data` seals it.
 */
export const DECISION_RESULT = sealedColumn({ table: 'decisions', column: 'result' }, 'decision');

/** What the `trace` column of a decision sealed since holds: its trace is in the context's token. */
export const TRACE_WITH_CONTEXT = DECISION_INPUTS.marker;

/** A decision's stored columns, as its readers see them. */
export interface DecisionSeals {
  readonly id: string;
  readonly context: string;
  readonly trace: string;
}

/** A new decision's sealed columns, and the commitments its ledger entry carries. */
export interface SealedDecisionColumns {
  readonly context: string;
  readonly trace: string;
  readonly result: string;
  /** To the context and trace. */
  readonly contextHmac: string;
  readonly resultHmac: string;
}

/** The columns of a new decision, sealed (each given as its canonical JSON), and the commitments to them. */
export function sealDecisionColumns(
  crypto: FieldCrypto,
  decisionId: string,
  clear: { readonly context: string; readonly trace: string; readonly result: string },
): SealedDecisionColumns {
  const inputs = sealPair(crypto, DECISION_INPUTS, decisionId, {
    committed: clear.context,
    rider: clear.trace,
  });
  const result = sealPair(crypto, DECISION_RESULT, decisionId, { committed: clear.result, rider: '' });
  return {
    context: inputs.committed,
    trace: inputs.rider,
    result: result.committed,
    contextHmac: inputs.commitment,
    resultHmac: result.commitment,
  };
}

/** A decision's result as decided (its JSON), and (when sealed) the commitment its ledger entry carries. */
export interface OpenedDecisionResult {
  readonly result: string;
  readonly commitment: string | undefined;
}

/** Opens a decision's stored result (a clear one taken as it is); LG_SEALED_DATA_UNREADABLE when it cannot be. */
export function openDecisionResult(
  crypto: FieldCrypto | undefined,
  decisionId: string,
  stored: string,
): OpenedDecisionResult {
  const opened = openPair(crypto, DECISION_RESULT, decisionId, { committed: stored, rider: '' });
  return { result: opened.committed, commitment: opened.commitment };
}

/** A decision's context and trace as decided, and (when sealed) the commitment its ledger entry carries. */
export interface OpenedDecision {
  readonly context: string;
  readonly trace: string;
  readonly commitment: string | undefined;
}

/** Opens a decision's stored columns; throws LG_SEALED_DATA_UNREADABLE when they cannot be opened. */
export function openDecision(crypto: FieldCrypto | undefined, stored: DecisionSeals): OpenedDecision {
  const opened = openPair(crypto, DECISION_INPUTS, stored.id, {
    committed: stored.context,
    rider: stored.trace,
  });
  return { context: opened.committed, trace: opened.rider, commitment: opened.commitment };
}
