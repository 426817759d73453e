import type { FieldCrypto } from './crypto.js';
import { openPair, sealPair, sealedPair } from './sealed-pair.js';

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

/** What the `trace` column of a decision sealed since holds: its trace is in the context's token. */
export const TRACE_WITH_CONTEXT = DECISION_INPUTS.marker;

/** A decision's stored columns, as its readers see them. */
export interface DecisionSeals {
  readonly id: string;
  readonly context: string;
  readonly trace: string;
}

/** The columns of a new decision, sealed (`context` and `trace` are their canonical JSON), and the commitment to both. */
export function sealDecisionColumns(
  crypto: FieldCrypto,
  decisionId: string,
  clear: { readonly context: string; readonly trace: string },
): { readonly context: string; readonly trace: string; readonly contextHmac: string } {
  const sealed = sealPair(crypto, DECISION_INPUTS, decisionId, {
    committed: clear.context,
    rider: clear.trace,
  });
  return { context: sealed.committed, trace: sealed.rider, contextHmac: sealed.commitment };
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
