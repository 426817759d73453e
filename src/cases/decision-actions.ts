import type { CaseDeps, CaseTx } from './ports.js';
import type { CaseLineActionRecord } from './records.js';

/** How many of a decision's actions one read takes. */
export const DECISION_ACTIONS_PAGE = 100;

/**
 * Every action a decision took on its line, oldest first, read page by page (`pageSize` rows a read) in the caller's
 * dbTx. An appeal against a decision is against all it did: read as one bounded page, a decision with more actions
 * than the page had an appeal that silently left the rest out (not seen by the one-appeal rule, not judged by the
 * in-force check). The loop ends: each page starts strictly after the last row read, and the rows are finite.
 */
export async function actionsOfDecision(
  deps: Pick<CaseDeps, 'rows'>,
  tx: CaseTx,
  decision: { readonly id: string; readonly lineId: string; readonly pageSize?: number },
): Promise<CaseLineActionRecord[]> {
  const limit = decision.pageSize ?? DECISION_ACTIONS_PAGE;
  const all: CaseLineActionRecord[] = [];
  let after: { createdAt: number; id: string } | undefined;
  for (;;) {
    const page = await deps.rows.lineActionsOfDecision(tx, decision.lineId, decision.id, {
      limit,
      ...(after ? { after } : {}),
    });
    all.push(...page);
    const last = page.at(-1);
    if (page.length < limit || !last) return all;
    after = { createdAt: Number(last.created_at), id: last.id };
  }
}
